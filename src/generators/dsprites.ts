/**
 * The `dsprites` family: dSprites' factors and grid, anti-aliased, at any size from 16 to 256.
 *
 * One white shape on black per image. The factors are dSprites' six, in its column order:
 *
 * | latent        | values (index order)                      | meaning                          |
 * | ------------- | ----------------------------------------- | -------------------------------- |
 * | `color`       | 1                                         | white (dSprites' only colour)    |
 * | `shape`       | 1, 2, 3                                   | square, ellipse, heart; label + 1 |
 * | `scale`       | 6 values 0.5, 0.6, ..., 1.0               | circumradius = scale x 0.2 x side |
 * | `orientation` | 40 values k x 2π/40, k = 0..39            | radians, clockwise on screen     |
 * | `posX`        | 32 values j / 31, j = 0..31               | centre, 0 left to 1 right        |
 * | `posY`        | 32 values j / 31, j = 0..31               | centre, 0 top to 1 bottom        |
 *
 * Positions span the usable area: the centre runs from 0.2 x side to 0.8 x side, so the
 * largest shape, at any angle, stays inside the frame (it touches the edge at positions 0 and
 * 1). Every shape has the same circumradius for a scale: the square's corners, the ellipse's
 * major semi-axis (minor = half of it) and the heart's farthest points (see `heart.ts`) lie on
 * the circle of radius scale x 0.2 x side. At orientation 0 the square's sides are level, the
 * ellipse is wide, and the heart points down.
 *
 * With `options.grid` true the family fixes the number of images to the full grid,
 * 1 x 3 x 6 x 40 x 32 x 32 = 737,280, image i being combination i in dSprites' order (the last
 * factor varies fastest). Otherwise each image draws each factor's value index uniformly from
 * (seed, i). Either way the seed decides nothing else: grid images are the same for every seed.
 *
 * By symmetry a square turned by 90° (10 orientation steps) and an ellipse turned by 180° (20
 * steps) are the same shape. The renderer reduces an angle to the shape's symmetry period, and
 * reads a stored grid angle as its exact step first, so those grid images are identical byte for
 * byte: of the 40 orientations, a square has 10 distinct images and an ellipse 20, and a full
 * grid has 6 x 32 x 32 x (30 + 20) = 307,200 images equal to an earlier one.
 *
 * @module
 */

import type { GeneratorFamily, ImageGenerator, JsonValue, LatentSpec } from "./generator.ts";
import { createHeart, HEART_AREA_FACTOR, HeartRasterizer, setHeart } from "./heart.ts";
import { imageKey, uniform } from "./random.ts";
import { ellipseExtent, heartExtent, scaledExtent, squareExtent } from "./shape_extent.ts";
import { type Ellipse, polygon, Rasterizer, setPolygon } from "./raster.ts";

const CLASSES = ["square", "ellipse", "heart"] as const;
/** Circumradius of a shape of scale 1, as a fraction of the image side. */
const RADIUS_FRACTION = 0.2;
/** Minor over major semi-axis of the ellipse. */
const ELLIPSE_ASPECT = 0.5;
/** Samples per pixel side for anti-aliasing. */
const SUPERSAMPLING = 4;
/** The orientation grid: 40 steps over a full turn, without dSprites' repeated 2π. */
const ORIENTATIONS = 40;
const ORIENTATION_STEP = (2 * Math.PI) / ORIENTATIONS;
/** Orientation steps after which each class looks the same again. */
const SYMMETRY_STEPS = [ORIENTATIONS / 4, ORIENTATIONS / 2, ORIENTATIONS] as const;

/** `count` values from `first` to `last`, both included, like numpy's linspace. */
function linspace(first: number, last: number, count: number): number[] {
  return Array.from(
    { length: count },
    (_, index) => first + ((last - first) * index) / (count - 1),
  );
}

const FACTORS: readonly LatentSpec[] = ([
  {
    name: "color",
    unit: "gray level of the shape (1: white)",
    kind: "categorical",
    values: [1],
  },
  { name: "shape", unit: "1 square, 2 ellipse, 3 heart", kind: "categorical", values: [1, 2, 3] },
  { name: "scale", unit: "circumradius / (0.2 x image side)", values: linspace(0.5, 1, 6) },
  {
    name: "orientation",
    unit: "radians, clockwise on screen",
    values: Array.from({ length: ORIENTATIONS }, (_, index) => index * ORIENTATION_STEP),
  },
  {
    name: "posX",
    unit: "centre, 0 left to 1 right of the usable area",
    values: linspace(0, 1, 32),
  },
  {
    name: "posY",
    unit: "centre, 0 top to 1 bottom of the usable area",
    values: linspace(0, 1, 32),
  },
] as { name: string; unit: string; kind?: "categorical"; values: number[] }[]).map((factor) => ({
  kind: "discrete" as const,
  ...factor,
  min: factor.values[0]!,
  // A grid includes its last value; orientation's domain is the whole turn, open at 2π.
  max: factor.name === "orientation" ? 2 * Math.PI : factor.values[factor.values.length - 1]!,
}));

