/**
 * The `scenes` renderer core: several dSprites shapes per image, in colour, with per-object
 * masks, amodal masks and occlusion, like DeepMind's Multi-dSprites.
 *
 * This module renders into the typed views of a sample schema (`./sample_schema.ts`);
 * `scenes_family.ts` makes it the `scenes` family of `dsgen generate`.
 *
 * ## The model
 * A scene has a background (entity 0) and `numObjects` objects in slots 1 to numObjects of K
 * (the rest are padding, all zero). Each object is a dSprites shape drawn exactly as the
 * `dsprites` family draws it (the same rasterizer, geometry and 4x4 supersampling): a shape
 * (square, ellipse, heart), one of dSprites' 6 scales, 40 orientations and 32 x 32 positions,
 * each drawn uniformly. The objects are painted in a random order (painter's algorithm: each
 * covers those before it); `depth_order` records it.
 *
 * Colours are 8-bit levels. A pixel's value starts at the background's level and each object,
 * in painting order, blends over it by its coverage `a` (the fraction of the pixel's 16
 * samples inside it): `v += a x (level - v)`. Levels are integers and coverages multiples of
 * 1/16, so the blend is exact in float64 for up to {@linkcode MAX_SCENE_OBJECTS} objects, and
 * so equals, bit for bit, the sum over entities of weight x level (weights below), which is how
 * it is computed: one pass per pixel, front to back. The byte is `v` rounded half to even, as
 * numpy rounds.
 *
 * ## Masks
 * Each entity's share of a pixel's value is its weight: an object's coverage times the
 * fraction left uncovered by the objects painted after it; the background's is what is left.
 * The weights sum to 1. At each pixel the entity of the largest weight (the one whose colour
 * dominates the pixel) is 255 in `masks` and every other entity 0; on a tie the entity in front
 * wins, and the background loses. An object's amodal mask is where it would win over the
 * background alone (coverage at least 1/2), together with where it wins in the scene (an object
 * can win a pixel it covers less than half when every other entity there has even less), so
 * the amodal mask always contains the visible one. Occlusion is `1 - visible / amodal` pixel
 * counts (1 for an object without amodal pixels, 0 for padding).
 *
 * ## Determinism
 * Scene i depends only on (seed, i): every draw is `uniform(imageKey(seed, i), d)` with a
 * fixed number d for each quantity (see {@linkcode drawIndex}), so neither K (padding), chunking
 * nor the number of placement attempts of one object changes another's draws.
 *
 * @module
 */

import { dspritesFamily } from "./dsprites.ts";
import type { ImageGenerator } from "./generator.ts";
import { imageKey, uniform } from "./random.ts";
import {
  type ArraySpec,
  checkSampleSchema,
  type ChunkLayout,
  type SampleSchema,
} from "./sample_schema.ts";

/**
 * The most objects (K) a scene may have: blending and mask weights stay exact in float64
 * (8 bits of colour plus 4 bits of coverage per object: 48 bits at 10), and the masks of one
 * 64x64 scene stay under 45 KB.
 */
export const MAX_SCENE_OBJECTS = 10;

/**
 * The most objects a scene without overlap may have. dSprites' objects are large (a
 * circumradius of 0.1 to 0.2 of the side, centres within the middle 0.6): the area scales with
 * the side, so this does not depend on the image size. Measured over 5,000 scenes of squares
 * (the largest shape) at 16x16, 6 objects needed at most 11 arrangements of
 * {@linkcode MAX_SCENE_ATTEMPTS} and about 0.4 ms a scene; 9 failed some scenes outright.
 */
export const MAX_OBJECTS_WITHOUT_OVERLAP = 6;

/** Attempts to place one object without overlap before its arrangement is given up. */
export const MAX_PLACEMENT_ATTEMPTS = 100;

/**
 * Arrangements of a scene without overlap (each redraws every object's geometry, keeping the
 * count and the colours) before the scene is given up.
 */
export const MAX_SCENE_ATTEMPTS = 100;

/** The shapes, in dSprites' order: a stored `shape` is the index here plus 1 (0 for padding). */
export const SCENE_SHAPES = ["square", "ellipse", "heart"] as const;

/** A shape's name. */
export type SceneShape = typeof SCENE_SHAPES[number];

/** How a preset colours the background and the objects. */
export type ColorRule = "white_on_black" | "hsv_on_gray" | "rgb_on_rgb";

/** A preset: DeepMind's variant of Multi-dSprites it follows. */
export interface ScenePreset {
  /** Fewest objects per scene. */
  readonly minObjects: number;
  /** Most objects per scene; DeepMind's `MAX_NUM_ENTITIES` is this plus 1 (the background). */
  readonly maxObjects: number;
  /** Whether the image is one channel (S, S) rather than RGB (S, S, 3). */
  readonly grayscale: boolean;
  /** The colour rule. */
  readonly colors: ColorRule;
}

/**
 * DeepMind's three Multi-dSprites variants (multi_object_datasets' readme and
 * `MAX_NUM_ENTITIES_DICT`: 4, 6 and 5 entities including the background):
 * - `binarized`: 2-3 white objects on black, grayscale;
 * - `colored_on_grayscale`: 2-5 objects of uniform random HSV colour on a uniform random gray;
 * - `colored_on_colored`: 1-4 objects, background and objects of uniform random RGB colour.
 */
