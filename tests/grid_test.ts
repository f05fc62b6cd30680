import assert from "node:assert/strict";
import { Readable } from "node:stream";
import * as PImage from "pureimage";
import {
  drawText,
  fitText,
  GLYPH_HEIGHT,
  GLYPH_SOURCE,
  GLYPH_WIDTH,
  glyphRows,
  measureText,
  parseGlyph,
  type TextCanvas,
} from "../src/report/bitmap_font.ts";
import {
  CAPTION_PADDING,
  cellPosition,
  computeGridLayout,
  encodePng,
  GRID_COLORS,
  type GridCell,
  type GridOptions,
  renderGrid,
  renderGridPng,
  SEPARATOR_WIDTH,
} from "../src/report/grid.ts";

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** A deterministic pseudo-random image, different for every `seed`. */
function noiseImage(imageSize: number, seed: number): Uint8Array {
  const pixels = new Uint8Array(imageSize * imageSize);
  let state = seed * 2654435761 + 1;
  for (let index = 0; index < pixels.length; index++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[index] = state >>> 24;
  }
  return pixels;
}

function makeCells(count: number, imageSize: number): GridCell[] {
  return Array.from({ length: count }, (_, index) => ({
    pixels: noiseImage(imageSize, index),
    caption: `#${index} square`,
  }));
}

function layoutOf(cells: GridCell[], options: GridOptions) {
  return computeGridLayout(cells.map((cell) => cell.caption), options);
}

function rgbAt(bitmap: PImage.Bitmap, x: number, y: number): [number, number, number] {
  const offset = (y * bitmap.width + x) * 4;
  return [bitmap.data[offset]!, bitmap.data[offset + 1]!, bitmap.data[offset + 2]!];
}

/** Counts pixels of the colour `rgb` in a rectangle. */
function countColor(
  bitmap: PImage.Bitmap,
  rect: { x: number; y: number; width: number; height: number },
  rgb: readonly number[],
): number {
  let count = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    for (let x = rect.x; x < rect.x + rect.width; x++) {
      if (rgbAt(bitmap, x, y).every((channel, index) => channel === rgb[index])) count++;
    }
  }
  return count;
}

async function decodePng(bytes: Uint8Array): Promise<PImage.Bitmap> {
  return await PImage.decodePNGFromStream(Readable.from([bytes]));
}

Deno.test("computeGridLayout() sizes a 10x10 grid of 16x16 images at scale 8", () => {
  const layout = layoutOf(makeCells(100, 16), { imageSize: 16 });
  assert.equal(layout.columns, 10);
  assert.equal(layout.rows, 10);
  assert.equal(layout.cellSize, 128);
  assert.equal(layout.cellWidth, 128);
  assert.equal(layout.captionHeight, GLYPH_HEIGHT + 2 * CAPTION_PADDING);
  assert.equal(layout.width, 2 + 10 * 130);
  assert.equal(layout.height, 2 + 10 * (128 + layout.captionHeight + 2));
  assert.equal(layout.titleHeight, 0);
});

Deno.test("computeGridLayout() handles partial rows, few cells and a title", () => {
  const seven = layoutOf(makeCells(7, 8), { imageSize: 8, columns: 3, scale: 4 });
  assert.equal(seven.columns, 3);
  assert.equal(seven.rows, 3);
  assert.equal(seven.width, 2 + 3 * (32 + 2));

  const two = layoutOf(makeCells(2, 8), { imageSize: 8, scale: 4 });
  assert.equal(two.columns, 2);
  assert.equal(two.rows, 1);

  const untitled = layoutOf(makeCells(100, 16), { imageSize: 16 });
  const titled = layoutOf(makeCells(100, 16), { imageSize: 16, title: "shapes v1 seed 7" });
  assert.equal(titled.title, "shapes v1 seed 7");
  assert.equal(titled.titleScale, 2);
  assert.ok(titled.titleHeight >= 2 * GLYPH_HEIGHT);
  assert.equal(titled.height, untitled.height + titled.titleHeight + SEPARATOR_WIDTH);
  assert.equal(
    cellPosition(titled, 0).y,
    cellPosition(untitled, 0).y + titled.height -
      untitled.height,
  );
});

