/**
 * A test family, `tiles`, whose samples are not the classic grayscale image, label and latents:
 * it declares its own sample schema and plugs in through the registry alone (or as a module),
 * to show that generate, verify, slices and merge, and the memory estimate follow the schema.
 *
 * | array    | dtype | per-sample shape | role   | content                                  |
 * | -------- | ----- | ---------------- | ------ | ---------------------------------------- |
 * | `image`  | uint8 | (S, S, 3)        | image  | K vertical bands, each of its own colour |
 * | `masks`  | uint8 | (K, S, S)        | mask   | 255 where band k is, else 0              |
 * | `colors` | int32 | (K,)             | factor | each band's colour, 0xRRGGBB             |
 *
 * Band k covers the columns `[floor(k S / K), floor((k + 1) S / K))`. Its option `k` (default
 * 3) is the number of bands.
 *
 * @module
 */

import type {
  ChunkLayout,
  GeneratorFamily,
  ImageGenerator,
} from "../../src/generators/generator.ts";
import { imageKey, uniform } from "../../src/generators/random.ts";
import { checkSampleSchema } from "../../src/generators/sample_schema.ts";

/** Fills image and masks of each sample of a chunk from its `colors`. */
function paint(chunk: ChunkLayout, imageSize: number, bands: number): void {
  const image = chunk.byName.get("image")!.view as Uint8Array;
  const masks = chunk.byName.get("masks")!.view as Uint8Array;
  const colors = chunk.byName.get("colors")!.view as Int32Array;
  const area = imageSize * imageSize;
  for (let sample = 0; sample < chunk.numSamples; sample++) {
    for (let band = 0; band < bands; band++) {
      const color = colors[sample * bands + band]!;
      const from = Math.floor(band * imageSize / bands);
      const to = Math.floor((band + 1) * imageSize / bands);
      for (let row = 0; row < imageSize; row++) {
        for (let column = from; column < to; column++) {
          const pixel = row * imageSize + column;
          masks[(sample * bands + band) * area + pixel] = 255;
          const at = (sample * area + pixel) * 3;
          image[at] = (color >> 16) & 255;
          image[at + 1] = (color >> 8) & 255;
          image[at + 2] = color & 255;
        }
      }
    }
  }
}

function createTiles(imageSize: number, bands: number): ImageGenerator {
  const schema = checkSampleSchema([
    { name: "image", dtype: "uint8", shape: [imageSize, imageSize, 3], role: "image" },
    { name: "masks", dtype: "uint8", shape: [bands, imageSize, imageSize], role: "mask" },
    { name: "colors", dtype: "int32", shape: [bands], role: "factor" },
  ]);
  const notClassic = () => {
    throw new TypeError("Cannot draw tiles one classic image at a time: they have a schema");
  };
  return {
    name: "tiles",
    version: "1.0.0",
    imageSize,
    classes: [],
    latents: [],
    parameters: { k: bands },
    schema,
    sample: notClassic,
    render: notClassic,
    fillChunk(seed, start, chunk) {
      const colors = chunk.byName.get("colors")!.view as Int32Array;
      for (let sample = 0; sample < chunk.numSamples; sample++) {
        const key = imageKey(seed, start + sample);
        for (let band = 0; band < bands; band++) {
          colors[sample * bands + band] = Math.floor(uniform(key, band) * 0x1000000);
        }
      }
      paint(chunk, imageSize, bands);
    },
    renderFromFactors(chunk) {
      paint(chunk, imageSize, bands);
    },
  };
}

/** The `tiles` family. */
export const tilesFamily: GeneratorFamily = {
  name: "tiles",
  description: "K coloured vertical bands with a mask each (a test family with its own schema)",
  create({ imageSize, options }) {
    const bands = options?.k ?? 3;
    if (typeof bands !== "number" || !Number.isInteger(bands) || bands < 1 || bands > 8) {
      throw new RangeError(`Cannot use tiles option k ${JSON.stringify(bands)}: expected 1 to 8`);
    }
    return createTiles(imageSize, bands);
  },
};

/** For `--generator-module` and module specs: the module's family. */
export const family = tilesFamily;
