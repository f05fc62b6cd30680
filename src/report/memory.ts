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

/** What a run holds in memory, apart from the runtime. */
export interface MemoryPlan {
  /** Side of the images in pixels. */
  imageSize: number;
  /** Images per chunk. */
  chunkImages: number;
  /** Bytes per stored pixel: 1 for uint8, 8 for float64. */
  bytesPerPixel: number;
  /** Rendering threads; 1 renders on the main thread. */
  workers: number;
}

/** The parts of an estimate, in bytes. */
export interface MemoryEstimate {
  /** The Deno runtime with dsgen's modules loaded and warmed up. */
  runtime: number;
  /** The worker threads' isolates (zero with one worker). */
  workers: number;
  /** Chunk buffers: floats being rendered, bytes being written, chunks in flight. */
  buffers: number;
  /** The sum, the figure printed. */
  total: number;
}

// Measured on Linux x86_64 with Deno 2.9.6 (bench/memory_bench.ts prints the fit): the RSS of
// `dsgen generate` for a tiny dataset with one worker, and the RSS each extra worker adds.
const RUNTIME_BYTES = 56 * 1024 * 1024;
const WORKER_BYTES = 14 * 1024 * 1024;

/**
 * Estimates the peak resident memory of a run.
 *
 * @param plan Image size, chunking, dtype width and workers.
 * @returns The estimate and its parts.
 * @example
 * ```ts
 * import { estimatePeakMemory } from "./memory.ts";
 * const estimate = estimatePeakMemory({ imageSize: 16, chunkImages: 1024, bytesPerPixel: 1, workers: 1 });
 * console.assert(estimate.total > estimate.runtime);
 * ```
 */
export function estimatePeakMemory(plan: MemoryPlan): MemoryEstimate {
  const area = plan.imageSize * plan.imageSize;
  const floats = plan.chunkImages * area * 8;
  const output = plan.chunkImages * area * plan.bytesPerPixel;
  const workers = plan.workers > 1 ? plan.workers * WORKER_BYTES : 0;
  // Each renderer holds a float chunk and its output; the writer holds the chunks in flight.
  const renderers = Math.max(1, plan.workers);
  const buffers = renderers * (floats + output) + 2 * renderers * output;
  return { runtime: RUNTIME_BYTES, workers, buffers, total: RUNTIME_BYTES + workers + buffers };
}

/**
 * The process's peak resident set size so far: `getrusage`'s `ru_maxrss`, the figure
 * `/usr/bin/time -v` prints. (Deno does not let a program read `/proc/self/status`.)
 *
 * @returns Bytes, or undefined where the figure cannot be read.
 * @example
 * ```ts
 * import { measuredPeakMemory } from "./memory.ts";
 * const peak = measuredPeakMemory();
 * console.assert(peak === undefined || peak > 0);
 * ```
 */
export function measuredPeakMemory(): number | undefined {
  try {
    // Node's API (which Deno implements) documents maxRSS in kilobytes on every platform.
    return process.resourceUsage().maxRSS * 1024;
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
 * import { formatMegabytes } from "./memory.ts";
 * console.assert(formatMegabytes(74_200_000) === "74.2 MB");
 * ```
 */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
