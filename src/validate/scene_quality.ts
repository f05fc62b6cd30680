/**
 * The quality report of a `scenes` dataset, over every scene, from its arrays alone: it knows
 * the schema (`masks`, `amodal_masks`, `num_objects`, `shape`, `occlusion`, `visibility`) and
 * checks what the family promises.
 *
 * | check       | fails when                                                             |
 * | ----------- | ---------------------------------------------------------------------- |
 * | `objects`   | a count outside the configured range, or counts far from uniform      |
 * |             | (Pearson's test over the range, as `classes` tests labels)            |
 * | `classes`   | a shape not configured, or shapes far from uniform, over all objects  |
 * |             | and in each object slot                                                |
 * | `partition` | a pixel whose masks are not exactly one 255 and the rest 0             |
 * | `amodal`    | a pixel of an object's mask outside its amodal mask                    |
 * | `occlusion` | a stored occlusion other than 1 - visible / amodal area (float32)      |
 * | `padding`   | a slot after `num_objects` with a shape, visibility, mask or occlusion |
 *
 * `objects` and `classes` warn at p < 0.001 and fail at p < 1e-6 (`class_balance.ts`);
 * without overlap `classes` only warns, as placement favours the shapes that fit. The
 * report also gives the distribution of object counts, shapes per slot and occlusion (mean,
 * objects fully visible, partly and wholly hidden), and up to 10 scenes per failure.
 *
 * @module
 */

import { chiSquareSurvival, type Verdict } from "./class_balance.ts";

/** What the family was configured with, as metadata.json records it (`generator.parameters`). */
export interface SceneQualityConfig {
  /** Side of the images. */
  imageSize: number;
  /** K, the object slots. */
  maxK: number;
  /** Fewest objects per scene. */
  minObjects: number;
  /** Most objects per scene. */
  maxObjects: number;
  /** The shape names, index i is stored code i + 1. */
  shapeNames: readonly string[];
  /** The configured shapes' codes (1 square, 2 ellipse, 3 heart). */
  shapes: readonly number[];
  /**
   * Whether objects may overlap (default true). Without overlap, placement redraws objects that
   * touch, which favours the shapes that fit (ellipses, small scales): `classes` then warns
   * instead of failing on an imbalance.
   */
  overlap?: boolean;
}

/** The arrays of a run of scenes, as typed views over `count` consecutive scenes. */
export interface SceneQualityChunk {
  /** The index of the first scene. */
  start: number;
  /** The number of scenes. */
  count: number;
  /** (count, K+1, S, S) uint8. */
  masks: Uint8Array;
  /** (count, K, S, S) uint8. */
  amodal: Uint8Array;
  /** (count,) uint8. */
  numObjects: Uint8Array;
  /** (count, K) uint8. */
  shape: Uint8Array;
  /** (count, K) float32. */
  occlusion: Float32Array;
  /** (count, K+1) uint8. */
  visibility: Uint8Array;
}

/** One line of the table. */
export interface SceneCheck {
  /** The check's name, see the module doc. */
  name: "objects" | "classes" | "partition" | "amodal" | "occlusion" | "padding";
  /** The outcome. */
  verdict: Verdict;
  /** One line for the table. */
  summary: string;
  /** Up to 10 scenes that fail it. */
  examples: number[];
}

/** The report; report.json writes it in snake_case. */
export interface SceneQualityReport {
  /** The number of scenes. */
  numScenes: number;
  /** The checks, in table order. */
  checks: SceneCheck[];
  /** Scenes per object count, index 0 to K. */
  objectCounts: number[];
  /** Objects per shape name, over all slots. */
  shapeCounts: Record<string, number>;
  /** Per slot: objects per shape name. */
  shapeCountsPerSlot: Record<string, number>[];
  /** Occlusion over all present objects. */
  occlusion: {
    /** The mean occlusion. */
    mean: number | null;
    /** Objects with occlusion 0. */
    visible: number;
    /** Objects with occlusion strictly between 0 and 1. */
    partly: number;
    /** Objects with occlusion 1 (nothing of them shows). */
    hidden: number;
    /** Objects per tenth of occlusion: [0, 0.1), ..., [0.9, 1]. */
    histogram: number[];
  };
  /** Pixels whose masks do not partition them. */
  partitionPixels: number;
  /** Pixels of a visible mask outside the amodal mask. */
  amodalPixels: number;
}

