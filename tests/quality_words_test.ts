// inspect's uint8 fast path (pixel statistics a 32-bit word at a time, zero words skipped)
// gives exactly the figures of the byte-at-a-time path.

import assert from "node:assert/strict";
import { QualityAccumulator } from "../src/validate/quality.ts";
import { DuplicateFinder } from "../src/validate/duplicates.ts";

function layout(numImages: number, imageSize: number) {
  return {
    numImages,
    imageSize,
    dtype: "uint8" as const,
    classNames: ["a", "b"],
    latentNames: ["x"],
    declared: [{ name: "x", min: 0, max: 1 }],
  };
}

/** Images with blank, saturated, sparse, border-lit and repeated ones, from a fixed seed. */
function images(numImages: number, imageSize: number): Uint8Array {
  const area = imageSize * imageSize;
  const bytes = new Uint8Array(numImages * area);
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
  for (let image = 0; image < numImages; image++) {
    const pixels = bytes.subarray(image * area, (image + 1) * area);
    if (image % 7 === 0) continue; // blank
    if (image % 11 === 0) pixels.fill(255); // saturated
    else if (image % 13 === 0) pixels.set(bytes.subarray(0, area)); // a duplicate of image 0
    else for (let pixel = 0; pixel < area; pixel++) if (next() < 40) pixels[pixel] = next();
  }
  bytes.fill(255, 5 * area, 5 * area + 1); // lit border pixel
  return bytes;
}

async function report(bytes: Uint8Array, numImages: number, imageSize: number) {
  const area = imageSize * imageSize;
  const quality = new QualityAccumulator(layout(numImages, imageSize));
  const labels = new Uint8Array(numImages).map((_, index) => index % 2);
  const latents = new Float32Array(numImages).fill(0.5);
  quality.add({ start: 0, images: bytes, labels, latents });
  return await quality.finish((index) =>
    Promise.resolve(bytes.slice(index * area, (index + 1) * area))
  );
}

Deno.test("inspect's uint8 word path gives the byte path's report exactly", async () => {
  for (const imageSize of [4, 16]) {
    const numImages = 200;
    const aligned = images(numImages, imageSize);
    // The same bytes at an odd offset: the byte-at-a-time path.
    const shifted = new Uint8Array(aligned.length + 1).subarray(1);
    shifted.set(aligned);
    const fast = await report(aligned, numImages, imageSize);
    const slow = await report(shifted, numImages, imageSize);
    assert.deepEqual(fast, slow);
    assert.ok(fast.blank.count > 0 && fast.saturated.count > 0 && fast.duplicates.count > 0);
  }
});

Deno.test("duplicates: counts, groups and examples as a pairwise comparison finds them", async () => {
  // 3,000 images of 8 bytes drawn from 700 patterns: many interleaved groups of every size.
  let state = 99;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8;
  const patterns = Array.from({ length: 700 }, () => new Uint8Array(8).map(() => next() & 255));
  const images = Array.from({ length: 3000 }, () => patterns[next() % patterns.length]!.slice());
  const finder = new DuplicateFinder(images.length);
  images.forEach((image, index) => finder.add(index, image));
  const found = await finder.finish((index) => Promise.resolve(images[index]!.slice()));
  // The reference: each image against the earlier ones; groups in the order of their first image.
  const firstOf = new Map<string, number>();
  const sizes = new Map<string, number>();
  const pairs: [number, number][] = [];
  let count = 0;
  images.forEach((image, index) => {
    const text = image.join(",");
    const first = firstOf.get(text);
    if (first === undefined) firstOf.set(text, index);
    else {
      count++;
      pairs.push([first, index]);
    }
    sizes.set(text, (sizes.get(text) ?? 0) + 1);
  });
  const groups = [...sizes.values()].filter((size) => size > 1).length;
  // Examples follow the groups in the order of their first image, members ascending.
  const order = [...firstOf.entries()].filter(([text]) => sizes.get(text)! > 1)
    .map(([, first]) => first);
  const examples = order.flatMap((first) => pairs.filter(([a]) => a === first)).slice(0, 10);
  assert.deepEqual(found, { count, groups, examples });
});
