/**
 * The run's side of `--generator-cmd`: the renderer processes of one run, from the pilot that
 * declares the family and measures memory before the plan is printed, to the checked exit of
 * every process after the archive is written.
 *
 * 1. {@linkcode ExternalRenderers.start}: start one process, do its handshake; its description
 *    becomes the run's family ({@linkcode ExternalRenderers.generator}, {@linkcode
 *    ExternalRenderers.family}).
 * 2. {@linkcode ExternalRenderers.pilot}: one chunk-sized request, then the process tree's peak
 *    resident memory: what each renderer adds to the estimate.
 * 3. {@linkcode ExternalRenderers.writeOptions}: start the other processes (one per worker)
 *    and hand the writer their chunks: images, labels and latents each.
 * 4. {@linkcode ExternalRenderers.finish} closes them (a non-zero exit, bytes after the last
 *    answer fail the run); {@linkcode ExternalRenderers.abort} kills them.
 *
 * @module
 */

import { externalGenerator } from "./generator.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { RendererError, RendererProcess } from "./process.ts";
import {
  answerBytesPerPixel,
  describedAsJson,
  rendererItemSize,
  splitCommand,
} from "./protocol.ts";
import type { JsonValue } from "../generators/generator.ts";
import type { DatasetSpec, FamilyRef } from "../generators/spec.ts";
import { OptionError, RunError } from "../exit/errors.ts";
import { interruption } from "../exit/interrupt.ts";
import type { DatasetPlan, WriteOptions } from "../pipeline/dataset.ts";
import { externalImageChunks } from "./chunks.ts";

/** The default of `--generator-timeout`, in seconds. */
export const DEFAULT_RENDERER_TIMEOUT_SECONDS = 60;

/** Options of {@linkcode ExternalRenderers.start}. */
export interface ExternalRenderersOptions {
  /** Seconds to wait for a handshake or an answer. */
  timeoutSeconds: number;
  /** The image size the user asked for; a renderer declaring another one is refused. */
  imageSize?: number | undefined;
  /** The folder the command runs in (default: the current one). */
  cwd?: string;
  /** The command as typed, for messages and metadata.json (default: the words joined). */
  label?: string;
  /** Stops every process when aborted (so that no request waits for its timeout). */
  signal?: AbortSignal | undefined;
}

/** The renderer processes of one run. */
export class ExternalRenderers {
  /** The command as typed. */
  readonly label: string;
  /** Its words. */
  readonly words: string[];
  /** The folder it runs in. */
  readonly cwd: string;
  #options: ExternalRenderersOptions;
  #processes: RendererProcess[];

  private constructor(
    label: string,
    words: string[],
    first: RendererProcess,
    options: ExternalRenderersOptions,
  ) {
    this.label = label;
    this.words = words;
    this.cwd = options.cwd ?? Deno.cwd();
    this.#processes = [first];
    this.#options = options;
  }

  /**
   * Starts the first renderer and checks its handshake against what the user asked for.
   *
   * @param command The command as typed, e.g. `python3 render.py`, or its words.
   * @param options The timeout, the image size asked for, the working folder, the label.
   * @returns The renderers; a {@linkcode RendererError} when the program cannot start or sends a
   * bad handshake.
   */
  static async start(
    command: string | readonly string[],
    options: ExternalRenderersOptions,
  ): Promise<ExternalRenderers> {
    const label = options.label ?? (typeof command === "string" ? command : command.join(" "));
    const name = `Renderer ${JSON.stringify(label)}`;
    let words: string[];
    try {
      words = typeof command === "string" ? splitCommand(command) : [...command];
    } catch (error) {
      throw new RendererError(`${name} cannot be started: ${(error as Error).message}`, []);
    }
    if (words.length === 0) throw new RendererError(`${name} cannot be started: no words`, []);
    const first = await RendererProcess.start(words, {
      label,
      timeoutSeconds: options.timeoutSeconds,
      imageSize: options.imageSize,
      signal: options.signal,
      cwd: options.cwd,
    });
    const renderers = new ExternalRenderers(label, words, first, options);
    return renderers;
  }