/** The sizes of the factors' grids, in column order. */
const SIZES = FACTORS.map((factor) => factor.values!.length);
/** The full grid's size: 737,280. */
const GRID_SIZE = SIZES.reduce((product, size) => product * size, 1);
/** The stored (float32) values of the factors. */
const STORED = FACTORS.map((factor) => Float32Array.from(factor.values!));

class DspritesGenerator implements ImageGenerator {
  readonly name = "dsprites";
  readonly version = "1.0.0";
  readonly classes = CLASSES;
  readonly latents = FACTORS;
  readonly imageSize: number;
  readonly parameters: { [key: string]: JsonValue };
  readonly fixedNumImages?: number;
  readonly supersampling = SUPERSAMPLING;
  readonly shapeExtent: NonNullable<ImageGenerator["shapeExtent"]>;
  #grid: boolean;
  #rasterizer: Rasterizer;
  #hearts: HeartRasterizer;
  #classes = new Int32Array(FACTORS.length);
  // Reused for every image: rendering allocates nothing.
  #vertices: number[] = [];
  #polygon = polygon([0, 0, 1, 0, 0, 1]);
  #ellipse: Ellipse = { kind: "ellipse", cx: 0, cy: 0, a: 1, b: 1, cos: 1, sin: 0 };
  #heart = createHeart();

  constructor(imageSize: number, grid: boolean) {
    this.imageSize = imageSize;
    this.shapeExtent = scaledExtent([squareExtent, ellipseExtent(ELLIPSE_ASPECT), heartExtent], {
      scaleColumn: FACTORS.findIndex((factor) => factor.name === "scale"),
      pixelsPerScale: RADIUS_FRACTION * imageSize,
    });
    this.#grid = grid;
    if (grid) this.fixedNumImages = GRID_SIZE;
    this.#rasterizer = new Rasterizer({ imageSize, samples: SUPERSAMPLING });
    this.#hearts = new HeartRasterizer({ imageSize, samples: SUPERSAMPLING });
    this.parameters = {
      classes: [...CLASSES],
      latents: FACTORS.map((factor) => ({ ...factor, values: [...factor.values!] })),
      latents_sizes: [...SIZES],
      grid,
      radius_fraction: RADIUS_FRACTION,
      ellipse_aspect: ELLIPSE_ASPECT,
      heart_area_fraction: HEART_AREA_FACTOR,
      supersampling: SUPERSAMPLING,
      intensity: 1,
      background: 0,
      random: grid
        ? "none: image i is grid combination i, the last factor varying fastest"
        : "counter-based lowbias32(seed, index, draw); draws: the value index of color, shape, " +
          "scale, orientation, posX, posY",
      differences_from_dsprites: [
        "orientation has 40 distinct steps over [0, 2π): dSprites repeats 0 as 2π",
        "images are anti-aliased gray levels 0 to 255: dSprites stores 0 and 1",
        "any image size from 16 to 256: dSprites is 64x64 only",
        "metadata is plain numeric arrays and JSON: dSprites' metadata needs pickle",
      ],
    };
  }

  expectedDuplicates(numImages: number): { count: number; reason: string } {
    const reason = "a square repeats every 90° (10 orientation steps) and an ellipse every " +
      "180° (20 steps)";
    const perPose = GRID_SIZE / (3 * ORIENTATIONS);
    if (this.#grid) {
      const count = numImages === GRID_SIZE ? perPose * (ORIENTATIONS - 10 + ORIENTATIONS - 20) : 0;
      return { count, reason };
    }
    // Random draws repeat combinations, and symmetric ones look alike: the expected number of
    // images equal to an earlier one is N minus the expected number of distinct images, each
    // distinct image being drawn with probability (combinations showing it) / grid size.
    let distinct = 0;
    for (
      const [images, combinations] of [[perPose * 10, 4], [perPose * 20, 2], [perPose * 40, 1]]
    ) {
      distinct += images! * -Math.expm1(numImages * Math.log1p(-combinations! / GRID_SIZE));
    }
    return {
      count: Math.round(numImages - distinct),
      reason: `random draws from the ${GRID_SIZE}-image grid repeat, and ${reason}`,
    };
  }

