/**
 * The sample schema: the arrays a family declares for each sample, and the buffers that hold
 * them for a chunk of samples.
 *
 * A family names every array it produces per sample, like a TFDS `FeaturesDict`:
 *
 * | field   | meaning                                                                   |
 * | ------- | ------------------------------------------------------------------------- |
 * | `name`  | the array's key (`masks` is stored as `masks.npy`): `[a-z][a-z0-9_]*`     |
 * | `dtype` | the element type: one of {@linkcode SAMPLE_DTYPES}                        |
 * | `shape` | the shape of one sample's array, e.g. `[S, S, 3]` or `[K + 1, S, S]`; `[]` |
 * |         | is one scalar per sample                                                  |
 * | `role`  | what the array is for: one of {@linkcode ARRAY_ROLES}; exactly one array  |
 * |         | of a schema is the `image`                                                |
 *
 * Over N samples the array is stored as `(N, ...shape)` in C order, so sample j's elements are
 * the j-th run of `shape`'s product elements. {@linkcode allocateChunk} gives each array of a
 * chunk its own typed view over its own buffer, so a renderer writes sample j of each array at
 * `j x elementsPerSample` of that array's view, and a writer or a worker hands the buffers on
 * one by one without copying.
 *
 * The pipeline (writer, workers, slices, merge, verify, memory estimate) reads a run's schema
 * through `schemaOf` (`family_schema.ts`).
 *
 * @module
 */

/** The element types a schema may declare, and their npy descriptors (little-endian). */
export const SAMPLE_DTYPES = {
  uint8: "|u1",
  int8: "|i1",
  uint16: "<u2",
  int16: "<i2",
  uint32: "<u4",
  int32: "<i4",
  float32: "<f4",
  float64: "<f8",
} as const;

/** An element type of a schema's array. */
export type SampleDtype = keyof typeof SAMPLE_DTYPES;

/** What an array is for: readers (inspect, verify) choose what to show and check by role. */
export const ARRAY_ROLES = ["image", "mask", "label", "factor", "other"] as const;

/** The role of a schema's array. */
export type ArrayRole = typeof ARRAY_ROLES[number];

/** One array of a sample, as a family declares it. */
export interface ArraySpec {
  /** The array's key; stored as `<name>.npy`. */
  readonly name: string;
  /** The element type. */
  readonly dtype: SampleDtype;
  /** The shape of one sample's array (without the leading N); `[]` for a scalar. */
  readonly shape: readonly number[];
  /** What the array is for. */
  readonly role: ArrayRole;
}

/** A checked declaration: the arrays in their declared order, frozen. */
export interface SampleSchema {
  /** The arrays, in the order they are declared and stored. */
  readonly arrays: readonly ArraySpec[];
}

/** The typed array of each dtype. */
export type SampleView =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

const BYTES_PER_ELEMENT: Record<SampleDtype, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** A plain name: a lowercase letter, then lowercase letters, digits or `_`, 64 at most. */
const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** The largest size of one sample's array, in bytes: 1 GiB. */
export const MAX_SAMPLE_BYTES = 2 ** 30;

/** The most arrays a schema may declare. */
export const MAX_ARRAYS = 64;

/** The most dimensions of one sample's array. */
export const MAX_RANK = 8;

/**
 * Checks a declaration and returns it as a frozen schema.
 *
 * Throws a `TypeError` for a declaration of the wrong form (not an array, a field of the wrong
 * type, an unknown dtype or role) and a `RangeError` for a value out of range (no arrays, a
 * duplicate name, a dimension that is not a positive integer, a sample too large, not exactly
 * one image); each message names the array and the field, the value, and what is accepted.
 *
 * @param arrays The arrays, in the order they are to be stored.
 * @returns The schema: a frozen copy of the declaration.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSampleSchema } from "./sample_schema.ts";
 * const schema = checkSampleSchema([
 *   { name: "image", dtype: "uint8", shape: [64, 64, 3], role: "image" },
 *   { name: "num_objects", dtype: "uint8", shape: [], role: "label" },
 * ]);
 * assert.equal(schema.arrays.length, 2);
 * assert.throws(
 *   () => checkSampleSchema([{ name: "Image", dtype: "uint8", shape: [4], role: "image" }]),
 *   RangeError,
 * );
 * ```
 */
