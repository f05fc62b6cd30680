import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { MAX_SEED } from "../src/cli/generate.ts";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { generators } from "../src/generators/registry.ts";
import {
  chunkImages,
  type DatasetPlan,
  drawnClassicArray,
  spilledNames,
  writeDatasetNpz,
} from "../src/pipeline/dataset.ts";
import { localSampleChunks, type SampleChunk } from "../src/pipeline/sample_chunk.ts";
import {
  type ImageDtype,
  renderChunk,
  renderImageBytes,
  sampleChunk,
} from "../src/pipeline/render.ts";
import { quantize } from "../src/pipeline/quantize.ts";
import { minImagesForWorkers, workerSampleChunks } from "../src/pipeline/worker_pool.ts";
import { runPythonJson } from "./support/python.ts";
import { chunkBytes, type DataChunk } from "../src/format/npz.ts";
import { crc32 } from "../src/format/crc32.ts";
import { withTempDir } from "./support/folders.ts";

/**
 * SHA-256 of the first 64 images (uint8 bytes) and of their labels and latents (labels bytes,
 * then the float32 latents' bytes), for seed 42 at 16x16, per version of the shapes generator.
 *
 * If this changes on purpose, bump the shapes generator version (src/generators/shapes.ts) and
 * add the new version's checksums here: datasets made by different code must not share one.
 */
const GOLDEN_SHAPES_SEED_42: Record<string, { images: string; labelsAndLatents: string }> = {
  "1.0.0": {
    images: "0be8ed0995fe36ed1906273104b6acc590cc9b6608a5059516c8118c72aa6b7e",
    labelsAndLatents: "e9290e16ac9fe98b5b211afc7e84964ca1f52ca50ab314f4cbfbfdadfa38452b",
  },
};

const shapes16 = generators.get("shapes").create({ imageSize: 16 });

function plan(
  seed: number,
  numImages: number,
  options: { dtype?: ImageDtype; chunk?: number; imageSize?: number } = {},
): DatasetPlan {
  const generator = options.imageSize === undefined || options.imageSize === 16
    ? shapes16
    : generators.get("shapes").create({ imageSize: options.imageSize });
  return {
    generator,
    numImages,
    seed,
    dtype: options.dtype ?? "uint8",
    chunkImages: options.chunk ?? chunkImages(generator.imageSize),
  };
}

function sha256(...parts: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One array (default the first, the images) of every chunk, joined. */
async function collect(
  chunks: AsyncIterable<SampleChunk> | Iterable<SampleChunk>,
  array = 0,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  // Copies: a producer may hand out views it reuses.
  for await (const sample of chunks) {
    const chunk: DataChunk = sample.arrays[array]!;
    const bytes = chunkBytes(chunk);
    // A chunk that carries its CRC-32 must carry the right one.
    if (!(chunk instanceof Uint8Array)) assert.equal(chunk.crc32, crc32(bytes));
    parts.push(bytes.slice());
  }
  return concat(parts);
}

function labelsAndLatents(p: DatasetPlan): Uint8Array {
  const { labels, latents } = sampleChunk(p.generator, p.seed, { start: 0, count: p.numImages });
  return concat([labels, new Uint8Array(latents.buffer)]);
}

async function generate(
  outputDir: string,
  options: { numImages: number; seed: number; workers?: number; imageSize?: number },
): Promise<{ path: string; npz: Uint8Array; workers: number }> {
  const result = await generateDataset(
    {
      family: { name: "shapes", options: {} },
      seed: options.seed,
      numImages: options.numImages,
      imageSize: options.imageSize ?? 16,
      dtype: "uint8",
    },
    outputDir,
    { name: "shapes", workers: options.workers ?? 1 },
  );
  return {
    path: result.path,
    npz: await Deno.readFile(join(result.path, "dataset.npz")),
    workers: result.metadata.run.workers,
  };
}

Deno.test("the shapes generator's output for seed 42 is pinned to its version", () => {
  const golden = GOLDEN_SHAPES_SEED_42[shapes16.version];
  assert.ok(
    golden !== undefined,
    `shapes ${shapes16.version} has no pinned checksums: add them to GOLDEN_SHAPES_SEED_42`,
  );
  const p = plan(42, 64);
  assert.equal(sha256(renderImageBytes(p, { start: 0, count: 64 })), golden.images);
  assert.equal(sha256(labelsAndLatents(p)), golden.labelsAndLatents);
});

/**
 * SHA-256 of a whole 64-image archive (seed 42, 16x16), per dtype: pins the archive's layout
 * (zip structures, 64-byte alignment) on top of the arrays. It moves when the layout changes on
 * purpose (say why in the commit); the arrays' checksums above must not move with it.
 */
const GOLDEN_ARCHIVE_SEED_42 = {
  uint8: "0f98342ebc98792a01244a93520cfdd6051901c146f53ff464f2f4bc1df15b92",
  float64: "0b2a4042fc504daf63304c587bbb26a2a68edc756ec81ff659b5074040ace972",
};

Deno.test("the archive's bytes for seed 42 are pinned", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    for (const dtype of ["uint8", "float64"] as const) {
      const record = await writeDatasetNpz(plan(42, 64, { dtype }), join(folder, `${dtype}.npz`));
      assert.equal(record.sha256, GOLDEN_ARCHIVE_SEED_42[dtype], dtype);
    }
  });
});

