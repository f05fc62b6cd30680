/**
 * The folder of a sharded run, and the files in it: how the slices of one dataset version,
 * rendered by different processes on different hosts, find each other on a shared disk.
 *
 * ```
 * <dataset>/.run-<id>/
 *   plan.json                        the spec and the number of slices, written once
 *   slice-00003-of-00016.bin         slice 3's images (the schema's first array), as its bytes
 *   slice-00003-of-00016.labels.bin  slice 3's labels and latents (each later array of the
 *   slice-00003-of-00016.latents.bin schema, `.<name>.bin`): uint8; float32 bytes
 *   slice-00003-of-00016.crc32       the CRC-32 of each chunk of it (see checksums.ts)
 *   slice-00003-of-00016.json        slice 3's record: written last, so it marks the slice done
 *   slice-00003-of-00016.train.bin   with a recipe's splits: slice 3's share of split `train`
 *   slice-00003-of-00016.train.labels.bin  (and .crc32, and each later array) per split
 *   .slice-00003-of-00016.bin.<host>.<pid>.tmp   slice 3 being rendered
 *   merge.lock/                      made by the one process that merges (mkdir is atomic)
 * ```
 *
 * Only files and renames coordinate, since `flock` may not work across the hosts of an NFS or
 * Lustre mount and rename is the reliable atomic step: each file appears whole, under its
 * final name, or not at all. `plan.json` is made by a hard link from a complete temporary file,
 * which fails if another slice made it first.
 *
 * These files steer what the next slice and the merge do, so they are trusted only when no one
 * else could have written them (`store/trusted_file.ts`): the run folder, `plan.json` and the
 * slice records must be the user's (or root's) and writable by their owner only; they are
 * created with modes 0755 and 0644. Every field of `plan.json` and of a slice record is checked
 * before it is used ({@linkcode checkPlanFields}, {@linkcode checkSliceRecordFields}).
 *
 * `plan.json` also keeps an external renderer's handshake (`renderer.declared`), so that the
 * merge learns the family from the file and starts no program; and for a run of a recipe, the
 * recipe as the version records it and the recipe's splits. A run of splits counts its images
 * through the splits one after the other (`run/parts.ts`): a slice is a contiguous range of
 * them, and holds one set of files per split that range reaches ({@linkcode sliceShares}).
 *
 * @module
 */

import { join } from "node:path";
import { hostname } from "node:os";
import type { JsonValue } from "../generators/generator.ts";
import type { SplitRef } from "../recipe/split_generator.ts";
import type { RecordedArchives } from "../run/remake.ts";
import { type PartShare, partShares, type RunPart, runParts } from "../run/parts.ts";
import { canonicalJson, type DatasetSpec, specDifference } from "../generators/spec.ts";
import { parseDescription, type RendererDescription } from "../renderer/protocol.ts";
import { checkArrayRecords, checkFileRecords, type SliceMetadata } from "../store/metadata.ts";
import { folderBytes } from "../store/list_datasets.ts";
import { RunError } from "../exit/errors.ts";
import { FieldError, fields } from "../store/json_fields.ts";
import { checkSpecFields } from "../store/spec_fields.ts";
import { writeFileAtomic } from "../store/atomic_write.ts";
import {
  checkTrusted,
  TRUSTED_FILE_MODE,
  TRUSTED_FOLDER_MODE,
  type TrustOptions,
} from "../store/trusted_file.ts";

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
  /**
   * For an external renderer (`spec.family.command`): its handshake, as metadata.json records
   * it (`describedAsJson`); the merge takes the family from it and starts no program.
   */
  renderer?: { declared: { [key: string]: JsonValue } };
  /**
   * For a recipe with splits: each split and its number of images, in the recipe's order (the
   * spec's `numImages` is their sum); the merge writes one archive per split.
   */
  splits?: { num_images: number; split: SplitRef }[];
  /**
   * For a run of a recipe: the recipe metadata.json records (`recipe`), with the file it came
   * from and the fields flags overrode (`recipe_source`), as the first slice recorded them.
   */
  recipe?: {
    recipe: { [key: string]: JsonValue };
    source?: { file: string; overridden: { [field: string]: string } };
  };
  /**
   * For a run of `--recipe metadata.json`: what that version records of its archives; the
   * merge compares the merged archives with it (exit 1 naming the first differing array).
   */
  remake?: RecordedArchives;
}

