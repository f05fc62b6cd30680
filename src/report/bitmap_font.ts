/**
 * A tiny bitmap font, authored here, for the captions of the inspection grid.
 *
 * The glyphs live in this source file so that `deno compile` output needs no font file at run
 * time. Every glyph sits in a box {@linkcode GLYPH_WIDTH} pixels wide and {@linkcode GLYPH_HEIGHT}
 * pixels tall: rows 0 to 6 hold capitals and digits (5x7), lowercase letters use rows 2 to 6, and
 * row 7 is the descender row (g, j, p, q, y, comma, underscore). Characters are
 * {@linkcode GLYPH_SPACING} pixel apart. A character without a glyph draws as a box.
 *
 * In {@linkcode GLYPH_SOURCE}, a glyph is its rows from the top, separated by spaces, with `#` for
 * a lit pixel and `.` for an unlit one; a glyph with seven rows has an empty descender row.
 *
 * @module
 */

/** Width of every glyph, in font pixels. */
export const GLYPH_WIDTH = 5;
/** Height of every glyph including its descender row, in font pixels. */
export const GLYPH_HEIGHT = 8;
/** Unlit columns between two neighbouring glyphs, in font pixels. */
export const GLYPH_SPACING = 1;
/** Largest accepted text scale (the size of one font pixel in output pixels). */
export const MAX_TEXT_SCALE = 64;

/** The glyph drawn for any character that {@linkcode GLYPH_SOURCE} lacks: an outlined box. */
export const UNKNOWN_GLYPH_SOURCE = "##### #...# #...# #...# #...# #...# #####";

/**
 * The glyph table: character to rows, top row first, `#` lit and `.` unlit (see the module doc).
 */
export const GLYPH_SOURCE: Readonly<Record<string, string>> = {
  " ": "..... ..... ..... ..... ..... ..... .....",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  "A": ".###. #...# #...# ##### #...# #...# #...#",
  "B": "####. #...# #...# ####. #...# #...# ####.",
  "C": ".###. #...# #.... #.... #.... #...# .###.",
  "D": "###.. #..#. #...# #...# #...# #..#. ###..",
  "E": "##### #.... #.... ####. #.... #.... #####",
  "F": "##### #.... #.... ####. #.... #.... #....",
  "G": ".###. #...# #.... #.### #...# #...# .####",
  "H": "#...# #...# #...# ##### #...# #...# #...#",
  "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
  "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  "L": "#.... #.... #.... #.... #.... #.... #####",
  "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
  "O": ".###. #...# #...# #...# #...# #...# .###.",
  "P": "####. #...# #...# ####. #.... #.... #....",
  "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
  "R": "####. #...# #...# ####. #.#.. #..#. #...#",
  "S": ".#### #.... #.... .###. ....# ....# ####.",
  "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  "U": "#...# #...# #...# #...# #...# #...# .###.",
  "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
  "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  "Z": "##### ....# ...#. ..#.. .#... #.... #####",
  "a": "..... ..... .###. ....# .#### #...# .####",
  "b": "#.... #.... ####. #...# #...# #...# ####.",
  "c": "..... ..... .###. #.... #.... #...# .###.",
  "d": "....# ....# .#### #...# #...# #...# .####",
  "e": "..... ..... .###. #...# ##### #.... .###.",
  "f": "..##. .#..# .#... ###.. .#... .#... .#...",
  "g": "..... ..... .#### #...# #...# .#### ....# .###.",
  "h": "#.... #.... #.##. ##..# #...# #...# #...#",
  "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
  "j": "...#. ..... ..##. ...#. ...#. ...#. #..#. .##..",
  "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
  "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  "m": "..... ..... ##.#. #.#.# #.#.# #.#.# #.#.#",
  "n": "..... ..... #.##. ##..# #...# #...# #...#",
  "o": "..... ..... .###. #...# #...# #...# .###.",
  "p": "..... ..... ####. #...# #...# ####. #.... #....",
  "q": "..... ..... .#### #...# #...# .#### ....# ....#",
  "r": "..... ..... #.##. ##..# #.... #.... #....",
  "s": "..... ..... .###. #.... .###. ....# ####.",
  "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
  "u": "..... ..... #...# #...# #...# #..## .##.#",
  "v": "..... ..... #...# #...# #...# .#.#. ..#..",
  "w": "..... ..... #...# #...# #.#.# #.#.# .#.#.",
  "x": "..... ..... #...# .#.#. ..#.. .#.#. #...#",
  "y": "..... ..... #...# #...# #...# .#### ....# .###.",
  "z": "..... ..... ##### ...#. ..#.. .#... #####",
  "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "_": "..... ..... ..... ..... ..... ..... ..... #####",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  ",": "..... ..... ..... ..... ..... .##.. ..#.. .#...",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  "/": "....# ....# ...#. ..#.. .#... #.... #....",
  "%": "##..# ##..# ...#. ..#.. .#... #..## #..##",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "[": ".###. .#... .#... .#... .#... .#... .###.",
  "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "*": "..... ..#.. #.#.# .###. #.#.# ..#.. .....",
  "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
  ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...",
  "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
  "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
  "'": "..#.. ..#.. .#... ..... ..... ..... .....",
  "\u2026": "..... ..... ..... ..... ..... ..... #.#.#",
};

