/**
 * The inspection grid of `dsgen inspect`: sample images side by side in one PNG, each upscaled by
 * nearest neighbour and captioned (e.g. `#123 square`) so that a bad sample can be traced back.
 *
 * Layout, top to bottom: a {@linkcode SEPARATOR_WIDTH} frame, an optional title strip and another
 * separator, then rows of cells. A cell is the image (`imageSize * scale` pixels square) above a
 * caption strip, and cells are {@linkcode SEPARATOR_WIDTH} pixels apart. Cells are widened (the
 * image centred) when needed so that the first word of every caption, normally the sample index,
 * shows whole; the rest of a caption is shortened with `…` to fit. Image pixels are exactly
 * gray (red = green = blue); every other colour of the grid ({@linkcode GRID_COLORS}) is not, so a
 * black image still stands out from the separators. Everything is drawn with pureimage, so the
 * same cells give the same PNG bytes. The layout (limits, sizes, where each cell goes) is in
 * `grid_layout.ts`, re-exported here, so that the command line can check flags against it without
 * loading pureimage.
 *
 * @module
 */

import * as PImage from "pureimage";
import { Writable } from "node:stream";
import { drawText, fitText } from "./bitmap_font.ts";
import {
  CAPTION_PADDING,
  cellPosition,
  computeGridLayout,
  GRID_COLORS,
  type GridCell,
  type GridLayout,
  type GridOptions,
  SEPARATOR_WIDTH,
  TITLE_PADDING,
} from "./grid_layout.ts";

export * from "./grid_layout.ts";

/**
 * A pureimage RGBA bitmap (`width * height * 4` bytes in `data`, row-major): what
 * {@linkcode renderGrid} returns and {@linkcode encodePng} takes, named here so that this
 * module's API refers to a documented type.
 */
export type GridBitmap = PImage.Bitmap;

function cssColor(rgb: readonly [number, number, number]): string {
  return "#" + rgb.map((channel) => channel.toString(16).padStart(2, "0")).join("");
}

const GRAY_STYLES: readonly string[] = Array.from(
  { length: 256 },
  (_, level) => cssColor([level, level, level]),
);

/** Checks the cells' types, then (given a valid layout) their number of pixels. */
function checkCells(cells: readonly GridCell[], imageSize?: number): void {
  if (!Array.isArray(cells)) {
    throw new TypeError(`Cannot draw cells of type ${typeof cells}: expected an array`);
  }
  cells.forEach((cell, index) => {
    if (!(cell?.pixels instanceof Uint8Array)) {
      throw new TypeError(`Cannot draw cell ${index}: its pixels must be a Uint8Array`);
    }
    if (imageSize === undefined) return;
    const pixelCount = imageSize * imageSize;
    if (cell.pixels.length !== pixelCount) {
      throw new RangeError(
        `Cannot draw cell ${index}: expected ${pixelCount} pixels (${imageSize}x${imageSize}), got ${cell.pixels.length}`,
      );
    }
  });
}

/**
 * Draws cells into a new pureimage bitmap, as laid out by {@linkcode computeGridLayout}.
 *
 * @param cells From 1 to 10000 images with their captions.
 * @param options Image size, columns, scale, title and caption scale.
 * @returns The RGBA bitmap (opaque), ready for {@linkcode encodePng}.
 * @throws {TypeError} If a cell's pixels are not a `Uint8Array` or its caption not a string.
 * @throws {RangeError} If a cell has the wrong number of pixels or an option is out of range.
 *
 * @example A 2x1 grid of a black and a white image
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellPosition, computeGridLayout, renderGrid } from "./grid.ts";
 *
 * const cells = [
 *   { pixels: new Uint8Array(16).fill(0), caption: "#0" },
 *   { pixels: new Uint8Array(16).fill(255), caption: "#1" },
 * ];
 * const options = { imageSize: 4, scale: 8 };
 * const bitmap = renderGrid(cells, options);
 * const layout = computeGridLayout(cells.map((cell) => cell.caption), options);
 * const { x, y } = cellPosition(layout, 1);
 * assert.equal(bitmap.getPixelRGBA(x + 31, y + 31), 0xffffffff);
 * ```
 */
