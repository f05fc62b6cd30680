/**
 * One slice of a sharded run: the contiguous images `start .. start + count - 1` of a dataset,
 * rendered into the run folder as the raw bytes of each array of the family's schema (the
 * first in `<slice>.bin`, each other in `<slice>.<array>.bin`). A recipe's splits count as
 * one run of images, the splits one after the other: the slice holds its share of each split
 * its range reaches, in files named `<slice>.<split>` (`run_folder.ts`'s `sliceShares`),
 * rendered on one set of threads. The slice that completes the run merges it (see
 * `merge.ts`).
 *
 * A slice refuses to join a run whose recorded plan differs from its own (exit 2, naming the
 * flag); a slice already done is not redone; an interrupted or failed slice removes only its
 * own temporary file, so finished slices stay.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { hostname } from "node:os";
import type { DatasetSpec } from "../generators/spec.ts";
import { crc32 } from "../format/crc32.ts";
import { chunkBytes } from "../format/npz.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { bytesPerSample, sampleBytes, type SampleSchema } from "../generators/sample_schema.ts";
import { chunkProducer, sharedThreads } from "../run/write.ts";
import { runParts, type RunSplit } from "../run/parts.ts";
import { estimateSliceThenMerge, formatMegabytes, measuredPeakMemory } from "../report/memory.ts";
import { outputProgress } from "../report/progress_bar.ts";
import type { SliceMetadata } from "../store/metadata.ts";
import { RunError, UsageError } from "../exit/errors.ts";
import { defaultName, type RunOutput } from "../run/generate_dataset.ts";
import { interruption } from "../exit/interrupt.ts";
import { describeWorkers, planRun, type RunPlan } from "../run/plan.ts";
import { systemReason } from "../run/preflight.ts";
import { runSteps } from "../run/steps.ts";
import type { ResourceProbe } from "../run/resources.ts";
import { type MergeResult, mergeRun } from "./merge.ts";
import { type ExternalRenderers, rendererRunError, withRenderersFor } from "../renderer/pool.ts";
import { SpilledArrays } from "../pipeline/spill.ts";
import { RendererError } from "../renderer/process.ts";
import {
  planDifference,
  readPlan,
  readSliceRecord,
  recordPlan,
  runFolder,
  runFolderRead,
  type RunPlanFile,
  runProgress,
  sliceRange,
  type SliceShare,
  sliceShares,
  temporaryName,
  writeSliceRecord,
} from "./run_folder.ts";
import { ChunkChecksums, writeChunkChecksums } from "./checksums.ts";
import { quoteCommand } from "../generators/named_program.ts";

/** Which slice of which run. */
export interface SliceId {
  /** The number of slices. */
  shards: number;
  /** This slice's index, 0 to shards - 1. */
  index: number;
  /** The run's id. */
  runId: string;
}

/** Options of {@linkcode runSlice}. */
export interface SliceOptions extends SliceId {
  /** The dataset folder's name (default: `defaultName` of the run's steps). */
  name?: string;
  /** Threads requested; default: the allocation's CPUs. */
  workers?: number;
  /** Stops the slice; an `InterruptedError` reason gives its exit code. */
  signal?: AbortSignal;
  /** Where to print; none: silent. */
  output?: RunOutput;
  /** The command line, recorded in the merged version. */
  commandLine?: string[];
  /** Injected environment and machine figures (tests). */
  probe?: ResourceProbe;
  /** For an external renderer: the command as typed, for messages and metadata.json. */
  rendererLabel?: string;
  /** For an external renderer: seconds it may take per request (default 60). */
  rendererTimeoutSeconds?: number;
  /** Asked after the plan is printed; rejects to cancel (nothing written). */
  confirm?: () => Promise<void>;
  /** A recipe's splits: the merge writes one archive per split (the spec's count is their sum). */
  splits?: RunSplit[];
  /** The recipe the merged version records (as `RunOptions.recipe`); kept in plan.json. */
  recipe?: RunPlanFile["recipe"];
  /**
   * For `--recipe metadata.json`: the version's archives as it records them; kept in plan.json
   * by the slice that records it, for the merge to compare with.
   */
  remake?: RunPlanFile["remake"];
}

/** What {@linkcode runSlice} did. */
export interface SliceResult {
  /** `rendered` now, or `already complete` from an earlier run. */
  status: "rendered" | "already complete";
  /** The slice's record. */
  record: SliceMetadata;
  /** The merge, when this slice found the run complete. */
  merge?: MergeResult;
}

