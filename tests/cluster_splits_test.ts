/**
 * Sharded runs of recipes with splits, through the real CLI: slices run out of order merge into
 * split archives byte-identical to one machine's, with the same `splits`, `files`, `recipe` and
 * `recipe_source` in metadata.json; `verify` passes and `--recipe metadata.json` remakes the
 * merged version. A slice with another recipe exits 2 naming the field; a slice killed while it
 * writes its second split leaves none of its files and no version.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { listVersions } from "../src/store/versions.ts";
import { checkPlanFields, runFolder } from "../src/cluster/run_folder.ts";
import { entriesOf } from "./support/cli.ts";
import { runCli as runWith, startCli, taskPermissions, waitFor } from "./fault_fixtures.ts";
import { withTempDir } from "./support/folders.ts";

/** dsgen as `deno task dsgen` runs it: the task's permissions, not -A. */
const PERMISSIONS = await taskPermissions();
const runCli = (args: string[]) => runWith(args, { permissions: PERMISSIONS });

/** A shapes grid of 1,536 combinations: squares right of centre held out. */
const GRID_RECIPE = {
  family: { name: "shapes", options: { grid: { scale: 2, orientation: 4, pos_x: 8, pos_y: 8 } } },
  image_size: 16,
  seed: 3,
  name: "grid",
  splits: [
    { name: "test", where: { all: [{ class: "square" }, { factor: "pos_x", gt: 0.5 }] } },
    { name: "train", where: "rest" },
  ],
};

/** Two random splits of dSprites' grid, one with a correlated pair. */
const RANDOM_RECIPE = {
  family: "dsprites",
  image_size: 16,
  seed: 11,
  name: "random",
  splits: [
    {
      name: "train",
      where: { factor: "shape", in: [1, 2] },
      num_images: 3000,
      correlations: [{ factors: ["orientation", "posX"], sigma: 0.2 }],
    },
    { name: "test", where: "rest", num_images: 1001 },
  ],
};

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

function sliceArgs(recipe: string, out: string, shards: number, index: number, runId: string) {
  return [
    "generate",
    "--recipe",
    recipe,
    "--output-dir",
    out,
    "--shards",
    String(shards),
    "--shard-index",
    String(index),
    "--run-id",
    runId,
    "--yes",
    "--quiet",
  ];
}

/** metadata.json without what differs between any two runs, and a merge's own record. */
function comparable(metadata: Record<string, unknown>) {
  const {
    created_at: _created,
    finished_at: _finished,
    version_id: _id,
    run: _run,
    sharded_run: _sharded,
    ...rest
  } = metadata;
  return rest;
}

