/**
 * Run by `flat_memory_test.ts` in a process of its own: writes an archive of N 4x4 images
 * (with a third argument `tiles`: N samples of the test family `tiles`, whose arrays after the
 * first, masks (8, 4, 4) and colors (8,), are 160 of its 208 bytes per sample) whose chunks
 * cost nothing to render (zeros, with zero labels and latents in every chunk as
 * dsgen's own renderers give them), so that only the writer, the spill
 * files and the hashing run, and prints the process's peak resident set size (`VmHWM`) in
 * bytes. Linux only.
 *
 * Usage: `deno run --v8-flags=--expose-gc,--max-semi-space-size=1 -A flat_memory_probe.ts N DIR
 * [tiles]`
 *
 * @module
 */

import { join } from "node:path";
import { generators } from "../src/generators/registry.ts";
import { type DatasetPlan, writeDatasetNpz } from "../src/pipeline/dataset.ts";
import { schemaOf } from "../src/generators/family_schema.ts";
import { allocateChunk } from "../src/generators/sample_schema.ts";
import { sampleChunkOf } from "../src/pipeline/sample_chunk.ts";
import { tilesFamily } from "./support/tiles_family.ts";

const numImages = Number(Deno.args[0]);
const folder = Deno.args[1]!;
const generator = generators.get("shapes").create({ imageSize: 4 });
const chunkImages = 16384;
const plan: DatasetPlan = { generator, numImages, seed: 1, dtype: "uint8", chunkImages };

async function* zeros(p: DatasetPlan) {
  const pixels = new Uint8Array(chunkImages * 16);
  const labels = new Uint8Array(chunkImages);
  const latents = new Uint8Array(chunkImages * 4 * generator.latents.length);
  for (let start = 0; start < p.numImages; start += chunkImages) {
    const count = Math.min(chunkImages, p.numImages - start);
    yield {
      numSamples: count,
      arrays: [
        pixels.subarray(0, count * 16),
        labels.subarray(0, count),
        latents.subarray(0, count * 4 * generator.latents.length),
      ],
    };
  }
}

/** Zero chunks of the `tiles` schema, one chunk filled again and again. */
function* zeroSamples(p: DatasetPlan) {
  const schema = schemaOf(p.generator);
  const whole = allocateChunk(schema, chunkImages);
  for (let start = 0; start < p.numImages; start += chunkImages) {
    const count = Math.min(chunkImages, p.numImages - start);
    const chunk = count === chunkImages ? whole : allocateChunk(schema, count);
    yield sampleChunkOf(chunk);
  }
}

if (Deno.args[2] === "tiles") {
  const tiles = tilesFamily.create({ imageSize: 4, options: { k: 8 } });
  await writeDatasetNpz(
    { ...plan, generator: tiles },
    join(folder, `${numImages}.npz`),
    { sampleChunks: zeroSamples },
  );
} else await writeDatasetNpz(plan, join(folder, `${numImages}.npz`), { sampleChunks: zeros });
await Deno.remove(join(folder, `${numImages}.npz`));
// VmHWM, not getrusage's maxrss: Linux carries that over an exec from the process that forked
// this one (the test runner, some 280 MB). Reading /proc/self needs --allow-all.
const status = Deno.readTextFileSync("/proc/self/status");
console.log(Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) * 1024);
