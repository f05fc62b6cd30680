/**
 * The whole pipeline for one archive: render -> quantize -> NPZ, streamed chunk by chunk.
 *
 * `dataset.npz` holds five arrays:
 *
 * | key            | dtype           | shape      | content                                   |
 * | -------------- | --------------- | ---------- | ----------------------------------------- |
 * | `images`       | uint8 (float64) | (N, S, S)  | pixels, 0 black to 255 white               |
 * | `labels`       | uint8           | (N,)       | class index into `class_names`             |
 * | `latents`      | float32         | (N, K)     | latent factors, columns as `latent_names`  |
 * | `class_names`  | unicode         | (C,)       | class names                                |
 * | `latent_names` | unicode         | (K,)       | latent factor names                        |
 *
 * Families whose factors lie on a grid (`dsprites`) add the factor arrays of
 * `factor_arrays.ts` after these: `latents_classes`, `latents_sizes` and the possible values.
 *
 * Images stream first, in chunks; labels and latents are drawn again afterwards (drawing is
 * cheap next to rendering), so no array of the dataset is ever held whole in memory.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ImageGenerator } from "../generators/generator.ts";
import {
  encodeNpyHeader,
  encodeUnicodeArray,
  itemSize,
  npyDataLength,
  type NpyDtype,
  type NpyHeader,
} from "../format/npy.ts";
import { NpzWriter } from "../format/npz.ts";
import { type ImageDtype, renderImageBytes, sampleChunk } from "./render.ts";
import { type FactorArray, factorArrays } from "./factor_arrays.ts";

/** What to generate. */
export interface DatasetPlan {
  /** The configured family. */
  generator: ImageGenerator;
  /** Number of images. */
  numImages: number;
  /** The dataset seed. */
  seed: number;
  /** `uint8` (quantized) or `float64` (the values before quantization: the baseline). */
  dtype: ImageDtype;
  /** Images per chunk; see {@linkcode chunkImages}. */
  chunkImages: number;
}

/** An array as written, for metadata.json. */
export interface ArrayRecord {
  /** The array's key in the archive, e.g. `images` (the entry is `<name>.npy`). */
  name: string;
  /** The `.npy` header's `descr`, e.g. `|u1`, `<f8` or `<U12`. */
  dtype: string;
  /** The array's dimensions, e.g. `[numImages, imageSize, imageSize]` for `images`. */
  shape: number[];
  /** Bytes of the `.npy` entry, header included. */
  bytes: number;
}

/** What {@linkcode writeDatasetNpz} wrote. */
export interface NpzRecord {
  /** The archive's size in bytes. */
  bytes: number;
  /** The SHA-256 of the archive's bytes, as 64 lowercase hex digits. */
  sha256: string;
  /** The arrays, in the order they were written. */
  arrays: ArrayRecord[];
}

/** Options of {@linkcode writeDatasetNpz}. */
export interface WriteOptions {
  /** Called after each chunk of images is written, with the number of images so far. */
  onProgress?: (imagesDone: number) => void;
  /** Stops the run between chunks. */
  signal?: AbortSignal;
  /** Produces the image chunks in order; the default renders them on this thread. */
  imageChunks?: (plan: DatasetPlan, signal?: AbortSignal) => AsyncIterable<Uint8Array>;
}

/** Target size of a chunk's float buffer: small enough to stay in cache-friendly memory. */
const CHUNK_FLOAT_BYTES = 512 * 1024;

/**
 * How many images a chunk holds for this image size: about 512 KiB of floats, at least one.
 *
 * @param imageSize The image side in pixels.
 * @returns Images per chunk.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkImages } from "./dataset.ts";
 * assert.ok(chunkImages(16) === 256);
 * ```
 */
export function chunkImages(imageSize: number): number {
  return Math.max(1, Math.floor(CHUNK_FLOAT_BYTES / (imageSize * imageSize * 8)));
}

/**
 * The dtype descriptor of the images array.
 *
 * @param dtype The image dtype.
 * @returns `|u1` or `<f8`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imageDescr } from "./dataset.ts";
 * assert.ok(imageDescr("float64") === "<f8");
 * ```
 */
export function imageDescr(dtype: ImageDtype): NpyDtype {
  return dtype === "uint8" ? "|u1" : "<f8";
}

/** How often the writer asks V8 to free dead chunk buffers. */
const COLLECT_EVERY_BYTES = 16 * 1024 * 1024;

