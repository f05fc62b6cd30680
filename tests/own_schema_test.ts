// A family with its own sample schema plugs in through the registry alone: the test family
// `tiles` (tests/support/tiles_family.ts: an RGB (S, S, 3) image, masks (K, S, S) and colors
// (K,) int32) goes through generate, verify, slices and merge, the worker threads and the
// memory estimate, and no file of src/ knows it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { generators } from "../src/generators/registry.ts";
import type { DatasetSpec } from "../src/generators/spec.ts";
import { createGenerator } from "../src/generators/spec.ts";
import { sampleBytes } from "../src/generators/sample_schema.ts";
import { schemaOf } from "../src/generators/family_schema.ts";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { planRun } from "../src/run/plan.ts";
import { runSlice } from "../src/cluster/slice.ts";
import { listVersions } from "../src/store/versions.ts";
import { openVersion } from "../src/store/open_version.ts";
import { verifyVersion } from "../src/validate/verify_version.ts";
import { archiveDisagreement } from "../src/validate/metadata_agreement.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { localSampleChunks } from "../src/pipeline/sample_chunk.ts";
import { workerSampleChunks } from "../src/pipeline/worker_pool.ts";
import { chunkBytes } from "../src/format/npz.ts";
import { UsageError } from "../src/exit/errors.ts";
import { runPythonJson } from "./support/python.ts";
import { withTempDir } from "./support/folders.ts";
import { dataOffset, fixChecksum, flipByte } from "./support/datasets.ts";
import { tilesFamily } from "./support/tiles_family.ts";

generators.register(tilesFamily);

const SPEC: DatasetSpec = {
  family: { name: "tiles", options: { k: 3 } },
  seed: 5,
  numImages: 301,
  imageSize: 8,
  dtype: "uint8",
};

Deno.test("a family's own schema is what the archive holds, and numpy reads it", async () => {
  await withTempDir("dsgen_schema_test_", async (folder) => {
    const { path, metadata } = await generateDataset(SPEC, folder, { workers: 1 });
    assert.deepEqual(
      metadata.arrays.map(({ name, dtype, shape }) => [name, dtype, shape]),
      [
        ["image", "|u1", [301, 8, 8, 3]],
        ["masks", "|u1", [301, 3, 8, 8]],
        ["colors", "<i4", [301, 3]],
        ["class_names", "<U1", [0]],
        ["latent_names", "<U1", [0]],
      ],
    );
    const checked = await runPythonJson<Record<string, unknown>>(
      "import json, sys, numpy as np\n" +
        "d = np.load(sys.argv[1])\n" +
        "image, masks, colors = d['image'], d['masks'], d['colors']\n" +
        "rgb = np.stack([(colors >> s) & 255 for s in (16, 8, 0)], -1)\n" +
        "owner = masks.argmax(1)\n" +
        "painted = np.take_along_axis(rgb[:, :, None, None, :], owner[:, None, :, :, None], 1)[:, 0]\n" +
        "print(json.dumps({'shapes': [list(image.shape), list(masks.shape), list(colors.shape)],\n" +
        "  'dtypes': [str(image.dtype), str(masks.dtype), str(colors.dtype)],\n" +
        "  'partition': bool(((masks == 255).sum(1) == 1).all() and np.isin(masks, [0, 255]).all()),\n" +
        "  'colours': bool((painted == image).all()),\n" +
        "  'distinct': int(len(np.unique(colors)))}))",
      [join(path, "dataset.npz")],
    );
    assert.deepEqual(checked.shapes, [[301, 8, 8, 3], [301, 3, 8, 8], [301, 3]]);
    assert.deepEqual(checked.dtypes, ["uint8", "uint8", "int32"]);
    assert.equal(checked.partition, true);
    assert.equal(checked.colours, true);
    assert.ok((checked.distinct as number) > 800);
  });
});

Deno.test("verify re-renders and compares every array of a family's own schema", async () => {
  await withTempDir("dsgen_schema_test_", async (folder) => {
    const { path, metadata } = await generateDataset(SPEC, folder, { workers: 1 });
    const reader = await NpzReader.open(join(path, "dataset.npz"));
    try {
      assert.equal(archiveDisagreement(metadata, reader), undefined);
      assert.equal(
        archiveDisagreement({ ...metadata, num_images: 300 }, reader),
        "metadata.json says num_images 300 but dataset.npz's image holds 301",
      );
    } finally {
      reader.close();
    }
    const steps = await verifyVersion(await openVersion(path), { samples: 10, seed: 2 });
    assert.ok(steps.every((step) => step.ok), JSON.stringify(steps));
    assert.match(
      steps.find((step) => step.name === "samples")!.detail,
      /10 of 301 samples .* byte-identical in every array \(image, masks, colors\)/,
    );
  });
});

