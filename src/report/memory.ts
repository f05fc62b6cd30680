/**
 * Peak memory: the estimate printed before a run, and the measurement after it.
 *
 * "Peak memory" is the process's peak resident set size: `VmHWM` in `/proc/self/status`, the
 * figure `/usr/bin/time -v` reports as "Maximum resident set size". The estimate models what
 * the process holds; see {@linkcode estimatePeakMemory} for the parts and where each figure
 * comes from.
 *
 * @module
 */

import process from "node:process";
import { floatScratchBytes } from "../pipeline/render.ts";

/** What a run will hold in memory. */
export interface MemoryPlan {
  /** Number of images. */
  numImages: number;
  /** Side of the images in pixels. */
  imageSize: number;
  /** Images per chunk. */
  chunkImages: number;
  /** Bytes per stored pixel: 1 for uint8, 8 for float64. */
  bytesPerPixel: number;
  /**
   * Bytes of one sample over every array of the family's schema (`sampleBytes`), which chunk
   * buffers hold; default: one image, `imageSize² x bytesPerPixel`.
   */
  sampleBytes?: number;
  /** Rendering threads; 1 renders on the main thread. */
  workers: number;
  /** Whether SHA-256 runs on a thread of its own (`thread_plan.ts`). */
  hashThread?: boolean;
  /**
   * Whether uint8 images are rendered through a float buffer (8 bytes per pixel, a block of
   * images: `floatScratchBytes` in render.ts) on each rendering thread: families without
   * `renderBytes` (dsprites; shapes draws straight to bytes). Default false.
   */
  floatScratch?: boolean;
  /**
   * The run is a merge (`cluster/merge.ts`): it copies slice files through its own buffers
   * ({@linkcode MERGE_BUFFER_BYTES}) instead of rendering chunks. Default false.
   */
  merge?: boolean;
  /** The resident size of the process now, modules loaded (default: measured). */
  runtimeBytes?: number;
  /**
   * External renderers (`--generator-cmd`; then `workers` is 1: no threads in dsgen): the
   * number of processes, the peak resident memory of one, measured on a pilot request, and
   * the bytes per pixel of their answers (1, 4 or 8).
   */
  renderers?: { processes: number; peakBytes: number; answerBytesPerPixel: number };
}

/** The parts of an estimate, in whole bytes. */
export interface MemoryEstimate {
  /** The process as it is when the estimate is made: runtime and modules, measured. */
  runtime: number;
  /**
   * The worker threads' isolates and modules (or, without threads, the renderer's code and
   * heap on the main thread), and the hashing thread's.
   */
  workers: number;
  /** The writer's state and the chunk buffers in flight. */
  buffers: number;
  /** Dead buffers awaiting collection. */
  churn: number;
  /** External renderer processes (`--generator-cmd`), as measured on a pilot request. */
  renderers: number;
  /** The sum, the figure printed. */
  total: number;
}

// The constants below were measured with Deno 2.9.6 on Linux x86_64 (2 cores) by running
// grids of bench/memory_bench.ts and reading each part off the differences between runs;
// bench/memory_bench.ts re-checks the whole estimate against measured peaks.

/** Resident memory a worker thread adds: its V8 isolate, the rendering modules, its heap. */
const WORKER_BYTES = 11.5 * 1024 * 1024;
/**
 * What the hashing thread adds: an isolate like a worker's, without the rendering modules,
 * and its 4 MiB read buffer.
 */
const HASH_THREAD_BYTES = 15 * 1024 * 1024;
/**
 * What rendering on the main thread adds to the process measured before it (uint8 images,
 * no threads): the renderer's compiled code and heap, 4 MiB; 5 MiB more for a family drawn
 * through floats (dsprites). bench:memory, 2026-12-04: one-thread uint8 rows were 3-6% under
 * their measured peaks without it, the dsprites grid 10%.
 */
const MAIN_RENDER_BYTES = { bytes: 4 * 1024 * 1024, floats: 9 * 1024 * 1024 };
/** What writing adds to a warm process whatever the size: the writer's and the hash's state. */
const WRITER_BYTES = 4 * 1024 * 1024;
/**
 * The most dead buffers resident at once: the labels' and latents' chunks, message and promise
 * objects, the hash's input. Chunk buffers are reused (dataset.ts, worker_pool.ts), so this is
 * small; with worker threads, more (fitted when chunks went by message; runs through shared
 * memory stay 3-5 MB below the estimate at 16x16, not refitted). Below the cap,
 * the dead buffers grow with the bytes written and level off towards it.
 */
