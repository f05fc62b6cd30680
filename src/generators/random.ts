/**
 * Counter-based random numbers: the draws of image i are a pure function of (seed, i, k).
 *
 * A counter-based generator (each value is a hash of its coordinates) lets any image be
 * re-rendered alone and lets workers split the work anyhow without changing a byte. The hash is
 * the "lowbias32" integer finalizer (Chris Wellons' hash-prospector), applied to a Weyl
 * sequence; it uses only 32-bit integer arithmetic, so it is exact on every machine.
 *
 * @module
 */

const GOLDEN_GAMMA = 0x9e3779b9;

/**
 * Mixes a 32-bit integer into a well-distributed 32-bit integer.
 *
 * @param value Any integer; only its low 32 bits count.
 * @returns An unsigned 32-bit integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mix32 } from "./random.ts";
 * assert.ok(mix32(1) !== mix32(2));
 * ```
 */
export function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The key of image `index` under `seed`: every draw of that image derives from it.
 *
 * @param seed The dataset seed, 0 to 2^32 - 1.
 * @param index The image index, 0 to 2^32 - 1.
 * @returns An unsigned 32-bit key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageKey } from "./random.ts";
 * assert.ok(imageKey(42, 0) !== imageKey(42, 1));
 * ```
 */
export function imageKey(seed: number, index: number): number {
  return mix32(mix32(seed ^ 0x5bd1e995) ^ mix32((index + GOLDEN_GAMMA) | 0));
}

/**
 * The k-th uniform draw in [0, 1) for the image with key `key`.
 *
 * @param key The image's key from {@linkcode imageKey}.
 * @param draw The draw's number, 0, 1, 2, ...
 * @returns A multiple of 2^-32 in [0, 1).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageKey, uniform } from "./random.ts";
 * const value = uniform(imageKey(42, 7), 0);
 * assert.ok(value >= 0 && value < 1);
 * ```
 */
export function uniform(key: number, draw: number): number {
  return mix32(key + Math.imul(draw + 1, GOLDEN_GAMMA)) / 4294967296;
}
