/**
 * Staging: the folder a run writes into before it is a version. Opening one first removes the
 * leftovers of killed runs on this host, then reserves the next version number.
 *
 * @module
 */

import { basename } from "node:path";
import {
  createStaging,
  removeStaleStaging,
  type Staging,
  type StagingEntry,
} from "../store/versions.ts";
import { RunError } from "../exit/errors.ts";
import { systemReason } from "./preflight.ts";

/** Options of {@linkcode openStaging}. */
export interface OpenStagingOptions {
  /** Told of each leftover removed, in a sentence (always worth saying: it deletes files). */
  onRemoved?: (line: string, entry: StagingEntry) => void;
}

/**
 * Creates the dataset folder if needed, removes stale staging folders, and reserves a version.
 *
 * @param datasetDir The dataset folder.
 * @param options Told of removed leftovers.
 * @returns The reservation.
 * @throws {RunError} When the folder cannot be made (exit 1, nothing created).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStaging } from "./stage.ts";
 * import { discardStaging } from "../store/versions.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await openStaging(`${dir}/shapes16`);
 * assert.equal(staging.number, 1);
 * await discardStaging(staging);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openStaging(
  datasetDir: string,
  options: OpenStagingOptions = {},
): Promise<Staging> {
  try {
    await Deno.mkdir(datasetDir, { recursive: true });
    for (const stale of await removeStaleStaging(datasetDir)) {
      options.onRemoved?.(
        `Removed ${basename(stale.path)}: an unfinished version left by ` +
          (stale.owner === undefined
            ? "a run"
            : `process ${stale.owner.pid} (started ${stale.owner.startedAt})`) +
          " that is no longer running",
        stale,
      );
    }
    return await createStaging(datasetDir);
  } catch (error) {
    throw new RunError(
      `Cannot create a version in ${datasetDir}: ${systemReason(error)}; no version was created`,
      { cause: error },
    );
  }
}
