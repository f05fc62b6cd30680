/**
 * `metadata.json`: the record of one version, written last, just before publication.
 *
 * It says how to make the dataset again (seed, every parameter, tool versions, command line),
 * what is in it (arrays with dtype and shape, files with size and SHA-256) and what the run
 * cost (duration, speed, estimated and measured peak memory).
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import type { DatasetSpec } from "../generators/spec.ts";
import { FieldError, fields } from "./json_fields.ts";
import { writeFileAtomic } from "./atomic_write.ts";
import {
  checkSpecFields,
  FAMILY_NAME,
  MAX_RECORDED_IMAGES,
  MAX_RECORDED_SEED,
} from "./spec_fields.ts";
import type { SplitRef } from "../recipe/split_generator.ts";

/** The version of this file's layout; bump it when a field changes meaning or goes away. */
export const METADATA_SCHEMA_VERSION = 1;

/** One file of the version. */
export interface FileRecord {
  /** The file's name inside the version folder, e.g. `dataset.npz`. */
  name: string;
  /** The file's size in bytes. */
  bytes: number;
  /** The SHA-256 of the file's bytes, as 64 lowercase hex digits. */
  sha256: string;
}

/** One array of `dataset.npz`. */
export interface ArrayMetadata {
  /** The array's key in the archive, e.g. `images` (the entry is `<name>.npy`). */
  name: string;
  /** The `.npy` header's `descr`, e.g. `|u1`, `<f8` or `<U12`. */
  dtype: string;
  /** The array's dimensions, e.g. `[numImages, imageSize, imageSize]` for `images`. */
  shape: number[];
  /**
   * Where the array's data starts in `dataset.npz`, in bytes (after its `.npy` header; a
   * multiple of 64): `np.memmap(path, dtype, "r", offset, shape)` opens it in place. Absent in
   * versions written before it was recorded.
   */
  offset?: number;
}

/** One slice of a sharded run (`generate --shards`), as its record says. */
export interface SliceMetadata {
  /** The slice's index, 0 to shards - 1. */
  index: number;
  /**
   * The first image of the slice; for a recipe with splits, among the splits' images one after
   * the other, in the recipe's order.
   */
  start_image: number;
  /** The number of images in the slice. */
  num_images: number;
  /** The host that rendered it. */
  host: string;
  /** When it started: ISO 8601 UTC. */
  started_at: string;
  /** Wall-clock seconds it took. */
  duration_seconds: number;
  /** Images rendered and written per second. */
  images_per_second: number;
  /** The slice process's peak resident memory in bytes; null where unknown. */
  peak_memory_bytes: number | null;
  /** Rendering threads it used. */
  workers: number;
}

/** One split of a version made from a recipe with splits. */
export interface SplitMetadata {
  /** The split's name, e.g. `train`. */
  name: string;
  /** Its archive in the version folder, `<name>.npz`. */
  file: string;
  /** Its number of images. */
  num_images: number;
  /** The number of factor combinations in its region. */
  combinations: number;
  /** The split as the generator takes it: region (`where`), mode and distribution. */
  split: SplitRef;
  /** The archive's size in bytes. */
  bytes: number;
  /** The archive's SHA-256. */
  sha256: string;
  /** The archive's arrays, as {@linkcode VersionMetadata.arrays} records them. */
  arrays: ArrayMetadata[];
}

