import assert from "node:assert/strict";
import { join } from "node:path";
import { parseGenerateArgs } from "../src/cli/generate.ts";
import { entriesOf, runCli } from "./support/cli.ts";
import { runPythonJson } from "./support/python.ts";

const CHECK = `
import json, sys
import numpy as np
with np.load(sys.argv[1], allow_pickle=False) as data:
    classes, sizes = data["latents_classes"], data["latents_sizes"]
    latents, labels = data["latents"], data["labels"]
    names = data["factor_names"].tolist()
    orientation = data["latents_possible_values_orientation"]
    scale = data["latents_possible_values_scale"]
    pos_x = data["latents_possible_values_pos_x"]
bases = np.concatenate((sizes[::-1].cumprod()[::-1][1:], np.array([1,])))
print(json.dumps({
    "sizes": sizes.tolist(), "names": names, "orientation_shape": list(orientation.shape),
    "in_order": bool((classes @ bases == np.arange(len(classes))).all()),
    "labels": bool((labels == classes[:, 0]).all()),
    "scale": bool((latents[:, 0] == scale[classes[:, 1]].astype(np.float32)).all()),
    "orientation": bool((latents[:, 1] == orientation[classes[:, 0], classes[:, 2]].astype(np.float32)).all()),
    "pos_x": bool((latents[:, 2] == pos_x[classes[:, 3]].astype(np.float32)).all()),
    "scale_values": scale.tolist(),
}))
`;

Deno.test("shapes --grid-values: every combination once, class first, last factor fastest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const generated = await runCli([
      "generate",
      "--grid-values",
      "scale=2,orientation=3,pos_x=4,pos_y=5",
      "--output-dir",
      dir,
      "--seed",
      "1",
      "--yes",
      "--quiet",
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const version = generated.stdout.trim();
    const report = await runPythonJson<Record<string, unknown>>(CHECK, [
      join(version, "dataset.npz"),
    ]);
    assert.deepEqual(report, {
      sizes: [3, 2, 3, 4, 5],
      names: ["class", "scale", "orientation", "pos_x", "pos_y"],
      orientation_shape: [3, 3],
      in_order: true,
      labels: true,
      scale: true,
      orientation: true,
      pos_x: true,
      scale_values: [0.5, 1],
    });
    const inspected = await runCli(["inspect", version, "--seed", "1", "--quiet"]);
    assert.equal(inspected.code, 0, inspected.stdout + inspected.stderr);
    assert.deepEqual(
      (await entriesOf(join(version, "inspection"))).sort(),
      ["factors.png", "grid.png", "report.json", "traversals.png"],
    );
    // verify rebuilds the grid from the spec's family options and re-renders samples.
    const verified = await runCli(["verify", version, "--samples", "30", "--seed", "2"]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect: a random run gets factors.png and no traversals.png", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const generated = await runCli([
      "generate",
      "--generator",
      "dsprites",
      "--image-size",
      "16",
      "--num-images",
      "300",
      "--output-dir",
      dir,
      "--seed",
      "4",
      "--yes",
      "--quiet",
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const version = generated.stdout.trim();
    const inspected = await runCli(["inspect", version, "--seed", "1", "--quiet"]);
    assert.equal(inspected.code, 0, inspected.stdout + inspected.stderr);
    assert.deepEqual(
      (await entriesOf(join(version, "inspection"))).sort(),
      ["factors.png", "grid.png", "report.json"],
    );
    const png = await Deno.readFile(join(version, "inspection", "factors.png"));
    assert.equal(png[1], 0x50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--grid-values: counts reach the family options; bad ones exit 2", async () => {
  const options = parseGenerateArgs([
    "--grid-values",
    "scale=6,orientation=40",
    "--output-dir",
    "d",
  ]);
  assert.ok(options !== "help");
  assert.deepEqual(options.familyOptions, { grid: { scale: 6, orientation: 40 } });
  assert.equal(options.numImages, 3 * 6 * 40 * 32 * 32);
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [value, pattern] of [
        ["scale=0", /"--grid-values" value "scale=0"/],
        ["scale=2,scale=3", /each name once/],
        ["size=3", /unknown factor "size"/],
        ["scale", /"--grid-values" value "scale"/],
      ] as const
    ) {
      const result = await runCli([
        "generate",
        "--grid-values",
        value,
        "--output-dir",
        join(dir, "out"),
        "--yes",
      ]);
      assert.equal(result.code, 2, value);
      assert.match(result.stderr, pattern, value);
    }
    const dsprites = await runCli([
      "generate",
      "--generator",
      "dsprites",
      "--grid-values",
      "scale=2",
      "--output-dir",
      join(dir, "out"),
      "--yes",
    ]);
    assert.equal(dsprites.code, 2);
    assert.deepEqual(await entriesOf(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
