/**
 * Stage 1 of the pipeline: draw the factors of a run of images and render them.
 *
 * A chunk is the images `start .. start + count - 1`; each depends only on (seed, index), so
 * chunks can be rendered in any order, on any thread, with the same bytes.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import type { ImageDtype } from "../generators/spec.ts";
import { quantize } from "./quantize.ts";

export type { ImageDtype };

/**
 * The bytes one pixel takes in the images array.
 *
 * @param dtype The image dtype.
 * @returns 1 for uint8, 8 for float64.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesPerPixel } from "./render.ts";
 * assert.equal(bytesPerPixel("float64"), 8);
 * ```
 */
export function bytesPerPixel(dtype: ImageDtype): number {
  return dtype === "uint8" ? 1 : 8;
}

/** The rendered images of a chunk, with their labels and latent factors. */
export interface RenderedChunk {
  /** Index of the chunk's first image. */
  start: number;
  /** Number of images. */
  count: number;
  /** `count x imageSize²` values in [0, 1], row-major. */
  pixels: Float64Array;
  /** `count` class indices. */
  labels: Uint8Array;
  /** `count x latents.length` float32 factors. */
  latents: Float32Array;
}

/**
 * Draws the labels and factors of images `start .. start + count - 1`, without rendering.
 *
 * @param generator The configured family.
 * @param seed The dataset seed.
 * @param range The first image and the number of images; `labels` and `latents` may pass
 *   arrays to draw into again, used when their lengths are exactly the chunk's.
 * @returns The labels and latents (in the arrays passed, when they were used).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { sampleChunk } from "./render.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const { labels, latents } = sampleChunk(generator, 42, { start: 0, count: 10 });
 * assert.ok(labels.length === 10 && latents.length === 40);
 * ```
 */
export function sampleChunk(
  generator: ImageGenerator,
  seed: number,
  range: { start: number; count: number; labels?: Uint8Array; latents?: Float32Array },
): { labels: Uint8Array; latents: Float32Array } {
  const width = generator.latents.length;
  // Arrays drawn into again, as fresh ones would be: zeroed, for a family that leaves a
  // latent unwritten.
  const labels = range.labels?.length === range.count
    ? range.labels.fill(0)
    : new Uint8Array(range.count);
  const latents = range.latents?.length === range.count * width
    ? range.latents.fill(0)
    : new Float32Array(range.count * width);
  for (let image = 0; image < range.count; image++) {
    labels[image] = generator.sample(seed, range.start + image, latents, image * width);
  }
  return { labels, latents };
}

/**
 * Renders images `start .. start + count - 1` into float buffers.
 *
 * @param generator The configured family.
 * @param seed The dataset seed.
 * @param range The first image and the number of images; `pixels`, `labels` and `latents` may
 *   pass arrays to reuse (see {@linkcode sampleChunk}).
 * @returns The chunk.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { renderChunk } from "./render.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const chunk = renderChunk(generator, 42, { start: 500, count: 2 });
 * assert.ok(chunk.pixels.length === 512 && chunk.pixels.some((value) => value === 1));
 * ```
 */
export function renderChunk(
  generator: ImageGenerator,
  seed: number,
  range: {
    start: number;
    count: number;
    pixels?: Float64Array;
    labels?: Uint8Array;
    latents?: Float32Array;
  },
): RenderedChunk {
  const area = generator.imageSize * generator.imageSize;
  const { labels, latents } = sampleChunk(generator, seed, range);
  const pixels = range.pixels?.subarray(0, range.count * area) ??
    new Float64Array(range.count * area);
  pixels.fill(0);
  const width = generator.latents.length;
  for (let image = 0; image < range.count; image++) {
    generator.render(labels[image]!, latents, image * width, pixels, image * area);
  }
  return { start: range.start, count: range.count, pixels, labels, latents };
}

/**
 * Renders the images `start .. start + count - 1` as the bytes of the images array.
 *
 * @param plan The generator, seed and dtype.
 * @param range The first image and the number of images; `out` may pass a buffer to reuse,
 *   used when its length is exactly the chunk's bytes; `rowsInto` may pass the arrays to draw
 *   the labels and latents into (see {@linkcode sampleChunk}), where a caller reads them.
 * @returns uint8 pixels, or float64 values as little-endian bytes (in `out` when it was used).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { renderImageBytes } from "./render.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, seed: 1, dtype: "uint8" as const };
 * assert.ok(renderImageBytes(plan, { start: 0, count: 10 }).length === 2560);
 * ```
 */