/** Everything metadata.json holds. */
export interface VersionMetadata {
  /** The layout of this record: {@linkcode METADATA_SCHEMA_VERSION} when it was written. */
  schema_version: number;
  /** The dataset's name: the folder the version lives in, e.g. `shapes16`. */
  dataset: string;
  /** The version number, from 1 (the `NNNN` of `vNNNN-<time>`). */
  version: number;
  /** The version folder's name, e.g. `v0001-20261125T031245Z`. */
  version_id: string;
  /** When the run started (after the plan was confirmed): ISO 8601 UTC with milliseconds. */
  created_at: string;
  /** When the archive was complete, just before this record was written: ISO 8601 UTC. */
  finished_at: string;
  /** The dataset seed, an unsigned 32-bit integer (0 to 4294967295). */
  seed: number;
  /** Whether the seed came from `--seed` (`flag`) or was drawn at random (`drawn`). */
  seed_source: "flag" | "drawn";
  /** The number of images, from 1. */
  num_images: number;
  /** The side of every (square) image in pixels, 4 to 256. */
  image_size: number;
  /** The images' element type as `--dtype` names it: `uint8` or `float64`. */
  dtype: string;
  /** The dataset family: its registry name, its version and the parameters it recorded. */
  generator: { name: string; version: string; parameters: { [key: string]: JsonValue } };
  /**
   * The dataset spec the arrays were made from (family reference with version and options,
   * seed, count, size, dtype); absent in versions written before it was recorded.
   */
  spec?: DatasetSpec;
  /**
   * For a version drawn by an external renderer (`--generator-cmd`): the command as typed and
   * the description its handshake declared (docs/renderer_protocol.md); `verify` starts the
   * command again (`spec.family.command` in `spec.family.cwd`) and expects the same description.
   */
  renderer?: { command: string; declared: { [key: string]: JsonValue } };
  /**
   * For a version merged from the slices of a sharded run: the run's id and each slice's
   * record; absent for a run on one machine.
   */
  sharded_run?: { run_id: string; shards: number; slices: SliceMetadata[] };
  /**
   * The recipe that makes this version again (docs/recipes.md): everything the flags said,
   * snake_case, with the seed and the family's version filled in. `dsgen generate --recipe` takes
   * it, or this whole file. Absent in versions written before recipes.
   */
  recipe?: { [key: string]: JsonValue };
  /** Where the recipe came from: its file, and the fields flags overrode (field: flag). */
  recipe_source?: { file: string; overridden: { [field: string]: string } };
  /**
   * For a version written as splits (recipes): each split's archive, count, region and
   * distribution (`split`), checksum and arrays; `files` lists the archives and `arrays` is
   * empty.
   */
  splits?: SplitMetadata[];
  /** The files of the version, other than this record, with their sizes and hashes. */
  files: FileRecord[];
  /** The arrays of `dataset.npz`, in the order they were written. */
  arrays: ArrayMetadata[];
  /** How the run went: the tools, the command line and what it cost. */
  run: {
    /** The `version` of dsgen's deno.json. */
    dsgen_version: string;
    /** `Deno.version.deno` of the run. */
    deno_version: string;
    /** `Deno.version.v8` of the run. */
    v8_version: string;
    /** `Deno.build.os`, e.g. `linux`. */
    os: string;
    /** `Deno.build.arch`, e.g. `x86_64`. */
    arch: string;
    /** The command line as typed, starting with `dsgen`; empty when the caller gave none. */
    command_line: string[];
    /** Rendering threads used, 1 to 64; 1 means the images were rendered on the main thread. */
    workers: number;
    /** Whether the archive's SHA-256 ran on a thread of its own (absent before dsgen 0.1.0's
     * hashing thread: on the main thread). */
    hash_thread?: boolean;
    /** Images per chunk of the pipeline. */
    chunk_images: number;
    /** Wall-clock seconds from `created_at` to the end of the write, to the millisecond. */
    duration_seconds: number;
    /** Images rendered and written per second over the run, rounded to an integer. */
    images_per_second: number;
    /** The process's peak memory, estimated before the run and measured after it. */
    memory: {
      /** The estimate's total, in bytes. */
      estimated_peak_bytes: number;
      /** The peak resident set size in bytes; null where the system does not report it. */
      measured_peak_bytes: number | null;
      /** The estimate's parts: runtime, workers, buffers, churn, renderers, total. */
      estimate_parts?: Record<string, number>;
      /**
       * External renderers only: their summed peak resident set size in bytes, included in
       * `measured_peak_bytes` (which then covers the whole process tree).
       */
      renderers_peak_bytes?: number;
    };
  };
}