export const SCENE_PRESETS: Readonly<Record<string, ScenePreset>> = Object.freeze({
  binarized: Object.freeze({
    minObjects: 2,
    maxObjects: 3,
    grayscale: true,
    colors: "white_on_black" as const,
  }),
  colored_on_grayscale: Object.freeze({
    minObjects: 2,
    maxObjects: 5,
    grayscale: false,
    colors: "hsv_on_gray" as const,
  }),
  colored_on_colored: Object.freeze({
    minObjects: 1,
    maxObjects: 4,
    grayscale: false,
    colors: "rgb_on_rgb" as const,
  }),
});

/** The options a user gives; every field but none is optional. */
export interface ScenesOptions {
  /** One of {@linkcode SCENE_PRESETS}' names; default `colored_on_colored`. */
  preset?: string;
  /** Side of the square image, 16 to 256; default 64. */
  imageSize?: number;
  /** Fewest objects per scene, 0 to maxObjects; default the preset's. */
  minObjects?: number;
  /** Most objects per scene, 1 to K; default the preset's. */
  maxObjects?: number;
  /** K, the object slots of the per-object arrays, maxObjects to 10; default maxObjects. */
  maxK?: number;
  /** The shapes to draw from, a non-empty subset of {@linkcode SCENE_SHAPES}; default all. */
  shapes?: readonly string[];
  /** Whether objects may overlap; default true. Without overlap no pixel is touched twice. */
  overlap?: boolean;
}

/** Resolved, checked options. */
export interface ScenesConfig {
  /** The preset's name. */
  readonly preset: string;
  /** Side of the square image. */
  readonly imageSize: number;
  /** Fewest objects per scene. */
  readonly minObjects: number;
  /** Most objects per scene. */
  readonly maxObjects: number;
  /** K: object slots per scene. */
  readonly maxK: number;
  /** The shapes drawn from, as stored codes 1 (square), 2 (ellipse), 3 (heart). */
  readonly shapes: readonly number[];
  /** Whether objects may overlap. */
  readonly overlap: boolean;
  /** Whether the image is (S, S) rather than (S, S, 3). */
  readonly grayscale: boolean;
  /** Colour channels: 1 or 3. */
  readonly channels: number;
  /** The colour rule. */
  readonly colors: ColorRule;
}

const OPTION_NAMES = [
  "preset",
  "imageSize",
  "minObjects",
  "maxObjects",
  "maxK",
  "shapes",
  "overlap",
] as const;

function integerIn(name: string, value: unknown, low: number, high: number, text?: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > high) {
    throw new RangeError(
      `Cannot use ${name} ${JSON.stringify(value) ?? String(value)} for scenes: expected an ` +
        `integer from ${text ?? low} to ${high}`,
    );
  }
  return value;
}

/**
 * Checks and resolves a user's options: the preset's defaults fill what is not given.
 *
 * @param options The options; `{}` for the `colored_on_colored` preset at 64x64.
 * @returns The resolved options, frozen.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveScenesOptions } from "./scenes.ts";
 * const config = resolveScenesOptions({ preset: "binarized", imageSize: 32 });
 * assert.deepEqual([config.minObjects, config.maxObjects, config.maxK, config.channels], [2, 3, 3, 1]);
 * assert.throws(() => resolveScenesOptions({ maxK: 11 }), RangeError);
 * ```
 */
export function resolveScenesOptions(options: ScenesOptions): ScenesConfig {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `Cannot configure scenes with ${JSON.stringify(options)}: expected an object of options`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new TypeError(
        `Cannot configure scenes with option "${key}": expected ${OPTION_NAMES.join(", ")}`,
      );
    }
  }
  const presetName = options.preset ?? "colored_on_colored";
  const preset = typeof presetName === "string" && Object.hasOwn(SCENE_PRESETS, presetName)
    ? SCENE_PRESETS[presetName]!
    : undefined;
  if (preset === undefined) {
    throw new RangeError(
      `Cannot use scenes preset ${JSON.stringify(presetName)}: expected binarized, ` +
        "colored_on_grayscale or colored_on_colored",
    );
  }
  const imageSize = integerIn("imageSize", options.imageSize ?? 64, 16, 256);
  const maxObjects = integerIn(
    "maxObjects",
    options.maxObjects ?? preset.maxObjects,
    1,
    MAX_SCENE_OBJECTS,
  );
  const minObjects = integerIn(
    "minObjects",
    options.minObjects ?? Math.min(preset.minObjects, maxObjects),
    0,
    maxObjects,
    options.maxObjects === undefined ? undefined : `0 to maxObjects (${maxObjects}), so from 0`,
  );
  const maxK = integerIn(
    "maxK",
    options.maxK ?? maxObjects,
    maxObjects,
    MAX_SCENE_OBJECTS,
    `maxObjects (${maxObjects})`,
  );
  const shapeNames = options.shapes ?? SCENE_SHAPES;
  if (!Array.isArray(shapeNames) || shapeNames.length === 0) {
    throw new TypeError(
      `Cannot use shapes ${JSON.stringify(shapeNames)} for scenes: expected a non-empty list ` +
        `of ${SCENE_SHAPES.join(", ")}`,
    );
  }
  const shapes: number[] = [];
  for (const name of shapeNames) {
    const code = SCENE_SHAPES.indexOf(name as SceneShape) + 1;
    if (code === 0) {
      throw new RangeError(
        `Cannot use shape ${JSON.stringify(name)} for scenes: expected ` +
          SCENE_SHAPES.join(", "),
      );
    }
    if (shapes.includes(code)) {
      throw new RangeError(
        `Cannot use shape "${name}" twice for scenes: expected each shape at most once`,
      );
    }
    shapes.push(code);
  }
  const overlap = options.overlap ?? true;
  if (typeof overlap !== "boolean") {
    throw new TypeError(
      `Cannot use overlap ${JSON.stringify(overlap)} for scenes: expected true or false`,
    );
  }
  if (!overlap && maxObjects > MAX_OBJECTS_WITHOUT_OVERLAP) {
    throw new RangeError(
      `Cannot use maxObjects ${maxObjects} for scenes without overlap: expected an integer ` +
        `from 1 to ${MAX_OBJECTS_WITHOUT_OVERLAP} when overlap is false`,
    );
  }
  return Object.freeze({
    preset: presetName,
    imageSize,
    minObjects,
    maxObjects,
    maxK,
    shapes: Object.freeze(shapes),
    overlap,
    grayscale: preset.grayscale,
    channels: preset.grayscale ? 1 : 3,
    colors: preset.colors,
  });
}

