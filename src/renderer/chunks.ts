/**
 * The images of a dataset from external renderer processes (`--generator-cmd`), in order.
 *
 * Chunks are requested round-robin from the processes, a few ahead per process, and yielded
 * in index order, like the worker pool's. Each answer is checked (finite pixels in [0, 1],
 * labels below the number of classes, finite latents), float pixels are quantized with the
 * same rule as dsgen's own ({@linkcode quantize}), and each chunk goes to the writer as the
 * arrays of the classic schema (images, labels, latents), as our own families' do (the writer
 * spills the labels and latents beside the archive; a slice keeps them as its files).
 *
 * @module
 */

import type { RendererAnswer, RendererProcess } from "./process.ts";
import type { RendererDescription } from "./protocol.ts";
import { RendererError } from "./process.ts";
import type { DatasetPlan } from "../pipeline/dataset.ts";
import type { SampleChunk } from "../pipeline/sample_chunk.ts";
import { inOrder } from "../pipeline/in_order.ts";
import { quantize } from "../pipeline/quantize.ts";

/** Options of {@linkcode externalImageChunks}. */
export interface ExternalChunkOptions {
  /** The running renderers, handshakes done; one per worker. */
  renderers: readonly RendererProcess[];
  /** Stops between chunks (the processes themselves stop on their own signal). */
  signal?: AbortSignal | undefined;
  /** The index of the plan's first image in the dataset (a slice's start; default 0). */
  firstImage?: number;
  /** Requests in flight per process (default 4). */
  aheadPerRenderer?: number;
}

/**
 * The image chunks of a plan, from renderer processes, checked and converted to the plan's
 * dtype, in order. The processes are not closed here: the caller closes them (checking their
 * exit) or kills them.
 *
 * @param plan What to generate (its generator stands for the renderers' description).
 * @param options The processes and the abort signal.
 * @returns The chunks (images, labels, latents), in image order.
 */
export async function* externalImageChunks(
  plan: DatasetPlan,
  options: ExternalChunkOptions,
): AsyncGenerator<SampleChunk> {
  const { renderers } = options;
  const chunkCount = Math.ceil(plan.numImages / plan.chunkImages);
  const ahead = renderers.length * (options.aheadPerRenderer ?? 4);
  const first = options.firstImage ?? 0;
  // An abort stops the processes (ExternalRenderers passes them the signal): their answers
  // reject.
  const answers = inOrder(chunkCount, {
    ahead,
    start: (chunk) => {
      const start = chunk * plan.chunkImages;
      const count = Math.min(plan.chunkImages, plan.numImages - start);
      return renderers[chunk % renderers.length]!.render(plan.seed, first + start, count);
    },
    signal: options.signal,
  });
  let chunk = 0;
  for await (const answer of answers) {
    const start = first + chunk * plan.chunkImages;
    const renderer = renderers[chunk % renderers.length]!;
    const checked = checkAnswer(answer, {
      description: renderer.description,
      start,
      dtype: plan.dtype,
      label: renderer.label,
      stderrTail: renderer.stderrTail,
    });
    yield {
      numSamples: answer.labels.length,
      arrays: [checked.images, answer.labels, checked.latents],
    };
    chunk++;
  }
}

/** A typed view of little-endian bytes, copied when they are not aligned for it. */
function floatView<T extends Float32Array | Float64Array>(
  bytes: Uint8Array,
  kind: { new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number },
): T {
  const size = kind.BYTES_PER_ELEMENT;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new kind(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.length / size);
}

/**
 * Checks an answer and converts its images to the dataset's dtype.
 *
 * @param answer The answer's arrays.
 * @param context The renderer's description, the first image's index, the output dtype, and
 * the renderer's label and stderr tail for the error.
 * @returns The images as the archive stores them, and the latents' bytes (aligned copies).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAnswer } from "./chunks.ts";
 * const description = { imageSize: 4, dtype: "float32" as const, classes: ["a"], latents: [] };
 * const images = new Uint8Array(new Float32Array(16).fill(0.5).buffer);
 * const answer = { images, labels: new Uint8Array(1), latents: new Uint8Array(0) };
 * const checked = checkAnswer(answer, { description, start: 0, dtype: "uint8", label: "x" });
 * assert.equal(checked.images[0], 128);
 * ```
 */
export function checkAnswer(
  answer: RendererAnswer,
  context: {
    description: Pick<RendererDescription, "imageSize" | "dtype" | "classes" | "latents">;
    start: number;
    dtype: "uint8" | "float64";
    label: string;
    stderrTail?: string[];
  },
): { images: Uint8Array; latents: Uint8Array } {
  const { description, start } = context;
  const area = description.imageSize ** 2;
  const fail = (problem: string) =>
    new RendererError(
      `Renderer ${JSON.stringify(context.label)} sent ${problem}`,
      context.stderrTail ?? [],
    );
  const where = (pixel: number) => {
    const image = start + Math.floor(pixel / area);
    const inImage = pixel % area;
    return `image #${image} (row ${Math.floor(inImage / description.imageSize)}, column ` +
      `${inImage % description.imageSize})`;
  };
  for (let index = 0; index < answer.labels.length; index++) {
    if (answer.labels[index]! >= description.classes.length) {
      throw fail(
        `label ${answer.labels[index]} for image #${start + index}, expected 0 to ` +
          `${description.classes.length - 1} (${description.classes.length} classes)`,
      );
    }
  }
  const latents = floatView(answer.latents, Float32Array);
  for (let index = 0; index < latents.length; index++) {
    if (!Number.isFinite(latents[index]!)) {
      const width = description.latents.length;
      throw fail(
        `latent "${description.latents[index % width]}" = ${latents[index]} for image ` +
          `#${start + Math.floor(index / width)}, expected a finite number`,
      );
    }
  }
  const latentBytes = new Uint8Array(latents.buffer, latents.byteOffset, latents.byteLength);
  if (description.dtype === "uint8") {
    if (context.dtype !== "uint8") {
      throw fail("uint8 pixels, which cannot be stored as float64 (use dtype uint8)");
    }
    return { images: answer.images, latents: latentBytes };
  }
  const values = description.dtype === "float32"
    ? floatView(answer.images, Float32Array)
    : floatView(answer.images, Float64Array);
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!(value >= 0 && value <= 1)) {
      throw fail(`pixel value ${value} at ${where(index)}, expected a number from 0 to 1`);
    }
  }
  if (context.dtype === "uint8") {
    return { images: quantize(values), latents: latentBytes };
  }
  const wide = values instanceof Float64Array ? values : Float64Array.from(values);
  return {
    images: new Uint8Array(wide.buffer, wide.byteOffset, wide.byteLength),
    latents: latentBytes,
  };
}
