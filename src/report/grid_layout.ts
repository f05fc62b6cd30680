/**
 * The inspection grid's layout, apart from its drawing (`grid.ts`, which loads pureimage): the
 * limits, the colours, the sizes of cells, captions and title, and where each cell goes. The
 * command line checks `dsgen inspect`'s flags against it without loading pureimage, which
 * costs every command's start about 15 ms.
 *
 * @module
 */

import { fitText, GLYPH_HEIGHT, measureText } from "./bitmap_font.ts";

/** Width of the separators between cells and of the outer frame, in pixels. */
export const SEPARATOR_WIDTH = 2;
/** Space between the caption text and the edges of its strip, in pixels. */
export const CAPTION_PADDING = 2;
/** Space between the title text and the edges of its strip, in pixels. */
export const TITLE_PADDING = 4;
/** Smallest and largest accepted side of a source image, in pixels. */
export const IMAGE_SIZE_RANGE = { min: 4, max: 256 } as const;
/** Largest accepted upscaling factor. */
export const MAX_SCALE = 64;
/** Largest accepted caption scale. */
export const MAX_CAPTION_SCALE = 8;
/** Longest first word of a caption that a cell is widened for, in characters. */
export const MAX_CAPTION_KEY_CHARS = 12;
/** Largest accepted number of cells. */
export const MAX_CELLS = 10_000;
/** Largest accepted number of columns. */
export const MAX_COLUMNS = 1_000;
/** Largest accepted grid, in pixels (width times height), to bound memory (4 bytes a pixel). */
export const MAX_GRID_PIXELS = 40_000_000;

/** The parts of a grid that have a colour of their own. */
export type GridColorName = "separator" | "stripBackground" | "captionText" | "titleText";

/** The colours of everything that is not an image, as `[red, green, blue]`; none is gray. */
export const GRID_COLORS: Readonly<Record<GridColorName, readonly [number, number, number]>> = {
  /** Separators, outer frame and empty slots: dark slate blue. */
  separator: [51, 65, 92],
  /** Background of caption and title strips: near-black navy. */
  stripBackground: [20, 26, 38],
  /** Caption text: warm yellow. */
  captionText: [255, 216, 102],
  /** Title text: pale blue. */
  titleText: [214, 228, 255],
};

/** One image of the grid and its caption. */
export interface GridCell {
  /** Gray levels 0-255, row-major, `imageSize * imageSize` of them. */
  pixels: Uint8Array;
  /** Text under the image, e.g. `#123 square`; shortened with `…` if wider than the cell. */
  caption: string;
}

/** Options for {@linkcode computeGridLayout}, {@linkcode renderGrid} and {@linkcode renderGridPng}. */
export interface GridOptions {
  /** Side of every source image in pixels, an integer from 4 to 256. */
  imageSize: number;
  /** Cells per row, an integer from 1 to 1000 (default 10); fewer cells than that make one row. */
  columns?: number;
  /** Nearest-neighbour upscaling factor, an integer from 1 to 64 (default 8). */
  scale?: number;
  /** Text of a title strip above the cells, e.g. dataset, version and sampling seed. */
  title?: string;
  /** Size of a caption font pixel in output pixels, an integer from 1 to 8 (default 1). */
  captionScale?: number;
}

/** Where everything goes in a grid; see {@linkcode computeGridLayout}. */
export interface GridLayout {
  /** Width of the whole grid in pixels. */
  width: number;
  /** Height of the whole grid in pixels. */
  height: number;
  /** Number of cells. */
  cellCount: number;
  /** Cells per row actually used (never more than the number of cells). */
  columns: number;
  /** Number of rows of cells. */
  rows: number;
  /** Side of a source image in pixels. */
  imageSize: number;
  /** Upscaling factor. */
  scale: number;
  /** Side of an upscaled image in pixels. */
  cellSize: number;
  /** Width of a cell and its caption strip in pixels: at least `cellSize`, more for captions. */
  cellWidth: number;
  /** Height of the caption strip under each image in pixels. */
  captionHeight: number;
  /** Size of a caption font pixel. */
  captionScale: number;
  /** The title as it will be drawn (shortened to fit), or `""` for no title strip. */
  title: string;
  /** Size of a title font pixel (0 without a title). */
  titleScale: number;
  /** Height of the title strip in pixels (0 without a title). */
  titleHeight: number;
}

