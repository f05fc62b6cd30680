import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("./flat_memory_probe.ts", import.meta.url));
const MB = 1e6;

/** The peak resident size of a process that writes an archive of N 4x4 images. */
async function probePeak(numImages: number, folder: string, family = ""): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--expose-gc,--max-semi-space-size=1",
      PROBE,
      String(numImages),
      folder,
      ...(family === "" ? [] : [family]),
    ],
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return Number(new TextDecoder().decode(output.stdout).trim());
}

// The writer's memory must not depend on the number of images: 32 times more images, the
// same peak (55.3 and 58.8 MB here). Checked by putting the faults back: with a per-image
// array kept (an offsets list of 8,000,000 numbers) the larger run peaked at 226.1 MB against
// 64.9; with the spill files read back into a fresh buffer per piece, as before 2026-12-04,
// at 125.8 MB against 58.7.
Deno.test({
  name: "the writer's peak memory is the same for 250,000 and 8,000,000 images",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const folder = await Deno.makeTempDir({ prefix: "dsgen-flat-" });
    try {
      const small = await probePeak(250_000, folder);
      const large = await probePeak(8_000_000, folder);
      assert.ok(small > 10 * MB, `peak ${small}`);
      assert.ok(
        large - small < 16 * MB,
        `8,000,000 images peaked at ${(large / MB).toFixed(1)} MB, 250,000 at ` +
          `${(small / MB).toFixed(1)} MB: something kept grows with the number of images`,
      );
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  },
});

// A family with its own schema: the arrays after the first (masks and colors, 160 of 208 bytes
// per sample) go to spill files, not memory. Kept in memory, 1,000,000 samples would hold
// 160 MB more than 50,000.
Deno.test({
  name: "the writer's peak memory does not grow with the samples of a family's own schema",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const folder = await Deno.makeTempDir({ prefix: "dsgen-flat-" });
    try {
      const small = await probePeak(50_000, folder, "tiles");
      const large = await probePeak(1_000_000, folder, "tiles");
      assert.ok(
        large - small < 16 * MB,
        `1,000,000 samples peaked at ${(large / MB).toFixed(1)} MB, 50,000 at ` +
          `${(small / MB).toFixed(1)} MB: an array of the schema is kept in memory`,
      );
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  },
});

// The worker pool signals chunks through shared memory: a message per chunk left Deno 2.9.6
// 600 to 1,000 bytes resident for good (here, with messages: 10,000 one-image chunks peaked at
// 103.9 MB, 100,000 at 199.3 MB; through shared memory 95.4 and 93.7 MB).
Deno.test({
  name: "the worker pool's peak memory does not grow with the number of chunks",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const probe = fileURLToPath(new URL("./pool_memory_probe.ts", import.meta.url));
    const peak = async (chunks: number) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", probe, String(chunks)],
        stderr: "piped",
      }).output();
      assert.ok(output.success, new TextDecoder().decode(output.stderr));
      return Number(new TextDecoder().decode(output.stdout).trim());
    };
    const small = await peak(10_000);
    const large = await peak(100_000);
    assert.ok(small > 10 * MB, `peak ${small}`);
    assert.ok(
      large - small < 16 * MB,
      `100,000 chunks peaked at ${(large / MB).toFixed(1)} MB, 10,000 at ` +
        `${(small / MB).toFixed(1)} MB: each chunk leaves memory behind`,
    );
  },
});
