import assert from "node:assert/strict";
import {
  createHeart,
  HEART_AREA_FACTOR,
  HEART_PERIMETER_FACTOR,
  HeartRasterizer,
  insideHeart,
  setHeart,
} from "../src/generators/heart.ts";
import { randomSource } from "./support/random.ts";

Deno.test("heart: the fast fill equals sampling every pixel, bit for bit", () => {
  const random = randomSource(12);
  for (const imageSize of [4, 16, 64]) {
    for (const samples of [1, 2, 3, 4, 5]) {
      const rasterizer = new HeartRasterizer({ imageSize, samples });
      for (let trial = 0; trial < 60; trial++) {
        const angle = random() * 2 * Math.PI;
        // Centres a little beyond the frame too: clipped hearts must agree as well.
        const heart = setHeart(createHeart(), {
          cx: (random() * 1.4 - 0.2) * imageSize,
          cy: (random() * 1.4 - 0.2) * imageSize,
          radius: (0.02 + random() * 0.5) * imageSize,
          cos: Math.cos(angle),
          sin: Math.sin(angle),
        });
        const fast = new Float64Array(imageSize * imageSize);
        const reference = new Float64Array(imageSize * imageSize);
        rasterizer.fill(heart, fast, 0);
        rasterizer.fillReference(heart, reference, 0);
        assert.deepEqual(fast, reference, `size ${imageSize}, samples ${samples}, trial ${trial}`);
      }
    }
  }
});

Deno.test("heart: area and perimeter factors match a fine count of inside points", () => {
  const heart = setHeart(createHeart(), { cx: 0, cy: 0, radius: 1, cos: 1, sin: 0 });
  const steps = 2000;
  let inside = 0;
  for (let row = 0; row < steps; row++) {
    for (let column = 0; column < steps; column++) {
      if (insideHeart(heart, -1 + (2 * (column + 0.5)) / steps, -1 + (2 * (row + 0.5)) / steps)) {
        inside++;
      }
    }
  }
  const area = (inside * 4) / (steps * steps);
  assert.ok(Math.abs(area - HEART_AREA_FACTOR) < 0.002, `area ${area} vs ${HEART_AREA_FACTOR}`);
  // Square side s = √2 a, a = 1 / 1.2612: perimeter s (2 + π).
  assert.ok(Math.abs(HEART_PERIMETER_FACTOR - (Math.SQRT2 * (2 + Math.PI)) / 1.2612039) < 1e-6);
  // Every inside point lies within the circumradius.
  for (let trial = 0; trial < 10000; trial++) {
    const angle = (trial / 10000) * 2 * Math.PI;
    assert.equal(insideHeart(heart, 1.0001 * Math.cos(angle), 1.0001 * Math.sin(angle)), false);
  }
});

Deno.test("heart: points down at angle 0, symmetric about its vertical axis", () => {
  const imageSize = 64, rasterizer = new HeartRasterizer({ imageSize, samples: 4 });
  const image = new Float64Array(imageSize * imageSize);
  const heart = setHeart(createHeart(), { cx: 32, cy: 32, radius: 20, cos: 1, sin: 0 });
  rasterizer.fill(heart, image, 0);
  for (let y = 0; y < imageSize; y++) {
    for (let x = 0; x < imageSize; x++) {
      assert.equal(
        image[y * imageSize + x],
        image[y * imageSize + imageSize - 1 - x],
        `(${x},${y})`,
      );
    }
  }
  // The point: the lowest lit row is narrower than the highest one (two lobes).
  const litIn = (row: number) =>
    Array.from({ length: imageSize }, (_, x) => image[row * imageSize + x]!).filter((v) => v > 0)
      .length;
  const rows = Array.from({ length: imageSize }, (_, y) => y).filter((y) => litIn(y) > 0);
  assert.ok(litIn(rows.at(-1)!) < litIn(rows[0]!) || litIn(rows.at(-1)!) <= 2);
  // The dip: at the top, the middle column is dark while columns to each side are lit.
  const top = rows[0]! + 1;
  assert.ok(image[top * imageSize + 32]! < image[top * imageSize + 24]!);
});