/**
 * Frees dead chunk buffers now, if the runtime allows it (`--v8-flags=--expose-gc`, which the
 * tasks and the compiled binary pass).
 *
 * zip-js copies every chunk it is given, and chunks arrive from workers as new buffers: all
 * live outside V8's heap, where V8 lets about 64 MB per isolate pile up before it collects.
 * A full collection every 16 MiB (a few milliseconds on this small heap: about 0.1 s per
 * million 16x16 images) keeps the peak low and, above all, the same
 * whatever the number of images. Without the flag nothing happens and memory is a little
 * higher.
 */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: (options?: { type: string }) => void }).gc;
  gc?.();
}

/**
 * The image chunks of a plan, rendered on this thread, in order.
 *
 * @param plan What to generate.
 * @param signal Stops between chunks.
 * @returns The chunks' bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { localImageChunks } from "./dataset.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * let bytes = 0;
 * for await (const chunk of localImageChunks(plan)) bytes += chunk.length;
 * assert.ok(bytes === 5 * 64);
 * ```
 */
export async function* localImageChunks(
  plan: DatasetPlan,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < plan.numImages; start += plan.chunkImages) {
    signal?.throwIfAborted();
    yield renderImageBytes(plan, {
      start,
      count: Math.min(plan.chunkImages, plan.numImages - start),
    });
  }
}

function* sampledChunks(
  plan: DatasetPlan,
  pick: (sampled: { labels: Uint8Array; latents: Float32Array }) => Uint8Array,
  signal?: AbortSignal,
): Generator<Uint8Array> {
  // Sampling is ~50x cheaper than rendering, so these chunks can be large.
  const step = 65536;
  for (let start = 0; start < plan.numImages; start += step) {
    signal?.throwIfAborted();
    const count = Math.min(step, plan.numImages - start);
    yield pick(sampleChunk(plan.generator, plan.seed, { start, count }));
  }
}

/**
 * The five arrays of a plan's archive, without rendering anything: each entry's dtype, shape
 * and size in bytes, its NPY header, and the data of the two small name arrays.
 *
 * @param plan What to generate.
 * @returns The arrays' records, their headers, and the class and latent name data.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { datasetLayout } from "./dataset.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, numImages: 1000, seed: 1, dtype: "uint8" as const, chunkImages: 100 };
 * assert.ok(datasetLayout(plan).arrays[0]!.bytes === 128 + 256000);
 * ```
 */
export function datasetLayout(
  plan: DatasetPlan,
): {
  arrays: ArrayRecord[];
  headers: NpyHeader[];
  nameData: [Uint8Array, Uint8Array];
  factors: FactorArray[];
} {
  const { generator, numImages } = plan;
  const size = generator.imageSize;
  const classNames = encodeUnicodeArray(generator.classes);
  const latentNames = encodeUnicodeArray(generator.latents.map((latent) => latent.name));
  const headers: NpyHeader[] = [
    { descr: imageDescr(plan.dtype), fortranOrder: false, shape: [numImages, size, size] },
    { descr: "|u1", fortranOrder: false, shape: [numImages] },
    { descr: "<f4", fortranOrder: false, shape: [numImages, generator.latents.length] },
    { descr: classNames.descr, fortranOrder: false, shape: [generator.classes.length] },
    { descr: latentNames.descr, fortranOrder: false, shape: [generator.latents.length] },
  ];
  const names = ["images", "labels", "latents", "class_names", "latent_names"];
  const arrays = headers.map((header, index) => ({
    name: names[index]!,
    dtype: header.descr,
    shape: header.shape,
    bytes: encodeNpyHeader(header).length + npyDataLength(header),
  }));
  // The factor arrays of a grid family, after the five.
  const factors = factorArrays(generator, plan);
  for (const factor of factors) {
    arrays.push({
      name: factor.name,
      dtype: factor.header.descr,
      shape: factor.header.shape,
      bytes: encodeNpyHeader(factor.header).length + npyDataLength(factor.header),
    });
  }
  // The data of class_names and latent_names, small enough to hold whole.
  return { arrays, headers, nameData: [classNames.data, latentNames.data], factors };
}

