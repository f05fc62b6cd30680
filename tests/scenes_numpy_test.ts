/**
 * numpy checks real `dsgen generate --generator scenes` runs, through the command line, on its
 * own: the schema's shapes and dtypes; masks that partition every pixel; pixels an object owns
 * and fully covers (deep inside its mask) have exactly its colour; amodal masks that contain
 * the visible ones; occlusion = 1 - visible / amodal area; padding; `dsgen render` equal to
 * the stored arrays, masks included; `dsgen verify` passes; and slices merged byte-identical
 * to one machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { runCli } from "./support/cli.ts";
import { runPythonJson } from "./support/python.ts";

const CHECK = `
import glob, json, sys
import numpy as np
path, K, S, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a = np.load(path)
N = len(a["num_objects"])
image_shape = (N, S, S) if C == 1 else (N, S, S, 3)
expected = {
    "image": ("uint8", image_shape), "masks": ("uint8", (N, K + 1, S, S)),
    "amodal_masks": ("uint8", (N, K, S, S)), "visibility": ("uint8", (N, K + 1)),
    "num_objects": ("uint8", (N,)), "shape": ("uint8", (N, K)), "scale": ("float32", (N, K)),
    "orientation": ("float32", (N, K)), "x": ("float32", (N, K)), "y": ("float32", (N, K)),
    "color": ("float32", (N, K + 1, C)), "depth_order": ("uint8", (N, K)),
    "occlusion": ("float32", (N, K)),
}
for name, (dtype, shape) in expected.items():
    assert a[name].dtype == dtype and a[name].shape == shape, (name, a[name].dtype, a[name].shape)
masks, amodal = a["masks"], a["amodal_masks"]
assert set(np.unique(masks)) <= {0, 255} and set(np.unique(amodal)) <= {0, 255}
assert ((masks == 255).sum(axis=1) == 1).all(), "masks do not partition every pixel"

# A pixel that an object owns with its whole 5x5 neighbourhood is fully covered by it (objects
# are at least 6 pixels in radius at 64x64, so no edge, its own or one in front, reaches it):
# it has exactly the object's colour.
owner = masks.argmax(axis=1)                                       # (N, S, S)
padded = np.pad(owner, ((0, 0), (2, 2), (2, 2)), constant_values=-1)
deep = np.ones_like(owner, dtype=bool)
for dy in range(5):
    for dx in range(5):
        deep &= padded[:, dy:dy + S, dx:dx + S] == owner
deep &= owner > 0
levels = np.round(a["color"] * 255).astype(np.uint8)               # (N, K+1, C)
scene, row, col = np.nonzero(deep)
want = levels[scene, owner[scene, row, col]]                       # (P, C)
got = a["image"][scene, row, col].reshape(len(scene), C)
assert len(scene) > 1000, len(scene)
assert np.array_equal(got, want), "a fully covered pixel differs from its object's colour"

visible = masks[:, 1:] == 255
assert not (visible & (amodal == 0)).any(), "a visible pixel outside its amodal mask"
vis_area = visible.sum(axis=(2, 3)).astype(np.float64)
amodal_area = (amodal == 255).sum(axis=(2, 3)).astype(np.float64)
present = np.arange(K)[None, :] < a["num_objects"][:, None]
with np.errstate(divide="ignore", invalid="ignore"):
    expected_occlusion = np.where(amodal_area > 0, 1 - vis_area / amodal_area, 1.0)
expected_occlusion = np.where(present, expected_occlusion, 0).astype(np.float32)
assert np.array_equal(a["occlusion"], expected_occlusion), "occlusion"
assert (a["visibility"][:, 0] == 1).all()
assert np.array_equal(a["visibility"][:, 1:] == 1, present)
assert not visible[~present].any() and not (amodal[~present] == 255).any(), "padding"
assert ((a["shape"] > 0) == present).all() and ((a["depth_order"] > 0) == present).all()
print(json.dumps({"scenes": int(N), "objects": int(present.sum()), "deep": int(len(scene)),
                  "occluded": int(((a["occlusion"] > 0) & present).sum())}))
`;

const SAME = `
import json, sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
names = [name for name in b.files if name in a.files]
differ = [name for name in names if not np.array_equal(a[name], b[name])]
print(json.dumps({"compared": names, "differ": differ}))
`;

/** Runs dsgen and returns the archive of the newest version under `dir/name`. */
async function generate(args: string[], dir: string, name: string): Promise<string> {
  const result = await runCli(["generate", ...args, "--output-dir", dir, "--yes", "--quiet"]);
  assert.equal(result.code, 0, result.stderr);
  const versions = [...Deno.readDirSync(join(dir, name))].map((entry) => entry.name)
    .filter((entry) => entry.startsWith("v")).sort();
  return join(dir, name, versions.at(-1)!, "dataset.npz");
}