const FAIL_P = 1e-6;
const WARN_P = 1e-3;
const MAX_EXAMPLES = 10;

/** Pearson's test of counts against equal probabilities: the p-value (1 for < 2 counts). */
function uniformP(counts: readonly number[]): number {
  if (counts.length < 2) return 1;
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return 1;
  const expected = total / counts.length;
  const statistic = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  return chiSquareSurvival(statistic, counts.length - 1);
}

function verdictOfP(p: number): Verdict {
  return p < FAIL_P ? "fail" : p < WARN_P ? "warn" : "pass";
}

/** Accumulates the scene quality report over chunks of scenes, in any order. */
export class SceneQualityAccumulator {
  #config: SceneQualityConfig;
  #numScenes = 0;
  #objectCounts: number[];
  #perSlot: number[][];
  #strayShapes = 0;
  #partition = 0;
  #amodal = 0;
  #occlusionMismatch = 0;
  #padding = 0;
  #occlusionSum = 0;
  #objects = 0;
  #histogram = new Array(10).fill(0);
  #visible = 0;
  #partly = 0;
  #hidden = 0;
  #examples = new Map<string, number[]>();
  #area: Int32Array;
  #amodalArea: Int32Array;

  /**
   * Starts an empty report.
   *
   * @param config The configuration the scenes were made with.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SceneQualityAccumulator } from "./scene_quality.ts";
   * const quality = new SceneQualityAccumulator({ imageSize: 16, maxK: 4, minObjects: 1,
   *   maxObjects: 4, shapeNames: ["square", "ellipse", "heart"], shapes: [1, 2, 3] });
   * assert.equal(quality.finish().numScenes, 0);
   * ```
   */
  constructor(config: SceneQualityConfig) {
    this.#config = config;
    this.#objectCounts = new Array(config.maxK + 1).fill(0);
    this.#perSlot = Array.from({ length: config.maxK }, () => new Array(4).fill(0));
    this.#area = new Int32Array(config.maxK + 1);
    this.#amodalArea = new Int32Array(config.maxK);
  }