/**
 * The arrays of a scene, as a sample schema (S the image size, K the object slots, C the
 * colour channels):
 *
 * | array          | dtype   | shape         | role   |
 * | -------------- | ------- | ------------- | ------ |
 * | `image`        | uint8   | (S, S, 3) or (S, S) for a grayscale preset | image |
 * | `masks`        | uint8   | (K+1, S, S)   | mask   |
 * | `amodal_masks` | uint8   | (K, S, S)     | mask   |
 * | `visibility`   | uint8   | (K+1,)        | other  |
 * | `num_objects`  | uint8   | ()            | label  |
 * | `shape`        | uint8   | (K,)          | factor |
 * | `scale`        | float32 | (K,)          | factor |
 * | `orientation`  | float32 | (K,)          | factor |
 * | `x`            | float32 | (K,)          | factor |
 * | `y`            | float32 | (K,)          | factor |
 * | `color`        | float32 | (K+1, C)      | factor |
 * | `depth_order`  | uint8   | (K,)          | factor |
 * | `occlusion`    | float32 | (K,)          | other  |
 *
 * @param config Resolved options.
 * @returns The checked schema.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveScenesOptions, scenesSchema } from "./scenes.ts";
 * const schema = scenesSchema(resolveScenesOptions({}));
 * assert.deepEqual(schema.arrays.find((spec) => spec.name === "masks")!.shape, [5, 64, 64]);
 * ```
 */
export function scenesSchema(config: ScenesConfig): SampleSchema {
  const size = config.imageSize, slots = config.maxK;
  const arrays: ArraySpec[] = [
    {
      name: "image",
      dtype: "uint8",
      shape: config.grayscale ? [size, size] : [size, size, 3],
      role: "image",
    },
    { name: "masks", dtype: "uint8", shape: [slots + 1, size, size], role: "mask" },
    { name: "amodal_masks", dtype: "uint8", shape: [slots, size, size], role: "mask" },
    { name: "visibility", dtype: "uint8", shape: [slots + 1], role: "other" },
    { name: "num_objects", dtype: "uint8", shape: [], role: "label" },
    { name: "shape", dtype: "uint8", shape: [slots], role: "factor" },
    { name: "scale", dtype: "float32", shape: [slots], role: "factor" },
    { name: "orientation", dtype: "float32", shape: [slots], role: "factor" },
    { name: "x", dtype: "float32", shape: [slots], role: "factor" },
    { name: "y", dtype: "float32", shape: [slots], role: "factor" },
    { name: "color", dtype: "float32", shape: [slots + 1, config.channels], role: "factor" },
    { name: "depth_order", dtype: "uint8", shape: [slots], role: "factor" },
    { name: "occlusion", dtype: "float32", shape: [slots], role: "other" },
  ];
  return checkSampleSchema(arrays);
}

/** The drawn factors of one scene, padded to K objects (a padding slot is all zero). */
export interface SceneFactors {
  /** The number of objects, in slots 0 to numObjects - 1. */
  numObjects: number;
  /** Per slot: 1 square, 2 ellipse, 3 heart; 0 for padding. */
  shape: Uint8Array;
  /** Per slot: dSprites' scale, 0.5 to 1 (circumradius = scale x 0.2 x side). */
  scale: Float32Array;
  /** Per slot: the angle in radians, clockwise on screen, a multiple of 2π/40. */
  orientation: Float32Array;
  /** Per slot: the centre, 0 (left) to 1 (right) of the usable area, a multiple of 1/31. */
  x: Float32Array;
  /** Per slot: the centre, 0 (top) to 1 (bottom) of the usable area, a multiple of 1/31. */
  y: Float32Array;
  /** Per entity (background first), per channel: the colour level 0 to 255. */
  level: Uint8Array;
  /** Per slot: 1 for the object painted first (at the back) to numObjects; 0 for padding. */
  depthOrder: Uint8Array;
}

/**
 * Empty factors for K slots and C channels, to be filled by {@linkcode SceneRenderer.draw}.
 *
 * @param maxK K, the object slots.
 * @param channels C, 1 or 3.
 * @returns Zeroed factors.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSceneFactors } from "./scenes.ts";
 * assert.equal(createSceneFactors(4, 3).level.length, 15);
 * ```
 */
export function createSceneFactors(maxK: number, channels: number): SceneFactors {
  return {
    numObjects: 0,
    shape: new Uint8Array(maxK),
    scale: new Float32Array(maxK),
    orientation: new Float32Array(maxK),
    x: new Float32Array(maxK),
    y: new Float32Array(maxK),
    level: new Uint8Array((maxK + 1) * channels),
    depthOrder: new Uint8Array(maxK),
  };
}

