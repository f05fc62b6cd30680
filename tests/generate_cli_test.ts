import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { UsageError } from "../src/cli/errors.ts";
import {
  type GenerateOptions,
  MAX_IMAGES,
  MAX_SEED,
  parseGenerateArgs,
} from "../src/cli/generate.ts";
import { type CliResult, entriesOf, runCli } from "./support/cli.ts";
import { withTempDir } from "./support/folders.ts";

const REQUIRED = ["--num-images", "10", "--output-dir", "data"];

function parse(args: string[], defaults: { workers?: number } = { workers: 4 }): GenerateOptions {
  const options = parseGenerateArgs(args, defaults);
  assert.notEqual(options, "help");
  return options as GenerateOptions;
}

/** Asserts a UsageError whose one-line message names every given part. */
function assertUsageError(args: string[], ...named: string[]): void {
  let caught: unknown;
  try {
    parseGenerateArgs(args, { workers: 4 });
  } catch (error) {
    caught = error;
  }
  const label = JSON.stringify(args);
  assert.ok(caught instanceof UsageError, `${label} threw ${String(caught)}`);
  assert.equal(caught.exitCode, 2);
  const message = caught.message;
  assert.ok(!message.includes("\n"), `${label}: ${JSON.stringify(message)} is one line`);
  assert.match(message, /^[A-Z]/, `${label}: ${message}`);
  assert.doesNotMatch(message, /\.$/, `${label}: ${message}`);
  for (const part of named) {
    assert.ok(message.includes(part), `${label}: ${JSON.stringify(message)} names ${part}`);
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

/** The one version folder a successful run printed, checked to exist with its two files. */
async function publishedVersion(result: CliResult, outputDir: string): Promise<string> {
  assert.equal(result.code, 0, result.stderr);
  const printed = lines(result.stdout);
  assert.equal(printed.length, 1, result.stdout);
  const path = printed[0]!;
  assert.ok(path.startsWith(outputDir), `${path} is inside ${outputDir}`);
  assert.match(path, /\/v0001-\d{8}T\d{6}Z$/);
  assert.deepEqual(await entriesOf(path), ["dataset.npz", "metadata.json"]);
  return path;
}

// ---- parseGenerateArgs ----

Deno.test("parseGenerateArgs: defaults", () => {
  const options = parse(REQUIRED);
  assert.deepEqual(options, {
    numImages: 10,
    outputDir: "data",
    name: "shapes16",
    imageSize: 16,
    generator: "shapes",
    dtype: "uint8",
    workers: 4,
    yes: false,
    quiet: false,
  });
  assert.equal(options.seed, undefined);
  assert.ok(!("seed" in options));
  // A given default is kept within 1 to 64; without one the run decides from the allocation.
  assert.equal(parse(REQUIRED, { workers: 100 }).workers, 64);
  assert.equal(parse(REQUIRED, { workers: 0 }).workers, 1);
  assert.equal(parse(REQUIRED, {}).workers, undefined);
});

Deno.test("parseGenerateArgs: every flag's value lands in its option", () => {
  const options = parse([
    "--num-images=1_000",
    "--output-dir",
    "out dir/x",
    "--seed",
    "0",
    "--name",
    "my-set_v1.2",
    "--image-size",
    "64",
    "--generator",
    "shapes",
    "--dtype",
    "float64",
    "--workers",
    "3",
    "-y",
    "-q",
  ]);
  assert.deepEqual(options, {
    numImages: 1000,
    outputDir: "out dir/x",
    seed: 0,
    name: "my-set_v1.2",
    imageSize: 64,
    generator: "shapes",
    dtype: "float64",
    workers: 3,
    yes: true,
    quiet: true,
  });
  assert.equal(parse([...REQUIRED, "--image-size", "32"]).name, "shapes32");
  assert.equal(parse([...REQUIRED, "--seed", String(MAX_SEED)]).seed, MAX_SEED);
  assert.equal(
    parse(["--num-images", String(MAX_IMAGES), "--output-dir", "d"]).numImages,
    MAX_IMAGES,
  );
  assert.equal(parse([...REQUIRED, "--yes", "--quiet"]).yes, true);
  assert.equal(parse([...REQUIRED, "--image-size", "4"]).imageSize, 4);
  assert.equal(parse([...REQUIRED, "--image-size", "256"]).imageSize, 256);
  assert.equal(parse([...REQUIRED, "--workers", "64"]).workers, 64);
  assert.equal(parse([...REQUIRED, "--dtype", "uint8"]).dtype, "uint8");
});

Deno.test("parseGenerateArgs: --help wins over everything valid", () => {
  assert.equal(parseGenerateArgs(["--help"]), "help");
  assert.equal(parseGenerateArgs(["-h"]), "help");
  assert.equal(parseGenerateArgs([...REQUIRED, "--help"]), "help");
  assert.equal(parseGenerateArgs(["--num-images", "0", "--help"]), "help");
});

Deno.test("parseGenerateArgs: --name takes safe folder names only", () => {
  for (const name of ["a", "A", "0", "my-data_v1.2", "x".repeat(100), "a.b", "a-"]) {
    assert.equal(parse([...REQUIRED, "--name", name]).name, name);
  }
  const bad = [
    "",
    " ",
    ".",
    "..",
    ".hidden",
    "-x",
    "_x",
    "a/b",
    "a\\b",
    "a b",
    "ä",
    "a..b",
    "../x",
    "x/..",
    "x".repeat(101),
    "a\nb",
    "a:b",
    "a*",
  ];
  for (const name of bad) {
    assertUsageError([...REQUIRED, `--name=${name}`], '"--name"', JSON.stringify(name));
  }
});

Deno.test("parseGenerateArgs: a bad value names the flag and the value", () => {
  const bad: [string, string[]][] = [
    ["--num-images", [
      "abc",
      "0",
      "-5",
      "1.5",
      "1.5e3",
      "1e",
      "e3",
      "1e-3",
      "",
      " 5",
      "0x10",
      "+5",
      "_1",
      "1_",
    ]],
    ["--num-images", [String(MAX_IMAGES + 1), "99999999999999999999", "٣"]],
    ["--seed", ["-1", "4294967296", "abc", "1.0", "", " "]],
    ["--image-size", ["3", "257", "x", "16px", "0"]],
    ["--generator", ["circles", "Shapes", ""]],
    ["--dtype", ["float32", "UINT8", "u1", ""]],
    ["--workers", ["0", "65", "many", "-1", "2.5"]],
    ["--output-dir", ["", "   "]],
  ];
  for (const [flag, values] of bad) {
    for (const value of values) {
      // The required flags, but for the one under test.
      const others = [["--num-images", "10"], ["--output-dir", "data"]]
        .filter(([name]) => name !== flag).flat();
      // Both spellings: "--flag=value" and "--flag value" (a dashed value counts as a value).
      assertUsageError([...others, `${flag}=${value}`], `"${flag}"`, JSON.stringify(value));
      if (value !== "") {
        assertUsageError([...others, flag, value], `"${flag}"`, JSON.stringify(value));
      }
    }
  }
});

Deno.test("parseGenerateArgs: missing, unknown, repeated and stray words", () => {
  assertUsageError(["--output-dir", "d"], '"--num-images"');
  assertUsageError(["--num-images", "5"], '"--output-dir"');
  assertUsageError([...REQUIRED, "--seed"], '"--seed"');
  assertUsageError(["--num-images", "--output-dir", "d"], '"--num-images"');
  assertUsageError([...REQUIRED, "--frobnicate"], '"--frobnicate"');
  assertUsageError([...REQUIRED, "--frobnicate=3"], "--frobnicate");
  assertUsageError([...REQUIRED, "-x"], '"-x"');
  assertUsageError([...REQUIRED, "--no-yes"], "--no-yes");
  assertUsageError([...REQUIRED, "--yes=1"], '"--yes"', '"1"');
  assertUsageError([...REQUIRED, "--quiet=no"], '"--quiet"', '"no"');
  assertUsageError([...REQUIRED, "--seed", "1", "--seed", "2"], '"--seed"', "1", "2");
  assertUsageError([...REQUIRED, "--num-images", "10"], '"--num-images"');
  assertUsageError([...REQUIRED, "-y", "--yes"], '"--yes"');
  assertUsageError([...REQUIRED, "extra"], '"extra"');
  assertUsageError(["generate", ...REQUIRED], '"generate"');
  assertUsageError([], '"--num-images"');
});

// ---- the command line, as a process ----

Deno.test("bad command lines exit 2 with one line on stderr and create nothing", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const aFile = join(folder, "a-file");
    await Deno.writeTextFile(aFile, "keep me");
    const withFile = join(folder, "with-file");
    await Deno.mkdir(withFile);
    await Deno.writeTextFile(join(withFile, "shapes16"), "keep me too");
    const cases: [string, (out: string) => string[]][] = [
      ["zero images", (out) => ["--num-images", "0", "--output-dir", out, "--yes"]],
      [
        "negative seed",
        (out) => ["generate", "--num-images", "5", "--output-dir", out, "--seed", "-1"],
      ],
      ["unknown flag", (out) => ["--num-images", "5", "--output-dir", out, "--frobnicate"]],
      ["switch value", (out) => ["--num-images", "5", "--output-dir", out, "--yes=1"]],
      ["hidden name", (out) => ["--num-images", "5", "--output-dir", out, "--name", ".x", "-y"]],
      ["bad dtype", (out) => ["--num-images", "5", "--output-dir", out, "--dtype", "f4", "-y"]],
      ["small image", (out) => ["--num-images", "5", "--output-dir", out, "--image-size", "3"]],
      ["no workers", (out) => ["--num-images", "5", "--output-dir", out, "--workers", "0"]],
      ["missing count", (out) => ["generate", "--output-dir", out, "--yes"]],
      ["stray word", (out) => ["generate", "--num-images", "5", "--output-dir", out, "extra"]],
      [
        "repeated",
        (out) => ["--num-images", "5", "--output-dir", out, "--seed", "1", "--seed", "1"],
      ],
      ["unknown command", (out) => ["frobnicate", "--num-images", "5", "--output-dir", out]],
      ["control char", (out) => ["--num-images", "5\n6", "--output-dir", out, "--yes"]],
    ];
    const results = await Promise.all(
      cases.map(async ([label, args], index) => {
        const out = join(folder, `case${index}`);
        return { label, out, result: await runCli(args(out)) };
      }),
    );
    const fileCases = await Promise.all([
      runCli(["--num-images", "5", "--output-dir", aFile, "--yes", "--seed", "1"]),
      runCli(["--num-images", "5", "--output-dir", join(aFile, "sub"), "--yes", "--seed", "1"]),
      runCli(["--num-images", "5", "--output-dir", withFile, "--yes", "--seed", "1"]),
    ]);
    for (const [index, result] of fileCases.entries()) {
      results.push({ label: `output is a file ${index}`, out: join(folder, "none"), result });
    }
    for (const { label, out, result } of results) {
      assert.equal(result.code, 2, `${label}: ${result.stderr}`);
      assert.equal(result.stdout, "", label);
      assert.ok(result.stderr.endsWith("\n"), label);
      const stderrLines = lines(result.stderr);
      assert.equal(stderrLines.length, 1, `${label}: ${JSON.stringify(result.stderr)}`);
      assert.match(stderrLines[0]!, /^dsgen: [A-Z]/, label);
      assert.doesNotMatch(result.stderr, /^\s+at /m, label);
      assert.deepEqual(await entriesOf(out), [], `${label} created nothing`);
    }
    assert.equal(await Deno.readTextFile(aFile), "keep me");
    assert.deepEqual(await entriesOf(withFile), ["shapes16"]);
    assert.equal(await Deno.readTextFile(join(withFile, "shapes16")), "keep me too");
    assert.deepEqual(await entriesOf(folder), ["a-file", "with-file"]);
  });
});

