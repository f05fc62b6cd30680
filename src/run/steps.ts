/**
 * The run's steps that a whole run (`generate_dataset.ts`) and a cluster slice
 * (`cluster/slice.ts`) share, written once; what differs between them is the destination (an
 * archive in a staging folder, or a slice's files in the run folder):
 *
 * 1. {@linkcode checkDestination}: the output folder is usable and writable;
 * 2. {@linkcode rendererPlanOptions}: an external renderer's family and its memory, measured
 *    on a pilot request, for the plan (`planRun`);
 * 3. {@linkcode announceAndConfirm}: the plan printed, its memory checked, the caller's
 *    confirmation;
 * 4. the chunks, from the one place they are chosen (`write.ts`'s `chunkProducer`), into the
 *    destination.
 *
 * @module
 */

import { join } from "node:path";
import type { ImageGenerator } from "../generators/generator.ts";
import type { DatasetSpec } from "../generators/spec.ts";
import { chunkSamples } from "../pipeline/dataset.ts";
import { confirmOrStop } from "../exit/interrupt.ts";
import type { PlanOptions } from "./plan.ts";
import { checkMemory, checkOutputFolder, checkWritable, type MemoryLimit } from "./preflight.ts";

/**
 * Checks that a run may write its dataset folder `name` in `outputDir` (an existing file, a
 * folder not writable, are refused before anything is created).
 *
 * @param outputDir The folder that holds the dataset folders.
 * @param name The dataset folder's name.
 * @returns The dataset folder's path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDestination } from "./steps.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await checkDestination(dir, "shapes16"), `${dir}/shapes16`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkDestination(outputDir: string, name: string): Promise<string> {
  const datasetDir = join(outputDir, name);
  await checkOutputFolder(outputDir, name);
  await checkWritable(outputDir, datasetDir);
  return datasetDir;
}

/** What a run knows of its external renderers before planning. */
export interface RendererFacts {
  /** The family their handshake declared. */
  generator: ImageGenerator;
  /** Bytes per pixel of their answers. */
  answerBytesPerPixel: number;
  /** A pilot request of `count` images from `seed`: the peak memory of one process. */
  pilot?: (seed: number, count: number) => Promise<number | undefined>;
}

/**
 * The plan's options for a run's external renderers: their family, and their memory measured
 * on a pilot request of one chunk (skipped when the run renders nothing, e.g. a merge).
 *
 * @param spec The run's spec.
 * @param external The renderers, if the run has any.
 * @param options Whether the run renders (default true).
 * @returns The options to spread into `planRun`'s, empty without renderers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendererPlanOptions } from "./steps.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * assert.deepEqual(await rendererPlanOptions(spec, undefined), {});
 * ```
 */
export async function rendererPlanOptions(
  spec: DatasetSpec,
  external: RendererFacts | undefined,
  options: { rendering?: boolean } = {},
): Promise<Pick<PlanOptions, "generator" | "renderer">> {
  if (external === undefined) return {};
  const rendering = options.rendering !== false && external.pilot !== undefined;
  const peakBytes = rendering
    ? await external.pilot!(spec.seed, chunkSamples(external.generator, spec.dtype)) ?? 0
    : 0;
  return {
    generator: external.generator,
    renderer: { peakBytes, answerBytesPerPixel: external.answerBytesPerPixel },
  };
}

/** Options of {@linkcode announceAndConfirm}. */
export interface AnnounceOptions {
  /** The estimated peak memory, in bytes, checked against `memory`. */
  estimatedPeak: number;
  /** The memory the run may use. */
  memory: MemoryLimit;
  /** Where to print (nothing when quiet or absent). */
  output?: { write(text: string): void; quiet?: boolean } | undefined;
  /** Asked after the plan is printed; rejects to cancel. */
  confirm?: (() => Promise<void>) | undefined;
  /** Stops the run. */
  signal?: AbortSignal | undefined;
  /** What an interruption leaves, for its message, e.g. `nothing was created`. */
  outcome: string;
}

/**
 * Prints the plan's lines, refuses a run whose estimated memory exceeds what it may use, and
 * asks the caller's confirmation.
 *
 * @param lines The plan's lines, without newlines.
 * @param options The estimate, the limit, the output, the confirmation and the signal.
 * @returns When the run may start.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { announceAndConfirm } from "./steps.ts";
 * let printed = "";
 * await announceAndConfirm(["Plan: 10 images"], {
 *   estimatedPeak: 1e6,
 *   memory: { bytes: 1e9, source: "RAM" },
 *   output: { write: (text) => printed += text },
 *   outcome: "nothing was created",
 * });
 * assert.equal(printed, "Plan: 10 images\n");
 * ```
 */
export async function announceAndConfirm(
  lines: readonly string[],
  options: AnnounceOptions,
): Promise<void> {
  const { output } = options;
  if (output !== undefined && output.quiet !== true) {
    for (const line of lines) output.write(line + "\n");
  }
  checkMemory(options.estimatedPeak, options.memory);
  await confirmOrStop(options.confirm, {
    signal: options.signal,
    output: options.output,
    outcome: options.outcome,
  });
}
