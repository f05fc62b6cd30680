/**
 * A rendering thread: receives chunk requests, renders them and sends the bytes back.
 *
 * Messages in: `{ family, imageSize, seed, dtype, id, start, count }`; out:
 * `{ id, bytes, crc32 }` (the buffer is transferred, not copied; `crc32` is the bytes' CRC-32,
 * computed here so the writer needs not) or `{ id, error }`. The family is a
 * {@linkcode FamilyRef}, so a family loaded from the user's module renders here too.
 *
 * @module
 */

import { crc32 } from "../format/crc32.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { createGenerator, type FamilyRef } from "../generators/spec.ts";
import { type ImageDtype, renderImageBytes } from "./render.ts";

/** A chunk request. */
export interface RenderRequest {
  /** The chunk's index, from 0; the reply carries it back. */
  id: number;
  /** The dataset's family; the worker imports and configures its own copy. */
  family: FamilyRef;
  /** Side of every (square) image in pixels. */
  imageSize: number;
  /** The dataset seed; image i depends only on it and i, not on the chunking. */
  seed: number;
  /** The element type of the bytes to send back. */
  dtype: ImageDtype;
  /** The index of the chunk's first image in the dataset, from 0. */
  start: number;
  /** The number of images in the chunk, from 1. */
  count: number;
  /** A buffer of an earlier chunk to render into (transferred), if its size fits. */
  buffer?: ArrayBuffer;
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
    const { buffer, ...range } = request;
    const bytes = renderImageBytes(
      { generator: await generatorFor(request), seed: request.seed, dtype: request.dtype },
      buffer === undefined ? range : { ...range, out: new Uint8Array(buffer) },
    );
    // The CRC-32 is computed here, so the writer on the main thread only combines checksums.
    scope.postMessage({ id: request.id, bytes, crc32: crc32(bytes) }, [bytes.buffer]);
  } catch (error) {
    scope.postMessage({ id: request.id, error: String((error as Error)?.message ?? error) });
  }
};
