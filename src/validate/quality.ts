/**
 * The quality report of a dataset, computed incrementally over chunks of images, labels and
 * latents, so that a dataset of any size is checked in one streaming pass.
 *
 * Checks and their verdicts (`fail` makes `dsgen inspect` exit 1):
 *
 * | check        | pass                         | warn                          | fail                               |
 * | ------------ | ---------------------------- | ----------------------------- | ---------------------------------- |
 * | `classes`    | chi-square p >= 0.001        | p < 0.001                     | p < 1e-6, an empty class, or a label out of range (see `class_balance.ts`) |
 * | `latents`    | every value in its declared range (per class where declared) | a range less than 80% covered by 50 or more values, or no declared range | a value out of range, or NaN |
 * | `blank`      | no image all zero            |                               | any                                |
 * | `saturated`  | no image all at full value   |                               | any                                |
 * | `cut`        | no shape cut by the frame    | not checkable (no shape model) | any (rule in `frame_cut.ts`)      |
 * | `duplicates` | no two images equal, or no more than the family expects | up to 1% more | more than 1% more          |
 * | `intensity`  | values in range              |                               | float64 values outside [0, 1] or NaN |
 *
 * A family may expect duplicates by construction (a dSprites grid holds a square at 0° and at
 * 90°): the allowance is then its count plus 1% of the images. Declared ranges are half-open,
 * [min, max), as generators draw them; a factor that declares its `values` (a grid, which
 * includes its upper end) must take one of them, compared as float32. Intensities are in the
 * images' own unit: 0 to 255 for uint8, 0 to 1 for float64.
 *
 * @module
 */

import { bytesPerPixel } from "../pipeline/render.ts";
import { classBalance, type Verdict } from "./class_balance.ts";
import { DuplicateFinder, type DuplicateSummary } from "./duplicates.ts";
import { isCutByFrame, type ShapeModel } from "./frame_cut.ts";

export type { Verdict } from "./class_balance.ts";

/** A latent's declared range, as generators record it in metadata.json. */
export interface DeclaredLatent {
  /** The latent's name, as in `latent_names`. */
  name: string;
  /** The smallest value drawn (inclusive). */
  min: number;
  /** The largest value drawn (exclusive). */
  max: number;
  /** Per-class ranges where they differ from [min, max), keyed by class name. */
  perClass?: Record<string, { min: number; max: number }>;
  /** The only values the factor takes (a grid), when it declares them. */
  values?: number[];
}

/** What the accumulator needs to know about the dataset. */
export interface QualityLayout {
  /** N, the number of images. */
  numImages: number;
  /** S, the side of an image in pixels. */
  imageSize: number;
  /** The images' dtype. */
  dtype: "uint8" | "float64";
  /** The class names, by label. */
  classNames: readonly string[];
  /** The latent names, by column of `latents`. */
  latentNames: readonly string[];
  /** Declared ranges, matched to the latent columns by name. */
  declared: readonly DeclaredLatent[];
  /** The generator's shape geometry, for the `cut` check; undefined skips that check. */
  shapes?: ShapeModel;
  /** Duplicates the family makes by construction, and why; they do not count against it. */
  expectedDuplicates?: { count: number; reason: string };
}

/** One chunk of consecutive images with their labels and latents. */
export interface QualityChunk {
  /** Index of the chunk's first image. */
  start: number;
  /** The images' bytes: uint8 pixels, or float64 values (little-endian). */
  images: Uint8Array;
  /** One label per image. */
  labels: Uint8Array;
  /** `latentNames.length` values per image. */
  latents: Float32Array;
}

/** A closed range of values; null bounds when nothing was observed. */
export interface ObservedRange {
  /** The smallest value seen. */
  min: number | null;
  /** The largest value seen. */
  max: number | null;
}

/** The observed values of one latent against its declared range. */
export interface LatentReport {
  /** The latent's name. */
  name: string;
  /** The declared range, or null when metadata declares none. */
  declared: { min: number; max: number; values?: number } | null;
  /** The smallest and largest values seen. */
  observed: ObservedRange;
  /** Number of values observed (NaN excluded). */
  count: number;
  /** Values outside the declared range of their image's class. */
  outOfRange: number;
  /** Up to 10 indices of images with an out-of-range value. */
  outOfRangeExamples: number[];
  /** NaN values, which fail the check. */
  nan: number;
  /** Per class, for latents whose range is declared per class. */
  perClass?: {
    className: string;
    declared: { min: number; max: number };
    observed: ObservedRange;
    count: number;
  }[];
}

