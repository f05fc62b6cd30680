/**
 * `dsgen inspect` of a version whose family or renderer declared its own arrays (not scenes):
 * the schema report and a grid of its images. The checks are exercised on archives numpy
 * writes, with a fault each.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { inspectSchema } from "../src/validate/inspect_schema.ts";
import { runCli } from "./support/cli.ts";
import { requireNumpy, runPython } from "./support/python.ts";
import { withTempDir } from "./support/folders.ts";
import { rendererGenerateArgs } from "./support/renderers.ts";

const V2_COMMAND = "python3 tests/renderers/v2.py ok";

Deno.test({
  name: "inspect of a version 2 renderer's dataset: the schema report, label counts and a grid",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_inspect_schema_test_", async (out) => {
      const run = await runCli(rendererGenerateArgs(out, V2_COMMAND, ["--num-images", "500"]));
      assert.equal(run.code, 0, run.stderr);
      const version = run.stdout.trim();
      const inspect = await runCli(["inspect", version, "--samples", "9", "--seed", "2"]);
      assert.equal(inspect.code, 0, inspect.stdout + inspect.stderr);
      for (const check of ["arrays", "finite", "blank", "labels"]) {
        assert.match(inspect.stdout, new RegExp(`^${check} +PASS`, "m"));
      }
      const report = JSON.parse(
        await Deno.readTextFile(join(version, "inspection", "report.json")),
      );
      const counts: number[] = report.label_counts.shape;
      assert.equal(counts.length, 2);
      assert.equal(counts[0]! + counts[1]!, 500);
      assert.equal(report.sample_indices.length, 9);
      const png = await Deno.readFile(join(version, "inspection", "grid.png"));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    });
  },
});

/** Writes an archive with numpy: `images` (N, 4, 4, 3) uint8 and a float `position`. */
async function writeArchive(path: string, fault: "none" | "nan" | "blank"): Promise<void> {
  await runPython(
    [
      "import sys, numpy as np",
      "rng = np.random.default_rng(1)",
      "images = rng.integers(0, 256, (20, 4, 4, 3), dtype=np.uint8)",
      "position = rng.random((20, 2), dtype=np.float32)",
      "fault = sys.argv[2]",
      "if fault == 'nan': position[7, 1] = np.nan",
      "if fault == 'blank': images[3] = 17",
      "np.savez(sys.argv[1], images=images, position=position)",
    ].join("\n"),
    [path, fault],
  );
}

Deno.test("the schema checks fail on a NaN and warn on a blank image, and pass otherwise", async () => {
  await requireNumpy();
  await withTempDir("dsgen_inspect_schema_test_", async (dir) => {
    const hints = { numSamples: 20, roles: new Map<string, string>(), classes: [] };
    const verdicts = async (fault: "none" | "nan" | "blank") => {
      const path = join(dir, `${fault}.npz`);
      await writeArchive(path, fault);
      const inspection = await inspectSchema(path, hints, { samples: 4, seed: 1 });
      assert.deepEqual(inspection.image, { name: "images", imageSize: 4, channels: 3 });
      assert.equal(inspection.cells.length, 4);
      return Object.fromEntries(
        inspection.report.checks.map((check) => [check.name, check.verdict]),
      );
    };
    assert.deepEqual(await verdicts("none"), {
      arrays: "pass",
      finite: "pass",
      blank: "pass",
      labels: "pass",
    });
    assert.equal((await verdicts("nan")).finite, "fail");
    assert.equal((await verdicts("blank")).blank, "warn");
  });
});

Deno.test("an archive without an image array is refused naming what inspect looks for", async () => {
  await requireNumpy();
  await withTempDir("dsgen_inspect_schema_test_", async (dir) => {
    const path = join(dir, "x.npz");
    await runPython(
      "import sys, numpy as np\nnp.savez(sys.argv[1], position=np.zeros((5, 2), np.float32))",
      [path],
    );
    await assert.rejects(
      inspectSchema(path, { numSamples: 5, roles: new Map(), classes: [] }, {
        samples: 2,
        seed: 1,
      }),
      /has no image array \(uint8 of shape \(N, S, S\) or \(N, S, S, C\) with C from 1 to 4\)/,
    );
  });
});

Deno.test({
  name: "inspect of scenes and of a version 2 renderer's dataset refuses a metadata.json that " +
    "disagrees with the archive, before reading it",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_inspect_schema_test_", async (out) => {
      const runs = [
        ["generate", "--generator", "scenes", "--preset", "binarized", "--image-size", "32"],
        ["generate", "--generator-cmd", V2_COMMAND],
      ];
      for (const args of runs) {
        const run = await runCli([
          ...args,
          "--num-images",
          "40",
          "--output-dir",
          out,
          "--seed",
          "1",
          "--yes",
          "--quiet",
        ]);
        assert.equal(run.code, 0, run.stderr);
        const version = run.stdout.trim();
        const path = join(version, "metadata.json");
        const metadata = JSON.parse(await Deno.readTextFile(path));
        metadata.num_images = 41;
        await Deno.writeTextFile(path, JSON.stringify(metadata));
        const inspect = await runCli(["inspect", version, "--quiet"]);
        assert.equal(inspect.code, 1, inspect.stderr);
        assert.match(
          inspect.stderr,
          /^dsgen: Cannot inspect .*: metadata\.json says num_images 41 .*but dataset\.npz/,
        );
        assert.equal(inspect.stderr.trim().split("\n").length, 1);
        await assert.rejects(Deno.stat(join(version, "inspection", "report.json")));
      }
    });
  },
});

/** Flips one data byte of an array inside an archive, leaving the recorded CRC-32 as it was. */
async function flipByte(archive: string, array: string): Promise<void> {
  await runPython(
    [
      "import struct, sys, zipfile",
      "path, name = sys.argv[1], sys.argv[2] + '.npy'",
      "with zipfile.ZipFile(path) as z: info = z.getinfo(name)",
      "data = bytearray(open(path, 'rb').read())",
      "at = info.header_offset",
      "n, e = struct.unpack('<HH', data[at + 26:at + 30])",
      "data[at + 30 + n + e + 128 + 100] ^= 0xFF",
      "open(path, 'wb').write(data)",
    ].join("\n"),
    [archive, array],
  );
}

Deno.test({
  name: "inspect of scenes and of a version 2 renderer's dataset checks every array's CRC-32",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_inspect_schema_test_", async (out) => {
      const runs: [string[], string][] = [
        [["--generator", "scenes", "--preset", "binarized", "--image-size", "32"], "visibility"],
        [["--generator-cmd", V2_COMMAND], "mask"],
      ];
      for (const [args, array] of runs) {
        const run = await runCli([
          "generate",
          ...args,
          "--num-images",
          "200",
          "--output-dir",
          out,
          "--seed",
          "1",
          "--yes",
          "--quiet",
        ]);
        assert.equal(run.code, 0, run.stderr);
        const version = run.stdout.trim();
        await flipByte(join(version, "dataset.npz"), array);
        const inspect = await runCli(["inspect", version, "--quiet"]);
        assert.equal(inspect.code, 1, inspect.stderr);
        assert.match(inspect.stderr, new RegExp(`the CRC-32 of ${array}\\.npy is [0-9a-f]+ but`));
      }
    });
  },
});
