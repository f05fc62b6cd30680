/**
 * The library with a family of one's own: examples/own_family/ run as a user would, with two
 * worker threads importing the family's module; numpy reads the archive and verify passes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, runCli } from "./support/cli.ts";
import { requireNumpy, runPythonJson } from "./support/python.ts";
import { minImagesForWorkers } from "../src/pipeline/worker_pool.ts";

Deno.test({
  name: "examples/own_family: two workers render the user's family; numpy and verify agree",
  async fn() {
    await requireNumpy();
    const out = await Deno.makeTempDir();
    try {
      // Enough images that a run uses its worker threads (32x32, as the script draws).
      const numImages = minImagesForWorkers(32) + 5000;
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-sys",
          "--allow-run",
          "examples/own_family/generate.ts",
          out,
          String(numImages),
          "2",
        ],
        cwd: REPO_ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.ok(output.success, stderr);
      const version = new TextDecoder().decode(output.stdout).trim();
      const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      assert.equal(metadata.run.workers, 2);
      assert.equal(metadata.generator.name, "blobs");
      assert.match(metadata.spec.family.module, /^file:.*examples\/own_family\/blobs\.ts$/);
      const found = await runPythonJson<{
        shape: number[];
        labels: number[];
        peaksNearCentre: number;
      }>(
        `
import json, sys
import numpy as np
d = np.load(sys.argv[1] + "/dataset.npz")
images, latents = d["images"], d["latents"]
one = np.flatnonzero(d["labels"] == 0)[:200]
# A one-blob image is brightest at its blob's centre (x, y) in pixels.
rows, cols = np.unravel_index(images[one].reshape(len(one), -1).argmax(1), images.shape[1:])
near = (np.abs(cols + 0.5 - latents[one, 0] * 32) <= 1) & (np.abs(rows + 0.5 - latents[one, 1] * 32) <= 1)
print(json.dumps({"shape": list(images.shape), "labels": sorted(set(d["labels"].tolist())),
  "peaksNearCentre": float(near.mean())}))
`,
        [version],
      );
      assert.deepEqual(found.shape, [numImages, 32, 32]);
      assert.deepEqual(found.labels, [0, 1]);
      assert.equal(found.peaksNearCentre, 1);
      const verify = await runCli([
        "verify",
        version,
        "--samples",
        "30",
        "--seed",
        "2",
        "--generator-module",
        "examples/own_family/blobs.ts",
      ]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
