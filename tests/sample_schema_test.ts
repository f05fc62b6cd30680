import assert from "node:assert/strict";
import {
  allocateChunk,
  type ArraySpec,
  bytesPerSample,
  checkSampleSchema,
  npyDescr,
  npyShape,
  sampleBytes,
} from "../src/generators/sample_schema.ts";

const IMAGE: ArraySpec = { name: "image", dtype: "uint8", shape: [64, 64, 3], role: "image" };
const MASKS: ArraySpec = { name: "masks", dtype: "uint8", shape: [5, 64, 64], role: "mask" };
const COLOR: ArraySpec = { name: "color", dtype: "float32", shape: [5, 3], role: "factor" };
const COUNT: ArraySpec = { name: "num_objects", dtype: "uint8", shape: [], role: "label" };

/** Asserts that `declaration` is rejected with exactly `message` and error class `kind`. */
function rejects(declaration: unknown, kind: typeof TypeError, message: string): void {
  assert.throws(
    () => checkSampleSchema(declaration as ArraySpec[]),
    (error: unknown) => {
      assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
      assert.equal((error as Error).message, message);
      return true;
    },
  );
}

Deno.test("checkSampleSchema keeps the declared order and freezes a copy", () => {
  const shape = [5, 3];
  const schema = checkSampleSchema([IMAGE, MASKS, { ...COLOR, shape }, COUNT]);
  assert.deepEqual(schema.arrays.map((spec) => spec.name), [
    "image",
    "masks",
    "color",
    "num_objects",
  ]);
  shape[0] = 9;
  assert.deepEqual(schema.arrays[2]!.shape, [5, 3]);
  assert.ok(Object.isFrozen(schema.arrays) && Object.isFrozen(schema.arrays[2]!.shape));
});

Deno.test("checkSampleSchema rejects each bad declaration with one precise message", () => {
  rejects(
    "image",
    TypeError,
    'Cannot use sample schema "image": expected a list of array declarations',
  );
  rejects([], RangeError, "Cannot use a sample schema of 0 arrays: expected 1 to 64");
  rejects(
    [IMAGE, 3],
    TypeError,
    "Cannot use sample schema array 1 3: expected { name, dtype, shape, role }",
  );
  rejects(
    [{ ...IMAGE, unit: "px" }],
    TypeError,
    'Cannot use sample schema array 0 field "unit": expected only name, dtype, shape and role',
  );
  rejects(
    [{ ...IMAGE, name: 7 }],
    TypeError,
    "Cannot use sample schema array 0 name 7: expected a string",
  );
  for (const name of ["Image", "1st", "a-b", "", "a".repeat(65), "x.npy"]) {
    rejects(
      [{ ...IMAGE, name }],
      RangeError,
      `Cannot use sample schema array name "${name}": expected a lowercase letter, then up to ` +
        "63 lowercase letters, digits or underscores",
    );
  }
  rejects(
    [IMAGE, { ...MASKS, name: "image" }],
    RangeError,
    'Cannot use sample schema array name "image" twice: expected unique names',
  );
  rejects(
    [{ ...IMAGE, dtype: "int64" }],
    TypeError,
    'Cannot use dtype "int64" for sample schema array "image": expected one of uint8, int8, ' +
      "uint16, int16, uint32, int32, float32, float64",
  );
  rejects(
    [{ ...IMAGE, shape: 64 }],
    TypeError,
    'Cannot use shape 64 for sample schema array "image": expected a list of dimensions, [] ' +
      "for a scalar",
  );
  for (const dim of [0, -1, 2.5, "3", null]) {
    rejects(
      [{ ...IMAGE, shape: [64, dim] }],
      RangeError,
      `Cannot use shape ${JSON.stringify([64, dim])} for sample schema array "image": ` +
        `dimension ${JSON.stringify(dim)} is not a positive integer`,
    );
  }
  rejects(
    [{ ...IMAGE, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }],
    RangeError,
    'Cannot use shape [1,1,1,1,1,1,1,1,1] for sample schema array "image": expected at most 8 ' +
      "dimensions",
  );
  rejects(
    [{ ...IMAGE, dtype: "float64", shape: [16384, 16385] }],
    RangeError,
    'Cannot use shape [16384,16385] for sample schema array "image": 2147614720 bytes per ' +
      "sample, expected at most 1073741824",
  );
  rejects(
    [{ ...IMAGE, role: "picture" }],
    TypeError,
    'Cannot use role "picture" for sample schema array "image": expected one of image, mask, ' +
      "label, factor, other",
  );
  rejects(
    [MASKS, COUNT],
    RangeError,
    "Cannot use a sample schema with 0 image arrays: expected exactly one array of role image",
  );
  rejects(
    [IMAGE, { ...MASKS, role: "image" }],
    RangeError,
    'Cannot use a sample schema with 2 image arrays ("image", "masks"): expected exactly one ' +
      "array of role image",
  );
});

Deno.test("bytesPerSample, sampleBytes, npyShape and npyDescr", () => {
  assert.equal(bytesPerSample(IMAGE), 12288);
  assert.equal(bytesPerSample(MASKS), 20480);
  assert.equal(bytesPerSample(COLOR), 60);
  assert.equal(bytesPerSample(COUNT), 1);
  assert.equal(bytesPerSample({ ...COLOR, dtype: "float64" }), 120);
  assert.equal(sampleBytes(checkSampleSchema([IMAGE, MASKS, COLOR, COUNT])), 32829);
  assert.deepEqual(npyShape(IMAGE, 100000), [100000, 64, 64, 3]);
  assert.deepEqual(npyShape(COUNT, 0), [0]);
  assert.throws(
    () => npyShape(IMAGE, -1),
    new RangeError("Cannot use -1 samples: expected an integer from 0 to 2147483647"),
  );
  assert.deepEqual(
    (["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"] as const)
      .map((dtype) => npyDescr({ ...COUNT, dtype })),
    ["|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"],
  );
});

Deno.test("allocateChunk gives each array its own zeroed view of its dtype", () => {
  const schema = checkSampleSchema([IMAGE, MASKS, COLOR, COUNT]);
  const chunk = allocateChunk(schema, 10);
  assert.equal(chunk.numSamples, 10);
  assert.deepEqual(
    chunk.arrays.map((array) => [array.spec.name, array.view.constructor.name, array.view.length]),
    [
      ["image", "Uint8Array", 122880],
      ["masks", "Uint8Array", 204800],
      ["color", "Float32Array", 150],
      ["num_objects", "Uint8Array", 10],
    ],
  );
  const buffers = new Set(chunk.arrays.map((array) => array.view.buffer));
  assert.equal(buffers.size, 4);
  for (const array of chunk.arrays) {
    assert.equal(array.view.byteOffset, 0);
    assert.equal(array.view.byteLength, array.view.buffer.byteLength);
    assert.ok(array.view.every((value) => value === 0));
  }
  const color = chunk.byName.get("color")!;
  assert.equal(color.elementsPerSample, 15);
  color.view[7 * color.elementsPerSample + 14] = 0.25; // sample 7, entity 4, blue
  assert.equal(new Float32Array(color.view.buffer)[119], 0.25);
  assert.equal(allocateChunk(schema, 0).arrays[1]!.view.length, 0);
  assert.throws(
    () => allocateChunk(schema, 1.5),
    new RangeError("Cannot use 1.5 samples: expected an integer from 0 to 2147483647"),
  );
  assert.throws(
    () => allocateChunk(schema, 120000),
    new RangeError(
      'Cannot allocate 120000 samples of array "masks": 2457600000 bytes, expected at most ' +
        "2147483647",
    ),
  );
});
