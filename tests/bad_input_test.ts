/**
 * Every flag of `dsgen generate` with every kind of wrong value, through the real command
 * line: one line on stderr naming the flag, the value and what is accepted; exit code 2; no
 * stack trace; nothing created or changed in the output folder.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CliResult,
  lines,
  mountSmallDisk,
  runCli,
  tmpfsUnavailable,
  treeFingerprint,
} from "./fault_fixtures.ts";

/** One wrong command line and what its message must name. */
interface BadInput {
  /** The subcommand; `generate` when not given. */
  command?: string;
  /** What is wrong, for the test's name. */
  what: string;
  /** The words after the subcommand; `OUT` stands for the test's output folder. */
  args: string[];
  /** The flag the message names, with its dashes. */
  flag: string;
  /** The value the message quotes; none for a missing flag. */
  value?: string;
  /** A piece of the "what is accepted" part. */
  accepts: string;
}

const OK = ["--num-images", "10", "--output-dir", "OUT", "--yes"];
/** `OK` with one flag's value replaced (or the flag added). */
const withFlag = (flag: string, value: string) => {
  const args = [...OK];
  const index = args.indexOf(flag);
  if (index >= 0) args[index + 1] = value;
  else args.push(flag, value);
  return args;
};
const INTEGER_IMAGES = "an integer from 1 to 1000000000";
const INTEGER_SEED = "an integer from 0 to 4294967295";
const NAME_RULE = "starting with a letter or digit";

