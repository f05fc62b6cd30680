/**
 * Rendering on every core: worker threads render chunks while the caller writes them in order.
 *
 * Chunks are handed out round-robin, a few per worker ahead of the writer, and yielded in
 * index order. Since image i depends only on (seed, i), the bytes are the same for any number
 * of workers, including one.
 *
 * @module
 */

import { type FamilyRef, familyTables, type ImageDtype } from "../generators/spec.ts";
import { modelSeconds } from "./thread_plan.ts";
import type { DatasetPlan } from "./dataset.ts";
import type { SampleChunk } from "./sample_chunk.ts";
import { inOrder } from "./in_order.ts";
import type { RenderReply, RenderRequest } from "./render_worker.ts";

/**
 * Starting worker threads costs about 0.1 s (two isolates loading the modules, measured with
 * Deno 2.9.6 on 2 cores), and two threads can at best halve the time: so threads are used only
 * when one thread would take at least this long, by {@linkcode singleThreadSeconds}'s model.
 */
export const MIN_SECONDS_FOR_WORKERS = 0.3;

/**
 * One thread's time for a run of the shapes family, everything on the main thread: the model
 * of `thread_plan.ts` (rendering, writing and hashing). Conservative for faster families.
 *
 * @param plan The number of images, their side and dtype.
 * @returns Seconds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { singleThreadSeconds } from "./worker_pool.ts";
 * const small = singleThreadSeconds({ numImages: 1000, imageSize: 16, dtype: "uint8" });
 * assert.ok(small < 0.01);
 * ```
 */
export function singleThreadSeconds(
  plan: { numImages: number; imageSize: number; dtype?: ImageDtype },
): number {
  return modelSeconds(
    { numImages: plan.numImages, imageSize: plan.imageSize, dtype: plan.dtype ?? "uint8" },
    { workers: 1, hashThread: false },
    1,
  );
}

/**
 * The fewest images for which a run uses worker threads, for an image side and dtype.
 *
 * @param imageSize The image side in pixels.
 * @param dtype The image dtype (default uint8).
 * @returns A number of images.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minImagesForWorkers } from "./worker_pool.ts";
 * assert.ok(minImagesForWorkers(256) < minImagesForWorkers(16));
 * ```
 */
export function minImagesForWorkers(imageSize: number, dtype: ImageDtype = "uint8"): number {
  return Math.ceil(
    MIN_SECONDS_FOR_WORKERS / singleThreadSeconds({ numImages: 1, imageSize, dtype }),
  );
}

/**
 * How many rendering threads a run uses: one (the main thread) for runs one thread finishes
 * in well under a second (see {@linkcode MIN_SECONDS_FOR_WORKERS}), else the requested number,
 * at most one per chunk.
 *
 * @param requested The `--workers` value.
 * @param plan The number of images, images per chunk, the image side and dtype.
 * @returns The number of threads; 1 means no worker threads.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { effectiveWorkers } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, dtype: "uint8" as const, chunkImages: 256 };
 * assert.ok(effectiveWorkers(8, { ...plan, numImages: 1000 }) === 1);
 * assert.ok(effectiveWorkers(2, { ...plan, numImages: 1_000_000 }) === 2);
 * ```
 */
export function effectiveWorkers(
  requested: number,
  plan: {
    numImages: number;
    chunkImages: number;
    generator: { imageSize: number };
    dtype?: ImageDtype;
  },
): number {
  const imageSize = plan.generator.imageSize;
  if (plan.numImages < minImagesForWorkers(imageSize, plan.dtype)) return 1;
  return Math.max(1, Math.min(requested, Math.ceil(plan.numImages / plan.chunkImages)));
}

/**
 * Render threads that outlive one archive: a run that writes several archives (a recipe's
 * splits) starts its threads once, not once per archive (about 0.1 s each time), and every
 * archive renders on them, however few its images. Threads that were stopped in the middle
 * of an archive are ended, not reused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { RenderThreads, workerSampleChunks } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * using threads = new RenderThreads(2);
 * for (const _archive of [1, 2]) {
 *   let samples = 0;
 *   for await (const chunk of workerSampleChunks(plan, {
 *     workers: threads.count,
 *     family: { name: "shapes", options: {} },
 *     threads,
 *   })) samples += chunk.numSamples;
 *   assert.equal(samples, 5);
 * }
 * assert.equal(threads.started, 2);
 * ```
 */
export class RenderThreads implements Disposable {
  /** The number of threads each archive renders on. */
  readonly count: number;
  #idle: Worker[] = [];
  #started = 0;

  /**
   * Threads to be started as archives need them.
   *
   * @param count The number of threads each archive renders on.
   */
  constructor(count: number) {
    this.count = count;
  }

  /** How many threads were started so far. */
  get started(): number {
    return this.#started;
  }

  /**
   * Threads to render one archive on: idle ones first, then new ones.
   *
   * @param count How many.
   * @returns The threads; give them back with {@linkcode RenderThreads.giveBack}.
   */
  take(count: number): Worker[] {
    return Array.from({ length: count }, () => {
      const idle = this.#idle.pop();
      if (idle !== undefined) return idle;
      this.#started++;
      return new Worker(new URL("./render_worker.ts", import.meta.url), { type: "module" });
    });
  }

  /**
   * Takes back threads an archive rendered on.
   *
   * @param workers The threads.
   * @param reusable Whether every request sent to them was answered; if not, they are ended.
   */
  giveBack(workers: Worker[], reusable: boolean): void {
    for (const worker of workers) {
      if (reusable) this.#idle.push(worker);
      else worker.terminate();
    }
  }