const CHURN_CAP_BYTES = { single: 6 * 1024 * 1024, threaded: 14 * 1024 * 1024 };
/**
 * float64 runs keep growing slowly past that cap, by up to about 24 MB over tens of GB, where
 * uint8 runs of as many chunks stay flat (bench:memory: 1,000,000 64x64 float64 images, 33 GB,
 * peaked at 115 MB on one render thread with the hashing thread against 91 MB for 100,000,
 * with synchronous writes; 110 MB against 93 MB with asynchronous ones): a second term,
 * levelling off over {@linkcode FLOAT_GROWTH_SCALE_BYTES}.
 */
const FLOAT_GROWTH_BYTES = 24 * 1024 * 1024;
const FLOAT_GROWTH_SCALE_BYTES = 8e9;
/**
 * Output chunks resident at once: one reused buffer on a single thread; per worker, up to 4
 * requested ahead, spare buffers on their way back and the one being written, of which about
 * 5 are resident at the peak (fitted to bench:memory).
 */
const CHUNKS_IN_FLIGHT = { single: 1, perWorker: 5 };
/**
 * Answers resident in dsgen per renderer process: of the 4 requested ahead (renderer/chunks.ts)
 * the renderer draws one at a time, so dsgen holds the one being read and the one being
 * written.
 */
const ANSWERS_RESIDENT = 2;
/**
 * The most dead answer buffers of external renderers resident at once: every answer is a new
 * buffer read from a pipe, and float answers are converted into yet another, unlike the reused
 * chunks of dsgen's own renderers. Fitted to bench/renderer_bench.ts (16x16 and 64x64, uint8
 * and float32 answers, 1 and 2 processes).
 */
const ANSWER_CHURN_CAP_BYTES = { stored: 32 * 1024 * 1024, converted: 64 * 1024 * 1024 };
/**
 * What a renderer holds beyond its peak after the pilot request, in answers: during a run it
 * builds the next answer while the last one is still being written (fitted as above).
 */
const RENDERER_EXTRA_ANSWERS = 2;

/**
 * The merge's own buffers (`cluster/merge.ts`): three 4 MiB pieces of the slice files, read in
 * turn, and one 4 MiB piece of the labels or latents.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MERGE_BUFFER_BYTES } from "./memory.ts";
 * assert.equal(MERGE_BUFFER_BYTES, 16 * 1024 * 1024);
 * ```
 */