/** The largest metadata.json dsgen reads: 64 MiB, far above any record it writes. */
const MAX_METADATA_BYTES = 64 << 20;

/** The file name of the record inside a version folder. */
export const METADATA_FILE = "metadata.json";
/** The file name of the archive inside a version folder. */
export const ARCHIVE_FILE = "dataset.npz";

/**
 * Whether a version's arrays are the classic ones (`images`, `labels`, `latents`) rather than
 * those of a family or renderer with its own sample schema. A version 2 renderer declares its
 * own arrays, whatever their names.
 *
 * @param metadata The version's metadata.json.
 * @returns True for the classic arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasClassicArrays, type VersionMetadata } from "./metadata.ts";
 * const arrays = (...names: string[]) =>
 *   ({ arrays: names.map((name) => ({ name, dtype: "|u1", shape: [1] })) }) as VersionMetadata;
 * assert.equal(hasClassicArrays(arrays("images", "labels", "latents")), true);
 * assert.equal(hasClassicArrays(arrays("image", "masks")), false);
 * ```
 */
export function hasClassicArrays(metadata: VersionMetadata): boolean {
  if (metadata.renderer?.declared.version === 2) return false;
  return metadata.arrays.some((array) => ["images", "labels", "latents"].includes(array.name));
}

/**
 * Checks every field of a parsed metadata.json that dsgen reads: types, ranges, plain names,
 * array lengths.
 *
 * @param value What `JSON.parse` returned.
 * @returns The record, typed.
 * @throws {FieldError} Naming the first wrong field by its JSON path, e.g. `files[0].name`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMetadataFields } from "./metadata.ts";
 * assert.throws(() => checkMetadataFields({ schema_version: 1 }), /dataset is missing, expected/);
 * ```
 */