const BAD_INPUTS: BadInput[] = [
  // --num-images
  {
    what: "missing --num-images",
    args: ["--output-dir", "OUT", "--yes"],
    flag: "--num-images",
    accepts: INTEGER_IMAGES,
  },
  {
    what: "--num-images without its value",
    args: ["--output-dir", "OUT", "--yes", "--num-images"],
    flag: "--num-images",
    accepts: INTEGER_IMAGES,
  },
  {
    what: "--num-images followed by another flag",
    args: ["--num-images", "--yes", "--output-dir", "OUT"],
    flag: "--num-images",
    value: "--yes",
    accepts: INTEGER_IMAGES,
  },
  ...[
    ["empty", ""],
    ["blank", "   "],
    ["non-numeric", "abc"],
    ["negative", "-5"],
    ["fractional", "1.5"],
    ["negative exponent", "1e-3"],
    ["fractional with an exponent", "1.5e3"],
    ["hexadecimal", "0x10"],
    ["doubled digit separators", "1__000"],
    ["leading space", " 5"],
    ["a line break", "1\n2"],
    ["zero", "0"],
    ["above the maximum", "1000000001"],
    ["far above the maximum", "99999999999999999999999"],
  ].map(([kind, value]) => ({
    what: `--num-images ${kind}`,
    args: withFlag("--num-images", value!),
    flag: "--num-images",
    value: value!,
    accepts: INTEGER_IMAGES,
  })),
  {
    what: "--num-images=-5",
    args: ["--num-images=-5", "--output-dir", "OUT", "--yes"],
    flag: "--num-images",
    value: "-5",
    accepts: INTEGER_IMAGES,
  },
  {
    what: "--num-images given twice",
    args: [...OK, "--num-images", "20"],
    flag: "--num-images",
    value: "--num-images 20",
    accepts: "give it once",
  },
  // --output-dir
  {
    what: "missing --output-dir",
    args: ["--num-images", "10", "--yes"],
    flag: "--output-dir",
    accepts: "a folder path",
  },
  {
    what: "--output-dir empty",
    args: withFlag("--output-dir", ""),
    flag: "--output-dir",
    value: "",
    accepts: "a folder path",
  },
  {
    what: "--output-dir a file",
    args: withFlag("--output-dir", "OUT/a-file"),
    flag: "--output-dir",
    value: "OUT/a-file",
    accepts: "expected a folder",
  },
  {
    what: "--output-dir inside a file",
    args: withFlag("--output-dir", "OUT/a-file/sub"),
    flag: "--output-dir",
    value: "OUT/a-file/sub",
    accepts: "expected a folder",
  },
  {
    what: "--output-dir a link to nothing",
    args: withFlag("--output-dir", "OUT/dangling"),
    flag: "--output-dir",
    value: "OUT/dangling",
    accepts: "expected a folder",
  },
  // --seed
  ...[["empty", ""], ["non-numeric", "abc"], ["negative", "-1"], ["fractional", "2.5"], [
    "above the maximum",
    "4294967296",
  ]].map(([kind, value]) => ({
    what: `--seed ${kind}`,
    args: withFlag("--seed", value!),
    flag: "--seed",
    value: value!,
    accepts: INTEGER_SEED,
  })),
  {
    what: "--seed without its value",
    args: [...OK, "--seed"],
    flag: "--seed",
    accepts: INTEGER_SEED,
  },
  // --name
  ...[
    ["empty", ""],
    ["with a slash", "a/b"],
    ["'..'", ".."],
    ["climbing out", "../escape"],
    ["'.'", "."],
    ["hidden", ".hidden"],
    ["like a flag", "-x"],
    ["with a space", "my data"],
    ["too long", "n".repeat(101)],
  ].map(([kind, value]) => ({
    what: `--name ${kind}`,
    args: withFlag("--name", value!),
    flag: "--name",
    value: value!,
    accepts: NAME_RULE,
  })),
  {
    what: "--name of a file",
    args: withFlag("--name", "a-file"),
    flag: "--name",
    value: "a-file",
    accepts: "expected a folder",
  },
  // --image-size
  ...[["empty", ""], ["non-numeric", "big"], ["fractional", "16.5"], ["below the minimum", "3"], [
    "above the maximum",
    "257",
  ], ["negative", "-16"]].map(([kind, value]) => ({
    what: `--image-size ${kind}`,
    args: withFlag("--image-size", value!),
    flag: "--image-size",
    value: value!,
    accepts: "an integer from 4 to 256",
  })),
  // --generator, --dtype
  ...[["unknown", "circles"], ["empty", ""], ["wrong case", "Shapes"]].map(([kind, value]) => ({
    what: `--generator ${kind}`,
    args: withFlag("--generator", value!),
    flag: "--generator",
    value: value!,
    accepts: "shapes",
  })),
  ...[["unknown", "int8"], ["empty", ""], ["wrong case", "UINT8"]].map(([kind, value]) => ({
    what: `--dtype ${kind}`,
    args: withFlag("--dtype", value!),
    flag: "--dtype",
    value: value!,
    accepts: "uint8, float64",
  })),
  // --workers
  ...[["zero", "0"], ["above the maximum", "65"], ["negative", "-2"], ["non-numeric", "all"], [
    "fractional",
    "1.5",
  ]].map(([kind, value]) => ({
    what: `--workers ${kind}`,
    args: withFlag("--workers", value!),
    flag: "--workers",
    value: value!,
    accepts: "an integer from 1 to 64",
  })),
  // switches, unknown flags, stray words
  {
    what: "--yes with a value",
    args: ["--num-images", "10", "--output-dir", "OUT", "--yes=1"],
    flag: "--yes",
    value: "1",
    accepts: "no value",
  },
  {
    what: "--quiet with a value",
    args: [...OK, "--quiet=no"],
    flag: "--quiet",
    value: "no",
    accepts: "no value",
  },
  {
    what: "an unknown flag",
    args: [...OK, "--num-image", "10"],
    flag: "--num-image",
    accepts: "accepted flags are --num-images",
  },
  {
    what: "an unknown short flag",
    args: [...OK, "-n", "10"],
    flag: "-n",
    accepts: "accepted flags are",
  },
  {
    what: "an unknown short flag in a group",
    args: [...OK, "-yz"],
    flag: "-z",
    value: "-yz",
    accepts: "accepted flags are",
  },
  {
    what: "a stray word",
    args: [...OK, "shapes"],
    flag: "dsgen generate",
    value: "shapes",
    accepts: "flags only",
  },
];

/** A version folder inside OUT (see {@linkcode outputFolder}). */
const VERSION = "OUT/shapes16/v0001-20260101T000000Z";