Deno.test("two runs with the same seed give the same images, labels, latents and file", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    for (const dtype of ["uint8", "float64"] as const) {
      const p = plan(7, 300, { dtype });
      assert.deepEqual(
        renderImageBytes(p, { start: 0, count: 300 }),
        renderImageBytes(plan(7, 300, { dtype }), { start: 0, count: 300 }),
      );
      assert.deepEqual(labelsAndLatents(p), labelsAndLatents(plan(7, 300, { dtype })));
      const first = join(folder, `first-${dtype}.npz`);
      const second = join(folder, `second-${dtype}.npz`);
      const firstRecord = await writeDatasetNpz(p, first);
      const secondRecord = await writeDatasetNpz(plan(7, 300, { dtype }), second);
      assert.deepEqual(await Deno.readFile(first), await Deno.readFile(second));
      assert.equal(firstRecord.sha256, secondRecord.sha256);
      assert.equal(firstRecord.sha256, sha256(await Deno.readFile(first)));
      // The runs above were too close in time to tell a clock from a constant: read the
      // entries' timestamps, which must be the fixed 1980-01-01 and carry no extra field.
      const script = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    print(json.dumps([[info.filename, list(info.date_time), info.extra.hex()]
                      for info in archive.infolist()]))
`;
      const entries = await runPythonJson<[string, number[], string][]>(script, [first]);
      assert.deepEqual(entries.map(([name]) => name), [
        "images.npy",
        "labels.npy",
        "latents.npy",
        "class_names.npy",
        "latent_names.npy",
      ]);
      for (const [name, dateTime, extra] of entries) {
        assert.deepEqual(dateTime, [1980, 1, 1, 0, 0, 0], name);
        assert.equal(extra, "", name);
      }
    }
  });
});

Deno.test("another seed gives other images, labels, latents and file", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    const images42 = renderImageBytes(plan(42, 200), { start: 0, count: 200 });
    const images43 = renderImageBytes(plan(43, 200), { start: 0, count: 200 });
    assert.notDeepEqual(images42, images43);
    // Not only some: almost every image differs.
    let same = 0;
    for (let image = 0; image < 200; image++) {
      const a = images42.subarray(image * 256, (image + 1) * 256);
      const b = images43.subarray(image * 256, (image + 1) * 256);
      if (a.every((value: number, index: number) => value === b[index])) same++;
    }
    assert.ok(same < 5, `${same} of 200 images are identical across seeds`);
    const a = sampleChunk(shapes16, 42, { start: 0, count: 200 });
    const b = sampleChunk(shapes16, 43, { start: 0, count: 200 });
    assert.notDeepEqual(a.labels, b.labels);
    assert.ok(a.latents.every((value, index) => value !== b.latents[index]));
    const file42 = await writeDatasetNpz(plan(42, 200), join(folder, "42.npz"));
    const file43 = await writeDatasetNpz(plan(43, 200), join(folder, "43.npz"));
    assert.notEqual(file42.sha256, file43.sha256);
  });
});

Deno.test("seeds 0 and the largest seed work and differ from their neighbours", () => {
  const images = (seed: number) => renderImageBytes(plan(seed, 100), { start: 0, count: 100 });
  const zero = images(0), one = images(1), max = images(MAX_SEED), belowMax = images(MAX_SEED - 1);
  for (const [seed, bytes] of [[0, zero], [MAX_SEED, max]] as const) {
    for (let image = 0; image < 100; image++) {
      const pixels = bytes.subarray(image * 256, (image + 1) * 256);
      assert.ok(pixels.includes(255), `seed ${seed} image ${image} has a full pixel`);
    }
  }
  assert.notDeepEqual(zero, one);
  assert.notDeepEqual(max, belowMax);
  assert.notDeepEqual(zero, max);
  assert.notDeepEqual(labelsAndLatents(plan(0, 100)), labelsAndLatents(plan(1, 100)));
});

Deno.test("image 500 rendered alone equals image 500 of a 1,000-image run read by numpy", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    const run = await generate(folder, { numImages: 1000, seed: 42, workers: 2 });
    const script = `
import json, sys
import numpy as np
with np.load(sys.argv[1], allow_pickle=False) as data:
    out = {}
    for index in [0, 1, 500, 999]:
        out[index] = {
            "image": data["images"][index].tobytes().hex(),
            "label": int(data["labels"][index]),
            "latents": data["latents"][index].tobytes().hex(),
        }
print(json.dumps(out))
`;
    const stored = await runPythonJson<
      Record<string, { image: string; label: number; latents: string }>
    >(script, [join(run.path, "dataset.npz")]);
    const hex = (bytes: Uint8Array) =>
      Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    for (const index of [0, 1, 500, 999]) {
      const alone = renderImageBytes(plan(42, 1), { start: index, count: 1 });
      assert.equal(hex(alone), stored[index]?.image, `image ${index}`);
      const chunk = renderChunk(shapes16, 42, { start: index, count: 1 });
      assert.equal(hex(quantize(chunk.pixels)), stored[index]?.image, `image ${index}`);
      assert.equal(chunk.labels[0], stored[index]?.label, `label ${index}`);
      assert.equal(hex(new Uint8Array(chunk.latents.buffer)), stored[index]?.latents);
    }
    // Rendering must not depend on what was rendered before on the same generator either.
    renderImageBytes(plan(42, 1), { start: 3, count: 5 });
    assert.equal(hex(renderImageBytes(plan(42, 1), { start: 500, count: 1 })), stored[500]?.image);
  });
});

Deno.test("1, 2 and 3 workers write identical files", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    // runGenerate starts threads only for large runs, and one per chunk at most: take enough
    // 64x64 images for at least four chunks, the last one short.
    const imageSize = 64;
    const numImages = Math.max(minImagesForWorkers(imageSize), 3 * chunkImages(imageSize)) + 5;
    const runs = [];
    for (const workers of [1, 2, 3]) {
      runs.push(
        await generate(join(folder, `workers${workers}`), {
          numImages,
          seed: 5,
          imageSize,
          workers,
        }),
      );
    }
    // The threads really were used, as metadata.json records.
    assert.deepEqual(runs.map((run) => run.workers), [1, 2, 3]);
    assert.deepEqual(runs[1]!.npz, runs[0]!.npz);
    assert.deepEqual(runs[2]!.npz, runs[0]!.npz);
    const expected = join(folder, "one-thread.npz");
    await writeDatasetNpz(plan(5, numImages, { imageSize }), expected);
    assert.deepEqual(runs[0]!.npz, await Deno.readFile(expected));
  });
});

Deno.test("the worker pool's chunks, in any split, join into the one-thread bytes", async () => {
  for (const dtype of ["uint8", "float64"] as const) {
    const whole = renderImageBytes(plan(11, 50, { dtype }), { start: 0, count: 50 });
    for (const [workers, chunk] of [[3, 7], [2, 1], [4, 50], [3, 13]] as const) {
      const pooled = await collect(
        workerSampleChunks(plan(11, 50, { dtype, chunk }), {
          workers,
          family: { name: "shapes", options: {} },
        }),
      );
      assert.deepEqual(pooled, whole, `${dtype}, ${workers} workers, chunks of ${chunk}`);
    }
  }
});

Deno.test("chunk size does not change a byte", async () => {
  for (const dtype of ["uint8", "float64"] as const) {
    const numImages = 130;
    const whole = renderImageBytes(plan(3, numImages, { dtype }), { start: 0, count: numImages });
    const splits = [[1, 129], [64, 66], [7, 50, 3, 70], Array(130).fill(1)];
    for (const split of splits) {
      const parts: Uint8Array[] = [];
      let start = 0;
      for (const count of split) {
        parts.push(renderImageBytes(plan(3, numImages, { dtype }), { start, count }).slice());
        start += count;
      }
      assert.equal(start, numImages);
      assert.deepEqual(concat(parts), whole, `${dtype} split ${split.slice(0, 4)}`);
    }
    for (const chunk of [1, 7, 64, 1000]) {
      const streamed = await collect(localSampleChunks(plan(3, numImages, { dtype, chunk })));
      assert.deepEqual(streamed, whole, `${dtype} chunks of ${chunk}`);
    }
  }
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    const small = await writeDatasetNpz(plan(3, 130, { chunk: 1 }), join(folder, "small.npz"));
    const large = await writeDatasetNpz(plan(3, 130, { chunk: 1024 }), join(folder, "large.npz"));
    assert.equal(small.sha256, large.sha256);
    assert.deepEqual(
      await Deno.readFile(join(folder, "small.npz")),
      await Deno.readFile(join(folder, "large.npz")),
    );
  });
});

Deno.test("the labels and latents the render pass gives equal those drawn again", async () => {
  for (const dtype of ["uint8", "float64"] as const) {
    const expected = sampleChunk(shapes16, 9, { start: 0, count: 70 });
    const producers = {
      "this thread": (p: DatasetPlan) => localSampleChunks(p),
      "2 workers": (p: DatasetPlan) =>
        workerSampleChunks(p, { workers: 2, family: { name: "shapes", options: {} } }),
    };
    for (const [name, produce] of Object.entries(producers)) {
      const p = plan(9, 70, { dtype, chunk: 16 });
      assert.deepEqual(await collect(produce(p), 1), expected.labels, `${dtype}, ${name}`);
      assert.deepEqual(
        await collect(produce(p), 2),
        new Uint8Array(expected.latents.buffer),
        `${dtype}, ${name}`,
      );
    }
  }
});

/** A producer of each chunk's first array only (images), as a merge's slice files give. */
function* firstArrayOnly(q: DatasetPlan, signal?: AbortSignal): Generator<SampleChunk> {
  for (const chunk of localSampleChunks(q, { signal })) {
    yield { numSamples: chunk.numSamples, arrays: chunk.arrays.slice(0, 1) };
  }
}

/** A classic plan's labels and latents, drawn again, as a caller's later arrays. */
function drawnLater(p: DatasetPlan): Map<string, Iterable<Uint8Array>> {
  return new Map([
    ["labels", drawnClassicArray(p, "labels")],
    ["latents", drawnClassicArray(p, "latents")],
  ]);
}

Deno.test("the writer copies the render pass's labels, takes them drawn again from a caller, and leaves no spill file", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    const p = plan(4, 90, { chunk: 16 });
    const spilled = await writeDatasetNpz(p, join(folder, "spilled.npz"));
    // A producer of the images only, and the labels and latents drawn again: the same bytes.
    const drawn = await writeDatasetNpz(p, join(folder, "drawn.npz"), {
      sampleChunks: firstArrayOnly,
      laterArrays: () => drawnLater(p),
    });
    assert.equal(drawn.sha256, spilled.sha256);
    assert.equal(spilled.sha256, sha256(await Deno.readFile(join(folder, "spilled.npz"))));
    // A producer that leaves arrays out without the caller giving them is a bug, said as such.
    await assert.rejects(
      writeDatasetNpz(p, join(folder, "short.npz"), {
        sampleChunks: firstArrayOnly,
      }),
      /Cannot write a chunk of 1 arrays: the schema has 3/,
    );
    const left = [...Deno.readDirSync(folder)].map((entry) => entry.name).sort();
    assert.deepEqual(left, ["drawn.npz", "short.npz", "spilled.npz"]);
  });
});

Deno.test("latents_classes drawn as the images stream (spilled) or after them: the same archive", async () => {
  await withTempDir("dsgen_determinism_test_", async (folder) => {
    const generator = generators.get("dsprites").create({ imageSize: 16 });
    const p = { generator, numImages: 300, seed: 11, dtype: "uint8" as const, chunkImages: 64 };
    assert.deepEqual(spilledNames(p), ["labels", "latents", "latents_classes"]);
    // Spilled: drawn per chunk of images, and read back after them.
    const spilled = await writeDatasetNpz(p, join(folder, "spilled.npz"));
    // A caller that brings the sample arrays: latents_classes drawn after the images.
    const after = await writeDatasetNpz(p, join(folder, "after.npz"), {
      sampleChunks: firstArrayOnly,
      laterArrays: () => drawnLater(p),
    });
    assert.equal(spilled.sha256, after.sha256);
    const left = [...Deno.readDirSync(folder)].map((entry) => entry.name).sort();
    assert.deepEqual(left, ["after.npz", "spilled.npz"]);
  });
});