  /** The first renderer's description, as a generator. */
  get generator(): ImageGenerator {
    return externalGenerator(this.#processes[0]!.description);
  }

  /**
   * Bytes of the answers per image pixel, for the memory estimate: 1, 4 or 8 (version 1);
   * every array's bytes per sample over S² (version 2).
   */
  get answerBytesPerPixel(): number {
    return answerBytesPerPixel(this.#processes[0]!.description);
  }

  /** Bytes per pixel of the answers' images: 1, 4 or 8. */
  get imageBytesPerPixel(): number {
    return rendererItemSize(this.#processes[0]!.description.dtype);
  }

  /** The protocol version the renderer chose: 1 or 2. */
  get protocolVersion(): number {
    return this.#processes[0]!.description.protocolVersion;
  }

  /** The declared description, as metadata.json records it. */
  get declared(): { [key: string]: JsonValue } {
    return describedAsJson(this.#processes[0]!.description);
  }

  /** The family reference recorded in the spec: name, version, command and folder. */
  get family(): FamilyRef {
    const description = this.#processes[0]!.description;
    return {
      name: description.name,
      version: description.version,
      command: this.words,
      cwd: this.cwd,
      options: {},
    };
  }

  /**
   * Sends one request of a chunk's size and measures the renderer's peak memory after it.
   *
   * @param seed The dataset seed.
   * @param count Images in the request: the run's chunk size.
   * @returns The process tree's peak resident bytes, or undefined where it cannot be read.
   */
  async pilot(seed: number, count: number): Promise<number | undefined> {
    const first = this.#processes[0]!;
    await first.render(seed, 0, count);
    return await first.peakMemoryBytes();
  }

  /**
   * Starts the renderers still missing for `workers` processes, and returns the writer's
   * chunk producer: every array of each chunk, as our own families' producers give them.
   *
   * @param options The number of processes, the abort signal, and the first image's index.
   * @returns The writer's image producer.
   */
  async writeOptions(
    options: {
      workers: number;
      signal?: AbortSignal | undefined;
      firstImage?: number;
    },
  ): Promise<Required<Pick<WriteOptions, "sampleChunks">>> {
    const missing = Math.max(0, options.workers - this.#processes.length);
    const started = await Promise.allSettled(
      Array.from({ length: missing }, () =>
        RendererProcess.start(this.words, {
          label: this.label,
          timeoutSeconds: this.#options.timeoutSeconds,
          imageSize: this.#options.imageSize,
          signal: this.#options.signal,
          cwd: this.cwd,
        })),
    );
    for (const result of started) {
      if (result.status === "fulfilled") this.#processes.push(result.value);
    }
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    const processes = [...this.#processes];
    const firstImage = options.firstImage ?? 0;
    return {
      sampleChunks: (p: DatasetPlan, signal?: AbortSignal) =>
        externalImageChunks(p, { renderers: processes, signal, firstImage }),
    };
  }

  /**
   * Measures the processes' peak memory, then closes them, checking each exits with 0 and
   * wrote nothing after its last answer.
   *
   * @returns The summed peak resident bytes of the renderer processes (undefined when
   * `/proc` cannot be read).
   */
  async finish(): Promise<number | undefined> {
    const peaks = await Promise.all(this.#processes.map((process) => process.peakMemoryBytes()));
    await Promise.all(this.#processes.map((process) => process.close()));
    return peaks.some((peak) => peak === undefined)
      ? undefined
      : peaks.reduce((total: number, peak) => total + peak!, 0);
  }

  /**
   * Kills every process; for failed and interrupted runs.
   *
   * @returns When every process has exited.
   */
  async abort(): Promise<void> {
    await Promise.all(this.#processes.map((process) => process.kill()));
  }
}

/**
 * Starts the renderers of a spec whose family is an external command, and resolves the spec
 * from the first one's handshake: the family's name and version, and the image size (a spec's
 * size 0 takes the declared one).
 *
 * @param spec The spec; `spec.family.command` must be set.
 * @param options The command as typed (for messages), the per-request timeout.
 * @returns The renderers and the resolved spec; a `RunError` naming what went wrong.
 */
async function startRenderersFor(
  spec: DatasetSpec,
  options: {
    label?: string | undefined;
    timeoutSeconds?: number | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<{ renderers: ExternalRenderers; spec: DatasetSpec }> {
  const command = spec.family.command!;
  let renderers: ExternalRenderers;
  try {
    renderers = await ExternalRenderers.start(command, {
      label: options.label ?? command.join(" "),
      timeoutSeconds: options.timeoutSeconds ?? DEFAULT_RENDERER_TIMEOUT_SECONDS,
      imageSize: spec.imageSize === 0 ? undefined : spec.imageSize,
      signal: options.signal,
      cwd: spec.family.cwd,
    });
  } catch (error) {
    // A Ctrl+C reaches the renderer too: its death is the interruption's, not a failure.
    throw interruption(options.signal, "nothing was created") ??
      rendererRunError(error, "nothing was created");
  }
  const declared = renderers.generator.imageSize;
  if (spec.imageSize !== 0 && declared !== spec.imageSize) {
    await renderers.abort();
    throw new OptionError(
      "imageSize",
      (option) =>
        `Cannot use "${option}" value "${spec.imageSize}" with renderer ` +
        `${JSON.stringify(renderers.label)}: it declares ${declared}x${declared} images, ` +
        `expected ${option} ${declared} or none`,
    );
  }
  const resolved = { ...spec, family: renderers.family, imageSize: declared };
  // Why a renderer's images can only be stored as uint8, if they can.
  const onlyUint8 = renderers.protocolVersion === 2
    ? "it declares its own arrays (protocol version 2), whose image is stored as uint8;"
    : renderers.imageBytesPerPixel === 1
    ? "it declares uint8 pixels,"
    : undefined;
  if (resolved.dtype === "float64" && onlyUint8 !== undefined) {
    await renderers.abort();
    throw new OptionError(
      "dtype",
      (option) =>
        `Cannot use "${option}" value "float64" with renderer ${
          JSON.stringify(renderers.label)
        }: ${onlyUint8} expected ${option} uint8`,
    );
  }
  return { renderers, spec: resolved };
}

/**
 * Runs `body` with the spec's renderers started, when its family is an external command (else
 * with the spec as it is and none): on failure the renderers are killed, and a renderer's
 * death is reported as the interruption's or as a `RunError`, with nothing created.
 *
 * @param spec The spec.
 * @param options The command as typed (for messages), the per-request timeout, the signal.
 * @param body The run, given the resolved spec and the renderers.
 * @returns What `body` returns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRenderersFor } from "./pool.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 1,
 *   imageSize: 8, dtype: "uint8" as const };
 * assert.equal(await withRenderersFor(spec, {}, (_, renderers) => renderers), undefined);
 * ```
 */
export async function withRenderersFor<T>(
  spec: DatasetSpec,
  options: {
    rendererLabel?: string | undefined;
    rendererTimeoutSeconds?: number | undefined;
    signal?: AbortSignal | undefined;
  },
  body: (spec: DatasetSpec, renderers: ExternalRenderers | undefined) => Promise<T> | T,
): Promise<T> {
  if (spec.family.command === undefined) return await body(spec, undefined);
  const started = await startRenderersFor(spec, {
    label: options.rendererLabel,
    timeoutSeconds: options.rendererTimeoutSeconds,
    signal: options.signal,
  });
  try {
    return await body(started.spec, started.renderers);
  } catch (error) {
    await started.renderers.abort();
    // A Ctrl+C reaches the renderers too: their death is the interruption's, not a failure.
    if (!(error instanceof RendererError)) throw error;
    throw interruption(options.signal, "nothing was created") ??
      rendererRunError(error, "nothing was created");
  }
}

/**
 * A renderer's failure as a run reports it (a `RunError` with the stderr tail); any other
 * error as it is.
 *
 * @param error What was thrown.
 * @param outcome What is left, e.g. `nothing was created`.
 * @returns The error to throw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RendererError } from "./process.ts";
 * import { rendererRunError } from "./pool.ts";
 * const error = rendererRunError(new RendererError("Renderer \"x\" died", []), "gone");
 * assert.equal((error as Error).message, "Renderer \"x\" died; gone");
 * ```
 */
export function rendererRunError(error: unknown, outcome: string): unknown {
  if (!(error instanceof RendererError)) return error;
  const named = error.named;
  return new RunError(rendererFailureText(error, outcome), {
    cause: error,
    named: named && {
      option: named.option,
      text: (name) => rendererFailureText(error, outcome, named.text(name)),
    },
  });
}

/**
 * A renderer failure as the user reads it: the one line, then the program's last stderr
 * lines, indented.
 *
 * @param error The failure.
 * @param outcome What is left, e.g. `the unfinished version was removed`.
 * @param message The failure's line (default its message; another naming of an option).
 * @returns The text (first line ends with the outcome).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RendererError } from "./process.ts";
 * import { rendererFailureText } from "./pool.ts";
 * const text = rendererFailureText(new RendererError("Renderer \"x\" crashed", ["boom"]), "gone");
 * assert.equal(text, "Renderer \"x\" crashed; gone\n  renderer stderr: boom");
 * ```
 */
export function rendererFailureText(
  error: RendererError,
  outcome: string,
  message: string = error.message,
): string {
  const tail = error.stderrTail.map((line) => `\n  renderer stderr: ${line}`).join("");
  return `${message}; ${outcome}${tail}`;
}
