/**
 * The orientation convention the README documents, checked on rendered pixels: x is the column
 * (right), y the row (down); at 0 the ellipse lies flat, the square stands upright and the
 * triangle points up; a positive angle turns clockwise on screen; the value wraps at each
 * shape's symmetry period (90° square, 120° triangle, 180° ellipse).
 */
import assert from "node:assert/strict";
import { generators } from "../src/generators/registry.ts";

const SIZE = 64;
const CLASS = { ellipse: 0, square: 1, triangle: 2 } as const;

/** Renders one centred shape of scale 0.9 at an orientation in degrees; coverage per pixel. */
function render(label: number, degrees: number): Float64Array {
  const generator = generators.get("shapes").create({ imageSize: SIZE });
  const latents = new Float32Array([0.9, (degrees * Math.PI) / 180, 0.5, 0.5]);
  const pixels = new Float64Array(SIZE * SIZE);
  generator.render(label, latents, 0, pixels, 0);
  return pixels;
}

/** The lit pixels' extent: columns and rows from the first to the last with any coverage. */
function extent(pixels: Float64Array): { width: number; height: number; top: number } {
  let left = SIZE, right = -1, top = SIZE, bottom = -1;
  for (let row = 0; row < SIZE; row++) {
    for (let column = 0; column < SIZE; column++) {
      if (pixels[row * SIZE + column]! <= 0.5) continue;
      left = Math.min(left, column), right = Math.max(right, column);
      top = Math.min(top, row), bottom = Math.max(bottom, row);
    }
  }
  return { width: right - left + 1, height: bottom - top + 1, top };
}

/** The mean column of the lit pixels in the shape's top rows (where an apex is). */
function topColumn(pixels: Float64Array, rows: number): number {
  const { top } = extent(pixels);
  let mass = 0, sum = 0;
  for (let row = top; row < top + rows; row++) {
    for (let column = 0; column < SIZE; column++) {
      const value = pixels[row * SIZE + column]!;
      mass += value, sum += value * (column + 0.5);
    }
  }
  return sum / mass;
}

Deno.test("orientation 0: the ellipse lies flat, the square stands upright, the triangle points up", () => {
  const ellipse = extent(render(CLASS.ellipse, 0));
  assert.ok(ellipse.width > 1.8 * ellipse.height, JSON.stringify(ellipse));
  // An upright square fills whole rows: its rows near the top and the bottom are equally full,
  // about as wide as the square (a turned square's rows would grow towards its middle).
  const square = render(CLASS.square, 0);
  const { width, height, top } = extent(square);
  assert.ok(Math.abs(width - height) <= 1);
  const full = (row: number) =>
    Array.from(square.subarray(row * SIZE, (row + 1) * SIZE)).filter((value) => value === 1)
      .length;
  assert.equal(full(top + 1), full(top + height - 2));
  assert.ok(full(top + 1) >= width - 2);
  // The triangle's apex is at the top, in the centre column, its base at the bottom.
  const triangle = render(CLASS.triangle, 0);
  assert.ok(Math.abs(topColumn(triangle, 3) - SIZE / 2) < 0.5);
  assert.ok(extent(triangle).top < SIZE / 2 - 10);
});

Deno.test("a positive orientation turns the shape clockwise on screen", () => {
  // Turned clockwise, the triangle's apex moves right of the centre; anticlockwise, left.
  assert.ok(topColumn(render(CLASS.triangle, 20), 3) > SIZE / 2 + 3);
  assert.ok(topColumn(render(CLASS.triangle, -20), 3) < SIZE / 2 - 3);
});

Deno.test("orientation wraps at the symmetry period: 90° square, 120° triangle, 180° ellipse", () => {
  for (const [label, period] of [[CLASS.square, 90], [CLASS.triangle, 120], [CLASS.ellipse, 180]]) {
    const near = render(label!, 5), wrapped = render(label!, 5 + period!);
    // float32 angles: the same pose up to rounding at the edges.
    const differ = near.reduce((sum, value, index) => sum + Math.abs(value - wrapped[index]!), 0);
    assert.ok(differ < 0.5, `class ${label}: ${differ}`);
    assert.ok(near.reduce((sum, value) => sum + value, 0) > 100);
  }
});
