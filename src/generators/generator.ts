/**
 * The contract between a dataset family and the pipeline.
 *
 * A family declares its name, version, classes and latent factors, and knows how to draw the
 * factors of image i and how to render them. The pipeline never looks inside: it asks for
 * factors, renders into float buffers and quantizes. To add a family, write one file that
 * exports a {@linkcode GeneratorFamily} and register it in `registry.ts`.
 *
 * Factors come in three kinds ({@linkcode FactorKind}): categorical (a class, e.g. the shape),
 * discrete (a grid of values, which includes its upper end) and continuous (a range). A family
 * whose factors are all categorical or discrete lists their possible values and can say which
 * value each image takes ({@linkcode ImageGenerator.sampleClasses}); the archive then records
 * `latents_classes` and `latents_sizes`, as dSprites does. A family may fix the number of images
 * (a full grid: {@linkcode ImageGenerator.fixedNumImages}) and declare the duplicates its
 * images have by construction ({@linkcode ImageGenerator.expectedDuplicates}), so that the
 * quality checks do not fail it for them.
 *
 * `dsgen inspect` asks the family, never a table of its own: the declared `latents` (ranges,
 * grids, per-class ranges) for the `latents` check, {@linkcode ImageGenerator.expectedDuplicates}
 * for `duplicates`, and {@linkcode ImageGenerator.shapeExtent} with
 * {@linkcode ImageGenerator.supersampling} for `cut`. A new family gets every check from its
 * own file.
 *
 * ## The sample schema
 * What a run stores per sample is the family's {@linkcode SampleSchema} (`sample_schema.ts`):
 * a list of arrays, each with a name, dtype, per-sample shape and role. A classic family
 * (one grayscale image, a label and a row of latents) declares nothing: its schema is derived
 * by `schemaOf` (`family_schema.ts`) as `images` (S, S) uint8 or float64, `labels` () uint8
 * and `latents` (K,) float32, the arrays every archive had before schemas, and the pipeline
 * fills it from {@linkcode ImageGenerator.sample} and {@linkcode ImageGenerator.render}.
 * Any other family declares {@linkcode ImageGenerator.schema} and fills whole chunks with
 * {@linkcode ImageGenerator.fillChunk}; the writer, workers, slices, merge, verify and the
 * memory estimate follow the schema and know no array by name.
 *
 * @module
 */

import type { ChunkLayout, SampleSchema } from "./sample_schema.ts";

export type { ChunkLayout, SampleSchema };

/** How a factor varies: a class, a grid of values, or a range. */
export type FactorKind = "categorical" | "discrete" | "continuous";

/** A continuous latent factor and the range it is drawn from, uniformly. */
export interface LatentSpec {
  /** Name, e.g. `orientation`; becomes a column of `latents.npy`. */
  name: string;
  /** What the number means, e.g. `radians` or `fraction of the image side`. */
  unit: string;
  /** The smallest value drawn (inclusive). */
  min: number;
  /** The largest value drawn (exclusive). */
  max: number;
  /** Per-class ranges where they differ from `[min, max)`, keyed by class name. */
  perClass?: Record<string, { min: number; max: number }>;
  /** How the factor varies; absent means continuous, drawn from `[min, max)`. */
  kind?: FactorKind;
  /**
   * The possible values of a categorical or discrete factor, in index order; a grid includes
   * both ends, and `min` and `max` bound its domain (its first and last values, or a whole
   * turn for an angle). Images take only these values; `dsgen render` also accepts any value in
   * `[min, max]` for a discrete factor.
   */
  values?: number[];
}

/** A factor of a grid: a latent, or the class, with its possible values. */
export interface FactorSpec extends LatentSpec {
  /** Values that depend on the class (an angle over each shape's symmetry), by class name. */
  perClassValues?: Record<string, number[]>;
}

/** The exact area and perimeter of the shape an image shows, in pixels. */
export interface ShapeExtent {
  /** Area in square pixels. */
  area: number;
  /** Perimeter in pixels. */
  perimeter: number;
}

