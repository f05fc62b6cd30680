/**
 * One dataset version from a spec: the run's steps composed. The command line, the library,
 * and the merge of a sharded run all make their versions through {@linkcode generateDataset}.
 *
 * 1. plan: resolve the spec, threads, sizes and memory ({@linkcode planRun});
 * 2. pre-flight: output folder, write access, disk room, memory (`preflight.ts`);
 * 3. confirm: the caller's question, if any;
 * 4. stage: remove leftovers of killed runs, reserve a version (`stage.ts`);
 * 5. write: the archive, streamed (`write.ts`);
 * 6. record and publish: metadata.json, then one rename (`record.ts`, `publish.ts`).
 *
 * Nothing is created before the checks pass and the run is confirmed; a failure or an
 * interruption after that removes the staging folder, so a failed run leaves nothing.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { DatasetSpec, ImageDtype } from "../generators/spec.ts";
import type { writeDatasetNpz, WriteOptions } from "../pipeline/dataset.ts";
import { formatMegabytes, measuredPeakMemory } from "../report/memory.ts";
import { outputProgress } from "../report/progress_bar.ts";
import type { VersionMetadata } from "../store/metadata.ts";
import { type NpzRecord, syncFile } from "../pipeline/dataset.ts";
import type { Staging, StagingEntry } from "../store/versions.ts";
import { describePlan, planRun, type RunPlan } from "./plan.ts";
import { runSteps } from "./steps.ts";
import { abandonVersion, publishVersion } from "./publish.ts";
import { recordRun, type RunFacts } from "./record.ts";
import type { ResourceProbe } from "./resources.ts";
import { openStaging } from "./stage.ts";
import {
  chunkProducer,
  type EarlyProducer,
  sharedThreads,
  startEarly,
  writeArchive,
} from "./write.ts";
import { ExternalRenderers, withRenderersFor } from "../renderer/pool.ts";
import type { JsonValue } from "../generators/generator.ts";
import { externalGenerator } from "../renderer/generator.ts";
import { answerBytesPerPixel, parseDescription } from "../renderer/protocol.ts";
import { quoteCommand } from "../generators/named_program.ts";
import { type RunPart, runParts, type RunSplit } from "./parts.ts";
import { compareRemake, type RecordedArchives } from "./remake.ts";
import { RunError } from "../exit/errors.ts";

/**
 * The dataset folder's name when none is given: `<family><size>`, with the dtype when it is
 * not uint8, so that float64 baselines never join the uint8 series (whose newest version
 * `inspect` and `verify` take for a dataset folder).
 *
 * @param family The family's name.
 * @param imageSize The image side in pixels.
 * @param dtype The images' element type.
 * @returns E.g. `shapes16`, `shapes16-float64`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultName } from "./generate_dataset.ts";
 * assert.equal(defaultName("shapes", 16, "uint8"), "shapes16");
 * assert.equal(defaultName("shapes", 16, "float64"), "shapes16-float64");
 * ```
 */
export function defaultName(family: string, imageSize: number, dtype: ImageDtype): string {
  return `${family}${imageSize}${dtype === "uint8" ? "" : `-${dtype}`}`;
}

/** Where a run prints its plan, progress bar and summary. */
export interface RunOutput {
  /** Writes text as is (no newline added), e.g. to stderr. */
  write(text: string): void;
  /** Whether the output is a terminal (the progress bar redraws with `\r` only then). */
  isTerminal: boolean;
  /** The terminal's width in columns. */
  columns(): number;
  /** Whether `NO_COLOR` is set. */
  noColor: boolean;
  /**
   * Print only what must be said (a drawn seed, removed leftovers), no plan, progress bar or
   * summary.
   */
  quiet?: boolean;
}

