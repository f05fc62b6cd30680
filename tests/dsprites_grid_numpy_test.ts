/**
 * The full dsprites grid, 737,280 images of 64x64 (about 3 GB), generated once with workers and
 * read by numpy: dSprites' own index arithmetic, the stored latents and classes, the symmetric
 * duplicates and `dsgen render` against stored rows. The folder is deleted afterwards.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { requireNumpy, runPythonJson } from "./support/python.ts";

const CHECK = `
import json, sys, zipfile
import numpy as np

folder, out = sys.argv[1], sys.argv[2]
path = f"{folder}/dataset.npz"

def memmap(name):
    """An uncompressed .npy member of the archive, mapped without reading it whole."""
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(f"{name}.npy").header_offset
    with open(path, "rb") as file:
        file.seek(offset)
        local = file.read(30)
        file.seek(offset + 30 + int.from_bytes(local[26:28], "little")
                  + int.from_bytes(local[28:30], "little"))
        assert np.lib.format.read_magic(file) == (1, 0)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
        return np.memmap(path, dtype=dtype, mode="r", offset=file.tell(), shape=shape)

report = {}
with np.load(path, allow_pickle=False) as data:
    classes = data["latents_classes"]
    sizes = data["latents_sizes"]
    latents = data["latents"]
    labels = data["labels"]
    names = data["latent_names"].tolist()
    possible = [data[f"latents_possible_values_{name}"] for name in names]
images = memmap("images")
report["images"] = [list(images.shape), images.dtype.str]
report["classes"] = [list(classes.shape), classes.dtype.str, sizes.dtype.str, sizes.tolist()]
report["names"] = names

# dSprites' notebook, unchanged.
bases = np.concatenate((sizes[::-1].cumprod()[::-1][1:], np.array([1,])))
rng = np.random.default_rng(12)
combos = np.stack([rng.integers(0, size, 1000) for size in sizes], axis=1)
indices = combos @ bases
report["index_arithmetic"] = bool((classes[indices] == combos).all())
report["all_rows_in_order"] = bool((classes @ bases == np.arange(len(classes))).all())
report["latents_from_classes"] = bool(all(
    (latents[:, k] == possible[k][classes[:, k]].astype(np.float32)).all()
    for k in range(len(names))))
report["labels_are_shape"] = bool((labels == classes[:, 1]).all())

def at(shape, scale, step, x, y):
    return int(np.array([0, shape, scale, step, x, y]) @ bases)

report["heart_orientations_distinct"] = len({images[at(2, 3, k, 16, 9)].tobytes()
                                              for k in range(40)})
report["square_period"] = bool(all((images[at(0, 4, k, 3, 28)] == images[at(0, 4, k + 10, 3, 28)]).all()
                                   for k in range(30)))
report["ellipse_period"] = bool(all((images[at(1, 1, k, 30, 2)] == images[at(1, 1, k + 20, 30, 2)]).all()
                                    for k in range(20)))
report["blank"] = int((images[indices].reshape(1000, -1).max(axis=1) == 0).sum())

chosen = rng.choice(len(classes), 64, replace=False)
np.save(f"{out}/in.npy", latents[chosen].astype(np.float64))
np.save(f"{out}/expected.npy", np.asarray(images[chosen]))
print(json.dumps(report))
`;

const COMPARE = `
import json, sys
import numpy as np
out = sys.argv[1]
rendered, expected = np.load(f"{out}/out.npy"), np.load(f"{out}/expected.npy")
print(json.dumps({"shape": list(rendered.shape), "equal": bool((rendered == expected).all())}))
`;

/** A RAM-backed folder if there is one: 3 GB written and read back, without the disk's wait. */
async function scratchFolder(): Promise<string> {
  const shm = await Deno.stat("/dev/shm").then((info) => info.isDirectory, () => false);
  return await Deno.makeTempDir({ prefix: "dsgen_grid_", ...(shm ? { dir: "/dev/shm" } : {}) });
}

Deno.test("dsprites --grid at 64x64: 737,280 images that dSprites' arithmetic indexes", async (t) => {
  await requireNumpy();
  const dir = await scratchFolder();
  try {
    const generated = await runCli([
      "generate",
      "--generator",
      "dsprites",
      "--grid",
      "--output-dir",
      dir,
      "--name",
      "grid",
      "--workers",
      "2",
      "--yes",
      "--quiet",
    ]);
    assert.equal(generated.code, 0, generated.stderr);
    const version = generated.stdout.trim();
    const report = await runPythonJson<Record<string, unknown>>(CHECK, [version, dir]);
    await t.step("arrays", () => {
      assert.deepEqual(report.images, [[737280, 64, 64], "|u1"]);
      assert.deepEqual(report.classes, [[737280, 6], "<i8", "<i8", [1, 3, 6, 40, 32, 32]]);
      assert.deepEqual(report.names, ["color", "shape", "scale", "orientation", "posX", "posY"]);
    });
    await t.step("index arithmetic", () => {
      assert.equal(report.index_arithmetic, true);
      assert.equal(report.all_rows_in_order, true);
      assert.equal(report.latents_from_classes, true);
      assert.equal(report.labels_are_shape, true);
      assert.equal(report.blank, 0);
    });
    await t.step("orientations", () => {
      assert.equal(report.heart_orientations_distinct, 40);
      assert.equal(report.square_period, true);
      assert.equal(report.ellipse_period, true);
    });
    await t.step("render equals stored rows", async () => {
      const rendered = await runCli([
        "render",
        "--generator",
        "dsprites",
        "--latents",
        join(dir, "in.npy"),
        "--output",
        join(dir, "out.npy"),
      ]);
      assert.equal(rendered.code, 0, rendered.stderr);
      const compared = await runPythonJson<{ shape: number[]; equal: boolean }>(COMPARE, [dir]);
      assert.deepEqual(compared, { shape: [64, 64, 64], equal: true });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