Deno.test("dsgen without a subcommand generates", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const out = join(folder, "out");
    const args = ["--num-images", "5", "--output-dir", out, "--seed", "1", "--yes"];
    const result = await runCli(args);
    const path = await publishedVersion(result, out);
    assert.ok(path.startsWith(join(out, "shapes16") + "/"));
    const metadata = JSON.parse(await Deno.readTextFile(join(path, "metadata.json")));
    assert.equal(metadata.num_images, 5);
    assert.equal(metadata.seed, 1);
    assert.equal(metadata.seed_source, "flag");
    // Recorded as typed: no "generate" was typed, so none is recorded.
    assert.deepEqual(metadata.run.command_line, ["dsgen", ...args]);
    // The same with the subcommand gives the same archive, as version 2.
    const again = await runCli(["generate", ...args]);
    assert.equal(again.code, 0, again.stderr);
    const second = lines(again.stdout)[0]!;
    assert.match(second, /\/v0002-\d{8}T\d{6}Z$/);
    assert.deepEqual(
      await Deno.readFile(join(second, "dataset.npz")),
      await Deno.readFile(join(path, "dataset.npz")),
    );
  });
});

Deno.test("--help and --version exit 0", async () => {
  const [help, short, word, generateHelp, version, versionShort, bare] = await Promise.all([
    runCli(["--help"]),
    runCli(["-h"]),
    runCli(["help"]),
    runCli(["generate", "--help"]),
    runCli(["--version"]),
    runCli(["-V"]),
    runCli([]),
  ]);
  for (const result of [help, short, word]) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Usage:/);
    assert.match(result.stdout, /dsgen generate --num-images N --output-dir DIR/);
    assert.equal(result.stderr, "");
  }
  assert.equal(generateHelp.code, 0, generateHelp.stderr);
  for (const flag of ["--num-images", "--output-dir", "--seed", "--name", "--dtype", "--yes"]) {
    assert.ok(generateHelp.stdout.includes(flag), flag);
  }
  for (const result of [version, versionShort]) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `dsgen ${denoJson.version} (deno ${Deno.version.deno})\n`);
  }
  // No words at all is a usage error, which shows the help.
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage:/);
  assert.equal(bare.stdout, "");
});

