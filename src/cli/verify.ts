/**
 * `dsgen verify`: checks a version's files, checksums, arrays and re-rendered samples.
 *
 * {@linkcode parseVerifyArgs} turns the words into a typed {@linkcode VerifyCommandOptions};
 * {@linkcode runVerify} finds the version, runs the steps of `validate/verify_version.ts`,
 * prints one line per step as it passes, and fails (exit 1) naming the first thing that differs.
 *
 * @module
 */

import { openVersion } from "../store/open_version.ts";
import { type VerifyStep, verifyVersion } from "../validate/verify_version.ts";
import type { Console } from "./console.ts";
import { RunError, UsageError } from "./errors.ts";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  checkNamedProgram,
  quoteCommand,
  type RecordedProgram,
  recordedProgram,
} from "../generators/named_program.ts";
import {
  type FlagSpec,
  NUMBER_SYNTAX,
  parseCommandWords,
  parseFlags,
  parseIntegerFlag,
  quote,
  requireValue,
} from "./flags.ts";
import { MAX_IMAGES, MAX_SEED } from "./generate.ts";
import { asRunError } from "./input_error.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** A verify run, as the flags describe it. */
export interface VerifyCommandOptions {
  /** A version folder or a dataset folder (its newest version). */
  path: string;
  /** Images to re-render. */
  samples: number;
  /** Seed that picks the samples; undefined: draw one and print it. */
  seed?: number;
  /** The external renderer to re-render with (`--generator-cmd`), as typed, and its words. */
  generatorCmd?: { command: string; words: string[] };
  /** The family module to re-render with (`--generator-module`), as a URL. */
  generatorModule?: string;
  /** The folder a named command runs in: the one the command was typed in. */
  cwd?: string;
  /** A skipped step fails (`--strict`). */
  strict?: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  samples: { type: "string", accepts: `an integer from 1 to ${MAX_IMAGES}` },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
  "generator-cmd": {
    type: "string",
    accepts: 'the command the version records, e.g. "python3 render.py"',
  },
  "generator-module": {
    type: "string",
    accepts: "the family module the version records (a path or URL)",
  },
  strict: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen verify`. */
export const VERIFY_HELP = `Usage: dsgen verify PATH [options]

Checks a version: metadata.json is complete; every file's size and SHA-256 match it; every
array's NPY header, dtype and shape match it; the generator is installed in the recorded
version; K images (the first, the last and K-2 at random) re-rendered from the seed are
byte-identical to the stored ones, with their labels and latents; every entry's CRC-32 matches.
PATH is a version folder, or a dataset folder (its newest version). Prints each check and exits
0, or names the first thing that differs and exits 1. The inspection/ folder is ignored.
Relative paths mean the folder the command was typed in.
${NUMBER_SYNTAX}

verify never runs a program named only in the version's files. A version drawn by an external
renderer (generate --generator-cmd) is re-rendered only when you name the same command with
--generator-cmd (it runs in the folder you typed verify in); a family module likewise with
--generator-module. Without it the generator and samples checks are SKIPPED, the others run,
and verify exits 0 (1 with --strict). A command or module other than the recorded one: exit 2.

Options:
  --samples K   images to re-render, 1 to ${MAX_IMAGES} (default 100)
  --seed S      seed that picks the samples, 0 to ${MAX_SEED}; drawn and printed if omitted
  --generator-cmd CMD
                re-render with this external renderer: the command metadata.json records
  --generator-module PATH
                re-render with this family module: the one metadata.json records
  --strict      a check that was skipped fails verify (exit 1)
  -h, --help    show this help
`;

/**
 * Turns the words after `verify` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param caller The folder relative paths mean (see `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVerifyArgs } from "./verify.ts";
 *
 * assert.deepEqual(parseVerifyArgs(["data/shapes16"]), { path: "data/shapes16", samples: 100 });
 * assert.throws(() => parseVerifyArgs(["data", "--samples", "x"]), /Cannot parse "--samples"/);
 * ```
 */
export function parseVerifyArgs(
  args: readonly string[],
  caller: CallerFolder = {},
): VerifyCommandOptions | "help" {
  const { values, positionals } = parseFlags(args, {
    command: "verify",
    flags: FLAGS,
    positionals: 1,
  });
  if (values.help === true) return "help";
  const integer = (flag: string, max: number) =>
    parseIntegerFlag(values, flag, { min: flag === "seed" ? 0 : 1, max });
  const path = positionals[0];
  if (path === undefined) {
    throw new UsageError('Missing PATH for "dsgen verify": expected a version or dataset folder');
  }
  const options: VerifyCommandOptions = {
    path: callerPath(path, caller),
    samples: values.samples === undefined ? 100 : integer("samples", MAX_IMAGES),
  };
  if (values.seed !== undefined) options.seed = integer("seed", MAX_SEED);
  if (values["generator-cmd"] !== undefined) {
    const command = requireValue(
      "--generator-cmd",
      values["generator-cmd"],
      FLAGS["generator-cmd"]!.accepts!,
    );
    const words = parseCommandWords(command, FLAGS["generator-cmd"]!.accepts!);
    options.generatorCmd = { command, words };
    options.cwd = caller.callerDir ?? Deno.cwd();
  }
  if (values["generator-module"] !== undefined) {
    if (options.generatorCmd !== undefined) {
      throw new UsageError(
        'Cannot use "--generator-module" with "--generator-cmd": expected one of the two',
      );
    }
    const module = requireValue(
      "--generator-module",
      values["generator-module"],
      FLAGS["generator-module"]!.accepts!,
    );
    // A URL as given; a path, from the folder the command was typed in.
    options.generatorModule = /^[A-Za-z][A-Za-z0-9+.-]+:/.test(module)
      ? module
      : pathToFileURL(resolve(callerPath(module, caller))).href;
  }
  if (values.strict === true) options.strict = true;
  return options;
}

/**
 * Formats a step as one line: `ok` or `FAIL`, the step's name, and its detail.
 *
 * @param step A step's outcome.
 * @returns The line, without a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStep } from "./verify.ts";
 *
 * assert.equal(formatStep({ name: "crc", ok: true, detail: "all match" }), "ok      crc        all match");
 * ```
 */
