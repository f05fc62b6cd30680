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
import { deflateSync } from "node:zlib";
import { crc32 } from "../format/crc32.ts";
import { drawText, fitText, type TextCanvas } from "./bitmap_font.ts";
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
  const ctx = solidCanvas(bitmap);
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

/**
 * Fills rectangles of opaque `#rrggbb` colours by writing the bitmap's bytes, a row at a time:
 * pureimage's context composites each pixel through several JavaScript calls, which took a
 * third of `dsgen inspect`'s drawing. Any other rectangle or colour goes to pureimage's.
 */
function solidCanvas(bitmap: GridBitmap): TextCanvas {
  const ctx = bitmap.getContext("2d");
  const { width, height, data } = bitmap;
  const pixel = new Uint8Array(4);
  let style = "#000000";
  let solid = true;
  return {
    get fillStyle() {
      return style;
    },
    set fillStyle(value: string) {
      style = value;
      ctx.fillStyle = value;
      solid = /^#[0-9a-fA-F]{6}$/.test(value);
      if (solid) {
        for (let channel = 0; channel < 3; channel++) {
          pixel[channel] = parseInt(value.slice(1 + 2 * channel, 3 + 2 * channel), 16);
        }
        pixel[3] = 255;
      }
    },
    fillRect(x: number, y: number, w: number, h: number) {
      if (!solid || ![x, y, w, h].every(Number.isInteger)) return ctx.fillRect(x, y, w, h);
      const left = Math.max(0, x), right = Math.min(width, x + w);
      const top = Math.max(0, y), bottom = Math.min(height, y + h);
      if (left >= right || top >= bottom) return;
      // The first row pixel by pixel, doubling; the other rows copy it.
      const rowStart = (top * width + left) * 4, rowEnd = (top * width + right) * 4;
      data.set(pixel, rowStart);
      for (let filled = 4; rowStart + filled < rowEnd; filled *= 2) {
        data.copyWithin(rowStart + filled, rowStart, Math.min(rowStart + filled, rowEnd - filled));
      }
      for (let row = top + 1; row < bottom; row++) {
        data.copyWithin((row * width + left) * 4, rowStart, rowEnd);
      }
    },
  };
}

/** Draws one image upscaled, one `fillRect` per run of equal pixels in a source row. */
function drawImage(
  ctx: TextCanvas,
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
export function encodePng(bitmap: GridBitmap): Promise<Uint8Array> {
  if (
    !(bitmap instanceof PImage.Bitmap) || !(bitmap.data instanceof Uint8Array) ||
    bitmap.data.length !== bitmap.width * bitmap.height * 4
  ) {
    return Promise.reject(
      new TypeError("Cannot encode a PNG: expected a pureimage Bitmap with RGBA data"),
    );
  }
  // Each row behind filter byte 0 (none), compressed by zlib at native speed: pureimage's
  // encoder (pngjs) tried five filters per row in JavaScript, a quarter of `dsgen inspect`'s
  // time on a 16x16 grid.
  const { width, height, data } = bitmap;
  const rowBytes = width * 4;
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let row = 0; row < height; row++) {
    raw.set(data.subarray(row * rowBytes, (row + 1) * rowBytes), row * (rowBytes + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits a channel, RGBA, deflate, adaptive filters, no interlace
  const chunks = [
    pngChunk("IHDR", header),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  const bytes = new Uint8Array(
    PNG_SIGNATURE.length + chunks.reduce((total, chunk) => total + chunk.length, 0),
  );
  bytes.set(PNG_SIGNATURE);
  let offset = PNG_SIGNATURE.length;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return Promise.resolve(bytes);
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** A PNG chunk: length, type, data, and the CRC-32 of type and data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(new TextEncoder().encode(type), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
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
