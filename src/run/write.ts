/**
 * Writing the archive of a plan: on worker threads when the plan has more than one, else on
 * this thread, or from chunks a caller produces (a merge reads them from slice files).
 *
 * @module
 */

import {
  type DatasetPlan,
  type NpzRecord,
  type RowSink,
  writeDatasetNpz,
  type WriteOptions,
} from "../pipeline/dataset.ts";
import { type RenderThreads, workerImageChunks } from "../pipeline/worker_pool.ts";
import type { RunPlan } from "./plan.ts";

/** Options of {@linkcode writeArchive}. */
export interface WriteArchiveOptions {
  /** Called with the number of images written so far. */
  onProgress?: (imagesDone: number) => void;
  /** Stops the write between chunks. */
  signal?: AbortSignal;
  /** The image chunks, in order; default: rendered by the plan's threads. */
  imageChunks?: WriteOptions["imageChunks"];
  /** The writer; a test may inject a failing one. */
  writeDataset?: typeof writeDatasetNpz;
  /** The labels and latents; default: those the render pass drew, spilled beside the archive. */
  labelsAndLatents?: WriteOptions["labelsAndLatents"];
  /** The chunks are files just read, copied (a merge); see `WriteOptions.copying`. */
  copying?: boolean;
  /**
   * The run's render threads, when it writes several archives (a recipe's splits): each
   * archive renders on them, however few its images; default: the plan's own threads.
   */
  threads?: RenderThreads | undefined;
}

/**
 * Writes the plan's `dataset.npz` at `path`.
 *
 * @param plan The run's plan.
 * @param path The archive to create.
 * @param options Progress, signal, chunk producer and writer.
 * @returns The archive's size, SHA-256 and arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * import { writeArchive } from "./write.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" });
 * const dir = await Deno.makeTempDir();
 * const record = await writeArchive(plan, `${dir}/dataset.npz`);
 * assert.equal(record.bytes, plan.archiveBytes);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeArchive(
  plan: RunPlan,
  path: string,
  options: WriteArchiveOptions = {},
): Promise<NpzRecord> {
  const { threads } = options;
  const workers = threads?.count ?? plan.workers.count;
  const family = plan.spec.family;
  const imageChunks = options.imageChunks ??
    (workers > 1
      ? (p: DatasetPlan, signal?: AbortSignal, rows?: RowSink) =>
        workerImageChunks(p, { workers, family, signal, rows, threads })
      : undefined);
  return (options.writeDataset ?? writeDatasetNpz)(plan.dataset, path, {
    hashThread: plan.hashThread,
    onProgress: options.onProgress,
    signal: options.signal,
    imageChunks,
    labelsAndLatents: options.labelsAndLatents,
    copying: options.copying,
  });
}
