/**
 * Rendering images from factor values the caller chooses, as `dsgen render` does: the same
 * render and quantize steps as `generate`, so equal values give equal bytes.
 *
 * The input is one row per image. Its columns are the family's `latent_names`, preceded by the
 * label when the family's latents do not hold the class (`shapes`); `dsprites` takes its label
 * from its `shape` column. Values are rounded to float32 first, as the archive stores them.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import { quantize } from "./quantize.ts";

/**
 * The input's column names for a family: `latent_names`, after `label` when needed.
 *
 * @param generator The configured family.
 * @returns The column names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { latentColumns } from "./render_latents.ts";
 * const shapes = generators.get("shapes").create({ imageSize: 16 });
 * assert.deepEqual(latentColumns(shapes), ["label", "scale", "orientation", "pos_x", "pos_y"]);
 * ```
 */
export function latentColumns(generator: ImageGenerator): string[] {
  const names = generator.latents.map((latent) => latent.name);
  return generator.labelOf === undefined ? ["label", ...names] : names;
}

/** Checked rows: a label per image and float32 latents in the family's column order. */
export interface LatentRows {
  /** One class index per row. */
  labels: Uint8Array;
  /** `rows x latents.length` float32 values. */
  latents: Float32Array;
}

function formatValue(value: number): string {
  return String(Number(value.toPrecision(7)));
}

/**
 * Checks rows of factor values and splits them into labels and float32 latents.
 *
 * A categorical factor must take one of its values; a discrete one any value from its first
 * to its last (a grid's values include both ends); a continuous one a value in [min, max),
 * per class where the family declares per-class ranges.
 *
 * @param generator The configured family.
 * @param values The rows, row-major, `rows x latentColumns(generator).length` values.
 * @returns The labels and latents.
 * @throws {RangeError} Naming the row and column of the first bad value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { checkLatentRows } from "./render_latents.ts";
 * const dsprites = generators.get("dsprites").create({ imageSize: 64 });
 * const rows = checkLatentRows(dsprites, new Float64Array([1, 3, 1, 0, 0.5, 0.5]));
 * assert.equal(rows.labels[0], 2);
 * assert.throws(() => checkLatentRows(dsprites, new Float64Array([1, 4, 1, 0, 0.5, 0.5])),
 *   /row 0, column 1 \(shape\)/);
 * ```
 */
export function checkLatentRows(
  generator: ImageGenerator,
  values: ArrayLike<number>,
): LatentRows {
  const columns = latentColumns(generator);
  const width = columns.length;
  const shift = width - generator.latents.length;
  const rows = Math.floor(values.length / width);
  const labels = new Uint8Array(rows);
  const latents = new Float32Array(rows * generator.latents.length);
  const bad = (row: number, column: number, value: number, expected: string): never => {
    throw new RangeError(
      `row ${row}, column ${column} (${columns[column]}) is ${formatValue(value)}: ` +
        `expected ${expected}`,
    );
  };
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < width; column++) {
      if (Number.isNaN(values[row * width + column]!)) bad(row, column, NaN, "a number");
    }
    let label = 0;
    if (shift === 1) {
      label = values[row * width]!;
      if (!Number.isInteger(label) || label < 0 || label >= generator.classes.length) {
        bad(row, 0, label, `a class index from 0 to ${generator.classes.length - 1}`);
      }
    }
    for (let latent = 0; latent < generator.latents.length; latent++) {
      const spec = generator.latents[latent]!;
      const value = Math.fround(values[row * width + shift + latent]!);
      latents[row * generator.latents.length + latent] = value;
      if (spec.kind === "categorical") {
        if (!spec.values!.some((allowed) => Math.fround(allowed) === value)) {
          bad(row, shift + latent, value, `one of ${spec.values!.join(", ")}`);
        }
      } else if (spec.values !== undefined) {
        if (!(value >= Math.fround(spec.min) && value <= Math.fround(spec.max))) {
          bad(row, shift + latent, value, `a value from ${spec.min} to ${spec.max}`);
        }
      }
    }
    if (shift === 0) label = generator.labelOf!(latents, row * generator.latents.length);
    for (let latent = 0; latent < generator.latents.length && shift === 1; latent++) {
      const spec = generator.latents[latent]!;
      if (spec.values !== undefined || spec.kind === "categorical") continue;
      const range = spec.perClass?.[generator.classes[label]!] ?? spec;
      const value = latents[row * generator.latents.length + latent]!;
      if (!(value >= range.min && value < range.max)) {
        bad(
          row,
          shift + latent,
          value,
          `a value in [${range.min}, ${range.max}) for class ${generator.classes[label]}`,
        );
      }
    }
    labels[row] = label;
  }
  return { labels, latents };
}

/**
 * Renders checked rows into uint8 images, exactly as `generate` renders and quantizes them.
 *
 * @param generator The configured family.
 * @param rows The labels and latents, from {@linkcode checkLatentRows}.
 * @param range The first row and the number of rows to render.
 * @returns `count x imageSize²` uint8 pixels.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { checkLatentRows, renderLatentRows } from "./render_latents.ts";
 * const dsprites = generators.get("dsprites").create({ imageSize: 16 });
 * const rows = checkLatentRows(dsprites, new Float64Array([1, 1, 1, 0, 0.5, 0.5]));
 * assert.equal(renderLatentRows(dsprites, rows, { start: 0, count: 1 }).length, 256);
 * ```
 */
export function renderLatentRows(
  generator: ImageGenerator,
  rows: LatentRows,
  range: { start: number; count: number },
): Uint8Array {
  const area = generator.imageSize ** 2;
  const width = generator.latents.length;
  const pixels = new Float64Array(range.count * area);
  for (let image = 0; image < range.count; image++) {
    const row = range.start + image;
    generator.render(rows.labels[row]!, rows.latents, row * width, pixels, image * area);
  }
  return quantize(pixels, new Uint8Array(range.count * area));
}