/** Options for {@linkcode measureText}, {@linkcode fitText} and {@linkcode drawText}. */
export interface TextOptions {
  /** Size of one font pixel in output pixels, an integer from 1 to 64 (default 1). */
  scale?: number;
}

/** Options for {@linkcode drawText}. */
export interface DrawTextOptions extends TextOptions {
  /** CSS colour of the lit pixels, as pureimage's `fillStyle` accepts it (default `"#ffffff"`). */
  color?: string;
}

/** Width and height of a piece of text, in output pixels. */
export interface TextSize {
  /** Width from the first glyph's left edge to the last glyph's right edge (0 for no text). */
  width: number;
  /** Height of a line including the descender row: {@linkcode GLYPH_HEIGHT} times the scale. */
  height: number;
}

/**
 * The part of a 2D drawing context that {@linkcode drawText} uses; pureimage's `Context` has it.
 */
export interface TextCanvas {
  /** Colour of the following `fillRect` calls. */
  fillStyle: string;
  /** Fills a rectangle with the current `fillStyle`. */
  fillRect(x: number, y: number, width: number, height: number): void;
}

/**
 * Parses one entry of {@linkcode GLYPH_SOURCE} into one bit mask per row, the leftmost pixel in
 * the highest bit ({@linkcode GLYPH_WIDTH} bits per row, {@linkcode GLYPH_HEIGHT} rows).
 *
 * @param source Rows separated by spaces, `#` lit and `.` unlit, 7 or 8 rows of 5 characters.
 * @returns The row masks, padded with empty rows to {@linkcode GLYPH_HEIGHT}.
 * @throws {RangeError} If a row has the wrong width or characters, or there are too many rows.
 *
 * @example Parse a glyph
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGlyph } from "./bitmap_font.ts";
 *
 * const rows = parseGlyph("#.... ..... ..... ..... ..... ..... ....#");
 * assert.deepEqual(Array.from(rows), [0b10000, 0, 0, 0, 0, 0, 0b00001, 0]);
 * ```
 */
export function parseGlyph(source: string): Uint8Array {
  const rowTexts = source.split(" ");
  if (rowTexts.length < GLYPH_HEIGHT - 1 || rowTexts.length > GLYPH_HEIGHT) {
    throw new RangeError(
      `Cannot parse glyph "${source}": expected ${
        GLYPH_HEIGHT - 1
      } or ${GLYPH_HEIGHT} rows, got ${rowTexts.length}`,
    );
  }
  const rows = new Uint8Array(GLYPH_HEIGHT);
  rowTexts.forEach((rowText, rowIndex) => {
    if (!new RegExp(`^[#.]{${GLYPH_WIDTH}}$`).test(rowText)) {
      throw new RangeError(
        `Cannot parse glyph "${source}": row ${rowIndex} "${rowText}" must be ${GLYPH_WIDTH} characters of "#" or "."`,
      );
    }
    let mask = 0;
    for (const pixel of rowText) mask = (mask << 1) | (pixel === "#" ? 1 : 0);
    rows[rowIndex] = mask;
  });
  return rows;
}

