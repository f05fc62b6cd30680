/**
 * `dsgen render --generator scenes`: from the factor arrays of an archive, every array of the
 * schema, byte-identical to what the family drew and rendered (masks included); bad factors
 * are refused naming the array, row and slot, and nothing is written.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runRender } from "../src/cli/render.ts";
import { UsageError } from "../src/cli/errors.ts";
import { NpzWriter } from "../src/format/npz.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { allocateChunk } from "../src/generators/sample_schema.ts";
import { scenesFamily } from "../src/generators/scenes_family.ts";
import { writeChunkNpz } from "./support/scene_archives.ts";

const io = {
  stdout() {},
  stderr() {},
  stderrIsTerminal: false,
  columns: () => 80,
  noColor: true,
  readLine: () => Promise.resolve(null),
};

for (
  const [options, count] of [
    [{ preset: "colored_on_colored" }, 700],
    [{ preset: "binarized" }, 40],
    [{ preset: "colored_on_grayscale", maxK: 7, overlap: false }, 40],
  ] as const
) {
  Deno.test(`render of ${JSON.stringify(options)} scenes equals what the family stored`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-render-" });
    try {
      const generator = scenesFamily.create({ imageSize: 32, options });
      const chunk = allocateChunk(generator.schema!, count);
      generator.fillChunk!(5, 1000, chunk);
      await writeChunkNpz(join(dir, "in.npz"), chunk);
      const written = await runRender(
        {
          generator: "scenes",
          latents: join(dir, "in.npz"),
          output: join(dir, "out.npz"),
          imageSize: 32,
        },
        io,
      );
      assert.equal(written, count);
      const reader = await NpzReader.open(join(dir, "out.npz"));
      try {
        assert.deepEqual(
          reader.entries.map((entry) => entry.name),
          chunk.arrays.map((array) => array.spec.name),
        );
        for (const array of chunk.arrays) {
          const stored = new Uint8Array(array.view.buffer);
          const rendered = await reader.readAll(array.spec.name);
          assert.ok(
            rendered.length === stored.length && rendered.every((byte, at) => byte === stored[at]),
            `array ${array.spec.name} differs`,
          );
        }
      } finally {
        reader.close();
      }
      assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), [
        "in.npz",
        "out.npz",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("render refuses scene factors it cannot draw, naming the row, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-render-" });
  try {
    const generator = scenesFamily.create({ imageSize: 16, options: {} });
    const chunk = allocateChunk(generator.schema!, 600);
    generator.fillChunk!(1, 0, chunk);
    const scale = chunk.byName.get("scale")!.view;
    scale[4 * 555] = 2; // Row 555's first object: every scene has at least one.
    await writeChunkNpz(join(dir, "in.npz"), chunk);
    await assert.rejects(
      () =>
        runRender(
          {
            generator: "scenes",
            latents: join(dir, "in.npz"),
            output: join(dir, "out.npz"),
            imageSize: 16,
          },
          io,
        ),
      (error: Error) => {
        assert.ok(error instanceof UsageError);
        assert.match(
          error.message,
          /^Cannot use "--latents" value ".*in\.npz": Cannot render scale 2 in slot 0 .*\(row 555\)$/,
        );
        return true;
      },
    );
    const missing = join(dir, "missing.npz");
    const file = await Deno.open(missing, { write: true, createNew: true });
    const npz = new NpzWriter(file.writable);
    await npz.addArray("shape", { descr: "|u1", fortranOrder: false, shape: [1, 4] }, [
      new Uint8Array(4),
    ]);
    await npz.close();
    await assert.rejects(
      () =>
        runRender({
          generator: "scenes",
          latents: missing,
          output: join(dir, "out.npz"),
          imageSize: 16,
        }, io),
      /it has no array "scale", expected <f4 \(float32\) of shape \(N, 4\)/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), [
      "in.npz",
      "missing.npz",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
