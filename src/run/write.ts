/**
 * Writing the archive of a plan, and where its chunks come from: chosen here, in one place,
 * for a whole run and for a cluster slice alike.
 *
 * The chunks come from the caller (a merge reads them from slice files), else from external
 * renderer processes (`--generator-cmd`), else from worker threads when the plan has more than
 * one, else from this thread.
 *
 * @module
 */

import {
  type DatasetPlan,
  type NpzRecord,
  type SampleChunkProducer,
  writeDatasetNpz,
  type WriteOptions,
} from "../pipeline/dataset.ts";
import { localSampleChunks } from "../pipeline/sample_chunk.ts";
import { RenderThreads, workerSampleChunks } from "../pipeline/worker_pool.ts";
import type { RunPlan } from "./plan.ts";

/** What a run's chunks may come from besides its own threads. */
export interface ChunkSources {
  /** Chunks the caller brings (a merge), in order. */
  sampleChunks?: SampleChunkProducer | undefined;
  /**
   * External renderer processes, when the run has them: their `writeOptions` starts the
   * processes still missing and returns their producer.
   */
  renderers?: {
    writeOptions(options: {
      workers: number;
      signal?: AbortSignal | undefined;
      firstImage?: number;
    }): Promise<{ sampleChunks: SampleChunkProducer }>;
  } | undefined;
  /** The dataset index of the plan's first sample (a cluster slice's start; default 0). */
  firstSample?: number;
  /** Stops the producer between chunks. */
  signal?: AbortSignal | undefined;
  /**
   * The run's render threads, when it writes several archives (a recipe's splits): each
   * archive renders on them, however few its images; default: the plan's own threads.
   */
  threads?: RenderThreads | undefined;
}

/**
 * The one choice of a run's chunk producer: the caller's, else the external renderers', else
 * the worker threads' when the plan has more than one, else this thread's.
 *
 * @param plan The run's plan (threads, family).
 * @param sources What the run has besides its own threads.
 * @returns The producer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * import { chunkProducer } from "./write.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" });
 * const produce = await chunkProducer(plan, { firstSample: 5 });
 * let samples = 0;
 * for await (const chunk of produce(plan.dataset)) samples += chunk.numSamples;
 * assert.equal(samples, 10);
 * ```
 */
export async function chunkProducer(
  plan: RunPlan,
  sources: ChunkSources = {},
): Promise<SampleChunkProducer> {
  if (sources.sampleChunks !== undefined) return sources.sampleChunks;
  const { threads } = sources;
  const workers = threads?.count ?? plan.workers.count;
  const firstImage = sources.firstSample ?? 0;
  if (sources.renderers !== undefined) {
    return (await sources.renderers.writeOptions({ workers, signal: sources.signal, firstImage }))
      .sampleChunks;
  }
  const family = plan.spec.family;
  return workers > 1
    ? (p: DatasetPlan, signal?: AbortSignal) =>
      workerSampleChunks(p, { workers, family, signal, firstImage, threads })
    : (p: DatasetPlan, signal?: AbortSignal) => localSampleChunks(p, { signal, first: firstImage });
}

/**
 * The render threads that several archives of a run (a recipe's splits), or a slice's shares of
 * them, render on, started once: each then renders on them however few its images.
 *
 * @param parts The number of archives (or shares) the run writes.
 * @param workers The threads the run's largest part planned.
 * @param options Whether the run renders on its own threads (not an external renderer's
 *   processes, not a merge's copy).
 * @returns The threads, to be disposed of (`using`) after the last part; undefined for one part
 *   or one thread: each part then takes its plan's own.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedThreads } from "./write.ts";
 * assert.equal(sharedThreads(1, 4, { rendering: true }), undefined);
 * using threads = sharedThreads(2, 2, { rendering: true });
 * assert.equal(threads?.count, 2);
 * ```
 */
export function sharedThreads(
  parts: number,
  workers: number,
  options: { rendering: boolean },
): RenderThreads | undefined {
  return parts > 1 && workers > 1 && options.rendering ? new RenderThreads(workers) : undefined;
}

/** Options of {@linkcode writeArchive}. */
export interface WriteArchiveOptions extends ChunkSources {
  /** Called with the number of samples written so far. */
  onProgress?: (imagesDone: number) => void;
  /** The writer; a test may inject a failing one. */
  writeDataset?: typeof writeDatasetNpz;
  /** The arrays after the first, by name (a merge's); see `WriteOptions.laterArrays`. */
  laterArrays?: WriteOptions["laterArrays"];
  /** The chunks are files just read, copied (a merge); see `WriteOptions.copying`. */
  copying?: boolean;
  /** Whether the write waits for the disk (default true); see `WriteOptions.sync`. */
  sync?: boolean;
  /** Called once every sample is in; see `WriteOptions.onSamplesWritten`. */
  onSamplesWritten?: WriteOptions["onSamplesWritten"];
}

/** A producer started before its archive: see {@linkcode startEarly}. */
export interface EarlyProducer {
  /** The producer to write the archive with; its first chunk is already under way. */
  produce: SampleChunkProducer;
  /** Stops it, when its archive will not be written (a run that failed before). */
  cancel(): Promise<void>;
}

/**
 * Starts an archive's producer now: its first chunks are requested from the threads at
 * once, so that they render while the caller finishes the archive before (its later
 * arrays, copied from spill files, while the threads would otherwise wait). The chunks'
 * bytes are the same as from the producer started later.
 *
 * @param produce The archive's producer (`chunkProducer`).
 * @param plan The archive's plan.
 * @param signal Stops the producer.
 * @returns The producer to write the archive with, or to cancel.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * import { chunkProducer, startEarly } from "./write.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" });
 * const early = startEarly(await chunkProducer(plan), plan.dataset);
 * let samples = 0;
 * for await (const chunk of early.produce(plan.dataset)) samples += chunk.numSamples;
 * assert.equal(samples, 10);
 * await early.cancel(); // a no-op once it was used
 * ```
 */
export function startEarly(
  produce: SampleChunkProducer,
  plan: DatasetPlan,
  signal?: AbortSignal,
): EarlyProducer {
  const produced = produce(plan, signal);
  const chunks = Symbol.asyncIterator in produced
    ? produced[Symbol.asyncIterator]()
    : produced[Symbol.iterator]();
  const first = Promise.resolve(chunks.next());
  first.catch(() => {}); // Rethrown to the writer when it takes the first chunk.
  let taken = false;
  return {
    produce: () => {
      taken = true;
      return (async function* () {
        try {
          for (let next = await first; !next.done; next = await chunks.next()) yield next.value;
        } finally {
          await chunks.return?.(undefined);
        }
      })();
    },
    async cancel() {
      if (taken) return;
      taken = true;
      await first.catch(() => {});
      await chunks.return?.(undefined);
    },
  };
}

/**
 * Writes the plan's `dataset.npz` at `path`.
 *
 * @param plan The run's plan.
 * @param path The archive to create.
 * @param options Progress, signal, chunk sources and writer.
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
export async function writeArchive(
  plan: RunPlan,
  path: string,
  options: WriteArchiveOptions = {},
): Promise<NpzRecord> {
  return await (options.writeDataset ?? writeDatasetNpz)(plan.dataset, path, {
    hashThread: plan.hashThread,
    onProgress: options.onProgress,
    signal: options.signal,
    sampleChunks: await chunkProducer(plan, options),
    laterArrays: options.laterArrays,
    copying: options.copying,
    sync: options.sync,
    onSamplesWritten: options.onSamplesWritten,
  });
}