/** The largest plan.json or slice record read: far above any dsgen writes. */
const MAX_RECORD_BYTES = 16 << 20;

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
 * The parts (archives) a run's plan writes: `dataset.npz`, or one per split.
 *
 * @param plan The run's plan.
 * @returns The parts, in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planParts } from "./run_folder.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" as const };
 * assert.deepEqual(planParts({ spec }).map((part) => part.file), ["dataset.npz"]);
 * ```
 */
export function planParts(plan: Pick<RunPlanFile, "spec" | "splits">): RunPart[] {
  return runParts(
    plan.spec,
    plan.splits?.map((split) => ({ numImages: split.num_images, split: split.split })),
  );
}

/** One part's share of a slice, and the name its files start with. */
export interface SliceShare extends PartShare {
  /** The slice's index. */
  index: number;
  /** The files' name without extension: `slice-00003-of-00016`, with `.<split>` for a split. */
  stem: string;
}

/**
 * The shares of each part that slice `index` holds: its range of the run's images
 * ({@linkcode sliceRange}) cut at the parts' ends, each with the name of its files.
 *
 * @param parts The run's parts ({@linkcode planParts}).
 * @param shards The number of slices.
 * @param index The slice's index.
 * @returns The shares, in the parts' order; one, the whole slice, without splits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planParts, sliceShares } from "./run_folder.ts";
 * const spec = { family: { name: "dsprites", options: {} }, seed: 1, numImages: 30,
 *   imageSize: 16, dtype: "uint8" as const };
 * const parts = planParts({ spec, splits: [
 *   { num_images: 20, split: { name: "train", where: true, mode: "random" } },
 *   { num_images: 10, split: { name: "test", where: true, mode: "random" } },
 * ] });
 * assert.deepEqual(sliceShares(parts, 3, 1).map(({ stem, start, count }) => [stem, start, count]),
 *   [["slice-00001-of-00003.train", 10, 10]]);
 * assert.deepEqual(sliceShares(parts, 4, 2).map(({ stem, start, count }) => [stem, start, count]),
 *   [["slice-00002-of-00004.train", 15, 5], ["slice-00002-of-00004.test", 0, 2]]);
 * ```
 */
export function sliceShares(
  parts: readonly RunPart[],
  shards: number,
  index: number,
): SliceShare[] {
  const last = parts.at(-1)!;
  const range = sliceRange(last.offset + last.spec.numImages, shards, index);
  return partShares(parts, range).map((share) => {
    const split = share.part.spec.family.split;
    return {
      ...share,
      index,
      stem: sliceName(index, shards) + (split === undefined ? "" : `.${split.name}`),
    };
  });
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
  recorded: Pick<RunPlanFile, "spec" | "shards" | "renderer" | "splits" | "recipe">,
  mine: Pick<RunPlanFile, "spec" | "shards" | "renderer" | "splits" | "recipe">,
): string | undefined {
  const field = specDifference(recorded.spec, mine.spec);
  if (field === undefined) {
    if (recorded.shards !== mine.shards) return "--shards";
    const declared = (plan: Pick<RunPlanFile, "renderer">) =>
      canonicalJson(plan.renderer?.declared ?? null);
    if ("renderer" in recorded && "renderer" in mine && declared(recorded) !== declared(mine)) {
      return "--generator-cmd (what the renderer declares)";
    }
    // The splits decide the archives' bytes: named as the recipe's fields (`splits[1].where`).
    const splits = jsonDifference(
      (recorded.splits ?? null) as unknown as JsonValue,
      (mine.splits ?? null) as unknown as JsonValue,
      "splits",
    );
    if (splits !== undefined) return splits.replace(/^(splits\[\d+\])\.split\./, "$1.");
    // The recipe the version records, when both slices ran one.
    if (recorded.recipe !== undefined && mine.recipe !== undefined) {
      const recipe = jsonDifference(recorded.recipe.recipe, mine.recipe.recipe, "");
      if (recipe !== undefined) return `recipe field ${recipe === "" ? "(the whole)" : recipe}`;
    }
    return undefined;
  }
  const flags: Record<string, string> = {
    seed: "--seed",
    numImages: "--num-images",
    imageSize: "--image-size",
    dtype: "--dtype",
    "family.name": "--generator",
    "family.module": "--generator",
    "family.version": "--generator (its version)",
    "family.command": "--generator-cmd",
    "family.cwd": "--generator-cmd (the folder it runs in)",
  };
  return flags[field] ?? (field.startsWith("family.options") ? "--generator (options)" : field);
}