/** Draws per object attempt: shape, scale, orientation, x, y and three colour draws. */
const DRAWS_PER_ATTEMPT = 8;
/** The first draw of the objects: after the count (0) and the background colour (1 to 3). */
const OBJECT_DRAWS = 4;
/** The first draw of the painting order, after every possible object attempt. */
const ORDER_DRAWS = OBJECT_DRAWS + MAX_SCENE_OBJECTS * MAX_PLACEMENT_ATTEMPTS * DRAWS_PER_ATTEMPT;
/** The first draw of arrangement 1 of a scene without overlap, after the painting order's. */
const RETRY_DRAWS = ORDER_DRAWS + MAX_SCENE_OBJECTS;

/**
 * The number of the draw of a quantity of a scene: 0 the object count, 1 to 3 the background
 * colour, then per object slot and attempt 8 draws (shape, scale, orientation, x, y, colour x
 * 3), then the painting order. Fixed numbers keep each quantity's draw independent of the
 * others' outcomes.
 *
 * @param slot The object's slot, 0 to {@linkcode MAX_SCENE_OBJECTS} - 1.
 * @param attempt The placement attempt, 0 to {@linkcode MAX_PLACEMENT_ATTEMPTS} - 1.
 * @param field 0 shape, 1 scale, 2 orientation, 3 x, 4 y, 5 to 7 colour.
 * @returns The draw's number for `uniform(key, draw)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawIndex } from "./scenes.ts";
 * assert.equal(drawIndex(0, 0, 0), 4);
 * assert.equal(drawIndex(1, 0, 0), 804);
 * ```
 */
export function drawIndex(slot: number, attempt: number, field: number): number {
  return OBJECT_DRAWS + (slot * MAX_PLACEMENT_ATTEMPTS + attempt) * DRAWS_PER_ATTEMPT + field;
}

/** HSV in [0, 1) each to an RGB level 0..255 per channel (the standard hexcone model). */
function hsvLevels(hue: number, saturation: number, value: number, out: Uint8Array, at: number) {
  const sector = Math.floor(hue * 6), fraction = hue * 6 - sector;
  const p = value * (1 - saturation);
  const q = value * (1 - saturation * fraction);
  const t = value * (1 - saturation * (1 - fraction));
  const rgb = [
    [value, t, p],
    [q, value, p],
    [p, value, t],
    [p, q, value],
    [t, p, value],
    [value, p, q],
  ][sector % 6]!;
  for (let channel = 0; channel < 3; channel++) out[at + channel] = Math.round(rgb[channel]! * 255);
}

/** Checks factors given to `render`: what the renderer relies on, one message each. */
function checkFactors(factors: SceneFactors, config: ScenesConfig): void {
  const { numObjects, shape, depthOrder } = factors;
  const slots = config.maxK;
  const lengths = [shape, depthOrder, factors.scale, factors.orientation, factors.x, factors.y]
    .map((array) => array.length);
  if (lengths.some((length) => length !== slots)) {
    throw new RangeError(
      `Cannot render scene factors of ${lengths.find((length) => length !== slots)} slots: ` +
        `expected K = ${slots}`,
    );
  }
  if (factors.level.length !== (slots + 1) * config.channels) {
    throw new RangeError(
      `Cannot render ${factors.level.length} colour levels: expected (K + 1) x C = ` +
        `${(slots + 1) * config.channels}`,
    );
  }
  if (!Number.isInteger(numObjects) || numObjects < 0 || numObjects > slots) {
    throw new RangeError(
      `Cannot render a scene of ${numObjects} objects: expected an integer from 0 to ${slots}`,
    );
  }
  let seen = 0;
  for (let slot = 0; slot < slots; slot++) {
    const code = shape[slot]!, rank = depthOrder[slot]!;
    if (slot < numObjects ? code < 1 || code > 3 : code !== 0) {
      throw new RangeError(
        `Cannot render shape ${code} in slot ${slot} of a scene of ${numObjects} objects: ` +
          `expected ${slot < numObjects ? "1 to 3" : "0 for padding"}`,
      );
    }
    if (
      slot < numObjects ? rank < 1 || rank > numObjects || (seen & (1 << rank)) !== 0 : rank !== 0
    ) {
      throw new RangeError(
        `Cannot render depth_order ${rank} in slot ${slot} of a scene of ${numObjects} ` +
          `objects: expected ${
            slot < numObjects ? `each of 1 to ${numObjects} once` : "0 for padding"
          }`,
      );
    }
    seen |= 1 << rank;
    for (const [name, values, low, high] of FACTOR_RANGES) {
      const value = factors[values][slot]!;
      const inRange = slot < numObjects
        ? value >= low && (name === "orientation" ? value < high : value <= high)
        : value === 0;
      if (!inRange) {
        throw new RangeError(
          `Cannot render ${name} ${value} in slot ${slot} of a scene of ${numObjects} objects: ` +
            `expected ${
              slot < numObjects
                ? `${low} to ${name === "orientation" ? "2π (open)" : high}`
                : "0 for padding"
            }`,
        );
      }
    }
  }
  for (let entry = (numObjects + 1) * config.channels; entry < factors.level.length; entry++) {
    if (factors.level[entry] !== 0) {
      throw new RangeError(
        `Cannot render colour level ${factors.level[entry]} of padding entity ` +
          `${Math.floor(entry / config.channels)}: expected 0`,
      );
    }
  }
}

/** The domains of the continuous factors `render` accepts (orientation's top is open). */
const FACTOR_RANGES = [
  ["scale", "scale", 0.5, 1],
  ["orientation", "orientation", 0, 2 * Math.PI],
  ["x", "x", 0, 1],
  ["y", "y", 0, 1],
] as const;