for (const [label, recipe] of [["grid", GRID_RECIPE], ["random", RANDOM_RECIPE]] as const) {
  Deno.test(`a ${label} recipe with splits, as 3 slices out of order, merges into one machine's archives`, async () => {
    await withTempDir("dsgen_cluster_splits_test_", async (folder) => {
      const file = join(folder, "recipe.json");
      await Deno.writeTextFile(file, JSON.stringify(recipe));
      const one = await runCli([
        "generate",
        "--recipe",
        file,
        "--output-dir",
        join(folder, "one"),
        "-y",
        "-q",
      ]);
      assert.equal(one.code, 0, one.stderr);
      const expected = one.stdout.trim();
      const out = join(folder, "sharded");
      const stdouts = [];
      for (const index of [2, 0, 1]) {
        const slice = await runCli(sliceArgs(file, out, 3, index, "r"));
        assert.equal(slice.code, 0, slice.stderr);
        stdouts.push(slice.stdout);
      }
      // The last slice merged and printed the version; the others printed nothing.
      const versions = await listVersions(join(out, recipe.name));
      assert.equal(versions.length, 1);
      const merged = versions[0]!.path;
      assert.deepEqual(stdouts, ["", "", merged + "\n"]);
      assert.deepEqual(await entriesOf(join(out, recipe.name)), [versions[0]!.id]);
      const names = recipe.splits.map((split) => `${split.name}.npz`);
      assert.deepEqual(await entriesOf(merged), [...names, "metadata.json"].sort());
      for (const name of names) {
        assert.equal(await sha256(join(merged, name)), await sha256(join(expected, name)), name);
      }
      const read = async (version: string) =>
        JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      const [mine, theirs] = [await read(merged), await read(expected)];
      // splits, files, recipe, recipe_source, spec, generator: all as one machine records them.
      assert.deepEqual(comparable(mine), comparable(theirs));
      assert.ok(mine.splits.length === 2 && mine.recipe_source.file === file);
      assert.equal(mine.sharded_run.shards, 3);
      assert.deepEqual(
        mine.sharded_run.slices.map((slice: { num_images: number }) => slice.num_images),
        [0, 1, 2].map((index) =>
          Math.floor((index + 1) * theirs.num_images / 3) -
          Math.floor(index * theirs.num_images / 3)
        ),
      );
      const verify = await runCli(["verify", merged]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
      const remade = await runCli([
        "generate",
        "--recipe",
        join(merged, "metadata.json"),
        "--output-dir",
        join(folder, "remade"),
        "-y",
        "-q",
      ]);
      assert.equal(remade.code, 0, remade.stderr);
      assert.match(
        remade.stderr,
        new RegExp(`^Remade byte-identical: ${names[0]} SHA-256 [0-9a-f]{64}, ${names[1]} SHA-256`),
      );
      // Sliced again from its metadata.json: the merge compares the merged archives with it.
      const sliced = async (metadata: string, out: string) => {
        const first = await runCli(sliceArgs(metadata, out, 2, 1, "again"));
        assert.equal(first.code, 0, first.stderr);
        return await runCli(sliceArgs(metadata, out, 2, 0, "again"));
      };
      const resliced = await sliced(join(merged, "metadata.json"), join(folder, "resliced"));
      assert.equal(resliced.code, 0, resliced.stderr);
      assert.match(
        resliced.stderr,
        new RegExp(`^Remade byte-identical: ${names[0]} SHA-256 [0-9a-f]{64}, ${names[1]} SHA-256`),
      );
      // A record whose hash differs: the merge fails naming the archive, and publishes nothing.
      const record = JSON.parse(await Deno.readTextFile(join(merged, "metadata.json")));
      record.files[1].sha256 = "0".repeat(64);
      const tampered = join(folder, "tampered");
      await Deno.mkdir(tampered);
      await Deno.writeTextFile(join(tampered, "metadata.json"), JSON.stringify(record));
      const refused = await sliced(join(tampered, "metadata.json"), join(folder, "refused"));
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `Cannot remake ${record.files[1].name} byte-identically: .*metadata\\.json records 0{64}`,
        ),
      );
      assert.deepEqual(await listVersions(join(folder, "refused", recipe.name)), []);
    });
  });
}

Deno.test("slices of a grid without splits merge into one machine's archive", async () => {
  await withTempDir("dsgen_cluster_splits_test_", async (folder) => {
    // Each slice holds part of a grid whose options fix the whole count: once refused as
    // "Cannot generate 512 images with shapes: its options fix 1536".
    const flags = [
      "--generator",
      "shapes",
      "--grid-values",
      "scale=2,orientation=4,pos_x=8,pos_y=8",
      "--seed",
      "4",
    ];
    const one = await runCli([
      "generate",
      ...flags,
      "--output-dir",
      join(folder, "one"),
      "-y",
      "-q",
    ]);
    assert.equal(one.code, 0, one.stderr);
    let merged = "";
    for (const index of [1, 2, 0]) {
      const slice = await runCli([
        "generate",
        ...flags,
        "--output-dir",
        join(folder, "sharded"),
        "--shards",
        "3",
        "--shard-index",
        String(index),
        "--run-id",
        "g",
        "-y",
        "-q",
      ]);
      assert.equal(slice.code, 0, slice.stderr);
      merged = slice.stdout.trim() || merged;
    }
    assert.equal(
      await sha256(join(merged, "dataset.npz")),
      await sha256(join(one.stdout.trim(), "dataset.npz")),
    );
  });
});

