/**
 * Rendering on every core: worker threads render chunks while the caller writes them in order.
 *
 * Chunks are handed out round-robin, a few per worker ahead of the writer, and yielded in
 * index order. Since image i depends only on (seed, i), the bytes are the same for any number
 * of workers, including one.
 *
 * @module
 */

import type { FamilyRef } from "../generators/spec.ts";
import type { DatasetPlan } from "./dataset.ts";
import type { RenderRequest } from "./render_worker.ts";

/** Below this many images, starting threads costs more time than it saves. */
export const MIN_IMAGES_FOR_WORKERS = 20_000;

/**
 * How many rendering threads a run uses: one (the main thread) for small runs, else the
 * requested number, at most one per chunk.
 *
 * @param requested The `--workers` value.
 * @param plan The number of images and images per chunk.
 * @returns The number of threads; 1 means no worker threads.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveWorkers } from "./worker_pool.ts";
 * assert.ok(effectiveWorkers(8, { numImages: 1000, chunkImages: 256 }) === 1);
 * assert.ok(effectiveWorkers(2, { numImages: 100_000, chunkImages: 256 }) === 2);
 * ```
 */
export function effectiveWorkers(
  requested: number,
  plan: { numImages: number; chunkImages: number },
): number {
  if (plan.numImages < MIN_IMAGES_FOR_WORKERS) return 1;
  return Math.max(1, Math.min(requested, Math.ceil(plan.numImages / plan.chunkImages)));
}

/** Options of {@linkcode workerImageChunks}. */
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
}

interface Pending {
  resolve: (bytes: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * The image chunks of a plan, rendered by worker threads, in order.
 *
 * @param plan What to generate.
 * @param options Worker count, generator name and abort signal.
 * @returns The chunks' bytes, in image order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { workerImageChunks } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * let bytes = 0;
 * for await (const chunk of workerImageChunks(plan, {
 *   workers: 2,
 *   family: { name: "shapes", options: {} },
 * })) {
 *   bytes += chunk.length;
 * }
 * assert.ok(bytes === 5 * 64);
 * ```
 */
export async function* workerImageChunks(
  plan: DatasetPlan,
  options: WorkerPoolOptions,
): AsyncGenerator<Uint8Array> {
  const chunkCount = Math.ceil(plan.numImages / plan.chunkImages);
  const workerCount = Math.max(1, Math.min(options.workers, chunkCount));
  const ahead = workerCount * (options.aheadPerWorker ?? 4);
  const pending = new Map<number, Pending>();
  const results = new Map<number, Promise<Uint8Array>>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  const workers = Array.from({ length: workerCount }, () => {
    const worker = new Worker(new URL("./render_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (
      event: MessageEvent<{ id: number; bytes?: Uint8Array; error?: string }>,
    ) => {
      const { id, bytes, error } = event.data;
      const entry = pending.get(id);
      pending.delete(id);
      if (entry === undefined) return;
      if (bytes === undefined) entry.reject(new Error(error ?? "A render worker failed"));
      else entry.resolve(bytes);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failAll(new Error(`A render worker failed: ${event.message}`));
    };
    return worker;
  });
  let next = 0;
  const request = (chunk: number) => {
    const start = chunk * plan.chunkImages;
    const message: RenderRequest = {
      id: chunk,
      family: options.family,
      imageSize: plan.generator.imageSize,
      seed: plan.seed,
      dtype: plan.dtype,
      start: (options.firstImage ?? 0) + start,
      count: Math.min(plan.chunkImages, plan.numImages - start),
    };
    const result = new Promise<Uint8Array>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      pending.set(chunk, { resolve, reject });
      workers[chunk % workerCount]!.postMessage(message);
    });
    // A signal rejects every chunk in flight at once, while the caller awaits at most one:
    // the others must not count as unhandled rejections, which end the process before its
    // cleanup runs. The caller still sees the rejection of the chunk it awaits.
    result.catch(() => {});
    results.set(chunk, result);
  };
  const onAbort = () => failAll(options.signal?.reason ?? new Error("Aborted"));
  options.signal?.addEventListener("abort", onAbort);
  try {
    for (; next < Math.min(ahead, chunkCount); next++) request(next);
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      options.signal?.throwIfAborted();
      const bytes = await results.get(chunk)!;
      results.delete(chunk);
      if (next < chunkCount) request(next++);
      yield bytes;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    for (const worker of workers) worker.terminate();
    // Rejections of chunks nobody awaits any more must not surface as unhandled.
    for (const result of results.values()) result.catch(() => {});
  }
}
