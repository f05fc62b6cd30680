/**
 * Recipes on the command line: malformed recipes exit 2 naming the field, flags override fields
 * and are recorded, a metadata.json remakes its version (and a changed one exits 1 naming the
 * array), a renderer command from a file runs only when the command line names it, and split
 * versions verify.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { entriesOf, runCli } from "./support/cli.ts";
import { withTempDir } from "./support/folders.ts";
import { parseRecipe, recipeFromMetadata } from "../src/recipe/recipe.ts";
import { compilePredicate } from "../src/recipe/predicate.ts";
import { compileDistribution } from "../src/recipe/distribution.ts";
import { dspritesFamily } from "../src/generators/dsprites.ts";
import { createSplitGenerator } from "../src/recipe/split_generator.ts";
import { sampleChunk } from "../src/pipeline/render.ts";
import { readRecipeRun } from "../src/cli/recipe_args.ts";

const MALFORMED: [string, unknown, string][] = [
  ["an unknown top-level key", { family: "dsprites", seed: 1, sed: 2 }, '"sed"'],
  ["no family", { seed: 1, num_images: 10 }, '"family"'],
  ["a negative seed", { family: "shapes", seed: -1, num_images: 10 }, '"seed"'],
  ["an unknown dtype", { family: "shapes", dtype: "int8", num_images: 10 }, '"dtype"'],
  ["an unknown family", { family: "sprites", num_images: 10 }, '"family.name"'],
  ["an unknown key in a split", {
    family: "dsprites",
    splits: [{ name: "a", where: true, num_images: 5, count: 3 }],
  }, '"splits[0].count"'],
  ["an unknown factor", {
    family: "dsprites",
    splits: [{ name: "a", where: { factor: "posZ", gt: 0.5 }, num_images: 5 }],
  }, '"splits[0].where.factor"'],
  ["an unknown preset", {
    family: "dsprites",
    splits: [{ name: "a", where: { preset: "montero" }, num_images: 5 }],
  }, '"splits[0].where.preset"'],
  ["a random split without a count", {
    family: "dsprites",
    splits: [{ name: "a", where: true }],
  }, '"splits[0].num_images"'],
  ["a zero sigma", {
    family: "dsprites",
    splits: [{
      name: "a",
      where: true,
      num_images: 5,
      correlations: [{ factors: ["orientation", "posX"], sigma: 0 }],
    }],
  }, '"splits[0].correlations[0].sigma"'],
  ["weights of the wrong length", {
    family: "dsprites",
    splits: [{ name: "a", where: true, num_images: 5, factors: { scale: { weights: [1, 2] } } }],
  }, '"splits[0].factors.scale.weights"'],
  ["overlapping splits", {
    family: "dsprites",
    splits: [
      { name: "a", where: { factor: "posX", gt: 0.5 }, num_images: 5 },
      { name: "b", where: { factor: "posX", gt: 0.25 }, num_images: 5 },
    ],
  }, '"splits[1].where"'],
  ["grid splits that leave combinations out", {
    family: { name: "dsprites", options: { grid: true } },
    splits: [{ name: "test", where: { preset: "montero_extrapolation" } }],
  }, '"splits"'],
  ["splits of a family without a grid (scenes)", {
    family: { name: "scenes", options: { preset: "binarized" } },
    splits: [{ name: "a", where: true, num_images: 5 }],
  }, "a family with a grid of factors, not scenes"],
  ["two splits of one name", {
    family: "dsprites",
    splits: [{ name: "a", where: true, num_images: 5 }, {
      name: "a",
      where: false,
      num_images: 5,
    }],
  }, '"splits[1].name"'],
];

Deno.test("malformed recipes exit 2 with one line naming the field, and create nothing", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    for (const [what, recipe, field] of MALFORMED) {
      const file = join(dir, "recipe.json");
      await Deno.writeTextFile(file, JSON.stringify(recipe));
      const result = await runCli(["generate", "--recipe", file, "--output-dir", join(dir, "out")]);
      assert.equal(result.code, 2, `${what}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split("\n").length, 1, `${what}: ${result.stderr}`);
      assert.ok(result.stderr.includes(field), `${what}: ${result.stderr} should name ${field}`);
      assert.ok(!result.stderr.includes("    at "), `${what}: a stack trace`);
    }
    assert.deepEqual(await entriesOf(dir), ["recipe.json"]);
  });
});

Deno.test("a recipe that is no JSON, or a missing file, exits 2 naming --recipe", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const file = join(dir, "recipe.json");
    await Deno.writeTextFile(file, "{ family: dsprites");
    for (const path of [file, join(dir, "missing.json")]) {
      const result = await runCli(["generate", "--recipe", path, "--output-dir", dir]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /"--recipe" file/);
    }
  });
});

Deno.test("flags override a recipe's fields, and metadata.json records which", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const file = join(dir, "recipe.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ family: "shapes", image_size: 8, seed: 1, num_images: 20, name: "a" }),
    );
    const made = await runCli([
      "generate",
      "--recipe",
      file,
      "--seed",
      "5",
      "--name",
      "b",
      "--output-dir",
      dir,
      "-y",
      "-q",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const metadata = JSON.parse(await Deno.readTextFile(join(made.stdout.trim(), "metadata.json")));
    assert.equal(metadata.seed, 5);
    assert.equal(metadata.dataset, "b");
    assert.deepEqual(metadata.recipe, {
      family: { name: "shapes", options: {}, version: "1.0.0" },
      image_size: 8,
      dtype: "uint8",
      seed: 5,
      num_images: 20,
      name: "b",
    });
    assert.deepEqual(metadata.recipe_source.overridden, { seed: "--seed 5", name: "--name b" });
    const refused = await runCli(["generate", "--recipe", file, "--grid", "--output-dir", dir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /"--grid" with "--recipe"/);
  });
});

Deno.test("--recipe metadata.json remakes a version byte-identically, and names a changed array", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const made = await runCli([
      "generate",
      "--generator",
      "dsprites",
      "--image-size",
      "16",
      "--num-images",
      "3000",
      "--seed",
      "9",
      "--output-dir",
      join(dir, "a"),
      "-q",
      "-y",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const version = made.stdout.trim();
    const remade = await runCli([
      "generate",
      "--recipe",
      join(version, "metadata.json"),
      "--output-dir",
      join(dir, "b"),
      "-q",
      "-y",
    ]);
    assert.equal(remade.code, 0, remade.stderr);
    assert.match(remade.stderr, /Remade byte-identical: dataset\.npz SHA-256 [0-9a-f]{64}/);
    // A version whose latents were edited (and its record's checksum with them): the remake
    // differs from it in latents.
    const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
    const latents = metadata.arrays.find((array: { name: string }) => array.name === "latents");
    const archive = await Deno.readFile(join(version, "dataset.npz"));
    archive[latents.offset + 40]! ^= 1;
    await Deno.writeFile(join(version, "dataset.npz"), archive);
    metadata.files[0].sha256 = "0".repeat(64);
    await Deno.writeTextFile(join(version, "metadata.json"), JSON.stringify(metadata));
    const differs = await runCli([
      "generate",
      "--recipe",
      join(version, "metadata.json"),
      "--output-dir",
      join(dir, "c"),
      "-q",
      "-y",
    ]);
    assert.equal(differs.code, 1, differs.stderr);
    assert.match(differs.stderr, /array "latents" differs/);
    assert.deepEqual(await entriesOf(join(dir, "c")), ["dsprites16"]);
    assert.deepEqual(await entriesOf(join(dir, "c", "dsprites16")), []);
  });
});

Deno.test("metadata.json from before recipes (camelCase spec only) is a recipe", () => {
  const { recipe, recorded } = recipeFromMetadata({
    schema_version: 1,
    dataset: "dsprites64",
    files: [{ name: "dataset.npz", bytes: 10, sha256: "a".repeat(64) }],
    arrays: [{ name: "images", dtype: "|u1", shape: [737280, 64, 64] }],
    spec: {
      family: { name: "dsprites", options: { grid: true }, version: "1.0.0" },
      seed: 0,
      numImages: 737280,
      imageSize: 64,
      dtype: "uint8",
    },
  });
  assert.deepEqual(recipe, {
    family: { name: "dsprites", options: { grid: true }, version: "1.0.0" },
    image_size: 64,
    dtype: "uint8",
    seed: 0,
    num_images: 737280,
    name: "dsprites64",
  });
  assert.deepEqual(Object.keys(recorded.arrays), ["dataset.npz"]);
});

Deno.test("a renderer command in a recipe runs only when --generator-cmd names the same command", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const file = join(dir, "recipe.json");
    const marker = join(dir, "ran");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        family: { name: "renderer", options: {}, command: `touch ${marker}` },
        num_images: 10,
        seed: 1,
      }),
    );
    for (const given of [[], ["--generator-cmd", "python3 render.py"]]) {
      const result = await runCli([
        "generate",
        "--recipe",
        file,
        ...given,
        "--output-dir",
        join(dir, "out"),
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(`"touch ${marker}"`), result.stderr);
      assert.ok(result.stderr.includes(given.length === 0 ? "none" : '"python3 render.py"'));
    }
    assert.deepEqual(await entriesOf(dir), ["recipe.json"]);
  });
});

Deno.test("parseRecipe keeps the fields and refuses bad ones by path", () => {
  assert.deepEqual(
    parseRecipe({ family: { name: "dsprites", options: { grid: true } }, image_size: 32 }),
    { family: { name: "dsprites", options: { grid: true } }, image_size: 32 },
  );
  assert.throws(
    () => parseRecipe({ family: "dsprites", splits: [{ name: "Train", where: true }] }),
    /"splits\[0\]\.name"/,
  );
  assert.throws(
    () =>
      parseRecipe({
        family: "dsprites",
        splits: [{ name: "a", where: "rest" }, { name: "b", where: "rest" }],
      }),
    /"splits\[1\]\.where"/,
  );
});

Deno.test("predicates: comparisons on float64 values, ranges, sets, classes, and, or, not", () => {
  const names = { family: "dsprites", factors: ["shape", "scale"], classes: ["square", "ellipse"] };
  const values = (shape: number, scale: number) => new Float64Array([shape, scale]);
  const above = compilePredicate({ factor: "scale", gt: 0.6 }, names, "w");
  assert.equal(above(values(1, 0.6), 0, 0), false); // as numpy on dSprites' float64 latents
  assert.equal(above(values(1, 0.7), 0, 0), true);
  const range = compilePredicate({ factor: "scale", gt: 0.55, lt: 0.75 }, names, "w");
  assert.deepEqual([0.5, 0.6, 0.7, 0.8].map((scale) => range(values(1, scale), 0, 0)), [
    false,
    true,
    true,
    false,
  ]);
  const set = compilePredicate({ factor: "scale", in: [Math.fround(0.6)] }, names, "w");
  assert.equal(set(values(1, 0.6), 0, 0), true);
  const logic = compilePredicate(
    { any: [{ class: "ellipse" }, { not: { factor: "shape", eq: 1 } }] },
    names,
    "w",
  );
  assert.equal(logic(values(1, 0.5), 0, 0), false);
  assert.equal(logic(values(1, 0.5), 1, 0), true);
  assert.equal(logic(values(2, 0.5), 0, 0), true);
  assert.throws(() => compilePredicate({ class: "heart" }, names, "w"), /"w.class"/);
  assert.throws(() => compilePredicate({ factor: "scale" }, names, "w"), /a comparison/);
  const fraction = compilePredicate({ random_fraction: 0.25, salt: 3 }, names, "w");
  let held = 0;
  for (let combination = 0; combination < 100_000; combination++) {
    if (fraction(values(1, 0.5), 0, combination)) held++;
  }
  assert.ok(Math.abs(held / 100_000 - 0.25) < 0.01, `${held}`);
});

Deno.test("distributions: fixed values, subsets, weights and inverse correlations", () => {
  const factors = [
    { name: "a", values: [0, 0.5, 1], size: 3 },
    { name: "b", values: [0, 0.5, 1], size: 3 },
  ];
  const inverse = compileDistribution(
    {
      correlations: [{ factors: ["a", "b"], sigma: 0.3, inverse: true }],
    },
    factors,
    "s",
  );
  assert.equal(inverse.weight(Int32Array.of(0, 2)), 1);
  assert.ok(inverse.weight(Int32Array.of(0, 0)) < 0.01);
  const subset = compileDistribution(
    {
      factors: { a: { values: [0, 1] }, b: { weights: [1, 2, 3] } },
    },
    factors,
    "s",
  );
  assert.equal(subset.weight(Int32Array.of(1, 0)), 0);
  assert.equal(subset.weight(Int32Array.of(2, 2)), 3);
  assert.throws(
    () => compileDistribution({ factors: { a: { fixed: 0.25 } } }, factors, "s"),
    /"s.factors.a.fixed"/,
  );
});

Deno.test("a random split's image i depends on the seed, the split and i only", () => {
  const split = (name: string) =>
    createSplitGenerator(dspritesFamily, {
      imageSize: 16,
      options: {},
      split: { name, mode: "random", where: { factor: "posX", gt: 0.5 } },
    });
  const train = split("train");
  const first = sampleChunk(train, 4, { start: 100, count: 50 });
  const alone = sampleChunk(split("train"), 4, { start: 120, count: 1 });
  assert.deepEqual([...alone.latents], [...first.latents.subarray(20 * 6, 21 * 6)]);
  const other = sampleChunk(split("test"), 4, { start: 100, count: 50 });
  assert.notDeepEqual([...other.latents], [...first.latents]);
  for (let image = 0; image < 50; image++) assert.ok(first.latents[image * 6 + 4]! > 0.5);
});

Deno.test("a split version verifies, and verify finds a combination in two splits", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const file = join(dir, "recipe.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        family: "dsprites",
        image_size: 16,
        seed: 2,
        splits: [
          { name: "test", where: { preset: "montero_recombination_to_range" }, num_images: 300 },
          { name: "train", where: "rest", num_images: 700 },
        ],
      }),
    );
    const made = await runCli(["generate", "--recipe", file, "--output-dir", dir, "-y", "-q"]);
    assert.equal(made.code, 0, made.stderr);
    const version = made.stdout.trim();
    assert.deepEqual(await entriesOf(version), ["metadata.json", "test.npz", "train.npz"]);
    const verified = await runCli(["verify", version, "--seed", "1"]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /splits +no factor combination is in two splits/);
    const inspected = await runCli(["inspect", version]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.equal(inspected.stdout, `${join(version, "inspection", "splits.png")}\n`);
    const png = await Deno.readFile(join(version, "inspection", "splits.png"));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    await Deno.remove(join(version, "inspection"), { recursive: true });
    // The test archive copied over the train archive (and its record): a combination is in
    // both splits.
    const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
    await Deno.copyFile(join(version, "test.npz"), join(version, "train.npz"));
    const train = metadata.files.find((entry: { name: string }) => entry.name === "train.npz");
    const test = metadata.files.find((entry: { name: string }) => entry.name === "test.npz");
    Object.assign(train, { sha256: test.sha256, bytes: test.bytes });
    const trainSplit = metadata.splits.find((entry: { name: string }) => entry.name === "train");
    const testSplit = metadata.splits.find((entry: { name: string }) => entry.name === "test");
    trainSplit.arrays = testSplit.arrays;
    trainSplit.num_images = testSplit.num_images;
    metadata.num_images = 2 * testSplit.num_images;
    await Deno.writeTextFile(join(version, "metadata.json"), JSON.stringify(metadata));
    const mixed = await runCli(["verify", version, "--seed", "1", "--samples", "1"]);
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stdout, /FAIL +splits +combination \[.*\] \(latents_classes\) is in both/);
  });
});

Deno.test("every whole recipe in docs/recipes.md is accepted as it stands", async () => {
  const docs = await Deno.readTextFile(new URL("../docs/recipes.md", import.meta.url));
  const blocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
  // A whole recipe, or one split (as in a recipe beside a test split).
  const recipes = blocks.map((block) => JSON.parse(block)).map((json) =>
    "family" in json ? json : "where" in json
      ? {
        family: "dsprites",
        splits: [json, {
          name: "held-out",
          where: { preset: "montero_extrapolation" },
          num_images: 10,
        }],
      }
      : undefined
  ).filter((json) => json !== undefined);
  assert.equal(recipes.length, blocks.length);
  await withTempDir("dsgen-recipe-docs-", async (dir) => {
    for (const [index, recipe] of recipes.entries()) {
      const file = join(dir, `${index}.json`);
      await Deno.writeTextFile(file, JSON.stringify(recipe));
      const run = readRecipeRun(file, {});
      assert.equal(run.recipe.family.name, "dsprites");
      if (recipe.splits !== undefined) assert.equal(run.splits?.length, recipe.splits.length);
    }
  });
});

Deno.test("a version whose seed was drawn records its recipe source, and verifies and inspects", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const out = join(dir, "out");
    const run = await runCli(["generate", "--num-images", "50", "--output-dir", out, "--yes"]);
    assert.equal(run.code, 0, run.stderr);
    const version = run.stdout.trim();
    const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
    assert.deepEqual(metadata.recipe_source, { file: "", overridden: { seed: "drawn" } });
    assert.equal(metadata.recipe.seed, metadata.seed);
    const verify = await runCli(["verify", version, "--seed", "1"]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const inspect = await runCli(["inspect", version, "--seed", "1", "--quiet"]);
    assert.equal(inspect.code, 0, inspect.stderr);
  });
});

Deno.test("a recipe run takes the slice flags as a run from flags does", async () => {
  await withTempDir("dsgen-recipe-", async (dir) => {
    const recipe = join(dir, "recipe.json");
    await Deno.writeTextFile(recipe, JSON.stringify({ family: "shapes", num_images: 10 }));
    const out = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [["--shard-index", "1"], /^dsgen: Cannot use "--shard-index" without "--shards"/],
      [["--shards", "2"], /^dsgen: Missing "--seed" for "--shards"/],
      [
        ["--shards", "11", "--shard-index", "0", "--run-id", "r", "--seed", "1"],
        /^dsgen: Cannot use "--shards" value "11": expected at most the 10 images/,
      ],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(["generate", "--recipe", recipe, "--output-dir", out, ...flags]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
    assert.deepEqual(await entriesOf(dir), ["recipe.json"]);
  });
});