/** Options of {@linkcode generateDataset}. */
export interface GenerateDatasetOptions {
  /** The dataset folder's name inside the output folder (default {@linkcode defaultName}). */
  name?: string;
  /** Threads requested; default: the CPUs of the allocation or machine. */
  workers?: number;
  /** Whether the seed was chosen (`flag`, the default) or drawn at random (`drawn`). */
  seedSource?: "flag" | "drawn";
  /** The command line to record in metadata.json. */
  commandLine?: string[];
  /** Stops the run; an `InterruptedError` reason gives its exit code. */
  signal?: AbortSignal;
  /** Where to print; none: a silent run. */
  output?: RunOutput;
  /** Asked after the plan is printed; rejects to cancel (nothing created). */
  confirm?: (plan: RunPlan) => Promise<void>;
  /**
   * For a spec whose family is an external renderer (`family.command`): the command as the
   * user typed it, for messages and metadata.json (default: the words joined).
   */
  rendererLabel?: string;
  /** Seconds an external renderer may take for its handshake and each answer (default 60). */
  rendererTimeoutSeconds?: number;
}

/**
 * What the command line, a merge and tests set besides {@linkcode GenerateDatasetOptions}: the
 * chunks and the writer, a merge's record, injected machine figures. Not part of the library.
 */
export interface RunOptions extends GenerateDatasetOptions {
  /**
   * A merge: each archive's chunks, in order, and its arrays after the schema's first, by name,
   * read from the slices' files and copied (`WriteOptions.copying`) instead of rendered.
   */
  copy?: (part: RunPart) => Required<Pick<WriteOptions, "sampleChunks" | "laterArrays">>;
  /** The writer; a test may inject a failing one. */
  writeDataset?: typeof writeDatasetNpz;
  /** A merge's record of the slices, kept in metadata.json. */
  shardedRun?: RunFacts["shardedRun"];
  /** Injected environment and machine figures (tests). */
  probe?: ResourceProbe;
  /**
   * For a merge of an external renderer's run: the handshake its plan recorded
   * (`describedAsJson`). The family is taken from it and no process is started; every array
   * must come from `copy`.
   */
  rendererDeclared?: { [key: string]: JsonValue };
  /**
   * The recipe the run was made from, recorded in metadata.json as `recipe` (the file that
   * makes the version again), with the file it came from and the fields flags overrode.
   */
  recipe?: {
    recipe: { [key: string]: JsonValue };
    source?: { file: string; overridden: { [field: string]: string } };
  };
  /**
   * Named splits, each written as its own archive `<name>.npz` instead of `dataset.npz`; the
   * spec's `numImages` is then their sum.
   */
  splits?: RunSplit[];
  /**
   * A remake: the files and arrays a version's metadata.json records. The run fails (exit 1,
   * naming the first differing array) unless every archive has its recorded SHA-256.
   */
  remake?: RecordedArchives;
}

/** What {@linkcode generateDataset} made. */
export interface GenerateResult {
  /** The published version folder, e.g. `data/shapes16/v0001-20261125T031245Z`. */
  path: string;
  /** What was written to the version's metadata.json. */
  metadata: VersionMetadata;
  /** Staging folders of killed runs that were removed on the way. */
  removedStale: StagingEntry[];
}

/**
 * Generates one version of a dataset.
 *
 * @param spec What to generate.
 * @param outputDir The folder that holds the dataset folders (created if missing).
 * @param options Name, threads, output, confirmation, signal.
 * @returns The version folder and its metadata.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "./generate_dataset.ts";
 * const dir = await Deno.makeTempDir();
 * const { metadata } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 42, numImages: 10, imageSize: 16, dtype: "uint8" }, dir);
 * assert.equal(metadata.num_images, 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function generateDataset(
  spec: DatasetSpec,
  outputDir: string,
  options: GenerateDatasetOptions = {},
): Promise<GenerateResult> {
  return runDataset(spec, outputDir, options);
}

/**
 * {@linkcode generateDataset} with the options only dsgen itself sets ({@linkcode RunOptions}).
 *
 * @param spec What to generate.
 * @param outputDir The folder that holds the dataset folders (created if missing).
 * @param options The library's options, and the run's own.
 * @returns The version folder and its metadata.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDataset } from "./generate_dataset.ts";
 * const dir = await Deno.makeTempDir();
 * const { metadata } = await runDataset({ family: { name: "shapes", options: {} },
 *   seed: 42, numImages: 10, imageSize: 16, dtype: "uint8" }, dir, { probe: { env: {} } });
 * assert.equal(metadata.num_images, 10);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runDataset(
  spec: DatasetSpec,
  outputDir: string,
  options: RunOptions = {},
): Promise<GenerateResult> {
  if (spec.family.command !== undefined && options.rendererDeclared !== undefined) {
    return await generateWith(spec, outputDir, options, recordedRenderer(spec, options));
  }
  return await withRenderersFor(
    spec,
    options,
    (resolved, renderers) => generateWith(resolved, outputDir, options, renderers),
  );
}

/** What a run needs of its renderers: their family, answer size and record. */
type RendererFacts = Pick<
  ExternalRenderers,
  "generator" | "answerBytesPerPixel" | "label" | "declared"
