/**
 * The recipes the benches run (`deno task bench`, `bench:memory`, `bench:compare`), written
 * once: dsprites 16x16 images in two splits with a correlated pair, and in `count` splits
 * disjoint in posX.
 *
 * @module
 */

/** A recipe as JSON. */
export type RecipeJson = { [key: string]: unknown };

/**
 * `images` dsprites 16x16 images: nine tenths outside Montero et al.'s extrapolation region
 * with orientation and posX correlated (`train`), one tenth inside it (`test`).
 *
 * @param images The images of both splits (1,000,000: 900,000 and 100,000).
 * @returns The recipe, without a seed (the benches give `--seed`, or it is drawn).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { twoSplits } from "./recipes.ts";
 * const recipe = twoSplits(1_000_000) as { splits: { num_images: number }[] };
 * assert.deepEqual(recipe.splits.map((split) => split.num_images), [900_000, 100_000]);
 * ```
 */
export function twoSplits(images: number): RecipeJson {
  const test = Math.round(images / 10);
  return {
    family: "dsprites",
    image_size: 16,
    splits: [
      {
        name: "train",
        where: { not: { preset: "montero_extrapolation" } },
        num_images: images - test,
        correlations: [{ factors: ["orientation", "posX"], sigma: 0.2 }],
      },
      { name: "test", where: "rest", num_images: test },
    ],
  };
}

/**
 * `count` splits of `each` dsprites 16x16 images, split k holding posX's values in
 * [k / count, (k + 1) / count) (posX takes 32 values from 0 to 1).
 *
 * @param count The number of splits.
 * @param each The images of each split.
 * @returns The recipe, without a seed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { posXSplits } from "./recipes.ts";
 * const recipe = posXSplits(8, 125_000) as { splits: { name: string }[] };
 * assert.equal(recipe.splits.at(-1)!.name, "part7");
 * ```
 */
export function posXSplits(count: number, each: number): RecipeJson {
  const edge = (k: number) => k / count - 1e-9;
  return {
    family: "dsprites",
    image_size: 16,
    splits: Array.from({ length: count }, (_, k) => ({
      name: `part${k}`,
      where: k === count - 1
        ? { factor: "posX", ge: edge(k) }
        : { factor: "posX", ge: edge(k), lt: edge(k + 1) },
      num_images: each,
    })),
  };
}
