/**
 * Drawing distinct image indices at random, reproducibly from a seed, without touching the
 * images: the samples `dsgen inspect` shows and `dsgen verify` re-renders.
 *
 * Robert Floyd's algorithm draws k distinct values from [0, n) with exactly k random draws and a
 * set of k values, so its cost does not grow with the dataset. The draws come from the same
 * counter-based hash as the generators (`random.ts`), on a stream of their own.
 *
 * @module
 */

import { mix32, uniform } from "../generators/random.ts";

/** Salt that separates the sampling stream from the generators' per-image streams. */
const SAMPLING_SALT = 0x5a4d91c3;

/**
 * Draws `count` distinct indices from `0 .. numImages - 1`, sorted ascending.
 *
 * @param numImages The number of images, 0 to 2^32.
 * @param seed The sampling seed, 0 to 2^32 - 1; the same seed gives the same indices.
 * @param options `count`: how many indices (default 100; all images when there are fewer).
 * @returns The indices, ascending.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawSampleIndices } from "./sample_indices.ts";
 *
 * const indices = drawSampleIndices(1000, 7, { count: 10 });
 * assert.equal(new Set(indices).size, 10);
 * assert.deepEqual(indices, drawSampleIndices(1000, 7, { count: 10 }));
 * assert.deepEqual(drawSampleIndices(3, 7), [0, 1, 2]);
 * ```
 */
export function drawSampleIndices(
  numImages: number,
  seed: number,
  options: { count?: number } = {},
): number[] {
  const count = Math.min(options.count ?? 100, numImages);
  if (!Number.isSafeInteger(numImages) || numImages < 0 || numImages > 2 ** 32) {
    throw new RangeError(`Cannot sample from ${numImages} images: expected 0 to 2^32`);
  }
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`Cannot draw ${count} samples: expected a whole number`);
  }
  const key = mix32(seed ^ SAMPLING_SALT);
  const chosen = new Set<number>();
  for (let upper = numImages - count, draw = 0; upper < numImages; upper++, draw++) {
    const candidate = Math.floor(uniform(key, draw) * (upper + 1));
    chosen.add(chosen.has(candidate) ? upper : candidate);
  }
  return [...chosen].sort((a, b) => a - b);
}