  sampleClasses(seed: number, index: number, classesOut: Int32Array, offset: number): void {
    if (this.#grid) {
      // Integer division, one per factor: the index is below 2^31 (the grid has 737,280).
      let rest = index | 0;
      for (let factor = SIZES.length - 1; factor >= 0; factor--) {
        const size = SIZES[factor]!;
        const next = (rest / size) | 0;
        classesOut[offset + factor] = rest - next * size;
        rest = next;
      }
      return;
    }
    const key = imageKey(seed, index);
    for (let factor = 0; factor < SIZES.length; factor++) {
      classesOut[offset + factor] = Math.floor(uniform(key, factor) * SIZES[factor]!);
    }
  }

  sample(seed: number, index: number, latentsOut: Float32Array, offset: number): number {
    const classes = this.#classes;
    this.sampleClasses(seed, index, classes, 0);
    for (let factor = 0; factor < SIZES.length; factor++) {
      latentsOut[offset + factor] = STORED[factor]![classes[factor]!]!;
    }
    return classes[1]!;
  }

  labelOf(latents: Float32Array, offset: number): number {
    return latents[offset + 1]! - 1;
  }

  render(
    label: number,
    latents: Float32Array,
    latentOffset: number,
    pixelsOut: Float64Array,
    pixelOffset: number,
  ): void {
    const size = this.imageSize;
    const maxRadius = RADIUS_FRACTION * size;
    const radius = latents[latentOffset + 2]! * maxRadius;
    const angle = this.#angle(label, latents[latentOffset + 3]!);
    const cx = maxRadius + latents[latentOffset + 4]! * (size - 2 * maxRadius);
    const cy = maxRadius + latents[latentOffset + 5]! * (size - 2 * maxRadius);
    const cos = Math.cos(angle), sin = Math.sin(angle);
    const name = CLASSES[label];
    if (name === "heart") {
      setHeart(this.#heart, { cx, cy, radius, cos, sin });
      this.#hearts.fill(this.#heart, pixelsOut, pixelOffset);
    } else if (name === "ellipse") {
      const ellipse = this.#ellipse;
      ellipse.cx = cx;
      ellipse.cy = cy;
      ellipse.a = radius;
      ellipse.b = radius * ELLIPSE_ASPECT;
      ellipse.cos = cos;
      ellipse.sin = sin;
      this.#rasterizer.fill(ellipse, pixelsOut, pixelOffset);
    } else if (name === "square") {
      // Corners on the diagonals: sides level at orientation 0.
      const vertices = this.#vertices;
      vertices.length = 0;
      for (let corner = 0; corner < 4; corner++) {
        const theta = angle + Math.PI / 4 + (corner * Math.PI) / 2;
        vertices.push(cx + radius * Math.cos(theta), cy + radius * Math.sin(theta));
      }
      this.#rasterizer.fill(setPolygon(this.#polygon, vertices), pixelsOut, pixelOffset);
    } else {
      throw new RangeError(`Cannot render label ${label}: expected 0 to ${CLASSES.length - 1}`);
    }
  }

  /**
   * The angle to draw, reduced to the class's symmetry period: a stored grid angle (the float32
   * of step k) becomes the exact angle of step k mod the period, so symmetric grid images are
   * identical; any other angle is reduced arithmetically.
   */
  #angle(label: number, stored: number): number {
    const period = SYMMETRY_STEPS[label] ?? ORIENTATIONS;
    const step = Math.round(stored / ORIENTATION_STEP);
    if (step >= 0 && step < ORIENTATIONS && STORED[3]![step] === stored) {
      return (step % period) * ORIENTATION_STEP;
    }
    const turn = period * ORIENTATION_STEP;
    return stored - turn * Math.floor(stored / turn);
  }
}

/** The `dsprites` family; options: `{ grid: true }` for the full 737,280-image grid. */
export const dspritesFamily: GeneratorFamily = {
  name: "dsprites",
  description: "dSprites' square, ellipse and heart on its factor grid, anti-aliased, any size",
  minImageSize: 16,
  defaultImageSize: 64,
  create: (options) => {
    if (!Number.isInteger(options.imageSize) || options.imageSize < 16) {
      throw new RangeError(
        `Cannot use image size ${options.imageSize} for dsprites: expected 16 to 256`,
      );
    }
    const extra = Object.keys(options.options ?? {}).filter((key) => key !== "grid");
    const grid = options.options?.grid ?? false;
    if (extra.length > 0 || typeof grid !== "boolean") {
      throw new TypeError(
        `Cannot configure dsprites with options ${JSON.stringify(options.options)}: ` +
          "expected { grid: true | false }",
      );
    }
    return new DspritesGenerator(options.imageSize, grid);
  },
};
