/**
 * The exact extent (area and perimeter) of the shapes dsgen's families draw, from their
 * circumradius r: an ellipse of semi-axes r and r x aspect has area π r² aspect, a square
 * 2 r², an equilateral triangle 3√3/4 r², a heart the factors of `heart.ts`.
 *
 * A family that declares {@linkcode ImageGenerator.shapeExtent} gets the `cut` check of
 * `dsgen inspect`; these are the measures `shapes` and `dsprites` use for theirs.
 *
 * @module
 */

import type { ImageGenerator, ShapeExtent } from "./generator.ts";
import { HEART_AREA_FACTOR, HEART_PERIMETER_FACTOR } from "./heart.ts";

/** A shape's extent from its circumradius in pixels. */
export type ExtentOfRadius = (radius: number) => ShapeExtent;

/**
 * The extent of an ellipse of semi-axes r and r x aspect.
 *
 * @param aspect Minor over major semi-axis.
 * @returns The measure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ellipseExtent } from "./shape_extent.ts";
 * assert.equal(ellipseExtent(1)(2).area, 4 * Math.PI);
 * ```
 */
export function ellipseExtent(aspect: number): ExtentOfRadius {
  return (radius) => {
    const a = radius, b = radius * aspect;
    // Ramanujan's approximation, exact for circles and within 0.04% at aspect 0.5.
    const perimeter = Math.PI * (3 * (a + b) - Math.sqrt((3 * a + b) * (a + 3 * b)));
    return { area: Math.PI * a * b, perimeter };
  };
}

/**
 * The extent of a square of circumradius r.
 *
 * @param radius The circumradius in pixels.
 * @returns Its area and perimeter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { squareExtent } from "./shape_extent.ts";
 * assert.equal(squareExtent(4).area, 32);
 * ```
 */
export function squareExtent(radius: number): ShapeExtent {
  return { area: 2 * radius * radius, perimeter: 4 * Math.SQRT2 * radius };
}

/**
 * The extent of an equilateral triangle of circumradius r.
 *
 * @param radius The circumradius in pixels.
 * @returns Its area and perimeter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { triangleExtent } from "./shape_extent.ts";
 * assert.ok(Math.abs(triangleExtent(1).perimeter - 3 * Math.sqrt(3)) < 1e-12);
 * ```
 */
export function triangleExtent(radius: number): ShapeExtent {
  return {
    area: ((3 * Math.sqrt(3)) / 4) * radius * radius,
    perimeter: 3 * Math.sqrt(3) * radius,
  };
}

/**
 * The extent of `heart.ts`'s heart of circumradius r (not convex, but its dip is shallow
 * enough for the `cut` rule's bound).
 *
 * @param radius The circumradius in pixels.
 * @returns Its area and perimeter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heartExtent } from "./shape_extent.ts";
 * assert.ok(heartExtent(2).area > 0);
 * ```
 */
export function heartExtent(radius: number): ShapeExtent {
  return { area: HEART_AREA_FACTOR * radius * radius, perimeter: HEART_PERIMETER_FACTOR * radius };
}

/**
 * The extent of each class of a family whose images show one shape of circumradius
 * `scale x radiusFraction x imageSize`, the scale read from one latent column.
 *
 * @param byClass The measure of each class, by label.
 * @param layout The latent column holding the scale, and the pixels per unit of scale.
 * @returns An implementation of {@linkcode ImageGenerator.shapeExtent}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledExtent, squareExtent } from "./shape_extent.ts";
 * const extent = scaledExtent([squareExtent], { scaleColumn: 0, pixelsPerScale: 4 });
 * assert.equal(extent(0, new Float32Array([1]), 0)?.area, 32);
 * assert.equal(extent(1, new Float32Array([1]), 0), undefined);
 * ```
 */
export function scaledExtent(
  byClass: readonly ExtentOfRadius[],
  layout: { scaleColumn: number; pixelsPerScale: number },
): NonNullable<ImageGenerator["shapeExtent"]> {
  return (label, latents, offset) => {
    const scale = latents[offset + layout.scaleColumn];
    return scale === undefined ? undefined : byClass[label]?.(scale * layout.pixelsPerScale);
  };
}