Deno.test("the confirmation prompt: y proceeds, n cancels, end of input refuses", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const args = (out: string) => ["--num-images", "5", "--output-dir", out, "--seed", "3"];
    const outs = ["yes", "y-upper", "no", "other", "eof-piped", "eof-null"].map((name) =>
      join(folder, name)
    );
    const [yes, upper, no, other, eofPiped, eofNull] = await Promise.all([
      runCli(args(outs[0]!), { stdin: "y\n" }),
      runCli(args(outs[1]!), { stdin: "YES\n" }),
      runCli(args(outs[2]!), { stdin: "n\n" }),
      runCli(args(outs[3]!), { stdin: "sure\n" }),
      runCli(args(outs[4]!), { stdin: "" }),
      runCli(args(outs[5]!)),
    ]);
    for (const [result, out] of [[yes, outs[0]!], [upper, outs[1]!]] as const) {
      await publishedVersion(result, out);
      assert.match(result.stderr, /Proceed\? \[y\/N\] (y|YES)\nGenerating/);
    }
    for (const [result, out] of [[no, outs[2]!], [other, outs[3]!]] as const) {
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /Proceed\? \[y\/N\]/);
      // A piped answer is echoed after the prompt, so the message starts a line of its own.
      assert.match(result.stderr, /Proceed\? \[y\/N\] (n|sure)\n/);
      assert.match(lines(result.stderr).at(-1)!, /^dsgen: Cancelled \(answer "\w+"\)/);
      assert.deepEqual(await entriesOf(out), [], "nothing created");
    }
    for (const [result, out] of [[eofPiped, outs[4]!], [eofNull, outs[5]!]] as const) {
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      const last = lines(result.stderr).at(-1)!;
      assert.match(last, /^dsgen: /);
      assert.ok(last.includes("--yes"), last);
      assert.doesNotMatch(result.stderr, /^\s+at /m);
      assert.deepEqual(await entriesOf(out), [], "nothing created");
    }
  });
});

