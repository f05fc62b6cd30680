/**
 * The run's steps, written once for a whole run (`generate_dataset.ts`) and a cluster slice
 * (`cluster/slice.ts`): {@linkcode runSteps}. What differs between them is the
 * {@linkcode RunDestination} (an archive in a staging folder, or a slice's files in the run
 * folder), which plans and writes:
 *
 * 1. {@linkcode checkDestination}: the output folder is usable and writable;
 * 2. {@linkcode rendererPlanOptions}: an external renderer's family and its memory, measured
 *    on a pilot request, for the plan (`planRun`);
 * 3. the destination's plan (or its result without writing: a slice already done);
 * 4. the disk room for what it will write;
 * 5. {@linkcode announceAndConfirm}: the plan printed, its memory checked, the caller's
 *    confirmation;
 * 6. the destination's write, its chunks from the one place they are chosen (`write.ts`'s
 *    `chunkProducer`).
 *
 * @module
 */

import { join } from "node:path";
import type { ImageGenerator } from "../generators/generator.ts";
import type { DatasetSpec } from "../generators/spec.ts";
import { chunkSamples } from "../pipeline/dataset.ts";
import { confirmOrStop } from "../exit/interrupt.ts";
import type { PlanOptions } from "./plan.ts";
import {
  checkDiskRoom,
  checkMemory,
  checkOutputFolder,
  checkWritable,
  type MemoryLimit,
} from "./preflight.ts";

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
  /** Lines printed after the plan's even when the output is quiet, e.g. a drawn seed. */
  notices?: readonly string[] | undefined;
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
  for (const line of options.notices ?? []) output?.write(line + "\n");
  checkMemory(options.estimatedPeak, options.memory);
  await confirmOrStop(options.confirm, {
    signal: options.signal,
    output: options.output,
    outcome: options.outcome,
  });
}

/** What a destination's plan says, for the steps that check and announce it. */
export interface PlannedRun {
  /** The plan's lines, printed before the confirmation. */
  lines: string[];
  /** The bytes it will write, checked against the free disk room. */
  diskBytes: number;
  /** Its estimated peak memory, in bytes. */
  estimatedPeak: number;
  /** The memory the run may use. */
  memory: MemoryLimit;
  /** Asked after the plan is printed; rejects to cancel. */
  confirm?: (() => Promise<void>) | undefined;
  /** What an interruption before the write leaves, e.g. `nothing was created`. */
  outcome: string;
  /** Lines printed after the plan's even when the output is quiet, e.g. a drawn seed. */
  notices?: string[];
}

/** The part of a run that differs: what it plans, and where it writes. */
export interface RunDestination<R> {
  /**
   * Plans the run, with an external renderer's plan options (empty without one): its lines,
   * disk bytes and estimate; or `{ done }`, a result without writing anything.
   */
  plan(rendererOptions: Pick<PlanOptions, "generator" | "renderer">): Promise<
    PlannedRun | { done: R }
  >;
  /** Writes, once the plan is checked and confirmed. */
  write(): Promise<R>;
}

/** What {@linkcode runSteps} needs besides the destination. */
export interface RunStepsOptions {
  /** The folder that holds the dataset folders. */
  outputDir: string;
  /** The dataset folder's name. */
  name: string;
  /** The run's external renderers, if any. */
  external?: RendererFacts | undefined;
  /** Whether the renderers render (false for a merge, which copies; default true). */
  rendering?: boolean;
  /** Where to print. */
  output?: { write(text: string): void; quiet?: boolean } | undefined;
  /** Stops the run. */
  signal?: AbortSignal | undefined;
}

/**
 * The run's steps in order (see the module doc), with the destination as the part that
 * differs.
 *
 * @param spec The run's spec.
 * @param run The output folder, name, renderers, output and signal.
 * @param destination What plans and writes.
 * @returns The destination's result.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSteps } from "./steps.ts";
 * const dir = await Deno.makeTempDir();
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * const result = await runSteps(spec, { outputDir: dir, name: "demo" }, {
 *   plan: () => Promise.resolve({ lines: ["Plan"], diskBytes: 0, estimatedPeak: 0,
 *     memory: { bytes: 1e9, source: "RAM" }, outcome: "nothing was created" }),
 *   write: () => Promise.resolve("written"),
 * });
 * assert.equal(result, "written");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runSteps<R>(
  spec: DatasetSpec,
  run: RunStepsOptions,
  destination: RunDestination<R>,
): Promise<R> {
  const datasetDir = await checkDestination(run.outputDir, run.name);
  const rendererOptions = await rendererPlanOptions(spec, run.external, {
    rendering: run.rendering,
  });
  const planned = await destination.plan(rendererOptions);
  if ("done" in planned) return planned.done;
  checkDiskRoom(planned.diskBytes, { outputDir: run.outputDir, datasetDir });
  await announceAndConfirm(planned.lines, {
    estimatedPeak: planned.estimatedPeak,
    memory: planned.memory,
    output: run.output,
    confirm: planned.confirm,
    signal: run.signal,
    outcome: planned.outcome,
    notices: planned.notices,
  });
  return await destination.write();
}