Deno.test("computeGridLayout() widens cells so that the sample index shows whole", () => {
  const layout = computeGridLayout(["#0 a", "#123456 long class name"], {
    imageSize: 4,
    scale: 2,
  });
  assert.equal(layout.cellSize, 8);
  assert.equal(layout.cellWidth, measureText("#123456").width + 2 * CAPTION_PADDING);
  const position = cellPosition(layout, 1);
  assert.equal(position.x - position.captionX, Math.floor((layout.cellWidth - 8) / 2));
  assert.equal(
    fitText("#123456 long class name", layout.cellWidth - 2 * CAPTION_PADDING),
    "#123456",
  );
});

Deno.test("renderGrid() produces a bitmap of the layout's size", () => {
  for (const [count, columns, scale] of [[1, 10, 8], [7, 3, 2], [100, 10, 8], [23, 5, 1]]) {
    const cells = makeCells(count!, 16);
    const options = { imageSize: 16, columns, scale };
    const bitmap = renderGrid(cells, options);
    const layout = layoutOf(cells, options);
    assert.equal(bitmap.width, layout.width);
    assert.equal(bitmap.height, layout.height);
  }
});

Deno.test("renderGrid() upscales every source pixel to an exact gray block", () => {
  const imageSize = 16;
  const scale = 3;
  const cells = makeCells(12, imageSize);
  const options = { imageSize, columns: 5, scale, title: "noise" };
  const bitmap = renderGrid(cells, options);
  const layout = layoutOf(cells, options);
  cells.forEach((cell, index) => {
    const { x, y } = cellPosition(layout, index);
    for (let row = 0; row < imageSize * scale; row++) {
      for (let column = 0; column < imageSize * scale; column++) {
        const level = cell.pixels[Math.floor(row / scale) * imageSize + Math.floor(column / scale)];
        const offset = ((y + row) * bitmap.width + x + column) * 4;
        assert.deepEqual(
          Array.from(bitmap.data.subarray(offset, offset + 4)),
          [level, level, level, 255],
          `cell ${index}, pixel (${column}, ${row})`,
        );
      }
    }
  });
});

Deno.test("renderGrid() keeps a specific pixel block, black images and white images exact", () => {
  const pixels = new Uint8Array(16 * 16);
  pixels[5 * 16 + 9] = 200; // row 5, column 9
  const cells = [
    { pixels, caption: "#0 dot" },
    { pixels: new Uint8Array(256), caption: "#1 black" },
    { pixels: new Uint8Array(256).fill(255), caption: "#2 white" },
  ];
  const bitmap = renderGrid(cells, { imageSize: 16 });
  const layout = layoutOf(cells, { imageSize: 16 });
  const { x, y } = cellPosition(layout, 0);
  assert.equal(
    countColor(bitmap, { x: x + 72, y: y + 40, width: 8, height: 8 }, [200, 200, 200]),
    64,
  );
  assert.deepEqual(rgbAt(bitmap, x + 71, y + 40), [0, 0, 0]);
  assert.deepEqual(rgbAt(bitmap, x + 80, y + 47), [0, 0, 0]);
  const black = cellPosition(layout, 1);
  assert.equal(countColor(bitmap, { ...black, width: 128, height: 128 }, [0, 0, 0]), 128 * 128);
  const white = cellPosition(layout, 2);
  assert.equal(
    countColor(bitmap, { ...white, width: 128, height: 128 }, [255, 255, 255]),
    128 * 128,
  );
});