>;

/**
 * A renderer known from its recorded handshake only (a merge): no process, so it can neither
 * render nor be closed.
 */
function recordedRenderer(spec: DatasetSpec, options: RunOptions): RendererFacts {
  if (options.copy === undefined) {
    throw new TypeError(
      "Cannot use a recorded renderer's handshake without every array's chunks",
    );
  }
  const declared = options.rendererDeclared!;
  const description = parseDescription(JSON.stringify(declared));
  return {
    generator: externalGenerator(description),
    answerBytesPerPixel: answerBytesPerPixel(description),
    label: quoteCommand(spec.family.command!),
    declared,
  };
}

async function generateWith(
  spec: DatasetSpec,
  outputDir: string,
  options: RunOptions,
  external: ExternalRenderers | RendererFacts | undefined,
): Promise<GenerateResult> {
  // Processes only when they were started; a recorded handshake has none.
  const renderers = external instanceof ExternalRenderers ? external : undefined;
  const name = options.name ?? defaultName(spec.family.name, spec.imageSize, spec.dtype);
  const datasetDir = join(outputDir, name);
  const { output, signal } = options;
  const info = (line: string) => {
    if (output !== undefined && !output.quiet) output.write(line + "\n");
  };
  const notice = (line: string) => output?.write(line + "\n");
  const seedSource = options.seedSource ?? "flag";

  // An external renderer's memory is measured on a pilot request of one chunk's size.
  // A merge brings its own chunks: its renderer only declared the family, and idles.
  const rendering = renderers !== undefined && options.copy === undefined;
  const confirm = options.confirm;
  // One archive per split (`<name>.npz`), else dataset.npz; the largest part speaks for the
  // run: its threads and memory estimate.
  let parts: (RunPart & { plan: RunPlan })[] = [];
  let plan: RunPlan;
  let archiveBytes = 0;
  return await runSteps(spec, { outputDir, name, external, rendering, output, signal }, {
    plan: async (rendererOptions) => {
      const planOptions = {
        workers: options.workers,
        probe: options.probe,
        ...rendererOptions,
        merge: options.copy !== undefined,
        // A recipe's splits render on one set of threads, chosen for all their images.
        threadImages: spec.numImages,
      };
      // One archive per split (`<name>.npz`), else dataset.npz.
      parts = await Promise.all(
        runParts(spec, options.splits).map(async (part) => ({
          ...part,
          plan: await planRun(part.spec, planOptions),
        })),
      );
      // The largest part speaks for the run: its threads and memory estimate.
      plan = parts.reduce((largest, part) =>
        part.plan.spec.numImages > largest.plan.spec.numImages ? part : largest
      ).plan;
      archiveBytes = parts.reduce((sum, part) =>
        sum + part.plan.archiveBytes, 0);
      const lines = describePlan(plan, {
        output: `${resolve(datasetDir)}/v????-<time>/`,
        seedDrawn: seedSource === "drawn",
      });
      if (parts.length > 1 || options.splits !== undefined) {
        lines[0] = lines[0]!.replace(/^Plan: \d+ images/, `Plan: ${spec.numImages} images`);
        lines[2] = `Disk: ${formatMegabytes(archiveBytes)} (${archiveBytes} bytes)`;
        lines.push(
          `Splits: ${
            parts.map((part) => `${part.file} ${part.plan.spec.numImages} images`).join(", ")
          }`,
        );
      }
      return {
        notices: seedSource === "drawn" && output?.quiet ? [`Seed: ${spec.seed} (drawn)`] : [],
        lines,
        // The parts are written one after the other, each with its spill files beside it.
        diskBytes: archiveBytes + Math.max(...parts.map((part) => part.plan.spillBytes)),
        estimatedPeak: plan.estimate.total,
        memory: plan.memory,
        confirm: confirm && (() => confirm(plan)),
        outcome: "nothing was created",
      };
    },
    write: async () => {
      // The run starts now: time spent reading the plan and answering is not the run's.
      const startedAt = new Date();
      const startTime = performance.now();

      const removedStale: StagingEntry[] = [];
      const staging: Staging = await openStaging(datasetDir, {
        onRemoved: (line, entry) => {
          removedStale.push(entry);
          notice(line); // Always said, even quiet: it deletes files this run did not write.
        },
      });
      const progress = outputProgress(
        spec.numImages,
        output,
        options.copy !== undefined ? "Merging" : "Generating",
      );
      // Several archives (a recipe's splits) render on one set of threads, started once.
      using threads = sharedThreads(parts.length, plan.workers.count, {
        rendering: external === undefined && options.copy === undefined,
      });
      // Each archive but the last reaches the disk while the next is written.
      const syncs: Promise<void>[] = [];
      // On shared threads, the next archive's rendering starts once this one's samples are
      // in, while its later arrays are copied.
      let early: EarlyProducer | undefined;
      try {
        signal?.throwIfAborted();
        const archives: NpzRecord[] = [];
        let before = 0;
        for (const [index, part] of parts.entries()) {
          const done = before;
          const path = join(staging.path, part.file);
          const last = index === parts.length - 1;
          const started = early;
          early = undefined;
          const upcoming = parts[index + 1];
          archives.push(
            await writeArchive(part.plan, path, {
              onProgress: (images) => progress.update(done + images),
              signal,
              renderers: rendering ? renderers : undefined,
              writeDataset: options.writeDataset,
              ...(options.copy === undefined ? {} : { ...options.copy(part), copying: true }),
              ...(started === undefined ? {} : { sampleChunks: started.produce }),
              threads,
              sync: last,
              onSamplesWritten: threads === undefined || upcoming === undefined
                ? undefined
                : async () => {
                  const produce = await chunkProducer(upcoming.plan, { threads, signal });
                  early = startEarly(produce, upcoming.plan.dataset, signal);
                },
            }),
          );
          if (!last) {
            const synced = syncFile(path);
            synced.catch(() => {}); // Handled below; not an unhandled rejection meanwhile.
            syncs.push(synced);
          }
          before += part.plan.spec.numImages;
        }
        await Promise.all(syncs);
        const archive = archives[0]!;
        if (options.remake !== undefined) {
          const problem = await compareRemake(
            parts.map((part, index) => ({
              file: part.file,
              path: join(staging.path, part.file),
              record: archives[index]!,
            })),
            options.remake,
          );
          if (problem !== undefined) throw new RunError(problem);
        }
        const rendererPeak = await renderers?.finish();
        progress.finish();
        const seconds = (performance.now() - startTime) / 1000;
        const ownPeak = measuredPeakMemory();
        // With renderers, the whole process tree: each process's peak, summed.
        const peak =
          ownPeak === undefined || (renderers !== undefined && rendererPeak === undefined)
            ? undefined
            : ownPeak + (rendererPeak ?? 0);
        let metadata = recordRun(plan, {
          dataset: name,
          version: staging.number,
          startedAt,
          finishedAt: new Date(),
          seconds,
          seedSource,
          archive,
          commandLine: options.commandLine,
          peakBytes: peak,
          shardedRun: options.shardedRun,
          ...(external === undefined
            ? {}
            : { renderer: { command: external.label, declared: external.declared } }),
          rendererPeakBytes: rendererPeak,
        });
        if (options.splits !== undefined) {
          metadata = recordSplits(metadata, {
            spec: { ...spec, family: { ...spec.family, version: plan.spec.family.version } },
            parts: parts.map((part, index) => ({ ...part, archive: archives[index]! })),
            seconds,
          });
        }
        {
          // The recipe that makes this version again; a library call or a merge gets the spec's.
          const recipe = structuredClone(
            options.recipe?.recipe ?? specRecipe(spec, name, options),
          );
          const family = recipe.family as { [key: string]: JsonValue } | undefined;
          if (family !== undefined && family.version === undefined) {
            family.version = plan.spec.family.version ?? null;
          }
          metadata.recipe = recipe;
          if (options.recipe?.source !== undefined) metadata.recipe_source = options.recipe.source;
        }
        const version = await publishVersion(staging, metadata, {
          signal,
        });
        if (options.remake !== undefined) {
          notice(
            `Remade byte-identical: ${
              parts.map((part, index) => `${part.file} SHA-256 ${archives[index]!.sha256}`).join(
                ", ",
              )
            }, as metadata.json records`,
          );
        }
        info(
          `Wrote ${spec.numImages} images, ${formatMegabytes(archiveBytes)}, in ` +
            `${seconds.toFixed(2)} s (${metadata.run.images_per_second} img/s)`,
        );
        if (peak !== undefined) {
          info(
            `Peak memory: ${formatMegabytes(peak)} (estimated ${
              formatMegabytes(plan.estimate.total)
            })`,
          );
        }
        return { path: version.path, metadata, removedStale };
      } catch (error) {
        progress.clear();
        await early?.cancel();
        await renderers?.abort();
        await Promise.allSettled(syncs); // Nothing of the staging folder still in use.
        throw await abandonVersion(staging, error, {
          datasetDir,
          signal,
        });
      }
    },
  });
}

