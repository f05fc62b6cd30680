/**
 * Anti-aliased rasterization of convex polygons and ellipses by supersampling.
 *
 * A pixel's value is the fraction of its `samples x samples` grid points that lie inside the
 * shape, each decided by an exact inside test. To be fast, a pixel whose whole sample grid is
 * provably inside (or outside) the shape is filled (or skipped) from one test at its centre,
 * with a safety margin; only pixels near the boundary are sampled. The result is identical,
 * bit for bit, to sampling every pixel ({@linkcode rasterizeReference} checks this in tests).
 *
 * Coordinates are in pixels: pixel (column x, row y) covers [x, x+1) x [y, y+1).
 *
 * @module
 */

/** Added to the margins so that rounding in the centre test can never misclassify a pixel. */
const SAFETY = 1e-9;

/** The most edges a polygon may have. */
export const MAX_EDGES = 16;

/** A convex polygon as half-planes `nx * x + ny * y <= c` with unit normals. */
export interface Polygon {
  /** Tells polygons from ellipses. */
  kind: "polygon";
  /** `[nx0, ny0, c0, nx1, ny1, c1, ...]`; the first `3 * count` entries are in use. */
  edges: Float64Array;
  /** The number of edges. */
  count: number;
  /** The polygon's bounding box in pixels: minX, minY, maxX, maxY. */
  bounds: Float64Array;
}

/** An ellipse with centre (cx, cy), semi-axes a (along the angle) and b, rotated by the angle. */
export interface Ellipse {
  /** Tells ellipses from polygons. */
  kind: "ellipse";
  /** The centre's x, in pixels from the left edge. */
  cx: number;
  /** The centre's y, in pixels from the top edge. */
  cy: number;
  /** The semi-axis along the angle, in pixels. */
  a: number;
  /** The semi-axis across the angle, in pixels. */
  b: number;
  /** The cosine of the rotation angle. */
  cos: number;
  /** The sine of the rotation angle (the angle turns x towards y, clockwise on screen). */
  sin: number;
}

/** A shape the rasterizer can fill. */
export type Shape = Polygon | Ellipse;

/**
 * Builds a convex polygon from its vertices, in either winding order.
 *
 * @param vertices `[x0, y0, x1, y1, ...]`, 3 to {@linkcode MAX_EDGES} points.
 * @returns The polygon.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { polygon } from "./raster.ts";
 * const square = polygon([1, 1, 3, 1, 3, 3, 1, 3]);
 * assert.ok(square.count === 4);
 * ```
 */
export function polygon(vertices: readonly number[]): Polygon {
  const shape: Polygon = {
    kind: "polygon",
    edges: new Float64Array(3 * MAX_EDGES),
    count: 0,
    bounds: new Float64Array(4),
  };
  return setPolygon(shape, vertices);
}

/**
 * Refills a polygon with new vertices, without allocating: for per-image use in hot loops.
 *
 * @param target The polygon to overwrite.
 * @param vertices `[x0, y0, x1, y1, ...]`, 3 to {@linkcode MAX_EDGES} points, either winding.
 * @returns `target`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { polygon, setPolygon } from "./raster.ts";
 * const shape = setPolygon(polygon([0, 0, 1, 0, 0, 1]), [1, 1, 3, 1, 3, 3, 1, 3]);
 * assert.ok(shape.count === 4 && shape.bounds[2] === 3);
 * ```
 */
