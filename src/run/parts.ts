/**
 * The archives of a run, written once for a whole run (`generate_dataset.ts`), a cluster slice
 * and a merge (`src/cluster/`): `dataset.npz`, or one archive `<split>.npz` per split of a
 * recipe ({@linkcode runParts}). A run's images are its parts' images one after the other, in
 * the recipe's order, so a slice of a sharded run is a contiguous range of them, cut at the
 * parts' ends ({@linkcode partShares}).
 *
 * @module
 */

import type { DatasetSpec } from "../generators/spec.ts";
import type { SplitRef } from "../recipe/split_generator.ts";
import { ARCHIVE_FILE } from "../store/metadata.ts";

/** A recipe's split with its number of images, as a run takes it. */
export interface RunSplit {
  /** The split's number of images. */
  numImages: number;
  /** The split as its generator takes it. */
  split: SplitRef;
}

/** One archive of a run. */
export interface RunPart {
  /** Its file in the version folder: `dataset.npz` or `<split>.npz`. */
  file: string;
  /** What it holds: the run's spec with the part's count and, for a split, `family.split`. */
  spec: DatasetSpec;
  /** The part's first image among the run's images (the parts one after the other). */
  offset: number;
}

/**
 * The archives a run writes: `dataset.npz`, or one per split, in the splits' order.
 *
 * @param spec The run's spec (for splits, `numImages` is their sum).
 * @param splits The recipe's splits, if it has any.
 * @returns The parts, each with its spec and its first image in the run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runParts } from "./parts.ts";
 * const spec = { family: { name: "dsprites", options: {} }, seed: 1, numImages: 30,
 *   imageSize: 16, dtype: "uint8" as const };
 * assert.deepEqual(runParts(spec).map((part) => part.file), ["dataset.npz"]);
 * const parts = runParts(spec, [
 *   { numImages: 20, split: { name: "train", where: true, mode: "random" } },
 *   { numImages: 10, split: { name: "test", where: true, mode: "random" } },
 * ]);
 * assert.deepEqual(parts.map((part) => [part.file, part.offset]), [["train.npz", 0], ["test.npz", 20]]);
 * assert.equal(parts[1]!.spec.family.split?.name, "test");
 * ```
 */
export function runParts(spec: DatasetSpec, splits?: readonly RunSplit[]): RunPart[] {
  if (splits === undefined) return [{ file: ARCHIVE_FILE, spec, offset: 0 }];
  let offset = 0;
  return splits.map(({ numImages, split }) => {
    const part = {
      file: `${split.name}.npz`,
      spec: { ...spec, numImages, family: { ...spec.family, split } },
      offset,
    };
    offset += numImages;
    return part;
  });
}

/** The images of one part that a range of the run's images covers. */
export interface PartShare {
  /** The part. */
  part: RunPart;
  /** Its position in the list of parts. */
  partIndex: number;
  /** The first image, counted within the part. */
  start: number;
  /** The number of images, at least 1. */
  count: number;
}

/**
 * The images of each part that a range of the run's images covers (a cluster slice's): the
 * range cut at the parts' ends, parts it does not reach left out.
 *
 * @param parts The run's parts ({@linkcode runParts}).
 * @param range The first image among the run's images, and the count.
 * @returns One share per part the range reaches, in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partShares, runParts } from "./parts.ts";
 * const spec = { family: { name: "dsprites", options: {} }, seed: 1, numImages: 30,
 *   imageSize: 16, dtype: "uint8" as const };
 * const parts = runParts(spec, [
 *   { numImages: 20, split: { name: "train", where: true, mode: "random" } },
 *   { numImages: 10, split: { name: "test", where: true, mode: "random" } },
 * ]);
 * const shares = partShares(parts, { start: 15, count: 10 });
 * assert.deepEqual(shares.map(({ part, start, count }) => [part.file, start, count]),
 *   [["train.npz", 15, 5], ["test.npz", 0, 5]]);
 * ```
 */
export function partShares(
  parts: readonly RunPart[],
  range: { start: number; count: number },
): PartShare[] {
  const end = range.start + range.count;
  const shares: PartShare[] = [];
  parts.forEach((part, partIndex) => {
    const first = Math.max(range.start, part.offset);
    const last = Math.min(end, part.offset + part.spec.numImages);
    if (last > first) {
      shares.push({ part, partIndex, start: first - part.offset, count: last - first });
    }
  });
  return shares;
}
