/**
 * `factors.png` of `dsgen inspect`: one bar chart per factor, stacked, each captioned with the
 * factor's name, its number of values counted, and its first and last bins' labels.
 *
 * Bars are scaled to the panel's largest count, so a uniform factor shows bars of one height; a
 * gap or a slope is a sampling fault. Drawn with pureimage and the bitmap font, so equal
 * histograms give the same PNG bytes.
 *
 * @module
 */

import * as PImage from "pureimage";
import { drawText, fitText, GLYPH_HEIGHT } from "./bitmap_font.ts";
import { encodePng } from "./grid.ts";

/** A histogram to draw. */
export interface HistogramPanel {
  /** The factor's name. */
  name: string;
  /** Counts, by bin. */
  counts: readonly number[];
  /** A label per bin; the first and last are drawn under the axis. */
  binLabels: readonly string[];
  /** Values in no bin, reported in the caption. */
  outside: number;
}

const WIDTH = 420;
const PLOT_HEIGHT = 80;
const PADDING = 6;
const TEXT_HEIGHT = GLYPH_HEIGHT + 4;
const PANEL_HEIGHT = PADDING + TEXT_HEIGHT + PLOT_HEIGHT + TEXT_HEIGHT + PADDING;

/**
 * Draws the histograms, one panel per factor, and encodes the PNG.
 *
 * @param panels The histograms, drawn top to bottom; one without bins says so.
 * @param title A line above the panels, e.g. the dataset and version.
 * @returns The PNG file's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderHistogramsPng } from "./histograms.ts";
 * const png = await renderHistogramsPng(
 *   [{ name: "scale", counts: [3, 4, 5], binLabels: ["0.5", "0.75", "1"], outside: 0 }],
 *   "demo v1",
 * );
 * assert.equal(png[1], 0x50);
 * ```
 */
export async function renderHistogramsPng(
  panels: readonly HistogramPanel[],
  title: string,
): Promise<Uint8Array> {
  const height = TEXT_HEIGHT + PADDING + panels.length * PANEL_HEIGHT;
  const bitmap = PImage.make(WIDTH, height);
  const ctx = bitmap.getContext("2d");
  ctx.fillStyle = "#101820";
  ctx.fillRect(0, 0, WIDTH, height);
  drawText(ctx, fitText(title, WIDTH - 2 * PADDING), PADDING, PADDING, { color: "#ffd070" });
  panels.forEach((panel, index) => {
    const top = TEXT_HEIGHT + PADDING + index * PANEL_HEIGHT;
    const total = panel.counts.reduce((sum, count) => sum + count, 0);
    const caption = `${panel.name}: ${panel.counts.length} bins, ${total} values` +
      (panel.outside > 0 ? `, ${panel.outside} outside` : "");
    drawText(ctx, fitText(caption, WIDTH - 2 * PADDING), PADDING, top + PADDING, {
      color: "#e0e0e0",
    });
    const plotTop = top + PADDING + TEXT_HEIGHT;
    ctx.fillStyle = "#26323e";
    ctx.fillRect(PADDING, plotTop, WIDTH - 2 * PADDING, PLOT_HEIGHT);
    const bins = panel.counts.length;
    if (bins === 0) {
      drawText(ctx, "no declared range or values", PADDING + 4, plotTop + 4, {
        color: "#e0e0e0",
      });
      return;
    }
    const largest = Math.max(1, ...panel.counts);
    const barWidth = (WIDTH - 2 * PADDING) / bins;
    ctx.fillStyle = "#70b0ff";
    panel.counts.forEach((count, bin) => {
      const barHeight = Math.round((count / largest) * (PLOT_HEIGHT - 2));
      const left = Math.round(PADDING + bin * barWidth);
      const right = Math.round(PADDING + (bin + 1) * barWidth) - (barWidth >= 3 ? 1 : 0);
      if (barHeight > 0) {
        ctx.fillRect(left, plotTop + PLOT_HEIGHT - barHeight, right - left, barHeight);
      }
    });
    const axisY = plotTop + PLOT_HEIGHT + 2;
    const first = panel.binLabels[0] ?? "";
    const last = panel.binLabels[bins - 1] ?? "";
    drawText(ctx, first, PADDING, axisY, { color: "#e0e0e0" });
    const lastWidth = last.length * 6;
    drawText(ctx, last, WIDTH - PADDING - lastWidth, axisY, { color: "#e0e0e0" });
  });
  return await encodePng(bitmap);
}
