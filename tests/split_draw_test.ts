/**
 * A random split draws its combinations a batch at a time: whatever the order in which images
 * are asked for (in order, backwards, alternating seeds, from two generators), each image gets
 * the combination it gets alone.
 *
 * @module
 */

import assert from "node:assert/strict";
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
