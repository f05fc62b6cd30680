/**
 * The factor arrays of an archive, for families whose factors all take values on a grid
 * (`dsprites`): the arrays dSprites' own notebook reads, without pickle.
 *
 * | key                                | dtype | shape   | content                                  |
 * | ---------------------------------- | ----- | ------- | ---------------------------------------- |
 * | `latents_classes`                  | int64 | (N, K)  | each factor's value index, per image     |
 * | `latents_sizes`                    | int64 | (K,)    | the number of values of each factor      |
 * | `latents_possible_values_<name>`   | float64 | (n,)  | a factor's values, in index order        |
 * | `factor_names`                     | unicode | (K,)  | the columns of `latents_classes`         |
 *
 * K and the factors' order are those of `latent_names`, unless the family lists its grid's
 * factors apart (`shapes`: the class, then the latents). A factor whose values depend on the
 * class has a (C, n) possible-values array, a row per class. For a full grid,
 * `bases = np.concatenate((sizes[::-1].cumprod()[::-1][1:], [1]))` and `classes @ bases` give
 * an image's index, as in dSprites.
 *
 * @module
 */

import type { FactorSpec, ImageGenerator } from "../generators/generator.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { npyDescr } from "../generators/sample_schema.ts";
import { encodeUnicodeArray, type NpyHeader } from "../format/npy.ts";
import { type ArrayDescriptor, DATASET_ARRAYS, type LayoutPlan } from "./dataset_schema.ts";

/**
 * The factors of a generator's grid: its own list, else its latents.
 *
 * @param generator The configured family.
 * @returns The factors, in the column order of `latents_classes`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { gridFactors } from "./factor_arrays.ts";
 * assert.equal(gridFactors(generators.get("dsprites").create({ imageSize: 64 })).length, 6);
 * ```
 */
export function gridFactors(generator: ImageGenerator): readonly FactorSpec[] {
  return generator.factors ?? generator.latents;
}

function possibleValues(factor: FactorSpec, classes: readonly string[]): number[][] {
  if (factor.perClassValues !== undefined) {
    return classes.map((name) => factor.perClassValues![name] ?? []);
  }
  return [factor.values ?? []];
}

/**
 * One factor array: its key, header and data. `latents_classes` has a row per image, made for
 * any run of images by `rows`; the others are small and made whole by `whole`.
 */
export interface FactorArray {
  /** The array's key in the archive. */
  name: string;
  /** Its NPY header. */
  header: NpyHeader;
  /**
   * For a per-image array: the bytes of images `start .. start + count - 1`, valid until the
   * next call (the buffer is reused).
   */
  rows?: (start: number, count: number) => Uint8Array;
  /** For a small array: all its bytes. */
  whole?: () => Uint8Array;
  /** Its data, in order. */
  chunks(): Iterable<Uint8Array>;
}

/**
 * Whether a generator's factors are all on a grid, so that the factor arrays apply.
 *
 * @param generator The configured family.
 * @returns True when every latent lists its values and the generator gives value indices.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { hasFactorGrid } from "./factor_arrays.ts";
 * assert.equal(hasFactorGrid(generators.get("dsprites").create({ imageSize: 64 })), true);
 * assert.equal(hasFactorGrid(generators.get("shapes").create({ imageSize: 64 })), false);
 * ```
 */
export function hasFactorGrid(generator: ImageGenerator): boolean {
  const factors = gridFactors(generator);
  return generator.sampleClasses !== undefined && factors.length > 0 &&
    factors.every((factor) =>
      (factor.values !== undefined && factor.values.length > 0) ||
      factor.perClassValues !== undefined
    );
}

function small(name: string, header: NpyHeader, bytes: Uint8Array): FactorArray {
  return { name, header, whole: () => bytes, chunks: () => [bytes] };
}

function factorNames(factors: readonly FactorSpec[]): FactorArray {
  const { descr, data } = encodeUnicodeArray(factors.map((factor) => factor.name));
  return small("factor_names", { descr, fortranOrder: false, shape: [factors.length] }, data);
}

/** Images per chunk of `latents_classes`: 65,536 rows of K int64. */
const ROWS_PER_CHUNK = 65536;

/**
 * The factor arrays of a run, in the order they are written; none for a family without a grid.
 *
 * @param generator The configured family.
 * @param run The number of images and the seed.
 * @returns The arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { factorArrays } from "./factor_arrays.ts";
 * const generator = generators.get("dsprites").create({ imageSize: 64, options: { grid: true } });
 * const arrays = factorArrays(generator, { numImages: 737280, seed: 0 });
 * assert.deepEqual(arrays[0]!.header.shape, [737280, 6]);
 * assert.equal(arrays[2]!.name, "latents_possible_values_color");
 * ```
 */
