/**
 * A rendering thread: receives chunk requests, renders them and sends the bytes back.
 *
 * Messages in: `{ family, imageSize, seed, dtype, id, start, count, factors, buffer, rows }`
 * (`buffer` and `rows`: memory of an earlier chunk, transferred back to be used again); out:
 * `{ id, bytes, crc32, labels, latents }` (the buffers are transferred, not copied; `crc32` is
 * the bytes' CRC-32, computed here so the writer needs not; `labels` and `latents`, the bytes
 * of the images' factors, only when `factors` was asked) or `{ id, error }`. The family is a
 * {@linkcode FamilyRef}, so a family loaded from the user's module renders here too.
 *
 * @module
 */

import { crc32 } from "../format/crc32.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import {
  adoptFamilyTables,
  createGenerator,
  type FamilyRef,
  type FamilyTables,
} from "../generators/spec.ts";
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
  /** Whether to send the images' labels and latents back too. */
  factors?: boolean;
  /** The labels' and latents' buffers of an earlier chunk to draw into (transferred). */
  rows?: { labels: ArrayBuffer; latents: ArrayBuffer };
  /** What the main thread computed configuring families (a thread's first request only). */
  tables?: FamilyTables;
}

/** A rendered chunk, sent back. */
export interface RenderReply {
  /** The request's id. */
  id: number;
  /** The images' bytes. */
  bytes: Uint8Array;
  /** Their CRC-32. */
  crc32: number;
  /** The labels' bytes, if asked. */
  labels?: Uint8Array;
  /** The latents' bytes (float32), if asked. */
  latents?: Uint8Array;
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
    const { buffer, start, count } = request;
    let factors: { labels: Uint8Array; latents: Uint8Array } | undefined;
    const bytes = renderImageBytes(
      { generator: await generatorFor(request), seed: request.seed, dtype: request.dtype },
      {
        start,
        count,
        ...(buffer === undefined ? {} : { out: new Uint8Array(buffer) }),
        ...(request.rows === undefined ? {} : {
          rowsInto: {
            labels: new Uint8Array(request.rows.labels),
            latents: new Float32Array(request.rows.latents),
          },
        }),
        ...(request.factors === true
          ? {
            factors: (labels: Uint8Array, latents: Uint8Array) => factors = { labels, latents },
          }
          : {}),
      },
    );
    // The CRC-32 is computed here, so the writer on the main thread only combines checksums.
    const reply: RenderReply = { id: request.id, bytes, crc32: crc32(bytes), ...factors };
    scope.postMessage(
      reply,
      [
        bytes.buffer,
        ...(factors === undefined ? [] : [factors.labels.buffer, factors.latents.buffer]),
      ],
    );
  } catch (error) {
    scope.postMessage({ id: request.id, error: String((error as Error)?.message ?? error) });
  }
};
