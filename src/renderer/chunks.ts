/**
 * The samples of a dataset from external renderer processes (`--generator-cmd`), in order.
 *
 * Chunks are requested round-robin from the processes, a few ahead per process, and yielded
 * in index order, like the worker pool's. Each answer is checked (finite pixels in [0, 1],
 * labels below the number of classes, finite factors), float pixels are quantized with the
 * same rule as dsgen's own ({@linkcode quantize}), and each chunk goes to the writer as one
 * buffer per array of the run's schema: version 1's images, labels and latents, or the arrays
 * a version 2 renderer declared (the writer spills all but the first beside the archive; a
 * slice keeps them as its files).
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
import {
  type ArraySpec,
  elementsPerSample,
  type SampleDtype,
  type SampleView,
} from "../generators/sample_schema.ts";

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
    // One entry per array, in the order of the run's schema: the renderer's wire order
    // (version 1: images, labels, latents; version 2: as declared).
    yield {
      numSamples: Math.min(plan.chunkImages, plan.numImages - (start - first)),
      arrays: checked.arrays,
    };
    chunk++;
  }
}

/** A typed view of little-endian bytes of a dtype, copied when they are not aligned for it. */
function typedView(bytes: Uint8Array, dtype: SampleDtype): SampleView {
  const kind = VIEWS[dtype];
  const size = kind.BYTES_PER_ELEMENT;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new kind(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.length / size);
}

const VIEWS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** The bytes of a typed view. */
function bytesOf(view: SampleView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Checks an answer and converts its image array to the dataset's dtype.
 *
 * - The image's float pixels must be in [0, 1]; they are quantized with numpy's rule to
 *   uint8, or widened to float64. uint8 pixels are kept, and cannot be stored as float64.
 * - Every array of role `label` holds indices into the declared classes.
 * - Every float array of role `factor` (version 1's latents) holds finite numbers.
 * - The other arrays are kept as they came.
 *
 * @param answer The answer's arrays, in the order of `description.arrays`.
 * @param context The renderer's description, the first sample's index, the output dtype, and
 * the renderer's label and stderr tail for the error.
 * @returns The arrays as the archive stores them, in the same order (the image converted;
 * floats as aligned copies where the answer's bytes were not aligned).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAnswer } from "./chunks.ts";
 * const description = {
 *   imageSize: 4, dtype: "float32" as const, classes: ["a"], latents: [], protocolVersion: 1,
 *   arrays: [
 *     { name: "images", dtype: "float32" as const, shape: [4, 4], role: "image" as const },
 *     { name: "labels", dtype: "uint8" as const, shape: [], role: "label" as const },
 *   ],
 * };
 * const images = new Uint8Array(new Float32Array(16).fill(0.5).buffer);
 * const answer = { arrays: [images, new Uint8Array(1)] };
 * const checked = checkAnswer(answer, { description, start: 0, dtype: "uint8", label: "x" });
 * assert.equal(checked.arrays[0]![0], 128);
 * ```
 */
export function checkAnswer(
  answer: RendererAnswer,
  context: {
    description: Pick<
      RendererDescription,
      "imageSize" | "dtype" | "classes" | "latents" | "arrays" | "protocolVersion"
    >;
    start: number;
    dtype: "uint8" | "float64";
    label: string;
    stderrTail?: string[];
  },
): { arrays: Uint8Array[] } {
  const { description, start } = context;
  const fail = (problem: string) =>
    new RendererError(
      `Renderer ${JSON.stringify(context.label)} sent ${problem}`,
      context.stderrTail ?? [],
    );
  // Version 1 says "image" and "latent"; version 2 names each array and says "sample".
  const v1 = description.protocolVersion === 1;
  const sample = v1 ? "image" : "sample";
  const arrays = description.arrays.map((spec, arrayIndex) => {
    const bytes = answer.arrays[arrayIndex]!;
    if (spec.role === "image") return checkImage(bytes, spec, { ...context, fail });
    const perSample = elementsPerSample(spec);
    const where = (index: number) => {
      const at = `${sample} #${start + Math.floor(index / perSample)}`;
      return perSample === 1 || v1 ? at : `${at} (element ${index % perSample})`;
    };
    if (spec.role === "label") {
      const values = typedView(bytes, spec.dtype);
      const classes = description.classes.length;
      for (let index = 0; index < values.length; index++) {
        const value = values[index]!;
        if (!(value >= 0 && value < classes)) {
          throw fail(
            `${v1 ? "label" : `label "${spec.name}" =`} ${value} for ${where(index)}, ` +
              `expected 0 to ${classes - 1} (${classes} classes)`,
          );
        }
      }
      return bytes;
    }
    if (spec.role === "factor" && (spec.dtype === "float32" || spec.dtype === "float64")) {
      const values = typedView(bytes, spec.dtype);
      for (let index = 0; index < values.length; index++) {
        if (!Number.isFinite(values[index]!)) {
          const name = v1 ? description.latents[index % perSample] : spec.name;
          throw fail(
            `${v1 ? "latent" : "factor"} "${name}" = ${values[index]} for ${where(index)}, ` +
              "expected a finite number",
          );
        }
      }
      return bytesOf(values);
    }
    return bytes;
  });
  return { arrays };
}

/** The image array checked and converted to the dataset's dtype. */
function checkImage(
  bytes: Uint8Array,
  spec: ArraySpec,
  context: {
    start: number;
    dtype: "uint8" | "float64";
    description: { protocolVersion: number };
    fail: (problem: string) => RendererError;
  },
): Uint8Array {
  const { fail } = context;
  if (spec.dtype === "uint8") {
    if (context.dtype !== "uint8") {
      throw fail("uint8 pixels, which cannot be stored as float64 (use dtype uint8)");
    }
    return bytes;
  }
  const values = typedView(bytes, spec.dtype) as Float32Array | Float64Array;
  const perSample = elementsPerSample(spec);
  const [side, , channels] = spec.shape as number[];
  const where = (pixel: number) => {
    const image = context.start + Math.floor(pixel / perSample);
    const inImage = pixel % perSample;
    const point = Math.floor(inImage / (channels ?? 1));
    const channel = channels === undefined ? "" : `, channel ${inImage % channels}`;
    return `image #${image} (row ${Math.floor(point / side!)}, column ${point % side!}${channel})`;
  };
  for (let index = 0; index < values.length; index++) {
    const value = values[index]!;
    if (!(value >= 0 && value <= 1)) {
      throw fail(`pixel value ${value} at ${where(index)}, expected a number from 0 to 1`);
    }
  }
  if (context.dtype === "uint8") return quantize(values);
  return bytesOf(values instanceof Float64Array ? values : Float64Array.from(values));
}
