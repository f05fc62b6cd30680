/**
 * The archive layout in one place: the arrays of `dataset.npz`, each as one descriptor.
 *
 * A descriptor names an array, its dtype and its shape in terms of the dataset's dimensions
 * (`N` images, `S` pixels a side, `K` latents, `C` classes), and says how its bytes are made.
 * From this one list come the `.npy` headers the writer puts in the archive, the checks the
 * readers (`inspect`, `verify`) apply to an archive, and the `arrays` of metadata.json. To add
 * an array, add one entry to {@linkcode DATASET_ARRAYS}.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import type { ImageDtype } from "../generators/spec.ts";
import { encodeUnicodeArray, type NpyDtype } from "../format/npy.ts";

/** What the layout of an archive depends on. */
export interface LayoutPlan {
  /** The configured family. */
  generator: ImageGenerator;
  /** Number of images. */
  numImages: number;
  /** The dataset seed. */
  seed: number;
  /** The images' element type. */
  dtype: ImageDtype;
}

/**
 * How an array's data is produced:
 * - `sample`: the `index`-th array of the run's sample schema (`schemaOf`), from the chunk
 *   producer: the first streams into the archive as it is made, the others go to spill files
 *   beside it meanwhile and are copied after it, so no per-sample array is held whole;
 * - `rows`: per image, `rows(plan, start, count)` gives the bytes of images `start ..
 *   start + count - 1`, drawn again from the family (a grid's `latents_classes`);
 * - `whole`: small enough to build at once.
 */
export type ArrayData =
  | { kind: "sample"; index: number }
  | { kind: "rows"; rows: (plan: LayoutPlan, start: number, count: number) => Uint8Array }
  | { kind: "whole"; bytes: (plan: LayoutPlan) => Uint8Array };

/** One array of the archive. */
export interface ArrayDescriptor {
  /** The array's key: the entry is `<name>.npy`. */
  name: string;
  /** One line for the documentation table. */
  content: string;
  /** The dtype the writer uses for a plan. */
  dtype: (plan: LayoutPlan) => NpyDtype;
  /** The dtypes a reader accepts, as text for messages, e.g. `|u1 (uint8) or <f8 (float64)`. */
  accepts: { test: (descr: string) => boolean; text: string };
  /** The shape as dimension names (`N`, `S`, `K`, `C`) or fixed sizes. */
  shape: readonly (string | number)[];
  /** How the data is produced. */
  data: ArrayData;
}

/**
 * The size of each named dimension for a plan.
 *
 * @param plan The plan.
 * @returns `N`, `S`, `K` and `C`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { dimensionsOf } from "./dataset_schema.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const dims = dimensionsOf({ generator, numImages: 7, seed: 1, dtype: "uint8" });
 * assert.deepEqual(dims, { N: 7, S: 16, K: 4, C: 3 });
 * ```
 */
export function dimensionsOf(plan: LayoutPlan): Record<string, number> {
  return {
    N: plan.numImages,
    S: plan.generator.imageSize,
    K: plan.generator.latents.length,
    C: plan.generator.classes.length,
  };
}

const exactly = (descr: NpyDtype, name: string) => ({
  test: (value: string) => value === descr,
  text: `${descr} (${name})`,
});

const unicode = {
  test: (value: string) => /^<U\d+$/.test(value),
  text: "<U (unicode)",
};

