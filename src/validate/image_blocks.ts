/**
 * Reading images again by index, a block of neighbours at a time, for inspect's second look
 * (duplicate candidates, grid samples, traversals).
 *
 * Duplicate candidates come in groups whose members lie far apart but whose next group starts
 * one image further on: the dsprites grid's squares repeat every 10 orientation steps (10,240
 * images), so the groups of consecutive images read the same few regions of the file in turn. A
 * handful of cached blocks of neighbours serve nearly every read from memory (the 16x16 grid:
 * 430,000 reads of 256 bytes became about 2,000 reads of 64 KiB).
 *
 * @module
 */

import type { NpzReader } from "../format/npz_reader.ts";

/** Options of {@linkcode blockImageReader}. */
export interface BlockOptions {
  /** Bytes per block (default 64 KiB; at least one image). */
  blockBytes?: number;
  /** Blocks kept, the least recently used dropped first (default 16). */
  blocks?: number;
}

/**
 * A reader of the `images` array's image `index`, through a small cache of blocks of
 * consecutive images.
 *
 * @param reader The open archive.
 * @param layout The bytes of one image and the number of images.
 * @param options Block size and count.
 * @returns A function giving image `index`'s bytes, at once when its block is cached, else by a
 *   promise: a view into a block, never changed afterwards (the caller may keep it). An index out
 *   of range throws a `RangeError`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NpzWriter } from "../format/npz.ts";
 * import { NpzReader } from "../format/npz_reader.ts";
 * import { blockImageReader } from "./image_blocks.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/demo.npz`;
 * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
 * const images = new Uint8Array(5 * 4).map((_, index) => index);
 * await npz.addArray("images", { descr: "|u1", fortranOrder: false, shape: [5, 2, 2] }, [images]);
 * await npz.close();
 * const reader = await NpzReader.open(path);
 * const readImage = blockImageReader(reader, { imageBytes: 4, numImages: 5 }, { blockBytes: 8 });
 * assert.deepEqual([...await readImage(4)], [16, 17, 18, 19]);
 * assert.deepEqual([...await readImage(1)], [4, 5, 6, 7]);
 * reader.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function blockImageReader(
  reader: NpzReader,
  layout: { imageBytes: number; numImages: number },
  options: BlockOptions = {},
): (index: number) => Uint8Array | Promise<Uint8Array> {
  const { imageBytes, numImages } = layout;
  const perBlock = Math.max(1, Math.floor((options.blockBytes ?? 64 * 1024) / imageBytes));
  const kept = Math.max(1, options.blocks ?? 16);
  // The cache: a few slots scanned in turn, each with its block, bytes and last use. A Map kept
  // in recency order (a delete and a set per hit) cost more than the comparisons it served.
  const slotBlocks = new Float64Array(kept).fill(-1);
  const slotBytes: Uint8Array[] = new Array(kept).fill(new Uint8Array(0));
  const slotUsed = new Float64Array(kept);
  let clock = 0;
  const view = (bytes: Uint8Array, index: number, block: number) => {
    const offset = (index - block * perBlock) * imageBytes;
    // The constructor, not `subarray`, which looks up a species constructor on every call.
    return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, imageBytes);
  };
  return (index: number) => {
    if (!Number.isSafeInteger(index) || index < 0 || index >= numImages) {
      throw new RangeError(`Cannot read image ${index}: expected 0 to ${numImages - 1}`);
    }
    const block = Math.floor(index / perBlock);
    for (let slot = 0; slot < kept; slot++) {
      if (slotBlocks[slot] === block) {
        slotUsed[slot] = ++clock;
        return view(slotBytes[slot]!, index, block);
      }
    }
    const first = block * perBlock;
    const count = Math.min(perBlock, numImages - first);
    return reader.read("images", { offset: first * imageBytes, length: count * imageBytes })
      .then((bytes) => {
        // The least recently used slot (an empty one first).
        let oldest = 0;
        for (let slot = 1; slot < kept; slot++) {
          if (slotUsed[slot]! < slotUsed[oldest]!) oldest = slot;
        }
        slotBlocks[oldest] = block;
        slotBytes[oldest] = bytes;
        slotUsed[oldest] = ++clock;
        return view(bytes, index, block);
      });
  };
}