export const MERGE_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * Estimates the peak resident memory of a run.
 *
 * The runtime part is measured, not guessed: it is the process's resident size when the
 * estimate is made, with every module loaded. On top come the worker isolates, the writer's
 * state, the chunk buffers in flight between renderers and the file (reused, not reallocated),
 * a float buffer per rendering thread for a family drawn through floats, and the dead buffers
 * that pile up between two collections, growing with the bytes written towards a cap. Worker
 * threads take their chunks through shared memory, not messages (`worker_pool.ts`): a message
 * per chunk left Deno 2.9.6 about 600 bytes resident for good, which grew with the run.
 *
 * @param plan The run's size, chunking, dtype width and workers.
 * @returns The estimate and its parts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimatePeakMemory } from "./memory.ts";
 * const estimate = estimatePeakMemory({
 *   numImages: 1000, imageSize: 16, chunkImages: 256, bytesPerPixel: 1, workers: 1,
 * });
 * assert.ok(estimate.total > estimate.runtime);
 * ```
 */
export function estimatePeakMemory(plan: MemoryPlan): MemoryEstimate {
  const area = plan.imageSize * plan.imageSize;
  const perSample = plan.sampleBytes ?? area * plan.bytesPerPixel;
  const outputChunk = plan.chunkImages * perSample;
  const threaded = plan.workers > 1;
  const runtime = plan.runtimeBytes ?? Deno.memoryUsage().rss;
  const mainRenders = !threaded && plan.merge !== true && plan.renderers === undefined &&
    plan.bytesPerPixel === 1;
  const workers = (threaded ? plan.workers * WORKER_BYTES : 0) +
    (mainRenders
      ? (plan.floatScratch === true ? MAIN_RENDER_BYTES.floats : MAIN_RENDER_BYTES.bytes)
      : 0) +
    (plan.hashThread === true ? HASH_THREAD_BYTES : 0);
  const imageBytes = plan.numImages * perSample;
  const mode = threaded ? "threaded" : "single";
  const chunks = threaded ? plan.workers * CHUNKS_IN_FLIGHT.perWorker : CHUNKS_IN_FLIGHT.single;
  // A family drawn through floats keeps a block of float images per rendering thread.
  const scratch = plan.floatScratch === true && plan.bytesPerPixel === 1 && plan.merge !== true
    ? plan.workers *
      floatScratchBytes(plan.imageSize, Math.min(plan.chunkImages, plan.numImages))
    : 0;
  const buffers = WRITER_BYTES + scratch +
    (plan.merge === true ? MERGE_BUFFER_BYTES : Math.min(chunks * outputChunk, imageBytes));
  const cap = CHURN_CAP_BYTES[mode];
  // Whole bytes: the estimate is recorded in metadata.json, where a fraction of a byte is noise.
  let churn = cap * (1 - Math.exp(-imageBytes / cap));
  if (plan.bytesPerPixel === 8) {
    churn += FLOAT_GROWTH_BYTES * (1 - Math.exp(-imageBytes / FLOAT_GROWTH_SCALE_BYTES));
  }
  let answers = 0;
  const external = plan.renderers;
  if (external !== undefined) {
    const answerBytes = plan.numImages * area * external.answerBytesPerPixel;
    const answerChunk = plan.chunkImages * area * external.answerBytesPerPixel;
    answers = Math.min(ANSWERS_RESIDENT * external.processes * answerChunk, answerBytes);
    const answerCap = external.answerBytesPerPixel === plan.bytesPerPixel
      ? ANSWER_CHURN_CAP_BYTES.stored
      : ANSWER_CHURN_CAP_BYTES.converted;
    churn += answerCap * (1 - Math.exp(-answerBytes / answerCap));
  }
  // Whole bytes: the estimate is recorded in metadata.json, where a fraction of a byte is noise.
  churn = Math.round(churn);
  const allBuffers = buffers + answers;
  const renderers = external === undefined ? 0 : external.processes *
    (external.peakBytes +
      RENDERER_EXTRA_ANSWERS * plan.chunkImages * area * external.answerBytesPerPixel);
  return {
    runtime,
    workers,
    buffers: allBuffers,
    churn,
    renderers,
    total: runtime + workers + allBuffers + churn + renderers,
  };
}

/**
 * The peak of a cluster slice that may complete the run and merge it in the same process:
 * what the slice grew to, plus the merge's buffers and hashing thread. The process keeps what
 * the slice grew to, its render threads' memory included: after a slice of 333,333 dsprites
 * 16x16 images on 2 threads (estimated 112.9 MB, 23 MB of it the threads), the merge's plan
 * measured the process at 100.2 MB, not the 89.9 MB left without the threads, and peaked at
 * 118.5 MB; a slice of a recipe's two splits (estimated 145.0 MB) merged at a 155.4 MB peak
 * (2026-12-05, `/usr/bin/time -v`). Less than this, subtracting the threads, fell short of both.
 *
 * @param slice The slice's estimate ({@linkcode estimatePeakMemory} of the slice's plan).
 * @param merge Whether the merged archive is hashed on a thread of its own (the merge's plan).
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimatePeakMemory, estimateSliceThenMerge } from "./memory.ts";
 * const slice = estimatePeakMemory({
 *   numImages: 5_000_000, imageSize: 16, chunkImages: 4096, bytesPerPixel: 1, workers: 1,
 * });
 * assert.ok(estimateSliceThenMerge(slice, { hashThread: true }) > slice.total);
 * ```
 */
export function estimateSliceThenMerge(
  slice: MemoryEstimate,
  merge: { hashThread: boolean },
): number {
  return slice.total + MERGE_BUFFER_BYTES + (merge.hashThread ? HASH_THREAD_BYTES : 0);
}

/**
 * The process's peak resident set size so far: `VmHWM` in `/proc/<pid>/status` (read with
 * `cat` where Deno refuses to read it: it asks for `--allow-all`), else `getrusage`'s
 * `ru_maxrss`, the figure `/usr/bin/time -v` prints. On Linux, `ru_maxrss` keeps the peak of
 * the process that started this one when that one forked and exec'd it: started from a 1 GB
 * Python process, a 65 MB run recorded a 1014 MB peak. `VmHWM` starts afresh with the program.
 *
 * @returns Bytes, or undefined where the figure cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { measuredPeakMemory } from "./memory.ts";
 * const peak = measuredPeakMemory();
 * assert.ok(peak === undefined || peak > 0);
 * ```
 */
export function measuredPeakMemory(): number | undefined {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(ownStatus() ?? "")?.[1];
  if (hwm !== undefined) return Number(hwm) * 1024;
  try {
    // Node's API (which Deno implements) documents maxRSS in kilobytes on every platform.
    return process.resourceUsage().maxRSS * 1024;
  } catch {
    return undefined;
  }
}

function ownStatus(): string | undefined {
  if (Deno.build.os !== "linux") return undefined;
  const path = `/proc/${Deno.pid}/status`;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    // Deno 2 reads /proc only with --allow-all; --allow-run lets cat read it.
  }
  try {
    const output = new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .outputSync();
    return output.success ? new TextDecoder().decode(output.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Formats bytes in decimal megabytes, as the plan and summary print them.
 *
 * @param bytes A size.
 * @returns For example `74.2 MB`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMegabytes } from "./memory.ts";
 * assert.ok(formatMegabytes(74_200_000) === "74.2 MB");
 * ```
 */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
