/**
 * The folder of a sharded run, and the files in it: how the slices of one dataset version,
 * rendered by different processes on different hosts, find each other on a shared disk.
 *
 * ```
 * <dataset>/.run-<id>/
 *   plan.json                        the spec and the number of slices, written once
 *   slice-00003-of-00016.bin         slice 3's images, as the images array's bytes
 *   slice-00003-of-00016.labels.bin  with --generator-cmd: slice 3's labels and latents, as
 *   slice-00003-of-00016.latents.bin the renderer answered them (uint8; float32 bytes)
 *   slice-00003-of-00016.crc32       the CRC-32 of each chunk of it (see checksums.ts)
 *   slice-00003-of-00016.json        slice 3's record: written last, so it marks the slice done
 *   .slice-00003-of-00016.bin.<host>.<pid>.tmp   slice 3 being rendered
 *   merge.lock/                      made by the one process that merges (mkdir is atomic)
 * ```
 *
 * Only files and renames coordinate, since `flock` may not work across the hosts of an NFS or
 * Lustre mount and rename is the reliable atomic step: each file appears whole, under its
 * final name, or not at all. `plan.json` is made by a hard link from a complete temporary file,
 * which fails if another slice made it first.
 *
 * @module
 */

import { join } from "node:path";
import { hostname } from "node:os";
import type { DatasetSpec } from "../generators/spec.ts";
import { specDifference } from "../generators/spec.ts";
import type { SliceMetadata } from "../store/metadata.ts";
import { folderBytes } from "../store/list_datasets.ts";

/** The prefix of a run folder's name inside the dataset folder. */
export const RUN_FOLDER_PREFIX = ".run-";
/** The plan's file name. */
export const PLAN_FILE = "plan.json";
/** The folder whose creation makes a process the run's one merger. */
export const MERGE_LOCK = "merge.lock";
/** The largest number of slices. */
export const MAX_SHARDS = 100_000;
/** What a run id may be: what Slurm and Kubernetes give, and names a user would pick. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What `plan.json` holds. */
export interface RunPlanFile {
  /** The layout of this file. */
  schema_version: 1;
  /** The run's id. */
  run_id: string;
  /** The dataset folder's name. */
  dataset: string;
  /** The number of slices. */
  shards: number;
  /** What the whole run generates (family version filled in). */
  spec: DatasetSpec;
  /** When the first slice recorded it: ISO 8601 UTC. */
  created_at: string;
}

/**
 * The run folder of a run id.
 *
 * @param datasetDir The dataset folder.
 * @param runId The run's id.
 * @returns `<datasetDir>/.run-<runId>`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFolder } from "./run_folder.ts";
 * assert.equal(runFolder("data/shapes16", "123"), "data/shapes16/.run-123");
 * ```
 */
export function runFolder(datasetDir: string, runId: string): string {
  return join(datasetDir, `${RUN_FOLDER_PREFIX}${runId}`);
}

/**
 * A slice's file name without extension, zero-padded so that names sort by index.
 *
 * @param index The slice's index.
 * @param shards The number of slices.
 * @returns For example `slice-00003-of-00016`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceName } from "./run_folder.ts";
 * assert.equal(sliceName(3, 16), "slice-00003-of-00016");
 * ```
 */
export function sliceName(index: number, shards: number): string {
  const pad = (value: number) => String(value).padStart(5, "0");
  return `slice-${pad(index)}-of-${pad(shards)}`;
}

/**
 * The contiguous images of a slice: slice k of n holds `floor(k N / n)` up to, not including,
 * `floor((k + 1) N / n)`, so sizes differ by at most one and the slices tile the dataset.
 *
 * @param numImages The dataset's number of images.
 * @param shards The number of slices.
 * @param index The slice's index.
 * @returns The first image and the count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceRange } from "./run_folder.ts";
 * assert.deepEqual(sliceRange(10, 4, 1), { start: 2, count: 3 });
 * ```
 */
export function sliceRange(
  numImages: number,
  shards: number,
  index: number,
): { start: number; count: number } {
  const bound = (k: number) => Math.floor((k * numImages) / shards);
  // Exact for numImages * shards below 2^53 (10^9 images times 10^5 slices is 10^14).
  return { start: bound(index), count: bound(index + 1) - bound(index) };
}

