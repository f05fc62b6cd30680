/**
 * The heart of the `dsprites` family, and its anti-aliased rasterization by supersampling.
 *
 * The heart is the classic union of a square standing on one corner and two discs on its upper
 * sides: in units where the square's half-diagonal is 1 (y up), the square has corners
 * (0, -1), (1, 0), (0, 1), (-1, 0), and the discs have radius 1/√2 and centres (±0.5, 0.5), the
 * midpoints of the upper sides. Each disc meets the square's lower side at a right angle to the
 * upper side, so the outline is smooth everywhere but at the point (bottom) and the dip (top);
 * it is symmetric about its vertical axis. Area 2 (1 + π/4), perimeter √2 (2 + π).
 *
 * The heart turns about the centre of its smallest enclosing circle, (0, t) with
 * t = (1/2 - (1 - 1/√2)²) / (3 - 2/√2) ≈ 0.2612, of radius 1 + t: a heart of circumradius R
 * stays inside that circle at any orientation, like the square and the ellipse of the same R.
 *
 * The heart is not convex, so the convex-polygon paths of `raster.ts` do not apply. A sample is
 * inside when it is inside the square or either disc, each decided by an exact test. To be
 * fast, a pixel whose whole sample grid is provably inside one of the three parts is filled from
 * tests at its centre, a pixel provably outside all three is skipped, and otherwise only the
 * parts that may hold some of its samples are tested per sample; the result equals, bit for bit,
 * testing every sample against all three ({@linkcode HeartRasterizer.fillReference}).
 *
 * @module
 */

/** Added to the margins so that rounding in the centre tests can never misclassify a pixel. */
const SAFETY = 1e-9;

/** Height of the enclosing circle's centre above the square's centre, in half-diagonals. */
export const HEART_CENTRE_OFFSET = (0.5 - (1 - Math.SQRT1_2) ** 2) / (3 - 2 * Math.SQRT1_2);

/** The heart's circumradius, in half-diagonals of its square. */
const CIRCUMRADIUS = 1 + HEART_CENTRE_OFFSET;

/** A heart's area over its circumradius squared. */
export const HEART_AREA_FACTOR = (2 * (1 + Math.PI / 4)) / CIRCUMRADIUS ** 2;

/** A heart's perimeter over its circumradius. */
export const HEART_PERIMETER_FACTOR = (Math.SQRT2 * (2 + Math.PI)) / CIRCUMRADIUS;

/** A heart placed in an image, in pixels; build and refill it with {@linkcode setHeart}. */
export interface Heart {
  /** Tells hearts from other shapes. */
  kind: "heart";
  /** The square as half-planes `[nx, ny, c] x 4`: inside where `nx * x + ny * y <= c`. */
  edges: Float64Array;
  /** The discs: `[cx0, cy0, cx1, cy1]`. */
  discs: Float64Array;
  /** The discs' radius squared, in square pixels. */
  discRadius2: number;
  /** The discs' radius, in pixels. */
  discRadius: number;
  /** The enclosing circle: centre x, centre y, radius, in pixels. */
  bounds: Float64Array;
}

/**
 * A heart, to be placed with {@linkcode setHeart}.
 *
 * @returns A heart of radius 1 at the origin.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHeart } from "./heart.ts";
 * assert.equal(createHeart().kind, "heart");
 * ```
 */
export function createHeart(): Heart {
  const heart: Heart = {
    kind: "heart",
    edges: new Float64Array(12),
    discs: new Float64Array(4),
    discRadius2: 0,
    discRadius: 0,
    bounds: new Float64Array(3),
  };
  return setHeart(heart, { cx: 0, cy: 0, radius: 1, cos: 1, sin: 0 });
}

/** Where a heart goes: centre and circumradius in pixels, and its rotation. */
export interface HeartPlacement {
  /** The enclosing circle's centre x, in pixels from the left edge. */
  cx: number;
  /** The enclosing circle's centre y, in pixels from the top edge. */
  cy: number;
  /** The circumradius, in pixels. */
  radius: number;
  /** Cosine of the rotation (0: point down). */
  cos: number;
  /** Sine of the rotation; the angle turns x towards y, clockwise on screen. */
  sin: number;
}

// Outward normals of the square's sides (y up), and a corner on each side.
const SIDES = [
  { nx: Math.SQRT1_2, ny: -Math.SQRT1_2, x: 0, y: -1 },
  { nx: Math.SQRT1_2, ny: Math.SQRT1_2, x: 0, y: 1 },
  { nx: -Math.SQRT1_2, ny: Math.SQRT1_2, x: 0, y: 1 },
  { nx: -Math.SQRT1_2, ny: -Math.SQRT1_2, x: 0, y: -1 },
] as const;

