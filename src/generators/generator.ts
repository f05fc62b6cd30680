/**
 * The contract between a dataset family and the pipeline.
 *
 * A family declares its name, version, classes and latent factors, and knows how to draw the
 * factors of image i and how to render them. The pipeline never looks inside: it asks for
 * factors, renders into float buffers and quantizes. To add a family, write one file that
 * exports a {@linkcode GeneratorFamily} and register it in `registry.ts`.
 *
 * @module
 */

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
  /** Configures the family for one image size. */
  create(options: GeneratorOptions): ImageGenerator;
}