Deno.test("slices of a family's own schema merge into the one-machine archive", async () => {
  await withTempDir("dsgen_schema_test_", async (folder) => {
    const one = await generateDataset(SPEC, join(folder, "one"), { workers: 1 });
    const out = join(folder, "sharded");
    for (const index of [2, 0, 1]) {
      await runSlice(SPEC, out, { shards: 3, index, runId: "t", workers: 1 });
    }
    const versions = await listVersions(join(out, "tiles8"));
    assert.equal(versions.length, 1);
    assert.deepEqual(
      await Deno.readFile(join(versions[0]!.path, "dataset.npz")),
      await Deno.readFile(join(one.path, "dataset.npz")),
    );
  });
});

Deno.test("worker threads fill a module family's own schema as this thread does", async () => {
  const module = pathToFileURL(join(import.meta.dirname!, "support", "tiles_family.ts")).href;
  const family = { name: "tiles", module, options: { k: 2 } };
  const generator = await createGenerator({ family, imageSize: 6 });
  const plan = { generator, numImages: 41, seed: 3, dtype: "uint8" as const, chunkImages: 7 };
  const join3 = async (
    chunks:
      | AsyncIterable<{ arrays: readonly unknown[] }>
      | Iterable<{ arrays: readonly unknown[] }>,
  ) => {
    const parts: Uint8Array[][] = [[], [], []];
    for await (const chunk of chunks) {
      chunk.arrays.forEach((array, index) =>
        parts[index]!.push(chunkBytes(array as Uint8Array).slice())
      );
    }
    return parts.map((list) => new Uint8Array(list.flatMap((part) => [...part])));
  };
  const threaded = await join3(workerSampleChunks(plan, { workers: 2, family }));
  const local = await join3(localSampleChunks(plan));
  assert.deepEqual(threaded.map((bytes) => bytes.length), [41 * 108, 41 * 72, 41 * 8]);
  assert.deepEqual(threaded, local);
});

Deno.test("the plan and memory estimate read bytes per sample from the schema", async () => {
  const plan = await planRun({ ...SPEC, numImages: 100_000, imageSize: 32 }, { workers: 1 });
  const perSample = 32 * 32 * 3 + 3 * 32 * 32 + 3 * 4;
  assert.equal(sampleBytes(schemaOf(plan.generator)), perSample);
  assert.equal(plan.dataset.chunkImages, Math.floor(1024 * 1024 / perSample));
  // The chunk buffer is every array of a chunk, not its image alone.
  const classic = await planRun(
    { ...SPEC, family: { name: "shapes", options: {} }, numImages: 100_000, imageSize: 32 },
    { workers: 1 },
  );
  assert.ok(plan.estimate.buffers - classic.estimate.buffers > 0.9 * 1024 * 1024 - 32 * 32 * 1024);
  assert.ok(plan.archiveBytes > 100_000 * perSample);
  // A family's own schema declares its dtypes: float64 images are refused (exit 2).
  await assert.rejects(
    planRun({ ...SPEC, dtype: "float64" }),
    (error: unknown) =>
      error instanceof UsageError &&
      /Cannot use --dtype float64 with family "tiles": .* expected uint8/.test(error.message),
  );
});

Deno.test("verify names the array, sample and element of a family's own schema that differs", async () => {
  await withTempDir("dsgen_schema_test_", async (folder) => {
    const { path } = await generateDataset(SPEC, folder, { workers: 1 });
    // masks (3, 8, 8) of sample 0: element [1, 2, 3]. With the checksum fixed, only the
    // re-rendered samples (or the CRC after them) can see it.
    await flipByte(join(path, "dataset.npz"), (await dataOffset(path, "masks")) + 64 + 2 * 8 + 3);
    await fixChecksum(path);
    const steps = await verifyVersion(await openVersion(path), { samples: 3, seed: 2 });
    const failed = steps.at(-1)!;
    assert.equal(failed.name, "samples");
    assert.equal(failed.ok, false);
    assert.equal(
      failed.detail,
      "masks of sample #0 differs from its re-render at 1 of 192 elements (first at [1, 2, 3])",
    );
  });
});
