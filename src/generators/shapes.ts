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
 * @module
 */

import type { GeneratorFamily, ImageGenerator, LatentSpec } from "./generator.ts";
import { imageKey, uniform } from "./random.ts";
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

class ShapesGenerator implements ImageGenerator {
  readonly name = "shapes";
  readonly version = "1.0.0";
  readonly classes = CLASSES;
  readonly latents = LATENTS;
  readonly imageSize: number;
  readonly parameters;
  #rasterizer: Rasterizer;
  #bytes = coverageBytes(SUPERSAMPLING, 1);
  #periods = CLASSES.map((name) => SYMMETRY_PERIOD[name]);
  // Reused for every image: rendering allocates nothing.
  #vertices: number[] = [];
  #polygon = polygon([0, 0, 1, 0, 0, 1]);
  #ellipse: Ellipse = { kind: "ellipse", cx: 0, cy: 0, a: 1, b: 1, cos: 1, sin: 0 };

  constructor(imageSize: number) {
    this.imageSize = imageSize;
    this.#rasterizer = new Rasterizer({ imageSize, samples: SUPERSAMPLING });
    this.parameters = {
      classes: [...CLASSES],
      latents: LATENTS.map((latent) => ({ ...latent })),
      radius_fraction: RADIUS_FRACTION,
      ellipse_aspect: ELLIPSE_ASPECT,
      supersampling: SUPERSAMPLING,
      intensity: 1,
      background: 0,
      random: "counter-based lowbias32(seed, index, draw); draws: class, scale, orientation, " +
        "pos_x, pos_y",
    };
  }

  sample(seed: number, index: number, latentsOut: Float32Array, offset: number): number {
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
    const vertices = this.#vertices;
    vertices.length = 0;
    for (let corner = 0; corner < corners; corner++) {
      const theta = start + (corner * 2 * Math.PI) / corners;
      vertices.push(cx + radius * Math.cos(theta), cy + radius * Math.sin(theta));
    }
    return setPolygon(this.#polygon, vertices);
  }
}

/** The `shapes` family. */
export const shapesFamily: GeneratorFamily = {
  name: "shapes",
  description: "dSprites-style ellipse, square and triangle with scale, orientation and position",
  create: (options) => new ShapesGenerator(options.imageSize),
};