  #note(check: string, scene: number): void {
    const list = this.#examples.get(check) ?? [];
    if (list.length < MAX_EXAMPLES && list.at(-1) !== scene) list.push(scene);
    this.#examples.set(check, list);
  }

  /**
   * Adds a run of scenes.
   *
   * @param chunk The scenes' arrays.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { allocateChunk } from "../generators/sample_schema.ts";
   * import { SceneRenderer } from "../generators/scenes.ts";
   * import { SceneQualityAccumulator } from "./scene_quality.ts";
   * const renderer = new SceneRenderer({ imageSize: 16 });
   * const chunk = allocateChunk(renderer.schema, 50);
   * renderer.renderChunk(1, 0, chunk);
   * const view = (name: string) => chunk.byName.get(name)!.view;
   * const quality = new SceneQualityAccumulator({ imageSize: 16, maxK: 4, minObjects: 1,
   *   maxObjects: 4, shapeNames: ["square", "ellipse", "heart"], shapes: [1, 2, 3] });
   * quality.add({ start: 0, count: 50, masks: view("masks") as Uint8Array,
   *   amodal: view("amodal_masks") as Uint8Array, numObjects: view("num_objects") as Uint8Array,
   *   shape: view("shape") as Uint8Array, occlusion: view("occlusion") as Float32Array,
   *   visibility: view("visibility") as Uint8Array });
   * assert.ok(quality.finish().checks.every((check) => check.verdict !== "fail"));
   * ```
   */
  add(chunk: SceneQualityChunk): void {
    const { imageSize, maxK: slots } = this.#config;
    const pixels = imageSize * imageSize;
    const area = this.#area, amodalArea = this.#amodalArea;
    for (let sample = 0; sample < chunk.count; sample++) {
      const scene = chunk.start + sample;
      const numObjects = chunk.numObjects[sample]!;
      this.#numScenes++;
      if (numObjects <= slots) this.#objectCounts[numObjects]!++;
      else this.#note("objects", scene);
      if (numObjects < this.#config.minObjects || numObjects > this.#config.maxObjects) {
        this.#note("objects", scene);
      }
      const masksAt = sample * (slots + 1) * pixels, amodalAt = sample * slots * pixels;
      area.fill(0);
      amodalArea.fill(0);
      let partitionBad = 0, amodalBad = 0;
      for (let pixel = 0; pixel < pixels; pixel++) {
        let owners = 0, owner = 0;
        for (let entity = 0; entity <= slots; entity++) {
          const value = chunk.masks[masksAt + entity * pixels + pixel]!;
          if (value === 255) {
            owners++;
            owner = entity;
          } else if (value !== 0) owners += 2;
        }
        if (owners !== 1) {
          partitionBad++;
          continue;
        }
        area[owner]!++;
        if (owner > 0 && chunk.amodal[amodalAt + (owner - 1) * pixels + pixel] !== 255) {
          amodalBad++;
        }
      }
      for (let slot = 0; slot < slots; slot++) {
        const base = amodalAt + slot * pixels;
        let count = 0;
        for (let pixel = 0; pixel < pixels; pixel++) {
          if (chunk.amodal[base + pixel] === 255) count++;
        }
        amodalArea[slot] = count;
      }
      if (partitionBad > 0) {
        this.#partition += partitionBad;
        this.#note("partition", scene);
      }
      if (amodalBad > 0) {
        this.#amodal += amodalBad;
        this.#note("amodal", scene);
      }
      let paddingBad = chunk.visibility[sample * (slots + 1)] !== 1;
      for (let slot = 0; slot < slots; slot++) {
        const code = chunk.shape[sample * slots + slot]!;
        const occlusion = chunk.occlusion[sample * slots + slot]!;
        const visible = chunk.visibility[sample * (slots + 1) + slot + 1]!;
        if (slot >= numObjects) {
          if (
            code !== 0 || occlusion !== 0 || visible !== 0 || area[slot + 1]! > 0 ||
            amodalArea[slot]! > 0
          ) {
            paddingBad = true;
          }
          continue;
        }
        if (visible !== 1) paddingBad = true;
        if (code >= 1 && code <= 3) this.#perSlot[slot]![code]!++;
        if (!this.#config.shapes.includes(code)) {
          this.#strayShapes++;
          this.#note("classes", scene);
        }
        const expected = amodalArea[slot] === 0
          ? 1
          : Math.fround(1 - area[slot + 1]! / amodalArea[slot]!);
        if (occlusion !== expected) {
          this.#occlusionMismatch++;
          this.#note("occlusion", scene);
        }
        this.#objects++;
        this.#occlusionSum += occlusion;
        this.#histogram[Math.min(9, Math.floor(occlusion * 10))]++;
        if (occlusion === 0) this.#visible++;
        else if (occlusion === 1) this.#hidden++;
        else this.#partly++;
      }
      if (paddingBad) {
        this.#padding++;
        this.#note("padding", scene);
      }
    }
  }

  /**
   * The report over every scene added.
   *
   * @returns The checks and the distributions.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SceneQualityAccumulator } from "./scene_quality.ts";
   * const quality = new SceneQualityAccumulator({ imageSize: 16, maxK: 2, minObjects: 1,
   *   maxObjects: 2, shapeNames: ["square", "ellipse", "heart"], shapes: [1] });
   * assert.deepEqual(quality.finish().checks.map((check) => check.name),
   *   ["objects", "classes", "partition", "amodal", "occlusion", "padding"]);
   * ```
   */
  finish(): SceneQualityReport {
    const config = this.#config, slots = config.maxK;
    const examples = (name: string) => this.#examples.get(name) ?? [];
    const inRange = this.#objectCounts.slice(config.minObjects, config.maxObjects + 1);
    const outOfRange = this.#numScenes - inRange.reduce((sum, count) => sum + count, 0);
    const countsP = uniformP(inRange);
    const objects: SceneCheck = {
      name: "objects",
      verdict: outOfRange > 0 ? "fail" : verdictOfP(countsP),
      summary: `${
        this.#objectCounts.map((count, objects) => `${objects}: ${count}`)
          .slice(config.minObjects, config.maxObjects + 1).join(", ")
      } scenes by object count (uniform p = ${countsP.toPrecision(3)})` +
        (outOfRange > 0 ? `; ${outOfRange} outside ${config.minObjects}-${config.maxObjects}` : ""),
      examples: examples("objects"),
    };
    const totals = [1, 2, 3].map((code) =>
      this.#perSlot.reduce((sum, slot) => sum + slot[code]!, 0)
    );
    const configured = (counts: readonly number[]) =>
      config.shapes.map((code) => counts[code - 1]!);
    const shapesP = uniformP(configured(totals));
    const slotPs = this.#perSlot.map((slot) => uniformP(configured(slot.slice(1))));
    const worstSlotP = Math.min(1, ...slotPs);
    const balance = verdictOfP(Math.min(shapesP, worstSlotP * slots));
    const apart = config.overlap === false;
    const classes: SceneCheck = {
      name: "classes",
      verdict: this.#strayShapes > 0 ? "fail" : balance === "fail" && apart ? "warn" : balance,
      summary: `${
        config.shapes.map((code) => `${config.shapeNames[code - 1]} ${totals[code - 1]}`)
          .join(", ")
      } objects (uniform p = ${shapesP.toPrecision(3)}; worst slot p = ${
        worstSlotP.toPrecision(3)
      })` + (this.#strayShapes > 0 ? `; ${this.#strayShapes} of shapes not configured` : "") +
        (apart ? "; without overlap, placement favours shapes that fit" : ""),
      examples: examples("classes"),
    };
    const countCheck = (
      name: "partition" | "amodal" | "occlusion" | "padding",
      bad: number,
      good: string,
      what: string,
    ): SceneCheck => ({
      name,
      verdict: bad > 0 ? "fail" : "pass",
      summary: bad > 0 ? `${bad} ${what}` : good,
      examples: examples(name),
    });
    const mean = this.#objects === 0 ? null : this.#occlusionSum / this.#objects;
    const shapeCounts = (counts: readonly number[]) =>
      Object.fromEntries(config.shapeNames.map((name, index) => [name, counts[index]!]));
    return {
      numScenes: this.#numScenes,
      checks: [
        objects,
        classes,
        countCheck(
          "partition",
          this.#partition,
          "every pixel belongs to exactly one entity",
          "pixels without exactly one entity",
        ),
        countCheck(
          "amodal",
          this.#amodal,
          "every visible pixel is inside its amodal mask",
          "visible pixels outside their amodal mask",
        ),
        countCheck(
          "occlusion",
          this.#occlusionMismatch,
          `mean ${mean === null ? "-" : mean.toFixed(3)}; ${this.#visible} objects fully ` +
            `visible, ${this.#partly} partly hidden, ${this.#hidden} hidden`,
          "objects whose occlusion is not 1 - visible / amodal area",
        ),
        countCheck(
          "padding",
          this.#padding,
          "slots after num_objects are empty",
          "scenes with a non-empty padding slot or a wrong visibility",
        ),
      ],
      objectCounts: [...this.#objectCounts],
      shapeCounts: shapeCounts(totals),
      shapeCountsPerSlot: this.#perSlot.map((slot) => shapeCounts(slot.slice(1))),
      occlusion: {
        mean,
        visible: this.#visible,
        partly: this.#partly,
        hidden: this.#hidden,
        histogram: [...this.#histogram],
      },
      partitionPixels: this.#partition,
      amodalPixels: this.#amodal,
    };
  }
}