export function setPolygon(target: Polygon, vertices: readonly number[]): Polygon {
  const count = vertices.length / 2;
  if (!Number.isInteger(count) || count < 3 || count > MAX_EDGES) {
    throw new RangeError(
      `Cannot build a polygon from ${vertices.length} coordinates: expected 3 to ${MAX_EDGES} points`,
    );
  }
  let signedArea = 0;
  for (let index = 0; index < count; index++) {
    const next = (index + 1) % count;
    signedArea += vertices[2 * index]! * vertices[2 * next + 1]! -
      vertices[2 * next]! * vertices[2 * index + 1]!;
  }
  const orientation = signedArea > 0 ? 1 : -1;
  const edges = target.edges;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let index = 0; index < count; index++) {
    const next = (index + 1) % count;
    const x0 = vertices[2 * index]!, y0 = vertices[2 * index + 1]!;
    const x1 = vertices[2 * next]!, y1 = vertices[2 * next + 1]!;
    const length = Math.hypot(x1 - x0, y1 - y0);
    // Outward normal of the edge (x0,y0)->(x1,y1) for the detected winding.
    const nx = (orientation * (y1 - y0)) / length;
    const ny = (orientation * (x0 - x1)) / length;
    edges[3 * index] = nx;
    edges[3 * index + 1] = ny;
    edges[3 * index + 2] = nx * x0 + ny * y0;
    minX = Math.min(minX, x0);
    minY = Math.min(minY, y0);
    maxX = Math.max(maxX, x0);
    maxY = Math.max(maxY, y0);
  }
  target.count = count;
  target.bounds[0] = minX;
  target.bounds[1] = minY;
  target.bounds[2] = maxX;
  target.bounds[3] = maxY;
  return target;
}

// The inside tests. The fast path and the reference both decide every sample with exactly
// these expressions, so they agree bit for bit.

function insidePolygon(shape: Polygon, x: number, y: number): boolean {
  const edges = shape.edges;
  for (let edge = 0; edge < 3 * shape.count; edge += 3) {
    if (edges[edge]! * x + edges[edge + 1]! * y > edges[edge + 2]!) return false;
  }
  return true;
}

function insideEllipse(shape: Ellipse, x: number, y: number): boolean {
  const dx = x - shape.cx, dy = y - shape.cy;
  const u = (shape.cos * dx + shape.sin * dy) / shape.a;
  const v = (shape.cos * dy - shape.sin * dx) / shape.b;
  return u * u + v * v <= 1;
}

function countSamplesReference(shape: Shape, x: number, y: number, offsets: Float64Array): number {
  let count = 0;
  for (let row = 0; row < offsets.length; row++) {
    const sampleY = y + offsets[row]!;
    for (let column = 0; column < offsets.length; column++) {
      const sampleX = x + offsets[column]!;
      const hit = shape.kind === "polygon"
        ? insidePolygon(shape, sampleX, sampleY)
        : insideEllipse(shape, sampleX, sampleY);
      if (hit) count++;
    }
  }
  return count;
}

/**
 * The offsets of the sample rows/columns inside a pixel: `(j + 0.5) / samples`.
 *
 * @param samples Samples per pixel side.
 * @returns The offsets, in [0, 1).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleOffsets } from "./raster.ts";
 * assert.ok(sampleOffsets(2)[1] === 0.75);
 * ```
 */
export function sampleOffsets(samples: number): Float64Array {
  return Float64Array.from({ length: samples }, (_, index) => (index + 0.5) / samples);
}

/** The value of a pixel with 0, 1, ..., samples² samples inside: count / samples² * intensity. */
function coverageValues(samples: number, intensity: number): Float64Array {
  const total = samples * samples;
  return Float64Array.from({ length: total + 1 }, (_, count) => (count * intensity) / total);
}

/** Options of {@linkcode Rasterizer}. */
export interface RasterOptions {
  /** Side of the square image in pixels. */
  imageSize: number;
  /** Samples per pixel side (4 gives 16 samples per pixel). */
  samples: number;
  /** The value of a fully covered pixel (default 1). */
  intensity?: number;
}

/** Fills shapes into square images of values in [0, 1], for one image size and sampling. */
export class Rasterizer {
  /** Side of the square image in pixels. */
  readonly imageSize: number;
  /** Samples per pixel side, 1 to 16. */
  readonly samples: number;
  #offsets: Float64Array;
  #values: Float64Array;
  #reach: number;
  #margins = new Float64Array(MAX_EDGES);
  #crossing = new Int32Array(MAX_EDGES);
  #columnTerms = new Float64Array(16);
  #columnTerms2 = new Float64Array(16);
  #rowTerms = new Float64Array(16);
  #outside = new Uint8Array(256);