Deno.test("--quiet prints only the path; a drawn seed is printed and recorded", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const [quiet, drawn, drawnQuiet] = await Promise.all([
      runCli([
        "--num-images",
        "5",
        "--output-dir",
        join(folder, "q"),
        "--seed",
        "9",
        "-y",
        "--quiet",
      ]),
      runCli(["--num-images", "5", "--output-dir", join(folder, "d"), "--yes"]),
      runCli(["--num-images", "5", "--output-dir", join(folder, "dq"), "--yes", "-q"]),
    ]);
    const quietPath = await publishedVersion(quiet, join(folder, "q"));
    assert.equal(quiet.stderr, "");
    assert.equal(quiet.stdout, quietPath + "\n");

    const drawnPath = await publishedVersion(drawn, join(folder, "d"));
    const plan = /^Plan: 5 images of 16x16 uint8, generator shapes \S+, seed (\d+) \(drawn\), /m
      .exec(drawn.stderr);
    assert.ok(plan !== null, drawn.stderr);
    const metadata = JSON.parse(await Deno.readTextFile(join(drawnPath, "metadata.json")));
    assert.equal(metadata.seed, Number(plan[1]));
    assert.equal(metadata.seed_source, "drawn");
    assert.ok(Number.isInteger(metadata.seed) && metadata.seed >= 0 && metadata.seed <= MAX_SEED);
    assert.match(
      drawn.stderr,
      /^Estimated memory: \d+(\.\d+)? MB for 5 images \(\d+(\.\d+)? MB available\)$/m,
    );

    // Quiet, but a drawn seed is the one thing the user cannot recover otherwise.
    const drawnQuietPath = await publishedVersion(drawnQuiet, join(folder, "dq"));
    const seedLine = /^Seed: (\d+) \(drawn\)\n$/.exec(drawnQuiet.stderr);
    assert.ok(seedLine !== null, JSON.stringify(drawnQuiet.stderr));
    const quietMetadata = JSON.parse(
      await Deno.readTextFile(join(drawnQuietPath, "metadata.json")),
    );
    assert.equal(quietMetadata.seed, Number(seedLine[1]));
    assert.equal(quietMetadata.seed_source, "drawn");
  });
});