/**
 * Writes the dataset's archive to `path`, streaming, and hashes it on the way.
 *
 * @param plan What to generate.
 * @param path The file to create (it must not exist).
 * @param options Progress callback, abort signal and the image chunk producer.
 * @returns The file's size and SHA-256, and the arrays written.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { writeDatasetNpz } from "./dataset.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, numImages: 10, seed: 1, dtype: "uint8" as const, chunkImages: 4 };
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/dataset.npz`;
 * const record = await writeDatasetNpz(plan, path);
 * assert.ok(record.bytes === (await Deno.stat(path)).size);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeDatasetNpz(
  plan: DatasetPlan,
  path: string,
  options: WriteOptions = {},
): Promise<NpzRecord> {
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    const writable = new WritableStream<Uint8Array>({
      async write(chunk) {
        hash.update(chunk);
        bytes += chunk.length;
        // Asynchronous on purpose: writeSync was no faster (2.60-2.87 s against 2.75-2.97 s
        // for 1,000,000 images) and raised the peak of single-thread 64x64 float64 runs by
        // about 10 MB, dead buffers being freed later when the event loop never waits.
        let offset = 0;
        while (offset < chunk.length) offset += await file.write(chunk.subarray(offset));
        if (
          Math.floor(bytes / COLLECT_EVERY_BYTES) !==
            Math.floor((bytes - chunk.length) / COLLECT_EVERY_BYTES)
        ) {
          collectGarbage();
        }
      },
    });
    const arrays = await streamDatasetNpz(plan, writable, options);
    await file.sync();
    return { bytes, sha256: hash.digest("hex"), arrays };
  } finally {
    file.close();
  }
}

/**
 * The exact size of the archive {@linkcode writeDatasetNpz} writes for a plan, in bytes.
 *
 * The zip structures around the arrays (local headers, data descriptors, central directory)
 * do not depend on the number of images, only on the entries' names and on Zip64; so this
 * writes a one-image archive of the same kind to nowhere, and adds the difference.
 *
 * @param plan What to generate.
 * @returns The archive's size in bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { predictArchiveBytes } from "./dataset.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, numImages: 1000, seed: 1, dtype: "uint8" as const, chunkImages: 100 };
 * assert.ok(await predictArchiveBytes(plan) > 256000);
 * ```
 */
export async function predictArchiveBytes(plan: DatasetPlan): Promise<number> {
  const arraysBytes = (p: DatasetPlan) =>
    datasetLayout(p).arrays.reduce((total, array) => total + array.bytes, 0);
  const probe = { ...plan, numImages: 1, chunkImages: 1 };
  let probeBytes = 0;
  await streamDatasetNpz(
    probe,
    new WritableStream({ write: (chunk) => void (probeBytes += chunk.length) }),
    { expectedBytes: arraysBytes(plan) },
  );
  return arraysBytes(plan) + probeBytes - arraysBytes(probe);
}

async function streamDatasetNpz(
  plan: DatasetPlan,
  writable: WritableStream<Uint8Array>,
  options: WriteOptions & { expectedBytes?: number },
): Promise<ArrayRecord[]> {
  const { signal, onProgress } = options;
  const { arrays, headers, nameData, factors } = datasetLayout(plan);
  const expectedBytes = options.expectedBytes ??
    arrays.reduce((total, array) => total + array.bytes, 0);
  const npz = new NpzWriter(writable, { expectedBytes });
  const produce = options.imageChunks ?? localImageChunks;
  const bytesPerImage = itemSize(headers[0]!.descr) * plan.generator.imageSize ** 2;
  let imagesDone = 0;
  const images = produce(plan, signal)[Symbol.asyncIterator]();
  try {
    await npz.addArray(
      "images",
      headers[0]!,
      (async function* () {
        for (let next = await images.next(); !next.done; next = await images.next()) {
          yield next.value;
          imagesDone += next.value.length / bytesPerImage;
          onProgress?.(imagesDone);
        }
      })(),
    );
  } finally {
    // When writing fails, zip-js may leave the producer suspended mid-stream; closing it
    // runs its cleanup (the worker pool terminates its threads). A no-op once it is done.
    await images.return?.(undefined);
  }
  await npz.addArray("labels", headers[1]!, sampledChunks(plan, (s) => s.labels, signal));
  await npz.addArray(
    "latents",
    headers[2]!,
    sampledChunks(plan, (s) => new Uint8Array(s.latents.buffer), signal),
  );
  await npz.addArray("class_names", headers[3]!, [nameData[0]]);
  await npz.addArray("latent_names", headers[4]!, [nameData[1]]);
  for (const factor of factors) await npz.addArray(factor.name, factor.header, factor.chunks());
  await npz.close();
  return arrays;
}
