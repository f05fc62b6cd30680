// Images read through the block cache equal direct reads, in any order, with evictions, and a
// kept image stays valid after its block was dropped.

import assert from "node:assert/strict";
import { NpzWriter } from "../src/format/npz.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { blockImageReader } from "../src/validate/image_blocks.ts";
import { withTempDir } from "./support/folders.ts";

Deno.test("blockImageReader gives each image's bytes in any order, across evictions", async () => {
  await withTempDir("dsgen_blocks_test_", async (dir) => {
    const numImages = 101, imageBytes = 12;
    const images = new Uint8Array(numImages * imageBytes).map((_, index) => (index * 7) & 255);
    const path = `${dir}/blocks.npz`;
    const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
    await npz.addArray("images", { descr: "|u1", fortranOrder: false, shape: [101, 3, 4] }, [
      images,
    ]);
    await npz.close();
    const reader = await NpzReader.open(path);
    try {
      const readImage = blockImageReader(reader, { imageBytes, numImages }, {
        blockBytes: 40, // 3 images a block, the last block short
        blocks: 2,
      });
      const expected = (
        index: number,
      ) => [...images.subarray(index * imageBytes, (index + 1) * imageBytes)];
      const first = await readImage(0);
      let state = 5;
      for (let step = 0; step < 500; step++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const index = state % numImages;
        assert.deepEqual([...await readImage(index)], expected(index), `image ${index}`);
      }
      assert.deepEqual([...await readImage(100)], expected(100));
      assert.deepEqual([...first], expected(0)); // its block was dropped long ago
      assert.throws(() => readImage(101), /expected 0 to 100/);
    } finally {
      reader.close();
    }
  });
});
