/**
 * Inspecting a version: one streaming pass over `dataset.npz` computes the quality report, and
 * a few random reads fetch the samples for the inspection grid.
 *
 * Images, labels and latents are streamed side by side in chunks of the same images (about
 * 4 MiB of pixels), so memory stays flat whatever the dataset's size: besides one chunk, only
 * 8 bytes an image are kept (the duplicate hashes). The CRC-32 of each of the three arrays is
 * checked at the end of its stream, so a corrupted archive fails instead of being reported on.
 *
 * @module
 */

import { join } from "node:path";
import { NpzReader } from "../format/npz_reader.ts";
import { decodeUnicodeArray } from "../format/npy.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { createGenerator } from "../generators/spec.ts";
import { quantize } from "../pipeline/quantize.ts";
import { ARCHIVE_FILE } from "../store/metadata.ts";
import type { OpenedVersion } from "../store/open_version.ts";
import { recordedLatents } from "../store/recorded_latents.ts";
import { type DatasetArrays, readDatasetArrays } from "./dataset_arrays.ts";
import { shapeModel } from "./frame_cut.ts";
import { blockImageReader } from "./image_blocks.ts";
import { QualityAccumulator, type QualityReport } from "./quality.ts";
import { drawSampleIndices } from "./sample_indices.ts";
import { type FactorHistogram, FactorHistograms, traversalRows } from "./factor_pictures.ts";

/** One sample for the grid. */
export interface InspectedSample {
  /** The image's index in the dataset. */
  index: number;
  /** The image's label, as stored. */
  label: number;
  /** The class name, or `label N` for a label out of range. */
  className: string;
  /** The image as uint8 gray levels (float64 images quantized as dsgen does). */
  pixels: Uint8Array;
}

/** What {@linkcode inspectVersion} found. */
export interface Inspection {
  /** The archive's layout. */
  arrays: DatasetArrays;
  /** The quality report over every image. */
  report: QualityReport;
  /** The grid samples, by ascending index. */
  samples: InspectedSample[];
  /** A histogram per factor, the labels' first. */
  histograms: FactorHistogram[];
  /** For a full grid: one row of images per factor stepping through its values. */
  traversals?: { pixels: Uint8Array; caption: string }[][];
}

/** Options of {@linkcode inspectVersion}. */
export interface InspectOptions {
  /** How many samples to draw (default 100). */
  samples?: number;
  /** The sampling seed. */
  seed: number;
  /** Target bytes of pixels per chunk (default 4 MiB). */
  chunkBytes?: number;
  /** Called after each chunk with the number of images done. */
  onProgress?: (imagesDone: number) => void;
}

const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** The most images a traversal row shows. */
const TRAVERSAL_STEPS = 10;

/**
 * The factor grid of an archive that holds every combination once (`latents_sizes` whose
 * product is the number of images), with each factor's possible values; undefined otherwise.
 */
async function readFullGrid(
  reader: NpzReader,
  latentNames: readonly string[],
  numImages: number,
): Promise<{ names: readonly string[]; sizes: number[]; values: number[][] } | undefined> {
  const has = (name: string) => reader.entries.some((entry) => entry.name === name);
  if (!has("latents_sizes") || reader.entry("latents_sizes").header.descr !== "<i8") {
    return undefined;
  }
  let names = latentNames;
  const words = new Int32Array((await reader.readAll("latents_sizes")).slice().buffer);
  const sizes = Array.from({ length: words.length / 2 }, (_, index) => words[2 * index]!);
  // The columns of latents_classes: factor_names when the family lists them (shapes: the
  // class first), else latent_names.
  if (has("factor_names")) {
    const width = /^<U(\d+)$/.exec(reader.entry("factor_names").header.descr)?.[1];
    if (width !== undefined) {
      names = decodeUnicodeArray(await reader.readAll("factor_names"), Number(width));
    }
  }
  if (sizes.length !== names.length || sizes.reduce((a, b) => a * b, 1) !== numImages) {
    return undefined;
  }
  const values: number[][] = [];
  for (const [factor, name] of names.entries()) {
    const key = `latents_possible_values_${name}`;
    // A factor whose values depend on the class (a (C, n) array) is captioned by index.
    const entry = has(key) ? reader.entry(key) : undefined;
    values.push(
      entry?.header.descr === "<f8" && entry.header.shape.length === 1 &&
        entry.header.shape[0] === sizes[factor]
        ? Array.from(new Float64Array((await reader.readAll(key)).slice().buffer))
        : [],
    );
  }
  return { names, sizes, values };
}

/**
 * The version's family, configured as the version was made, which the checks ask for its
 * latents, duplicates and shapes; undefined when it cannot be loaded here.
 */