  /** Ends the idle threads. */
  [Symbol.dispose](): void {
    for (const worker of this.#idle.splice(0)) worker.terminate();
  }
}

/** Options of {@linkcode workerSampleChunks}. */
export interface WorkerPoolOptions {
  /** Number of worker threads. */
  workers: number;
  /** The plan's family: each worker imports and configures its own copy. */
  family: FamilyRef;
  /** Stops between chunks; the workers are terminated. */
  signal?: AbortSignal | undefined;
  /** Chunks requested ahead per worker (default 4). */
  aheadPerWorker?: number;
  /**
   * The dataset index of the plan's first image (default 0): a cluster slice renders the
   * images `firstImage .. firstImage + plan.numImages - 1` of its dataset.
   */
  firstImage?: number;
  /** Threads to render on, kept for the next archive; default: threads of this call's own. */
  threads?: RenderThreads | undefined;
}

interface Pending {
  resolve: (chunk: RenderReply) => void;
  reject: (error: Error) => void;
}

/**
 * The chunks of a plan, filled by worker threads, in order.
 *
 * @param plan What to generate.
 * @param options Worker count, family and abort signal.
 * @returns The chunks, every array of the schema, the first with its CRC-32 (computed by the
 *   workers), in sample order. A chunk's bytes are valid until the next chunk is requested:
 *   then its buffers go back to its worker to be filled again (they are detached here; copy
 *   bytes to keep them).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { workerSampleChunks } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * let samples = 0;
 * for await (const chunk of workerSampleChunks(plan, {
 *   workers: 2,
 *   family: { name: "shapes", options: {} },
 * })) {
 *   assert.equal(chunk.arrays.length, 3); // images, labels, latents
 *   samples += chunk.numSamples;
 * }
 * assert.equal(samples, 5);
 * ```
 */
export async function* workerSampleChunks(
  plan: DatasetPlan,
  options: WorkerPoolOptions,
): AsyncGenerator<SampleChunk> {
  const chunkCount = Math.ceil(plan.numImages / plan.chunkImages);
  const workerCount = Math.max(1, Math.min(options.workers, chunkCount));
  const ahead = workerCount * (options.aheadPerWorker ?? 4);
  const pending = new Map<number, Pending>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  const own = options.threads === undefined;
  const threads = options.threads ?? new RenderThreads(workerCount);
  const workers = threads.take(workerCount).map((worker) => {
    worker.onmessage = (event: MessageEvent<RenderReply | { id: number; error: string }>) => {
      const reply = event.data;
      const entry = pending.get(reply.id);
      pending.delete(reply.id);
      if (entry === undefined) return;
      if ("error" in reply) entry.reject(new Error(reply.error));
      else entry.resolve(reply);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failAll(new Error(`A render worker failed: ${event.message}`));
    };
    return worker;
  });
  // Buffers the caller is done with, per worker: sent back to be filled again, since
  // allocating fresh buffers per chunk (zeroed, page-faulted) cost as much as rendering them,
  // and fresh ones made on a worker's thread and freed on this one grew the workers' malloc
  // arenas with the run (1,000,000 16x16 images peaked at 113 MB, 30,000,000 at 128 MB).
  const spare: ArrayBuffer[][][] = workers.map(() => []);
  // The regions of a recipe's split, found here when the run was planned: shared, not found
  // again by each thread.
  const tables = familyTables();
  const render = (chunk: number) => {
    const start = chunk * plan.chunkImages;
    const buffers = spare[chunk % workerCount]!.pop();
    const message: RenderRequest = {
      buffers,
      id: chunk,
      family: options.family,
      imageSize: plan.generator.imageSize,
      seed: plan.seed,
      dtype: plan.dtype,
      start: (options.firstImage ?? 0) + start,
      count: Math.min(plan.chunkImages, plan.numImages - start),
      ...(chunk < workerCount && tables.length > 0 ? { tables } : {}),
    };
    return new Promise<RenderReply>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      pending.set(chunk, { resolve, reject });
      workers[chunk % workerCount]!.postMessage(message, buffers ?? []);
    });
  };
  const onAbort = () => failAll(options.signal?.reason ?? new Error("Aborted"));
  options.signal?.addEventListener("abort", onAbort);
  let finished = false;
  try {
    let chunk = 0;
    for await (
      const rendered of inOrder(chunkCount, { ahead, start: render, signal: options.signal })
    ) {
      const [first, ...rest] = rendered.arrays;
      yield {
        numSamples: rendered.numSamples,
        arrays: [{ bytes: first!, crc32: rendered.crc32 }, ...rest],
      };
      // The caller asked for the next chunk, so it is done with this one's bytes.
      const buffers = rendered.arrays.map((bytes) => bytes.buffer);
      if (
        buffers.every((buffer) => buffer instanceof ArrayBuffer) &&
        spare[chunk % workerCount]!.length < 2
      ) {
        spare[chunk % workerCount]!.push(buffers as ArrayBuffer[]);
      }
      chunk++;
    }
    finished = true;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    // Threads with requests under way would answer the next archive with this one's chunks.
    const reusable = !own && finished && pending.size === 0;
    for (const worker of workers) {
      worker.onmessage = null;
      worker.onerror = null;
    }
    threads.giveBack(workers, reusable);
  }
}