/** The same kinds of mistakes for the commands that read datasets. */
const READER_BAD_INPUTS: BadInput[] = [
  ...["inspect", "verify"].map((command) => ({
    command,
    what: "a missing PATH",
    args: [],
    flag: `dsgen ${command}`,
    accepts: "a version or dataset folder",
  })),
  ...["inspect", "verify"].flatMap((command) =>
    [["empty", ""], ["non-numeric", "abc"], ["negative", "-1"], ["zero", "0"], [
      "fractional",
      "1.5",
    ]].map(([kind, value]) => ({
      command,
      what: `--samples ${kind}`,
      args: [VERSION, "--samples", value!],
      flag: "--samples",
      value: value!,
      accepts: "an integer from 1 to",
    }))
  ),
  ...[["inspect", "10001"], ["verify", "1000000001"]].map(([command, value]) => ({
    command,
    what: "--samples above the maximum",
    args: [VERSION, "--samples", value!],
    flag: "--samples",
    value: value!,
    accepts: "an integer from 1 to",
  })),
  ...["inspect", "verify"].flatMap((command) =>
    [["non-numeric", "x"], ["negative", "-1"], ["above the maximum", "4294967296"]].map((
      [kind, value],
    ) => ({
      command,
      what: `--seed ${kind}`,
      args: [VERSION, "--seed", value!],
      flag: "--seed",
      value: value!,
      accepts: INTEGER_SEED,
    }))
  ),
  ...[["zero", "0"], ["above the maximum", "65"], ["non-numeric", "big"]].map((
    [kind, value],
  ) => ({
    command: "inspect",
    what: `--scale ${kind}`,
    args: [VERSION, "--scale", value!],
    flag: "--scale",
    value: value!,
    accepts: "an integer from 1 to 64",
  })),
  {
    command: "inspect",
    what: "--out empty",
    args: [VERSION, "--out", ""],
    flag: "--out",
    value: "",
    accepts: "a folder path",
  },
  {
    command: "inspect",
    what: "--quiet with a value",
    args: [VERSION, "--quiet=1"],
    flag: "--quiet",
    value: "1",
    accepts: "no value",
  },
  {
    command: "list",
    what: "a missing DIR",
    args: [],
    flag: "dsgen list",
    accepts: "an output folder",
  },
  {
    command: "list",
    what: "--json with a value",
    args: ["OUT", "--json=yes"],
    flag: "--json",
    value: "yes",
    accepts: "no value",
  },
  ...["inspect", "verify", "list"].flatMap((command) => [
    {
      command,
      what: "an unknown flag",
      args: [command === "list" ? "OUT" : VERSION, "--bogus"],
      flag: "--bogus",
      accepts: "accepted flags are",
    },
    {
      command,
      what: "a second path",
      args: [command === "list" ? "OUT" : VERSION, "OUT"],
      flag: `dsgen ${command}`,
      value: "OUT",
      accepts: "it takes 1 path",
    },
  ]),
];

/** Prepares OUT: a file, a link to nothing and an earlier version, which must all survive. */
async function outputFolder(): Promise<string> {
  const out = await Deno.makeTempDir({ prefix: "dsgen-bad-input-" });
  await Deno.writeTextFile(join(out, "a-file"), "not a folder\n");
  await Deno.symlink(join(out, "nowhere"), join(out, "dangling"));
  const version = join(out, "shapes16", "v0001-20260101T000000Z");
  await Deno.mkdir(version, { recursive: true });
  await Deno.writeTextFile(join(version, "metadata.json"), "{}\n");
  return out;
}

/** What one wrong command line did: its output, and the output folder before and after. */
interface Refusal {
  args: string[];
  out: string;
  result: CliResult;
  before: string[];
  after: string[];
}

/** Runs `dsgen <command> ...args` with `OUT` replaced, fingerprinting OUT around it. */
async function attempt(command: string, args: string[], out: string): Promise<Refusal> {
  const before = await treeFingerprint(out);
  const result = await runCli([command, ...args.map((arg) => arg.replaceAll("OUT", out))]);
  return { args, out, result, before, after: await treeFingerprint(out) };
}

/**
 * Checks a refusal: exit 2, one line naming the flag, the value and what is accepted, no
 * stack trace, the output folder as it was.
 *
 * @returns The line.
 */
