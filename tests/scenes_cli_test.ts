/**
 * The `scenes` flags of `dsgen generate`: each bad value is refused with one line naming the
 * flag, the value and what is accepted, exit code 2, nothing created; good values become the
 * family's options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../src/cli/errors.ts";
import { parseGenerateArgs } from "../src/cli/generate.ts";
import { lines, runCli, treeFingerprint } from "./fault_fixtures.ts";

const BASE = ["--generator", "scenes", "--num-images", "10", "--output-dir", "out", "--yes"];

Deno.test("scene flags become the scenes family's options", () => {
  const options = parseGenerateArgs([
    ...BASE,
    "--preset",
    "colored_on_grayscale",
    "--objects",
    "1-6",
    "--max-k",
    "8",
    "--shapes",
    "heart,square",
    "--no-overlap",
  ]);
  assert.ok(options !== "help");
  assert.equal(options.imageSize, 64);
  assert.equal(options.name, "scenes64");
  assert.deepEqual(options.familyOptions, {
    preset: "colored_on_grayscale",
    minObjects: 1,
    maxObjects: 6,
    maxK: 8,
    shapes: ["heart", "square"],
    overlap: false,
  });
  const plain = parseGenerateArgs(BASE);
  assert.ok(plain !== "help" && plain.familyOptions === undefined);
  const exact = parseGenerateArgs([...BASE, "--objects", "3"]);
  assert.ok(exact !== "help");
  assert.deepEqual(exact.familyOptions, { minObjects: 3, maxObjects: 3 });
});

/** [extra words, the flag named, the value quoted, a piece of what is accepted]. */
const REFUSED: [string[], string, string | undefined, string][] = [
  [
    ["--preset", "multi"],
    "--preset",
    "multi",
    "binarized, colored_on_grayscale, colored_on_colored",
  ],
  [["--objects", "4-2"], "--objects", "4-2", "0 <= MIN <= MAX <= 10"],
  [["--objects", "0"], "--objects", "0", "MAX >= 1"],
  [["--objects", "1-11"], "--objects", "1-11", "MAX <= 10"],
  [["--objects", "two"], "--objects", "two", "N or MIN-MAX"],
  [["--max-k", "3"], "--max-k", "3", "an integer from 4 (the most objects of preset"],
  [["--objects", "2-6", "--max-k", "5"], "--max-k", "5", "an integer from 6 (the most objects)"],
  [["--max-k", "11"], "--max-k", "11", "to 10"],
  [["--shapes", "square,triangle"], "--shapes", "square,triangle", "square, ellipse, heart"],
  [["--shapes", "heart,heart"], "--shapes", "heart,heart", "each at most once"],
  [["--shapes", ""], "--shapes", "", "a comma-separated list"],
  [["--objects", "1-7", "--no-overlap"], "--objects", "1-7", "at most 6 objects without overlap"],
  [["--dtype", "float64"], "--dtype", "float64", "expected uint8"],
  [["--grid"], "--grid", undefined, "it has no grid"],
  [["--image-size", "8"], "--image-size", "8", "an integer from 16 to 256"],
];

for (const [extra, flag, value, accepts] of REFUSED) {
  Deno.test(`generate --generator scenes refuses ${extra.join(" ")}`, () => {
    assert.throws(
      () => parseGenerateArgs([...BASE, ...extra]),
      (error: Error) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.ok(error.message.includes(`"${flag}"`), error.message);
        if (value !== undefined) {
          assert.ok(error.message.includes(JSON.stringify(value)), error.message);
        }
        assert.ok(error.message.includes(accepts), error.message);
        return true;
      },
    );
  });
}

Deno.test("scene flags with another generator or with a recipe are refused", () => {
  assert.throws(
    () => parseGenerateArgs(["--num-images", "5", "--output-dir", "o", "--no-overlap"]),
    new UsageError(
      'Cannot use "--no-overlap" with generator "shapes": expected it only with --generator scenes',
    ),
  );
  assert.throws(
    () => parseGenerateArgs(["--recipe", "r.json", "--output-dir", "o", "--preset", "binarized"]),
    /Cannot use "--preset" with "--recipe"/,
  );
});

Deno.test("the real command line: exit 2, one line, nothing created", async () => {
  const out = await Deno.makeTempDir({ prefix: "dsgen-scenes-cli-" });
  try {
    const before = await treeFingerprint(out);
    const results = await Promise.all([
      ["--objects", "3-9", "--no-overlap"],
      ["--preset", "clevr"],
    ].map((extra) =>
      runCli(["generate", ...BASE.map((word) => word === "out" ? `${out}/data` : word), ...extra])
    ));
    for (const result of results) {
      assert.equal(result.code, 2, result.stderr);
      assert.equal(lines(result.stderr).length, 1, result.stderr);
      assert.match(result.stderr, /^dsgen: Cannot use "--(objects|preset)" value "(3-9|clevr)"/);
    }
    assert.deepEqual(await treeFingerprint(out), before);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a recipe's bad scenes option is refused naming the field, value and what is accepted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-recipe-" });
  try {
    const recipe = join(dir, "recipe.json");
    await Deno.writeTextFile(
      recipe,
      JSON.stringify({
        family: { name: "scenes", options: { maxObjects: 7, overlap: false } },
        seed: 1,
        num_images: 10,
      }),
    );
    assert.throws(
      () => parseGenerateArgs(["--recipe", recipe, "--output-dir", join(dir, "out")]),
      new UsageError(
        'Cannot use recipe field "family.options" value {"maxObjects":7,"overlap":false}: ' +
          "Cannot use maxObjects 7 for scenes without overlap: expected an integer from 1 to 6 " +
          `when overlap is false (in ${recipe})`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect of scenes refuses a grid too large before reading, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-inspect-cli-" });
  try {
    const made = await runCli([
      "generate",
      ...BASE.map((word) => word === "out" ? dir : word),
      "--seed",
      "1",
      "--quiet",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const result = await runCli([
      "inspect",
      join(dir, "scenes64"),
      "--samples",
      "10",
      "--scale",
      "64",
      "--out",
      join(dir, "inspection"),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(lines(result.stderr).length, 1, result.stderr);
    assert.match(result.stderr, /^dsgen: Cannot use "--samples" value "10" with "--scale" 64: /);
    // And a grid that fits is drawn, with a passing report.
    const inspected = await runCli(["inspect", join(dir, "scenes64"), "--samples", "4", "-q"]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(inspected.stdout, /^partition +PASS +every pixel belongs to exactly one entity$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