export function checkSampleSchema(arrays: readonly ArraySpec[]): SampleSchema {
  if (!Array.isArray(arrays)) {
    throw new TypeError(
      `Cannot use sample schema ${describe(arrays)}: expected a list of array declarations`,
    );
  }
  if (arrays.length === 0 || arrays.length > MAX_ARRAYS) {
    throw new RangeError(
      `Cannot use a sample schema of ${arrays.length} arrays: expected 1 to ${MAX_ARRAYS}`,
    );
  }
  const names = new Set<string>();
  const checked: ArraySpec[] = [];
  for (const [index, spec] of arrays.entries()) {
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw new TypeError(
        `Cannot use sample schema array ${index} ${describe(spec)}: ` +
          "expected { name, dtype, shape, role }",
      );
    }
    const extra = Object.keys(spec).filter((key) =>
      !["name", "dtype", "shape", "role"].includes(key)
    );
    if (extra.length > 0) {
      throw new TypeError(
        `Cannot use sample schema array ${index} field "${extra[0]}": ` +
          "expected only name, dtype, shape and role",
      );
    }
    const { name, dtype, shape, role } = spec;
    if (typeof name !== "string") {
      throw new TypeError(
        `Cannot use sample schema array ${index} name ${describe(name)}: expected a string`,
      );
    }
    if (!NAME_PATTERN.test(name)) {
      throw new RangeError(
        `Cannot use sample schema array name "${name}": expected a lowercase letter, then ` +
          "up to 63 lowercase letters, digits or underscores",
      );
    }
    if (names.has(name)) {
      throw new RangeError(
        `Cannot use sample schema array name "${name}" twice: expected unique names`,
      );
    }
    names.add(name);
    if (typeof dtype !== "string" || !Object.hasOwn(SAMPLE_DTYPES, dtype)) {
      throw new TypeError(
        `Cannot use dtype ${describe(dtype)} for sample schema array "${name}": expected one ` +
          `of ${Object.keys(SAMPLE_DTYPES).join(", ")}`,
      );
    }
    if (!Array.isArray(shape)) {
      throw new TypeError(
        `Cannot use shape ${describe(shape)} for sample schema array "${name}": ` +
          "expected a list of dimensions, [] for a scalar",
      );
    }
    if (shape.length > MAX_RANK) {
      throw new RangeError(
        `Cannot use shape ${describe(shape)} for sample schema array "${name}": ` +
          `expected at most ${MAX_RANK} dimensions`,
      );
    }
    for (const dim of shape) {
      if (typeof dim !== "number" || !Number.isInteger(dim) || dim < 1) {
        throw new RangeError(
          `Cannot use shape ${describe(shape)} for sample schema array "${name}": ` +
            `dimension ${describe(dim)} is not a positive integer`,
        );
      }
    }
    const bytes = shape.reduce((product: number, dim: number) => product * dim, 1) *
      BYTES_PER_ELEMENT[dtype as SampleDtype];
    if (bytes > MAX_SAMPLE_BYTES) {
      throw new RangeError(
        `Cannot use shape ${describe(shape)} for sample schema array "${name}": ` +
          `${bytes} bytes per sample, expected at most ${MAX_SAMPLE_BYTES}`,
      );
    }
    if (typeof role !== "string" || !(ARRAY_ROLES as readonly string[]).includes(role)) {
      throw new TypeError(
        `Cannot use role ${describe(role)} for sample schema array "${name}": expected one of ` +
          ARRAY_ROLES.join(", "),
      );
    }
    checked.push(Object.freeze({
      name,
      dtype: dtype as SampleDtype,
      shape: Object.freeze([...shape]),
      role: role as ArrayRole,
    }));
  }
  const images = checked.filter((spec) => spec.role === "image").map((spec) => `"${spec.name}"`);
  if (images.length !== 1) {
    throw new RangeError(
      `Cannot use a sample schema with ${images.length} image arrays` +
        (images.length > 0 ? ` (${images.join(", ")})` : "") +
        ": expected exactly one array of role image",
    );
  }
  return Object.freeze({ arrays: Object.freeze(checked) });
}

