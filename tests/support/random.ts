/**
 * A small seeded random source for tests that draw many shapes: every run tests the same ones.
 *
 * @module
 */

/**
 * A seeded generator (mulberry32) of numbers in [0, 1).
 *
 * @param seed Any integer.
 * @returns The next number at each call.
 */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