Deno.test("the plan is printed before the run, with the memory estimate", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const out = join(folder, "out");
    const result = await runCli([
      "--num-images",
      "300",
      "--output-dir",
      out,
      "--seed",
      "4",
      "--dtype",
      "float64",
      "--image-size",
      "8",
      "--workers",
      "1",
      "--yes",
    ]);
    await publishedVersion(result, out);
    const stderr = lines(result.stderr);
    assert.match(
      stderr[0]!,
      /^Plan: 300 images of 8x8 float64, generator shapes \S+, seed 4, 1 worker$/,
    );
    assert.ok(
      stderr.some((line) => line === `Output: ${join(out, "shapes8-float64")}/v????-<time>/`),
    );
    assert.ok(stderr.some((line) => /^Disk: \d+(\.\d+)? MB \(\d+ bytes\)$/.test(line)));
    const memory = stderr.find((line) => line.startsWith("Estimated memory:"));
    assert.match(
      memory ?? "",
      /^Estimated memory: \d+(\.\d+)? MB for 300 images \(\d+(\.\d+)? MB available\)$/,
    );
    const size = (await Deno.stat(join(lines(result.stdout)[0]!, "dataset.npz"))).size;
    assert.ok(stderr.some((line) => line.includes(`(${size} bytes)`)), "the disk figure is exact");
  });
});

Deno.test("a redirected log gets plain progress lines, the plan and the measured peak", async () => {
  await withTempDir("dsgen_cli_test_", async (folder) => {
    const out = join(folder, "log");
    // Enough images for the default plan to start worker threads (16x16: see thread_plan.ts);
    // stderr is a pipe, not a terminal.
    const result = await runCli([
      "--num-images",
      "600000",
      "--image-size",
      "16",
      "--output-dir",
      out,
      "--seed",
      "4",
      "-y",
    ]);
    const path = await publishedVersion(result, out);
    assert.ok(!result.stderr.includes("\r"), "no carriage return in a log");
    const progress = lines(result.stderr).filter((line) => line.startsWith("Generating:"));
    assert.ok(progress.length >= 2, result.stderr);
    for (const line of progress) {
      assert.match(
        line,
        /^Generating: +\d+%\|[█▏▎▍▌▋▊▉ ]*\| \d+\/600000 \[\d\d:\d\d<[\d:?]+, .+img\/s\]$/,
      );
    }
    assert.match(progress.at(-1)!, /^Generating: 100%\|█+\| 600000\/600000 /);
    const estimate = /^Estimated memory: (\d+\.\d) MB for 600000 images \(/m.exec(result.stderr);
    const peak = /^Peak memory: (\d+\.\d) MB \(estimated (\d+\.\d) MB\)$/m.exec(result.stderr);
    assert.ok(estimate !== null && peak !== null, result.stderr);
    assert.equal(peak[2], estimate[1]);
    // metadata.json records the same two figures, in bytes.
    const metadata = JSON.parse(await Deno.readTextFile(join(path, "metadata.json")));
    const memory = metadata.run.memory;
    assert.equal((memory.estimated_peak_bytes / 1e6).toFixed(1), estimate[1]);
    assert.equal((memory.measured_peak_bytes / 1e6).toFixed(1), peak[1]);
    assert.equal(memory.estimate_parts.total, memory.estimated_peak_bytes);
    assert.equal(metadata.run.workers > 1, navigator.hardwareConcurrency > 1);
  });
});