/**
 * The flag whose value differs between the recorded plan and a slice's, or undefined.
 *
 * @param recorded The run's plan.
 * @param mine The slice's plan.
 * @returns For example `--seed`, `--shards`, or undefined when they agree.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planDifference } from "./run_folder.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * assert.equal(planDifference({ spec, shards: 4 }, { spec: { ...spec, seed: 2 }, shards: 4 }),
 *   "--seed");
 * ```
 */
export function planDifference(
  recorded: Pick<RunPlanFile, "spec" | "shards">,
  mine: Pick<RunPlanFile, "spec" | "shards">,
): string | undefined {
  const field = specDifference(recorded.spec, mine.spec);
  if (field === undefined) return recorded.shards === mine.shards ? undefined : "--shards";
  const flags: Record<string, string> = {
    seed: "--seed",
    numImages: "--num-images",
    imageSize: "--image-size",
    dtype: "--dtype",
    "family.name": "--generator",
    "family.module": "--generator",
    "family.version": "--generator (its version)",
  };
  return flags[field] ?? (field.startsWith("family.options") ? "--generator (options)" : field);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * A temporary name for a file of the run folder, unique to this host and process, so that
 * slices on different hosts never write the same file.
 *
 * @param name The final name.
 * @returns For example `.plan.json.node7.4121.tmp`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { temporaryName } from "./run_folder.ts";
 * assert.match(temporaryName("plan.json"), /^\.plan\.json\..+\.\d+\.tmp$/);
 * ```
 */
export function temporaryName(name: string): string {
  return `.${name}.${hostname()}.${Deno.pid}.tmp`;
}

/**
 * Records the run's plan if no slice has yet, and returns the recorded one: this slice's, or
 * the one another slice recorded first.
 *
 * @param folder The run folder (created if missing).
 * @param plan This slice's plan.
 * @returns The plan every slice of the run must agree with.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordPlan } from "./run_folder.ts";
 * const folder = await Deno.makeTempDir();
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * const plan = { schema_version: 1 as const, run_id: "7", dataset: "shapes16", shards: 2,
 *   spec, created_at: new Date().toISOString() };
 * await recordPlan(folder, plan);
 * assert.equal((await recordPlan(folder, { ...plan, shards: 3 })).shards, 2);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function recordPlan(folder: string, plan: RunPlanFile): Promise<RunPlanFile> {
  const path = join(folder, PLAN_FILE);
  const existing = await readJson<RunPlanFile>(path);
  if (existing !== undefined) return existing;
  await Deno.mkdir(folder, { recursive: true });
  const temporary = join(folder, temporaryName(PLAN_FILE));
  await Deno.writeTextFile(temporary, JSON.stringify(plan, null, 2) + "\n");
  try {
    // link() fails if the name exists, and the file behind it is already complete.
    await Deno.link(temporary, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
  return (await readJson<RunPlanFile>(path))!;
}

/**
 * Reads the run's plan.
 *
 * @param folder The run folder.
 * @returns The plan, or undefined when there is none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPlan } from "./run_folder.ts";
 * assert.equal(await readPlan("/nonexistent"), undefined);
 * ```
 */
export function readPlan(folder: string): Promise<RunPlanFile | undefined> {
  return readJson<RunPlanFile>(join(folder, PLAN_FILE));
}

/**
 * Reads a slice's record; it exists only once the slice is complete.
 *
 * @param folder The run folder.
 * @param index The slice's index.
 * @param shards The number of slices.
 * @returns The record, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSliceRecord } from "./run_folder.ts";
 * assert.equal(await readSliceRecord("/nonexistent", 0, 2), undefined);
 * ```
 */
export function readSliceRecord(
  folder: string,
  index: number,
  shards: number,
): Promise<SliceMetadata | undefined> {
  return readJson<SliceMetadata>(join(folder, `${sliceName(index, shards)}.json`));
}

/**
 * Writes a slice's record, through a temporary file and a rename: the mark that it is done.
 *
 * @param folder The run folder.
 * @param shards The number of slices.
 * @param record The record.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSliceRecord, writeSliceRecord } from "./run_folder.ts";
 * const folder = await Deno.makeTempDir();
 * const record = { index: 1, start_image: 5, num_images: 5, host: "h", started_at: "",
 *   duration_seconds: 1, images_per_second: 5, peak_memory_bytes: null, workers: 1 };
 * await writeSliceRecord(folder, 2, record);
 * assert.equal((await readSliceRecord(folder, 1, 2))?.start_image, 5);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function writeSliceRecord(
  folder: string,
  shards: number,
  record: SliceMetadata,
): Promise<void> {
  const name = `${sliceName(record.index, shards)}.json`;
  const temporary = join(folder, temporaryName(name));
  await Deno.writeTextFile(temporary, JSON.stringify(record, null, 2) + "\n");
  await Deno.rename(temporary, join(folder, name));
}

/** Which slices of a run are done. */
export interface RunProgress {
  /** The indices whose record exists, ascending. */
  done: number[];
  /** The others, ascending. */
  missing: number[];
}

/**
 * Which slices of a run are done, from one listing of the run folder.
 *
 * @param folder The run folder.
 * @param shards The number of slices.
 * @returns Done and missing indices.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runProgress } from "./run_folder.ts";
 * assert.deepEqual(await runProgress("/nonexistent", 2), { done: [], missing: [0, 1] });
 * ```
 */
export async function runProgress(folder: string, shards: number): Promise<RunProgress> {
  const done = new Set<number>();
  const pattern = /^slice-(\d+)-of-(\d+)\.json$/;
  try {
    for await (const entry of Deno.readDir(folder)) {
      const match = pattern.exec(entry.name);
      if (match !== null && Number(match[2]) === shards) done.add(Number(match[1]));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const missing: number[] = [];
  for (let index = 0; index < shards; index++) if (!done.has(index)) missing.push(index);
  return { done: [...done].filter((index) => index < shards).sort((a, b) => a - b), missing };
}

/** An unfinished sharded run, as `dsgen list` shows it. */
export interface RunSummary {
  /** The dataset folder's name. */
  dataset: string;
  /** The run's id. */
  runId: string;
  /** The run folder. */
  path: string;
  /** The number of slices; null when plan.json is missing or unreadable. */
  shards: number | null;
  /** Slices done. */
  done: number;
  /** The indices not done. */
  missing: number[];
  /** Whether a merge has started (merge.lock exists). */
  merging: boolean;
  /** What the run generates, from plan.json; null when plan.json is missing or unreadable. */
  spec: DatasetSpec | null;
  /** When the first slice recorded the plan (ISO 8601), or null. */
  created: string | null;
  /** Bytes of the run folder's files (finished slices, partial ones, the plan). */
  bytes: number;
}

/**
 * The unfinished sharded runs in a dataset folder.
 *
 * @param datasetDir The dataset folder.
 * @returns One summary per run folder, by run id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listRuns } from "./run_folder.ts";
 * assert.deepEqual(await listRuns("/nonexistent"), []);
 * ```
 */
export async function listRuns(datasetDir: string): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  const dataset = datasetDir.split("/").filter((part) => part !== "").at(-1) ?? datasetDir;
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(datasetDir)) {
      if (entry.isDirectory && entry.name.startsWith(RUN_FOLDER_PREFIX)) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return [];
    }
    throw error;
  }
  for (const name of names.sort()) {
    const path = join(datasetDir, name);
    const plan = await readPlan(path).catch(() => undefined);
    const shards = typeof plan?.shards === "number" ? plan.shards : null;
    const progress = shards === null ? { done: [], missing: [] } : await runProgress(path, shards);
    const merging = await Deno.stat(join(path, MERGE_LOCK)).then(() => true, () => false);
    runs.push({
      dataset,
      runId: name.slice(RUN_FOLDER_PREFIX.length),
      path,
      shards,
      done: progress.done.length,
      missing: progress.missing,
      merging,
      spec: plan?.spec ?? null,
      created: typeof plan?.created_at === "string" ? plan.created_at : null,
      bytes: await folderBytes(path),
    });
  }
  return runs;
}
