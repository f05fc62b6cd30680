/**
 * Counting exact duplicate images in one streaming pass plus a few random reads.
 *
 * Each image is hashed to a 53-bit key as it streams by; only the keys are kept (8 bytes an
 * image, less than the smallest image). Afterwards the keys are sorted, images with equal keys
 * become candidates, and candidates are compared byte by byte (read again by index), so hash
 * collisions never count as duplicates: the count is exact.
 *
 * @module
 */

import { mix32 } from "../generators/random.ts";

/** Duplicates found among the images. */
export interface DuplicateSummary {
  /** Images equal to an earlier image (a group of 3 equal images counts 2). */
  count: number;
  /** Sets of two or more equal images. */
  groups: number;
  /** Up to 10 pairs `[first, duplicate]` of image indices. */
  examples: [number, number][];
}

const MAX_EXAMPLES = 10;
const TWO_POW_21 = 2 ** 21;

/**
 * A 53-bit hash of an image's bytes: two 32-bit multiply-rotate hashes, combined.
 *
 * @param bytes The image's bytes.
 * @returns An integer from 0 to 2^53 - 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashImage } from "./duplicates.ts";
 *
 * assert.equal(hashImage(new Uint8Array([1, 2, 3])), hashImage(new Uint8Array([1, 2, 3])));
 * assert.notEqual(hashImage(new Uint8Array([1, 2, 3])), hashImage(new Uint8Array([3, 2, 1])));
 * ```
 */
export function hashImage(bytes: Uint8Array): number {
  const words = bytes.byteOffset % 4 === 0 ? bytes.length >>> 2 : 0;
  const view = words > 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, words)
    : new Uint32Array(0);
  return hashWords(bytes, view, 0, bytes.length, words);
}

/**
 * {@linkcode hashImage} of `bytes[start, start + length)`, whose first `words` 32-bit words are
 * `view[start / 4 ...]` (0 when `start` is not aligned): no view made per image.
 */
function hashWords(
  bytes: Uint8Array,
  view: Uint32Array,
  start: number,
  length: number,
  words: number,
): number {
  let h1 = 0x811c9dc5 ^ length, h2 = 0x2545f491 ^ length;
  const first = start >>> 2;
  for (let index = first; index < first + words; index++) {
    const word = view[index]!;
    h1 = Math.imul(h1 ^ word, 0x9e3779b1);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 ^ word, 0x85ebca77);
    h2 = (h2 << 17) | (h2 >>> 15);
  }
  for (let index = words * 4; index < length; index++) {
    const byte = bytes[start + index]! + 0x100 * (index + 1);
    h1 = Math.imul(h1 ^ byte, 0x9e3779b1);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 ^ byte, 0x85ebca77);
    h2 = (h2 << 17) | (h2 >>> 15);
  }
  h1 = mix32(h1);
  h2 = mix32(h2 ^ h1);
  return (h1 >>> 0) * TWO_POW_21 + (h2 >>> 11);
}

/** Collects image hashes by index, then finds the exact duplicates. */
export class DuplicateFinder {
  #keys: Float64Array;

  /**
   * Prepares room for the keys of `numImages` images.
   *
   * @param numImages The number of images.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DuplicateFinder } from "./duplicates.ts";
   *
   * const images = [[1, 2], [3, 4], [1, 2]].map((pixels) => new Uint8Array(pixels));
   * const finder = new DuplicateFinder(images.length);
   * images.forEach((image, index) => finder.add(index, image));
   * const summary = await finder.finish((index) => Promise.resolve(images[index]!));
   * assert.deepEqual(summary, { count: 1, groups: 1, examples: [[0, 2]] });
   * ```
   */
  constructor(numImages: number) {
    this.#keys = new Float64Array(numImages);
  }

  /**
   * Records image `index`.
   *
   * @param index The image's index.
   * @param image The image's bytes (not kept).
   * @example
   * ```ts
   * import { DuplicateFinder } from "./duplicates.ts";
   * new DuplicateFinder(1).add(0, new Uint8Array(16));
   * ```
   */
  add(index: number, image: Uint8Array): void {
    this.#keys[index] = hashImage(image);
  }

  /**
   * Records image `index`, the bytes `start .. start + length` of a chunk: {@linkcode add}
   * without a view per image (the dsprites grid has 737,280).
   *
   * @param index The image's index.
   * @param chunk The chunk's bytes (not kept).
   * @param words The chunk as 32-bit words, when its bytes are aligned to 4.
   * @param start Where the image starts in the chunk.
   * @param length The image's bytes.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DuplicateFinder } from "./duplicates.ts";
   *
   * const chunk = new Uint8Array([1, 2, 3, 4, 1, 2, 3, 4]);
   * const finder = new DuplicateFinder(2);
   * finder.addFromChunk(0, chunk, new Uint32Array(chunk.buffer), 0, 4);
   * finder.addFromChunk(1, chunk, undefined, 4, 4);
   * assert.equal((await finder.finish((index) => chunk.subarray(4 * index, 4 * index + 4))).count, 1);
   * ```
   */
  addFromChunk(
    index: number,
    chunk: Uint8Array,
    words: Uint32Array | undefined,
    start: number,
    length: number,
  ): void {
    this.#keys[index] = words !== undefined && start % 4 === 0
      ? hashWords(chunk, words, start, length, length >>> 2)
      : hashImage(chunk.subarray(start, start + length));
  }