Deno.test("a slice with another recipe exits 2 naming the field, and writes nothing", async () => {
  await withTempDir("dsgen_cluster_splits_test_", async (folder) => {
    const file = join(folder, "recipe.json");
    await Deno.writeTextFile(file, JSON.stringify(RANDOM_RECIPE));
    const tooMany = await runCli(sliceArgs(file, folder, 4002, 0, "d"));
    assert.equal(tooMany.code, 2, tooMany.stderr);
    assert.equal(
      tooMany.stderr,
      `dsgen: Cannot use "--shards" value "4002": expected at most the 4001 images of the ` +
        `recipe's splits (${file})\n`,
    );
    assert.deepEqual(await entriesOf(folder), ["recipe.json"]);
    const first = await runCli(sliceArgs(file, folder, 3, 0, "d"));
    assert.equal(first.code, 0, first.stderr);
    const runDir = runFolder(join(folder, "random"), "d");
    const before = await entriesOf(runDir);
    const changes: [string, (recipe: typeof RANDOM_RECIPE) => void, string][] = [
      ["count", (recipe) => void (recipe.splits[1]!.num_images = 1002), "--num-images"],
      ["count moved", (recipe) => {
        recipe.splits[0]!.num_images = 3001;
        recipe.splits[1]!.num_images = 1000;
      }, "splits[0].num_images"],
      [
        "region",
        (recipe) => void ((recipe.splits[0]!.where as { in: number[] }).in = [1]),
        "splits[0].where.in",
      ],
      [
        "correlation",
        (recipe) => void (recipe.splits[0]!.correlations![0]!.sigma = 0.3),
        "splits[0].correlations[0].sigma",
      ],
      ["no splits", (recipe) => {
        const loose = recipe as unknown as Record<string, unknown>;
        delete loose.splits;
        loose.num_images = 4001;
      }, "splits"],
      ["seed", (recipe) => void (recipe.seed = 12), "--seed"],
    ];
    for (const [what, change, field] of changes) {
      const other = structuredClone(RANDOM_RECIPE);
      change(other);
      const otherFile = join(folder, `other.json`);
      await Deno.writeTextFile(otherFile, JSON.stringify(other));
      const refused = await runCli(sliceArgs(otherFile, folder, 3, 1, "d"));
      assert.equal(refused.code, 2, `${what}: ${refused.stderr}`);
      assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
      assert.ok(
        refused.stderr.startsWith(
          `dsgen: Cannot join run "d": "${field}" differs from the run's plan in ${runDir}/plan.json`,
        ),
        `${what}: ${refused.stderr}`,
      );
      assert.deepEqual(await entriesOf(runDir), before, what);
    }
    assert.deepEqual(await listVersions(join(folder, "random")), []);
  });
});