const UNKNOWN_GLYPH = parseGlyph(UNKNOWN_GLYPH_SOURCE);
const GLYPHS: ReadonlyMap<string, Uint8Array> = new Map(
  Object.entries(GLYPH_SOURCE).map(([char, source]) => [char, parseGlyph(source)]),
);

/**
 * Returns the row masks of the glyph for one character, or the box glyph if there is none.
 *
 * @param char One character (one code point).
 * @returns {@linkcode GLYPH_HEIGHT} row masks, leftmost pixel in the highest of
 * {@linkcode GLYPH_WIDTH} bits. The array is shared: do not modify it.
 *
 * @example Look up glyphs
 * ```ts
 * import assert from "node:assert/strict";
 * import { glyphRows, GLYPH_HEIGHT } from "./bitmap_font.ts";
 *
 * assert.equal(glyphRows("-")[3], 0b11111);
 * assert.equal(glyphRows("\u{1F600}")[0], 0b11111); // no glyph: the box
 * assert.equal(glyphRows("a").length, GLYPH_HEIGHT);
 * ```
 */
export function glyphRows(char: string): Uint8Array {
  return GLYPHS.get(char) ?? UNKNOWN_GLYPH;
}

function checkScale(options: TextOptions | undefined): number {
  const scale = options?.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_TEXT_SCALE) {
    throw new RangeError(
      `Cannot use text scale ${scale}: expected an integer from 1 to ${MAX_TEXT_SCALE}`,
    );
  }
  return scale;
}