  /**
   * Prepares the sample grid.
   *
   * @param options Image size, samples per pixel side and intensity.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rasterizer } from "./raster.ts";
   * const rasterizer = new Rasterizer({ imageSize: 16, samples: 4 });
   * assert.ok(rasterizer.samples === 4);
   * ```
   */
  constructor(options: RasterOptions) {
    const { imageSize, samples, intensity = 1 } = options;
    if (!Number.isInteger(samples) || samples < 1 || samples > 16) {
      throw new RangeError(`Cannot sample ${samples} points per pixel side: expected 1 to 16`);
    }
    this.imageSize = imageSize;
    this.samples = samples;
    this.#offsets = sampleOffsets(samples);
    this.#values = coverageValues(samples, intensity);
    // The farthest a sample lies from its pixel's centre along either axis.
    this.#reach = 0.5 - 0.5 / samples;
  }

  /**
   * Writes the shape's coverage into an image; pixels the shape misses are left as they are.
   *
   * @param shape The shape to fill.
   * @param out The buffer (row-major), zeroed by the caller.
   * @param offset Where the image starts in `out`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { polygon, Rasterizer } from "./raster.ts";
   * const image = new Float64Array(16);
   * new Rasterizer({ imageSize: 4, samples: 4 }).fill(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0);
   * assert.ok(image[5] === 1 && image[0] === 0);
   * ```
   */
  fill(shape: Shape, out: Float64Array, offset: number): void {
    if (shape.kind === "polygon") this.#fillPolygon(shape, out, offset);
    else this.#fillEllipse(shape, out, offset);
  }