/** Images matching a condition, with a few indices to look at. */
export interface ImageFinding {
  /** Number of images found. */
  count: number;
  /** Up to 10 image indices. */
  examples: number[];
}

/** One line of the report's table. */
export interface CheckResult {
  /** What is checked; see the module doc. */
  name: "classes" | "latents" | "blank" | "saturated" | "cut" | "duplicates" | "intensity";
  /** The outcome. */
  verdict: Verdict;
  /** One line for the table. */
  summary: string;
}

/** Everything the quality report says; report.json writes its keys in snake_case. */
export interface QualityReport {
  /** N, the number of images. */
  numImages: number;
  /** S, the side of an image in pixels. */
  imageSize: number;
  /** The images' dtype. */
  dtype: "uint8" | "float64";
  /** One verdict per check, in table order. */
  checks: CheckResult[];
  /** Images per class and the balance test (`class_balance.ts`). */
  classes: {
    counts: { name: string; count: number }[];
    invalidLabels: number;
    chiSquare: number;
    degreesOfFreedom: number;
    pValue: number;
    maxMinRatio: number | null;
  };
  /** Each latent's observed range against its declared one. */
  latents: LatentReport[];
  /** Images with every pixel 0. */
  blank: ImageFinding;
  /** Images with every pixel at full value. */
  saturated: ImageFinding;
  /** Shapes cut by the frame; `checked` is false without a shape model. */
  cut: ImageFinding & { checked: boolean };
  /** Exact duplicate images. */
  duplicates: DuplicateSummary;
  /** Pixel statistics over every image, in the images' unit. */
  intensity: {
    /** 255 for uint8, 1 for float64. */
    fullValue: number;
    mean: number | null;
    std: number | null;
    min: number | null;
    max: number | null;
    nonzeroFraction: number | null;
    /** float64 values outside [0, 1] or NaN. */
    invalidValues: number;
  };
}

const MAX_EXAMPLES = 10;
const COVERAGE_WARNING = 0.8;
const COVERAGE_MIN_VALUES = 50;
const DUPLICATE_FAIL_FRACTION = 0.01;

