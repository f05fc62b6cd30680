/**
 * The end of a run: publish the staging folder as a version with one rename, or, on any
 * failure or interruption, remove it and say in one line what happened and what is left.
 *
 * @module
 */

import { type VersionMetadata, writeMetadata } from "../store/metadata.ts";
import {
  discardStaging,
  publishStaging,
  type Staging,
  type VersionEntry,
} from "../store/versions.ts";
import { RendererError } from "../renderer/process.ts";
import { RunError, UsageError } from "../exit/errors.ts";
import { rendererRunError } from "../renderer/pool.ts";
import { interruption } from "../exit/interrupt.ts";
import { systemReason } from "./preflight.ts";

/**
 * Writes metadata.json into the staging folder and publishes it as a version.
 *
 * @param staging The reservation, archive written.
 * @param metadata The version's record.
 * @param options `signal`: an interrupt before the rename still stops the run.
 * @returns The published version.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStaging } from "../store/versions.ts";
 * import { publishVersion } from "./publish.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await createStaging(dir);
 * const metadata = { created_at: new Date().toISOString() } as never;
 * assert.equal((await publishVersion(staging, metadata)).number, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function publishVersion(
  staging: Staging,
  metadata: VersionMetadata,
  options: { signal?: AbortSignal } = {},
): Promise<VersionEntry> {
  await writeMetadata(staging.path, metadata);
  // The last moment to honour an interrupt: after the rename the version is complete.
  options.signal?.throwIfAborted();
  return await publishStaging(staging, new Date(metadata.created_at));
}

/**
 * Removes the staging folder of a failed or interrupted run, and returns the error to throw:
 * one line saying what happened and what is left.
 *
 * @param staging The reservation.
 * @param error What stopped the run.
 * @param options The run's signal; the dataset folder, for the message.
 * @returns A {@linkcode RunError} (or the original usage error).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStaging } from "../store/versions.ts";
 * import { abandonVersion } from "./publish.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await createStaging(dir);
 * const error = await abandonVersion(staging, new Error("boom"), { datasetDir: dir });
 * assert.match(error.message, /boom; the unfinished version was removed$/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function abandonVersion(
  staging: Staging,
  error: unknown,
  options: { signal?: AbortSignal; datasetDir: string },
): Promise<Error> {
  let removed = "the unfinished version was removed";
  try {
    await discardStaging(staging);
  } catch (removeError) {
    // Never hide the first failure; the next run into this dataset removes the folder.
    removed = `the unfinished version ${staging.path} could not be removed ` +
      `(${systemReason(removeError)}); the next run removes it`;
  }
  const interrupted = interruption(options.signal, `${removed}, nothing kept`);
  if (interrupted !== undefined) return interrupted;
  if (error instanceof RunError || error instanceof UsageError) return error;
  if (error instanceof RendererError) {
    return rendererRunError(error, removed) as RunError;
  }
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const diskFull = code === "ENOSPC" || code === "EDQUOT" ||
    /no space left|ENOSPC|os error 28|quota/i.test(message);
  return new RunError(
    diskFull
      ? `Cannot write to ${options.datasetDir}: ${systemReason(error)}; ${removed}, ` +
        "earlier versions are untouched"
      : `Cannot write the dataset to ${staging.path}: ${message}; ${removed}`,
    { cause: error },
  );
}