export function renderImageBytes(
  plan: { generator: ImageGenerator; seed: number; dtype: ImageDtype },
  range: {
    start: number;
    count: number;
    out?: Uint8Array;
    rowsInto?: { labels: Uint8Array; latents: Float32Array } | undefined;
  },
): Uint8Array {
  const area = plan.generator.imageSize ** 2;
  const generator = plan.generator;
  if (plan.dtype === "uint8" && generator.renderBytes !== undefined) {
    // Straight to bytes: no float image, no zeroing, no quantizing pass.
    const { labels, latents } = sampleChunk(generator, plan.seed, { ...range, ...range.rowsInto });
    const out = range.out?.length === range.count * area
      ? range.out
      : new Uint8Array(range.count * area);
    const width = generator.latents.length;
    for (let image = 0; image < range.count; image++) {
      generator.renderBytes(labels[image]!, latents, image * width, out, image * area);
    }
    return out;
  }
  if (plan.dtype === "uint8") {
    const { labels, latents } = sampleChunk(generator, plan.seed, { ...range, ...range.rowsInto });
    const out = range.out?.length === range.count * area
      ? range.out
      : new Uint8Array(range.count * area);
    // The floats are scratch, rendered and quantized a block of images at a time: a block
    // stays in the core's cache between the two passes, where a whole chunk's floats (8 MB
    // for 256 64x64 images) went to memory and back (rendering the dsprites grid on one
    // thread: 9.4 CPU s against 10.0, one run each on a shared machine; the same bytes).
    const block = Math.max(1, Math.floor(FLOAT_BLOCK_VALUES / area));
    const floats = floatScratch(Math.min(block, range.count) * area); // floatScratchBytes
    const width = generator.latents.length;
    for (let first = 0; first < range.count; first += block) {
      const count = Math.min(block, range.count - first);
      const pixels = floats.subarray(0, count * area);
      pixels.fill(0);
      for (let image = 0; image < count; image++) {
        const index = first + image;
        generator.render(labels[index]!, latents, index * width, pixels, image * area);
      }
      quantize(pixels, out.subarray(first * area, (first + count) * area));
    }
    return out;
  }
  const bytes = range.count * area * 8;
  const reuse = range.out?.length === bytes && range.out.byteOffset % 8 === 0;
  const pixels = reuse
    ? new Float64Array(range.out!.buffer, range.out!.byteOffset, range.count * area)
    : undefined;
  const chunk = renderChunk(plan.generator, plan.seed, {
    start: range.start,
    count: range.count,
    pixels,
    ...range.rowsInto,
  });
  // Typed arrays use the platform's byte order; every platform Deno ships on is little-endian.
  return new Uint8Array(chunk.pixels.buffer, chunk.pixels.byteOffset, chunk.pixels.byteLength);
}

/** Floats per block of the uint8 path: 128 KiB, well inside a core's L2 cache. */
const FLOAT_BLOCK_VALUES = 16 * 1024;

/**
 * The bytes of float scratch one rendering thread keeps for a family drawn through floats
 * (no `renderBytes`) into uint8 images: a block of images, not the whole chunk.
 *
 * @param imageSize The image side in pixels.
 * @param chunkImages The images per chunk (a block never holds more).
 * @returns Bytes of the thread's float buffer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatScratchBytes } from "./render.ts";
 * assert.equal(floatScratchBytes(64, 256), 4 * 64 * 64 * 8); // 128 KiB
 * assert.equal(floatScratchBytes(256, 16), 256 * 256 * 8); // one image
 * ```
 */
export function floatScratchBytes(imageSize: number, chunkImages: number): number {
  const area = imageSize * imageSize;
  return Math.min(Math.max(1, Math.floor(FLOAT_BLOCK_VALUES / area)), chunkImages) * area * 8;
}

let floats = new Float64Array(0);

function floatScratch(length: number): Float64Array {
  if (floats.length < length) floats = new Float64Array(length);
  return floats.subarray(0, length);
}