/**
 * Places a heart, without allocating: for per-image use in hot loops.
 *
 * @param target The heart to overwrite.
 * @param placement Centre, circumradius and rotation.
 * @returns `target`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHeart, setHeart } from "./heart.ts";
 * const heart = setHeart(createHeart(), { cx: 8, cy: 8, radius: 4, cos: 1, sin: 0 });
 * assert.equal(heart.bounds[2], 4);
 * ```
 */
export function setHeart(target: Heart, placement: HeartPlacement): Heart {
  const { cx, cy, radius, cos, sin } = placement;
  const unit = radius / CIRCUMRADIUS;
  // Local (y up, origin at the square's centre) to pixels (y down), turned by the angle.
  const toX = (x: number, y: number) => cx + unit * (cos * x - sin * (HEART_CENTRE_OFFSET - y));
  const toY = (x: number, y: number) => cy + unit * (sin * x + cos * (HEART_CENTRE_OFFSET - y));
  for (let side = 0; side < 4; side++) {
    const { nx, ny, x, y } = SIDES[side]!;
    // A direction turns like a point, without the translation; y flips.
    const px = cos * nx + sin * ny;
    const py = sin * nx - cos * ny;
    target.edges[3 * side] = px;
    target.edges[3 * side + 1] = py;
    target.edges[3 * side + 2] = px * toX(x, y) + py * toY(x, y);
  }
  target.discs[0] = toX(-0.5, 0.5);
  target.discs[1] = toY(-0.5, 0.5);
  target.discs[2] = toX(0.5, 0.5);
  target.discs[3] = toY(0.5, 0.5);
  target.discRadius = unit * Math.SQRT1_2;
  target.discRadius2 = target.discRadius * target.discRadius;
  target.bounds[0] = cx;
  target.bounds[1] = cy;
  target.bounds[2] = radius;
  return target;
}

// The inside tests: the fast path and the reference decide every sample with exactly these
// expressions, so they agree bit for bit.

function insideDisc(heart: Heart, disc: number, x: number, y: number): boolean {
  const dx = x - heart.discs[2 * disc]!, dy = y - heart.discs[2 * disc + 1]!;
  return dx * dx + dy * dy <= heart.discRadius2;
}

function insideSquare(heart: Heart, x: number, y: number): boolean {
  const edges = heart.edges;
  for (let edge = 0; edge < 12; edge += 3) {
    if (edges[edge]! * x + edges[edge + 1]! * y > edges[edge + 2]!) return false;
  }
  return true;
}

/**
 * Whether a point lies inside a heart: inside its square or either disc.
 *
 * @param heart The heart.
 * @param x The point's x, in pixels.
 * @param y The point's y, in pixels.
 * @returns True when inside.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHeart, insideHeart, setHeart } from "./heart.ts";
 * const heart = setHeart(createHeart(), { cx: 8, cy: 8, radius: 4, cos: 1, sin: 0 });
 * assert.ok(insideHeart(heart, 8, 9) && !insideHeart(heart, 0, 0));
 * ```
 */
export function insideHeart(heart: Heart, x: number, y: number): boolean {
  return insideDisc(heart, 0, x, y) || insideDisc(heart, 1, x, y) || insideSquare(heart, x, y);
}

/** Fills hearts into square images of values in [0, 1], for one image size and sampling. */
export class HeartRasterizer {
  /** Side of the square image in pixels. */
  readonly imageSize: number;
  /** Samples per pixel side. */
  readonly samples: number;
  #offsets: Float64Array;
  #values: Float64Array;
  #reach: number;

  /**
   * Prepares the sample grid: `(j + 0.5) / samples` in each pixel, as `raster.ts` does.
   *
   * @param options Image size and samples per pixel side (1 to 16).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { HeartRasterizer } from "./heart.ts";
   * assert.equal(new HeartRasterizer({ imageSize: 16, samples: 4 }).samples, 4);
   * ```
   */
  constructor(options: { imageSize: number; samples: number }) {
    const { imageSize, samples } = options;
    if (!Number.isInteger(samples) || samples < 1 || samples > 16) {
      throw new RangeError(`Cannot sample ${samples} points per pixel side: expected 1 to 16`);
    }
    this.imageSize = imageSize;
    this.samples = samples;
    this.#offsets = Float64Array.from({ length: samples }, (_, index) => (index + 0.5) / samples);
    const total = samples * samples;
    this.#values = Float64Array.from({ length: total + 1 }, (_, count) => count / total);
    this.#reach = 0.5 - 0.5 / samples;
  }

