/**
 * Which slice a process renders, and of which run: from the flags, else from the variables a
 * scheduler sets for each task of an array.
 *
 * | value          | flag            | else                                                     |
 * | -------------- | --------------- | -------------------------------------------------------- |
 * | slice index    | `--shard-index` | `SLURM_ARRAY_TASK_ID`, else `JOB_COMPLETION_INDEX` (k8s) |
 * | run id         | `--run-id`      | `SLURM_ARRAY_JOB_ID` (the same for every task of a job)  |
 *
 * The number of slices is always given (`--shards`): a rerun of one failed task
 * (`--array=7`) has a task count of 1, so `SLURM_ARRAY_TASK_COUNT` cannot be trusted.
 *
 * @module
 */

import { UsageError } from "../exit/errors.ts";
import { MAX_SHARDS, RUN_ID_PATTERN } from "./run_folder.ts";

/** The raw values: flags as given (undefined when absent). */
export interface SliceFlags {
  /** `--shards`, parsed. */
  shards: number;
  /** `--shard-index` as given. */
  shardIndex?: string;
  /** `--run-id` as given. */
  runId?: string;
}

function parseIndex(text: string, shards: number, what: string): number {
  const accepted = `an integer from 0 to ${shards - 1}`;
  if (!/^\d+$/.test(text) || Number(text) >= shards) {
    throw new UsageError(`Cannot use ${what} ${JSON.stringify(text)}: expected ${accepted}`);
  }
  return Number(text);
}

/**
 * Resolves the slice index and run id from the flags and the scheduler's variables.
 *
 * @param flags `--shards`, and `--shard-index` and `--run-id` as given.
 * @param env The environment (a plain object, so tests inject their own).
 * @returns The index and the run id, and where each came from.
 * @throws {UsageError} Naming the flag when a value is missing or wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSlice } from "./scheduler.ts";
 * const env = { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_JOB_ID: "812" };
 * assert.deepEqual(resolveSlice({ shards: 16 }, env),
 *   { index: 3, runId: "812", indexSource: "SLURM_ARRAY_TASK_ID", runIdSource: "SLURM_ARRAY_JOB_ID" });
 * ```
 */
export function resolveSlice(
  flags: SliceFlags,
  env: Record<string, string | undefined>,
): { index: number; runId: string; indexSource: string; runIdSource: string } {
  const { shards } = flags;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new UsageError(
      `Cannot use "--shards" value "${shards}": expected an integer from 1 to ${MAX_SHARDS}`,
    );
  }
  let index: number;
  let indexSource: string;
  if (flags.shardIndex !== undefined) {
    index = parseIndex(flags.shardIndex, shards, `"--shard-index" value`);
    indexSource = "--shard-index";
  } else {
    const variable = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"].find((name) =>
      (env[name] ?? "") !== ""
    );
    if (variable === undefined) {
      throw new UsageError(
        `Missing "--shard-index": expected an integer from 0 to ${shards - 1} (or a job ` +
          "array task, which sets SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)",
      );
    }
    index = parseIndex(
      env[variable]!,
      shards,
      `${variable} value (the default of "--shard-index")`,
    );
    indexSource = variable;
  }
  let runId: string;
  let runIdSource: string;
  if (flags.runId !== undefined) {
    runId = flags.runId;
    runIdSource = "--run-id";
  } else if ((env.SLURM_ARRAY_JOB_ID ?? "") !== "") {
    runId = env.SLURM_ARRAY_JOB_ID!;
    runIdSource = "SLURM_ARRAY_JOB_ID";
  } else {
    throw new UsageError(
      'Missing "--run-id": expected a name shared by every slice of the run (a Slurm job ' +
        "array sets it from SLURM_ARRAY_JOB_ID)",
    );
  }
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new UsageError(
      `Cannot use "--run-id" value ${JSON.stringify(runId)}: expected 1 to 64 letters, ` +
        "digits, '-', '_' and '.', starting with a letter or digit",
    );
  }
  return { index, runId, indexSource, runIdSource };
}