/** The first path at which two JSON values differ (`splits[1].where`), or undefined. */
function jsonDifference(
  a: JsonValue | undefined,
  b: JsonValue | undefined,
  path: string,
): string | undefined {
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let index = 0; index < a.length; index++) {
      const found = jsonDifference(a[index], b[index], `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const isObject = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const found = jsonDifference(a[key], b[key], path === "" ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return canonicalJson(a) === canonicalJson(b) ? undefined : path;
}

/**
 * Reads a file of the run folder that steers the run, after checking that the folder and the
 * file are trusted (no one else could have written them); undefined when it is missing.
 */
async function readTrustedJson(
  folder: string,
  name: string,
  trust: TrustOptions,
): Promise<unknown | undefined> {
  const path = join(folder, name);
  await checkTrusted(folder, trust);
  await checkTrusted(path, trust);
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > MAX_RECORD_BYTES) {
      throw new TypeError(
        `Cannot use ${path}: expected a regular file of at most ${MAX_RECORD_BYTES} bytes`,
      );
    }
    const text = await Deno.readTextFile(path);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new TypeError(`Cannot parse ${path}: ${(error as Error).message}`);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Checks every field of a parsed plan.json that dsgen reads: its layout, run id (the folder's),
 * dataset name, number of slices (at most the images), spec, and an external renderer's
 * recorded handshake (which must declare the spec's family and size).
 *
 * @param value What `JSON.parse` returned.
 * @param runId The run id the folder is named for.
 * @returns The plan, typed, with the renderer's parsed description when there is one.
 * @throws {FieldError} Naming the first wrong field by its JSON path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPlanFields } from "./run_folder.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" };
 * const plan = { schema_version: 1, run_id: "7", dataset: "shapes16", shards: 2, spec,
 *   created_at: "2026-12-04T20:00:00.000Z" };
 * assert.equal(checkPlanFields(plan, "7").plan.shards, 2);
 * assert.throws(() => checkPlanFields({ ...plan, shards: 11 }, "7"),
 *   /shards is 11, expected an integer from 1 to 10/);
 * ```
 */
export function checkPlanFields(
  value: unknown,
  runId: string,
): { plan: RunPlanFile; renderer?: RendererDescription } {
  const plan = fields.object(value, "the plan");
  fields.integer(plan.schema_version, "schema_version", 1, 1);
  fields.choice(plan.run_id, "run_id", [runId]);
  fields.matching(plan.dataset, "dataset", /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a dataset name");
  const spec = checkSpecFields(plan.spec, "spec");
  fields.integer(plan.shards, "shards", 1, Math.min(MAX_SHARDS, spec.numImages));
  fields.time(plan.created_at, "created_at");
  if (plan.splits !== undefined) checkSplitFields(plan.splits, spec);
  if (plan.recipe !== undefined) {
    const recipe = fields.object(plan.recipe, "recipe");
    fields.object(recipe.recipe, "recipe.recipe");
    if (recipe.source !== undefined) {
      const source = fields.object(recipe.source, "recipe.source");
      // Empty for a run from flags whose seed was drawn, as metadata.json's recipe_source.
      if (source.file !== "") fields.string(source.file, "recipe.source.file");
      const overridden = fields.object(source.overridden, "recipe.source.overridden");
      for (const [field, flag] of Object.entries(overridden)) {
        fields.string(flag, `recipe.source.overridden.${field}`);
      }
    }
  }
  if (plan.remake !== undefined) checkRemakeFields(plan.remake);
  if (spec.family.module !== undefined) {
    // A merge imports no module named in a file (generators/named_program.ts).
    throw new FieldError(
      "spec.family.module",
      spec.family.module,
      "none: a run's plan names " +
        "dsgen's own families or an external renderer",
    );
  }
  if (spec.family.command === undefined) {
    if (plan.renderer !== undefined) {
      throw new FieldError("renderer", plan.renderer, "none without spec.family.command");
    }
    return { plan: { ...plan, spec } as unknown as RunPlanFile };
  }
  const renderer = fields.object(plan.renderer, "renderer");
  const declared = fields.object(renderer.declared, "renderer.declared");
  let description: RendererDescription;
  try {
    description = parseDescription(JSON.stringify(declared));
  } catch (error) {
    throw new FieldError(
      "renderer.declared",
      declared,
      `a renderer's handshake: ${(error as Error).message}`,
    );
  }
  const agree: [string, unknown, unknown][] = [
    ["spec.family.name", spec.family.name, description.name],
    ["spec.family.version", spec.family.version, description.version],
    ["spec.imageSize", spec.imageSize, description.imageSize],
  ];
  for (const [path, found, expected] of agree) {
    if (found !== expected) {
      throw new FieldError(path, found, `${JSON.stringify(expected)}, as renderer.declared says`);
    }
  }
  return {
    plan: { ...plan, spec } as unknown as RunPlanFile,
    renderer: description,
  };
}

/** Checks what a plan records of the version it remakes (`remake`), field by field. */
function checkRemakeFields(value: unknown): void {
  const remake = fields.object(value, "remake");
  // A version's own files and arrays, checked as metadata.json's are; the files archives only.
  const names = checkFileRecords(remake.files, "remake.files");
  [...names].forEach((name, index) =>
    fields.matching(
      name,
      `remake.files[${index}].name`,
      /^[a-z0-9_-]{1,40}\.npz$/,
      "an archive's name",
    )
  );
  const arrays = fields.object(remake.arrays, "remake.arrays");
  for (const [file, list] of Object.entries(arrays)) {
    checkArrayRecords(list, `remake.arrays.${file}`, 0);
  }
  if (remake.folder !== undefined) fields.string(remake.folder, "remake.folder");
}

/**
 * Checks a plan's splits: each a split name (its files' and archive's name) once, a mode, a
 * region, its count; the counts add up to the spec's. The regions themselves are checked when
 * the merge makes their generators.
 */
function checkSplitFields(value: unknown, spec: DatasetSpec): void {
  const splits = fields.array(value, "splits", 1, 1000);
  if (spec.family.command !== undefined) {
    throw new FieldError("splits", "(splits)", "none with an external renderer");
  }
  const names = new Set<string>();
  let total = 0;
  splits.forEach((item, index) => {
    const path = `splits[${index}]`;
    const entry = fields.object(item, path);
    total += fields.integer(entry.num_images, `${path}.num_images`, 1, spec.numImages);
    const split = fields.object(entry.split, `${path}.split`);
    const name = fields.matching(
      split.name,
      `${path}.split.name`,
      /^[a-z0-9][a-z0-9_-]{0,39}$/,
      "a split name (1 to 40 lowercase letters, digits, '-' and '_')",
    );
    if (names.has(name)) {
      throw new FieldError(`${path}.split.name`, name, "a name no other split has");
    }
    names.add(name);
    fields.choice(split.mode, `${path}.split.mode`, ["grid", "random"]);
    if (typeof split.where !== "boolean") fields.object(split.where, `${path}.split.where`);
    if (split.factors !== undefined) fields.object(split.factors, `${path}.split.factors`);
    if (split.correlations !== undefined) {
      fields.array(split.correlations, `${path}.split.correlations`, 0, 1000);
    }
  });
  if (total !== spec.numImages) {
    throw new FieldError(
      "splits",
      `${total} images`,
      `splits of spec.numImages (${spec.numImages}) images in all`,
    );
  }
}

/**
 * Checks every field of a parsed slice record: its index, its images (those of slice `index`
 * of a run of `numImages` in `shards`), and the figures the merge copies into metadata.json.
 *
 * @param value What `JSON.parse` returned.
 * @param layout The slice's index, the number of slices and of images.
 * @returns The record, typed.
 * @throws {FieldError} Naming the first wrong field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSliceRecordFields } from "./run_folder.ts";
 * const record = { index: 1, start_image: 5, num_images: 5, host: "h",
 *   started_at: "2026-12-04T20:00:00.000Z", duration_seconds: 1, images_per_second: 5,
 *   peak_memory_bytes: null, workers: 1 };
 * assert.equal(checkSliceRecordFields(record, { index: 1, shards: 2, numImages: 10 }).host, "h");
 * assert.throws(() => checkSliceRecordFields({ ...record, num_images: 6 },
 *   { index: 1, shards: 2, numImages: 10 }), /num_images is 6, expected one of 5/);
 * ```
 */
export function checkSliceRecordFields(
  value: unknown,
  layout: { index: number; shards: number; numImages: number },
): SliceMetadata {
  const record = fields.object(value, "the record");
  const range = sliceRange(layout.numImages, layout.shards, layout.index);
  fields.choice(record.index, "index", [layout.index] as never[]);
  fields.choice(record.start_image, "start_image", [range.start] as never[]);
  fields.choice(record.num_images, "num_images", [range.count] as never[]);
  fields.string(record.host, "host", 255);
  fields.time(record.started_at, "started_at");
  fields.number(record.duration_seconds, "duration_seconds", 0);
  fields.number(record.images_per_second, "images_per_second", 0);
  if (record.peak_memory_bytes !== null) {
    fields.integer(record.peak_memory_bytes, "peak_memory_bytes", 0, Number.MAX_SAFE_INTEGER);
  }
  fields.integer(record.workers, "workers", 1, 1024);
  return record as unknown as SliceMetadata;
}

/**
 * Reads a file of the run folder: an untrusted or malformed one (a `TypeError` with its one
 * line) becomes a {@linkcode RunError}, which fails the slice or merge (exit 1).
 *
 * @param read The read, e.g. `() => readPlan(folder, runId)`.
 * @returns What it returns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFolderRead } from "./run_folder.ts";
 * await assert.rejects(runFolderRead(() => Promise.reject(new TypeError("Cannot trust x"))),
 *   (error: Error) => error.name === "RunError" && error.message === "Cannot trust x");
 * ```
 */
export async function runFolderRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TypeError) throw new RunError(error.message, { cause: error });
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
 * @param folder The run folder (created if missing, mode 0755).
 * @param plan This slice's plan.
 * @param trust The user id to trust (tests).
 * @returns The plan every slice of the run must agree with.
 * @throws {TypeError} When the recorded plan is untrusted or has a bad field.
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
export async function recordPlan(
  folder: string,
  plan: RunPlanFile,
  trust: TrustOptions = {},
): Promise<RunPlanFile> {
  const path = join(folder, PLAN_FILE);
  const existing = await readPlan(folder, plan.run_id, trust);
  if (existing !== undefined) return existing;
  await Deno.mkdir(folder, { recursive: true, mode: TRUSTED_FOLDER_MODE });
  const temporary = join(folder, temporaryName(PLAN_FILE));
  await Deno.writeTextFile(temporary, JSON.stringify(plan, null, 2) + "\n", {
    mode: TRUSTED_FILE_MODE,
  });
  try {
    // link() fails if the name exists, and the file behind it is already complete.
    await Deno.link(temporary, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
  return (await readPlan(folder, plan.run_id, trust))!;
}

/**
 * Reads the run's plan, once the run folder and plan.json are trusted and every field is
 * checked.
 *
 * @param folder The run folder.
 * @param runId The run id the folder is named for.
 * @param trust The user id to trust (tests).
 * @returns The plan, or undefined when there is none.
 * @throws {TypeError} One line: an untrusted file or folder, a bad field (named), bad JSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPlan } from "./run_folder.ts";
 * assert.equal(await readPlan("/nonexistent", "7"), undefined);
 * ```
 */
export async function readPlan(
  folder: string,
  runId: string,
  trust: TrustOptions = {},
): Promise<RunPlanFile | undefined> {
  const value = await readTrustedJson(folder, PLAN_FILE, trust);
  if (value === undefined) return undefined;
  try {
    return checkPlanFields(value, runId).plan;
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    throw new TypeError(`Cannot use ${join(folder, PLAN_FILE)}: ${error.message}`);
  }
}

/**
 * Reads a slice's record; it exists only once the slice is complete. The folder and file must
 * be trusted, and every field is checked.
 *
 * @param folder The run folder.
 * @param layout The slice's index, the number of slices and of images in the run.
 * @param trust The user id to trust (tests).
 * @returns The record, or undefined.
 * @throws {TypeError} One line: an untrusted file, a bad field (named), bad JSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSliceRecord } from "./run_folder.ts";
 * assert.equal(await readSliceRecord("/nonexistent", { index: 0, shards: 2, numImages: 9 }),
 *   undefined);
 * ```
 */
export async function readSliceRecord(
  folder: string,
  layout: { index: number; shards: number; numImages: number },
  trust: TrustOptions = {},
): Promise<SliceMetadata | undefined> {
  const name = `${sliceName(layout.index, layout.shards)}.json`;
  const value = await readTrustedJson(folder, name, trust);
  if (value === undefined) return undefined;
  try {
    return checkSliceRecordFields(value, layout);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    throw new TypeError(`Cannot use ${join(folder, name)}: ${error.message}`);
  }
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
 * await Deno.chmod(folder, 0o755);
 * const record = { index: 1, start_image: 5, num_images: 5, host: "h",
 *   started_at: "2026-12-04T20:00:00.000Z", duration_seconds: 1, images_per_second: 5,
 *   peak_memory_bytes: null, workers: 1 };
 * await writeSliceRecord(folder, 2, record);
 * const read = await readSliceRecord(folder, { index: 1, shards: 2, numImages: 10 });
 * assert.equal(read?.start_image, 5);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function writeSliceRecord(
  folder: string,
  shards: number,
  record: SliceMetadata,
): Promise<void> {
  const name = `${sliceName(record.index, shards)}.json`;
  await writeFileAtomic(join(folder, name), JSON.stringify(record, null, 2) + "\n", {
    mode: TRUSTED_FILE_MODE,
    temporary: temporaryName(name),
  });
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
    const plan = await readPlan(path, name.slice(RUN_FOLDER_PREFIX.length)).catch(() => undefined);
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