export function formatStep(step: VerifyStep): string {
  const status = step.skipped === true ? "SKIPPED" : step.ok ? "ok" : "FAIL";
  return `${status.padEnd(8)}${step.name.padEnd(11)}${step.detail}`;
}

/**
 * Runs `dsgen verify` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @returns The steps, all passed or skipped.
 * @throws {RunError} Exit 1 naming the first step that failed (a skipped one with `strict`), or
 * the unreadable input.
 * @throws {UsageError} Exit 2 when `--generator-cmd` or `--generator-module` names another
 * program than the version records (both are shown).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "../run/generate_dataset.ts";
 * import { runVerify } from "./verify.ts";
 *
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * const dir = await Deno.makeTempDir();
 * const { path } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 3, numImages: 20, imageSize: 8, dtype: "uint8" }, dir, { name: "demo", workers: 1 });
 * const steps = await runVerify({ path, samples: 5, seed: 2 }, io);
 * assert.equal(steps.length, 7);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runVerify(options: VerifyCommandOptions, io: Console): Promise<VerifyStep[]> {
  let version;
  try {
    version = await openVersion(options.path);
  } catch (error) {
    throw asRunError(error, `Cannot open ${options.path}`);
  }
  const named = {
    command: options.generatorCmd?.words,
    module: options.generatorModule,
  };
  const recorded = recordedProgram(version.metadata.spec?.family ?? { name: "", options: {} });
  try {
    checkNamedProgram(recorded, named);
  } catch (error) {
    const flag = options.generatorCmd !== undefined ? "--generator-cmd" : "--generator-module";
    const given = options.generatorCmd?.command ?? options.generatorModule!;
    throw new UsageError(
      `Cannot use "${flag}" value ${quote(given)} for ${version.path}: ` +
        `${(error as Error).message}, expected ${
          recorded === undefined ? `no ${flag}` : `exactly the recorded one`
        }`,
    );
  }
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  io.stdout(
    `Verifying ${version.path}\nSample seed: ${seed}${
      options.seed === undefined ? " (drawn)" : ""
    }\n`,
  );
  let steps: VerifyStep[];
  try {
    steps = await verifyVersion(version, {
      samples: options.samples,
      seed,
      named,
      rendererCwd: options.cwd,
      strict: options.strict,
      onStep: (step) => {
        io.stdout(formatStep(step) + "\n");
        if (step.skipped === true && step.name === "generator" && recorded !== undefined) {
          io.stdout(`${" ".repeat(19)}to re-render: ${howToRerender(version.path, recorded)}\n`);
        }
      },
    });
  } catch (error) {
    throw asRunError(error, `Cannot read ${version.path}`);
  }
  const failed = steps.find((step) => !step.ok);
  if (failed !== undefined) {
    throw new RunError(`Verification failed at ${failed.name}: ${failed.detail}`);
  }
  const skipped = steps.filter((step) => step.skipped === true);
  io.stdout(
    skipped.length === 0
      ? `Verified: ${version.id} is intact (${steps.length} checks passed)\n`
      : `Verified: ${version.id}: ${steps.length - skipped.length} checks passed, ` +
        `${skipped.length} SKIPPED (${skipped.map((step) => step.name).join(", ")}: not ` +
        `re-rendered); --strict makes a skipped check fail\n`,
  );
  return steps;
}

/** The verify command that re-renders with the recorded program, for the user to run. */
function howToRerender(path: string, recorded: RecordedProgram): string {
  const verify = `dsgen verify ${shellWord(resolve(path))}`;
  const command = recorded.kind === "command"
    ? (recorded.cwd === undefined ? "" : `cd ${shellWord(recorded.cwd)} && `) +
      `${verify} --generator-cmd ${shellWord(quoteCommand(recorded.words))}`
    : `${verify} --generator-module ${shellWord(recorded.url)}`;
  return `once you have read that program and trust it, run: ${command}`;
}

/** A word as a POSIX shell takes it back. */
function shellWord(word: string): string {
  return quoteCommand([word]);
}
