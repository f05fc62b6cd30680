/**
 * How a run uses the cores: how many threads render, and whether SHA-256 gets a thread of its
 * own ({@linkcode ThreadHasher}), chosen by a model of where the time goes.
 *
 * The model (constants measured with Deno 2.9.6 on this project's 2-core machine, shapes
 * family, output on tmpfs): rendering costs about 0.10 µs per pixel of the image side per
 * image (1.8 µs per 16x16 image, 26 µs per 256x256, /tmp/exp-style loops over
 * `renderImageBytes` on one thread), plus 0.16 ns per byte through the float path of float64;
 * the main thread copies each byte into the file (0.35 ns) and, unless a hashing thread does
 * it, hashes it (0.55 ns, SHA-256 with the CPU's SHA instructions); a hashing thread reads the
 * bytes back (0.2 ns) and hashes them. A run lasts as long as its busiest thread, and at least
 * its total work shared over the cores; each render thread costs 0.05 s to start, the hashing
 * thread 0.025 s.
 *
 * With these, 20,000 256x256 images run on one render thread with a hashing thread (hashing
 * 1.3 GB is then as long as rendering and writing it), 16x16 and 64x64 images on every core
 * with SHA-256 on the main thread. `deno task bench` prints the default plan's time next to
 * `--workers 1` and every core.
 *
 * @module
 */

import { usesHashThread } from "./file_hasher.ts";
import { bytesPerPixel, type ImageDtype } from "./render.ts";

/** The run, as the model needs it. */
export interface ThreadWork {
  /** Number of images. */
  numImages: number;
  /** The image side in pixels. */
  imageSize: number;
  /** The image dtype. */
  dtype: ImageDtype;
}

/** A way to run: render threads (1: the main thread) and where SHA-256 runs. */
export interface ThreadPlan {
  /** Threads that render; 1 renders on the main thread. */
  workers: number;
  /** Whether SHA-256 runs on a thread of its own. */
  hashThread: boolean;
}

const RENDER_SECONDS_PER_SIDE_PIXEL = 0.10e-6;
const FLOAT_RENDER_SECONDS_PER_BYTE = 0.16e-9;
const WRITE_SECONDS_PER_BYTE = 0.35e-9;
const HASH_SECONDS_PER_BYTE = 0.55e-9;
const READ_BACK_SECONDS_PER_BYTE = 0.2e-9;
const WORKER_START_SECONDS = 0.05;
const HASH_THREAD_START_SECONDS = 0.025;
/** A plan with more threads must be modelled this much faster to be chosen. */
const MORE_THREADS_MARGIN = 0.95;

/**
 * The model's time for a way to run, in seconds.
 *
 * @param work The number of images, their side and dtype.
 * @param plan Render threads and hashing thread.
 * @param cores The cores the run may use.
 * @returns Seconds, without the process's start.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelSeconds } from "./thread_plan.ts";
 * const work = { numImages: 20_000, imageSize: 256, dtype: "uint8" as const };
 * const inline = modelSeconds(work, { workers: 1, hashThread: false }, 2);
 * assert.ok(modelSeconds(work, { workers: 1, hashThread: true }, 2) < inline);
 * ```
 */
export function modelSeconds(work: ThreadWork, plan: ThreadPlan, cores: number): number {
  const bytes = work.numImages * work.imageSize ** 2 * bytesPerPixel(work.dtype);
  const render = work.numImages * work.imageSize * RENDER_SECONDS_PER_SIDE_PIXEL +
    (work.dtype === "float64" ? bytes * FLOAT_RENDER_SECONDS_PER_BYTE : 0);
  const hash = bytes * HASH_SECONDS_PER_BYTE;
  const hasher = plan.hashThread ? hash + bytes * READ_BACK_SECONDS_PER_BYTE : 0;
  const main = bytes * WRITE_SECONDS_PER_BYTE + (plan.hashThread ? 0 : hash) +
    (plan.workers === 1 ? render : 0);
  const perWorker = plan.workers === 1 ? 0 : render / plan.workers;
  const total = main + hasher + (plan.workers === 1 ? 0 : render);
  const start = (plan.workers === 1 ? 0 : plan.workers * WORKER_START_SECONDS) +
    (plan.hashThread ? HASH_THREAD_START_SECONDS : 0);
  return Math.max(main, hasher, perWorker, total / Math.max(1, cores)) + start;
}

/**
 * Picks the fastest way to run by {@linkcode modelSeconds}: one render thread or the allowed
 * number, with or without a hashing thread (only where a core is left for it); a plan with
 * more threads only when the model says it is at least 5% faster.
 *
 * @param work The number of images, their side and dtype.
 * @param options `workers`: the render threads allowed (after the small-run rule of
 *   `effectiveWorkers`); `fixed`: the user chose them (`--workers`), so only the hashing
 *   thread is decided; `cores`: the cores the run may use; `archiveBytes`: the file to hash
 *   (a hashing thread only for large files, see `usesHashThread`).
 * @returns The plan.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseThreadPlan } from "./thread_plan.ts";
 * const work = { numImages: 20_000, imageSize: 256, dtype: "uint8" as const };
 * const options = { workers: 2, fixed: false, cores: 2, archiveBytes: 1.3e9 };
 * assert.deepEqual(chooseThreadPlan(work, options), { workers: 1, hashThread: true });
 * ```
 */
export function chooseThreadPlan(
  work: ThreadWork,
  options: { workers: number; fixed: boolean; cores: number; archiveBytes: number },
): ThreadPlan {
  const counts = options.fixed || options.workers === 1 ? [options.workers] : [1, options.workers];
  // A hashing thread only on a core no render thread needs: three busy threads on two cores
  // gained little in the model and cost 18 MB more at the peak (146 MB against 124 MB for
  // 1,000,000 64x64 float64 images, bench:memory).
  const candidates = counts.flatMap((workers) =>
    workers < options.cores && usesHashThread(options.archiveBytes)
      ? [{ workers, hashThread: false }, { workers, hashThread: true }]
      : [{ workers, hashThread: false }]
  );
  let best = candidates[0]!;
  let bestSeconds = modelSeconds(work, best, options.cores);
  for (const candidate of candidates.slice(1)) {
    const seconds = modelSeconds(work, candidate, options.cores);
    if (seconds < bestSeconds * MORE_THREADS_MARGIN) {
      best = candidate;
      bestSeconds = seconds;
    }
  }
  return best;
}
