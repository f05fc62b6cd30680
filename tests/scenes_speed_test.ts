import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mountSmallDisk, tmpfsUnavailable } from "./fault_fixtures.ts";
import { generators } from "../src/generators/registry.ts";
import { allocateChunk } from "../src/generators/sample_schema.ts";
import { SCENE_PRESETS } from "../src/generators/scenes.ts";
import { chunkSamples } from "../src/pipeline/dataset.ts";
import { fillSamples, viewBytes } from "../src/pipeline/sample_chunk.ts";

const optionsCases = [
  ...Object.keys(SCENE_PRESETS).map((preset) => ({ preset })),
  { preset: "colored_on_colored", minObjects: 1, maxObjects: 2, maxK: 6, overlap: false },
];

Deno.test("scenes fillsEveryByte: a chunk full of garbage fills as a zeroed one does", () => {
  for (const options of optionsCases) {
    const generator = generators.get("scenes").create({ imageSize: 24, options });
    assert.equal(generator.fillsEveryByte, true);
    const plan = { generator, seed: 3, dtype: "uint8" as const };
    const zeroed = allocateChunk(generator.schema!, 40);
    generator.fillChunk!(3, 100, zeroed);
    const garbage = allocateChunk(generator.schema!, 40);
    for (const array of garbage.arrays) viewBytes(array.view).fill(0xa7);
    // The pipeline's own path: no zeroing for this family.
    fillSamples(plan, 100, garbage);
    for (const [index, array] of zeroed.arrays.entries()) {
      assert.deepEqual(
        viewBytes(garbage.arrays[index]!.view),
        viewBytes(array.view),
        `${JSON.stringify(options)}: ${array.spec.name}`,
      );
    }
  }
});

Deno.test("chunkSamples: scenes chunks hold about 4 MiB, classic families keep theirs", () => {
  const scenes = generators.get("scenes").create({ imageSize: 64 });
  assert.equal(chunkSamples(scenes), 85);
  assert.equal(chunkSamples(generators.get("shapes").create({ imageSize: 64 })), 256);
});

Deno.test("planRun: the disk room counts the spill files beside the archive", async () => {
  const { planRun } = await import("../src/run/plan.ts");
  const plan = await planRun({
    family: { name: "scenes", options: { preset: "colored_on_colored" } },
    seed: 5,
    numImages: 1000,
    imageSize: 64,
    dtype: "uint8",
  });
  // Every array but the images (64 x 64 x 3 bytes a scene) waits in a spill file.
  const images = 64 * 64 * 3;
  assert.ok(plan.spillBytes > 1000 * 7 * 64 * 64, `${plan.spillBytes}`);
  assert.ok(plan.archiveBytes > 1000 * images + plan.spillBytes);
  assert.ok(plan.archiveBytes < 1000 * images + plan.spillBytes + 64 * 1024);
  const shapes = await planRun({
    family: { name: "shapes", options: {} },
    seed: 5,
    numImages: 1000,
    imageSize: 16,
    dtype: "uint8",
  });
  assert.equal(shapes.spillBytes, 1000 * (1 + 4 * 4));
  // A grid family's latents_classes (6 int64 a sample) is drawn as the images stream: spilled.
  const dsprites = await planRun({
    family: { name: "dsprites", options: {} },
    seed: 5,
    numImages: 1000,
    imageSize: 16,
    dtype: "uint8",
  });
  assert.equal(dsprites.spillBytes, 1000 * (1 + 6 * 4 + 6 * 8));
});

Deno.test("chooseThreadPlan: scenes are planned by their bytes: 100,000 at 64x64 hash apart", async () => {
  const { chooseThreadPlan } = await import("../src/pipeline/thread_plan.ts");
  const work = { numImages: 100_000, imageSize: 64, dtype: "uint8" as const, bytePath: false };
  const options = { workers: 2, fixed: false, cores: 2, archiveBytes: 4.93e9 };
  // By their images alone (12,288 of a scene's 49,306 bytes) the model put them on two
  // render threads, hashing on the main thread: 1.1-1.5x slower, measured.
  assert.deepEqual(chooseThreadPlan(work, options), { workers: 2, hashThread: false });
  assert.deepEqual(chooseThreadPlan({ ...work, sampleBytes: 49_306 }, options), {
    workers: 1,
    hashThread: true,
  });
});

const noTmpfs = await tmpfsUnavailable();

Deno.test({
  name: "generate refuses a disk with room for the archive but not for its spill files too",
  ignore: noTmpfs !== undefined,
  async fn() {
    // 1,500 scenes: a 74 MB archive, and 55 MB of arrays spilled beside it while the images
    // stream. The check once counted the archive alone, and the run failed half-way with "no
    // space left on the disk".
    await using disk = await mountSmallDisk(120 * 1024 * 1024);
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        fileURLToPath(new URL("../main.ts", import.meta.url)),
        ...["generate", "--generator", "scenes", "--preset", "colored_on_colored"],
        ...["--num-images", "1500", "--image-size", "64", "--seed", "5", "--yes"],
        ...["--output-dir", join(disk.path, "out")],
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr).trim();
    assert.equal(output.code, 2, stderr);
    assert.match(stderr, /^dsgen: Cannot use "--output-dir" value .* the dataset needs 129\.8 MB/);
    assert.deepEqual([...Deno.readDirSync(disk.path)], []);
  },
});
