/**
 * Recipes on real runs, read by numpy:
 * - Montero et al.'s three dSprites splits of the 64x64 grid are set-equal (and in the grid's
 *   order) to numpy's own evaluation of their predicates over the grid's latents, and share no
 *   combination; a grid version remakes byte-identically from its metadata.json;
 * - a correlated pair over 1,000,000 draws fits its specified joint (chi-square p >= 0.001,
 *   total variation < 0.02), and the uncorrelated test split (1,000,000 draws) fits uniform;
 *   the version (2,000,000 images of 16x16) remakes byte-identically;
 * - a merged sharded version remakes byte-identically.
 * Every folder is deleted afterwards.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./support/cli.ts";
import { requireNumpy, runPythonJson } from "./support/python.ts";

/** `generate --recipe VERSION/metadata.json` into another folder: a remake of that version. */
function remake(version: string, outputDir: string) {
  return runCli([
    "generate",
    "--recipe",
    join(version, "metadata.json"),
    "--output-dir",
    outputDir,
    "-y",
    "-q",
  ]);
}

const MONTERO = `
import json, sys
import numpy as np

folder, preset = sys.argv[1], sys.argv[2]
def load(split):
    with np.load(f"{folder}/{split}.npz", allow_pickle=False) as data:
        names = data["factor_names"].tolist()
        return (data["latents_classes"], data["latents_sizes"], names,
                [data[f"latents_possible_values_{name}"] for name in names], data["latents"])
test, sizes, names, possible, test_latents = load("test")
train = load("train")[0]
grid = np.indices(sizes).reshape(len(sizes), -1).T
value = {name: possible[k][grid[:, k]] for k, name in enumerate(names)}
shape, scale, orientation = value["shape"], value["scale"], value["orientation"]
pos_x, pos_y = value["posX"], value["posY"]
if preset == "montero_extrapolation":
    mask = pos_x > 0.5
elif preset == "montero_recombination_to_range":
    mask = (shape == 1) & (pos_x > 0.5)
else:
    mask = ((shape == 2) & (scale > 0.6) & (orientation > 2 * np.pi / 3)
            & (orientation < 4 * np.pi / 3) & (pos_x > 0.66) & (pos_y > 0.66))
bases = np.concatenate((sizes[::-1].cumprod()[::-1][1:], [1]))
test_index, train_index = test @ bases, train @ bases
print(json.dumps({
    "names": names,
    "test": int(len(test)), "train": int(len(train)),
    "test_equal": bool(np.array_equal(test_index, np.flatnonzero(mask))),
    "train_equal": bool(np.array_equal(train_index, np.flatnonzero(~mask))),
    "shared": int(len(np.intersect1d(test_index, train_index))),
    "latents_match": bool((test_latents == np.stack([possible[k][test[:, k]] for k in
        range(len(names))], axis=1).astype(np.float32)).all()),
}))
`;

