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

/**
 * How far from 1 the ellipse's exact squared radius must be for a sample to be decided without
 * its exact test: far above the rounding error of that test (about 1e-15).
 */
const ELLIPSE_MARGIN = 1e-9;
/** Added (times 1 + a) to the chord's ends, for the rounding in computing them. */
const ELLIPSE_SLACK = 1e-6;

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
 * `Math.hypot(x, y)`, bit for bit, about 2.5x faster: V8's own algorithm for two arguments
 * (normalize by the larger magnitude, square and add with Kahan's compensation, square root,
 * scale back), without the variadic call. Tests compare it with `Math.hypot`.
 *
 * @param x A number.
 * @param y A number.
 * @returns The same number `Math.hypot(x, y)` returns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hypot } from "./raster.ts";
 * assert.equal(hypot(3, 4), Math.hypot(3, 4));
 * ```
 */
export function hypot(x: number, y: number): number {
  const absX = Math.abs(x), absY = Math.abs(y);
  if (absX === Infinity || absY === Infinity) return Infinity;
  if (absX !== absX || absY !== absY) return NaN;
  const max = absX > absY ? absX : absY;
  if (max === 0) return 0;
  const first = absX / max, second = absY / max;
  // V8 adds the squares with Kahan's compensation, which is still zero after the first term:
  // for two terms its sum is exactly first² + second².
  return Math.sqrt(first * first + second * second) * max;
}

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
export function setPolygon(target: Polygon, vertices: ArrayLike<number>): Polygon {
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
    const length = hypot(x1 - x0, y1 - y0);
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

/**
 * The byte of each coverage count, as quantizing the float value would give it: count k of
 * samples² becomes round-half-even(k / samples² x intensity x 255), clamped to 0..255.
 *
 * @param samples Samples per pixel side.
 * @param intensity The value of a fully covered pixel.
 * @returns samples² + 1 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { coverageBytes } from "./raster.ts";
 * const table = coverageBytes(4, 1);
 * assert.ok(table.length === 17 && table[8] === 128 && table[16] === 255);
 * ```
 */
