/**
 * A rendering thread: receives chunk requests, renders them and sends the bytes back.
 *
 * Messages in: `{ generator, imageSize, seed, dtype, id, start, count }`; out:
 * `{ id, bytes }` (the buffer is transferred, not copied) or `{ id, error }`.
 *
 * @module
 */

import { generators } from "../generators/registry.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { type ImageDtype, renderImageBytes } from "./render.ts";

/** A chunk request. */
export interface RenderRequest {
  /** The chunk's index, from 0; the reply carries it back. */
  id: number;
  /** The dataset family's registry name; the worker configures its own copy. */
  generator: string;
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
}

const configured = new Map<string, ImageGenerator>();

function generatorFor(request: RenderRequest): ImageGenerator {
  const key = `${request.generator}/${request.imageSize}`;
  let generator = configured.get(key);
  if (generator === undefined) {
    generator = generators.get(request.generator).create({ imageSize: request.imageSize });
    configured.set(key, generator);
  }
  return generator;
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (event: MessageEvent<RenderRequest>) => {
  const request = event.data;
  try {
    const bytes = renderImageBytes(
      { generator: generatorFor(request), seed: request.seed, dtype: request.dtype },
      request,
    );
    scope.postMessage({ id: request.id, bytes }, [bytes.buffer]);
  } catch (error) {
    scope.postMessage({ id: request.id, error: String((error as Error)?.message ?? error) });
  }
};