function assertRefusal(
  refusal: Refusal,
  expect: { flag: string; value?: string; accepts: string },
): string {
  const { args, out, result } = refusal;
  const context = `args ${JSON.stringify(args)}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, 2, context);
  assert.equal(result.stdout, "", context);
  const stderr = lines(result.stderr);
  assert.equal(stderr.length, 1, context);
  const line = stderr[0]!;
  assert.ok(!/^\s+at /m.test(result.stderr), context);
  assert.match(line, /^dsgen: [A-Z]/, context);
  assert.ok(line.includes(`"${expect.flag}"`), context);
  if (expect.value !== undefined) {
    assert.ok(line.includes(JSON.stringify(expect.value.replaceAll("OUT", out))), context);
  }
  assert.ok(line.includes(expect.accepts), context);
  assert.deepEqual(refusal.after, refusal.before, `the output folder changed\n${context}`);
  return line;
}

/**
 * The table's command lines, started four at a time as soon as the module loads: each takes
 * a process start-up, and run one after the other they would take most of the time budget.
 * Each test then checks its own row's outcome.
 */
const ROWS = [...BAD_INPUTS, ...READER_BAD_INPUTS];
const outcomes = (() => {
  let next = 0;
  const settled = new Map<BadInput, Promise<Refusal | Error>>();
  const resolvers = new Map<BadInput, (outcome: Refusal | Error) => void>();
  for (const row of ROWS) {
    settled.set(row, new Promise((resolve) => resolvers.set(row, resolve)));
  }
  const worker = async () => {
    while (next < ROWS.length) {
      const row = ROWS[next++]!;
      const out = await outputFolder();
      try {
        resolvers.get(row)!(await attempt(row.command ?? "generate", row.args, out));
      } catch (error) {
        resolvers.get(row)!(error as Error);
      } finally {
        await Deno.remove(out, { recursive: true });
      }
    }
  };
  for (let index = 0; index < 4; index++) worker();
  return settled;
})();

for (const row of ROWS) {
  Deno.test({
    name: `${row.command ?? "generate"} refuses ${row.what} with one line and exit code 2`,
    // The row's process was started before the test, by the pool above.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const outcome = await outcomes.get(row)!;
      if (outcome instanceof Error) throw outcome;
      assertRefusal(outcome, row);
    },
  });
}

Deno.test("generate creates a missing output folder: the checks refuse bad input only", async () => {
  // Pins that the checks above do not buy "nothing created" by refusing everything.
  const out = await outputFolder();
  try {
    const result = await runCli([
      "generate",
      ...withFlag("--output-dir", join(out, "new", "deeper")),
      "--quiet",
      "--seed",
      "1",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(lines(result.stderr).length, 0, result.stderr);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

const noTmpfs = await tmpfsUnavailable();
if (noTmpfs !== undefined) {
  console.log(`bad_input_test: skipping the read-only and full-disk cases: ${noTmpfs}`);
}

Deno.test({
  name: "generate refuses an output folder it cannot write to (read-only mount)",
  ignore: noTmpfs !== undefined,
  async fn() {
    // As root, permission bits do not stop writes: a read-only mount does.
    await using disk = await mountSmallDisk(1024 * 1024);
    await Deno.mkdir(join(disk.path, "existing"));
    await disk.remount("ro");
    for (const outputDir of [disk.path, join(disk.path, "existing"), join(disk.path, "new")]) {
      const refusal = await attempt("generate", withFlag("--output-dir", outputDir), disk.path);
      const line = assertRefusal(refusal, {
        flag: "--output-dir",
        value: outputDir,
        accepts: "expected a folder dsgen can write to",
      });
      assert.match(line, /read-only/);
    }
  },
});

Deno.test({
  name: "generate refuses a dataset larger than the free space, before creating anything",
  ignore: noTmpfs !== undefined,
  async fn() {
    await using disk = await mountSmallDisk(2 * 1024 * 1024);
    const args = ["--num-images", "20000", "--output-dir", "OUT", "--yes", "--quiet"];
    const line = assertRefusal(await attempt("generate", args, disk.path), {
      flag: "--output-dir",
      value: disk.path,
      accepts: "expected a folder on a disk with room",
    });
    assert.match(line, /needs [\d.]+ MB and the disk has [\d.]+ MB free/);
  },
});