/** The typed views of a chunk's scene arrays. */
interface SceneViews {
  image: Uint8Array;
  masks: Uint8Array;
  amodal: Uint8Array;
  visibility: Uint8Array;
  numObjects: Uint8Array;
  shape: Uint8Array;
  scale: Float32Array;
  orientation: Float32Array;
  x: Float32Array;
  y: Float32Array;
  color: Float32Array;
  depthOrder: Uint8Array;
  occlusion: Float32Array;
}

/**
 * Draws and renders scenes for one configuration. It holds scratch buffers, so one renderer
 * serves one thread; its output depends only on the configuration and (seed, index).
 */
export class SceneRenderer {
  /** The resolved options. */
  readonly config: ScenesConfig;
  /** The arrays it writes. */
  readonly schema: SampleSchema;
  #shapes: ImageGenerator;
  #scales: Float32Array;
  #orientations: Float32Array;
  #positions: Float32Array;
  /** Per slot, from slot x S²: the object's coverage of each pixel, valid inside its box. */
  #coverage: Float64Array;
  /** Per slot: first column, last column, first row, last row (empty when first > last). */
  #boxes: Int32Array;
  /** dSprites' latent row for the shape renderer: color, shape, scale, orientation, x, y. */
  #latents = new Float32Array(6);
  /** Pixels some placed object touches, for scenes without overlap. */
  #occupied: Uint8Array;
  /** Slots in painting order, back to front. */
  #order: Int32Array;
  #visible: Int32Array;
  #amodalArea: Int32Array;
  #levels: Float64Array;
  #factors: SceneFactors;
  /** Per row: the slots whose boxes hold it, front to back; and their coverages. */
  #active: Int32Array;
  #alphas: Float64Array;
  /** Per active slot of the row: its box's columns, and where its coverage row starts. */
  #activeX0: Int32Array;
  #activeX1: Int32Array;
  #activeAt: Int32Array;
  /** The chunk's image as clamped bytes: a store rounds half to even, as numpy does. */
  #clampedImage: Uint8ClampedArray | undefined;

  /**
   * Prepares a renderer.
   *
   * @param options The user's options, checked by {@linkcode resolveScenesOptions}.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SceneRenderer } from "./scenes.ts";
   * assert.equal(new SceneRenderer({ preset: "binarized" }).config.maxK, 3);
   * ```
   */
  constructor(options: ScenesOptions) {
    const config = resolveScenesOptions(options);
    this.config = config;
    this.schema = scenesSchema(config);
    this.#shapes = dspritesFamily.create({ imageSize: config.imageSize });
    const values = this.#shapes.latents.map((latent) => Float32Array.from(latent.values ?? []));
    this.#scales = values[2]!;
    this.#orientations = values[3]!;
    this.#positions = values[4]!;
    const pixels = config.imageSize * config.imageSize;
    this.#coverage = new Float64Array(config.maxK * pixels);
    this.#boxes = new Int32Array(4 * config.maxK);
    this.#occupied = new Uint8Array(pixels);
    this.#order = new Int32Array(config.maxK);
    this.#visible = new Int32Array(config.maxK + 1);
    this.#amodalArea = new Int32Array(config.maxK);
    this.#levels = new Float64Array(3 * (config.maxK + 1));
    this.#factors = createSceneFactors(config.maxK, config.channels);
    this.#active = new Int32Array(config.maxK);
    this.#alphas = new Float64Array(config.maxK);
    this.#activeX0 = new Int32Array(config.maxK);
    this.#activeX1 = new Int32Array(config.maxK);
    this.#activeAt = new Int32Array(config.maxK);
  }

