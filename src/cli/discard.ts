/**
 * `dsgen discard DATASET_DIR --run-id ID`: removes an abandoned sharded run (its plan and
 * every slice). Stale-staging cleanup never touches run folders; this is the only way they go,
 * besides a successful merge.
 *
 * @module
 */

import { runFolder } from "../cluster/run_folder.ts";
import { RunError } from "./errors.ts";
import type { Console } from "./console.ts";
import type { RunCommandOptions } from "./merge.ts";

/** The help text of `dsgen discard`. */
export const DISCARD_HELP = `Usage: dsgen discard DATASET_DIR --run-id ID

Removes the folder of an unfinished sharded run (generate --shards): its plan and every
slice. Published versions are never touched. "dsgen list" shows unfinished runs.

Options:
  --run-id ID   the run (default: SLURM_ARRAY_JOB_ID of the job array)
  -h, --help    show this help
`;

/**
 * Runs `dsgen discard`.
 *
 * @param options The parsed flags (see `parseRunCommandArgs`).
 * @param io Where to print.
 * @returns The folder removed.
 * @throws {RunError} Exit 1 when the run does not exist.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDiscard } from "./discard.ts";
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/.run-7`);
 * assert.equal(await runDiscard({ datasetDir: dir, runId: "7", quiet: true }, io), `${dir}/.run-7`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runDiscard(options: RunCommandOptions, io: Console): Promise<string> {
  const folder = runFolder(options.datasetDir, options.runId);
  try {
    await Deno.remove(folder, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new RunError(
        `Cannot discard run "${options.runId}": ${folder} does not exist (see "dsgen list")`,
      );
    }
    throw new RunError(`Cannot remove ${folder}: ${(error as Error).message}`, { cause: error });
  }
  io.stderr(`Removed run "${options.runId}": ${folder}\n`);
  return folder;
}
