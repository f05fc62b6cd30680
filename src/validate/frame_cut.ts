/**
 * Finding shapes cut by the image frame, from the pixels and the latent factors.
 *
 * A shape that crosses the frame loses the part outside it: the image's pixel mass (the sum of
 * its pixel values, with a fully lit pixel counting 1) falls short of the shape's true area,
 * which the latents give exactly (a circumradius r = scale x radius_fraction x image side; an
 * ellipse of semi-axes r and r x aspect has area π r² aspect, a square 2 r², an equilateral
 * triangle 3√3/4 r²). An image is **cut** when both hold:
 *
 * 1. a pixel of its outermost row or column is lit (the shape reaches the frame), and
 * 2. its mass falls short of the area by more than rendering error can explain:
 *    `area - mass > perimeter / (2 n) + litPixels x step / 2`.
 *
 * The bound in 2 is a worst case, not a tuned threshold. The renderer estimates each pixel's
 * coverage from an n x n grid of samples (the generator's `supersampling`); read column by
 * column, each sample column (width 1/n) errs by at most half a sample spacing (1/2n) at each end
 * of the shape, so the total error is at most (shape width) / n, and a convex shape's perimeter
 * is at least twice its width. Quantization adds at most half a step (1/255 for uint8, 0 for
 * float64) per lit pixel. On 140,000 correct images of 4 to 128 pixels the largest shortfall
 * measured was 0.09 x perimeter, against a bound of 0.125 x perimeter: a correct dataset passes,
 * whose shapes the generator keeps inside the frame by construction. Conversely, a cut shape is
 * found once it loses more than about an eighth of a pixel per pixel of perimeter; a sliver
 * thinner than that is invisible at this resolution anyway. Condition 1 keeps shapes drawn too
 * small (a different fault) from counting as cut.
 *
 * The shape's exact extent comes from its family ({@linkcode ImageGenerator.shapeExtent}, with
 * the family's `supersampling`); for a family that declares none, {@linkcode shapeModel}
 * returns undefined and the check is skipped.
 *
 * @module
 */

import type { ImageGenerator, ShapeExtent } from "../generators/generator.ts";

export type { ShapeExtent } from "../generators/generator.ts";

/** What rule 2 needs to know about an image's pixels. */
export interface PixelSummary {
  /** Sum of the pixel values over the value of a fully lit pixel (255, or 1 for float64). */
  mass: number;
  /** Whether a pixel of the outermost row or column is above 0. */
  borderLit: boolean;
  /** Number of pixels above 0. */
  litPixels: number;
}

/** The geometry of a family's shapes, as the `cut` check uses it. */
export interface ShapeModel {
  /** Samples per pixel side of the renderer's anti-aliasing. */
  supersampling: number;
  /** The shape of an image from its label and latents; undefined for an unknown label. */
  measure(label: number, latents: Float32Array, offset: number): ShapeExtent | undefined;
}

/**
 * The shape geometry of a family, from what it declares: its shapes' extent and its
 * anti-aliasing.
 *
 * @param generator The family, configured as the version was made.
 * @returns The model, or undefined when the family declares no shape extent.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createGenerator } from "../generators/spec.ts";
 * import { shapeModel } from "./frame_cut.ts";
 *
 * const generator = await createGenerator({ family: { name: "shapes", options: {} }, imageSize: 16 });
 * const model = shapeModel(generator);
 * // A square (label 1) of scale 1 in 16 px: circumradius 4, area 2 x 4².
 * assert.equal(model?.measure(1, new Float32Array([1, 0, 0.5, 0.5]), 0)?.area, 32);
 * assert.equal(model?.supersampling, 4);
 * ```
 */
export function shapeModel(
  generator: Pick<ImageGenerator, "shapeExtent" | "supersampling">,
): ShapeModel | undefined {
  const extent = generator.shapeExtent?.bind(generator);
  if (extent === undefined) return undefined;
  return { supersampling: generator.supersampling ?? 1, measure: extent };
}

/**
 * Decides whether an image's shape is cut by the frame, by the rule of the module doc.
 *
 * @param pixels The image's mass, whether its border is lit, and its lit pixel count.
 * @param shape The shape's exact area and perimeter from its latents.
 * @param options `supersampling` (n, default 1: the most lenient) and `quantizationStep`
 * (1/255 for uint8 images, 0 for float64; default 1/255).
 * @returns True when the shape is cut.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCutByFrame } from "./frame_cut.ts";
 *
 * const square = { area: 32, perimeter: 22.6 };
 * const options = { supersampling: 4, quantizationStep: 1 / 255 };
 * assert.equal(isCutByFrame({ mass: 31.2, borderLit: true, litPixels: 48 }, square, options), false);
 * assert.equal(isCutByFrame({ mass: 24, borderLit: true, litPixels: 40 }, square, options), true);
 * assert.equal(isCutByFrame({ mass: 24, borderLit: false, litPixels: 40 }, square, options), false);
 * ```
 */
export function isCutByFrame(
  pixels: PixelSummary,
  shape: ShapeExtent,
  options: { supersampling?: number; quantizationStep?: number } = {},
): boolean {
  if (!pixels.borderLit) return false;
  const supersampling = options.supersampling ?? 1;
  const step = options.quantizationStep ?? 1 / 255;
  const tolerance = shape.perimeter / (2 * supersampling) + (pixels.litPixels * step) / 2;
  return shape.area - pixels.mass > tolerance;
}
