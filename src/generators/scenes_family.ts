/**
 * The `scenes` family: Multi-dSprites-like scenes (several dSprites shapes per image, in
 * colour, with per-object masks) as a family with its own sample schema, so that the pipeline
 * writes, verifies and merges every array of {@linkcode scenesSchema}.
 *
 * The rendering itself is `scenes.ts`; this file adapts it to the family contract
 * (`generator.ts`): the options become a {@linkcode SceneRenderer}, `fillChunk` draws and renders
 * a chunk, and `renderFromFactors` renders the scenes a chunk's factor arrays describe (for
 * `dsgen render`), byte-identical to `fillChunk` for the factors it drew.
 *
 * @module
 */

import type { GeneratorFamily, ImageGenerator, JsonValue } from "./generator.ts";
import type { ChunkLayout, SampleSchema } from "./sample_schema.ts";
import {
  createSceneFactors,
  SCENE_SHAPES,
  type SceneFactors,
  SceneRenderer,
  type ScenesConfig,
  type ScenesOptions,
} from "./scenes.ts";

/** The family's version: bump it whenever the bytes of any (seed, i) change. */
export const SCENES_VERSION = "1.0.0";

/** The factor arrays `renderFromFactors` reads (the schema's arrays of role `factor`). */
export const SCENE_FACTOR_ARRAYS = [
  "shape",
  "scale",
  "orientation",
  "x",
  "y",
  "color",
  "depth_order",
] as const;

class ScenesGenerator implements ImageGenerator {
  readonly name = "scenes";
  readonly version = SCENES_VERSION;
  readonly classes = SCENE_SHAPES;
  readonly latents = [];
  readonly imageSize: number;
  readonly parameters: { [key: string]: JsonValue };
  readonly schema: SampleSchema;
  /** `render` writes every byte of a scene: each array's slots, the image and every mask. */
  readonly fillsEveryByte = true;
  /**
   * 4 MiB (85 scenes of 64x64 colored_on_colored): 1 MiB chunks held 21, and cost the main
   * thread a message, 13 writes and 13 CRC combinations each.
   */
  readonly chunkBytes: number = 4 * 1024 * 1024;
  readonly config: ScenesConfig;
  #renderer: SceneRenderer;
  #factors: SceneFactors;

  constructor(renderer: SceneRenderer) {
    this.#renderer = renderer;
    this.config = renderer.config;
    this.schema = renderer.schema;
    this.imageSize = renderer.config.imageSize;
    this.#factors = createSceneFactors(renderer.config.maxK, renderer.config.channels);
    const config = renderer.config;
    this.parameters = {
      preset: config.preset,
      min_objects: config.minObjects,
      max_objects: config.maxObjects,
      max_k: config.maxK,
      shapes: config.shapes.map((code) => SCENE_SHAPES[code - 1]!),
      overlap: config.overlap,
      channels: config.channels,
      colors: config.colors,
    };
  }

  sample(): number {
    throw new TypeError("Cannot draw a scene as one image: scenes fill whole chunks");
  }

  render(): void {
    throw new TypeError("Cannot render a scene as one image: scenes fill whole chunks");
  }

  fillChunk(seed: number, start: number, chunk: ChunkLayout): void {
    this.#renderer.renderChunk(seed, start, chunk);
  }

  renderFromFactors(chunk: ChunkLayout): void {
    const config = this.config, slots = config.maxK, channels = config.channels;
    const factors = this.#factors;
    const view = (name: string) => chunk.byName.get(name)!.view;
    const shape = view("shape"), scale = view("scale"), orientation = view("orientation");
    const x = view("x"), y = view("y"), color = view("color"), depth = view("depth_order");
    for (let sample = 0; sample < chunk.numSamples; sample++) {
      const at = sample * slots;
      let numObjects = 0;
      while (numObjects < slots && shape[at + numObjects] !== 0) numObjects++;
      factors.numObjects = numObjects;
      for (let slot = 0; slot < slots; slot++) {
        factors.shape[slot] = shape[at + slot]!;
        factors.scale[slot] = scale[at + slot]!;
        factors.orientation[slot] = orientation[at + slot]!;
        factors.x[slot] = x[at + slot]!;
        factors.y[slot] = y[at + slot]!;
        factors.depthOrder[slot] = depth[at + slot]!;
      }
      const colorAt = sample * (slots + 1) * channels;
      for (let entry = 0; entry < (slots + 1) * channels; entry++) {
        const value = color[colorAt + entry]!;
        const level = Math.round(value * 255);
        if (!(level >= 0 && level <= 255 && Math.fround(level / 255) === value)) {
          throw new RangeError(
            `Cannot render color ${value} of entity ${Math.floor(entry / channels)} in scene ` +
              `${sample}: expected a level / 255 for a level from 0 to 255, as float32`,
          );
        }
        factors.level[entry] = level;
      }
      try {
        this.#renderer.render(factors, chunk, sample);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new RangeError(`${error.message} (scene ${sample})`);
      }
    }
  }
}

/** The option names a family spec may hold, as in {@linkcode ScenesOptions} (without imageSize). */
const OPTION_KEYS = ["preset", "minObjects", "maxObjects", "maxK", "shapes", "overlap"];

/**
 * The `scenes` family. Options (all optional, as JSON): `preset` (`binarized`,
 * `colored_on_grayscale`, `colored_on_colored`), `minObjects`, `maxObjects` (at most 10, or
 * 6 without overlap: `MAX_SCENE_OBJECTS` and `MAX_OBJECTS_WITHOUT_OVERLAP` of `scenes.ts`),
 * `maxK`, `shapes` (a list of `square`, `ellipse`, `heart`) and `overlap` (true or false).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocateChunk } from "./sample_schema.ts";
 * import { scenesFamily } from "./scenes_family.ts";
 * const generator = scenesFamily.create({ imageSize: 16, options: { preset: "binarized" } });
 * const chunk = allocateChunk(generator.schema!, 2);
 * generator.fillChunk!(1, 0, chunk);
 * assert.deepEqual(generator.schema!.arrays[0]!.shape, [16, 16]);
 * assert.ok(chunk.byName.get("num_objects")!.view.every((count) => count >= 2 && count <= 3));
 * ```
 */
export const scenesFamily: GeneratorFamily = {
  name: "scenes",
  description: "Multi-dSprites scenes: several dSprites shapes in colour, with per-object masks",
  minImageSize: 16,
  defaultImageSize: 64,
  create: (options) => {
    const given = options.options ?? {};
    const extra = Object.keys(given).filter((key) => !OPTION_KEYS.includes(key));
    if (extra.length > 0) {
      throw new TypeError(
        `Cannot configure scenes with option "${extra[0]}": expected ${OPTION_KEYS.join(", ")}`,
      );
    }
    return new ScenesGenerator(
      new SceneRenderer({ ...(given as ScenesOptions), imageSize: options.imageSize }),
    );
  },
};
