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
 * The classes of `shapes` and `dsprites` (ellipse, square, triangle, heart) have a known area,
 * the heart's from `heart.ts` (it is not convex, but its dip is shallow enough for the bound);
 * for other
 * generators {@linkcode shapeModel} returns undefined and the check is skipped.
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import { HEART_AREA_FACTOR, HEART_PERIMETER_FACTOR } from "../generators/heart.ts";

/** The exact area and perimeter of a shape, in pixels. */
export interface ShapeExtent {
  /** Area in square pixels. */
  area: number;
  /** Perimeter in pixels. */
  perimeter: number;
}

/** What rule 2 needs to know about an image's pixels. */
export interface PixelSummary {
  /** Sum of the pixel values over the value of a fully lit pixel (255, or 1 for float64). */
  mass: number;
  /** Whether a pixel of the outermost row or column is above 0. */
  borderLit: boolean;
  /** Number of pixels above 0. */
  litPixels: number;
}

/** The geometry of a generator's shapes, from its recorded parameters. */
export interface ShapeModel {
  /** Samples per pixel side of the renderer's anti-aliasing. */
  supersampling: number;
  /** The shape of an image from its label and latents; undefined for an unknown label. */
  measure(label: number, latents: Float32Array, offset: number): ShapeExtent | undefined;
}

type Measure = (radius: number) => ShapeExtent;

function ellipse(aspect: number): Measure {
  return (radius) => {
    const a = radius, b = radius * aspect;
    // Ramanujan's approximation, exact for circles and within 0.04% at aspect 0.5.
    const perimeter = Math.PI * (3 * (a + b) - Math.sqrt((3 * a + b) * (a + 3 * b)));
    return { area: Math.PI * a * b, perimeter };
  };
}

const MEASURES: Record<string, (aspect: number) => Measure> = {
  ellipse,
  heart: () => (radius) => ({
    area: HEART_AREA_FACTOR * radius * radius,
    perimeter: HEART_PERIMETER_FACTOR * radius,
  }),
  square: () => (radius) => ({ area: 2 * radius * radius, perimeter: 4 * Math.SQRT2 * radius }),
  triangle: () => (radius) => ({
    area: ((3 * Math.sqrt(3)) / 4) * radius * radius,
    perimeter: 3 * Math.sqrt(3) * radius,
  }),
};

/**
 * Builds the shape geometry of a generator from the parameters recorded in metadata.json.
 *
 * @param generator The generator's recorded parameters (classes, radius_fraction,
 * ellipse_aspect, supersampling).
 * @param layout The image side and the names of the latent columns (one must be `scale`).
 * @returns The model, or undefined when the parameters describe no known shapes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeModel } from "./frame_cut.ts";
 *
 * const model = shapeModel(
 *   { parameters: { classes: ["ellipse", "square"], radius_fraction: 0.25, supersampling: 4 } },
 *   { imageSize: 16, latentNames: ["scale", "orientation", "pos_x", "pos_y"] },
 * );
 * // A square of scale 1 in 16 px: circumradius 4, area 2 x 4².
 * assert.equal(model?.measure(1, new Float32Array([1, 0, 0.5, 0.5]), 0)?.area, 32);
 * assert.equal(shapeModel({ parameters: {} }, { imageSize: 16, latentNames: [] }), undefined);
 * ```
 */
export function shapeModel(
  generator: { parameters: { [key: string]: JsonValue } },
  layout: { imageSize: number; latentNames: readonly string[] },
): ShapeModel | undefined {
  const { classes, radius_fraction: radiusFraction } = generator.parameters;
  const aspect = generator.parameters.ellipse_aspect ?? 1;
  const supersampling = generator.parameters.supersampling ?? 1;
  const scaleColumn = layout.latentNames.indexOf("scale");
  if (
    !Array.isArray(classes) || classes.length === 0 || typeof radiusFraction !== "number" ||
    typeof aspect !== "number" || typeof supersampling !== "number" || supersampling < 1 ||
    scaleColumn < 0 ||
    !classes.every((name) => typeof name === "string" && Object.hasOwn(MEASURES, name))
  ) {
    return undefined;
  }
  const measures = classes.map((name) => MEASURES[name as string]!(aspect));
  const pixelsPerScale = radiusFraction * layout.imageSize;
  return {
    supersampling,
    measure(label, latents, offset) {
      const scale = latents[offset + scaleColumn];
      return scale === undefined ? undefined : measures[label]?.(scale * pixelsPerScale);
    },
  };
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
