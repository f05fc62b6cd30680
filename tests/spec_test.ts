/**
 * The dataset spec: a family named by module URL renders in worker threads exactly as on the
 * main thread, and bad references fail with one clear line.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createGenerator,
  type DatasetSpec,
  loadFamily,
  specDifference,
} from "../src/generators/spec.ts";
import { renderImageBytes } from "../src/pipeline/render.ts";
import { workerSampleChunks } from "../src/pipeline/worker_pool.ts";

const SHAPES_URL = new URL("../src/generators/shapes.ts", import.meta.url).href;

/** Writes a module into a temporary folder and returns its URL and folder. */
async function moduleFile(source: string): Promise<{ url: string; folder: string }> {
  const folder = await Deno.makeTempDir({ prefix: "dsgen-spec-" });
  const path = join(folder, "family.ts");
  await Deno.writeTextFile(path, source);
  return { url: pathToFileURL(path).href, folder };
}

Deno.test("a family loaded from a module renders in workers exactly as on the main thread", async () => {
  // A family of the user's own: the shapes renderer under another name, in a module of its own.
  const { url, folder } = await moduleFile(
    `import { shapesFamily } from "${SHAPES_URL}";\n` +
      `export const family = { ...shapesFamily, name: "my-shapes" };\n`,
  );
  try {
    const spec: DatasetSpec = {
      family: { name: "my-shapes", module: url, options: {} },
      seed: 9,
      numImages: 40,
      imageSize: 12,
      dtype: "uint8",
    };
    const generator = await createGenerator(spec);
    const plan = { generator, numImages: 40, seed: 9, dtype: "uint8" as const, chunkImages: 7 };
    const parts: Uint8Array[] = [];
    for await (const chunk of workerSampleChunks(plan, { workers: 2, family: spec.family })) {
      parts.push((chunk.arrays[0] as { bytes: Uint8Array }).bytes.slice());
    }
    const threaded = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
    parts.reduce((offset, part) => (threaded.set(part, offset), offset + part.length), 0);
    const local = renderImageBytes(plan, { start: 0, count: 40 });
    assert.equal(threaded.length, 40 * 144);
    assert.deepEqual(threaded, local);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a module without a family, or with another name, is refused in one line", async () => {
  const empty = await moduleFile("export const nothing = 1;\n");
  const renamed = await moduleFile(
    `import { shapesFamily } from "${SHAPES_URL}";\nexport const family = shapesFamily;\n`,
  );
  try {
    await assert.rejects(
      loadFamily({ name: "x", module: empty.url, options: {} }),
      /^TypeError: Cannot use generator module ".*": expected it to export a family as "family"$/,
    );
    await assert.rejects(
      loadFamily({ name: "blobs", module: renamed.url, options: {} }),
      /its family is "shapes", expected "blobs"/,
    );
    await assert.rejects(
      loadFamily({ name: "x", module: pathToFileURL("/nonexistent/family.ts").href, options: {} }),
      /^TypeError: Cannot import generator module "file:\/\/\/nonexistent\/family.ts": /,
    );
    await assert.rejects(
      createGenerator({ family: { name: "shapes", version: "0.1.0", options: {} }, imageSize: 16 }),
      /Cannot use generator shapes 1\.0\.0: the spec asks for version 0\.1\.0/,
    );
  } finally {
    await Deno.remove(empty.folder, { recursive: true });
    await Deno.remove(renamed.folder, { recursive: true });
  }
});

Deno.test("specDifference names the first differing field, nested options included", () => {
  const spec: DatasetSpec = {
    family: { name: "shapes", options: { grid: { scale: 6 } } },
    seed: 1,
    numImages: 10,
    imageSize: 16,
    dtype: "uint8",
  };
  const other = structuredClone(spec);
  assert.equal(specDifference(spec, other), undefined);
  // Key order does not matter.
  other.family = { options: { grid: { scale: 6 } }, name: "shapes" };
  assert.equal(specDifference(spec, other), undefined);
  other.family.options = { grid: { scale: 7 } };
  assert.equal(specDifference(spec, other), "family.options.grid.scale");
  assert.equal(specDifference(spec, { ...spec, dtype: "float64" }), "dtype");
  assert.equal(specDifference(spec, { ...spec, numImages: 11 }), "numImages");
});
