/**
 * The arrays of a dsgen `dataset.npz` as an open archive holds them, checked against the
 * archive layout every dsgen dataset has (`pipeline/dataset_schema.ts`).
 *
 * @module
 */

import { bytesPerPixel } from "../pipeline/render.ts";
import { decodeUnicodeArray, itemSize, type NpyHeader } from "../format/npy.ts";
import { checkArrayHeaders, DATASET_ARRAYS } from "../pipeline/dataset_schema.ts";
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

/**
 * Checks the arrays' dtypes and shapes against each other and reads the names.
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
  const headers = new Map<string, NpyHeader>();
  for (const array of DATASET_ARRAYS) headers.set(array.name, reader.entry(array.name).header);
  const dims = checkArrayHeaders(headers, { path: reader.path });
  const imageSize = dims.S!;
  const dtype = headers.get("images")!.descr === "|u1" ? "uint8" : "float64";
  return {
    numImages: dims.N!,
    imageSize,
    dtype,
    imageBytes: imageSize * imageSize * bytesPerPixel(dtype),
    classNames: decodeUnicodeArray(
      await reader.readAll("class_names"),
      itemSize(headers.get("class_names")!.descr) / 4,
    ),
    latentNames: decodeUnicodeArray(
      await reader.readAll("latent_names"),
      itemSize(headers.get("latent_names")!.descr) / 4,
    ),
  };
}
