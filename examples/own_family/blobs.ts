/**
 * A dataset family of its own, outside dsgen: one or two Gaussian blobs on a dark background.
 *
 * dsgen imports this module by URL, in the main thread and in every worker thread, and uses
 * its `family` export. Image i is drawn from (seed, i) alone, through dsgen's `imageKey` and
 * `uniform`, so any thread renders the same bytes.
 *
 * @module
 */

import { type GeneratorFamily, type ImageGenerator, imageKey, uniform } from "../../mod.ts";

const LATENTS = [
  { name: "x", unit: "fraction of the image side", min: 0.2, max: 0.8 },
  { name: "y", unit: "fraction of the image side", min: 0.2, max: 0.8 },
  { name: "sigma", unit: "fraction of the image side", min: 0.04, max: 0.12 },
];

/** The family: `blobs`, version 1.0.0, classes `one` and `two` (the number of blobs). */
export const family: GeneratorFamily = {
  name: "blobs",
  description: "one or two Gaussian blobs (an example of a family of one's own)",
  create({ imageSize }): ImageGenerator {
    return {
      name: "blobs",
      version: "1.0.0",
      imageSize,
      classes: ["one", "two"],
      latents: LATENTS,
      parameters: { latents: LATENTS },
      sample(seed, index, latentsOut, offset) {
        const key = imageKey(seed, index);
        LATENTS.forEach((latent, draw) => {
          latentsOut[offset + draw] = latent.min + (latent.max - latent.min) * uniform(key, draw);
        });
        return uniform(key, LATENTS.length) < 0.5 ? 0 : 1;
      },
      render(label, latents, latentOffset, pixelsOut, pixelOffset) {
        const x = latents[latentOffset]!, y = latents[latentOffset + 1]!;
        const sigma = latents[latentOffset + 2]!;
        // The second blob mirrors the first through the centre.
        const centres = label === 0 ? [[x, y]] : [[x, y], [1 - x, 1 - y]];
        for (let row = 0; row < imageSize; row++) {
          for (let column = 0; column < imageSize; column++) {
            const px = (column + 0.5) / imageSize, py = (row + 0.5) / imageSize;
            let value = 0;
            for (const [cx, cy] of centres) {
              value += Math.exp(-((px - cx!) ** 2 + (py - cy!) ** 2) / (2 * sigma * sigma));
            }
            pixelsOut[pixelOffset + row * imageSize + column] = Math.min(1, value);
          }
        }
      },
    };
  },
};