function note(finding: ImageFinding, index: number): void {
  finding.count++;
  if (finding.examples.length < MAX_EXAMPLES) finding.examples.push(index);
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Accumulates the quality report over chunks; see the module doc for the checks. */
export class QualityAccumulator {
  #layout: QualityLayout;
  #area: number;
  #full: number;
  #classCounts: number[];
  #invalidLabels = 0;
  #latentMin: Float64Array;
  #latentMax: Float64Array;
  /** Per latent and class: `latent * classes + class`. */
  #classMin: Float64Array;
  #classMax: Float64Array;
  #classSeen: Float64Array;
  #ranges: ({ min: number; max: number } | undefined)[][];
  #allowed: (Set<number> | undefined)[];
  #outOfRange: ImageFinding[];
  #nan: number[];
  #blank: ImageFinding = { count: 0, examples: [] };
  #saturated: ImageFinding = { count: 0, examples: [] };
  #cut: ImageFinding = { count: 0, examples: [] };
  #duplicates: DuplicateFinder;
  #sum = 0;
  #sumSquares = 0;
  #min = Infinity;
  #max = -Infinity;
  #nonzero = 0;
  #invalidValues = 0;
  #seen = 0;

  /**
   * Starts an empty report.
   *
   * @param layout The dataset's size, dtype, classes, latents and declared ranges.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { QualityAccumulator } from "./quality.ts";
   *
   * const quality = new QualityAccumulator({
   *   numImages: 2, imageSize: 4, dtype: "uint8", classNames: ["a", "b"], latentNames: ["x"],
   *   declared: [{ name: "x", min: 0, max: 1 }],
   * });
   * const images = new Uint8Array(32);
   * images.fill(200, 16 + 5, 16 + 7); // image 0 is blank, image 1 has two lit pixels
   * quality.add({ start: 0, images, labels: new Uint8Array([0, 1]), latents: new Float32Array([0.1, 0.9]) });
   * const report = await quality.finish((index) => Promise.resolve(images.slice(index * 16, index * 16 + 16)));
   * assert.deepEqual(report.blank, { count: 1, examples: [0] });
   * assert.equal(report.checks.find((check) => check.name === "blank")?.verdict, "fail");
   * ```
   */
  constructor(layout: QualityLayout) {
    this.#layout = layout;
    this.#area = layout.imageSize * layout.imageSize;
    this.#full = layout.dtype === "uint8" ? 255 : 1;
    const classes = layout.classNames.length;
    const latents = layout.latentNames.length;
    this.#classCounts = new Array(classes).fill(0);
    this.#latentMin = new Float64Array(latents).fill(Infinity);
    this.#latentMax = new Float64Array(latents).fill(-Infinity);
    this.#classMin = new Float64Array(latents * classes).fill(Infinity);
    this.#classMax = new Float64Array(latents * classes).fill(-Infinity);
    this.#classSeen = new Float64Array(latents * classes);
    this.#ranges = layout.latentNames.map((name) => {
      const declared = layout.declared.find((latent) => latent.name === name);
      return layout.classNames.map((className) =>
        declared === undefined ? undefined : declared.perClass?.[className] ?? declared
      );
    });
    this.#allowed = layout.latentNames.map((name) => {
      const values = layout.declared.find((latent) => latent.name === name)?.values;
      return values === undefined ? undefined : new Set(values.map(Math.fround));
    });
    this.#outOfRange = layout.latentNames.map(() => ({ count: 0, examples: [] }));
    this.#nan = layout.latentNames.map(() => 0);
    this.#duplicates = new DuplicateFinder(layout.numImages);
  }

  /**
   * Adds a chunk of consecutive images.
   *
   * @param chunk The images' bytes, labels and latents, and the index of the first image.
   * @example
   * ```ts
   * import { QualityAccumulator } from "./quality.ts";
   *
   * const quality = new QualityAccumulator({
   *   numImages: 1, imageSize: 4, dtype: "uint8", classNames: ["a"], latentNames: [],
   *   declared: [],
   * });
   * quality.add({ start: 0, images: new Uint8Array(16), labels: new Uint8Array(1), latents: new Float32Array(0) });
   * ```
   */
  add(chunk: QualityChunk): void {
    const layout = this.#layout;
    const bytesPerValue = bytesPerPixel(layout.dtype);
    const imageBytes = this.#area * bytesPerValue;
    const count = chunk.images.length / imageBytes;
    const width = layout.latentNames.length;
    if (
      !Number.isInteger(count) || chunk.labels.length !== count ||
      chunk.latents.length !== count * width || chunk.start < 0 ||
      chunk.start + count > layout.numImages
    ) {
      throw new RangeError(
        `Cannot add a chunk of ${chunk.images.length} image bytes, ${chunk.labels.length} ` +
          `labels and ${chunk.latents.length} latents at image ${chunk.start}: they disagree`,
      );
    }
    let values: Uint8Array | Float64Array = chunk.images;
    if (layout.dtype === "float64") {
      const aligned = chunk.images.byteOffset % 8 === 0 ? chunk.images : chunk.images.slice();
      values = new Float64Array(aligned.buffer, aligned.byteOffset, aligned.length / 8);
    }
    // uint8 images are read a 32-bit word at a time where they are aligned: most words of a
    // shape on black are zero and are skipped whole.
    const words = layout.dtype === "uint8" && this.#area % 4 === 0 &&
        chunk.images.byteOffset % 4 === 0
      ? new Uint32Array(chunk.images.buffer, chunk.images.byteOffset, chunk.images.length / 4)
      : undefined;
    for (let image = 0; image < count; image++) {
      const index = chunk.start + image;
      const label = chunk.labels[image]!;
      this.#addLabelAndLatents(index, label, chunk.latents, image * width);
      const summary = words === undefined
        ? this.#addPixels(values, image * this.#area, index)
        : this.#addPixelWords(chunk.images, words, image * this.#area, index);
      this.#duplicates.addFromChunk(index, chunk.images, words, image * imageBytes, imageBytes);
      const extent = layout.shapes?.measure(label, chunk.latents, image * width);
      if (
        extent !== undefined &&
        isCutByFrame(summary, extent, {
          supersampling: layout.shapes!.supersampling,
          quantizationStep: layout.dtype === "uint8" ? 1 / 255 : 0,
        })
      ) {
        note(this.#cut, index);
      }
    }
    this.#seen += count;
  }

  #addLabelAndLatents(index: number, label: number, latents: Float32Array, offset: number): void {
    const classes = this.#layout.classNames.length;
    const validLabel = label < classes;
    if (validLabel) this.#classCounts[label]!++;
    else this.#invalidLabels++;
    for (let column = 0; column < this.#nan.length; column++) {
      const value = latents[offset + column]!;
      if (Number.isNaN(value)) {
        this.#nan[column]!++;
        continue;
      }
      if (value < this.#latentMin[column]!) this.#latentMin[column] = value;
      if (value > this.#latentMax[column]!) this.#latentMax[column] = value;
      if (!validLabel) continue;
      const slot = column * classes + label;
      if (value < this.#classMin[slot]!) this.#classMin[slot] = value;
      if (value > this.#classMax[slot]!) this.#classMax[slot] = value;
      this.#classSeen[slot]!++;
      const allowed = this.#allowed[column];
      const range = this.#ranges[column]![label];
      if (
        allowed !== undefined
          ? !allowed.has(value)
          : range !== undefined && (value < range.min || value >= range.max)
      ) {
        note(this.#outOfRange[column]!, index);
      }
    }
  }

  /** Intensity statistics, blank and saturated images; returns what the cut rule needs. */
  #addPixels(values: Uint8Array | Float64Array, start: number, index: number) {
    const size = this.#layout.imageSize;
    const end = start + this.#area;
    // uint8 values cannot leave their range; float64 ones can (and can be NaN).
    const checkRange = this.#full === 1;
    let sum = 0, sumSquares = 0, lit = 0, min = Infinity, max = -Infinity, invalid = 0;
    for (let position = start; position < end; position++) {
      const value = values[position]!;
      if (checkRange && !(value >= 0 && value <= 1)) {
        invalid++;
        if (Number.isNaN(value)) continue;
      }
      sum += value;
      sumSquares += value * value;
      if (value > 0) lit++;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    let borderLit = false;
    for (let offset = 0; offset < size && !borderLit; offset++) {
      borderLit = values[start + offset]! > 0 || values[end - 1 - offset]! > 0 ||
        values[start + offset * size]! > 0 || values[start + offset * size + size - 1]! > 0;
    }
    if (max <= 0 && invalid === 0) note(this.#blank, index);
    if (min >= this.#full && invalid === 0) note(this.#saturated, index);
    this.#sum += sum;
    this.#sumSquares += sumSquares;
    this.#nonzero += lit;
    this.#invalidValues += invalid;
    if (min < this.#min) this.#min = min;
    if (max > this.#max) this.#max = max;
    return { mass: sum / this.#full, borderLit, litPixels: lit };
  }

  /**
   * {@linkcode QualityAccumulator.#addPixels} for uint8 images whose bytes are aligned to 4:
   * the same figures (integer sums, exact in any order), four pixels per read.
   */
  #addPixelWords(bytes: Uint8Array, words: Uint32Array, start: number, index: number) {
    const size = this.#layout.imageSize;
    const end = start + this.#area;
    let sum = 0, sumSquares = 0, lit = 0, min = 255, max = 0;
    for (let word = start >>> 2; word < end >>> 2; word++) {
      const packed = words[word]!;
      if (packed === 0) {
        min = 0;
        continue;
      }
      for (let shift = 0; shift < 32; shift += 8) {
        const value = (packed >>> shift) & 0xff;
        if (value === 0) {
          min = 0;
          continue;
        }
        sum += value;
        sumSquares += value * value;
        lit++;
        if (value < min) min = value;
        if (value > max) max = value;
      }
    }
    let borderLit = false;
    for (let offset = 0; offset < size && !borderLit; offset++) {
      borderLit = bytes[start + offset]! > 0 || bytes[end - 1 - offset]! > 0 ||
        bytes[start + offset * size]! > 0 || bytes[start + offset * size + size - 1]! > 0;
    }
    if (max <= 0) note(this.#blank, index);
    if (min >= 255) note(this.#saturated, index);
    this.#sum += sum;
    this.#sumSquares += sumSquares;
    this.#nonzero += lit;
    if (min < this.#min) this.#min = min;
    if (max > this.#max) this.#max = max;
    return { mass: sum / 255, borderLit, litPixels: lit };
  }

  /**
   * Finishes the report: finds exact duplicates (reading candidate images again) and gives
   * every check its verdict.
   *
   * @param readImage Reads image `index`'s bytes again, for the duplicate candidates (at once
   *   or by a promise).
   * @returns The report.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { QualityAccumulator } from "./quality.ts";
   *
   * const quality = new QualityAccumulator({
   *   numImages: 1, imageSize: 4, dtype: "uint8", classNames: ["a", "b"], latentNames: [],
   *   declared: [],
   * });
   * const images = new Uint8Array(16).fill(255);
   * quality.add({ start: 0, images, labels: new Uint8Array([1]), latents: new Float32Array(0) });
   * const report = await quality.finish(() => Promise.resolve(images));
   * assert.equal(report.saturated.count, 1);
   * ```
   */
  async finish(
    readImage: (index: number) => Uint8Array | Promise<Uint8Array>,
  ): Promise<QualityReport> {
    const layout = this.#layout;
    if (this.#seen !== layout.numImages) {
      throw new RangeError(
        `Cannot finish the report: ${this.#seen} of ${layout.numImages} images were added`,
      );
    }
    const duplicates = await this.#duplicates.finish(readImage);
    const pixels = layout.numImages * this.#area;
    const counted = pixels - (layout.dtype === "float64" ? this.#invalidValues : 0);
    const mean = this.#sum / counted;
    const variance = Math.max(0, this.#sumSquares / counted - mean * mean);
    const balance = this.#classCounts.length >= 2 ? classBalance(this.#classCounts) : {
      chiSquare: 0,
      degreesOfFreedom: 0,
      pValue: 1,
      maxMinRatio: 1,
      verdict: "pass" as const,
    };
    const report: QualityReport = {
      numImages: layout.numImages,
      imageSize: layout.imageSize,
      dtype: layout.dtype,
      checks: [],
      classes: {
        counts: layout.classNames.map((name, index) => ({
          name,
          count: this.#classCounts[index]!,
        })),
        invalidLabels: this.#invalidLabels,
        chiSquare: balance.chiSquare,
        degreesOfFreedom: balance.degreesOfFreedom,
        pValue: balance.pValue,
        maxMinRatio: balance.maxMinRatio,
      },
      latents: this.#latentReports(),
      blank: this.#blank,
      saturated: this.#saturated,
      cut: { ...this.#cut, checked: layout.shapes !== undefined },
      duplicates,
      intensity: {
        fullValue: this.#full,
        mean: finite(mean),
        std: finite(Math.sqrt(variance)),
        min: finite(this.#min),
        max: finite(this.#max),
        nonzeroFraction: finite(this.#nonzero / pixels),
        invalidValues: this.#invalidValues,
      },
    };
    report.checks = checkResults(report, balance.verdict, this.#layout.expectedDuplicates);
    return report;
  }

  #latentReports(): LatentReport[] {
    const layout = this.#layout;
    const classes = layout.classNames.length;
    return layout.latentNames.map((name, column) => {
      const declared = layout.declared.find((latent) => latent.name === name);
      const report: LatentReport = {
        name,
        declared: declared === undefined ? null : {
          min: declared.min,
          max: declared.max,
          ...(declared.values === undefined ? {} : { values: declared.values.length }),
        },
        observed: {
          min: finite(this.#latentMin[column]!),
          max: finite(this.#latentMax[column]!),
        },
        count: this.#seen - this.#nan[column]!,
        outOfRange: this.#outOfRange[column]!.count,
        outOfRangeExamples: this.#outOfRange[column]!.examples,
        nan: this.#nan[column]!,
      };
      if (declared?.perClass !== undefined) {
        report.perClass = layout.classNames.map((className, label) => {
          const range = declared.perClass?.[className] ?? declared;
          return {
            className,
            declared: { min: range.min, max: range.max },
            observed: {
              min: finite(this.#classMin[column * classes + label]!),
              max: finite(this.#classMax[column * classes + label]!),
            },
            count: this.#classSeen[column * classes + label]!,
          };
        });
      }
      return report;
    });
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function formatNumber(value: number | null, digits = 4): string {
  if (value === null) return "-";
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(digits)));
}

function examples(finding: ImageFinding): string {
  return finding.count === 0 ? "" : ` (e.g. #${finding.examples.slice(0, 5).join(", #")})`;
}

/** The verdict and one-line summary of each check. */
function checkResults(
  report: QualityReport,
  balanceVerdict: Verdict,
  expected: { count: number; reason: string } = { count: 0, reason: "" },
): CheckResult[] {
  const n = report.numImages;
  const classes = report.classes;
  const counts = classes.counts.map((entry) => `${entry.name} ${entry.count}`).join(", ");
  const ratio = classes.maxMinRatio === null ? "inf" : classes.maxMinRatio.toFixed(2);
  const classesSummary =
    `${counts}; max/min ${ratio}, chi2 ${formatNumber(classes.chiSquare, 3)}, p ${
      formatNumber(classes.pValue, 2)
    }` +
    (classes.invalidLabels > 0 ? `; ${plural(classes.invalidLabels, "label")} out of range` : "");

  const latentProblems: string[] = [];
  const latentWarnings: string[] = [];
  for (const latent of report.latents) {
    if (latent.nan > 0) latentProblems.push(`${latent.name} has ${plural(latent.nan, "NaN")}`);
    if (latent.outOfRange > 0) {
      latentProblems.push(
        `${latent.name} out of range in ${plural(latent.outOfRange, "image")} (e.g. #${
          latent.outOfRangeExamples.slice(0, 3).join(", #")
        })`,
      );
    }
    if (latent.declared === null) latentWarnings.push(`${latent.name} has no declared range`);
    const ranges = latent.perClass?.map((range) => ({
      ...range,
      label: `${latent.name} (${range.className})`,
    })) ?? (latent.declared === null ? [] : [{
      declared: latent.declared,
      observed: latent.observed,
      count: latent.count,
      label: latent.name,
    }]);
    for (const range of ranges) {
      const width = range.declared.max - range.declared.min;
      const seen = range.observed.min === null ? 0 : range.observed.max! - range.observed.min;
      if (range.count >= COVERAGE_MIN_VALUES && width > 0 && seen < COVERAGE_WARNING * width) {
        latentWarnings.push(
          `${range.label} covers ${Math.round((100 * seen) / width)}% of its range`,
        );
      }
    }
  }
  const perClass = report.latents.filter((latent) => latent.perClass !== undefined)
    .map((latent) => latent.name);
  const latentsSummary = latentProblems.length > 0
    ? latentProblems.join("; ")
    : latentWarnings.length > 0
    ? latentWarnings.join("; ")
    : `all ${report.latents.length} within their declared ranges` +
      (perClass.length > 0 ? ` (per class for ${perClass.join(", ")})` : "");

  const full = report.intensity.fullValue;
  const intensity = report.intensity;
  const duplicates = report.duplicates;
  const duplicateVerdict: Verdict = duplicates.count <= expected.count
    ? "pass"
    : duplicates.count > expected.count + DUPLICATE_FAIL_FRACTION * n
    ? "fail"
    : "warn";
  const expectedNote = expected.count > 0
    ? `; ${expected.count} expected by construction: ${expected.reason}`
    : "";
  return [
    {
      name: "classes",
      verdict: classes.invalidLabels > 0 ? "fail" : balanceVerdict,
      summary: classesSummary,
    },
    {
      name: "latents",
      verdict: latentProblems.length > 0 ? "fail" : latentWarnings.length > 0 ? "warn" : "pass",
      summary: latentsSummary,
    },
    {
      name: "blank",
      verdict: report.blank.count > 0 ? "fail" : "pass",
      summary: `${report.blank.count} of ${n} images all zero${examples(report.blank)}`,
    },
    {
      name: "saturated",
      verdict: report.saturated.count > 0 ? "fail" : "pass",
      summary: `${report.saturated.count} of ${n} images all ${full}${examples(report.saturated)}`,
    },
    report.cut.checked
      ? {
        name: "cut",
        verdict: report.cut.count > 0 ? "fail" : "pass",
        summary: `${report.cut.count} of ${n} shapes cut by the frame${examples(report.cut)}`,
      }
      : {
        name: "cut",
        verdict: "warn",
        summary: "not checked: the generator's parameters describe no known shapes",
      },
    {
      name: "duplicates",
      verdict: duplicateVerdict,
      summary: duplicates.count === 0
        ? `no two of ${n} images are equal`
        : `${plural(duplicates.count, "image")} equal to an earlier one, in ${
          plural(duplicates.groups, "group")
        } (e.g. #${duplicates.examples[0]![0]} = #${duplicates.examples[0]![1]})${expectedNote}`,
    },
    {
      name: "intensity",
      verdict: intensity.invalidValues > 0 ? "fail" : "pass",
      summary:
        `mean ${formatNumber(intensity.mean)}, std ${formatNumber(intensity.std)}, min ${
          formatNumber(intensity.min)
        }, max ${formatNumber(intensity.max)}, nonzero ${
          intensity.nonzeroFraction === null ? "-" : (100 * intensity.nonzeroFraction).toFixed(1)
        }%` + (intensity.invalidValues > 0
          ? `; ${plural(intensity.invalidValues, "value")} outside [0, 1] or NaN`
          : ""),
    },
  ];
}