Deno.test("renderGrid() draws separators that differ from black and from any gray", () => {
  const [red, green, blue] = GRID_COLORS.separator;
  assert.ok(red !== green || green !== blue, "Separator colour must not be gray");
  for (const rgb of Object.values(GRID_COLORS)) {
    assert.ok(rgb[0] !== rgb[1] || rgb[1] !== rgb[2], `${rgb} must not be gray`);
  }
  const cells = makeCells(7, 8).map((cell) => ({ ...cell, pixels: new Uint8Array(64) }));
  const options = { imageSize: 8, columns: 3, scale: 4 };
  const bitmap = renderGrid(cells, options);
  const layout = layoutOf(cells, options);
  // Outer frame.
  assert.deepEqual(rgbAt(bitmap, 0, 0), GRID_COLORS.separator);
  assert.deepEqual(rgbAt(bitmap, bitmap.width - 1, bitmap.height - 1), GRID_COLORS.separator);
  // Vertical separator between cells 0 and 1, for the whole height of a cell.
  const first = cellPosition(layout, 0);
  const second = cellPosition(layout, 1);
  assert.equal(second.captionX - (first.captionX + layout.cellWidth), SEPARATOR_WIDTH);
  const cellHeight = layout.cellSize + layout.captionHeight;
  const verticalSeparator = {
    x: first.captionX + layout.cellWidth,
    y: first.y,
    width: SEPARATOR_WIDTH,
    height: cellHeight,
  };
  assert.equal(
    countColor(bitmap, verticalSeparator, GRID_COLORS.separator),
    SEPARATOR_WIDTH * cellHeight,
  );
  // Horizontal separator under the first row.
  const below = cellPosition(layout, 3);
  const horizontalSeparator = {
    x: 0,
    y: below.y - SEPARATOR_WIDTH,
    width: bitmap.width,
    height: SEPARATOR_WIDTH,
  };
  assert.equal(
    countColor(bitmap, horizontalSeparator, GRID_COLORS.separator),
    SEPARATOR_WIDTH * bitmap.width,
  );
  // A black image pixel next to the separator stays black.
  assert.deepEqual(rgbAt(bitmap, first.x + layout.cellSize - 1, first.y), [0, 0, 0]);
  // The two empty slots of the last row are separator colour.
  const lastSlot = { x: cellPosition(layout, 6).captionX + layout.cellWidth };
  assert.deepEqual(
    rgbAt(bitmap, lastSlot.x + 5, cellPosition(layout, 6).y + 5),
    GRID_COLORS.separator,
  );
});

Deno.test("renderGrid() puts caption pixels in the caption strip, none for an empty caption", () => {
  const cells = [
    { pixels: new Uint8Array(256), caption: "#7 circle" },
    { pixels: new Uint8Array(256), caption: "" },
    { pixels: new Uint8Array(256), caption: "#8 " + "very_long_class_name_".repeat(8) },
  ];
  const options = { imageSize: 16, scale: 8 };
  const bitmap = renderGrid(cells, options);
  const layout = layoutOf(cells, options);
  const stripOf = (index: number) => {
    const { captionX, captionY } = cellPosition(layout, index);
    return { x: captionX, y: captionY, width: layout.cellWidth, height: layout.captionHeight };
  };
  const strip = stripOf(0);
  const stripArea = strip.width * strip.height;
  const lit = countColor(bitmap, strip, GRID_COLORS.captionText);
  assert.ok(lit > 20, `Expected caption pixels, got ${lit}`);
  assert.equal(lit + countColor(bitmap, strip, GRID_COLORS.stripBackground), stripArea);
  // Text starts after the padding and never touches the image.
  assert.equal(
    countColor(bitmap, { ...strip, height: CAPTION_PADDING }, GRID_COLORS.captionText),
    0,
  );

  const empty = stripOf(1);
  assert.equal(countColor(bitmap, empty, GRID_COLORS.captionText), 0);
  assert.equal(countColor(bitmap, empty, GRID_COLORS.stripBackground), stripArea);

  // A long caption is cut before the edge of its strip.
  const long = stripOf(2);
  assert.ok(countColor(bitmap, long, GRID_COLORS.captionText) > 0);
  assert.equal(
    countColor(bitmap, {
      ...long,
      x: long.x + long.width - CAPTION_PADDING,
      width: CAPTION_PADDING,
    }, GRID_COLORS.captionText),
    0,
  );
  assert.equal(
    countColor(bitmap, { x: 0, y: 0, width: bitmap.width, height: 2 }, GRID_COLORS.captionText),
    0,
  );
});