async function versionFamily(version: OpenedVersion): Promise<ImageGenerator | undefined> {
  const spec = version.metadata.spec;
  // Only dsgen's own families: a module named in metadata.json is never imported.
  if (spec === undefined || spec.family.module !== undefined) return undefined;
  try {
    return await createGenerator(spec);
  } catch {
    return undefined;
  }
}

/**
 * Computes the quality report of a version over all its images and reads the samples.
 *
 * @param version The version, as {@linkcode OpenedVersion} gives it.
 * @param options The number of samples, the sampling seed, chunk size and progress callback.
 * @returns The arrays' layout, the report and the samples (ascending index).
 * @throws {TypeError} If the archive is unreadable, truncated, corrupted or of the wrong layout.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "../run/generate_dataset.ts";
 * import { openVersion } from "../store/open_version.ts";
 * import { inspectVersion } from "./inspect_version.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const { path } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 3, numImages: 50, imageSize: 8, dtype: "uint8" }, dir, { name: "demo", workers: 1 });
 * const inspection = await inspectVersion(await openVersion(path), { samples: 4, seed: 1 });
 * assert.equal(inspection.samples.length, 4);
 * assert.equal(inspection.report.checks.find((check) => check.name === "blank")?.verdict, "pass");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function inspectVersion(
  version: OpenedVersion,
  options: InspectOptions,
): Promise<Inspection> {
  const reader = await NpzReader.open(join(version.path, ARCHIVE_FILE));
  try {
    const arrays = await readDatasetArrays(reader);
    const { numImages, imageBytes, latentNames } = arrays;
    const family = await versionFamily(version);
    const shapes = family === undefined ? undefined : shapeModel(family);
    const expectedDuplicates = family?.expectedDuplicates?.(numImages);
    // A family loaded here declares its latents; another's are as metadata.json records them.
    const declared = family?.latents ??
      recordedLatents(version.metadata.generator.parameters ?? {});
    const histograms = new FactorHistograms({ ...arrays, declared });
    const quality = new QualityAccumulator({
      ...arrays,
      declared,
      shapes,
      expectedDuplicates,
    });
    const imagesPerChunk = Math.max(
      1,
      Math.floor((options.chunkBytes ?? DEFAULT_CHUNK_BYTES) / imageBytes),
    );
    const width = latentNames.length;
    const images = reader.stream("images", { chunkBytes: imagesPerChunk * imageBytes });
    const labels = reader.stream("labels", { chunkBytes: imagesPerChunk });
    const latents = reader.stream("latents", {
      chunkBytes: Math.max(1, imagesPerChunk * width * 4),
    });
    for (let start = 0; start < numImages; start += imagesPerChunk) {
      const count = Math.min(imagesPerChunk, numImages - start);
      const imageChunk = (await images.next()).value as Uint8Array;
      const labelChunk = (await labels.next()).value as Uint8Array;
      const latentChunk = width === 0
        ? new Uint8Array(0)
        : (await latents.next()).value as Uint8Array;
      const latentValues = new Float32Array(
        latentChunk.buffer,
        latentChunk.byteOffset,
        count * width,
      );
      quality.add({ start, images: imageChunk, labels: labelChunk, latents: latentValues });
      histograms.add(labelChunk, latentValues);
      options.onProgress?.(start + count);
    }
    // Drain the streams: their CRC-32 checks run after the last chunk.
    for (const stream of [images, labels, latents]) {
      for (let next = await stream.next(); !next.done; next = await stream.next()) {
        // Nothing left but the check.
      }
    }
    const readImage = blockImageReader(reader, { imageBytes, numImages });
    const report = await quality.finish(readImage);
    const samples: InspectedSample[] = [];
    for (const index of drawSampleIndices(numImages, options.seed, { count: options.samples })) {
      const bytes = await readImage(index);
      const label = (await reader.read("labels", { offset: index, length: 1 }))[0]!;
      const pixels = arrays.dtype === "uint8"
        ? bytes
        : quantize(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8));
      samples.push({
        index,
        label,
        className: arrays.classNames[label] ?? `label ${label}`,
        pixels,
      });
    }
    const toUint8 = (bytes: Uint8Array) =>
      arrays.dtype === "uint8"
        ? bytes
        : quantize(new Float64Array(bytes.slice().buffer, 0, bytes.length / 8));
    const inspection: Inspection = {
      arrays,
      report,
      samples,
      histograms: histograms.finish(),
    };
    const grid = await readFullGrid(reader, latentNames, numImages);
    if (grid !== undefined) {
      inspection.traversals = [];
      for (const row of traversalRows(grid, TRAVERSAL_STEPS)) {
        const cells = [];
        for (const cell of row) {
          cells.push({ pixels: toUint8(await readImage(cell.index)), caption: cell.caption });
        }
        inspection.traversals.push(cells);
      }
    }
    return inspection;
  } finally {
    reader.close();
  }
}
