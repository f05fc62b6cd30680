/**
 * A test family, `stripes`, that gets every check of `dsgen inspect` from this file alone:
 * one horizontal or vertical stripe across the image, of a width and at a position from small
 * grids. It declares its latents (with their grid values, for the `latents` check), the
 * duplicates it makes by construction (image i repeats image i - 20, for `duplicates`) and its
 * shape's exact extent (for `cut`).
 *
 * Its option `shift` (a fraction of the side, default 0) moves every stripe when drawing, as a
 * renderer bug would, while the latents keep the drawn position: shifted far enough, stripes
 * leave the frame and `cut` fails.
 *
 * @module
 */

import type {
  GeneratorFamily,
  ImageGenerator,
  LatentSpec,
  ShapeExtent,
} from "../../src/generators/generator.ts";

const WIDTHS = [0.125, 0.25];
const POSITIONS = [0.3, 0.4, 0.5, 0.6, 0.7];
const CLASSES = ["horizontal", "vertical"];
/** The distinct images: every class, width and position once. */
const COMBINATIONS = CLASSES.length * WIDTHS.length * POSITIONS.length;

const LATENTS: LatentSpec[] = [
  {
    name: "width",
    unit: "fraction of the image side",
    min: 0.125,
    max: 0.25,
    kind: "discrete",
    values: WIDTHS,
  },
  {
    name: "position",
    unit: "fraction of the image side",
    min: 0.3,
    max: 0.7,
    kind: "discrete",
    values: POSITIONS,
  },
];

/** The overlap of the pixel row or column [cell, cell + 1) with the stripe [from, to). */
function coverage(cell: number, from: number, to: number): number {
  return Math.max(0, Math.min(cell + 1, to) - Math.max(cell, from));
}

function createStripes(imageSize: number, shift: number): ImageGenerator {
  // Float32 like the stored latents, so that drawing and measuring agree with the archive.
  const stored = (value: number) => Math.fround(value);
  return {
    name: "stripes",
    version: "1.0.0",
    imageSize,
    classes: CLASSES,
    latents: LATENTS,
    parameters: { classes: CLASSES, shift, latents: LATENTS.map((latent) => ({ ...latent })) },
    // Exact coverage: no rendering error, as fine as any supersampling.
    supersampling: 16,
    expectedDuplicates: (numImages) => ({
      count: Math.max(0, numImages - COMBINATIONS),
      reason: `image i repeats image i - ${COMBINATIONS}`,
    }),
    sample(_seed, index, latentsOut, offset) {
      const combination = index % COMBINATIONS;
      latentsOut[offset] = stored(WIDTHS[Math.floor(combination / 2) % WIDTHS.length]!);
      latentsOut[offset + 1] = stored(POSITIONS[Math.floor(combination / 4)]!);
      return combination % 2;
    },
    render(label, latents, latentOffset, pixelsOut, pixelOffset) {
      const thickness = latents[latentOffset]! * imageSize;
      const from = (latents[latentOffset + 1]! + shift) * imageSize - thickness / 2;
      for (let row = 0; row < imageSize; row++) {
        for (let column = 0; column < imageSize; column++) {
          pixelsOut[pixelOffset + row * imageSize + column] = coverage(
            label === 0 ? row : column,
            from,
            from + thickness,
          );
        }
      }
    },
    shapeExtent(label, latents, offset): ShapeExtent | undefined {
      if (label !== 0 && label !== 1) return undefined;
      const thickness = latents[offset]! * imageSize;
      return { area: imageSize * thickness, perimeter: 2 * (imageSize + thickness) };
    },
  };
}

/** The `stripes` family. */
export const stripesFamily: GeneratorFamily = {
  name: "stripes",
  description: "A test family: one stripe across the image",
  create({ imageSize, options }) {
    const shift = options?.shift ?? 0;
    if (typeof shift !== "number") throw new TypeError("Cannot use stripes: shift is a number");
    return createStripes(imageSize, shift);
  },
};

/** The module's family, for a spec that names this file by URL. */
export const family: GeneratorFamily = stripesFamily;