Deno.test("Montero et al.'s dSprites splits at 64x64 equal numpy's predicates; a grid version remakes", async (t) => {
  await requireNumpy();
  const dir = await Deno.makeTempDir({ prefix: "dsgen-montero-" });
  try {
    const expected: Record<string, number> = {
      montero_extrapolation: 368640,
      montero_recombination_to_range: 122880,
      montero_leave_one_out: 6292,
    };
    for (const preset of Object.keys(expected)) {
      await t.step(preset, async () => {
        const file = join(dir, `${preset}.json`);
        await Deno.writeTextFile(
          file,
          JSON.stringify({
            family: { name: "dsprites", options: { grid: true } },
            image_size: 64,
            seed: 0,
            name: preset,
            splits: [
              { name: "test", where: { preset } },
              { name: "train", where: "rest" },
            ],
          }),
        );
        const made = await runCli(["generate", "--recipe", file, "--output-dir", dir, "-y", "-q"]);
        assert.equal(made.code, 0, made.stderr);
        const version = made.stdout.trim();
        const report = await runPythonJson<Record<string, unknown>>(MONTERO, [version, preset]);
        assert.deepEqual(report, {
          names: ["color", "shape", "scale", "orientation", "posX", "posY"],
          test: expected[preset],
          train: 737280 - expected[preset]!,
          test_equal: true,
          train_equal: true,
          shared: 0,
          latents_match: true,
        });
        if (preset === "montero_leave_one_out") {
          const remade = await remake(version, join(dir, "remade"));
          assert.equal(remade.code, 0, remade.stderr);
          assert.match(remade.stderr, /Remade byte-identical: test\.npz SHA-256 .*train\.npz/);
        }
        await Deno.remove(join(dir, preset), { recursive: true });
        await Deno.remove(join(dir, "remade"), { recursive: true }).catch(() => {});
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const FIT = `
import json, math, sys
import numpy as np

folder, sigma = sys.argv[1], float(sys.argv[2])
def p_value(statistic, df):
    try:
        from scipy.stats import chi2
        return float(chi2.sf(statistic, df))
    except ImportError:  # Wilson-Hilferty: close for df in the hundreds.
        z = ((statistic / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
        return 0.5 * math.erfc(z / math.sqrt(2))

def fit(counts, expected_p):
    n = counts.sum()
    expected = expected_p * n
    # Cells expected fewer than 5 times are pooled into one, as the test requires.
    small = expected < 5
    observed = np.append(counts[~small], counts[small].sum())
    wanted = np.append(expected[~small], expected[small].sum())
    if wanted[-1] == 0:
        observed, wanted = observed[:-1], wanted[:-1]
    statistic = float(((observed - wanted) ** 2 / wanted).sum())
    return {
        "n": int(n), "cells": int(len(wanted)),
        "p": p_value(statistic, len(wanted) - 1),
        "tv": float(0.5 * np.abs(counts / n - expected_p).sum()),
    }

report = {}
for split in ("train", "test"):
    with np.load(f"{folder}/{split}.npz", allow_pickle=False) as data:
        classes = data["latents_classes"]
        sizes = data["latents_sizes"]
    orientation, pos_x = classes[:, 3], classes[:, 4]
    counts = np.zeros((sizes[3], sizes[4]))
    np.add.at(counts, (orientation, pos_x), 1)
    c1 = np.arange(sizes[3])[:, None] / (sizes[3] - 1)
    c2 = np.arange(sizes[4])[None, :] / (sizes[4] - 1)
    joint = np.exp(-((c1 - c2) ** 2) / (2 * sigma ** 2)) if split == "train" \\
        else np.ones((sizes[3], sizes[4]))
    report[split] = fit(counts.ravel(), (joint / joint.sum()).ravel())
    report[split]["shapes"] = sorted(np.unique(classes[:, 1]).tolist())
print(json.dumps(report))
`;

Deno.test("a correlated pair over 1,000,000 draws fits its joint, the test split fits uniform; the version remakes", async () => {
  await requireNumpy();
  const dir = await Deno.makeTempDir({ prefix: "dsgen-correlated-" });
  try {
    const file = join(dir, "recipe.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        family: "dsprites",
        image_size: 16,
        seed: 11,
        name: "correlated",
        splits: [
          {
            name: "train",
            where: { factor: "shape", in: [1, 2] },
            num_images: 1_000_000,
            correlations: [{ factors: ["orientation", "posX"], sigma: 0.2 }],
          },
          { name: "test", where: "rest", num_images: 1_000_000 },
        ],
      }),
    );
    const made = await runCli(["generate", "--recipe", file, "--output-dir", dir, "-y", "-q"]);
    assert.equal(made.code, 0, made.stderr);
    const version = made.stdout.trim();
    type Fit = { n: number; cells: number; p: number; tv: number; shapes: number[] };
    const report = await runPythonJson<{ train: Fit; test: Fit }>(FIT, [version, "0.2"]);
    assert.equal(report.train.n, 1_000_000);
    assert.deepEqual(report.train.shapes, [0, 1]); // square and ellipse
    assert.ok(report.train.p >= 0.001, JSON.stringify(report.train));
    assert.ok(report.train.tv < 0.02, JSON.stringify(report.train));
    assert.deepEqual(report.test.shapes, [2]); // heart
    assert.equal(report.test.cells, 1280);
    assert.ok(report.test.p >= 0.001, JSON.stringify(report.test));
    assert.ok(report.test.tv < 0.02, JSON.stringify(report.test));
    const remade = await remake(version, join(dir, "remade"));
    assert.equal(remade.code, 0, remade.stderr);
    assert.match(remade.stderr, /Remade byte-identical: train\.npz SHA-256 .*test\.npz/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a merged sharded version remakes byte-identically from its metadata.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-sharded-remake-" });
  try {
    let merged = "";
    for (const index of [0, 1, 2]) {
      const slice = await runCli([
        "generate",
        "--generator",
        "shapes",
        "--num-images",
        "30000",
        "--seed",
        "5",
        "--shards",
        "3",
        "--shard-index",
        String(index),
        "--run-id",
        "r1",
        "--output-dir",
        dir,
        "-y",
        "-q",
      ]);
      assert.equal(slice.code, 0, slice.stderr);
      merged = slice.stdout.trim() || merged;
    }
    const metadata = JSON.parse(await Deno.readTextFile(join(merged, "metadata.json")));
    assert.equal(metadata.sharded_run.shards, 3);
    const remade = await remake(merged, join(dir, "remade"));
    assert.equal(remade.code, 0, remade.stderr);
    assert.match(remade.stderr, /Remade byte-identical: dataset\.npz/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
