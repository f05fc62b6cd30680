/**
 * The quality report as plain-text tables for the terminal: one line per check with its verdict,
 * then each latent's declared range against the observed one (per class where the range is
 * declared per class).
 *
 * @module
 */

import type { ObservedRange, QualityReport } from "./quality.ts";

const DIGITS = 6;

function formatValue(value: number | null): string {
  if (value === null) return "-";
  return String(Number(value.toPrecision(DIGITS)));
}

/**
 * Rounds an observed bound towards the inside of the observed range, so that a value just
 * below an exclusive maximum never prints as the maximum itself.
 */
function formatBound(value: number | null, direction: "up" | "down"): string {
  if (value === null || value === 0 || !Number.isFinite(value)) return formatValue(value);
  const step = 10 ** (Math.floor(Math.log10(Math.abs(value))) - DIGITS + 1);
  const rounded = direction === "up"
    ? Math.ceil(value / step) * step
    : Math.floor(value / step) * step;
  return formatValue(rounded);
}

function formatObserved(range: ObservedRange, grid = false): string {
  if (range.min === null) return "none";
  // A grid's values include its upper end: no value lies just below an exclusive maximum.
  if (grid) return `[${formatValue(range.min)}, ${formatValue(range.max)}]`;
  return `[${formatBound(range.min, "up")}, ${formatBound(range.max, "down")}]`;
}

function formatDeclared(range: { min: number; max: number; values?: number } | null): string {
  if (range === null) return "none";
  if (range.values !== undefined) {
    return `${range.values} in [${formatValue(range.min)}, ${formatValue(range.max)}]`;
  }
  return `[${formatValue(range.min)}, ${formatValue(range.max)})`;
}

/** Left-aligns columns, two spaces apart; the last column is not padded. */
function alignColumns(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!))
      .join("  ").trimEnd()
  );
}

/**
 * Formats a quality report as two tables: checks, then latent ranges.
 *
 * @param report The report from `QualityAccumulator.finish`.
 * @returns The lines, ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QualityAccumulator } from "./quality.ts";
 * import { formatQualityTable } from "./quality_table.ts";
 *
 * const quality = new QualityAccumulator({
 *   numImages: 1, imageSize: 4, dtype: "uint8", classNames: ["a"], latentNames: ["x"],
 *   declared: [{ name: "x", min: 0, max: 1 }],
 * });
 * const images = new Uint8Array(16);
 * quality.add({ start: 0, images, labels: new Uint8Array(1), latents: new Float32Array([0.5]) });
 * const table = formatQualityTable(await quality.finish(() => Promise.resolve(images)));
 * assert.match(table, /^blank +FAIL +1 of 1 images all zero/m);
 * assert.match(table, /^x +\[0, 1\) +\[0\.5, 0\.5\]/m);
 * ```
 */
export function formatQualityTable(report: QualityReport): string {
  const checks = alignColumns([
    ["check", "verdict", "result"],
    ...report.checks.map((check) => [check.name, check.verdict.toUpperCase(), check.summary]),
  ]);
  const latentRows: string[][] = [["latent", "class", "declared", "observed", "out of range"]];
  for (const latent of report.latents) {
    const outOfRange = String(latent.outOfRange) + (latent.nan > 0 ? ` (+${latent.nan} NaN)` : "");
    // One row for the latent over all images, with its out-of-range count, then one row
    // per class where the declared range depends on the class.
    latentRows.push([
      latent.name,
      latent.perClass === undefined ? "" : "all",
      formatDeclared(latent.declared),
      formatObserved(latent.observed, latent.declared?.values !== undefined),
      outOfRange,
    ]);
    for (const range of latent.perClass ?? []) {
      latentRows.push([
        "",
        range.className,
        formatDeclared(range.declared),
        formatObserved(range.observed),
        "",
      ]);
    }
  }
  const lines = [...checks];
  if (report.latents.length > 0) lines.push("", ...alignColumns(latentRows));
  return lines.join("\n") + "\n";
}
