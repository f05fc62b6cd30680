/**
 * The `shapes` family: dSprites-style white shapes on black.
 *
 * Each image holds one shape (class ellipse, square or triangle) with four continuous latent
 * factors drawn uniformly and independently:
 *
 * | latent        | range                      | meaning                                        |
 * | ------------- | -------------------------- | ---------------------------------------------- |
 * | `scale`       | [0.5, 1)                   | circumradius = scale x 0.25 x image side       |
 * | `orientation` | [0, symmetry period)       | radians; 90° square, 120° triangle, 180° ellipse |
 * | `pos_x`       | [0.25, 0.75)               | centre column as a fraction of the image side  |
 * | `pos_y`       | [0.25, 0.75)               | centre row as a fraction of the image side     |
 *
 * The orientation is drawn within each shape's symmetry period, so no two latent vectors
 * describe the same shape in the same pose (dSprites draws squares over 360° and so repeats each
 * image four times). Different poses can still round to the same pixels when shapes are a few
 * pixels wide: `dsgen inspect` counted 1,194 exact duplicates in 1,000,000 images of 16x16. The
 * ranges keep every shape inside the frame: the largest one just touches the border. The
 * ellipse's minor axis is half its major axis. Latents are rounded to float32 before rendering,
 * so the stored latents re-render exactly the stored pixels.
 *
 * With `options.grid` (`true`, or values per factor such as
 * `{ scale: 6, orientation: 40, pos_x: 32, pos_y: 32 }`, the default) the family fixes the
 * number of images to the full grid, 3 classes x the product of the counts, image i being
 * combination i with the class first and the last factor varying fastest. Scale and positions
 * step over their ranges with both ends included (`linspace`); orientation steps over each
 * class's symmetry period without its end, so no two grid poses look alike.
 *
 * @module
 */

import type {
  FactorSpec,
  GeneratorFamily,
  ImageGenerator,
  JsonValue,
  LatentSpec,
} from "./generator.ts";
import { imageKey, uniform } from "./random.ts";
import { ellipseExtent, scaledExtent, squareExtent, triangleExtent } from "./shape_extent.ts";
import {
  coverageBytes,
  type Ellipse,
  polygon,
  Rasterizer,
  setPolygon,
  type Shape,
} from "./raster.ts";

const CLASSES = ["ellipse", "square", "triangle"] as const;
const SYMMETRY_PERIOD: Record<(typeof CLASSES)[number], number> = {
  ellipse: Math.PI,
  square: Math.PI / 2,
  triangle: (2 * Math.PI) / 3,
};
const SCALE_RANGE = { min: 0.5, max: 1 };
const POSITION_RANGE = { min: 0.25, max: 0.75 };
/** Circumradius of a shape of scale 1, as a fraction of the image side. */
const RADIUS_FRACTION = 0.25;
/** Minor over major semi-axis of the ellipse. */
const ELLIPSE_ASPECT = 0.5;
/** Samples per pixel side for anti-aliasing. */
const SUPERSAMPLING = 4;

const float32Scratch = new Float32Array(1);
const uint32Scratch = new Uint32Array(float32Scratch.buffer);

/** A float32 value drawn uniformly from [min, max), never rounded up to max. */
function drawFloat32(min: number, max: number, unit: number): number {
  const value = Math.fround(min + (max - min) * unit);
  if (value < max) return value;
  float32Scratch[0] = max;
  if (float32Scratch[0] >= max) uint32Scratch[0] = uint32Scratch[0]! - 1;
  return float32Scratch[0]!;
}

const LATENTS: readonly LatentSpec[] = [
  { name: "scale", unit: "circumradius / (0.25 x image side)", ...SCALE_RANGE },
  {
    name: "orientation",
    unit: "radians",
    min: 0,
    max: Math.PI,
    perClass: Object.fromEntries(
      CLASSES.map((name) => [name, { min: 0, max: SYMMETRY_PERIOD[name] }]),
    ),
  },
  { name: "pos_x", unit: "centre column / image side", ...POSITION_RANGE },
  { name: "pos_y", unit: "centre row / image side", ...POSITION_RANGE },
];

/** The number of values per factor of a `shapes` grid. */
export interface ShapesGrid {
  /** Scale values, from 0.5 to 1 both included. */
  scale: number;
  /** Orientation values over each class's symmetry period. */
  orientation: number;
  /** Horizontal positions, from 0.25 to 0.75 both included. */
  pos_x: number;
  /** Vertical positions, from 0.25 to 0.75 both included. */
  pos_y: number;
}

/** The grid `--grid` makes without `--grid-values`: dSprites' counts. */
export const DEFAULT_SHAPES_GRID: ShapesGrid = { scale: 6, orientation: 40, pos_x: 32, pos_y: 32 };

/** `count` values from `first` to `last`, both included (one value: `first`). */
function linspace(first: number, last: number, count: number): number[] {
  return Array.from(
    { length: count },
    (_, index) => count === 1 ? first : first + ((last - first) * index) / (count - 1),
  );
}

