/**
 * How a run uses the cores: how many threads render, and whether SHA-256 gets a thread of its
 * own ({@linkcode ThreadHasher}), chosen by a model of where the time goes.
 *
 * The model's constants were measured with Deno 2.9.6 on this project's 2-core virtual machine
 * (CPU seconds, output on tmpfs; bench/results/2026-12-04-plan-notes.md). Per image, rendering costs about
 * 0.08 µs per pixel of the image side (shapes: 1.3 µs per 16x16 image, 20 µs per 256x256), and
 * a family without a byte path (`renderBytes`) renders floats and quantizes them: 1.7 ns more
 * per pixel (the dsprites grid at 64x64: 12.1 µs an image against shapes' 4.3 µs); float64
 * adds 0.16 ns per byte. Per byte written: the CRC-32 (0.3 ns, on the rendering thread), the
 * copy into the file (0.35 ns, main thread) and SHA-256 (0.55 ns, main thread unless a hashing
 * thread reads the bytes back, 0.2 ns, and hashes them).
 *
 * A run lasts as long as its busiest thread, and at least its total work over the machine's
 * parallel capacity; worker threads start side by side in 0.1 s, a hashing thread in 0.025 s.
 * Two figures are fitted to whole runs rather than measured alone: the pool is charged 0.5 ns
 * per byte it hands over (rendering alone through the pool costs 0.3-0.7 ns per byte more than
 * on the main thread), and each core after the first counts 0.8 of a core. Fitted to the
 * recorded bench run of 2026-12-04 on a quiet machine (bench/results/2026-12-04.md): the
 * dsprites grid at 64x64 took 8.3-8.6 s on two render threads against 10.9-11.5 s on the main
 * thread with a hashing thread (modelled 7.9 against 10.9), 20,000 256x256 images 1.45-1.56 s
 * against 1.11-1.24 s (modelled 1.57 against 1.29). An earlier fit, 2.3 ns per byte, was made
 * on a machine whose cores other work kept busy, where a second render thread buys little; it
 * kept the grid on one render thread, 1.3x slower here. A plan with more threads is chosen
 * only when modelled at least 10% faster: within that, the fewer threads are as fast within
 * the machine's noise and cost less CPU (two render threads cost 8-26% more CPU seconds than
 * one, measured).
 *
 * With these, 16x16 images and the dsprites grid render on every core with SHA-256 on the
 * main thread; 100,000 64x64 images and 256x256 images on the main thread with a hashing
 * thread.
 * `deno task bench` prints the default plan against `--workers 1` and `--workers 2`.
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
  /**
   * Whether the family renders uint8 images straight to bytes (`renderBytes`; default true):
   * without, it renders floats and quantizes them, which costs more per pixel.
   */
  bytePath?: boolean;
  /**
   * Bytes each sample writes over every array, for a family with its own schema (default: the
   * image's bytes). Writing, CRC-32, handing over and hashing cost per byte, and a scene of
   * 64x64 colored_on_colored writes 12 times its image's bytes.
   */
  sampleBytes?: number;
}

/** A way to run: render threads (1: the main thread) and where SHA-256 runs. */
export interface ThreadPlan {
  /** Threads that render; 1 renders on the main thread. */
  workers: number;
  /** Whether SHA-256 runs on a thread of its own. */
  hashThread: boolean;
}

const RENDER_SECONDS_PER_SIDE_PIXEL = 0.08e-6;
const FLOAT_PATH_SECONDS_PER_PIXEL = 1.7e-9;
const FLOAT_RENDER_SECONDS_PER_BYTE = 0.16e-9;
const CRC_SECONDS_PER_BYTE = 0.3e-9;
const WRITE_SECONDS_PER_BYTE = 0.35e-9;
const HASH_SECONDS_PER_BYTE = 0.55e-9;
const READ_BACK_SECONDS_PER_BYTE = 0.2e-9;
const POOL_SECONDS_PER_BYTE = 0.5e-9;
const POOL_START_SECONDS = 0.1;
const HASH_THREAD_START_SECONDS = 0.025;
/** The work a core after the first adds, in cores (see the module's doc). */
const EXTRA_CORE_CAPACITY = 0.8;
/** A plan with more threads must be modelled this much faster to be chosen. */
const MORE_THREADS_MARGIN = 0.9;

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
  const pixels = work.numImages * work.imageSize ** 2;
  const bytes = work.sampleBytes === undefined
    ? pixels * bytesPerPixel(work.dtype)
    : work.numImages * work.sampleBytes;
  const pool = plan.workers > 1;
  const render = work.numImages * work.imageSize * RENDER_SECONDS_PER_SIDE_PIXEL +
    (work.dtype === "float64" ? bytes * FLOAT_RENDER_SECONDS_PER_BYTE : 0) +
    (work.dtype === "uint8" && work.bytePath === false
      ? pixels * FLOAT_PATH_SECONDS_PER_PIXEL
      : 0) +
    bytes * CRC_SECONDS_PER_BYTE + (pool ? bytes * POOL_SECONDS_PER_BYTE : 0);
  const hash = bytes * HASH_SECONDS_PER_BYTE;
  const hasher = plan.hashThread ? hash + bytes * READ_BACK_SECONDS_PER_BYTE : 0;
  const main = bytes * WRITE_SECONDS_PER_BYTE + (plan.hashThread ? 0 : hash) +
    (pool ? 0 : render);
  const perWorker = pool ? render / plan.workers : 0;
  const total = main + hasher + (pool ? render : 0);
  const capacity = 1 + (Math.max(1, cores) - 1) * EXTRA_CORE_CAPACITY;
  // Workers start side by side, while the main thread opens the archive.
  const start = (pool ? POOL_START_SECONDS : 0) +
    (plan.hashThread ? HASH_THREAD_START_SECONDS : 0);
  return Math.max(main, hasher, perWorker, total / capacity) + start;
}

/**
 * Picks the fastest way to run by {@linkcode modelSeconds}: one render thread or the allowed
 * number, with or without a hashing thread (only where a core is left for it); a plan with
 * more threads only when the model says it is at least 10% faster.
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