/**
 * The number of elements of one sample's array: the product of its shape (1 for a scalar).
 *
 * @param spec The array.
 * @returns Elements per sample.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementsPerSample } from "./sample_schema.ts";
 * assert.equal(elementsPerSample({ name: "masks", dtype: "uint8", shape: [5, 64, 64], role: "mask" }), 20480);
 * ```
 */
export function elementsPerSample(spec: ArraySpec): number {
  return spec.shape.reduce((product, dim) => product * dim, 1);
}

/**
 * The bytes one sample's array takes.
 *
 * @param spec The array.
 * @returns Elements per sample times the dtype's size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bytesPerSample } from "./sample_schema.ts";
 * assert.equal(bytesPerSample({ name: "color", dtype: "float32", shape: [5, 3], role: "factor" }), 60);
 * ```
 */
export function bytesPerSample(spec: ArraySpec): number {
  return elementsPerSample(spec) * BYTES_PER_ELEMENT[spec.dtype];
}

/**
 * The bytes one sample takes over all arrays of a schema.
 *
 * @param schema The schema.
 * @returns The sum of {@linkcode bytesPerSample} over its arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSampleSchema, sampleBytes } from "./sample_schema.ts";
 * const schema = checkSampleSchema([
 *   { name: "image", dtype: "uint8", shape: [2, 2, 3], role: "image" },
 *   { name: "x", dtype: "float32", shape: [4], role: "factor" },
 * ]);
 * assert.equal(sampleBytes(schema), 28);
 * ```
 */
export function sampleBytes(schema: SampleSchema): number {
  return schema.arrays.reduce((total, spec) => total + bytesPerSample(spec), 0);
}

/**
 * The npy header's shape of an array over `numSamples` samples: `(N, ...shape)`.
 *
 * @param spec The array.
 * @param numSamples N, a non-negative integer.
 * @returns `[numSamples, ...spec.shape]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npyShape } from "./sample_schema.ts";
 * const masks = { name: "masks", dtype: "uint8", shape: [5, 64, 64], role: "mask" } as const;
 * assert.deepEqual(npyShape(masks, 1000), [1000, 5, 64, 64]);
 * assert.deepEqual(npyShape({ ...masks, name: "n", shape: [] }, 7), [7]);
 * ```
 */
export function npyShape(spec: ArraySpec, numSamples: number): number[] {
  checkCount(numSamples);
  return [numSamples, ...spec.shape];
}

/**
 * The npy dtype descriptor of an array, e.g. `|u1` for uint8 and `<f4` for float32.
 *
 * @param spec The array.
 * @returns The descriptor numpy writes in the header's `descr`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npyDescr } from "./sample_schema.ts";
 * assert.equal(npyDescr({ name: "x", dtype: "int32", shape: [4], role: "label" }), "<i4");
 * ```
 */
export function npyDescr(spec: ArraySpec): typeof SAMPLE_DTYPES[SampleDtype] {
  return SAMPLE_DTYPES[spec.dtype];
}

/** One array of a chunk: its declaration and its own typed view over its own buffer. */
export interface ChunkArray {
  /** The array's declaration. */
  readonly spec: ArraySpec;
  /** Elements per sample: sample j's elements start at `j * elementsPerSample`. */
  readonly elementsPerSample: number;
  /** `numSamples * elementsPerSample` elements, zeroed when allocated. */
  readonly view: SampleView;
}