function gridFactors(grid: ShapesGrid): FactorSpec[] {
  const latent = (name: string) => LATENTS.find((spec) => spec.name === name)!;
  return [
    { name: "class", unit: "class index", min: 0, max: 2, kind: "categorical", values: [0, 1, 2] },
    { ...latent("scale"), kind: "discrete", values: linspace(0.5, 1, grid.scale) },
    {
      ...latent("orientation"),
      kind: "discrete",
      perClassValues: Object.fromEntries(
        CLASSES.map((name) => [
          name,
          Array.from(
            { length: grid.orientation },
            (_, index) => (index * SYMMETRY_PERIOD[name]) / grid.orientation,
          ),
        ]),
      ),
    },
    { ...latent("pos_x"), kind: "discrete", values: linspace(0.25, 0.75, grid.pos_x) },
    { ...latent("pos_y"), kind: "discrete", values: linspace(0.25, 0.75, grid.pos_y) },
  ];
}

class ShapesGenerator implements ImageGenerator {
  readonly name = "shapes";
  readonly version = "1.0.0";
  readonly classes = CLASSES;
  readonly imageSize: number;
  readonly parameters;
  #rasterizer: Rasterizer;
  #bytes = coverageBytes(SUPERSAMPLING, 1);
  #periods = CLASSES.map((name) => SYMMETRY_PERIOD[name]);
  // Reused for every image: rendering allocates nothing.
  #squareVertices = new Float64Array(8);
  #triangleVertices = new Float64Array(6);
  #polygon = polygon([0, 0, 1, 0, 0, 1]);
  #ellipse: Ellipse = { kind: "ellipse", cx: 0, cy: 0, a: 1, b: 1, cos: 1, sin: 0 };
  readonly fixedNumImages?: number;
  readonly factors?: readonly FactorSpec[];
  readonly latents: readonly LatentSpec[] = LATENTS;
  readonly supersampling = SUPERSAMPLING;
  readonly shapeExtent: NonNullable<ImageGenerator["shapeExtent"]>;
  #sizes: number[] = [];
  #stored: Float32Array[][] = [];
  #classes = new Int32Array(5);