export function checkMetadataFields(value: unknown): VersionMetadata {
  const record = fields.object(value, "the record");
  fields.integer(record.schema_version, "schema_version", 1, METADATA_SCHEMA_VERSION);
  fields.matching(record.dataset, "dataset", FAMILY_NAME, "a dataset folder's name");
  fields.integer(record.version, "version", 1, 999_999_999);
  fields.matching(
    record.version_id,
    "version_id",
    /^v\d{4,}-\d{8}T\d{6}Z$/,
    "a version folder's name, e.g. v0001-20261125T031245Z",
  );
  fields.time(record.created_at, "created_at");
  fields.time(record.finished_at, "finished_at");
  fields.integer(record.seed, "seed", 0, MAX_RECORDED_SEED);
  if (record.seed_source !== undefined) {
    fields.choice(record.seed_source, "seed_source", ["flag", "drawn"]);
  }
  fields.integer(record.num_images, "num_images", 1, MAX_RECORDED_IMAGES);
  fields.integer(record.image_size, "image_size", 4, 256);
  fields.choice(record.dtype, "dtype", ["uint8", "float64"]);
  const generator = fields.object(record.generator, "generator");
  fields.matching(generator.name, "generator.name", FAMILY_NAME, "a family name");
  fields.string(generator.version, "generator.version", 200);
  if (generator.parameters !== undefined) {
    fields.object(generator.parameters, "generator.parameters");
  }
  if (record.spec !== undefined) {
    // Its agreement with the record's own fields is verify's to judge (the metadata step).
    checkSpecFields(record.spec, "spec");
  }
  if (record.renderer !== undefined) {
    const renderer = fields.object(record.renderer, "renderer");
    fields.string(renderer.command, "renderer.command");
    fields.object(renderer.declared, "renderer.declared");
  }
  if (record.sharded_run !== undefined) {
    const run = fields.object(record.sharded_run, "sharded_run");
    fields.string(run.run_id, "sharded_run.run_id", 64);
    const shards = fields.integer(run.shards, "sharded_run.shards", 1, 100_000);
    const slices = fields.array(run.slices, "sharded_run.slices", shards, shards);
    slices.forEach((slice, index) => fields.object(slice, `sharded_run.slices[${index}]`));
  }
  const names = checkFileRecords(record.files, "files");
  // A version of splits keeps its arrays per split archive, none in the version's own list.
  checkArrayRecords(record.arrays, "arrays", record.splits === undefined ? 1 : 0);
  if (record.splits !== undefined) {
    const splits = fields.array(record.splits, "splits", 1, 1000);
    splits.forEach((item, index) => {
      const path = `splits[${index}]`;
      const split = fields.object(item, path);
      const name = fields.plainName(split.name, `${path}.name`);
      fields.matching(split.file, `${path}.file`, /^/, "a string");
      if (split.file !== `${name}.npz` || !names.has(split.file as string)) {
        throw new FieldError(`${path}.file`, split.file, `${name}.npz, listed in files`);
      }
      fields.integer(split.num_images, `${path}.num_images`, 1, MAX_RECORDED_IMAGES);
      fields.integer(split.combinations, `${path}.combinations`, 1, Number.MAX_SAFE_INTEGER);
      fields.integer(split.bytes, `${path}.bytes`, 0, Number.MAX_SAFE_INTEGER);
      fields.matching(split.sha256, `${path}.sha256`, /^[0-9a-f]{64}$/, "64 hex digits");
      const region = fields.object(split.split, `${path}.split`);
      fields.plainName(region.name, `${path}.split.name`);
      fields.choice(region.mode, `${path}.split.mode`, ["grid", "random"]);
      if (typeof region.where !== "boolean") fields.object(region.where, `${path}.split.where`);
      checkArrayRecords(split.arrays, `${path}.arrays`, 1);
    });
  }
  if (record.recipe !== undefined) fields.object(record.recipe, "recipe");
  if (record.recipe_source !== undefined) {
    const source = fields.object(record.recipe_source, "recipe_source");
    // Empty for a run from flags whose seed was drawn: no file, but the drawn seed is recorded.
    if (source.file !== "") fields.string(source.file, "recipe_source.file");
    fields.object(source.overridden, "recipe_source.overridden");
  }
  fields.object(record.run, "run");
  return record as unknown as VersionMetadata;
}

/**
 * Checks a version's `files` list: each file's name (once, not metadata.json), size and
 * SHA-256.
 *
 * @param value The list.
 * @param path Its JSON path, for messages.
 * @returns The files' names.
 * @throws {FieldError} The first wrong field, by path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFileRecords } from "./metadata.ts";
 * const files = [{ name: "dataset.npz", bytes: 10, sha256: "a".repeat(64) }];
 * assert.deepEqual([...checkFileRecords(files, "files")], ["dataset.npz"]);
 * assert.throws(() => checkFileRecords([{ ...files[0], sha256: "x" }], "files"),
 *   /files\[0\]\.sha256/);
 * ```
 */
export function checkFileRecords(value: unknown, path: string): Set<string> {
  const files = fields.array(value, path, 1, 1000);
  const names = new Set<string>();
  files.forEach((item, index) => {
    const file = fields.object(item, `${path}[${index}]`);
    const name = fields.plainName(file.name, `${path}[${index}].name`);
    if (name === METADATA_FILE || names.has(name)) {
      throw new FieldError(`${path}[${index}].name`, name, "a file listed once, not metadata.json");
    }
    names.add(name);
    fields.integer(file.bytes, `${path}[${index}].bytes`, 0, Number.MAX_SAFE_INTEGER);
    fields.matching(file.sha256, `${path}[${index}].sha256`, /^[0-9a-f]{64}$/, "64 hex digits");
  });
  return names;
}