/** A JSON-compatible value, for the parameters a family records in metadata.json. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A family configured for one image size: what the pipeline calls per image. */
export interface ImageGenerator {
  /** The family's name, e.g. `shapes`. */
  readonly name: string;
  /** The family's version: bump it whenever the pixels of any (seed, i) change. */
  readonly version: string;
  /** Side of the square images in pixels. */
  readonly imageSize: number;
  /** Class names; a label is an index into this list. */
  readonly classes: readonly string[];
  /** The latent factors, in the order of the columns of `latents.npy`. */
  readonly latents: readonly LatentSpec[];
  /** Every parameter that shapes the output, as recorded in metadata.json. */
  readonly parameters: { [key: string]: JsonValue };
  /**
   * The number of images the family's configuration fixes (a full grid), if it fixes one.
   */
  readonly fixedNumImages?: number;
  /**
   * How many images of a run equal an earlier one by construction (e.g. a square turned by 90°
   * on a grid that holds both angles), for `numImages` images; `dsgen inspect` allows them.
   */
  expectedDuplicates?(numImages: number): { count: number; reason: string };
  /**
   * The exact area and perimeter of the one shape image's factors describe, in pixels, for a
   * family whose images show one shape on a dark background; `dsgen inspect`'s `cut` check
   * compares it with the pixels (a shape cut by the frame has less mass than area). Absent: the
   * check is not made. Undefined for a label the family does not know.
   */
  shapeExtent?(label: number, latents: Float32Array, offset: number): ShapeExtent | undefined;
  /**
   * Samples per pixel side of the family's anti-aliasing, which bounds its rendering error in
   * the `cut` check (absent: 1, the most lenient).
   */
  readonly supersampling?: number;
  /**
   * The factors of a grid, in the column order of `latents_classes`, when they differ from
   * `latents` (`shapes` puts the class first); each lists its `values`, or `perClassValues`.
   */
  readonly factors?: readonly FactorSpec[];
  /**
   * For a family whose factors ({@linkcode ImageGenerator.factors}, else `latents`) all list
   * their values: writes the value index of each factor of image `index` at
   * `classesOut[offset]`.
   */
  sampleClasses?(seed: number, index: number, classesOut: Int32Array, offset: number): void;
  /**
   * For a family whose latents include the class (dSprites' `shape` column): the label of a row
   * of latents, so that `dsgen render` needs no separate label column.
   */
  labelOf?(latents: Float32Array, offset: number): number;
  /**
   * Draws the class and latent factors of image `index` from `seed` alone.
   * Writes `latents.length` float32 values at `latentsOut[offset]` and returns the label.
   */
  sample(seed: number, index: number, latentsOut: Float32Array, offset: number): number;
  /**
   * Renders one image from its label and factors as values in [0, 1] into
   * `pixelsOut[pixelOffset .. pixelOffset + imageSize²)`, which the caller has zeroed.
   */
  render(
    label: number,
    latents: Float32Array,
    latentOffset: number,
    pixelsOut: Float64Array,
    pixelOffset: number,
  ): void;
  /**
   * The arrays of one sample, for a family that does not store the classic `images`,
   * `labels` and `latents` (a {@linkcode SampleSchema} from `checkSampleSchema`). The archive
   * holds one `<name>.npy` of shape `(N, ...shape)` per array, in this order; the first array
   * streams straight into the archive while the others wait in spill files, so put the largest
   * first. With a schema, the family must give {@linkcode ImageGenerator.fillChunk}, and the
   * pipeline calls neither `sample` nor `render` (they may throw); `classes` and `latents` are
   * still recorded (as `class_names` and `latent_names`) and may be empty.
   */
  readonly schema?: SampleSchema;
  /**
   * For a family with a {@linkcode ImageGenerator.schema}: fills samples `start .. start +
   * chunk.numSamples - 1` under `seed` into the chunk, sample j of each array at `j x
   * elementsPerSample` of its view. The views are zeroed before the call. Sample i must depend
   * only on (seed, i), whatever the chunking or thread.
   */
  fillChunk?(seed: number, start: number, chunk: ChunkLayout): void;
  /**
   * For a family with a {@linkcode ImageGenerator.fillChunk}: true when it writes every byte of
   * every view of the chunk, whatever the views held before, so the pipeline does not zero
   * them first (default false: zeroed). A family that leaves any byte alone must not set it:
   * tests fill the chunk with garbage first and compare.
   */
  readonly fillsEveryByte?: boolean;
  /**
   * For a family with a {@linkcode ImageGenerator.schema}: bytes of samples (over every array)
   * a chunk holds, about (default 1 MiB). Larger chunks mean fewer messages, writes and CRC
   * combinations per sample, and more memory per chunk in flight.
   */
  readonly chunkBytes?: number;
  /**
   * For a family with a {@linkcode ImageGenerator.schema}, if `dsgen render` is to draw it:
   * fills every array that is not of role `factor` from the `factor` arrays already in the
   * chunk (the other views are zeroed), giving the bytes `fillChunk` gives for those factors.
   */
  renderFromFactors?(chunk: ChunkLayout): void;
  /**
   * Optional, for speed: renders one image straight to the bytes quantizing `render`'s values
   * would give (numpy's `round(clip(x, 0, 1) * 255)`), writing every one of the `imageSize²`
   * bytes at `bytesOut[byteOffset]`. Families without it are rendered to floats and quantized.
   */
  renderBytes?(
    label: number,
    latents: Float32Array,
    latentOffset: number,
    bytesOut: Uint8Array,
    byteOffset: number,
  ): void;
}

/** The options a family is configured with. */
export interface GeneratorOptions {
  /** Side of the square images in pixels. */
  imageSize: number;
  /** The family's own options from the dataset spec, as JSON; absent or `{}` for none. */
  options?: { readonly [key: string]: JsonValue };
}

/** A dataset family: its description and a factory for configured generators. */
export interface GeneratorFamily {
  /** Unique name, used on the command line and in metadata.json. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The smallest image side the family draws, in pixels; absent: any size dsgen accepts. */
  readonly minImageSize?: number;
  /** The image side when none is given, in pixels; absent: 16. */
  readonly defaultImageSize?: number;
  /** Configures the family for one image size. */
  create(options: GeneratorOptions): ImageGenerator;
}
