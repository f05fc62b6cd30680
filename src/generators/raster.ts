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

/** A convex polygon as half-planes `nx * x + ny * y <= c` with unit normals. */
export interface Polygon {
  kind: "polygon";
  /** `[nx0, ny0, c0, nx1, ny1, c1, ...]`. */
  edges: Float64Array;
  /** The polygon's bounding box in pixels: minX, minY, maxX, maxY. */
  bounds: [number, number, number, number];
}

/** An ellipse with centre (cx, cy), semi-axes a (along the angle) and b, rotated by the angle. */
export interface Ellipse {
  kind: "ellipse";
  cx: number;
  cy: number;
  a: number;
  b: number;
  cos: number;
  sin: number;
}

/** A shape the rasterizer can fill. */
export type Shape = Polygon | Ellipse;

/**
 * Builds a convex polygon from its vertices in counter-clockwise order (y pointing down, so
 * clockwise on screen) or clockwise order; the winding is detected.
 *
 * @param vertices `[x0, y0, x1, y1, ...]`, at least three points.
 * @returns The polygon.
 * @example
 * ```ts
 * import { polygon } from "./raster.ts";
 * const square = polygon([1, 1, 3, 1, 3, 3, 1, 3]);
 * console.assert(square.edges.length === 12);
 * ```
 */
export function polygon(vertices: readonly number[]): Polygon {
  const count = vertices.length / 2;
  if (!Number.isInteger(count) || count < 3) {
    throw new RangeError(`Cannot build a polygon from ${vertices.length} coordinates`);
  }
  let signedArea = 0;
  for (let index = 0; index < count; index++) {
    const next = (index + 1) % count;
    signedArea += vertices[2 * index]! * vertices[2 * next + 1]! -
      vertices[2 * next]! * vertices[2 * index + 1]!;
  }
  const orientation = signedArea > 0 ? 1 : -1;
  const edges = new Float64Array(3 * count);
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
  return { kind: "polygon", edges, bounds: [minX, minY, maxX, maxY] };
}

function insidePolygon(edges: Float64Array, x: number, y: number): boolean {
  for (let edge = 0; edge < edges.length; edge += 3) {
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

function inside(shape: Shape, x: number, y: number): boolean {
  return shape.kind === "polygon" ? insidePolygon(shape.edges, x, y) : insideEllipse(shape, x, y);
}

function bounds(shape: Shape): [number, number, number, number] {
  if (shape.kind === "polygon") return shape.bounds;
  const halfWidth = Math.hypot(shape.a * shape.cos, shape.b * shape.sin);
  const halfHeight = Math.hypot(shape.a * shape.sin, shape.b * shape.cos);
  return [
    shape.cx - halfWidth,
    shape.cy - halfHeight,
    shape.cx + halfWidth,
    shape.cy + halfHeight,
  ];
}

/** Counts the samples of pixel (x, y) inside the shape. */
function countSamples(shape: Shape, x: number, y: number, offsets: Float64Array): number {
  let count = 0;
  for (let row = 0; row < offsets.length; row++) {
    const sampleY = y + offsets[row]!;
    for (let column = 0; column < offsets.length; column++) {
      if (inside(shape, x + offsets[column]!, sampleY)) count++;
    }
  }
  return count;
}

/** Returns 1 if every sample of the pixel centred at (x, y) is inside, -1 if all are outside, 0 if unsure. */
function classify(shape: Shape, x: number, y: number, reach: number): number {
  if (shape.kind === "polygon") {
    const edges = shape.edges;
    let allInside = true;
    for (let edge = 0; edge < edges.length; edge += 3) {
      const nx = edges[edge]!, ny = edges[edge + 1]!;
      const distance = nx * x + ny * y - edges[edge + 2]!;
      const margin = reach * (Math.abs(nx) + Math.abs(ny)) + SAFETY;
      if (distance > margin) return -1;
      if (distance > -margin) allInside = false;
    }
    return allInside ? 1 : 0;
  }
  const dx = x - shape.cx, dy = y - shape.cy;
  const u = (shape.cos * dx + shape.sin * dy) / shape.a;
  const v = (shape.cos * dy - shape.sin * dx) / shape.b;
  const radius = Math.sqrt(u * u + v * v);
  // The samples lie within reach*sqrt(2) of the centre; in the ellipse's unit-circle
  // coordinates that distance shrinks or grows by at most 1/min(a, b).
  const spread = (reach * Math.SQRT2) / Math.min(shape.a, shape.b) + SAFETY;
  if (radius - spread > 1) return -1;
  if (radius + spread < 1) return 1;
  return 0;
}

/**
 * The offsets of the sample rows/columns inside a pixel: `(j + 0.5) / samples`.
 *
 * @param samples Samples per pixel side.
 * @returns The offsets, in [0, 1).
 * @example
 * ```ts
 * import { sampleOffsets } from "./raster.ts";
 * console.assert(sampleOffsets(2)[1] === 0.75);
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
  readonly imageSize: number;
  readonly samples: number;
  #offsets: Float64Array;
  #values: Float64Array;
  #reach: number;

  /**
   * Prepares the sample grid.
   *
   * @param options Image size, samples per pixel side and intensity.
   * @example
   * ```ts
   * import { Rasterizer } from "./raster.ts";
   * const rasterizer = new Rasterizer({ imageSize: 16, samples: 4 });
   * console.assert(rasterizer.samples === 4);
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
   * import { polygon, Rasterizer } from "./raster.ts";
   * const image = new Float64Array(16);
   * new Rasterizer({ imageSize: 4, samples: 4 }).fill(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0);
   * console.assert(image[5] === 1 && image[0] === 0);
   * ```
   */
  fill(shape: Shape, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize, offsets = this.#offsets, values = this.#values;
    const full = values[values.length - 1]!;
    const [minX, minY, maxX, maxY] = bounds(shape);
    const firstColumn = Math.max(0, Math.floor(minX));
    const lastColumn = Math.min(imageSize - 1, Math.ceil(maxX));
    const firstRow = Math.max(0, Math.floor(minY));
    const lastRow = Math.min(imageSize - 1, Math.ceil(maxY));
    for (let y = firstRow; y <= lastRow; y++) {
      const rowStart = offset + y * imageSize;
      for (let x = firstColumn; x <= lastColumn; x++) {
        const verdict = classify(shape, x + 0.5, y + 0.5, this.#reach);
        if (verdict === 1) out[rowStart + x] = full;
        else if (verdict === 0) out[rowStart + x] = values[countSamples(shape, x, y, offsets)]!;
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
   * import { polygon, Rasterizer } from "./raster.ts";
   * const image = new Float64Array(16);
   * new Rasterizer({ imageSize: 4, samples: 4 }).fillReference(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0);
   * console.assert(image[5] === 1);
   * ```
   */
  fillReference(shape: Shape, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize;
    for (let y = 0; y < imageSize; y++) {
      for (let x = 0; x < imageSize; x++) {
        out[offset + y * imageSize + x] = this.#values[countSamples(shape, x, y, this.#offsets)]!;
      }
    }
  }
}
