/**
 * Whether a version's metadata.json agrees with its archive's own headers: the images array's
 * shape and dtype against `num_images`, `image_size` and `dtype` (for a family with its own
 * sample schema, its first array's length against `num_images`), and every recorded array
 * against the entry of that name (dtype, shape, data offset). The headers are what the data
 * is; metadata.json only says so, and a reader that trusts it would, for a record claiming
 * 10^12 images, plan and report on images that do not exist.
 *
 * @module
 */

import type { NpzReader } from "../format/npz_reader.ts";
import { METADATA_FILE, type VersionMetadata } from "../store/metadata.ts";

/** A shape as numpy prints it: `(1000,)`, `(1000, 16, 16)`. */
function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * The first way a version's metadata.json and its archive's headers disagree, or undefined.
 *
 * @param metadata The version's checked metadata.json.
 * @param reader Its open `dataset.npz`.
 * @returns One sentence naming the field and both values, or undefined when they agree.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "../run/generate_dataset.ts";
 * import { NpzReader } from "../format/npz_reader.ts";
 * import { archiveDisagreement } from "./metadata_agreement.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const { path, metadata } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 3, numImages: 20, imageSize: 8, dtype: "uint8" }, dir, { name: "demo", workers: 1 });
 * const reader = await NpzReader.open(`${path}/dataset.npz`);
 * assert.equal(archiveDisagreement(metadata, reader), undefined);
 * assert.match(archiveDisagreement({ ...metadata, num_images: 1e12 }, reader)!,
 *   /num_images 1000000000000 .* but dataset\.npz holds 20 images/);
 * reader.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function archiveDisagreement(
  metadata: VersionMetadata,
  reader: NpzReader,
): string | undefined {
  const images = reader.entries.find((entry) => entry.name === "images");
  const classic = metadata.arrays.some((array) =>
    ["images", "labels", "latents"].includes(array.name)
  );
  if (images === undefined && !classic) {
    // A family with its own sample schema: its first array holds one entry per sample.
    const first = reader.entries[0];
    if (first === undefined) return "dataset.npz holds no arrays";
    if (first.header.shape[0] !== metadata.num_images) {
      return `${METADATA_FILE} says num_images ${metadata.num_images} but dataset.npz's ` +
        `${first.name} holds ${first.header.shape[0]}`;
    }
    return arraysDisagreement(reader, metadata);
  }
  if (images === undefined) return "dataset.npz holds no images.npy";
  const [count, rows, columns] = images.header.shape;
  const { num_images: numImages, image_size: size, dtype } = metadata;
  if (count !== numImages || rows !== size || columns !== size) {
    return `${METADATA_FILE} says num_images ${numImages} and image_size ${size} but ` +
      `dataset.npz holds ${count} images of shape ${shapeText(images.header.shape.slice(1))}`;
  }
  const descr = { uint8: "|u1", float64: "<f8" }[dtype as "uint8" | "float64"];
  if (images.header.descr !== descr) {
    return `${METADATA_FILE} says dtype ${dtype} but dataset.npz's images are ` +
      `${images.header.descr}`;
  }
  return arraysDisagreement(reader, metadata);
}

/**
 * The first recorded array that differs from the archive's entry (dtype, shape, data offset),
 * or an entry or record without its counterpart; undefined when they agree.
 *
 * @param reader The open archive.
 * @param metadata The version's metadata.json.
 * @returns One sentence, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arraysDisagreement } from "./metadata_agreement.ts";
 * const reader = { entries: [] } as never;
 * assert.equal(arraysDisagreement(reader, { arrays: [] } as never), undefined);
 * ```
 */
export function arraysDisagreement(
  reader: NpzReader,
  metadata: VersionMetadata,
): string | undefined {
  const recorded = new Map(metadata.arrays.map((array) => [array.name, array]));
  for (const entry of reader.entries) {
    const array = recorded.get(entry.name);
    if (array === undefined) {
      return `dataset.npz holds ${entry.fileName}, which ${METADATA_FILE} does not list`;
    }
    const shape = shapeText(entry.header.shape);
    const expected = shapeText(array.shape);
    if (entry.header.descr !== array.dtype || shape !== expected) {
      return `${entry.fileName} has dtype ${entry.header.descr} and shape ${shape} but ` +
        `${METADATA_FILE} records ${array.dtype} and ${expected}`;
    }
    // A wrong offset would have np.memmap read other bytes than the array.
    if (array.offset !== undefined && array.offset !== entry.dataOffset) {
      return `${entry.fileName}'s data starts at byte ${entry.dataOffset} but ` +
        `${METADATA_FILE} records offset ${array.offset}`;
    }
    recorded.delete(entry.name);
  }
  const [missing] = recorded.keys();
  return missing === undefined
    ? undefined
    : `dataset.npz lacks ${missing}.npy, which ${METADATA_FILE} lists`;
}
