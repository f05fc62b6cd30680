/**
 * An abort while the consumer of the worker pool is busy elsewhere (writing a chunk) rejects
 * every chunk in flight; none of those rejections may go unhandled, or the process dies before
 * its cleanup (a `scancel` once left a slice's partial file behind this way).
 *
 * @module
 */

import assert from "node:assert/strict";
import { generators } from "../src/generators/registry.ts";
import { chunkBytes } from "../src/format/npz.ts";
import { RenderThreads, workerSampleChunks } from "../src/pipeline/worker_pool.ts";

Deno.test("aborting the worker pool between chunks leaves no unhandled rejection", async () => {
  const generator = generators.get("shapes").create({ imageSize: 16 });
  const plan = {
    generator,
    numImages: 200_000,
    seed: 1,
    dtype: "uint8" as const,
    chunkImages: 256,
  };
  const controller = new AbortController();
  let chunks = 0;
  const error = await (async () => {
    for await (
      const _ of workerSampleChunks(plan, {
        workers: 2,
        family: { name: "shapes", options: {} },
        signal: controller.signal,
      })
    ) {
      if (++chunks === 5) {
        controller.abort(new Error("stop"));
        // Busy elsewhere, as a writer is, while the other chunks' promises are rejected.
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })().catch((e) => e);
  assert.equal(String(error), "Error: stop");
  assert.equal(chunks, 5);
});

Deno.test("render threads kept for the next archive are reused only when they answered everything", async () => {
  const generator = generators.get("shapes").create({ imageSize: 8 });
  const plan = { generator, numImages: 40, seed: 3, dtype: "uint8" as const, chunkImages: 2 };
  const family = { name: "shapes", options: {} };
  const bytesOf = async (options: Parameters<typeof workerSampleChunks>[1], stopAt?: number) => {
    const parts: number[] = [];
    for await (const chunk of workerSampleChunks(plan, options)) {
      parts.push(...chunkBytes(chunk.arrays[0]!));
      if (parts.length === stopAt) break;
    }
    return parts;
  };
  const expected = await bytesOf({ workers: 2, family });
  using threads = new RenderThreads(2);
  assert.deepEqual(await bytesOf({ workers: 2, family, threads }), expected);
  assert.equal(threads.started, 2);
  // Stopped with chunks under way: those threads would answer the next archive with them.
  await bytesOf({ workers: 2, family, threads }, 2 * 64);
  assert.deepEqual(await bytesOf({ workers: 2, family, threads }), expected);
  assert.equal(threads.started, 4);
  assert.deepEqual(await bytesOf({ workers: 2, family, threads }), expected);
  assert.equal(threads.started, 4);
});
