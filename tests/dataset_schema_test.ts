import assert from "node:assert/strict";
import { generators } from "../src/generators/registry.ts";
import { datasetLayout } from "../src/pipeline/dataset.ts";
import {
  type ArrayDescriptor,
  checkArrayHeaders,
  DATASET_ARRAYS,
} from "../src/pipeline/dataset_schema.ts";

const generator = generators.get("shapes").create({ imageSize: 8 });
const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 5 };

function headersOf(layout: { name: string; dtype: string; shape: number[] }[]) {
  return new Map(layout.map((array) => [array.name, { descr: array.dtype, shape: array.shape }]));
}

Deno.test("the layout the writer uses passes the readers' checks, for both dtypes", () => {
  for (const dtype of ["uint8", "float64"] as const) {
    const { arrays } = datasetLayout({ ...plan, dtype });
    assert.deepEqual(arrays.map((array) => array.name), DATASET_ARRAYS.map((array) => array.name));
    assert.deepEqual(checkArrayHeaders(headersOf(arrays), { path: "x.npz" }), {
      N: 5,
      S: 8,
      K: 4,
      C: 3,
    });
  }
});

Deno.test("a dimension that disagrees between arrays is named with the expected shape", () => {
  const arrays = datasetLayout(plan).arrays;
  const headers = headersOf(arrays);
  headers.set("latents", { descr: "<f4", shape: [4, 4] });
  assert.throws(
    () => checkArrayHeaders(headers, { path: "x.npz" }),
    { message: "Cannot use x.npz: latents.npy has shape (4, 4), expected (5, K)" },
  );
  headers.delete("latents");
  assert.throws(() => checkArrayHeaders(headers, { path: "x.npz" }), /latents\.npy is missing/);
});

Deno.test("adding an array is one descriptor: header, check and record follow", () => {
  const extra: ArrayDescriptor = {
    name: "latents_sizes",
    content: "values per factor",
    dtype: () => "<f8",
    accepts: { test: (descr) => descr === "<f8", text: "<f8 (float64)" },
    shape: ["K"],
    data: { kind: "whole", bytes: () => new Uint8Array(32) },
  };
  const schema = [...DATASET_ARRAYS, extra];
  const headers = headersOf(datasetLayout(plan).arrays);
  headers.set("latents_sizes", { descr: "<f8", shape: [3] });
  assert.throws(
    () => checkArrayHeaders(headers, { path: "x.npz", schema }),
    /latents_sizes\.npy has shape \(3,\), expected \(4,\)/,
  );
  headers.set("latents_sizes", { descr: "<f8", shape: [4] });
  assert.equal(checkArrayHeaders(headers, { path: "x.npz", schema }).K, 4);
});