export function renderGrid(cells: readonly GridCell[], options: GridOptions): GridBitmap {
  checkCells(cells);
  const layout = computeGridLayout(cells.map((cell) => cell.caption), options);
  checkCells(cells, layout.imageSize);

  const bitmap = PImage.make(layout.width, layout.height);
  const ctx = bitmap.getContext("2d");
  ctx.fillStyle = cssColor(GRID_COLORS.separator);
  ctx.fillRect(0, 0, layout.width, layout.height);

  if (layout.titleHeight > 0) {
    ctx.fillStyle = cssColor(GRID_COLORS.stripBackground);
    const stripWidth = layout.width - 2 * SEPARATOR_WIDTH;
    ctx.fillRect(SEPARATOR_WIDTH, SEPARATOR_WIDTH, stripWidth, layout.titleHeight);
    drawText(ctx, layout.title, SEPARATOR_WIDTH + TITLE_PADDING, SEPARATOR_WIDTH + TITLE_PADDING, {
      scale: layout.titleScale,
      color: cssColor(GRID_COLORS.titleText),
    });
  }

  const captionColor = cssColor(GRID_COLORS.captionText);
  const captionWidth = layout.cellWidth - 2 * CAPTION_PADDING;
  cells.forEach((cell, index) => {
    const { x, y, captionX, captionY } = cellPosition(layout, index);
    drawImage(ctx, cell.pixels, x, y, layout);
    ctx.fillStyle = cssColor(GRID_COLORS.stripBackground);
    ctx.fillRect(captionX, captionY, layout.cellWidth, layout.captionHeight);
    const caption = fitText(cell.caption, captionWidth, { scale: layout.captionScale });
    drawText(ctx, caption, captionX + CAPTION_PADDING, captionY + CAPTION_PADDING, {
      scale: layout.captionScale,
      color: captionColor,
    });
  });
  return bitmap;
}

/** Draws one image upscaled, one `fillRect` per run of equal pixels in a source row. */
function drawImage(
  ctx: PImage.Context,
  pixels: Uint8Array,
  x: number,
  y: number,
  layout: GridLayout,
): void {
  const { imageSize, scale } = layout;
  for (let row = 0; row < imageSize; row++) {
    let column = 0;
    while (column < imageSize) {
      const level = pixels[row * imageSize + column] ?? 0;
      const runStart = column;
      while (column < imageSize && pixels[row * imageSize + column] === level) column++;
      ctx.fillStyle = GRAY_STYLES[level] ?? "#000000";
      ctx.fillRect(x + runStart * scale, y + row * scale, (column - runStart) * scale, scale);
    }
  }
}

/**
 * Encodes a pureimage bitmap as PNG bytes in memory (RGBA, 8 bits a channel).
 *
 * @param bitmap The bitmap, e.g. from {@linkcode renderGrid}.
 * @returns The PNG file's bytes; the same bitmap always gives the same bytes.
 * @throws {TypeError} If `bitmap` is not a bitmap with `width * height * 4` bytes of data.
 *
 * @example Encode a small bitmap
 * ```ts
 * import assert from "node:assert/strict";
 * import * as PImage from "pureimage";
 * import { encodePng } from "./grid.ts";
 *
 * const png = await encodePng(PImage.make(3, 2));
 * assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
 * ```
 */
export async function encodePng(bitmap: GridBitmap): Promise<Uint8Array> {
  if (
    !(bitmap instanceof PImage.Bitmap) || !(bitmap.data instanceof Uint8Array) ||
    bitmap.data.length !== bitmap.width * bitmap.height * 4
  ) {
    throw new TypeError("Cannot encode a PNG: expected a pureimage Bitmap with RGBA data");
  }
  const chunks: Uint8Array[] = [];
  const sink = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await PImage.encodePNGToStream(bitmap, sink);
  const bytes = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * Draws cells as a grid and encodes it as PNG: {@linkcode renderGrid} then {@linkcode encodePng}.
 *
 * @param cells From 1 to 10000 images with their captions.
 * @param options Image size, columns, scale, title and caption scale.
 * @returns The PNG file's bytes.
 * @throws {TypeError} If a cell's pixels are not a `Uint8Array` or its caption not a string.
 * @throws {RangeError} If a cell has the wrong number of pixels or an option is out of range.
 *
 * @example Write an inspection grid
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderGridPng } from "./grid.ts";
 *
 * const cells = Array.from({ length: 12 }, (_, index) => ({
 *   pixels: new Uint8Array(16 * 16).fill(index * 20),
 *   caption: `#${index} square`,
 * }));
 * const png = await renderGridPng(cells, { imageSize: 16, title: "shapes v1 seed 7" });
 * assert.equal(png[1], 0x50); // "P" of the PNG signature
 * ```
 */
export async function renderGridPng(
  cells: readonly GridCell[],
  options: GridOptions,
): Promise<Uint8Array> {
  return await encodePng(renderGrid(cells, options));
}
