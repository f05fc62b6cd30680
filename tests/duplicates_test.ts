/**
 * The duplicate finder against a direct count: many images, many groups of equal images, in
 * an order where groups interleave, read back through the block cache's evictions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DuplicateFinder } from "../src/validate/duplicates.ts";

Deno.test("DuplicateFinder counts what a direct comparison counts, with the same examples", async () => {
  const numImages = 30_000, imageBytes = 16;
  const images = Array.from({ length: numImages }, (_, index) => {
    // About one image in three repeats one of 4,000 patterns; the rest are unique.
    const pattern = (Math.imul(index, 2654435761) >>> 0) % 12_000;
    const image = new Uint8Array(imageBytes);
    const seed = pattern < 4_000 ? pattern : 100_000 + index;
    for (let byte = 0; byte < imageBytes; byte++) image[byte] = (seed >> (byte % 24)) & 0xff;
    return image;
  });
  const finder = new DuplicateFinder(numImages);
  images.forEach((image, index) => finder.add(index, image));
  const summary = await finder.finish((index) =>
    index % 2 === 0 ? images[index]! : Promise.resolve(images[index]!)
  );
  // Directly: the first index of each distinct content, in order of first occurrence.
  const firstOf = new Map<string, number>();
  const groupSizes = new Map<string, number>();
  const pairs: [number, number][] = [];
  images.forEach((image, index) => {
    const key = image.join(",");
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, index);
    else {
      groupSizes.set(key, (groupSizes.get(key) ?? 1) + 1);
      pairs.push([first, index]);
    }
  });
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.equal(summary.count, pairs.length);
  assert.equal(summary.groups, groupSizes.size);
  assert.deepEqual(summary.examples, pairs.slice(0, 10));
  assert.ok(summary.count > 5_000);
});