/** The buffers of a chunk of samples: one typed view per array of the schema. */
export interface ChunkLayout {
  /** The number of samples the chunk holds. */
  readonly numSamples: number;
  /** The arrays, in the schema's order. */
  readonly arrays: readonly ChunkArray[];
  /** The arrays by name. */
  readonly byName: ReadonlyMap<string, ChunkArray>;
}

/**
 * Allocates the buffers of a chunk of `numSamples` samples: each array of the schema gets its
 * own zeroed `ArrayBuffer` and a typed view of its dtype over the whole of it.
 *
 * @param schema A schema from {@linkcode checkSampleSchema}.
 * @param numSamples The chunk's number of samples, 0 to 2^31 - 1.
 * @param options `buffers`: memory of an earlier chunk, one per array in schema order, used
 *   (as it is, not zeroed) for each array whose size it has exactly; e.g. buffers a worker
 *   sent back to be filled again.
 * @returns The chunk's arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocateChunk, checkSampleSchema } from "./sample_schema.ts";
 * const schema = checkSampleSchema([
 *   { name: "image", dtype: "uint8", shape: [4, 4], role: "image" },
 *   { name: "x", dtype: "float32", shape: [2], role: "factor" },
 * ]);
 * const chunk = allocateChunk(schema, 3);
 * const x = chunk.byName.get("x")!;
 * assert.ok(x.view instanceof Float32Array && x.view.length === 6);
 * x.view[2 * x.elementsPerSample] = 0.5; // sample 2, element 0
 * assert.equal(chunk.arrays[0]!.view.byteLength, 48);
 * const again = allocateChunk(schema, 3, { buffers: chunk.arrays.map((a) => a.view.buffer) });
 * assert.equal(again.byName.get("x")!.view[2 * 2], 0.5);
 * ```
 */
export function allocateChunk(
  schema: SampleSchema,
  numSamples: number,
  options: { buffers?: readonly (ArrayBufferLike | undefined)[] } = {},
): ChunkLayout {
  checkCount(numSamples);
  const arrays = schema.arrays.map((spec, index) => {
    const perSample = elementsPerSample(spec);
    const length = perSample * numSamples;
    if (length * BYTES_PER_ELEMENT[spec.dtype] > 2 ** 31 - 1) {
      throw new RangeError(
        `Cannot allocate ${numSamples} samples of array "${spec.name}": ` +
          `${length * BYTES_PER_ELEMENT[spec.dtype]} bytes, expected at most ${2 ** 31 - 1}`,
      );
    }
    const buffer = options.buffers?.[index];
    const reuse = buffer !== undefined &&
      buffer.byteLength === length * BYTES_PER_ELEMENT[spec.dtype];
    return Object.freeze({
      spec,
      elementsPerSample: perSample,
      view: reuse ? viewOver(spec.dtype, buffer) : createView(spec.dtype, length),
    });
  });
  return Object.freeze({
    numSamples,
    arrays: Object.freeze(arrays),
    byName: new Map(arrays.map((array) => [array.spec.name, array])),
  });
}

function createView(dtype: SampleDtype, length: number): SampleView {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(length);
    case "int8":
      return new Int8Array(length);
    case "uint16":
      return new Uint16Array(length);
    case "int16":
      return new Int16Array(length);
    case "uint32":
      return new Uint32Array(length);
    case "int32":
      return new Int32Array(length);
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
  }
}

function viewOver(dtype: SampleDtype, buffer: ArrayBufferLike): SampleView {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(buffer);
    case "int8":
      return new Int8Array(buffer);
    case "uint16":
      return new Uint16Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "uint32":
      return new Uint32Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
  }
}

function checkCount(numSamples: number): void {
  if (!Number.isInteger(numSamples) || numSamples < 0 || numSamples > 2 ** 31 - 1) {
    throw new RangeError(
      `Cannot use ${describe(numSamples)} samples: expected an integer from 0 to ${2 ** 31 - 1}`,
    );
  }
}

/** A value as it reads in a message: JSON where possible. */
function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
