/**
 * The sample schema of a configured family: the one it declares, or, for a classic family, the
 * three arrays every archive held before schemas.
 *
 * | array     | dtype            | per-sample shape | role   |
 * | --------- | ---------------- | ---------------- | ------ |
 * | `images`  | uint8 or float64 | (S, S)           | image  |
 * | `labels`  | uint8            | ()               | label  |
 * | `latents` | float32          | (K,)             | factor |
 *
 * The pipeline asks {@linkcode schemaOf} and nothing else, so a family with its own schema
 * plugs in through the registry alone.
 *
 * @module
 */

import type { ImageGenerator } from "./generator.ts";
import type { ArraySpec, SampleSchema } from "./sample_schema.ts";
import type { ImageDtype } from "./spec.ts";

/**
 * The schema of a classic family: `images` (S, S), `labels` () and `latents` (K,), exactly
 * the names, dtypes and shapes archives had before schemas (K may be 0).
 *
 * @param options The image side S, the number of latents K and the images' dtype.
 * @returns The schema.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classicSchema } from "./family_schema.ts";
 * const schema = classicSchema({ imageSize: 16, numLatents: 4, dtype: "uint8" });
 * assert.deepEqual(schema.arrays.map((spec) => [spec.name, spec.dtype, spec.shape]), [
 *   ["images", "uint8", [16, 16]],
 *   ["labels", "uint8", []],
 *   ["latents", "float32", [4]],
 * ]);
 * ```
 */
export function classicSchema(
  options: { imageSize: number; numLatents: number; dtype: ImageDtype },
): SampleSchema {
  // Built here rather than by checkSampleSchema, which refuses the (N, 0) latents of a family
  // without latents that archives have always had.
  const arrays: ArraySpec[] = [
    {
      name: "images",
      dtype: options.dtype,
      shape: [options.imageSize, options.imageSize],
      role: "image",
    },
    { name: "labels", dtype: "uint8", shape: [], role: "label" },
    { name: "latents", dtype: "float32", shape: [options.numLatents], role: "factor" },
  ];
  return Object.freeze({
    arrays: Object.freeze(
      arrays.map((spec) => Object.freeze({ ...spec, shape: Object.freeze([...spec.shape]) })),
    ),
  });
}

/**
 * Whether a generator is classic: it declares no schema, so the pipeline fills the classic
 * schema from `sample` and `render`.
 *
 * @param generator The configured family.
 * @returns True when `generator.schema` is absent.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "./registry.ts";
 * import { isClassic } from "./family_schema.ts";
 * assert.equal(isClassic(generators.get("shapes").create({ imageSize: 16 })), true);
 * ```
 */
export function isClassic(generator: ImageGenerator): boolean {
  return generator.schema === undefined;
}

/**
 * The schema a run of a configured family stores: its own, or the classic one for its image
 * size, number of latents and the run's image dtype.
 *
 * @param generator The configured family.
 * @param dtype The run's image dtype; a family with its own schema declares its dtypes there,
 *   and only `uint8` (the default) is accepted for it.
 * @returns The schema.
 * @throws {RangeError} For `float64` asked of a family with its own schema.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "./registry.ts";
 * import { schemaOf } from "./family_schema.ts";
 * const generator = generators.get("dsprites").create({ imageSize: 64 });
 * assert.deepEqual(schemaOf(generator, "float64").arrays[0]!.shape, [64, 64]);
 * ```
 */
export function schemaOf(generator: ImageGenerator, dtype: ImageDtype = "uint8"): SampleSchema {
  if (generator.schema === undefined) {
    return classicSchema({
      imageSize: generator.imageSize,
      numLatents: generator.latents.length,
      dtype,
    });
  }
  if (dtype !== "uint8") {
    throw new RangeError(
      `Cannot use --dtype ${dtype} with family "${generator.name}": it declares its own ` +
        "arrays and their dtypes; expected uint8 (the default)",
    );
  }
  return generator.schema;
}

/**
 * The image array of a schema: the one array of role `image`.
 *
 * @param schema The schema.
 * @returns Its declaration.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classicSchema, imageArray } from "./family_schema.ts";
 * const schema = classicSchema({ imageSize: 8, numLatents: 1, dtype: "uint8" });
 * assert.equal(imageArray(schema).name, "images");
 * ```
 */
export function imageArray(schema: SampleSchema): ArraySpec {
  return schema.arrays.find((spec) => spec.role === "image")!;
}
