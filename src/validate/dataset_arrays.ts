/**
 * The arrays of a dsgen `dataset.npz` as an open archive holds them, checked for the layout
 * every dsgen dataset has (see `pipeline/dataset.ts`): `images` (N, S, S) uint8 or float64,
 * `labels` (N,) uint8, `latents` (N, K) float32, `class_names` (C,) and `latent_names` (K,)
 * unicode.
 *
 * @module
 */

import { bytesPerPixel } from "../pipeline/render.ts";
import { decodeUnicodeArray, type NpyHeader } from "../format/npy.ts";
import type { NpzReader } from "../format/npz_reader.ts";

/** The shape and names of a dataset, read from its archive. */
export interface DatasetArrays {
  /** N, the number of images. */
  numImages: number;
  /** S, the side of an image in pixels. */
  imageSize: number;
  /** The images' dtype. */
  dtype: "uint8" | "float64";
  /** Bytes of one image: S² for uint8, 8 S² for float64. */
  imageBytes: number;
  /** The class names, by label. */
  classNames: string[];
  /** The latent names, by column of `latents`. */
  latentNames: string[];
}

function shapeText(header: NpyHeader): string {
  return header.shape.length === 1 ? `(${header.shape[0]},)` : `(${header.shape.join(", ")})`;
}

function unicodeWidth(header: NpyHeader): number | undefined {
  const match = /^<U(\d+)$/.exec(header.descr);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Checks the five arrays' dtypes and shapes against each other and reads the names.
 *
 * @param reader The open archive.
 * @returns The number of images, their size and dtype, and the class and latent names.
 * @throws {TypeError} Naming the first array whose dtype or shape is wrong, or a missing one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { writeDatasetNpz } from "../pipeline/dataset.ts";
 * import { NpzReader } from "../format/npz_reader.ts";
 * import { readDatasetArrays } from "./dataset_arrays.ts";
 *
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/dataset.npz`;
 * await writeDatasetNpz({ generator, numImages: 5, seed: 1, dtype: "uint8", chunkImages: 5 }, path);
 * const reader = await NpzReader.open(path);
 * const arrays = await readDatasetArrays(reader);
 * reader.close();
 * assert.equal(arrays.numImages, 5);
 * assert.deepEqual(arrays.classNames, ["ellipse", "square", "triangle"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDatasetArrays(reader: NpzReader): Promise<DatasetArrays> {
  const wrong = (name: string, problem: string): never => {
    throw new TypeError(`Cannot use ${reader.path}: ${name}.npy ${problem}`);
  };
  const images = reader.entry("images").header;
  const labels = reader.entry("labels").header;
  const latents = reader.entry("latents").header;
  const classNames = reader.entry("class_names").header;
  const latentNames = reader.entry("latent_names").header;

  if (images.descr !== "|u1" && images.descr !== "<f8") {
    wrong("images", `has dtype ${images.descr}, expected |u1 (uint8) or <f8 (float64)`);
  }
  const [numImages, height, width] = images.shape;
  if (
    images.shape.length !== 3 || numImages === undefined || height === undefined ||
    height !== width
  ) {
    wrong("images", `has shape ${shapeText(images)}, expected (N, S, S)`);
  }
  if (labels.descr !== "|u1") wrong("labels", `has dtype ${labels.descr}, expected |u1 (uint8)`);
  if (labels.shape.length !== 1 || labels.shape[0] !== numImages) {
    wrong("labels", `has shape ${shapeText(labels)}, expected (${numImages},)`);
  }
  if (latents.descr !== "<f4") wrong("latents", `has dtype ${latents.descr}, expected <f4`);
  const latentCount = latents.shape[1];
  if (latents.shape.length !== 2 || latents.shape[0] !== numImages || latentCount === undefined) {
    wrong("latents", `has shape ${shapeText(latents)}, expected (${numImages}, K)`);
  }
  const classWidth = unicodeWidth(classNames);
  if (classWidth === undefined || classNames.shape.length !== 1) {
    wrong(
      "class_names",
      `has dtype ${classNames.descr} and shape ${shapeText(classNames)}, ` +
        "expected a 1-D unicode array",
    );
  }
  const latentWidth = unicodeWidth(latentNames);
  if (
    latentWidth === undefined || latentNames.shape[0] !== latentCount ||
    latentNames.shape.length !== 1
  ) {
    wrong(
      "latent_names",
      `has dtype ${latentNames.descr} and shape ${shapeText(latentNames)}, ` +
        `expected (${latentCount},) unicode`,
    );
  }
  const dtype = images.descr === "|u1" ? "uint8" : "float64";
  return {
    numImages: numImages!,
    imageSize: height!,
    dtype,
    imageBytes: height! * height! * bytesPerPixel(dtype),
    classNames: decodeUnicodeArray(await reader.readAll("class_names"), classWidth!),
    latentNames: decodeUnicodeArray(await reader.readAll("latent_names"), latentWidth!),
  };
}