  constructor(imageSize: number, grid?: ShapesGrid) {
    this.imageSize = imageSize;
    this.shapeExtent = scaledExtent(
      [ellipseExtent(ELLIPSE_ASPECT), squareExtent, triangleExtent],
      { scaleColumn: 0, pixelsPerScale: RADIUS_FRACTION * imageSize },
    );
    if (grid !== undefined) {
      const factors = gridFactors(grid);
      this.factors = factors;
      // Grid latents declare their values, so that the upper ends pass the quality checks.
      this.latents = LATENTS.map((latent) => {
        const factor = factors.find((spec) => spec.name === latent.name)!;
        return factor.values === undefined ? latent : { ...latent, values: factor.values };
      });
      this.#sizes = factors.map((factor) =>
        (factor.values ?? factor.perClassValues![CLASSES[0]]!).length
      );
      this.fixedNumImages = this.#sizes.reduce((product, size) => product * size, 1);
      // Per factor, per class (one row for factors that do not depend on the class).
      this.#stored = factors.map((factor) =>
        factor.perClassValues === undefined
          ? [Float32Array.from(factor.values!)]
          : CLASSES.map((name) => Float32Array.from(factor.perClassValues![name]!))
      );
    }
    this.#rasterizer = new Rasterizer({ imageSize, samples: SUPERSAMPLING });
    this.parameters = {
      classes: [...CLASSES],
      latents: this.latents.map((latent) => ({ ...latent })) as unknown as JsonValue[],
      ...(grid === undefined ? {} : {
        grid: { ...grid },
        factors: this.factors!.map((factor) => ({ ...factor })) as unknown as JsonValue[],
      }),
      radius_fraction: RADIUS_FRACTION,
      ellipse_aspect: ELLIPSE_ASPECT,
      supersampling: SUPERSAMPLING,
      intensity: 1,
      background: 0,
      random: "counter-based lowbias32(seed, index, draw); draws: class, scale, orientation, " +
        "pos_x, pos_y",
    };
  }

  sampleClasses(_seed: number, index: number, classesOut: Int32Array, offset: number): void {
    let rest = index;
    for (let factor = this.#sizes.length - 1; factor >= 0; factor--) {
      classesOut[offset + factor] = rest % this.#sizes[factor]!;
      rest = Math.floor(rest / this.#sizes[factor]!);
    }
  }

  sample(seed: number, index: number, latentsOut: Float32Array, offset: number): number {
    if (this.factors !== undefined) {
      const classes = this.#classes;
      this.sampleClasses(seed, index, classes, 0);
      const label = classes[0]!;
      for (let latent = 0; latent < 4; latent++) {
        const rows = this.#stored[latent + 1]!;
        latentsOut[offset + latent] = rows[rows.length === 1 ? 0 : label]![classes[latent + 1]!]!;
      }
      return label;
    }
    const key = imageKey(seed, index);
    const label = Math.floor(uniform(key, 0) * CLASSES.length);
    latentsOut[offset] = drawFloat32(SCALE_RANGE.min, SCALE_RANGE.max, uniform(key, 1));
    latentsOut[offset + 1] = drawFloat32(0, this.#periods[label]!, uniform(key, 2));
    latentsOut[offset + 2] = drawFloat32(POSITION_RANGE.min, POSITION_RANGE.max, uniform(key, 3));
    latentsOut[offset + 3] = drawFloat32(POSITION_RANGE.min, POSITION_RANGE.max, uniform(key, 4));
    return label;
  }

  render(
    label: number,
    latents: Float32Array,
    latentOffset: number,
    pixelsOut: Float64Array,
    pixelOffset: number,
  ): void {
    this.#rasterizer.fill(this.shape(label, latents, latentOffset), pixelsOut, pixelOffset);
  }

  renderBytes(
    label: number,
    latents: Float32Array,
    latentOffset: number,
    bytesOut: Uint8Array,
    byteOffset: number,
  ): void {
    const shape = this.shape(label, latents, latentOffset);
    this.#rasterizer.fillBytes(shape, bytesOut, byteOffset, this.#bytes);
  }

  /** The geometry of one image, in pixels; the object is reused by the next call. */
  shape(label: number, latents: Float32Array, offset: number): Shape {
    const size = this.imageSize;
    const radius = latents[offset]! * RADIUS_FRACTION * size;
    const angle = latents[offset + 1]!;
    const cx = latents[offset + 2]! * size;
    const cy = latents[offset + 3]! * size;
    const name = CLASSES[label];
    if (name === "ellipse") {
      const ellipse = this.#ellipse;
      ellipse.cx = cx;
      ellipse.cy = cy;
      ellipse.a = radius;
      ellipse.b = radius * ELLIPSE_ASPECT;
      ellipse.cos = Math.cos(angle);
      ellipse.sin = Math.sin(angle);
      return ellipse;
    }
    const corners = name === "square" ? 4 : 3;
    // Square: corners on the diagonals; triangle: apex up at orientation 0 (y points down).
    const start = name === "square" ? angle + Math.PI / 4 : angle - Math.PI / 2;
    const vertices = corners === 4 ? this.#squareVertices : this.#triangleVertices;
    for (let corner = 0; corner < corners; corner++) {
      const theta = start + (corner * 2 * Math.PI) / corners;
      vertices[2 * corner] = cx + radius * Math.cos(theta);
      vertices[2 * corner + 1] = cy + radius * Math.sin(theta);
    }
    return setPolygon(this.#polygon, vertices);
  }
}

/** The `shapes` family. */
export const shapesFamily: GeneratorFamily = {
  name: "shapes",
  description: "dSprites-style ellipse, square and triangle with scale, orientation and position",
  create: (options) => new ShapesGenerator(options.imageSize, parseShapesGrid(options.options)),
};

/**
 * The grid a `shapes` configuration asks for: `grid: true` for {@linkcode DEFAULT_SHAPES_GRID},
 * or counts per factor (missing ones default), each an integer from 1 to 1000.
 *
 * @param options The family's options from the spec.
 * @returns The grid, or undefined for random sampling.
 * @throws {TypeError} For an unknown option, factor, or a count out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShapesGrid } from "./shapes.ts";
 * assert.equal(parseShapesGrid({ grid: { scale: 2 } })?.scale, 2);
 * assert.equal(parseShapesGrid({}), undefined);
 * ```
 */
export function parseShapesGrid(
  options: { readonly [key: string]: JsonValue } | undefined,
): ShapesGrid | undefined {
  const refuse = (problem: string) =>
    new TypeError(`Cannot configure shapes with ${JSON.stringify(options)}: ${problem}`);
  const { grid, ...rest } = options ?? {};
  if (Object.keys(rest).length > 0) throw refuse(`expected only "grid"`);
  if (grid === undefined || grid === false) return undefined;
  if (grid === true) return { ...DEFAULT_SHAPES_GRID };
  if (typeof grid !== "object" || grid === null || Array.isArray(grid)) {
    throw refuse("expected grid to be true or values per factor");
  }
  const counts: ShapesGrid = { ...DEFAULT_SHAPES_GRID };
  for (const [name, count] of Object.entries(grid)) {
    if (!Object.hasOwn(counts, name)) {
      throw refuse(`unknown factor "${name}", expected ${Object.keys(counts).join(", ")}`);
    }
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 1000) {
      throw refuse(`${name} needs an integer from 1 to 1000 values`);
    }
    counts[name as keyof ShapesGrid] = count;
  }
  return counts;
}