export function coverageBytes(samples: number, intensity: number): Uint8Array {
  const values = coverageValues(samples, intensity);
  // The same store as quantize.ts: Uint8ClampedArray rounds half to even.
  const clamped = new Uint8ClampedArray(values.length);
  for (let count = 0; count < values.length; count++) clamped[count] = values[count]! * 255;
  return new Uint8Array(clamped.buffer);
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
  #quadratic = 0;
  #cross = 0;
  #rowFactor = 0;
  /** Per sample row of the image: its first and last inside sample columns. */
  #lows: Int32Array;
  #highs: Int32Array;
  /** Per pixel row: 1 when some sample row's inside samples are not one interval. */
  #irregular: Uint8Array;
  /** The pixel of sample g along either axis: floor(g / samples). */
  #pixelOf: Int32Array;
  /** Per pixel of the row being merged: its samples in the sample rows' end pixels. */
  #counts: Int32Array;
  /** Per pixel of the row being merged: the change in the number of whole rows' samples. */
  #across: Int32Array;
  /** The coordinate of sample g along either axis: pixel floor(g / samples) plus its offset. */
  #sampleCoordinates: Float64Array;

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
    this.#pixelOf = Int32Array.from(
      { length: (imageSize + 1) * samples },
      (_, sample) => Math.floor(sample / samples),
    );
    this.#counts = new Int32Array(imageSize + 1);
    this.#lows = new Int32Array(imageSize * samples);
    this.#highs = new Int32Array(imageSize * samples);
    this.#irregular = new Uint8Array(imageSize);
    this.#across = new Int32Array(imageSize + 1);
    this.#sampleCoordinates = Float64Array.from(
      { length: imageSize * samples },
      (_, sample) => Math.floor(sample / samples) + this.#offsets[sample % samples]!,
    );
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
    const halfWidth = hypot(a * cos, b * sin);
    const halfHeight = hypot(a * sin, b * cos);
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
   * Writes a whole image (every pixel, the background too) as bytes: a pixel with k of its
   * samples² samples inside gets `table[k]`. No float image, no zeroing pass.
   *
   * Along one sample row, each inside test is monotone in x (rounding is monotone), so the
   * samples inside a polygon form one interval, found per edge from one estimate of where the
   * edge crosses the row; only when the estimate lies within 1e-9 / |nx| samples of a whole
   * sample (where rounding could matter) do exact tests of the samples next to it decide. For
   * the ellipse, the row's chord comes from the quadratic; only samples between the inner and
   * outer bounds of a chord's end (a safety band) get the exact test. Then each pixel row adds
   * up its sample rows' intervals: a run of pixels inside all of them is filled, the others
   * get their counts. The counts are those of {@linkcode fillReference}, sample for sample, so
   * the bytes equal quantizing {@linkcode fill}'s values.
   *
   * @param shape The shape to fill.
   * @param out The buffer (row-major); `imageSize²` bytes are written from `offset`.
   * @param offset Where the image starts in `out`.
   * @param table The byte of each count 0..samples², e.g. from {@linkcode coverageBytes}.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { coverageBytes, polygon, Rasterizer } from "./raster.ts";
   * const image = new Uint8Array(16).fill(7);
   * const rasterizer = new Rasterizer({ imageSize: 4, samples: 4 });
   * rasterizer.fillBytes(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0, coverageBytes(4, 1));
   * assert.ok(image[5] === 255 && image[0] === 0);
   * ```
   */
  fillBytes(shape: Shape, out: Uint8Array, offset: number, table: Uint8Array): void {
    const imageSize = this.imageSize, samples = this.samples;
    let firstColumn: number, lastColumn: number, firstRow: number, lastRow: number;
    if (shape.kind === "polygon") {
      const bounds = shape.bounds;
      firstColumn = Math.max(0, Math.floor(bounds[0]!));
      lastColumn = Math.min(imageSize - 1, Math.ceil(bounds[2]!));
      firstRow = Math.max(0, Math.floor(bounds[1]!));
      lastRow = Math.min(imageSize - 1, Math.ceil(bounds[3]!));
    } else {
      const { cx, cy, a, b, cos, sin } = shape;
      const inverseA2 = 1 / (a * a), inverseB2 = 1 / (b * b);
      this.#quadratic = cos * cos * inverseA2 + sin * sin * inverseB2;
      this.#cross = 2 * cos * sin * (inverseA2 - inverseB2);
      this.#rowFactor = sin * sin * inverseA2 + cos * cos * inverseB2;
      const halfWidth = hypot(a * cos, b * sin);
      const halfHeight = hypot(a * sin, b * cos);
      firstColumn = Math.max(0, Math.floor(cx - halfWidth));
      lastColumn = Math.min(imageSize - 1, Math.ceil(cx + halfWidth));
      firstRow = Math.max(0, Math.floor(cy - halfHeight));
      lastRow = Math.min(imageSize - 1, Math.ceil(cy + halfHeight));
    }
    // One fill of the background: a memset, cheaper than filling around each row's span.
    out.fill(table[0]!, offset, offset + imageSize * imageSize);
    if (firstRow > lastRow || firstColumn > lastColumn) return;
    const minSample = firstColumn * samples, maxSample = (lastColumn + 1) * samples - 1;
    const firstSampleRow = firstRow * samples, lastSampleRow = (lastRow + 1) * samples - 1;
    if (shape.kind === "polygon") {
      this.#polygonSpans(shape, firstSampleRow, lastSampleRow, minSample, maxSample);
    } else this.#ellipseSpans(shape, firstSampleRow, lastSampleRow, minSample, maxSample);
    const lows = this.#lows, highs = this.#highs, pixelOf = this.#pixelOf;
    const counts = this.#counts, across = this.#across, irregular = this.#irregular;
    const fullCount = samples * samples, fullByte = table[fullCount]!;
    for (let y = firstRow; y <= lastRow; y++) {
      const rowStart = offset + y * imageSize;
      if (irregular[y] !== 0) {
        // The ellipse's inside samples were not one interval in some sample row: count them.
        irregular[y] = 0;
        for (let x = firstColumn; x <= lastColumn; x++) {
          out[rowStart + x] = table[countSamplesReference(shape, x, y, this.#offsets)]!;
        }
        continue;
      }
      // Each sample row adds its partial counts to its two end pixels, and `samples` to each
      // pixel between them through `across` (+samples after the first, -samples at the last),
      // summed left to right. Pixels every sample row covers (fullLow/fullHigh) are full.
      let firstPixel = imageSize, lastPixel = -1, fullLow = 0, fullHigh = maxSample, full = true;
      for (let sampleRow = y * samples; sampleRow < (y + 1) * samples; sampleRow++) {
        const rowLow = lows[sampleRow]!, rowHigh = highs[sampleRow]!;
        if (rowLow > rowHigh) {
          full = false;
          continue;
        }
        if (rowLow > fullLow) fullLow = rowLow;
        if (rowHigh < fullHigh) fullHigh = rowHigh;
        const lowPixel = pixelOf[rowLow]!, highPixel = pixelOf[rowHigh]!;
        if (lowPixel < firstPixel) firstPixel = lowPixel;
        if (highPixel > lastPixel) lastPixel = highPixel;
        if (lowPixel === highPixel) counts[lowPixel]! += rowHigh - rowLow + 1;
        else {
          counts[lowPixel]! += (lowPixel + 1) * samples - rowLow;
          counts[highPixel]! += rowHigh + 1 - highPixel * samples;
          across[lowPixel + 1]! += samples;
          across[highPixel]! -= samples;
        }
      }
      if (lastPixel < 0) continue;
      // ceil(fullLow / samples) and floor((fullHigh + 1) / samples) - 1, or none.
      const firstFull = full ? pixelOf[fullLow + samples - 1]! : -1;
      const lastFull = full ? pixelOf[fullHigh + 1]! - 1 : -2;
      let run = 0;
      for (let x = firstPixel; x <= lastPixel; x++) {
        if (x === firstFull && lastFull - x > 16) {
          // A long run of full pixels: one fill; the running sum is what the last one needs.
          out.fill(fullByte, rowStart + x, rowStart + lastFull + 1);
          run = fullCount - counts[lastFull]!;
          counts.fill(0, x, lastFull + 1);
          across.fill(0, x, lastFull + 1);
          x = lastFull;
          continue;
        }
        run += across[x]!;
        out[rowStart + x] = table[counts[x]! + run]!;
        counts[x] = 0;
        across[x] = 0;
      }
    }
  }

  /**
   * The inside samples of each sample row of a polygon, as the intervals `lows[row] ..
   * highs[row]` of sample columns (empty when low > high), one edge at a time: each edge's
   * inside samples are a prefix or a suffix of the row, so the order does not matter.
   */
  #polygonSpans(
    shape: Polygon,
    firstSampleRow: number,
    lastSampleRow: number,
    minSample: number,
    maxSample: number,
  ): void {
    const sampleX = this.#sampleCoordinates, samples = this.samples;
    const lows = this.#lows, highs = this.#highs;
    // A loop: for the few rows of a small image, cheaper than two calls of fill.
    for (let sampleRow = firstSampleRow; sampleRow <= lastSampleRow; sampleRow++) {
      lows[sampleRow] = minSample;
      highs[sampleRow] = maxSample;
    }
    const edges = shape.edges, end = 3 * shape.count;
    for (let edge = 0; edge < end; edge += 3) {
      const nx = edges[edge]!, ny = edges[edge + 1]!, limit = edges[edge + 2]!;
      // The estimates of the edge's crossing multiply by 1/nx; the exact tests decide.
      const inverse = samples / nx;
      // An edge crossing the row two samples or more beyond the span cannot cut it: far from
      // the crossing, the exact test's rounding (about 1e-13) cannot flip a sample whose
      // distance to the edge is at least 2 |nx| / samples > 1e-7.
      const steep = nx > 1e-6 || nx < -1e-6;
      // Far from a whole sample, the estimate decides every sample of the row: the nearest
      // sample is at least `ambiguity` samples, (1e-9 / samples) pixels along the normal, from
      // the edge, far beyond the rounding of the exact test and of the estimate (< 1e-11).
      // In sample steps along the row; Infinity (never decided by the estimate) for nx = 0.
      const ambiguity = 1e-9 / Math.abs(nx);
      // One loop per sign of nx: the edge's inside samples are a prefix of each row (nx > 0),
      // a suffix (nx < 0), or all or none (nx = 0).
      if (nx > 0) {
        for (let sampleRow = firstSampleRow; sampleRow <= lastSampleRow; sampleRow++) {
          const low = lows[sampleRow]!, high = highs[sampleRow]!;
          if (low > high) continue;
          const rowTerm = ny * sampleX[sampleRow]!;
          // Sample g lies at about (g + 0.5) / samples: the edge crosses the row near this g.
          const estimate = (limit - rowTerm) * inverse - 0.5;
          const whole = Math.floor(estimate), fraction = estimate - whole;
          if (fraction > ambiguity && fraction < 1 - ambiguity) {
            if (whole < high) highs[sampleRow] = whole < low - 1 ? low - 1 : whole;
            continue;
          }
          if (steep && estimate > high + 2) continue;
          // Find the prefix's last sample with the exact tests.
          let guess = whole;
          if (!(guess >= low - 1)) guess = low - 1;
          else if (guess > high) guess = high;
          while (guess < high && !(nx * sampleX[guess + 1]! + rowTerm > limit)) guess++;
          while (guess >= low && nx * sampleX[guess]! + rowTerm > limit) guess--;
          highs[sampleRow] = guess;
        }
      } else if (nx < 0) {
        for (let sampleRow = firstSampleRow; sampleRow <= lastSampleRow; sampleRow++) {
          const low = lows[sampleRow]!, high = highs[sampleRow]!;
          if (low > high) continue;
          const rowTerm = ny * sampleX[sampleRow]!;
          const estimate = (limit - rowTerm) * inverse - 0.5;
          const whole = Math.floor(estimate), fraction = estimate - whole;
          if (fraction > ambiguity && fraction < 1 - ambiguity) {
            if (whole >= low) lows[sampleRow] = whole > high ? high + 1 : whole + 1;
            continue;
          }
          if (steep && estimate < low - 2) continue;
          // Find the suffix's first sample with the exact tests.
          let guess = Math.ceil(estimate);
          if (!(guess <= high + 1)) guess = high + 1;
          else if (guess < low) guess = low;
          while (guess > low && !(nx * sampleX[guess - 1]! + rowTerm > limit)) guess--;
          while (guess <= high && nx * sampleX[guess]! + rowTerm > limit) guess++;
          lows[sampleRow] = guess;
        }
      } else {
        for (let sampleRow = firstSampleRow; sampleRow <= lastSampleRow; sampleRow++) {
          const low = lows[sampleRow]!;
          if (low > highs[sampleRow]!) continue;
          if (nx * sampleX[low]! + ny * sampleX[sampleRow]! > limit) highs[sampleRow] = low - 1;
        }
      }
    }
  }

  /**
   * The inside samples of each sample row of an ellipse, as for {@linkcode #polygonSpans};
   * marks the pixel rows where they are not one interval (then they are counted sample by
   * sample).
   */
  #ellipseSpans(
    shape: Ellipse,
    firstSampleRow: number,
    lastSampleRow: number,
    minSample: number,
    maxSample: number,
  ): void {
    const sampleX = this.#sampleCoordinates, samples = this.samples;
    const lows = this.#lows, highs = this.#highs;
    const { cx, cy, a, b, cos, sin } = shape;
    const quadratic = this.#quadratic, cross = this.#cross, rowFactor = this.#rowFactor;
    const slack = ELLIPSE_SLACK * (1 + a);
    // Multiplications by these instead of divisions round differently by an ulp or so: the
    // margin and the slack are far larger.
    const inverse = 1 / quadratic, halfInverse = 0.5 * inverse, quarterInverse = 0.25 * inverse;
    for (let sampleRow = firstSampleRow; sampleRow <= lastSampleRow; sampleRow++) {
      const dy = sampleX[sampleRow]! - cy;
      // f(dx) = A dx² + B dx + C along the row; its minimum fMin at dx = middle.
      const linear = dy * cross;
      const constant = dy * dy * rowFactor;
      const fMin = constant - linear * linear * quarterInverse;
      let low = maxSample + 1, high = minSample - 1;
      if (fMin > 1 + ELLIPSE_MARGIN) {
        lows[sampleRow] = low;
        highs[sampleRow] = high;
        continue;
      }
      const middle = -linear * halfInverse;
      // Samples nearer the centre than `inner` are inside for sure, farther than `outer`
      // outside.
      const inner = Math.sqrt(Math.max(0, (1 - ELLIPSE_MARGIN - fMin) * inverse)) - slack;
      const outer = Math.sqrt((1 + ELLIPSE_MARGIN - fMin) * inverse) + slack;
      const centre = cx + middle;
      // Sample g lies at about (g + 0.5) / samples. Turning a chord's end into a sample index
      // rounds by less than 1e-11 samples, far below the slack (at least 1e-6 samples):
      // samples up to the outer end's index are outside, samples from the inner end's index
      // inside.
      let first = Math.floor((centre - outer) * samples - 0.5) + 1;
      let last = Math.ceil((centre + outer) * samples - 0.5) - 1;
      if (first < minSample) first = minSample;
      if (last > maxSample) last = maxSample;
      let coreLow = Math.ceil((centre - inner) * samples - 0.5);
      let coreHigh = Math.floor((centre + inner) * samples - 0.5);
      if (coreLow < first) coreLow = first;
      if (coreHigh > last) coreHigh = last;
      if (!(inner > 0) || coreLow > coreHigh) {
        coreLow = last + 1;
        coreHigh = last;
      }
      // Test every sample outside the core within [first, last]; the core is inside.
      let count = coreHigh >= coreLow ? coreHigh - coreLow + 1 : 0;
      if (count > 0) {
        low = coreLow;
        high = coreHigh;
      }
      if (first < coreLow || coreHigh < last) {
        const cosDy = cos * dy, sinDy = sin * dy;
        for (let sample = first; sample <= last; sample++) {
          if (sample === coreLow) {
            sample = coreHigh;
            continue;
          }
          // The exact test, as countSamplesReference makes it.
          const dx = sampleX[sample]! - cx;
          const u = (cos * dx + sinDy) / a;
          const v = (cosDy - sin * dx) / b;
          if (u * u + v * v <= 1) {
            count++;
            if (sample < low) low = sample;
            if (sample > high) high = sample;
          }
        }
        if (count !== 0 && count !== high - low + 1) {
          this.#irregular[Math.floor(sampleRow / samples)] = 1;
        }
      }
      lows[sampleRow] = low;
      highs[sampleRow] = high;
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