/** Where one cell sits in a grid, in pixels from the top left corner. */
export interface CellPosition {
  /** Left edge of the image. */
  x: number;
  /** Top edge of the image. */
  y: number;
  /** Left edge of the caption strip (and of the cell). */
  captionX: number;
  /** Top edge of the caption strip, just under the image. */
  captionY: number;
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot use ${name} ${String(value)}: expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * Computes the size of a grid and where its parts go, without drawing anything. The captions
 * matter only for the cell width: it grows, if needed, to fit the first word of every caption
 * (up to {@linkcode MAX_CAPTION_KEY_CHARS} characters of it).
 *
 * @param captions The caption of every cell, from 1 to 10000 of them.
 * @param options Image size, columns, scale, title and caption scale.
 * @returns The layout; see {@linkcode cellPosition} for the place of each cell.
 * @throws {TypeError} If `captions` is not an array of strings or the title is not a string.
 * @throws {RangeError} If a number is out of range or the grid would exceed
 * {@linkcode MAX_GRID_PIXELS}.
 *
 * @example 100 images of 16x16 pixels at scale 8
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeGridLayout } from "./grid_layout.ts";
 *
 * const captions = Array.from({ length: 100 }, (_, index) => `#${index} square`);
 * const layout = computeGridLayout(captions, { imageSize: 16 });
 * assert.equal(layout.columns, 10);
 * assert.equal(layout.rows, 10);
 * assert.equal(layout.cellSize, 128);
 * assert.equal(layout.cellWidth, 128);
 * assert.equal(layout.width, 2 + 10 * (128 + 2));
 * assert.equal(layout.height, 2 + 10 * (128 + layout.captionHeight + 2));
 * ```
 */
export function computeGridLayout(
  captions: readonly string[],
  options: GridOptions,
): GridLayout {
  if (!Array.isArray(captions)) {
    throw new TypeError(`Cannot lay out captions of type ${typeof captions}: expected an array`);
  }
  const cellCount = checkInteger("cell count", captions.length, 1, MAX_CELLS);
  const imageSize = checkInteger(
    "image size",
    options.imageSize,
    IMAGE_SIZE_RANGE.min,
    IMAGE_SIZE_RANGE.max,
  );
  const scale = checkInteger("scale", options.scale ?? 8, 1, MAX_SCALE);
  const columnsWanted = checkInteger("columns", options.columns ?? 10, 1, MAX_COLUMNS);
  const captionScale = checkInteger(
    "caption scale",
    options.captionScale ?? 1,
    1,
    MAX_CAPTION_SCALE,
  );
  const rawTitle = options.title ?? "";
  if (typeof rawTitle !== "string") {
    throw new TypeError(`Cannot use a title of type ${typeof rawTitle}: expected a string`);
  }

  const columns = Math.min(columnsWanted, cellCount);
  const rows = Math.ceil(cellCount / columns);
  const cellSize = imageSize * scale;
  const captionHeight = GLYPH_HEIGHT * captionScale + 2 * CAPTION_PADDING;
  let cellWidth = cellSize;
  captions.forEach((caption, index) => {
    if (typeof caption !== "string") {
      throw new TypeError(`Cannot draw cell ${index}: its caption must be a string`);
    }
    const key = Array.from(caption.split(" ", 1)[0] ?? "").slice(0, MAX_CAPTION_KEY_CHARS);
    const keyWidth = measureText(key.join(""), { scale: captionScale }).width;
    cellWidth = Math.max(cellWidth, keyWidth + 2 * CAPTION_PADDING);
  });
  const width = SEPARATOR_WIDTH + columns * (cellWidth + SEPARATOR_WIDTH);

  let title = "";
  let titleScale = 0;
  let titleHeight = 0;
  if (rawTitle !== "") {
    // A title twice the caption size reads as a heading; fall back to caption size if too wide.
    const titleWidth = Math.max(0, width - 2 * SEPARATOR_WIDTH - 2 * TITLE_PADDING);
    const bigScale = 2 * captionScale;
    titleScale = measureText(rawTitle, { scale: bigScale }).width <= titleWidth
      ? bigScale
      : captionScale;
    title = fitText(rawTitle, titleWidth, { scale: titleScale });
    titleHeight = GLYPH_HEIGHT * titleScale + 2 * TITLE_PADDING;
  }
  const titleBlock = titleHeight === 0 ? 0 : titleHeight + SEPARATOR_WIDTH;
  const height = SEPARATOR_WIDTH + titleBlock +
    rows * (cellSize + captionHeight + SEPARATOR_WIDTH);

  if (width * height > MAX_GRID_PIXELS) {
    throw new RangeError(
      `Cannot draw a grid of ${width}x${height} pixels: expected at most ${MAX_GRID_PIXELS} pixels, use a smaller scale or fewer cells`,
    );
  }
  return {
    width,
    height,
    cellCount,
    columns,
    rows,
    imageSize,
    scale,
    cellSize,
    cellWidth,
    captionHeight,
    captionScale,
    title,
    titleScale,
    titleHeight,
  };
}

/**
 * Gives where cell `index` (counted row by row from the top left) sits in a grid.
 *
 * @param layout A layout from {@linkcode computeGridLayout}.
 * @param index The cell's index, an integer from 0 to `layout.cellCount - 1`.
 * @returns The image's top left corner and the top of its caption strip.
 * @throws {RangeError} If `index` is out of range.
 *
 * @example The second cell of the second row
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellPosition, computeGridLayout } from "./grid_layout.ts";
 *
 * const captions = ["#0", "#1", "#2", "#3"];
 * const layout = computeGridLayout(captions, { imageSize: 8, columns: 2, scale: 2 });
 * const position = cellPosition(layout, 3);
 * assert.equal(position.x, 2 + (16 + 2));
 * assert.equal(position.y, 2 + (16 + layout.captionHeight + 2));
 * assert.equal(position.captionX, position.x);
 * assert.equal(position.captionY, position.y + 16);
 * ```
 */
export function cellPosition(layout: GridLayout, index: number): CellPosition {
  checkInteger("cell index", index, 0, layout.cellCount - 1);
  const column = index % layout.columns;
  const row = Math.floor(index / layout.columns);
  const titleBlock = layout.titleHeight === 0 ? 0 : layout.titleHeight + SEPARATOR_WIDTH;
  const captionX = SEPARATOR_WIDTH + column * (layout.cellWidth + SEPARATOR_WIDTH);
  const x = captionX + Math.floor((layout.cellWidth - layout.cellSize) / 2);
  const y = SEPARATOR_WIDTH + titleBlock +
    row * (layout.cellSize + layout.captionHeight + SEPARATOR_WIDTH);
  return { x, y, captionX, captionY: y + layout.cellSize };
}