function checkText(text: unknown): string {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot use text of type ${typeof text}: expected a string`);
  }
  return text;
}

/** Width in output pixels of `charCount` glyphs at `scale`. */
function widthOfChars(charCount: number, scale: number): number {
  return charCount === 0 ? 0 : (charCount * (GLYPH_WIDTH + GLYPH_SPACING) - GLYPH_SPACING) * scale;
}

/**
 * Measures a single line of text as {@linkcode drawText} would draw it. Characters are counted by
 * code point, so an emoji is one (box) glyph.
 *
 * @param text The text.
 * @param options The text scale.
 * @returns Width and height in output pixels.
 * @throws {TypeError} If `text` is not a string.
 * @throws {RangeError} If the scale is not an integer from 1 to 64.
 *
 * @example Measure a caption
 * ```ts
 * import assert from "node:assert/strict";
 * import { measureText } from "./bitmap_font.ts";
 *
 * assert.deepEqual(measureText("#12 square"), { width: 59, height: 8 });
 * assert.deepEqual(measureText("ab", { scale: 2 }), { width: 22, height: 16 });
 * assert.deepEqual(measureText(""), { width: 0, height: 8 });
 * ```
 */
export function measureText(text: string, options: TextOptions = {}): TextSize {
  const scale = checkScale(options);
  const charCount = Array.from(checkText(text)).length;
  return { width: widthOfChars(charCount, scale), height: GLYPH_HEIGHT * scale };
}

/**
 * Shortens text to fit a width: if it is too wide, keeps the longest start that fits followed by
 * an ellipsis glyph (`…`), so the start of a caption (such as a sample index) survives. The first
 * word is never cut if it fits alone: then it is kept whole, without the ellipsis if need be.
 *
 * @param text The text.
 * @param maxWidth The available width in output pixels (0 or more).
 * @param options The text scale.
 * @returns `text` itself if it fits, else a shortened copy, possibly empty.
 * @throws {TypeError} If `text` is not a string.
 * @throws {RangeError} If `maxWidth` is negative or not finite, or the scale is invalid.
 *
 * @example Abbreviate a caption to a cell width
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitText } from "./bitmap_font.ts";
 *
 * assert.equal(fitText("#123 square", 100), "#123 square");
 * assert.equal(fitText("#123 square", 47), "#123 sq\u2026");
 * assert.equal(fitText("#123 square", 29), "#123\u2026");
 * assert.equal(fitText("#123 square", 23), "#123"); // no room for the ellipsis
 * assert.equal(fitText("#123 square", 17), "#1\u2026");
 * assert.equal(fitText("#123 square", 4), "");
 * ```
 */
export function fitText(text: string, maxWidth: number, options: TextOptions = {}): string {
  const scale = checkScale(options);
  const chars = Array.from(checkText(text));
  if (!Number.isFinite(maxWidth) || maxWidth < 0) {
    throw new RangeError(`Cannot fit text to width ${maxWidth}: expected a number of 0 or more`);
  }
  const maxChars = Math.floor(
    (maxWidth + GLYPH_SPACING * scale) / ((GLYPH_WIDTH + GLYPH_SPACING) * scale),
  );
  if (chars.length <= maxChars) return text;
  if (maxChars <= 1) return chars.slice(0, maxChars).join("");
  const firstWordLength = chars.indexOf(" ") === -1 ? chars.length : chars.indexOf(" ");
  if (maxChars - 1 < firstWordLength && firstWordLength <= maxChars) {
    return chars.slice(0, firstWordLength).join("");
  }
  return chars.slice(0, maxChars - 1).join("").trimEnd() + "\u2026";
}

/**
 * Draws a single line of text with one `fillRect` per run of lit pixels in a glyph row. The top
 * left corner of the first glyph's box is at (`x`, `y`); descenders reach down to
 * `y + height - 1` with the height of {@linkcode measureText}.
 *
 * @param ctx A pureimage context, or anything with `fillStyle` and `fillRect`.
 * @param text The text; characters without a glyph draw as a box.
 * @param x Left edge in output pixels.
 * @param y Top edge in output pixels.
 * @param options Text scale and colour.
 * @returns The width drawn, as {@linkcode measureText} gives it.
 * @throws {TypeError} If `text` is not a string.
 * @throws {RangeError} If `x` or `y` is not finite, or the scale is invalid.
 *
 * @example Draw text with pureimage
 * ```ts
 * import * as PImage from "pureimage";
 * import assert from "node:assert/strict";
 * import { drawText } from "./bitmap_font.ts";
 *
 * const bitmap = PImage.make(40, 10);
 * const width = drawText(bitmap.getContext("2d"), "1-2", 1, 1, { color: "#ff0000" });
 * assert.equal(width, 17);
 * assert.equal(bitmap.getPixelRGBA(1 + 6, 1 + 3), 0xff0000ff); // the dash of "-"
 * ```
 */
export function drawText(
  ctx: TextCanvas,
  text: string,
  x: number,
  y: number,
  options: DrawTextOptions = {},
): number {
  const scale = checkScale(options);
  const chars = Array.from(checkText(text));
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    throw new RangeError(`Cannot draw text at (${x}, ${y}): expected finite coordinates`);
  }
  ctx.fillStyle = options.color ?? "#ffffff";
  chars.forEach((char, charIndex) => {
    const glyphX = x + charIndex * (GLYPH_WIDTH + GLYPH_SPACING) * scale;
    glyphRows(char).forEach((mask, row) => {
      let column = 0;
      while (column < GLYPH_WIDTH) {
        if (!isLit(mask, column)) {
          column++;
          continue;
        }
        const runStart = column;
        while (column < GLYPH_WIDTH && isLit(mask, column)) column++;
        ctx.fillRect(
          glyphX + runStart * scale,
          y + row * scale,
          (column - runStart) * scale,
          scale,
        );
      }
    });
  });
  return widthOfChars(chars.length, scale);
}

function isLit(mask: number, column: number): boolean {
  return ((mask >> (GLYPH_WIDTH - 1 - column)) & 1) === 1;
}
