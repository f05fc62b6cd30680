/**
 * Run by `flat_memory_test.ts` in a process of its own: takes N chunks of one 4x4 image each
 * from the worker pool (two threads) and prints the process's peak resident set size
 * (`VmHWM`) in bytes. Linux only.
 *
 * Usage: `deno run -A pool_memory_probe.ts N`
 *
 * @module
 */

import { generators } from "../src/generators/registry.ts";
import { workerSampleChunks } from "../src/pipeline/worker_pool.ts";

const numImages = Number(Deno.args[0]);
const generator = generators.get("shapes").create({ imageSize: 4 });
const plan = { generator, numImages, seed: 1, dtype: "uint8" as const, chunkImages: 1 };
let samples = 0;
for await (
  const chunk of workerSampleChunks(plan, { workers: 2, family: { name: "shapes", options: {} } })
) samples += chunk.numSamples;
if (samples !== numImages) throw new Error(`${samples} samples, expected ${numImages}`);
const status = await Deno.readTextFile("/proc/self/status");
console.log(Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024);