Deno.test("a slice killed in its second split removes its files; rerun, the run completes", async () => {
  await withTempDir("dsgen_cluster_splits_test_", async (folder) => {
    const recipe = {
      family: { name: "shapes", options: {} },
      image_size: 16,
      seed: 8,
      name: "killed",
      splits: [
        { name: "small", where: { class: "square" }, num_images: 1000 },
        { name: "large", where: "rest", num_images: 600_000 },
      ],
    };
    const file = join(folder, "recipe.json");
    await Deno.writeTextFile(file, JSON.stringify(recipe));
    const runDir = runFolder(join(folder, "killed"), "k");
    // Slice 1 holds only the large split; slice 0 the small one, then most of the large one.
    const other = await runCli(sliceArgs(file, folder, 2, 1, "k"));
    assert.equal(other.code, 0, other.stderr);
    const before = await entriesOf(runDir);
    const running = startCli([...sliceArgs(file, folder, 2, 0, "k"), "--workers", "1"], {
      permissions: PERMISSIONS,
    });
    await waitFor("slice 0 writing its large split", async () => {
      const names = await entriesOf(runDir).catch((): string[] => []);
      return names.some((name) => name.startsWith(".slice-00000-of-00002.large.bin.")) &&
          names.includes("slice-00000-of-00002.small.bin")
        ? true
        : undefined;
    }, running);
    running.child.kill("SIGTERM");
    const killed = await running.finished;
    assert.equal(killed.code, 143, killed.stderr);
    assert.match(killed.stderr, /Interrupted by SIGTERM: slice 0's partial file was removed/);
    // Its small split's files went too: without a record, a slice has no files.
    assert.deepEqual(await entriesOf(runDir), before);
    assert.deepEqual(await listVersions(join(folder, "killed")), []);
    const rerun = await runCli(sliceArgs(file, folder, 2, 0, "k"));
    assert.equal(rerun.code, 0, rerun.stderr);
    const [version] = await listVersions(join(folder, "killed"));
    assert.equal(rerun.stdout, version!.path + "\n");
    assert.deepEqual(await entriesOf(version!.path), ["large.npz", "metadata.json", "small.npz"]);
  });
});

Deno.test("plan.json's splits and remake record are checked before a merge uses them", () => {
  const split = { name: "train", mode: "random", where: true };
  const plan = {
    schema_version: 1,
    run_id: "7",
    dataset: "d",
    shards: 2,
    spec: {
      family: { name: "dsprites", options: {} },
      seed: 1,
      numImages: 10,
      imageSize: 16,
      dtype: "uint8",
    },
    created_at: "2026-12-05T00:00:00.000Z",
    splits: [{ num_images: 6, split }, { num_images: 4, split: { ...split, name: "test" } }],
    remake: {
      files: [{ name: "train.npz", bytes: 100, sha256: "a".repeat(64) }],
      arrays: { "train.npz": [{ name: "images", dtype: "|u1", shape: [6, 16, 16] }] } as {
        [file: string]: { name: string; dtype: string; shape: number[] }[];
      },
    },
  };
  assert.equal(checkPlanFields(plan, "7").plan.splits?.length, 2);
  assert.equal(checkPlanFields(plan, "7").plan.remake?.files[0]?.name, "train.npz");
  const cases: [(bad: typeof plan) => void, RegExp][] = [
    [(bad) => void (bad.splits[1]!.split.name = "../x"), /: splits\[1\]\.split\.name is "\.\.\/x"/],
    [
      (bad) => void (bad.splits[1]!.split.name = "train"),
      /: splits\[1\]\.split\.name .* no other split/,
    ],
    [(bad) => void (bad.splits[0]!.num_images = 7), /: splits is "11 images"/],
    [(bad) => void (bad.splits[0]!.split.mode = "all"), /: splits\[0\]\.split\.mode/],
    [(bad) => void (bad.splits[0]!.split.where = "rest" as never), /: splits\[0\]\.split\.where/],
    // What a remake compares with (`--recipe metadata.json`), field by field.
    [
      (bad) => void (bad.remake!.files[0]!.sha256 = "not a hash"),
      /: remake\.files\[0\]\.sha256 is "not a hash"/,
    ],
    [(bad) => void (bad.remake!.files[0]!.name = "../x.npz"), /: remake\.files\[0\]\.name/],
    [(bad) => void (bad.remake!.arrays.x = "y" as never), /: remake\.arrays\.x/],
  ];
  for (const [change, message] of cases) {
    const bad = structuredClone(plan);
    change(bad);
    assert.throws(() => checkPlanFields(bad, "7"), message);
  }
});