  /**
   * Finds the images with equal keys and compares them byte by byte.
   *
   * @param readImage Reads image `index` again, at once or by a promise (a cache hit needs no
   *   promise: the dsprites grid has 430,000 candidates).
   * @returns The duplicates.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DuplicateFinder } from "./duplicates.ts";
   *
   * const finder = new DuplicateFinder(2);
   * finder.add(0, new Uint8Array([5]));
   * finder.add(1, new Uint8Array([6]));
   * assert.equal((await finder.finish(() => Promise.reject(new Error("no read")))).count, 0);
   * ```
   */
  async finish(
    readImage: (index: number) => Uint8Array | Promise<Uint8Array>,
  ): Promise<DuplicateSummary> {
    const keys = this.#keys;
    const sorted = keys.slice().sort();
    // The keys that occur more than once, ascending and each once, written over the front of
    // `sorted`: the writes stay behind the reads, since each such key took two places.
    let repeatedCount = 0;
    for (let index = 1; index < sorted.length; index++) {
      if (sorted[index] === sorted[index - 1] && sorted[index] !== sorted[repeatedCount - 1]) {
        sorted[repeatedCount++] = sorted[index]!;
      }
    }
    const summary: DuplicateSummary = { count: 0, groups: 0, examples: [] };
    if (repeatedCount === 0) return summary;
    const repeated = sorted.subarray(0, repeatedCount);
    // Each image's group (the rank of its key among the repeated ones, from an open-addressing
    // table of the repeated keys: one probe or two, where a binary search took 17), or -1; then
    // the groups' members in ascending index, by a counting sort, and the groups in the order
    // of their first member. Typed arrays, not a Map of arrays: the dsprites grid has 430,000
    // candidates in 123,000 groups.
    const tableSize = 2 ** Math.ceil(Math.log2(2 * repeatedCount + 1));
    const mask = tableSize - 1;
    const tableKeys = new Float64Array(tableSize).fill(-1);
    const tableGroups = new Int32Array(tableSize);
    for (let group = 0; group < repeatedCount; group++) {
      const key = repeated[group]!;
      let slot = (key >>> 0) & mask;
      while (tableKeys[slot] !== -1) slot = (slot + 1) & mask;
      tableKeys[slot] = key;
      tableGroups[slot] = group;
    }
    const groupOf = new Int32Array(keys.length);
    const sizes = new Int32Array(repeatedCount + 1);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!;
      let slot = (key >>> 0) & mask;
      let group = -1;
      for (let found = tableKeys[slot]!; found !== -1; found = tableKeys[slot]!) {
        if (found === key) {
          group = tableGroups[slot]!;
          break;
        }
        slot = (slot + 1) & mask;
      }
      groupOf[index] = group;
      if (group >= 0) sizes[group + 1]!++;
    }
    for (let group = 0; group < repeatedCount; group++) sizes[group + 1]! += sizes[group]!;
    const members = new Int32Array(sizes[repeatedCount]!);
    const filled = sizes.slice(0, repeatedCount);
    const order = new Int32Array(repeatedCount);
    let groupsSeen = 0;
    for (let index = 0; index < keys.length; index++) {
      const group = groupOf[index]!;
      if (group < 0) continue;
      if (filled[group] === sizes[group]) order[groupsSeen++] = group;
      members[filled[group]!++] = index;
    }
    // The first image of each class of equal bytes in the group, and the class's size.
    const firsts: number[] = [], firstBytes: Uint8Array[] = [], classSizes: number[] = [];
    for (const group of order) {
      // Equal keys usually mean equal images; a collision splits into several classes.
      firsts.length = firstBytes.length = classSizes.length = 0;
      for (let member = sizes[group]!; member < sizes[group + 1]!; member++) {
        const index = members[member]!;
        const read = readImage(index);
        const bytes = read instanceof Uint8Array ? read : await read;
        let match = 0;
        while (match < firsts.length && !equalBytes(firstBytes[match]!, bytes)) match++;
        if (match === firsts.length) {
          firsts.push(index);
          firstBytes.push(bytes);
          classSizes.push(1);
          continue;
        }
        classSizes[match]!++;
        summary.count++;
        if (classSizes[match] === 2) summary.groups++;
        if (summary.examples.length < MAX_EXAMPLES) summary.examples.push([firsts[match]!, index]);
      }
    }
    return summary;
  }
}

// Word views of the last two buffers compared: a view per comparison was two allocations per
// candidate image (the dsprites grid has 430,000), a third of inspect's garbage.
const wordViews: [ArrayBufferLike | undefined, Int32Array][] = [
  [undefined, new Int32Array(0)],
  [undefined, new Int32Array(0)],
];

function wordsOf(bytes: Uint8Array): Int32Array {
  const buffer = bytes.buffer;
  if (wordViews[0]![0] === buffer) return wordViews[0]![1];
  if (wordViews[1]![0] === buffer) {
    wordViews.reverse();
    return wordViews[0]![1];
  }
  const view = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  wordViews.pop();
  wordViews.unshift([buffer, view]);
  return view;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // Four bytes per comparison where both are aligned (images read back are).
  let index = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const words = a.length >>> 2;
    const left = wordsOf(a), right = wordsOf(b);
    const leftStart = a.byteOffset >>> 2, rightStart = b.byteOffset >>> 2;
    for (let word = 0; word < words; word++) {
      if (left[leftStart + word] !== right[rightStart + word]) return false;
    }
    index = words * 4;
  }
  for (; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
