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
import { type FlagSpec, NUMBER_SYNTAX, parseFlags, parseIntegerFlag } from "./flags.ts";
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
}

const FLAGS: Record<string, FlagSpec> = {
  samples: { type: "string", accepts: `an integer from 1 to ${MAX_IMAGES}` },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
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

Options:
  --samples K   images to re-render, 1 to ${MAX_IMAGES} (default 100)
  --seed S      seed that picks the samples, 0 to ${MAX_SEED}; drawn and printed if omitted
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
 * assert.equal(formatStep({ name: "crc", ok: true, detail: "all match" }), "ok    crc        all match");
 * ```
 */
export function formatStep(step: VerifyStep): string {
  return `${(step.ok ? "ok" : "FAIL").padEnd(6)}${step.name.padEnd(11)}${step.detail}`;
}

/**
 * Runs `dsgen verify` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @returns The steps, all passed.
 * @throws {RunError} Exit 1 naming the first step that failed, or the unreadable input.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runGenerate } from "./generate.ts";
 * import { runVerify } from "./verify.ts";
 *
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * const dir = await Deno.makeTempDir();
 * const { path } = await runGenerate({ numImages: 20, outputDir: dir,
 *   name: "demo", imageSize: 8, generator: "shapes", dtype: "uint8", workers: 1, seed: 3,
 *   yes: true, quiet: true }, io);
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
      onStep: (step) => io.stdout(formatStep(step) + "\n"),
    });
  } catch (error) {
    throw asRunError(error, `Cannot read ${version.path}`);
  }
  const failed = steps.find((step) => !step.ok);
  if (failed !== undefined) {
    throw new RunError(`Verification failed at ${failed.name}: ${failed.detail}`);
  }
  io.stdout(`Verified: ${version.id} is intact (${steps.length} checks passed)\n`);
  return steps;
}