  /**
   * Writes the heart's coverage into an image; pixels the heart misses are left as they are.
   *
   * @param heart The heart.
   * @param out The buffer (row-major), zeroed by the caller.
   * @param offset Where the image starts in `out`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createHeart, HeartRasterizer, setHeart } from "./heart.ts";
   * const image = new Float64Array(256);
   * const heart = setHeart(createHeart(), { cx: 8, cy: 8, radius: 6, cos: 1, sin: 0 });
   * new HeartRasterizer({ imageSize: 16, samples: 4 }).fill(heart, image, 0);
   * assert.ok(image[8 * 16 + 8] === 1 && image[0] === 0);
   * ```
   */
  fill(heart: Heart, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize, offsets = this.#offsets, values = this.#values;
    const samples = offsets.length, full = values[values.length - 1]!;
    const edges = heart.edges, discs = heart.discs;
    const spread = this.#reach * Math.SQRT2 + SAFETY;
    const discInner = heart.discRadius > spread ? (heart.discRadius - spread) ** 2 : -1;
    const discOuter = (heart.discRadius + spread) ** 2;
    const margins = [0, 1, 2, 3].map((edge) =>
      this.#reach * (Math.abs(edges[3 * edge]!) + Math.abs(edges[3 * edge + 1]!)) + SAFETY
    );
    const [cx, cy, radius] = heart.bounds as unknown as [number, number, number];
    const firstColumn = Math.max(0, Math.floor(cx - radius));
    const lastColumn = Math.min(imageSize - 1, Math.ceil(cx + radius));
    const firstRow = Math.max(0, Math.floor(cy - radius));
    const lastRow = Math.min(imageSize - 1, Math.ceil(cy + radius));
    for (let y = firstRow; y <= lastRow; y++) {
      const rowStart = offset + y * imageSize;
      const centreY = y + 0.5;
      for (let x = firstColumn; x <= lastColumn; x++) {
        const centreX = x + 0.5;
        // Each part: 0 misses every sample, 1 may hold some, 2 holds all.
        let disc0 = 1, disc1 = 1, square = 2;
        for (let disc = 0; disc < 2; disc++) {
          const dx = centreX - discs[2 * disc]!, dy = centreY - discs[2 * disc + 1]!;
          const distance2 = dx * dx + dy * dy;
          const state = distance2 < discInner ? 2 : distance2 > discOuter ? 0 : 1;
          if (disc === 0) disc0 = state;
          else disc1 = state;
        }
        for (let edge = 0; edge < 4; edge++) {
          const distance = edges[3 * edge]! * centreX + edges[3 * edge + 1]! * centreY -
            edges[3 * edge + 2]!;
          if (distance > margins[edge]!) {
            square = 0;
            break;
          }
          if (distance > -margins[edge]!) square = 1;
        }
        if (disc0 === 2 || disc1 === 2 || square === 2) {
          out[rowStart + x] = full;
          continue;
        }
        if (disc0 === 0 && disc1 === 0 && square === 0) continue;
        let inside = 0;
        for (let row = 0; row < samples; row++) {
          const sampleY = y + offsets[row]!;
          for (let column = 0; column < samples; column++) {
            const sampleX = x + offsets[column]!;
            if (
              (disc0 === 1 && insideDisc(heart, 0, sampleX, sampleY)) ||
              (disc1 === 1 && insideDisc(heart, 1, sampleX, sampleY)) ||
              (square === 1 && insideSquare(heart, sampleX, sampleY))
            ) {
              inside++;
            }
          }
        }
        out[rowStart + x] = values[inside]!;
      }
    }
  }

  /**
   * The slow, obvious way: tests every sample of every pixel. Tests compare it with `fill`.
   *
   * @param heart The heart.
   * @param out The buffer (row-major).
   * @param offset Where the image starts in `out`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createHeart, HeartRasterizer, setHeart } from "./heart.ts";
   * const image = new Float64Array(256);
   * const heart = setHeart(createHeart(), { cx: 8, cy: 8, radius: 6, cos: 1, sin: 0 });
   * new HeartRasterizer({ imageSize: 16, samples: 4 }).fillReference(heart, image, 0);
   * assert.ok(image[8 * 16 + 8] === 1);
   * ```
   */
  fillReference(heart: Heart, out: Float64Array, offset: number): void {
    const imageSize = this.imageSize, offsets = this.#offsets;
    for (let y = 0; y < imageSize; y++) {
      for (let x = 0; x < imageSize; x++) {
        let inside = 0;
        for (let row = 0; row < offsets.length; row++) {
          for (let column = 0; column < offsets.length; column++) {
            if (insideHeart(heart, x + offsets[column]!, y + offsets[row]!)) inside++;
          }
        }
        out[offset + y * imageSize + x] = this.#values[inside]!;
      }
    }
  }
}
