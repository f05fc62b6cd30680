/**
 * Chunks of samples in the family's schema: how they are filled, and how a producer hands them
 * to the writer.
 *
 * A chunk is the samples `start .. start + n - 1` in a {@linkcode ChunkLayout}: one typed view
 * per schema array. {@linkcode fillSamples} fills one, from the family's `fillChunk`, or for a
 * classic family from `sample` and `render` (straight to bytes where it can). A producer (this
 * thread, the worker pool, an external renderer, a merge) hands each chunk to the writer as a
 * {@linkcode SampleChunk}: the bytes of each array, in schema order, each with its CRC-32 where
 * the producer computed it.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import { isClassic, schemaOf } from "../generators/family_schema.ts";
import {
  allocateChunk,
  type ChunkLayout,
  type SampleSchema,
  type SampleView,
} from "../generators/sample_schema.ts";
import type { ImageDtype } from "../generators/spec.ts";
import type { DataChunk } from "../format/npz.ts";
import { renderImageBytes } from "./render.ts";

/**
 * A chunk of samples as a producer hands it to the writer: its bytes, one entry per array of
 * the run's schema, in schema order (C order, little-endian), each plain or with its CRC-32.
 * The bytes are valid until the producer is asked for the next chunk.
 */
export interface SampleChunk {
  /** The number of samples. */
  readonly numSamples: number;
  /** Each array's bytes, in schema order. */
  readonly arrays: readonly DataChunk[];
}

/** What filling a chunk depends on. */
export interface FillPlan {
  /** The configured family. */
  readonly generator: ImageGenerator;
  /** The dataset seed. */
  readonly seed: number;
  /** The images' dtype (a classic family's; `uint8` for a family with its own schema). */
  readonly dtype: ImageDtype;
}

/**
 * The bytes of a typed view, without copying.
 *
 * @param view A typed array.
 * @returns A `Uint8Array` over the same memory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viewBytes } from "./sample_chunk.ts";
 * assert.equal(viewBytes(new Float32Array(3)).length, 12);
 * ```
 */
export function viewBytes(view: SampleView): Uint8Array {
  return view instanceof Uint8Array
    ? view
    : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Fills samples `start .. start + chunk.numSamples - 1` of a plan into a chunk of its schema
 * (`schemaOf(generator, dtype)`): the family's `fillChunk` into zeroed views (as they are, for
 * a family that `fillsEveryByte`), or a classic family's `sample` and `render`. A chunk may be filled again and again: it is zeroed here
 * where the family needs it.
 *
 * @param plan The generator, seed and dtype.
 * @param start The first sample's index.
 * @param chunk A chunk of the plan's schema, e.g. from `allocateChunk`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { schemaOf } from "../generators/family_schema.ts";
 * import { allocateChunk } from "../generators/sample_schema.ts";
 * import { fillSamples } from "./sample_chunk.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const chunk = allocateChunk(schemaOf(generator), 3);
 * fillSamples({ generator, seed: 1, dtype: "uint8" }, 10, chunk);
 * assert.ok(chunk.byName.get("images")!.view.some((byte) => byte === 255));
 * assert.ok(chunk.byName.get("labels")!.view.every((label) => label < 3));
 * ```
 */
export function fillSamples(plan: FillPlan, start: number, chunk: ChunkLayout): void {
  const generator = plan.generator;
  if (!isClassic(generator)) {
    if (generator.fillsEveryByte !== true) { for (const array of chunk.arrays) array.view.fill(0); }
    generator.fillChunk!(plan.seed, start, chunk);
    return;
  }
  const [images, labels, latents] = chunk.arrays;
  const bytes = viewBytes(images!.view);
  const out = renderImageBytes(plan, {
    start,
    count: chunk.numSamples,
    out: bytes,
    rowsInto: { labels: labels!.view as Uint8Array, latents: latents!.view as Float32Array },
  });
  // renderImageBytes uses `out` whenever it fits, which a chunk of the schema always does.
  if (out !== bytes) bytes.set(out);
}

/**
 * A chunk's bytes as the writer takes them: each array's view as bytes, in schema order.
 *
 * @param chunk A filled chunk.
 * @returns The sample chunk (sharing the chunk's memory).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocateChunk } from "../generators/sample_schema.ts";
 * import { classicSchema } from "../generators/family_schema.ts";
 * import { sampleChunkOf } from "./sample_chunk.ts";
 * const schema = classicSchema({ imageSize: 4, numLatents: 2, dtype: "uint8" });
 * const chunk = sampleChunkOf(allocateChunk(schema, 5));
 * assert.deepEqual(chunk.arrays.map((bytes) => (bytes as Uint8Array).length), [80, 5, 40]);
 * ```
 */
export function sampleChunkOf(chunk: ChunkLayout): SampleChunk {
  return {
    numSamples: chunk.numSamples,
    arrays: chunk.arrays.map((array) => viewBytes(array.view)),
  };
}

/**
 * The chunks of samples `first .. first + numSamples - 1`, filled on this thread, in order,
 * `chunkSamples` at a time. One chunk is filled again for each step (the last, shorter one
 * gets its own), so the bytes are valid until the next chunk is requested.
 *
 * @param plan The generator, seed, dtype, the number of samples and samples per chunk.
 * @param options The first sample's index (default 0) and an abort signal.
 * @returns The chunks.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { localSampleChunks } from "./sample_chunk.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, seed: 1, dtype: "uint8" as const, numImages: 5, chunkImages: 2 };
 * let samples = 0;
 * for (const chunk of localSampleChunks(plan)) samples += chunk.numSamples;
 * assert.equal(samples, 5);
 * ```
 */
export function* localSampleChunks(
  plan: FillPlan & { numImages: number; chunkImages: number },
  options: { first?: number; signal?: AbortSignal | undefined } = {},
): Generator<SampleChunk> {
  const schema: SampleSchema = schemaOf(plan.generator, plan.dtype);
  const first = options.first ?? 0;
  let chunk: ChunkLayout | undefined;
  for (let done = 0; done < plan.numImages; done += plan.chunkImages) {
    options.signal?.throwIfAborted();
    const count = Math.min(plan.chunkImages, plan.numImages - done);
    if (chunk?.numSamples !== count) chunk = allocateChunk(schema, count);
    fillSamples(plan, first + done, chunk);
    yield sampleChunkOf(chunk);
  }
}