  /**
   * Draws the factors of scene `index` under `seed`. Without overlap, an object that touches a
   * pixel an earlier object touches is drawn again (all its factors), up to
   * {@linkcode MAX_PLACEMENT_ATTEMPTS} times; when one fails them all, every object's geometry
   * is drawn again (a new arrangement, same count and colours), up to
   * {@linkcode MAX_SCENE_ATTEMPTS} arrangements.
   *
   * @param seed The dataset seed, 0 to 2^32 - 1.
   * @param index The scene's index.
   * @param out Where to write, from {@linkcode createSceneFactors} with this K and C.
   * @returns `out`.
   * @throws {RangeError} When no arrangement places every object without overlap (not seen at
   * or below {@linkcode MAX_OBJECTS_WITHOUT_OVERLAP} objects, which the options enforce).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createSceneFactors, SceneRenderer } from "./scenes.ts";
   * const renderer = new SceneRenderer({});
   * const factors = renderer.draw(7, 0, createSceneFactors(4, 3));
   * assert.ok(factors.numObjects >= 1 && factors.numObjects <= 4);
   * ```
   */
  draw(seed: number, index: number, out: SceneFactors): SceneFactors {
    const config = this.config;
    const key = imageKey(seed, index);
    const span = config.maxObjects - config.minObjects + 1;
    const numObjects = config.minObjects + Math.floor(uniform(key, 0) * span);
    out.numObjects = numObjects;
    out.shape.fill(0);
    out.scale.fill(0);
    out.orientation.fill(0);
    out.x.fill(0);
    out.y.fill(0);
    out.level.fill(0);
    out.depthOrder.fill(0);
    const channels = config.channels;
    if (config.colors === "hsv_on_gray") {
      out.level.fill(Math.floor(uniform(key, 1) * 256), 0, 3);
    } else if (config.colors === "rgb_on_rgb") {
      for (let channel = 0; channel < 3; channel++) {
        out.level[channel] = Math.floor(uniform(key, 1 + channel) * 256);
      }
    }
    for (let sceneAttempt = 0; !this.#placeObjects(key, numObjects, sceneAttempt, out);) {
      if (++sceneAttempt === MAX_SCENE_ATTEMPTS) {
        throw new RangeError(
          `Cannot place ${numObjects} objects without overlap in scene ${index} of seed ` +
            `${seed}: every one of ${MAX_SCENE_ATTEMPTS} arrangements had an object that ` +
            `overlapped another in all ${MAX_PLACEMENT_ATTEMPTS} of its attempts; expected ` +
            `fewer objects, a larger imageSize, or overlap allowed`,
        );
      }
    }
    for (let slot = 0; slot < numObjects; slot++) {
      const at = (slot + 1) * channels;
      if (config.colors === "white_on_black") {
        out.level[at] = 255;
      } else {
        const colorDraw = (field: number) => uniform(key, drawIndex(slot, 0, field));
        if (config.colors === "hsv_on_gray") {
          hsvLevels(colorDraw(5), colorDraw(6), colorDraw(7), out.level, at);
        } else {
          for (let channel = 0; channel < 3; channel++) {
            out.level[at + channel] = Math.floor(colorDraw(5 + channel) * 256);
          }
        }
      }
    }
    // The painting order: a uniform permutation of the objects (Fisher-Yates).
    const order = this.#order;
    for (let slot = 0; slot < numObjects; slot++) order[slot] = slot;
    for (let last = numObjects - 1; last > 0; last--) {
      const pick = Math.floor(uniform(key, ORDER_DRAWS + last) * (last + 1));
      const kept = order[last]!;
      order[last] = order[pick]!;
      order[pick] = kept;
    }
    for (let rank = 0; rank < numObjects; rank++) out.depthOrder[order[rank]!] = rank + 1;
    return out;
  }

