/**
 * numpy reads a chunk of scenes written as `.npy` files (one per array of the schema, with the
 * schema's `(N, ...shape)` and dtype) and checks the scene rules on its own: shapes and dtypes,
 * masks that partition every pixel, amodal masks that contain the visible ones, occlusion as
 * 1 - visible / amodal area, and padding.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNpyHeader, type NpyDtype } from "../src/format/npy.ts";
import { SceneRenderer } from "../src/generators/scenes.ts";
import { allocateChunk, npyDescr, npyShape } from "../src/generators/sample_schema.ts";
import { runPythonJson } from "./support/python.ts";

const CHECK = `
import json, sys
import numpy as np
folder, K, S, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
a = {name: np.load(f"{folder}/{name}.npy") for name in json.loads(sys.argv[5])}
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
print(json.dumps({"scenes": int(N), "objects": int(present.sum()),
                  "occluded": int(((a["occlusion"] > 0) & present).sum())}))
`;

for (const preset of ["binarized", "colored_on_grayscale", "colored_on_colored"]) {
  Deno.test(`numpy checks ${preset} scenes written as .npy`, async () => {
    const renderer = new SceneRenderer({ preset, imageSize: 32 });
    const count = 300;
    const chunk = allocateChunk(renderer.schema, count);
    renderer.renderChunk(21, 0, chunk);
    const folder = await Deno.makeTempDir({ prefix: "dsgen-scenes-" });
    try {
      for (const array of chunk.arrays) {
        const header = encodeNpyHeader({
          descr: npyDescr(array.spec) as NpyDtype,
          fortranOrder: false,
          shape: npyShape(array.spec, count),
        });
        const data = new Uint8Array(array.view.buffer);
        const bytes = new Uint8Array(header.length + data.length);
        bytes.set(header);
        bytes.set(data, header.length);
        await Deno.writeFile(join(folder, `${array.spec.name}.npy`), bytes);
      }
      const { config } = renderer;
      const names = JSON.stringify(chunk.arrays.map((array) => array.spec.name));
      const result = await runPythonJson<{ scenes: number; objects: number; occluded: number }>(
        CHECK,
        [folder, String(config.maxK), "32", String(config.channels), names],
      );
      assert.equal(result.scenes, count);
      assert.ok(result.occluded > 0, JSON.stringify(result));
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  });
}
