/**
 * An abort while the consumer of the worker pool is busy elsewhere (writing a chunk) rejects
 * every chunk in flight; none of those rejections may go unhandled, or the process dies before
 * its cleanup (a `scancel` once left a slice's partial file behind this way).
 *
 * @module
 */

import assert from "node:assert/strict";
import { generators } from "../src/generators/registry.ts";
import { workerSampleChunks } from "../src/pipeline/worker_pool.ts";

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