  /**
   * Draws the geometry (shape, scale, orientation, x, y) of every object of one arrangement of
   * a scene; without overlap, each object is drawn again until it touches no earlier one.
   * Returns false when an object fails all its attempts. Arrangement 0 uses the draws of
   * {@linkcode drawIndex}; arrangement r > 0 the same, shifted past every earlier one's.
   */
  #placeObjects(key: number, numObjects: number, sceneAttempt: number, out: SceneFactors): boolean {
    const config = this.config, shapes = config.shapes;
    const shift = sceneAttempt === 0 ? 0 : RETRY_DRAWS + (sceneAttempt - 1) * ORDER_DRAWS;
    if (!config.overlap) this.#occupied.fill(0);
    for (let slot = 0; slot < numObjects; slot++) {
      let placed = false;
      for (let attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS && !placed; attempt++) {
        const draw = (field: number) => uniform(key, shift + drawIndex(slot, attempt, field));
        out.shape[slot] = shapes[Math.floor(draw(0) * shapes.length)]!;
        out.scale[slot] = this.#scales[Math.floor(draw(1) * this.#scales.length)]!;
        out.orientation[slot] = this
          .#orientations[Math.floor(draw(2) * this.#orientations.length)]!;
        out.x[slot] = this.#positions[Math.floor(draw(3) * this.#positions.length)]!;
        out.y[slot] = this.#positions[Math.floor(draw(4) * this.#positions.length)]!;
        placed = config.overlap || this.#placeWithoutOverlap(out, slot);
      }
      if (!placed) return false;
    }
    return true;
  }

  /** Rasterizes the object in `slot`; then true when it touches no occupied pixel (and marks). */
  #placeWithoutOverlap(factors: SceneFactors, slot: number): boolean {
    this.#rasterize(factors, slot);
    const size = this.config.imageSize, boxes = this.#boxes;
    const coverage = this.#coverage.subarray(slot * size * size, (slot + 1) * size * size);
    const occupied = this.#occupied;
    const x0 = boxes[4 * slot]!, x1 = boxes[4 * slot + 1]!;
    const y0 = boxes[4 * slot + 2]!, y1 = boxes[4 * slot + 3]!;
    for (let y = y0; y <= y1; y++) {
      for (let pixel = y * size + x0; pixel <= y * size + x1; pixel++) {
        if (coverage[pixel]! > 0 && occupied[pixel] !== 0) return false;
      }
    }
    for (let y = y0; y <= y1; y++) {
      for (let pixel = y * size + x0; pixel <= y * size + x1; pixel++) {
        if (coverage[pixel]! > 0) occupied[pixel] = 1;
      }
    }
    return true;
  }

  /** Writes the coverage of the object in `slot` into its buffer, zeroed inside its box. */
  #rasterize(factors: SceneFactors, slot: number): void {
    const size = this.config.imageSize;
    const maxRadius = 0.2 * size;
    const radius = factors.scale[slot]! * maxRadius;
    const cx = maxRadius + factors.x[slot]! * (size - 2 * maxRadius);
    const cy = maxRadius + factors.y[slot]! * (size - 2 * maxRadius);
    // The dsprites renderer writes only inside the shape's circumcircle's box: one pixel more
    // on each side is a safe bound for rounding.
    const x0 = Math.max(0, Math.floor(cx - radius) - 1);
    const x1 = Math.min(size - 1, Math.ceil(cx + radius) + 1);
    const y0 = Math.max(0, Math.floor(cy - radius) - 1);
    const y1 = Math.min(size - 1, Math.ceil(cy + radius) + 1);
    const boxes = this.#boxes;
    boxes[4 * slot] = x0;
    boxes[4 * slot + 1] = x1;
    boxes[4 * slot + 2] = y0;
    boxes[4 * slot + 3] = y1;
    const coverage = this.#coverage, base = slot * size * size;
    for (let y = y0; y <= y1; y++) coverage.fill(0, base + y * size + x0, base + y * size + x1 + 1);
    const latents = this.#latents;
    latents[0] = 1;
    latents[1] = factors.shape[slot]!;
    latents[2] = factors.scale[slot]!;
    latents[3] = factors.orientation[slot]!;
    latents[4] = factors.x[slot]!;
    latents[5] = factors.y[slot]!;
    this.#shapes.render(factors.shape[slot]! - 1, latents, 0, coverage, base);
  }

  /**
   * Renders scene `sample` of a chunk from its factors: writes every array of the schema for
   * that sample (every byte, so a reused chunk needs no clearing).
   *
   * @param factors The scene's factors (drawn, or given, as `dsgen render` will).
   * @param chunk A chunk of this renderer's schema.
   * @param sample The sample's position in the chunk.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { allocateChunk } from "./sample_schema.ts";
   * import { createSceneFactors, SceneRenderer } from "./scenes.ts";
   * const renderer = new SceneRenderer({ imageSize: 16 });
   * const chunk = allocateChunk(renderer.schema, 1);
   * const factors = renderer.draw(0, 0, createSceneFactors(4, 3));
   * renderer.render(factors, chunk, 0);
   * assert.equal(chunk.byName.get("num_objects")!.view[0], factors.numObjects);
   * ```
   */
  render(factors: SceneFactors, chunk: ChunkLayout, sample: number): void {
    const config = this.config, views = this.#views(chunk);
    const size = config.imageSize, pixels = size * size, slots = config.maxK;
    const channels = config.channels, numObjects = factors.numObjects;
    if (!Number.isInteger(sample) || sample < 0 || sample >= chunk.numSamples) {
      throw new RangeError(
        `Cannot render sample ${sample} of a chunk of ${chunk.numSamples}: expected 0 to ` +
          `${chunk.numSamples - 1}`,
      );
    }
    checkFactors(factors, config);
    const order = this.#order;
    for (let slot = 0; slot < numObjects; slot++) {
      this.#rasterize(factors, slot);
      order[factors.depthOrder[slot]! - 1] = slot;
    }
    // The factors.
    views.numObjects[sample] = numObjects;
    const perSlot = sample * slots;
    views.shape.set(factors.shape, perSlot);
    views.scale.set(factors.scale, perSlot);
    views.orientation.set(factors.orientation, perSlot);
    views.x.set(factors.x, perSlot);
    views.y.set(factors.y, perSlot);
    views.depthOrder.set(factors.depthOrder, perSlot);
    const colorAt = sample * (slots + 1) * channels;
    for (let entry = 0; entry < (slots + 1) * channels; entry++) {
      views.color[colorAt + entry] = factors.level[entry]! / 255;
    }
    const visibilityAt = sample * (slots + 1);
    for (let entity = 0; entity <= slots; entity++) {
      views.visibility[visibilityAt + entity] = entity <= numObjects ? 1 : 0;
    }
    // Outside every object's box: the background's colour, and mask 0.
    const image = views.image, imageAt = sample * pixels * channels;
    const levels = this.#levels;
    for (let entry = 0; entry < (slots + 1) * channels; entry++) {
      levels[entry] = factors.level[entry]!;
    }
    for (let channel = 0; channel < channels; channel++) {
      image[imageAt + channel] = levels[channel]!;
    }
    for (let filled = channels; filled < pixels * channels; filled *= 2) {
      image.copyWithin(
        imageAt + filled,
        imageAt,
        imageAt + Math.min(filled, pixels * channels - filled),
      );
    }
    const masks = views.masks, masksAt = sample * (slots + 1) * pixels;
    masks.fill(255, masksAt, masksAt + pixels);
    masks.fill(0, masksAt + pixels, masksAt + (slots + 1) * pixels);
    const amodal = views.amodal, amodalAt = sample * slots * pixels;
    amodal.fill(0, amodalAt, amodalAt + slots * pixels);
    const visible = this.#visible.fill(0), amodalArea = this.#amodalArea.fill(0);
    const boxes = this.#boxes, coverage = this.#coverage, active = this.#active;
    const clamped = this.#clampedImage!, alphas = this.#alphas;
    const activeX0 = this.#activeX0, activeX1 = this.#activeX1, activeAt = this.#activeAt;
    let background = pixels;
    for (let y = 0; y < size; y++) {
      // The objects whose boxes hold this row, front to back, and the columns they span.
      let count = 0, rowX0 = size, rowX1 = -1;
      for (let rank = numObjects - 1; rank >= 0; rank--) {
        const slot = order[rank]!, base = 4 * slot;
        if (y < boxes[base + 2]! || y > boxes[base + 3]!) continue;
        active[count] = slot;
        activeX0[count] = boxes[base]!;
        activeX1[count] = boxes[base + 1]!;
        activeAt[count] = slot * pixels + y * size;
        count++;
        if (boxes[base]! < rowX0) rowX0 = boxes[base]!;
        if (boxes[base + 1]! > rowX1) rowX1 = boxes[base + 1]!;
      }
      for (let x = rowX0; x <= rowX1; x++) {
        const pixel = y * size + x;
        let touched = false;
        for (let entry = 0; entry < count; entry++) {
          const alpha = x < activeX0[entry]! || x > activeX1[entry]!
            ? 0
            : coverage[activeAt[entry]! + x]!;
          alphas[entry] = alpha;
          if (alpha !== 0) touched = true;
        }
        if (!touched) continue;
        // Front to back: each entity's weight is its coverage times what the entities in
        // front leave; the pixel is the sum of weight x level (exact: see the module doc).
        let best = 0, owner = 0, left = 1, red = 0, green = 0, blue = 0;
        for (let entry = 0; entry < count; entry++) {
          const alpha = alphas[entry]!;
          if (alpha === 0) continue;
          const slot = active[entry]!, at = (slot + 1) * channels;
          const weight = alpha * left;
          red += weight * levels[at]!;
          if (channels === 3) {
            green += weight * levels[at + 1]!;
            blue += weight * levels[at + 2]!;
          }
          if (alpha >= 0.5) {
            amodal[amodalAt + slot * pixels + pixel] = 255;
            amodalArea[slot]!++;
          }
          if (weight > best) {
            best = weight;
            owner = slot + 1;
          }
          left *= 1 - alpha;
        }
        const out = imageAt + pixel * channels;
        clamped[out] = red + left * levels[0]!;
        if (channels === 3) {
          clamped[out + 1] = green + left * levels[1]!;
          clamped[out + 2] = blue + left * levels[2]!;
        }
        if (owner !== 0 && best >= left) {
          masks[masksAt + pixel] = 0;
          masks[masksAt + owner * pixels + pixel] = 255;
          background--;
          visible[owner]!++;
          const amodalPixel = amodalAt + (owner - 1) * pixels + pixel;
          if (amodal[amodalPixel] === 0) {
            amodal[amodalPixel] = 255;
            amodalArea[owner - 1]!++;
          }
        }
      }
    }
    visible[0] = background;
    const occlusionAt = sample * slots;
    for (let slot = 0; slot < slots; slot++) {
      views.occlusion[occlusionAt + slot] = slot >= numObjects
        ? 0
        : amodalArea[slot] === 0
        ? 1
        : 1 - visible[slot + 1]! / amodalArea[slot]!;
    }
  }

  /**
   * Draws and renders scene `index` under `seed` into position `sample` of a chunk.
   *
   * @param seed The dataset seed.
   * @param index The scene's index.
   * @param options The chunk and the sample's position in it.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { allocateChunk } from "./sample_schema.ts";
   * import { SceneRenderer } from "./scenes.ts";
   * const renderer = new SceneRenderer({ imageSize: 16, preset: "binarized" });
   * const chunk = allocateChunk(renderer.schema, 2);
   * renderer.renderScene(0, 5, { chunk, sample: 1 });
   * assert.ok(chunk.byName.get("num_objects")!.view[1]! >= 2);
   * ```
   */
  renderScene(seed: number, index: number, options: { chunk: ChunkLayout; sample: number }): void {
    this.render(this.draw(seed, index, this.#factors), options.chunk, options.sample);
  }

  /**
   * Renders scenes `start` to `start + chunk.numSamples - 1` under `seed` into a chunk.
   *
   * @param seed The dataset seed.
   * @param start The first scene's index.
   * @param chunk A chunk of this renderer's schema.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { allocateChunk } from "./sample_schema.ts";
   * import { SceneRenderer } from "./scenes.ts";
   * const renderer = new SceneRenderer({ imageSize: 16 });
   * const chunk = allocateChunk(renderer.schema, 3);
   * renderer.renderChunk(1, 10, chunk);
   * assert.ok(chunk.byName.get("image")!.view.some((byte) => byte !== 0));
   * ```
   */
  renderChunk(seed: number, start: number, chunk: ChunkLayout): void {
    for (let sample = 0; sample < chunk.numSamples; sample++) {
      this.renderScene(seed, start + sample, { chunk, sample });
    }
  }

  #cachedChunk: ChunkLayout | undefined;
  #cachedViews: SceneViews | undefined;

  #views(chunk: ChunkLayout): SceneViews {
    if (this.#cachedChunk === chunk) return this.#cachedViews!;
    const view = (name: string) => {
      const array = chunk.byName.get(name);
      const expected = this.schema.arrays.find((spec) => spec.name === name)!;
      if (
        array === undefined || array.spec.dtype !== expected.dtype ||
        array.spec.shape.join(",") !== expected.shape.join(",")
      ) {
        throw new TypeError(
          `Cannot render scenes into a chunk whose array "${name}" is ` +
            (array === undefined
              ? "missing"
              : `${array.spec.dtype} [${array.spec.shape.join(", ")}]`) +
            `: expected ${expected.dtype} [${expected.shape.join(", ")}]`,
        );
      }
      return array.view;
    };
    const views: SceneViews = {
      image: view("image") as Uint8Array,
      masks: view("masks") as Uint8Array,
      amodal: view("amodal_masks") as Uint8Array,
      visibility: view("visibility") as Uint8Array,
      numObjects: view("num_objects") as Uint8Array,
      shape: view("shape") as Uint8Array,
      scale: view("scale") as Float32Array,
      orientation: view("orientation") as Float32Array,
      x: view("x") as Float32Array,
      y: view("y") as Float32Array,
      color: view("color") as Float32Array,
      depthOrder: view("depth_order") as Uint8Array,
      occlusion: view("occlusion") as Float32Array,
    };
    this.#cachedChunk = chunk;
    this.#cachedViews = views;
    this.#clampedImage = new Uint8ClampedArray(
      views.image.buffer,
      views.image.byteOffset,
      views.image.length,
    );
    return views;
  }
}