  #fillPolygon(shape: Polygon, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize, offsets = this.#offsets, values = this.#values;
    const samples = offsets.length, full = values[values.length - 1]!;
    const edges = shape.edges, count = shape.count, margins = this.#margins;
    for (let edge = 0; edge < count; edge++) {
      margins[edge] = this.#reach * (Math.abs(edges[3 * edge]!) + Math.abs(edges[3 * edge + 1]!)) +
        SAFETY;
    }
    const bounds = shape.bounds;
    const firstColumn = Math.max(0, Math.floor(bounds[0]!));
    const lastColumn = Math.min(imageSize - 1, Math.ceil(bounds[2]!));
    const firstRow = Math.max(0, Math.floor(bounds[1]!));
    const lastRow = Math.min(imageSize - 1, Math.ceil(bounds[3]!));
    const crossing = this.#crossing;
    for (let y = firstRow; y <= lastRow; y++) {
      const rowStart = offset + y * imageSize;
      const centreY = y + 0.5;
      pixels: for (let x = firstColumn; x <= lastColumn; x++) {
        const centreX = x + 0.5;
        // Which edges pass near this pixel: only they can put a sample outside.
        let crossingCount = 0;
        for (let edge = 0; edge < count; edge++) {
          const distance = edges[3 * edge]! * centreX + edges[3 * edge + 1]! * centreY -
            edges[3 * edge + 2]!;
          if (distance > margins[edge]!) continue pixels;
          if (distance > -margins[edge]!) crossing[crossingCount++] = 3 * edge;
        }
        if (crossingCount === 0) {
          out[rowStart + x] = full;
          continue;
        }
        // The products nx * sampleX and ny * sampleY are computed once per column and row;
        // each is the same rounded value the reference computes per sample.
        const columnTerms = this.#columnTerms, rowTerms = this.#rowTerms;
        let inside = 0;
        if (crossingCount === 1) {
          const edge = crossing[0]!, limit = edges[edge + 2]!;
          for (let column = 0; column < samples; column++) {
            columnTerms[column] = edges[edge]! * (x + offsets[column]!);
          }
          for (let row = 0; row < samples; row++) {
            const rowTerm = edges[edge + 1]! * (y + offsets[row]!);
            for (let column = 0; column < samples; column++) {
              if (!(columnTerms[column]! + rowTerm > limit)) inside++;
            }
          }
        } else {
          const outside = this.#outside;
          outside.fill(0, 0, samples * samples);
          for (let index = 0; index < crossingCount; index++) {
            const edge = crossing[index]!, limit = edges[edge + 2]!;
            for (let column = 0; column < samples; column++) {
              columnTerms[column] = edges[edge]! * (x + offsets[column]!);
            }
            for (let row = 0; row < samples; row++) {
              rowTerms[row] = edges[edge + 1]! * (y + offsets[row]!);
            }
            for (let row = 0; row < samples; row++) {
              const rowTerm = rowTerms[row]!;
              for (let column = 0; column < samples; column++) {
                if (columnTerms[column]! + rowTerm > limit) outside[row * samples + column] = 1;
              }
            }
          }
          for (let sample = 0; sample < samples * samples; sample++) {
            if (outside[sample] === 0) inside++;
          }
        }
        out[rowStart + x] = values[inside]!;
      }
    }
  }

  #fillEllipse(shape: Ellipse, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize, offsets = this.#offsets, values = this.#values;
    const samples = offsets.length, full = values[values.length - 1]!;
    const { cx, cy, a, b, cos, sin } = shape;
    // The samples lie within reach*sqrt(2) of the pixel's centre; in the ellipse's unit-circle
    // coordinates that distance grows by at most 1/min(a, b). Compare squared radii.
    const spread = (this.#reach * Math.SQRT2) / Math.min(a, b) + SAFETY;
    const insideBelow = spread < 1 ? (1 - spread) * (1 - spread) : -1;
    const outsideAbove = (1 + spread) * (1 + spread);
    const halfWidth = Math.hypot(a * cos, b * sin);
    const halfHeight = Math.hypot(a * sin, b * cos);
    const firstColumn = Math.max(0, Math.floor(cx - halfWidth));
    const lastColumn = Math.min(imageSize - 1, Math.ceil(cx + halfWidth));
    const firstRow = Math.max(0, Math.floor(cy - halfHeight));
    const lastRow = Math.min(imageSize - 1, Math.ceil(cy + halfHeight));
    for (let y = firstRow; y <= lastRow; y++) {
      const rowStart = offset + y * imageSize;
      const centreDy = y + 0.5 - cy;
      for (let x = firstColumn; x <= lastColumn; x++) {
        const centreDx = x + 0.5 - cx;
        const u = (cos * centreDx + sin * centreDy) / a;
        const v = (cos * centreDy - sin * centreDx) / b;
        const radius2 = u * u + v * v;
        if (radius2 > outsideAbove) continue;
        if (radius2 < insideBelow) {
          out[rowStart + x] = full;
          continue;
        }
        // Per-column and per-row products, each the same rounded value as in the reference.
        const cosDx = this.#columnTerms, sinDx = this.#columnTerms2;
        for (let column = 0; column < samples; column++) {
          const dx = x + offsets[column]! - cx;
          cosDx[column] = cos * dx;
          sinDx[column] = sin * dx;
        }
        let inside = 0;
        for (let row = 0; row < samples; row++) {
          const dy = y + offsets[row]! - cy;
          const cosDy = cos * dy, sinDy = sin * dy;
          for (let column = 0; column < samples; column++) {
            const su = (cosDx[column]! + sinDy) / a;
            const sv = (cosDy - sinDx[column]!) / b;
            if (su * su + sv * sv <= 1) inside++;
          }
        }
        out[rowStart + x] = values[inside]!;
      }
    }
  }

  /**
   * The slow, obvious way: samples every pixel of the image. Tests compare it with `fill`.
   *
   * @param shape The shape to fill.
   * @param out The buffer (row-major).
   * @param offset Where the image starts in `out`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { polygon, Rasterizer } from "./raster.ts";
   * const image = new Float64Array(16);
   * new Rasterizer({ imageSize: 4, samples: 4 }).fillReference(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0);
   * assert.ok(image[5] === 1);
   * ```
   */
  fillReference(shape: Shape, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize;
    for (let y = 0; y < imageSize; y++) {
      for (let x = 0; x < imageSize; x++) {
        out[offset + y * imageSize + x] = this
          .#values[countSamplesReference(shape, x, y, this.#offsets)]!;
      }
    }
  }
}
