/**
 * What the factor pictures of `dsgen inspect` show: a histogram per factor over every image
 * (`factors.png`), and, for a full grid, a traversal per factor (`traversals.png`): one row
 * per factor stepping through its values while the others stay at their middle value, the
 * picture disentanglement papers show.
 *
 * @module
 */

import type { DeclaredLatent } from "./quality.ts";

/** Bins of a continuous factor's histogram. */
const CONTINUOUS_BINS = 20;

/** One factor's histogram. */
export interface FactorHistogram {
  /** The factor's name, or `class` for the labels. */
  name: string;
  /** The counts, by bin. */
  counts: number[];
  /** The label of each bin's left edge or value, for the axis. */
  binLabels: string[];
  /** Values that fell in no bin (out of range, NaN, or not a grid value). */
  outside: number;
}

function label(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Counts each factor's values into bins, chunk by chunk. */
export class FactorHistograms {
  #histograms: FactorHistogram[];
  #binOf: ((value: number) => number)[];

  /**
   * Prepares one histogram for the labels and one per latent column: a bin per value for a
   * grid factor, 20 equal bins over the declared range otherwise (none without one).
   *
   * @param layout The class names, latent names and declared ranges.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FactorHistograms } from "./factor_pictures.ts";
   * const histograms = new FactorHistograms({ classNames: ["a", "b"], latentNames: ["x"],
   *   declared: [{ name: "x", min: 0, max: 1, values: [0, 1] }] });
   * histograms.add(new Uint8Array([0, 1, 1]), new Float32Array([0, 1, 1]));
   * assert.deepEqual(histograms.finish()[1]!.counts, [1, 2]);
   * ```
   */
  constructor(
    layout: {
      classNames: readonly string[];
      latentNames: readonly string[];
      declared: readonly DeclaredLatent[];
    },
  ) {
    this.#histograms = [{
      name: "class",
      counts: layout.classNames.map(() => 0),
      binLabels: [...layout.classNames],
      outside: 0,
    }];
    this.#binOf = [(value) => value < layout.classNames.length ? value : -1];
    for (const name of layout.latentNames) {
      const declared = layout.declared.find((latent) => latent.name === name);
      if (declared?.values !== undefined) {
        const index = new Map(declared.values.map((value, bin) => [Math.fround(value), bin]));
        this.#histograms.push({
          name,
          counts: declared.values.map(() => 0),
          binLabels: declared.values.map(label),
          outside: 0,
        });
        this.#binOf.push((value) => index.get(value) ?? -1);
      } else if (declared !== undefined && declared.max > declared.min) {
        const { min, max } = declared;
        this.#histograms.push({
          name,
          counts: new Array(CONTINUOUS_BINS).fill(0),
          binLabels: Array.from(
            { length: CONTINUOUS_BINS },
            (_, bin) => label(min + ((max - min) * bin) / CONTINUOUS_BINS),
          ),
          outside: 0,
        });
        this.#binOf.push((value) =>
          value >= min && value < max
            ? Math.floor(((value - min) / (max - min)) * CONTINUOUS_BINS)
            : -1
        );
      } else {
        this.#histograms.push({ name, counts: [], binLabels: [], outside: 0 });
        this.#binOf.push(() => -1);
      }
    }
  }

  /**
   * Adds the labels and latents of a chunk of images.
   *
   * @param labels One label per image.
   * @param latents `labels.length x K` values, row-major.
   * @example
   * ```ts
   * import { FactorHistograms } from "./factor_pictures.ts";
   * new FactorHistograms({ classNames: ["a"], latentNames: [], declared: [] })
   *   .add(new Uint8Array([0]), new Float32Array(0));
   * ```
   */
  add(labels: Uint8Array, latents: Float32Array): void {
    const width = this.#histograms.length - 1;
    for (let image = 0; image < labels.length; image++) {
      this.#count(0, labels[image]!);
      for (let column = 0; column < width; column++) {
        this.#count(column + 1, latents[image * width + column]!);
      }
    }
  }

  #count(histogram: number, value: number): void {
    const bin = this.#binOf[histogram]!(value);
    const target = this.#histograms[histogram]!;
    if (bin >= 0 && bin < target.counts.length) target.counts[bin]!++;
    else target.outside++;
  }

  /**
   * The histograms: the labels' first, then one per latent column.
   *
   * @returns The histograms.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { FactorHistograms } from "./factor_pictures.ts";
   * const histograms = new FactorHistograms({ classNames: ["a"], latentNames: [], declared: [] });
   * assert.equal(histograms.finish()[0]!.name, "class");
   * ```
   */
  finish(): FactorHistogram[] {
    return this.#histograms;
  }
}

/** One cell of a traversal: which image to show, and its caption. */
export interface TraversalCell {
  /** The image's index in the grid. */
  index: number;
  /** E.g. `scale 0.7`. */
  caption: string;
}

/**
 * The images of a traversal of a full grid: for each factor with more than one value, up to
 * `steps` values spread evenly over its range (both ends included), every other factor at its
 * middle index. Indices follow dSprites' order (the last factor varies fastest).
 *
 * @param grid The factors' names, sizes and possible values, in column order.
 * @param steps The most cells per row.
 * @returns One row per varying factor; a row's cells in value order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traversalRows } from "./factor_pictures.ts";
 * const rows = traversalRows({ names: ["a", "b"], sizes: [2, 3], values: [[0, 1], [5, 6, 7]] }, 10);
 * // Middle indices 1 and 1: a varies over images 1 and 4; b over 3, 4, 5.
 * assert.deepEqual(rows.map((row) => row.map((cell) => cell.index)), [[1, 4], [3, 4, 5]]);
 * assert.equal(rows[1]![2]!.caption, "b 7");
 * ```
 */
export function traversalRows(
  grid: { names: readonly string[]; sizes: readonly number[]; values: readonly number[][] },
  steps: number,
): TraversalCell[][] {
  const { names, sizes, values } = grid;
  const bases = sizes.map((_, factor) =>
    sizes.slice(factor + 1).reduce((product, size) => product * size, 1)
  );
  const middle = sizes.map((size) => Math.floor(size / 2));
  const rows: TraversalCell[][] = [];
  for (let factor = 0; factor < sizes.length; factor++) {
    const size = sizes[factor]!;
    if (size < 2) continue;
    const count = Math.min(steps, size);
    const row: TraversalCell[] = [];
    for (let step = 0; step < count; step++) {
      const value = Math.round((step * (size - 1)) / (count - 1));
      const classes = middle.slice();
      classes[factor] = value;
      row.push({
        index: classes.reduce((index, chosen, column) => index + chosen * bases[column]!, 0),
        caption: values[factor]?.[value] === undefined
          ? `${names[factor]} #${value}`
          : `${names[factor]} ${label(values[factor]![value]!)}`,
      });
    }
    rows.push(row);
  }
  return rows;
}
