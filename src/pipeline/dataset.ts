/**
 * The whole pipeline for one archive: render -> quantize -> NPZ, streamed chunk by chunk.
 *
 * `dataset.npz` holds the arrays of `dataset_schema.ts` (`DATASET_ARRAYS`), then, for a family
 * whose factors lie on a grid, the factor arrays of `factor_arrays.ts`. Today
 * `images` (N, S, S) uint8 or float64, `labels` (N,) uint8, `latents` (N, K) float32, and the
 * unicode `class_names` (C,) and `latent_names` (K,).
 *
 * Images stream first, in chunks; the labels and latents the render pass drew go to two spill
 * files beside the archive meanwhile (`spill.ts`) and are copied from there afterwards, so no
 * array of the dataset is ever held whole in memory.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { ImageGenerator } from "../generators/generator.ts";
import { encodeNpyHeader, itemSize, npyDataLength, type NpyHeader } from "../format/npy.ts";
import { chunkBytes, type DataChunk, NpzWriter, planNpzLayout } from "../format/npz.ts";
import { bytesPerPixel, type ImageDtype, renderImageBytes, type RowSink } from "./render.ts";
import { dimensionsOf } from "./dataset_schema.ts";
import { datasetArrays } from "./factor_arrays.ts";
import { InlineHasher, ThreadHasher } from "./file_hasher.ts";
import { SpilledArrays } from "./spill.ts";

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
  /**
   * Where the array's data (after its `.npy` header) starts in the archive file, in bytes: a
   * multiple of 64, so `np.memmap(path, dtype, "r", offset, shape)` reads the array in place.
   */
  offset: number;
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

export type { RowSink };

/** Options of {@linkcode writeDatasetNpz}. */
export interface WriteOptions {
  /** Called after each chunk of images is written, with the number of images so far. */
  onProgress?: (imagesDone: number) => void;
  /** Stops the run between chunks. */
  signal?: AbortSignal;
  /**
   * Produces the image chunks in order; the default renders them on this thread. A chunk is
   * plain bytes, or bytes with their CRC-32 (computed where they were made, so the writer
   * only combines checksums). A producer that passes every chunk's labels and latents to
   * `rows` spares the writer drawing them again; one that ignores it leaves them to be drawn.
   */
  imageChunks?: (
    plan: DatasetPlan,
    signal?: AbortSignal,
    rows?: RowSink,
  ) => AsyncIterable<DataChunk>;
  /**
   * Whether SHA-256 runs on a thread of its own, reading the file back (default false: on
   * this thread); the run's plan decides (`thread_plan.ts`).
   */
  hashThread?: boolean;
  /**
   * The chunks are files just read, copied (a merge): they are written 128 KiB per call
   * (`COPY_WRITE_BYTES`; default: a chunk whole), and, since their producer reuses
   * its buffers, no garbage collection is asked for (see `collectGarbage`).
   */
  copying?: boolean;
  /**
   * Produces the bytes of the labels and latents, once the images are written; the default
   * copies them from the spill files the render pass filled (see `imageChunks`). An external
   * renderer's come from its own spill files, and a merge's from the files its slices kept.
   */
  labelsAndLatents?: () => {
    labels: AsyncIterable<Uint8Array>;
    latents: AsyncIterable<Uint8Array>;
  };
}

/**
 * Target size of a chunk: float64 chunks (and the float buffers of families rendered through
 * floats) stay at 512 KiB; uint8 chunks, rendered straight to bytes, are larger, since every
 * chunk costs the main thread tens of microseconds (a message, a write, a CRC combination).
 */
const CHUNK_BYTES = { float64: 512 * 1024, uint8: 1024 * 1024 };

/**
 * How many images a chunk holds for this image size and dtype: about 1 MiB of uint8 pixels or
 * 512 KiB of float64 values, at least one image.
 *
 * @param imageSize The image side in pixels.
 * @param dtype The image dtype (default float64, the smaller chunks).
 * @returns Images per chunk.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkImages } from "./dataset.ts";
 * assert.ok(chunkImages(16) === 256);
 * assert.ok(chunkImages(16, "uint8") === 4096);
 * ```
 */
export function chunkImages(imageSize: number, dtype: ImageDtype = "float64"): number {
  return Math.max(
    1,
    Math.floor(CHUNK_BYTES[dtype] / (imageSize * imageSize * bytesPerPixel(dtype))),
  );
}

/**
 * Bytes per write call for a copy of files just read (a merge). Merging 10,000,000 16x16
 * images (2.7 GB) to this project's machine's disk, runs alternated: 5.6-6.5 s wall and 2.4-2.7 s
 * of system time in 128 KiB writes (and reads), 6.4-8.5 s and 3.6-6.1 s in 4 MiB ones. Freshly
 * rendered chunks gained nothing from it (20,000 256x256 images on tmpfs: 2.1-2.8 s against
 * 1.8-2.1 s whole), so only the merge writes this way.
 */
const COPY_WRITE_BYTES = 128 * 1024;

