/**
 * A random split draws its combinations a batch at a time: whatever the order in which images
 * are asked for (in order, backwards, alternating seeds, from two generators), each image gets
 * the combination it gets alone.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dspritesFamily } from "../src/generators/dsprites.ts";
import { createSplitGenerator, type SplitRef } from "../src/recipe/split_generator.ts";

const splits: SplitRef[] = [
  {
    name: "train",
    mode: "random",
    where: { not: { preset: "montero_extrapolation" } },
    correlations: [{ factors: ["orientation", "posX"], sigma: 0.2 }],
  },
  { name: "test", mode: "random", where: { preset: "montero_extrapolation" } },
];

for (const split of splits) {
  Deno.test(`split ${split.name}: an image's combination does not depend on the order asked`, () => {
    const make = () => createSplitGenerator(dspritesFamily, { imageSize: 16, options: {}, split });
    const classesOf = (generator: ReturnType<typeof make>, seed: number, index: number) => {
      const out = new Int32Array(6);
      generator.sampleClasses!(seed, index, out, 0);
      return out.join(",");
    };
    const indices = Array.from({ length: 1500 }, (_, at) => at);
    // Each image asked of a fresh generator: nothing cached.
    const alone = indices.map((index) => classesOf(make(), 7, index));
    const inOrder = make();
    assert.deepEqual(indices.map((index) => classesOf(inOrder, 7, index)), alone);
    const backwards = make();
    assert.deepEqual(
      indices.slice().reverse().map((index) => classesOf(backwards, 7, index)).reverse(),
      alone,
    );
    const mixed = make();
    const other = indices.map((index) => classesOf(make(), 8, index));
    for (const index of [5, 1400, 6, 300, 299, 1499, 0]) {
      assert.equal(classesOf(mixed, 7, index), alone[index]);
      assert.equal(classesOf(mixed, 8, index), other[index]);
    }
    assert.notDeepEqual(other, alone);
  });
}

/**
 * Which combinations splits draw, pinned: the value indices (`latents_classes`) of their first
 * 20,000 images (or all of a smaller grid split), seed 42, as SHA-256 of little-endian int32.
 * Computed with dsgen as of 2026-12-04 (c83c290). A change here changes every split dataset:
 * a recipe would no longer remake its version.
 */
const PINNED_DRAWS: { split: SplitRef; sha256: string }[] = [
  {
    split: {
      name: "train",
      mode: "random",
      where: { not: { preset: "montero_extrapolation" } },
      correlations: [
        { factors: ["orientation", "posX"], sigma: 0.2 },
        { factors: ["scale", "posY"], sigma: 0.3, inverse: true },
      ],
    },
    sha256: "c29f37184fb186d1f1a370090d9d21309be26372a3b50c5fbf27f47e85c5c81c",
  },
  {
    split: { name: "test", mode: "random", where: { preset: "montero_extrapolation" } },
    sha256: "17e7342107687ba36a427b1ff53739a2d3e2f5f34b8845b839af89873cdf4c90",
  },
  {
    split: {
      name: "held",
      mode: "random",
      where: { random_fraction: 0.1, salt: 3 },
      factors: { shape: { weights: [1, 2, 3] }, scale: { values: [0.5, 1] } },
    },
    sha256: "fa20781e3142b08a4e4e3cc433aa7697e5838879df4cd8ca7401466db063c70d",
  },
  {
    split: { name: "loo", mode: "grid", where: { preset: "montero_leave_one_out" } },
    sha256: "d74303b1fc2951038a3d18a93cf4b9e5bb801c003f9d47286e3d44124a66f4fe",
  },
  {
    split: {
      name: "rtr",
      mode: "grid",
      where: { not: { preset: "montero_recombination_to_range" } },
    },
    sha256: "c39dfa0b736ef8002833bc6ebb9e7cc226c5d5133f0488e8612451f75296902b",
  },
];

for (const { split, sha256 } of PINNED_DRAWS) {
  Deno.test(`split ${split.name} (${split.mode}): the combinations drawn are pinned`, () => {
    const generator = createSplitGenerator(dspritesFamily, {
      imageSize: 16,
      options: split.mode === "grid" ? { grid: true } : {},
      split,
    });
    const count = Math.min(20_000, generator.fixedNumImages ?? 20_000);
    const classes = new Int32Array(6 * count);
    for (let index = 0; index < count; index++) {
      generator.sampleClasses!(42, index, classes, 6 * index);
    }
    const digest = createHash("sha256").update(new Uint8Array(classes.buffer)).digest("hex");
    assert.equal(digest, sha256);
  });
}