/** The arrays of `dataset.npz`, in the order they are written. */
export const DATASET_ARRAYS: readonly ArrayDescriptor[] = [
  {
    name: "images",
    content: "pixels, 0 black to 255 white (float64: 0 to 1)",
    dtype: (plan) => plan.dtype === "uint8" ? "|u1" : "<f8",
    accepts: {
      test: (value) => value === "|u1" || value === "<f8",
      text: "|u1 (uint8) or <f8 (float64)",
    },
    shape: ["N", "S", "S"],
    data: { kind: "sample", index: 0 },
  },
  {
    name: "labels",
    content: "class index into `class_names`",
    dtype: () => "|u1",
    accepts: exactly("|u1", "uint8"),
    shape: ["N"],
    data: { kind: "sample", index: 1 },
  },
  {
    name: "latents",
    content: "latent factors, columns as `latent_names`",
    dtype: () => "<f4",
    accepts: exactly("<f4", "float32"),
    shape: ["N", "K"],
    data: { kind: "sample", index: 2 },
  },
  {
    name: "class_names",
    content: "class names",
    dtype: (plan) => encodeUnicodeArray(plan.generator.classes).descr,
    accepts: unicode,
    shape: ["C"],
    data: { kind: "whole", bytes: (plan) => encodeUnicodeArray(plan.generator.classes).data },
  },
  {
    name: "latent_names",
    content: "latent factor names",
    dtype: (plan) => encodeUnicodeArray(plan.generator.latents.map((latent) => latent.name)).descr,
    accepts: unicode,
    shape: ["K"],
    data: {
      kind: "whole",
      bytes: (plan) => encodeUnicodeArray(plan.generator.latents.map((latent) => latent.name)).data,
    },
  },
];

/**
 * Checks an archive's array headers against the schema: every array present, with an accepted
 * dtype and a shape whose named dimensions agree across arrays.
 *
 * @param headers The archive's headers by array name.
 * @param options Where the archive is (for messages) and the schema (default
 *   {@linkcode DATASET_ARRAYS}).
 * @returns The size of each named dimension, as read.
 * @throws {TypeError} Naming the first array that is missing or has a wrong dtype or shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkArrayHeaders } from "./dataset_schema.ts";
 * const headers = new Map([
 *   ["images", { descr: "|u1", shape: [5, 8, 8] }],
 *   ["labels", { descr: "|u1", shape: [5] }],
 *   ["latents", { descr: "<f4", shape: [5, 4] }],
 *   ["class_names", { descr: "<U8", shape: [3] }],
 *   ["latent_names", { descr: "<U11", shape: [4] }],
 * ]);
 * assert.deepEqual(checkArrayHeaders(headers, { path: "x.npz" }), { N: 5, S: 8, K: 4, C: 3 });
 * ```
 */
export function checkArrayHeaders(
  headers: ReadonlyMap<string, { descr: string; shape: readonly number[] }>,
  options: { path: string; schema?: readonly ArrayDescriptor[] },
): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const array of options.schema ?? DATASET_ARRAYS) {
    const wrong = (problem: string): never => {
      throw new TypeError(`Cannot use ${options.path}: ${array.name}.npy ${problem}`);
    };
    const header = headers.get(array.name);
    if (header === undefined) wrong("is missing");
    const { descr, shape } = header!;
    if (!array.accepts.test(descr)) wrong(`has dtype ${descr}, expected ${array.accepts.text}`);
    let matches = shape.length === array.shape.length;
    const bound: Record<string, number> = {};
    for (let axis = 0; matches && axis < shape.length; axis++) {
      const want = array.shape[axis]!, have = shape[axis]!;
      if (typeof want === "number") matches = have === want;
      else {
        const known = dims[want] ?? bound[want];
        if (known === undefined) bound[want] = have;
        else matches = have === known;
      }
    }
    if (!matches) {
      const expected = array.shape.map((dim) => typeof dim === "number" ? dim : dims[dim] ?? dim);
      wrong(`has shape ${shapeText(shape)}, expected ${shapeText(expected)}`);
    }
    Object.assign(dims, bound);
  }
  return dims;
}

/**
 * A shape as numpy prints it: `(1000,)`, `(1000, 16, 16)`.
 *
 * @param shape The dimensions.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeText } from "./dataset_schema.ts";
 * assert.equal(shapeText([3]), "(3,)");
 * ```
 */
export function shapeText(shape: readonly (number | string)[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}
