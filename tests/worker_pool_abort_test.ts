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

Deno.test("render threads kept for the next archive reuse its slots when their sizes match", async () => {
  const family = { name: "shapes", options: {} };
  const planOf = (imageSize: number) => ({
    generator: generators.get("shapes").create({ imageSize }),
    numImages: 40,
    seed: 3,
    dtype: "uint8" as const,
    chunkImages: 4,
  });
  using threads = new RenderThreads(2);
  // The chunks' bytes are views over the slots: their buffers tell which slots were used.
  const buffersOf = async (plan: ReturnType<typeof planOf>) => {
    const buffers = new Set<ArrayBufferLike>();
    const bytes: number[] = [];
    for await (const chunk of workerSampleChunks(plan, { workers: 2, family, threads })) {
      const first = chunk.arrays[0]!;
      buffers.add((first instanceof Uint8Array ? first : first.bytes).buffer);
      bytes.push(...chunkBytes(first));
    }
    return { buffers, bytes };
  };
  const first = await buffersOf(planOf(8));
  const second = await buffersOf(planOf(8));
  assert.ok(first.buffers.size >= 2);
  // The same buffers (a thread may get the other's lane: the set, not the order).
  assert.equal(second.buffers.size, first.buffers.size);
  assert.ok([...second.buffers].every((buffer) => first.buffers.has(buffer)));
  assert.deepEqual(second.bytes, first.bytes);
  // Other sizes: new slots, and the right bytes in them.
  const other = await buffersOf(planOf(12));
  assert.ok([...other.buffers].every((buffer) => !first.buffers.has(buffer)));
  const alone = [];
  for await (const chunk of workerSampleChunks(planOf(12), { workers: 2, family })) {
    alone.push(...chunkBytes(chunk.arrays[0]!));
  }
  assert.deepEqual(other.bytes, alone);
  assert.equal(threads.started, 2);
});