Deno.test("renderGrid() draws the title in the title strip", () => {
  const cells = makeCells(3, 8);
  const options = { imageSize: 8, scale: 8, title: "shapes v1.0.0 seed=7" };
  const bitmap = renderGrid(cells, options);
  const layout = layoutOf(cells, options);
  const titleStrip = {
    x: SEPARATOR_WIDTH,
    y: SEPARATOR_WIDTH,
    width: layout.width - 2 * SEPARATOR_WIDTH,
    height: layout.titleHeight,
  };
  assert.ok(countColor(bitmap, titleStrip, GRID_COLORS.titleText) > 50);
});

Deno.test("renderGrid() validates its inputs", () => {
  const cells = makeCells(4, 16);
  for (
    const options of [
      { imageSize: 3 },
      { imageSize: 257 },
      { imageSize: 16.5 },
      { imageSize: 16, scale: 0 },
      { imageSize: 16, scale: 65 },
      { imageSize: 16, scale: 1.5 },
      { imageSize: 16, columns: 0 },
      { imageSize: 16, captionScale: 9 },
    ]
  ) {
    assert.throws(() => renderGrid(cells, options), RangeError, JSON.stringify(options));
  }
  assert.throws(() => renderGrid([], { imageSize: 16 }), RangeError);
  assert.throws(
    () => renderGrid([{ pixels: new Uint8Array(255), caption: "#0" }], { imageSize: 16 }),
    { name: "RangeError", message: "Cannot draw cell 0: expected 256 pixels (16x16), got 255" },
  );
  assert.throws(() => renderGrid(makeCells(4, 256), { imageSize: 256, scale: 64 }), RangeError);
  assert.throws(
    () =>
      renderGrid([{ pixels: [0, 0] as unknown as Uint8Array, caption: "#0" }], { imageSize: 4 }),
    TypeError,
  );
  assert.throws(
    () =>
      renderGrid([{ pixels: new Uint8Array(16), caption: 5 as unknown as string }], {
        imageSize: 4,
      }),
    TypeError,
  );
  assert.throws(() => renderGrid("cells" as unknown as GridCell[], { imageSize: 4 }), TypeError);
  assert.throws(() => cellPosition(layoutOf(cells, { imageSize: 16 }), 4), RangeError);
});

Deno.test("encodePng() writes a PNG that decodes back to the same pixels", async () => {
  const cells = makeCells(13, 16);
  const bitmap = renderGrid(cells, { imageSize: 16, columns: 4, scale: 2, title: "round trip" });
  const png = await encodePng(bitmap);
  assert.deepEqual(Array.from(png.subarray(0, 8)), PNG_SIGNATURE);
  const decoded = await decodePng(png);
  assert.equal(decoded.width, bitmap.width);
  assert.equal(decoded.height, bitmap.height);
  assert.ok(decoded.data.every((byte, index) => byte === bitmap.data[index]));
});

Deno.test("renderGridPng() gives the same bytes for the same cells", async () => {
  const options = { imageSize: 16, title: "seed 1" };
  const first = await renderGridPng(makeCells(20, 16), options);
  const second = await renderGridPng(makeCells(20, 16), options);
  assert.deepEqual(first, second);
  const decoded = await decodePng(first);
  assert.equal(decoded.width, layoutOf(makeCells(20, 16), options).width);
});

Deno.test("encodePng() rejects what is not a bitmap", async () => {
  await assert.rejects(
    () => encodePng({ width: 2, height: 2, data: new Uint8Array(3) } as unknown as PImage.Bitmap),
    TypeError,
  );
});

