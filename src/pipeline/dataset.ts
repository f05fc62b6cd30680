/**
 * The whole pipeline for one archive: render -> quantize -> NPZ, streamed chunk by chunk.
 *
 * `dataset.npz` holds one array per array of the family's sample schema (`schemaOf`), in its
 * order, each `(N, ...shape)`: for a classic family `images` (N, S, S) uint8 or float64,
 * `labels` (N,) uint8 and `latents` (N, K) float32; then the unicode `class_names` (C,) and
 * `latent_names` (K,); then, for a family whose factors lie on a grid, the factor arrays of
 * `factor_arrays.ts`.
 *
 * The schema's first array streams first, in chunks; the chunks' other arrays go to spill
 * files beside the archive meanwhile (`spill.ts`), one per array, and are copied from there
 * afterwards, so no array of the dataset is ever held whole in memory.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { ImageGenerator } from "../generators/generator.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { sampleBytes } from "../generators/sample_schema.ts";
import { encodeNpyHeader, npyDataLength, type NpyHeader } from "../format/npy.ts";
import { chunkBytes, NpzWriter, planNpzLayout } from "../format/npz.ts";
import { bytesPerPixel, type ImageDtype, sampleChunk } from "./render.ts";
import { type ArrayDescriptor, dimensionsOf } from "./dataset_schema.ts";
import { datasetArrays } from "./factor_arrays.ts";
import { InlineHasher, ThreadHasher } from "./file_hasher.ts";
import { localSampleChunks, type SampleChunk } from "./sample_chunk.ts";
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

/**
 * Produces a plan's chunks of samples, in order (see {@linkcode SampleChunk}): the bytes of
 * every array of the run's schema, or of its first array only when the writer is given the
 * others ({@linkcode WriteOptions.laterArrays}).
 */
export type SampleChunkProducer = (
  plan: DatasetPlan,
  signal?: AbortSignal,
) => AsyncIterable<SampleChunk> | Iterable<SampleChunk>;

