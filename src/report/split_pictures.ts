/**
 * The pictures `dsgen inspect` draws for a version made of splits (docs/recipes.md):
 *
 * - `splits.png`: for each pair of factors that vary, a panel over their values (first factor
 *   down, second across), each cell coloured by the splits that hold images with those two
 *   values (an even blend of the splits present) and lit by how many images: the held-out
 *   region of each split, seen pair by pair;
 * - `correlations.png`: for each split and each correlated pair of the recipe, the pair's 2-D
 *   histogram in gray levels (brighter: more images).
 *
 * Drawn with pureimage and the bitmap font, so equal counts give the same PNG bytes.
 *
 * @module
 */

import * as PImage from "pureimage";
import { drawText, fitText, GLYPH_HEIGHT } from "./bitmap_font.ts";
import { encodePng } from "./grid.ts";

/** The counts of one pair of factors, per split. */
export interface PairCounts {
  /** The two factors' names: down, then across. */
  names: [string, string];
  /** Their numbers of values. */
  sizes: [number, number];
  /** Per split, `sizes[0] x sizes[1]` counts, row-major. */
  counts: Float64Array[];
}

/** The colours of splits, in the order of metadata.json's `splits`. */
export const SPLIT_COLORS: readonly [number, number, number][] = [
  [78, 154, 241],
  [241, 124, 78],
  [92, 207, 107],
  [212, 92, 241],
  [241, 213, 78],
  [78, 226, 230],
];

const PANEL = 160;
const PADDING = 8;
const TEXT = GLYPH_HEIGHT + 4;
const COLUMNS = 4;

function hex([red, green, blue]: readonly number[]): string {
  return `#${
    [red, green, blue].map((part) => Math.round(part!).toString(16).padStart(2, "0")).join("")
  }`;
}

/**
 * Draws panels of pair counts and encodes the PNG: colours by split (`splits.png`), or, with
 * `gray`, one panel per split and pair in gray levels (`correlations.png`).
 *
 * @param pairs The pairs' counts.
 * @param options The splits' names, the title, and whether to draw gray histograms.
 * @returns The PNG file's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderPairsPng } from "./split_pictures.ts";
 * const png = await renderPairsPng([{ names: ["a", "b"], sizes: [2, 2],
 *   counts: [Float64Array.of(1, 0, 0, 1), Float64Array.of(0, 1, 1, 0)] }],
 *   { splits: ["train", "test"], title: "demo" });
 * assert.equal(png[1], 0x50);
 * ```
 */
export async function renderPairsPng(
  pairs: readonly PairCounts[],
  options: { splits: readonly string[]; title: string; gray?: boolean },
): Promise<Uint8Array> {
  const panels = options.gray === true
    ? pairs.flatMap((pair) =>
      pair.counts.map((counts, split) => ({
        pair,
        only: split,
        counts,
        caption: `${options.splits[split]}: ${pair.names[0]} x ${pair.names[1]}`,
      }))
    )
    : pairs.map((pair) => ({
      pair,
      only: -1,
      counts: undefined,
      caption: `${pair.names[0]} x ${pair.names[1]}`,
    }));
  const columns = Math.max(1, Math.min(COLUMNS, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const slot = PANEL + 2 * PADDING + TEXT;
  const width = Math.max(columns * (PANEL + 2 * PADDING), 320);
  const height = 2 * TEXT + PADDING + rows * slot;
  const bitmap = PImage.make(width, height);
  const ctx = bitmap.getContext("2d");
  ctx.fillStyle = "#101820";
  ctx.fillRect(0, 0, width, height);
  drawText(ctx, fitText(options.title, width - 2 * PADDING), PADDING, 4, { color: "#ffd070" });
  // The legend: each split's name in its colour.
  let legendX = PADDING;
  options.splits.forEach((name, split) => {
    const color = options.gray === true
      ? "#e0e0e0"
      : hex(SPLIT_COLORS[split % SPLIT_COLORS.length]!);
    legendX += drawText(ctx, name, legendX, 4 + TEXT, { color }) + 12;
  });
  panels.forEach(({ pair, only, counts, caption }, index) => {
    const left = PADDING + (index % columns) * (PANEL + 2 * PADDING);
    const top = 2 * TEXT + PADDING + Math.floor(index / columns) * slot;
    drawText(ctx, fitText(caption, PANEL), left, top, { color: "#e0e0e0" });
    const [down, across] = pair.sizes;
    const cell = Math.max(1, Math.floor(PANEL / Math.max(down, across)));
    const plotTop = top + TEXT;
    ctx.fillStyle = "#26323e";
    ctx.fillRect(left, plotTop, across * cell, down * cell);
    const totals = new Float64Array(down * across);
    const sources = only >= 0 ? [counts!] : pair.counts;
    for (const split of sources) {
      for (let at = 0; at < totals.length; at++) totals[at] = totals[at]! + split[at]!;
    }
    const largest = Math.max(1, ...totals);
    for (let row = 0; row < down; row++) {
      for (let column = 0; column < across; column++) {
        const at = row * across + column;
        const total = totals[at]!;
        if (total === 0) continue;
        // Brightness: the square root, so that sparse cells still show.
        const light = 0.25 + 0.75 * Math.sqrt(total / largest);
        let color: number[];
        if (only >= 0) color = [255 * light, 255 * light, 255 * light];
        else {
          // Each split present counts alike, so that a small held-out region shows.
          color = [0, 0, 0];
          const present = pair.counts.filter((split) => split[at]! > 0).length;
          pair.counts.forEach((split, index) => {
            const share = split[at]! > 0 ? 1 / present : 0;
            const base = SPLIT_COLORS[index % SPLIT_COLORS.length]!;
            for (let channel = 0; channel < 3; channel++) {
              color[channel] = color[channel]! + share * base[channel]! * light;
            }
          });
        }
        ctx.fillStyle = hex(color);
        ctx.fillRect(left + column * cell, plotTop + row * cell, cell, cell);
      }
    }
  });
  return await encodePng(bitmap);
}