for (
  const [preset, extra, K, C] of [
    ["binarized", [], 3, 1],
    ["colored_on_grayscale", ["--max-k", "6"], 6, 3],
    ["colored_on_colored", ["--no-overlap", "--shapes", "square,heart"], 4, 3],
  ] as [string, string[], number, number][]
) {
  Deno.test(`numpy checks a real run of ${preset} ${extra.join(" ")} scenes`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-numpy-" });
    try {
      const archive = await generate(
        ["--generator", "scenes", "--preset", preset, ...extra, "--num-images", "600"].concat(
          ["--seed", "21"],
        ),
        dir,
        "scenes64",
      );
      const result = await runPythonJson<
        { scenes: number; objects: number; occluded: number; deep: number }
      >(CHECK, [archive, String(K), "64", String(C)]);
      assert.equal(result.scenes, 600);
      if (!extra.includes("--no-overlap")) assert.ok(result.occluded > 0, JSON.stringify(result));

      // dsgen render from the stored factors gives the stored arrays, masks included.
      const again = join(dir, "again.npz");
      const render = await runCli([
        "render",
        "--generator",
        "scenes",
        "--latents",
        archive,
        "--output",
        again,
      ]);
      assert.equal(render.code, 0, render.stderr);
      const same = await runPythonJson<{ compared: string[]; differ: string[] }>(SAME, [
        archive,
        again,
      ]);
      assert.equal(same.compared.length, 13);
      assert.deepEqual(same.differ, []);

      // dsgen verify re-renders sampled scenes and compares every array.
      const verify = await runCli(["verify", dirname(archive)]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout + verify.stderr, /re-rendered byte-identical in every array/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("scenes: slices merged, and one thread, are byte-identical to one machine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-slices-" });
  try {
    const common = ["--generator", "scenes", "--num-images", "1000", "--seed", "5"];
    const whole = await generate(common, join(dir, "whole"), "scenes64");
    for (const index of [2, 0, 1]) {
      const result = await runCli([
        "generate",
        ...common,
        "--shards",
        "3",
        "--shard-index",
        String(index),
        "--run-id",
        "scenes",
        "--output-dir",
        join(dir, "sharded"),
        "--yes",
        "--quiet",
      ]);
      assert.equal(result.code, 0, result.stderr);
    }
    const sharded = [...Deno.readDirSync(join(dir, "sharded", "scenes64"))]
      .map((entry) => entry.name).filter((name) => /^v\d+/.test(name));
    assert.equal(sharded.length, 1);
    const merged = join(dir, "sharded", "scenes64", sharded[0]!, "dataset.npz");
    assert.deepEqual(await Deno.readFile(merged), await Deno.readFile(whole));
    // And one rendering thread instead of the default plan.
    const oneThread = await generate([...common, "--workers", "1"], join(dir, "one"), "scenes64");
    assert.deepEqual(await Deno.readFile(oneThread), await Deno.readFile(whole));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