/**
 * The longest the writer goes without letting the event loop run, in milliseconds. Each turn
 * sleeps to the next timer tick (a `setTimeout(0)`: 2.3 ms here), which is when the runtime
 * reads signals: one turn per 20 ms cost a tenth of a one-thread run (1,000,000 16x16 images
 * on one core: 0.13-0.16 s idle against 0.03-0.04). A SIGINT now stops a one-thread run in 39-84
 * ms (36-53 ms with a turn every 20 ms). Cheaper turns (an awaited write, an already due
 * timer) do not read signals: a SIGINT then took 0.1-0.5 s.
 */
const EVENT_LOOP_TURN_MS = 100;

/** How often the writer asks V8 to free dead chunk buffers. */
const COLLECT_EVERY_BYTES = 256 * 1024 * 1024;

/**
 * Frees dead chunk buffers now, if the runtime allows it (`--v8-flags=--expose-gc`, which the
 * tasks and the compiled binary pass).
 *
 * Chunk buffers are reused, but smaller garbage piles up (the labels' and latents' chunks,
 * messages from workers, buffers handed over by other producers), partly outside V8's heap,
 * where V8 lets about 64 MB per isolate pile up before it collects. A full collection every
 * 256 MiB (a few milliseconds on this small heap) keeps the peak low and, above all, the same
 * whatever the number of images. A merge's copy skips it: its producer reuses every buffer,
 * and ten collections cost it 85-105 ms of 2.7 GB for the same peak. Without the flag nothing
 * happens and memory is a little higher.
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
 * @param rows Receives each chunk's labels and latents, before the chunk is yielded.
 * @param firstImage The dataset index of the plan's first image (default 0: a cluster slice
 *   renders the images `firstImage .. firstImage + plan.numImages - 1`).
 * @returns The chunks' bytes, valid until the next chunk is requested (the buffer is reused).
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
  rows?: RowSink,
  firstImage = 0,
): AsyncGenerator<Uint8Array> {
  // One buffer, rendered into again for each chunk: a fresh buffer per chunk (zeroed, then
  // page-faulted in) cost as much as rendering 256x256 images into it.
  let out: Uint8Array | undefined;
  // The labels and latents too, drawn into again: the rows sink copies them out at once.
  let rowsInto: { labels: Uint8Array; latents: Float32Array } | undefined;
  const factors: RowSink | undefined = rows === undefined ? undefined : (labels, latents) => {
    rows(labels, latents);
    rowsInto = {
      labels,
      latents: new Float32Array(latents.buffer, latents.byteOffset, latents.byteLength / 4),
    };
  };
  for (let start = 0; start < plan.numImages; start += plan.chunkImages) {
    signal?.throwIfAborted();
    out = renderImageBytes(plan, {
      start: firstImage + start,
      count: Math.min(plan.chunkImages, plan.numImages - start),
      out,
      factors,
      rowsInto,
    });
    yield out;
  }
}

/**
 * The arrays of a plan's archive, without rendering anything: each entry's dtype, shape
 * and size in bytes and its NPY header, from `DATASET_ARRAYS` and the factor arrays.
 *
 * @param plan What to generate.
 * @returns The arrays' records and their headers, in the order they are written.
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
): { arrays: ArrayRecord[]; headers: NpyHeader[]; archiveBytes: number } {
  const dims = dimensionsOf(plan);
  // The five arrays of every dataset, then a grid family's factor arrays (factor_arrays.ts).
  const schema = datasetArrays(plan);
  const headers: NpyHeader[] = schema.map((array) => ({
    descr: array.dtype(plan),
    fortranOrder: false,
    shape: array.shape.map((dim) => typeof dim === "number" ? dim : dims[dim]!),
  }));
  const zip = planNpzLayout(headers.map((header, index) => ({
    fileName: `${schema[index]!.name}.npy`,
    size: encodeNpyHeader(header).length + npyDataLength(header),
  })));
  const arrays = headers.map((header, index) => {
    const entry = zip.entries[index]!;
    return {
      name: schema[index]!.name,
      dtype: header.descr,
      shape: header.shape,
      bytes: entry.size,
      offset: entry.entryOffset + encodeNpyHeader(header).length,
    };
  });
  return { arrays, headers, archiveBytes: zip.bytes };
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
  let bytes = 0;
  const writeBytes = options.copying === true ? COPY_WRITE_BYTES : Infinity;
  const collectEvery = options.copying === true ? Infinity : COLLECT_EVERY_BYTES;
  let lastTurn = performance.now();
  const file = await Deno.open(path, { write: true, createNew: true });
  // The labels and latents of the render pass, unless the caller brings its own.
  const spill = options.labelsAndLatents === undefined
    ? SpilledArrays.create(dirname(path), {
      labels: `.${basename(path)}.labels`,
      latents: `.${basename(path)}.latents`,
    })
    : undefined;
  // SHA-256 here as the bytes pass, or on a thread of its own that reads them back.
  const hasher = options.hashThread === true ? new ThreadHasher(path) : new InlineHasher();
  try {
    const writable = new WritableStream<Uint8Array>({
      async write(chunk: Uint8Array) {
        bytes += chunk.length;
        // Synchronous: an asynchronous write hands the copy to another thread and waits for
        // it. Rendering, writing and hashing 20,000 256x256 images on one thread (1 MiB
        // chunks, tmpfs, best of 6): 1.79 s with writeSync, 2.31 s with awaited writes.
        let offset = 0;
        while (offset < chunk.length) {
          offset += file.writeSync(chunk.subarray(offset, offset + writeBytes));
        }
        await hasher.wrote(chunk);
        // Rendering on this thread and writing synchronously never wait for the event loop,
        // where signals and messages arrive: let it run now and then.
        if (performance.now() - lastTurn > EVENT_LOOP_TURN_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastTurn = performance.now();
        }
        if (
          Math.floor(bytes / collectEvery) !== Math.floor((bytes - chunk.length) / collectEvery)
        ) {
          collectGarbage();
        }
      },
    });
    const arrays = await streamDatasetNpz(plan, writable, options, spill);
    const [sha256] = await Promise.all([hasher.digest(), file.sync()]);
    return { bytes, sha256, arrays };
  } finally {
    hasher.close();
    file.close();
    spill?.remove();
  }
}

/**
 * The exact size of the archive {@linkcode writeDatasetNpz} writes for a plan, in bytes.
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
export function predictArchiveBytes(plan: DatasetPlan): Promise<number> {
  return Promise.resolve(datasetLayout(plan).archiveBytes);
}

async function streamDatasetNpz(
  plan: DatasetPlan,
  writable: WritableStream<Uint8Array>,
  options: WriteOptions,
  spill: SpilledArrays | undefined,
): Promise<ArrayRecord[]> {
  const { signal } = options;
  const { arrays, headers } = datasetLayout(plan);
  const npz = new NpzWriter(writable, {
    arrays: arrays.map((array, index) => ({ name: array.name, header: headers[index]! })),
  });
  let given = options.labelsAndLatents?.();
  for (const [index, array] of datasetArrays(plan).entries()) {
    const header = headers[index]!;
    const data = array.data;
    if (data.kind === "images") {
      await writeImages(plan, npz, header, options, spill);
      // A producer that passed no rows leaves them to be drawn again.
      if (spill !== undefined && spill.images > 0) {
        if (spill.images !== plan.numImages) {
          throw new RangeError(
            `Cannot write the labels: the images' producer gave them for ${spill.images} of ` +
              `${plan.numImages} images`,
          );
        }
        given = { labels: spill.labels(), latents: spill.latents() };
      }
    } else if (data.kind === "rows") {
      const rows = array.name === "labels"
        ? given?.labels
        : array.name === "latents"
        ? given?.latents
        : undefined;
      await npz.addArray(array.name, header, rows ?? rowChunks(plan, data.rows, signal));
    } else await npz.addArray(array.name, header, [data.bytes(plan)]);
  }
  await npz.close();
  // The recorded offsets are the planned ones: check the writer put the data there.
  for (const [index, placement] of npz.placements().entries()) {
    const array = arrays[index]!;
    if (array.offset !== placement.entryOffset + encodeNpyHeader(headers[index]!).length) {
      throw new RangeError(
        `Cannot record ${array.name}'s offset: the writer did not follow the plan`,
      );
    }
  }
  return arrays;
}

async function writeImages(
  plan: DatasetPlan,
  npz: NpzWriter,
  header: NpyHeader,
  options: WriteOptions,
  spill: SpilledArrays | undefined,
): Promise<void> {
  const { signal, onProgress } = options;
  const produce = options.imageChunks ?? localImageChunks;
  const bytesPerImage = itemSize(header.descr) * plan.generator.imageSize ** 2;
  let imagesDone = 0;
  const rows = spill === undefined
    ? undefined
    : (labels: Uint8Array, latents: Uint8Array) => spill.append(labels, latents);
  const images = produce(plan, signal, rows)[Symbol.asyncIterator]();
  try {
    await npz.addArray(
      "images",
      header,
      (async function* () {
        for (let next = await images.next(); !next.done; next = await images.next()) {
          yield next.value;
          imagesDone += chunkBytes(next.value).length / bytesPerImage;
          onProgress?.(imagesDone);
        }
      })(),
    );
  } finally {
    // When writing fails, the producer may be left suspended mid-stream; closing it
    // runs its cleanup (the worker pool terminates its threads). A no-op once it is done.
    await images.return?.(undefined);
  }
}

function* rowChunks(
  plan: DatasetPlan,
  rows: (plan: DatasetPlan, start: number, count: number) => Uint8Array,
  signal?: AbortSignal,
): Generator<Uint8Array> {
  // Drawing factors is ~50x cheaper than rendering, so these chunks can be large.
  const step = 65536;
  for (let start = 0; start < plan.numImages; start += step) {
    signal?.throwIfAborted();
    yield rows(plan, start, Math.min(step, plan.numImages - start));
  }
}