/**
 * The metadata.json of a version written as splits: one file per split, the arrays of each,
 * and each split's region, distribution, count and checksum under `splits`.
 */
function recordSplits(
  metadata: VersionMetadata,
  run: {
    spec: DatasetSpec;
    parts: { file: string; plan: RunPlan; archive: NpzRecord }[];
    seconds: number;
  },
): VersionMetadata {
  const { spec, parts } = run;
  const { split: _first, ...parameters } = parts[0]!.plan.generator.parameters;
  return {
    ...metadata,
    num_images: spec.numImages,
    generator: { ...metadata.generator, parameters },
    spec,
    files: parts.map(({ file, archive }) => ({
      name: file,
      bytes: archive.bytes,
      sha256: archive.sha256,
    })),
    arrays: [],
    splits: parts.map(({ file, plan, archive }) => ({
      name: plan.spec.family.split!.name,
      file,
      num_images: plan.spec.numImages,
      combinations: (plan.generator.parameters.split as { combinations: number }).combinations,
      split: plan.spec.family.split!,
      bytes: archive.bytes,
      sha256: archive.sha256,
      arrays: archive.arrays.map(({ name, dtype, shape, offset }) => ({
        name,
        dtype,
        shape,
        offset,
      })),
    })),
    run: {
      ...metadata.run,
      images_per_second: Math.round(spec.numImages / run.seconds),
    },
  };
}

/** The recipe of a spec (docs/recipes.md), for runs that were given none. */
function specRecipe(
  spec: DatasetSpec,
  name: string,
  options: RunOptions,
): { [key: string]: JsonValue } {
  const { family } = spec;
  return {
    family: {
      name: family.name,
      options: family.options,
      ...(family.module === undefined ? {} : { module: family.module }),
      ...(family.command === undefined
        ? {}
        : { command: options.rendererLabel ?? family.command.join(" ") }),
    },
    image_size: spec.imageSize,
    dtype: spec.dtype,
    seed: spec.seed,
    ...(options.splits === undefined ? { num_images: spec.numImages } : {
      splits: options.splits.map(({ numImages, split }) => ({
        name: split.name,
        where: split.where as JsonValue,
        ...(split.mode === "grid" ? {} : { num_images: numImages }),
        ...(split.factors === undefined ? {} : { factors: split.factors }),
        ...(split.correlations === undefined ? {} : { correlations: split.correlations }),
      })),
    }),
    name,
  };
}