/** Options of {@linkcode writeDatasetNpz}. */
export interface WriteOptions {
  /** Called after each chunk of images is written, with the number of images so far. */
  onProgress?: (imagesDone: number) => void;
  /** Stops the run between chunks. */
  signal?: AbortSignal;
  /**
   * Produces the chunks of samples in order; the default fills them on this thread. Each
   * array's bytes are plain, or with their CRC-32 (computed where they were made, so the
   * writer only combines checksums).
   */
  sampleChunks?: SampleChunkProducer;
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
   * The bytes of every array of the schema after the first, by name, once the first is
   * written: then the producer gives each chunk's first array only. A merge's come from the
   * files its slices kept. Default: the producer gives every array, and the later ones go to
   * spill files beside the archive meanwhile.
   */
  laterArrays?: () => ReadonlyMap<string, AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
  /**
   * Whether the write waits for the file to reach the disk (default true). A run of several
   * archives syncs each with {@linkcode syncFile} while it writes the next, and waits for
   * them all before it publishes.
   */
  sync?: boolean;
  /**
   * Called, and waited for, once every sample is in (the first array written, the others
   * spilled) and the producer is done, before the later arrays are copied: a run of several
   * archives starts the next one's rendering then, so that its threads work while this
   * archive's tail is written.
   */
  onSamplesWritten?: () => void | Promise<void>;
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
 * How many samples a chunk holds for a configured family: a classic family's
 * {@linkcode chunkImages}; for a family with its own schema, about its `chunkBytes` (default
 * 1 MiB) of samples over all its arrays, at least one.
 *
 * @param generator The configured family.
 * @param dtype The image dtype (a classic family's; default uint8).
 * @returns Samples per chunk.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { chunkSamples } from "./dataset.ts";
 * assert.equal(chunkSamples(generators.get("shapes").create({ imageSize: 16 })), 4096);
 * ```
 */
export function chunkSamples(generator: ImageGenerator, dtype: ImageDtype = "uint8"): number {
  if (generator.schema === undefined) return chunkImages(generator.imageSize, dtype);
  const bytes = generator.chunkBytes ?? CHUNK_BYTES.uint8;
  return Math.max(1, Math.floor(bytes / sampleBytes(schemaOf(generator, dtype))));
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
  // The archive's arrays, described once for the whole write.
  const described = datasetArrays(plan);
  // The later arrays of the schema, then the arrays drawn per image (`rows`), spilled as the
  // first streams, unless the caller brings its own.
  const spill = options.laterArrays === undefined
    ? SpilledArrays.create(
      dirname(path),
      spilledOf(described).map(({ name }) => `.${basename(path)}.${name}`),
    )
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
    const arrays = await streamDatasetNpz(plan, described, writable, options, spill);
    const [sha256] = await Promise.all([
      hasher.digest(),
      options.sync === false ? undefined : file.sync(),
    ]);
    return { bytes, sha256, arrays };
  } finally {
    hasher.close();
    file.close();
    spill?.remove();
  }
}

/**
 * Waits for a written file to reach the disk (fsync), e.g. an archive written with
 * `sync: false`. Any descriptor of the file flushes it: this one is opened for reading.
 *
 * @param path The file.
 * @returns When the file's data and size are on the disk.
 * @example
 * ```ts
 * import { syncFile } from "./dataset.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "written");
 * await syncFile(path);
 * await Deno.remove(path);
 * ```
 */
export async function syncFile(path: string): Promise<void> {
  using file = await Deno.open(path, { read: true });
  await file.sync();
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

/**
 * The arrays a write spills beside the archive while the first array streams: the schema's
 * later arrays (from the chunks), then the arrays drawn per image (`rows`, e.g.
 * `latents_classes`), drawn for each chunk as it arrives while the threads render the next,
 * instead of after the images while they wait.
 *
 * @param plan What to generate.
 * @returns The arrays' names, in spill order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { spilledNames } from "./dataset.ts";
 * const generator = generators.get("dsprites").create({ imageSize: 16 });
 * const plan = { generator, numImages: 10, seed: 1, dtype: "uint8" as const, chunkImages: 4 };
 * assert.deepEqual(spilledNames(plan), ["labels", "latents", "latents_classes"]);
 * ```
 */
export function spilledNames(plan: DatasetPlan): string[] {
  return spilledOf(datasetArrays(plan)).map(({ name }) => name);
}

/** The arrays of {@linkcode spilledNames}, in spill order, of an archive's described arrays. */
function spilledOf(described: readonly ArrayDescriptor[]): ArrayDescriptor[] {
  return described.filter(({ data }) =>
    (data.kind === "sample" && data.index > 0) || data.kind === "rows"
  );
}

/**
 * The bytes a write spills beside the archive ({@linkcode spilledNames}), for the disk check.
 *
 * @param plan What to generate.
 * @returns The spill files' total size, in bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { spillBytes } from "./dataset.ts";
 * const generator = generators.get("dsprites").create({ imageSize: 16 });
 * const plan = { generator, numImages: 10, seed: 1, dtype: "uint8" as const, chunkImages: 4 };
 * assert.equal(spillBytes(plan), 10 * (1 + 6 * 4 + 6 * 8));
 * ```
 */
export function spillBytes(plan: DatasetPlan): number {
  const spilled = new Set(spilledNames(plan));
  const { arrays, headers } = datasetLayout(plan);
  return arrays.reduce(
    (sum, array, index) => spilled.has(array.name) ? sum + npyDataLength(headers[index]!) : sum,
    0,
  );
}

async function streamDatasetNpz(
  plan: DatasetPlan,
  described: readonly ArrayDescriptor[],
  writable: WritableStream<Uint8Array>,
  options: WriteOptions,
  spill: SpilledArrays | undefined,
): Promise<ArrayRecord[]> {
  const { signal } = options;
  const { arrays, headers } = datasetLayout(plan);
  const npz = new NpzWriter(writable, {
    arrays: arrays.map((array, index) => ({ name: array.name, header: headers[index]! })),
  });
  const given = options.laterArrays?.();
  const spilled = spilledOf(described);
  for (const [index, array] of described.entries()) {
    signal?.throwIfAborted(); // Between arrays too: a tail of copies can take seconds.
    const header = headers[index]!;
    const data = array.data;
    if (data.kind === "sample" && data.index === 0) {
      await writeFirstArray(plan, npz, { name: array.name, header }, options, {
        spill,
        // The arrays drawn per image, spilled after the schema's later arrays.
        rows: spilled.flatMap(({ data }) => data.kind === "rows" ? [data.rows] : []),
      });
      if (spill !== undefined && spill.samples !== plan.numImages) {
        throw new RangeError(
          `Cannot write the arrays after ${array.name}: the producer gave them for ` +
            `${spill.samples} of ${plan.numImages} samples`,
        );
      }
      await options.onSamplesWritten?.();
    } else if (data.kind === "sample") {
      const chunks = given?.get(array.name) ??
        (spill === undefined ? undefined : stopping(spill.read(spilled.indexOf(array)), signal));
      if (chunks === undefined) {
        throw new RangeError(`Cannot write ${array.name}: no producer gave its bytes`);
      }
      await npz.addArray(array.name, header, chunks);
    } else if (data.kind === "rows") {
      await npz.addArray(
        array.name,
        header,
        spill === undefined
          ? rowChunks(plan, data.rows, signal)
          : stopping(spill.read(spilled.indexOf(array)), signal),
      );
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

/** The pieces of a spill file, stopped between pieces by the signal. */
async function* stopping(
  pieces: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    signal?.throwIfAborted();
    yield piece;
  }
}

async function writeFirstArray(
  plan: DatasetPlan,
  npz: NpzWriter,
  first: { name: string; header: NpyHeader },
  options: WriteOptions,
  { spill, rows }: {
    spill: SpilledArrays | undefined;
    rows: ((plan: DatasetPlan, start: number, count: number) => Uint8Array)[];
  },
): Promise<void> {
  const { signal, onProgress } = options;
  const produce = options.sampleChunks ??
    ((p: DatasetPlan, s?: AbortSignal) => localSampleChunks(p, { signal: s }));
  let samplesDone = 0;
  const laterCount = spill === undefined ? 0 : spill.paths.length - rows.length;
  const produced = produce(plan, signal);
  const chunks = Symbol.asyncIterator in produced
    ? produced[Symbol.asyncIterator]()
    : produced[Symbol.iterator]();
  try {
    await npz.addArray(
      first.name,
      first.header,
      (async function* () {
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
          const chunk = next.value;
          if (spill !== undefined) {
            if (chunk.arrays.length !== laterCount + 1) {
              throw new RangeError(
                `Cannot write a chunk of ${chunk.arrays.length} arrays: the schema has ` +
                  `${laterCount + 1}`,
              );
            }
            spill.append(chunk.numSamples, [
              ...chunk.arrays.slice(1).map(chunkBytes),
              ...rows.map((draw) => draw(plan, samplesDone, chunk.numSamples)),
            ]);
          }
          yield chunk.arrays[0]!;
          samplesDone += chunk.numSamples;
          onProgress?.(samplesDone);
        }
      })(),
    );
  } finally {
    // When writing fails, the producer may be left suspended mid-stream; closing it
    // runs its cleanup (the worker pool terminates its threads). A no-op once it is done.
    await chunks.return?.(undefined);
  }
}

/**
 * A classic family's labels or latents for every image of a plan, drawn again from the family
 * (a merge of slices from a dsgen that kept no side files), 65,536 images at a time.
 *
 * @param plan What to generate.
 * @param name `labels` or `latents`.
 * @returns The array's bytes, in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { drawnClassicArray } from "./dataset.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * assert.equal([...drawnClassicArray(plan, "latents")][0]!.length, 5 * 4 * 4);
 * ```
 */
export function* drawnClassicArray(
  plan: DatasetPlan,
  name: "labels" | "latents",
): Generator<Uint8Array> {
  yield* rowChunks(plan, (_plan, start, count) => {
    const { labels, latents } = sampleChunk(plan.generator, plan.seed, { start, count });
    return name === "labels" ? labels : new Uint8Array(latents.buffer);
  });
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
