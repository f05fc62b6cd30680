/**
 * The inspection grid of a `scenes` dataset: each sampled scene as two cells side by side,
 * its image in colour and its masks with each entity in its own colour (the background dark
 * gray, objects in the colours of {@linkcode ENTITY_COLORS}, by slot). The layout, title and
 * captions are those of the grayscale grid (`grid.ts`); the cells' pixels are then painted in
 * colour.
 *
 * @module
 */

import { cellPosition, computeGridLayout, encodePng, renderGrid } from "./grid.ts";

/** Entity colours: the background, then object slots 1 to 10 (matplotlib's tab10). */
export const ENTITY_COLORS: readonly (readonly [number, number, number])[] = [
  [40, 40, 40],
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [188, 189, 34],
  [23, 190, 207],
  [127, 127, 127],
];

/** One sampled scene. */
export interface SceneCell {
  /** The scene's index in the dataset. */
  index: number;
  /** Its number of objects. */
  numObjects: number;
  /** The image: S x S x C bytes (C 1 or 3). */
  image: Uint8Array;
  /** The masks: (K+1) x S x S bytes, 255 where the entity owns the pixel. */
  masks: Uint8Array;
}

/**
 * The RGB picture of a scene's masks: each pixel in its owner's colour (black where no entity
 * owns it, which a partition never leaves).
 *
 * @param masks (K+1) x S x S bytes.
 * @param pixels S x S.
 * @returns S x S x 3 bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENTITY_COLORS, maskPicture } from "./scene_grid.ts";
 * const masks = new Uint8Array([255, 0, 0, 255]); // 2 entities, 2 pixels
 * assert.deepEqual([...maskPicture(masks, 2)], [...ENTITY_COLORS[0]!, ...ENTITY_COLORS[1]!]);
 * ```
 */
export function maskPicture(masks: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const entities = masks.length / pixels;
  for (let entity = 0; entity < entities; entity++) {
    const color = ENTITY_COLORS[entity % ENTITY_COLORS.length]!;
    for (let pixel = 0; pixel < pixels; pixel++) {
      if (masks[entity * pixels + pixel] === 255) out.set(color, pixel * 3);
    }
  }
  return out;
}

/**
 * Draws sampled scenes and their masks as a PNG grid.
 *
 * @param cells The scenes.
 * @param options Image side S, colour channels C (1 or 3), upscaling and the title.
 * @returns The PNG's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderSceneGridPng } from "./scene_grid.ts";
 * const cell = { index: 0, numObjects: 1, image: new Uint8Array(4 * 4 * 3).fill(200),
 *   masks: new Uint8Array(2 * 16).fill(255, 0, 16) };
 * const png = await renderSceneGridPng([cell], { imageSize: 4, channels: 3, scale: 8, title: "t" });
 * assert.equal(png[1], 0x50);
 * ```
 */
export async function renderSceneGridPng(
  cells: readonly SceneCell[],
  options: { imageSize: number; channels: number; scale: number; title: string },
): Promise<Uint8Array> {
  const size = options.imageSize, pixels = size * size;
  const blank = new Uint8Array(pixels);
  const gridCells = cells.flatMap((cell) => [
    { pixels: blank, caption: `#${cell.index} ${cell.numObjects} obj` },
    { pixels: blank, caption: "masks" },
  ]);
  const perRow = Math.max(1, Math.ceil(Math.sqrt(cells.length)));
  const gridOptions = {
    imageSize: size,
    columns: 2 * perRow,
    scale: options.scale,
    title: options.title,
  };
  const bitmap = renderGrid(gridCells, gridOptions);
  const layout = computeGridLayout(gridCells.map((cell) => cell.caption), gridOptions);
  const paint = (index: number, rgb: Uint8Array) => {
    const { x, y } = cellPosition(layout, index);
    const scale = layout.scale;
    for (let row = 0; row < size * scale; row++) {
      for (let column = 0; column < size * scale; column++) {
        const source = (Math.floor(row / scale) * size + Math.floor(column / scale)) * 3;
        const target = ((y + row) * bitmap.width + x + column) * 4;
        bitmap.data[target] = rgb[source]!;
        bitmap.data[target + 1] = rgb[source + 1]!;
        bitmap.data[target + 2] = rgb[source + 2]!;
        bitmap.data[target + 3] = 255;
      }
    }
  };
  cells.forEach((cell, index) => {
    const rgb = options.channels === 3
      ? cell.image
      : Uint8Array.from({ length: pixels * 3 }, (_, at) => cell.image[Math.floor(at / 3)]!);
    paint(2 * index, rgb);
    paint(2 * index + 1, maskPicture(cell.masks, pixels));
  });
  return await encodePng(bitmap);
}
