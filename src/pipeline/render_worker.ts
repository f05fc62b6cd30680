/**
 * A rendering thread: receives chunk requests, fills them and sends the arrays back.
 *
 * Messages in: `{ family, imageSize, seed, dtype, id, start, count, buffers, tables }` (`buffers`:
 * memory of an earlier chunk, one per array of the schema, transferred back to be filled
 * again); out: `{ id, numSamples, arrays, crc32 }` (one `Uint8Array` per array of the
 * family's schema, in its order, each over its own transferred buffer; `crc32` is the first
 * array's CRC-32, computed here so the writer, which streams that array, needs not) or
 * `{ id, error }`. The family is a {@linkcode FamilyRef}, so a family loaded from the user's
 * module renders here too.
 *
 * @module
 */

import { crc32 } from "../format/crc32.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { allocateChunk } from "../generators/sample_schema.ts";
import {
  adoptFamilyTables,
  createGenerator,
  type FamilyRef,
  type FamilyTables,
} from "../generators/spec.ts";
import type { ImageDtype } from "./render.ts";
import { fillSamples, viewBytes } from "./sample_chunk.ts";

/** A chunk request. */
export interface RenderRequest {
  /** The chunk's index, from 0; the reply carries it back. */
  id: number;
  /** The dataset's family; the worker imports and configures its own copy. */
  family: FamilyRef;
  /** Side of every (square) image in pixels. */
  imageSize: number;
  /** The dataset seed; sample i depends only on it and i, not on the chunking. */
  seed: number;
  /** The images' dtype (a classic family's). */
  dtype: ImageDtype;
  /** The index of the chunk's first sample in the dataset, from 0. */
  start: number;
  /** The number of samples in the chunk, from 1. */
  count: number;
  /** The buffers of an earlier chunk to fill again (transferred), one per schema array. */
  buffers?: ArrayBuffer[];
  /** What the main thread computed configuring families (a thread's first request only). */
  tables?: FamilyTables;
}

/** A filled chunk, sent back. */
export interface RenderReply {
  /** The request's id. */
  id: number;
  /** The number of samples. */
  numSamples: number;
  /** Each array's bytes, in schema order. */
  arrays: Uint8Array[];
  /** The first array's CRC-32. */
  crc32: number;
}

const configured = new Map<string, Promise<ImageGenerator>>();

function generatorFor(request: RenderRequest): Promise<ImageGenerator> {
  const key = JSON.stringify([request.family, request.imageSize]);
  let generator = configured.get(key);
  if (generator === undefined) {
    generator = createGenerator({ family: request.family, imageSize: request.imageSize });
    configured.set(key, generator);
  }
  return generator;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = async (event: MessageEvent<RenderRequest>) => {
  const request = event.data;
  try {
    if (request.tables !== undefined) adoptFamilyTables(request.tables);
    const generator = await generatorFor(request);
    const chunk = allocateChunk(schemaOf(generator, request.dtype), request.count, {
      buffers: request.buffers ?? [],
    });
    fillSamples(
      { generator, seed: request.seed, dtype: request.dtype },
      request.start,
      chunk,
    );
    const arrays = chunk.arrays.map((array) => viewBytes(array.view));
    // The CRC-32 is computed here, so the writer on the main thread only combines checksums.
    const reply: RenderReply = {
      id: request.id,
      numSamples: request.count,
      arrays,
      crc32: crc32(arrays[0]!),
    };
    scope.postMessage(reply, arrays.map((bytes) => bytes.buffer));
  } catch (error) {
    scope.postMessage({ id: request.id, error: String((error as Error)?.message ?? error) });
  }
};