/**
 * Checks the `arrays` list of a version or of one split: names, NPY dtypes, shapes and offsets.
 *
 * @param value The list.
 * @param path Its JSON path, for messages.
 * @param min The fewest arrays it may hold.
 * @throws {FieldError} The first wrong field, by path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkArrayRecords } from "./metadata.ts";
 * checkArrayRecords([{ name: "images", dtype: "|u1", shape: [2, 16, 16] }], "arrays", 1);
 * assert.throws(() => checkArrayRecords([], "arrays", 1), /arrays/);
 * ```
 */
export function checkArrayRecords(value: unknown, path: string, min: number): void {
  const arrays = fields.array(value, path, min, 1000);
  arrays.forEach((item, index) => {
    const array = fields.object(item, `${path}[${index}]`);
    fields.matching(
      array.name,
      `${path}[${index}].name`,
      /^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/,
      "an array name (letters, digits, '_', '.', '-')",
    );
    fields.matching(
      array.dtype,
      `${path}[${index}].dtype`,
      /^[<>|=][a-zA-Z]\d{0,6}$/,
      "an NPY dtype",
    );
    const shape = fields.array(array.shape, `${path}[${index}].shape`, 0, 32);
    shape.forEach((dim, axis) =>
      fields.integer(dim, `${path}[${index}].shape[${axis}]`, 0, Number.MAX_SAFE_INTEGER)
    );
    if (array.offset !== undefined) {
      fields.integer(array.offset, `${path}[${index}].offset`, 0, Number.MAX_SAFE_INTEGER);
    }
  });
}

/**
 * The fields of a parsed metadata.json that are missing or wrong.
 *
 * @param value What `JSON.parse` returned.
 * @returns The JSON path of the first wrong field; empty when the record is complete.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metadataProblems } from "./metadata.ts";
 * assert.deepEqual(metadataProblems({}), ["schema_version"]);
 * ```
 */
export function metadataProblems(value: unknown): string[] {
  try {
    checkMetadataFields(value);
    return [];
  } catch (error) {
    if (error instanceof FieldError) return [error.path];
    throw error;
  }
}

/**
 * Writes metadata.json into a folder, through a temporary file and a rename, so a reader
 * never sees half of it.
 *
 * @param folder The (staging) version folder.
 * @param metadata The record.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeMetadata } from "./metadata.ts";
 * const folder = await Deno.makeTempDir();
 * await writeMetadata(folder, { dataset: "demo" } as never);
 * assert.ok((await Deno.readTextFile(folder + "/metadata.json")).includes("demo"));
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function writeMetadata(folder: string, metadata: VersionMetadata): Promise<void> {
  await writeFileAtomic(`${folder}/${METADATA_FILE}`, JSON.stringify(metadata, null, 2) + "\n", {
    temporary: `.${METADATA_FILE}.tmp`,
  });
}

/**
 * Reads and checks a version's metadata.json.
 *
 * @param folder The version folder.
 * @returns The record.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMetadata } from "./metadata.ts";
 * await readMetadata("/nonexistent").catch((error) => assert.ok(error instanceof Error));
 * ```
 */
export async function readMetadata(folder: string): Promise<VersionMetadata> {
  const path = `${folder}/${METADATA_FILE}`;
  let text: string;
  try {
    // Never through a link (it would read a file outside the version), never a huge file.
    const info = await Deno.lstat(path);
    if (!info.isFile) {
      throw new TypeError(`Cannot use ${path}: it is no regular file (a link or a folder)`);
    }
    if (info.size > MAX_METADATA_BYTES) {
      throw new TypeError(
        `Cannot use ${path}: it holds ${info.size} bytes, expected at most ${MAX_METADATA_BYTES}`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new TypeError(`Cannot find ${path}: the folder is no dsgen version`);
    }
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(`Cannot parse ${path}: ${(error as Error).message}`);
  }
  try {
    return checkMetadataFields(value);
  } catch (error) {
    if (error instanceof FieldError) throw new TypeError(`Cannot use ${path}: ${error.message}`);
    throw error;
  }
}