/**
 * Renders one slice, and merges the run if it is then complete.
 *
 * @param spec The whole run's spec.
 * @param outputDir The folder that holds the dataset folders.
 * @param options The slice, name, threads, output, signal.
 * @returns The slice's record, and the merge if this slice made one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSlice } from "./slice.ts";
 * const dir = await Deno.makeTempDir();
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * await runSlice(spec, dir, { shards: 2, index: 1, runId: "a" });
 * const last = await runSlice(spec, dir, { shards: 2, index: 0, runId: "a" });
 * assert.equal(last.merge?.status, "merged");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runSlice(
  spec: DatasetSpec,
  outputDir: string,
  options: SliceOptions,
): Promise<SliceResult> {
  return await withRenderersFor(
    spec,
    options,
    (resolved, renderers) => sliceWith(resolved, outputDir, options, renderers),
  );
}

async function sliceWith(
  spec: DatasetSpec,
  outputDir: string,
  options: SliceOptions,
  renderers?: ExternalRenderers,
): Promise<SliceResult> {
  const { shards, index, runId, output, signal } = options;
  const name = options.name ?? defaultName(spec.family.name, spec.imageSize, spec.dtype);
  const datasetDir = join(outputDir, name);
  const info = (line: string) => {
    if (output !== undefined && !output.quiet) output.write(line + "\n");
  };
  if (shards > spec.numImages) {
    throw new UsageError(
      `Cannot use "--shards" value "${shards}": expected at most the ${spec.numImages} images`,
    );
  }
  if (index >= shards) {
    throw new UsageError(
      `Cannot use "--shard-index" value "${index}": expected an integer from 0 to ${shards - 1}`,
    );
  }
  // A run folder, plan or record that cannot be trusted, or is malformed, fails the slice
  // before anything is written (the write check below leaves a probe's trace in the folder).
  await runFolderRead(() => readPlan(runFolder(datasetDir, runId), runId));
  const folder = runFolder(datasetDir, runId);
  if (options.splits !== undefined && spec.family.command !== undefined) {
    throw new UsageError(
      `Cannot use "--shards" with a recipe that has splits and an external renderer: ` +
        "expected a family of dsgen's own",
    );
  }
  // Set by the plan step, read by the write step.
  let range!: ReturnType<typeof sliceRange>;
  let shares!: (SliceShare & { plan: RunPlan; schema: SampleSchema })[];
  let mine!: RunPlanFile;
  let refuseDifferent!: (recorded: RunPlanFile | undefined) => void;
  let bytes = 0;
  let workers!: RunPlan["workers"];
  return await runSteps<SliceResult>(
    spec,
    { outputDir, name, external: renderers, output, signal },
    {
      plan: async (rendererOptions) => {
        range = sliceRange(spec.numImages, shards, index);
        const parts = runParts(spec, options.splits);
        shares = await Promise.all(
          sliceShares(parts, shards, index).map(async (share) => {
            const plan = await planRun({ ...share.part.spec, numImages: share.count }, {
              // A share of a grid's images: the grid fixes the whole archive's count.
              wholeImages: share.part.spec.numImages,
              // The shares render on one set of threads, chosen for the slice's images.
              threadImages: range.count,
              hashes: false,
              workers: options.workers,
              probe: options.probe,
              ...rendererOptions,
            });
            return { ...share, plan, schema: schemaOf(plan.generator, spec.dtype) };
          }),
        );
        // The largest share speaks for the slice: its threads, shared by every share, and
        // its memory.
        const slicePlan = largest(shares, (share) => share.count).plan;
        // The slice that completes the run merges it in this process: its estimate covers
        // that, for the largest archive the merge writes.
        const mergePlan = await planRun(largest(parts, (part) => part.spec.numImages).spec, {
          workers: 1,
          probe: options.probe,
          ...rendererOptions,
        });
        const estimatedPeak = estimateSliceThenMerge(slicePlan.estimate, mergePlan);
        mine = {
          schema_version: 1,
          run_id: runId,
          dataset: name,
          shards,
          spec: { ...spec, family: { ...spec.family, version: slicePlan.generator.version } },
          created_at: new Date().toISOString(),
          // The handshake, so that the merge learns the family from the plan and starts nothing.
          ...(renderers === undefined ? {} : { renderer: { declared: renderers.declared } }),
          ...(options.splits === undefined ? {} : {
            splits: options.splits.map(({ numImages, split }) => ({
              num_images: numImages,
              split,
            })),
          }),
          ...(options.recipe === undefined ? {} : { recipe: options.recipe }),
          ...(options.remake === undefined ? {} : { remake: options.remake }),
        };
        refuseDifferent = (recorded: RunPlanFile | undefined) => {
          const differs = recorded === undefined ? undefined : planDifference(recorded, mine);
          if (differs === undefined) return;
          const planPath = join(folder, "plan.json");
          if (differs.startsWith("--generator-cmd")) {
            // Both programs, as the words and folder that run (never a stored label).
            const describe = (plan: RunPlanFile) =>
              plan.spec.family.command === undefined
                ? `dsgen's own ${plan.spec.family.name}`
                : `${quoteCommand(plan.spec.family.command)} (run in ${plan.spec.family.cwd})`;
            throw new UsageError(
              `Cannot join run "${runId}": "${differs}" differs from the run's plan in ${planPath}: ` +
                `this slice runs ${describe(mine)} but the plan names ${describe(recorded!)}, ` +
                "expected the same command, typed in the same folder, for every slice",
            );
          }
          throw new UsageError(
            `Cannot join run "${runId}": "${differs}" differs from the run's plan in ` +
              `${planPath}, expected the same ${
                recorded!.recipe !== undefined || mine.recipe !== undefined ? "recipe and " : ""
              }flags for every slice`,
          );
        };
        // Checked before anything is created, and again once the plan is recorded (a slice with
        // other flags may have recorded it meanwhile).
        refuseDifferent(await runFolderRead(() => readPlan(folder, runId)));
        const title = `Slice ${index} of ${shards} (images ${range.start} to ` +
          `${range.start + range.count - 1}) of run "${runId}"`;
        const done = await runFolderRead(() =>
          readSliceRecord(folder, { index, shards, numImages: spec.numImages })
        );
        if (done !== undefined) {
          output?.write(`${title} is already complete: nothing to do\n`);
          return { done: { status: "already complete", record: done, ...await mergeIfComplete() } };
        }

        // Every array's files: the first's `.bin` and a side file per later array.
        bytes = shares.reduce((sum, share) => sum + share.count * sampleBytes(share.schema), 0);
        workers = slicePlan.workers;
        const splitsLine = options.splits === undefined ? [] : [
          `Splits: ${
            shares.map((share) =>
              `${share.part.file} images ${share.start} to ${share.start + share.count - 1}`
            ).join(", ")
          }`,
        ];
        return {
          lines: [
            `Plan: ${title}: ${range.count} images of ${spec.imageSize}x${spec.imageSize} ${spec.dtype}, ` +
            `generator ${slicePlan.generator.name} ${slicePlan.generator.version}, seed ${spec.seed}, ` +
            describeWorkers(workers),
            `Output: ${shares.map((share) => `${resolve(folder)}/${share.stem}.bin`).join(", ")}`,
            `Disk: ${formatMegabytes(bytes)} (${bytes} bytes)`,
            `Estimated memory: ${
              formatMegabytes(estimatedPeak)
            } for ${range.count} images and the ` +
            `merge, if this slice completes the run; ${
              formatMegabytes(slicePlan.estimate.total)
            } without it ` +
            `(${formatMegabytes(slicePlan.memory.bytes)} ${slicePlan.memory.source})`,
            ...splitsLine,
          ],
          diskBytes: bytes,
          estimatedPeak,
          memory: slicePlan.memory,
          confirm: options.confirm,
          outcome: "nothing was written",
        };
      },
      write: async () => {
        try {
          refuseDifferent(await recordPlan(folder, mine));
        } catch (error) {
          if (error instanceof UsageError) throw error;
          if (error instanceof TypeError) throw new RunError(error.message, { cause: error });
          throw new RunError(
            `Cannot record the plan of run "${runId}" in ${folder}: ${systemReason(error)}`,
            { cause: error },
          );
        }

        const startedAt = new Date();
        const startTime = performance.now();
        const progress = outputProgress(range.count, output);
        // Files this slice published, removed again if a later share fails: no record, no files.
        const published: string[] = [];
        // Several shares (a recipe's splits) render on one set of threads, started once.
        using threads = sharedThreads(shares.length, workers.count, {
          rendering: renderers === undefined,
        });
        let current: { temporary: string; file: Deno.FsFile; spill?: SpilledArrays } | undefined;
        try {
          let before = 0;
          for (const share of shares) {
            const { plan, schema, stem } = share;
            const finalPath = join(folder, `${stem}.bin`);
            const temporary = join(folder, temporaryName(`${stem}.bin`));
            const file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o644 });
            current = { temporary, file };
            // The schema's other arrays go to a slice file each as the first streams (for the
            // merge to copy).
            const later = schema.arrays.slice(1).map((array) => array.name);
            const side = (array: string) => `${stem}.${array}.bin`;
            const kept = SpilledArrays.create(
              folder,
              later.map((array) => temporaryName(side(array))),
            );
            current.spill = kept;
            const produce = await chunkProducer(plan, {
              renderers,
              firstSample: share.start,
              signal,
              threads,
            });
            const chunks = (async function* () {
              for await (const chunk of produce(plan.dataset, signal)) {
                kept.append(chunk.numSamples, chunk.arrays.slice(1).map(chunkBytes));
                yield chunk.arrays[0]!;
              }
            })();
            const bytesPerImage = bytesPerSample(schema.arrays[0]!);
            const done = before;
            let written = 0;
            const checksums = new ChunkChecksums();
            for await (const chunk of chunks) {
              const data = chunkBytes(chunk);
              // The CRC-32 of each chunk, so the merge need not compute them (a worker already
              // did).
              checksums.add(
                data.length,
                typeof chunk === "object" && "crc32" in chunk ? chunk.crc32 : crc32(data),
              );
              // Asynchronous on purpose: each write lets the event loop run, where a signal
              // arrives.
              let offset = 0;
              while (offset < data.length) offset += await file.write(data.subarray(offset));
              written += data.length;
              progress.update(done + written / bytesPerImage);
            }
            await file.sync();
            file.close();
            signal?.throwIfAborted();
            if (kept.samples !== share.count) {
              throw new RangeError(`The render gave ${kept.samples} of ${share.count} samples`);
            }
            const sides = later.map((array) => join(folder, side(array)));
            await kept.keep(sides);
            published.push(...sides);
            // The checksums first: a slice file is never published without them.
            const checksumPath = join(folder, `${stem}.crc32`);
            await writeChunkChecksums(checksumPath, checksums);
            published.push(checksumPath);
            await Deno.rename(temporary, finalPath);
            published.push(finalPath);
            current = undefined;
            before += share.count;
          }
          await renderers?.finish();
          progress.finish();
        } catch (error) {
          progress.clear();
          if (current !== undefined) {
            try {
              current.file.close();
            } catch {
              // Already closed.
            }
            await Deno.remove(current.temporary).catch(() => {});
            current.spill?.remove();
          }
          for (const path of published) await Deno.remove(path).catch(() => {});
          await renderers?.abort();
          throw interruption(
            signal,
            `slice ${index}'s partial file was removed, other slices kept`,
          ) ??
            (error instanceof RendererError
              ? rendererRunError(error, `slice ${index}'s partial files were removed`)
              : undefined) ??
            new RunError(
              `Cannot write slice ${index} of run "${runId}" to ${current?.temporary ?? folder}: ${
                systemReason(error)
              }; its partial file was removed`,
              { cause: error },
            );
        }
        const seconds = (performance.now() - startTime) / 1000;
        const peak = measuredPeakMemory();
        const record: SliceMetadata = {
          index,
          start_image: range.start,
          num_images: range.count,
          host: hostname(),
          started_at: startedAt.toISOString(),
          duration_seconds: Number(seconds.toFixed(3)),
          images_per_second: Math.round(range.count / seconds),
          peak_memory_bytes: peak ?? null,
          workers: workers.count,
        };
        await writeSliceRecord(folder, shards, record);
        info(
          `Wrote slice ${index}: ${range.count} images, ${formatMegabytes(bytes)}, in ` +
            `${seconds.toFixed(2)} s (${record.images_per_second} img/s)`,
        );
        return { status: "rendered", record, ...await mergeIfComplete() };
      },
    },
  );

  async function mergeIfComplete(): Promise<{ merge?: MergeResult }> {
    const { missing } = await runProgress(folder, shards);
    if (missing.length > 0) {
      info(`Run "${runId}": ${shards - missing.length} of ${shards} slices done`);
      return {};
    }
    info(`Run "${runId}": all ${shards} slices done; merging`);
    const merge = await mergeRun(datasetDir, runId, {
      signal,
      output,
      commandLine: options.commandLine,
    });
    if (merge.status === "merging elsewhere") {
      info(`Run "${runId}": another process is merging it (${merge.lock})`);
    } else if (merge.status === "already merged") {
      info(`Run "${runId}" was already merged into ${merge.path}`);
    }
    return { merge };
  }
}

/** The item with the largest measure (the first of equals). */
function largest<T>(items: readonly T[], measure: (item: T) => number): T {
  return items.reduce((best, item) => measure(item) > measure(best) ? item : best);
}