export function factorArrays(
  generator: ImageGenerator,
  run: { numImages: number; seed: number },
): FactorArray[] {
  if (!hasFactorGrid(generator)) return [];
  const factors = gridFactors(generator);
  const width = factors.length;
  const classes = new Int32Array(width);
  // One buffer, drawn into again for the next rows: a fresh one per call (3 MB for 65,536
  // dsprites rows) left the dead ones to pile up outside the collector's heap while the
  // writer copied them, 40 MB above the image phase for the 737,280-image grid.
  let reused = new Int32Array(0);
  const classRows = (start: number, count: number) => {
    // Little-endian int64 of a small non-negative number: the low word, then zero (high words
    // are never written, so they stay zero when the buffer is reused).
    if (reused.length < 2 * width * count) reused = new Int32Array(2 * width * count);
    const words = reused.subarray(0, 2 * width * count);
    for (let image = 0; image < count; image++) {
      generator.sampleClasses!(run.seed, start + image, classes, 0);
      for (let factor = 0; factor < width; factor++) {
        words[2 * (image * width + factor)] = classes[factor]!;
      }
    }
    return new Uint8Array(words.buffer, 0, words.byteLength);
  };
  const int64 = (values: ArrayLike<number>) => {
    const words = new Int32Array(2 * values.length);
    for (let index = 0; index < values.length; index++) words[2 * index] = values[index]!;
    return new Uint8Array(words.buffer);
  };
  return [
    {
      name: "latents_classes",
      header: { descr: "<i8", fortranOrder: false, shape: [run.numImages, width] },
      rows: classRows,
      *chunks() {
        for (let start = 0; start < run.numImages; start += ROWS_PER_CHUNK) {
          yield classRows(start, Math.min(ROWS_PER_CHUNK, run.numImages - start));
        }
      },
    },
    small(
      "latents_sizes",
      { descr: "<i8", fortranOrder: false, shape: [width] },
      int64(factors.map((factor) => possibleValues(factor, generator.classes)[0]!.length)),
    ),
    ...factors.map((factor) => {
      const rows = possibleValues(factor, generator.classes);
      const shape = factor.perClassValues === undefined
        ? [rows[0]!.length]
        : [rows.length, rows[0]!.length];
      return small(
        `latents_possible_values_${factor.name}`,
        { descr: "<f8", fortranOrder: false, shape },
        new Uint8Array(Float64Array.from(rows.flat()).buffer),
      );
    }),
    factorNames(factors),
  ];
}

/**
 * The arrays of a plan's archive: one per array of the family's sample schema, in its order,
 * then `class_names` and `latent_names`, then the factor arrays of a grid family. For a
 * classic family the first five are {@linkcode DATASET_ARRAYS}, with their named dimensions.
 *
 * @param plan The plan.
 * @returns The descriptors, in the order they are written.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { datasetArrays } from "./factor_arrays.ts";
 * const generator = generators.get("dsprites").create({ imageSize: 16, options: { grid: true } });
 * const arrays = datasetArrays({ generator, numImages: 737280, seed: 0, dtype: "uint8" });
 * assert.equal(arrays[5]!.name, "latents_classes");
 * assert.deepEqual(arrays[5]!.shape, ["N", 6]);
 * ```
 */
export function datasetArrays(plan: LayoutPlan): readonly ArrayDescriptor[] {
  const factors = factorArrays(plan.generator, plan);
  const fixed = plan.generator.schema === undefined ? DATASET_ARRAYS : schemaArrays(plan);
  if (factors.length === 0) return fixed;
  return [
    ...fixed,
    ...factors.map((factor): ArrayDescriptor => ({
      name: factor.name,
      content: "factor grid array (see factor_arrays.ts)",
      dtype: () => factor.header.descr,
      accepts: {
        test: (descr) => descr === factor.header.descr,
        text: factor.header.descr,
      },
      shape: factor.rows === undefined
        ? factor.header.shape
        : ["N", ...factor.header.shape.slice(1)],
      data: factor.rows === undefined
        ? { kind: "whole", bytes: () => factor.whole!() }
        : { kind: "rows", rows: (_plan, start, count) => factor.rows!(start, count) },
    })),
  ];
}

/** A family's own schema as descriptors, then the class and latent names. */
function schemaArrays(plan: LayoutPlan): ArrayDescriptor[] {
  const names = DATASET_ARRAYS.filter((array) => array.data.kind === "whole");
  return [
    ...schemaOf(plan.generator, plan.dtype).arrays.map((spec, index): ArrayDescriptor => ({
      name: spec.name,
      content: `${spec.role} array of the family's schema`,
      dtype: () => npyDescr(spec),
      accepts: { test: (descr) => descr === npyDescr(spec), text: npyDescr(spec) },
      shape: ["N", ...spec.shape],
      data: { kind: "sample", index },
    })),
    ...names,
  ];
}