Deno.test("GLYPH_SOURCE has well-formed glyphs for the caption characters", () => {
  const required = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ#-_.:/%() =,";
  for (const char of required) assert.ok(char in GLYPH_SOURCE, `Missing glyph for "${char}"`);
  for (const [char, source] of Object.entries(GLYPH_SOURCE)) {
    assert.equal(Array.from(char).length, 1, `Glyph key "${char}" must be one character`);
    const rows = source.split(" ");
    assert.ok(rows.length === GLYPH_HEIGHT - 1 || rows.length === GLYPH_HEIGHT, `"${char}" rows`);
    for (const row of rows) assert.match(row, /^[#.]{5}$/, `"${char}" row "${row}"`);
    assert.equal(GLYPH_WIDTH, 5);
    assert.equal(glyphRows(char).length, GLYPH_HEIGHT);
    assert.ok(glyphRows(char).every((mask) => mask < 1 << GLYPH_WIDTH));
  }
  assert.ok(glyphRows(" ").every((mask) => mask === 0));
});

Deno.test("glyphs of digits and of letters are all distinct", () => {
  for (const group of ["0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]) {
    const shapes = new Set(Array.from(group, (char) => glyphRows(char).join(",")));
    assert.equal(shapes.size, group.length, `Glyphs of "${group}" must differ`);
  }
  const box = glyphRows("\u00e9").join(",");
  assert.equal(glyphRows("\u{1F600}").join(","), box);
  assert.ok(
    !"0123456789abcdefghijklmnopqrstuvwxyz#".split("").some((char) =>
      glyphRows(char).join(",") === box
    ),
  );
});

Deno.test("parseGlyph() rejects malformed glyphs", () => {
  assert.throws(() => parseGlyph("..... ....."), RangeError);
  assert.throws(() => parseGlyph("..... ..... ..... ..... ..... ..... ...."), RangeError);
  assert.throws(() => parseGlyph("..... ..... ..... ..... ..... ..... ....x"), RangeError);
  assert.throws(() => parseGlyph(Array(9).fill(".....").join(" ")), RangeError);
});

Deno.test("measureText() and drawText() agree, and drawText() stays in the box", () => {
  const rects: number[][] = [];
  const canvas: TextCanvas = {
    fillStyle: "",
    fillRect: (x, y, width, height) => rects.push([x, y, width, height]),
  };
  for (const scale of [1, 3]) {
    rects.length = 0;
    const size = measureText("#9 Égg_y", { scale });
    const width = drawText(canvas, "#9 Égg_y", 10, 20, { scale, color: "#ff0000" });
    assert.equal(width, size.width);
    assert.equal(canvas.fillStyle, "#ff0000");
    assert.ok(rects.length > 0);
    for (const [x, y, w, h] of rects as [number, number, number, number][]) {
      assert.ok(x >= 10 && x + w <= 10 + size.width, `x ${x}+${w}`);
      assert.ok(y >= 20 && y + h <= 20 + size.height, `y ${y}+${h}`);
      assert.equal(h, scale);
    }
    // The descender row is used (g, y, _).
    assert.ok(rects.some(([, y]) => y === 20 + (GLYPH_HEIGHT - 1) * scale));
  }
  rects.length = 0;
  assert.equal(drawText(canvas, "", 0, 0), 0);
  assert.equal(rects.length, 0);
});

Deno.test("measureText(), fitText() and drawText() validate their inputs", () => {
  assert.throws(() => measureText("a", { scale: 0 }), RangeError);
  assert.throws(() => measureText("a", { scale: 65 }), RangeError);
  assert.throws(() => measureText(5 as unknown as string), TypeError);
  assert.throws(() => fitText("a", -1), RangeError);
  assert.throws(() => fitText("a", NaN), RangeError);
  const canvas: TextCanvas = { fillStyle: "", fillRect: () => {} };
  assert.throws(() => drawText(canvas, "a", Infinity, 0), RangeError);
});

Deno.test("fitText() keeps the first word whole when it fits", () => {
  assert.equal(fitText("#123 square", 1000), "#123 square");
  assert.equal(fitText("#123 square", measureText("#123 square").width), "#123 square");
  assert.equal(fitText("#123 square", measureText("#123 square").width - 1), "#123 squa\u2026");
  assert.equal(fitText("#123 square", measureText("#123").width), "#123");
  assert.equal(fitText("#123 square", measureText("#1").width), "#\u2026");
  assert.equal(fitText("#123 square", 0), "");
});
