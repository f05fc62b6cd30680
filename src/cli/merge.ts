/**
 * `dsgen merge DATASET_DIR --run-id ID`: merges a sharded run by hand (an `afterok` job, or
 * after a rerun of failed slices), as the slice that completes a run does by itself.
 *
 * @module
 */

import { mergeRun } from "../cluster/merge.ts";
import { RUN_ID_PATTERN } from "../cluster/run_folder.ts";
import { RunError, UsageError } from "./errors.ts";
import { type Console, runOutput } from "./console.ts";
import { type FlagSpec, parseFlags, quote, requireValue } from "./flags.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** A merge or discard, as the flags describe it. */
export interface RunCommandOptions {
  /** The dataset folder, `<output-dir>/<name>`. */
  datasetDir: string;
  /** The run's id. */
  runId: string;
  /** No plan or progress bar. */
  quiet: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  "run-id": { type: "string", accepts: "the run's id (SLURM_ARRAY_JOB_ID of its job array)" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen merge`. */
export const MERGE_HELP = `Usage: dsgen merge DATASET_DIR --run-id ID [--quiet]

Merges the slices of a sharded run (generate --shards) into one version of DATASET_DIR,
byte-identical to a run on one machine, and removes the run's folder. The slice that completes
a run merges it by itself; use this as an afterok job, or after rerunning failed slices.
Exits 1 naming the missing slices when some are not done.

Options:
  --run-id ID   the run (default: SLURM_ARRAY_JOB_ID of the job array)
  -q, --quiet   print no plan and no progress bar
  -h, --help    show this help
`;

/**
 * Turns the words after `merge` or `discard` into options, or throws a {@linkcode UsageError}.
 *
 * @param command `merge` or `discard`, for messages.
 * @param args The command-line words.
 * @param env The environment, for `SLURM_ARRAY_JOB_ID`.
 * @param caller The folder relative paths mean (see `paths.ts`).
 * @returns The options, or `"help"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunCommandArgs } from "./merge.ts";
 * assert.deepEqual(parseRunCommandArgs("merge", ["data/shapes16", "--run-id", "7"], {}),
 *   { datasetDir: "data/shapes16", runId: "7", quiet: false });
 * ```
 */
export function parseRunCommandArgs(
  command: "merge" | "discard",
  args: readonly string[],
  env: Record<string, string | undefined>,
  caller: CallerFolder = {},
): RunCommandOptions | "help" {
  const { values, positionals } = parseFlags(args, { command, flags: FLAGS, positionals: 1 });
  if (values.help === true) return "help";
  const datasetDir = positionals[0];
  if (datasetDir === undefined) {
    throw new UsageError(
      `Missing DATASET_DIR for "dsgen ${command}": expected a dataset folder, e.g. data/shapes16`,
    );
  }
  const runId = values["run-id"] === undefined
    ? env.SLURM_ARRAY_JOB_ID
    : requireValue("--run-id", values["run-id"], FLAGS["run-id"]!.accepts!);
  if (runId === undefined || runId === "") {
    throw new UsageError(`Missing "--run-id" for "dsgen ${command}": expected the run's id`);
  }
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new UsageError(
      `Cannot use "--run-id" value ${quote(runId)}: expected 1 to 64 letters, digits, '-', ` +
        "'_' and '.', starting with a letter or digit",
    );
  }
  return { datasetDir: callerPath(datasetDir, caller), runId, quiet: values.quiet === true };
}

/**
 * Runs `dsgen merge`.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @param signal Stops the merge.
 * @returns The version's path.
 * @example
 * ```ts ignore
 * import { runMerge } from "./merge.ts";
 * import { denoConsole } from "./console.ts";
 * await runMerge({ datasetDir: "data/shapes16", runId: "7", quiet: false }, denoConsole());
 * ```
 */
export async function runMerge(
  options: RunCommandOptions,
  io: Console & { commandLine?: string[] },
  signal?: AbortSignal,
): Promise<string> {
  const result = await mergeRun(options.datasetDir, options.runId, {
    output: runOutput(io, options.quiet),
    signal,
    commandLine: io.commandLine,
  });
  if (result.status === "merging elsewhere") {
    let owner = "";
    try {
      const recorded = JSON.parse(await Deno.readTextFile(`${result.lock}/owner.json`));
      owner = ` by process ${recorded.pid} on ${recorded.host} (started ${recorded.started_at})`;
    } catch {
      // Made an instant ago, or unreadable: say what is known.
    }
    throw new RunError(
      `Cannot merge run "${options.runId}": a merge is under way${owner}; if that process is ` +
        `gone, remove ${result.lock} and run again`,
    );
  }
  const path = result.status === "merged" ? result.version.path : result.path;
  if (result.status === "already merged") {
    io.stderr(`Run "${options.runId}" was already merged\n`);
  }
  io.stdout(path + "\n");
  return path;
}
