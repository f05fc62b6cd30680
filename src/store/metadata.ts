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

/** The version of this file's layout; bump it when a field changes meaning or goes away. */
export const METADATA_SCHEMA_VERSION = 1;

/** One file of the version. */
export interface FileRecord {
  name: string;
  bytes: number;
  sha256: string;
}

/** One array of `dataset.npz`. */
export interface ArrayMetadata {
  name: string;
  dtype: string;
  shape: number[];
}

/** Everything metadata.json holds. */
export interface VersionMetadata {
  schema_version: number;
  dataset: string;
  version: number;
  version_id: string;
  created_at: string;
  finished_at: string;
  seed: number;
  seed_source: "flag" | "drawn";
  num_images: number;
  image_size: number;
  dtype: string;
  generator: { name: string; version: string; parameters: { [key: string]: JsonValue } };
  files: FileRecord[];
  arrays: ArrayMetadata[];
  run: {
    dsgen_version: string;
    deno_version: string;
    v8_version: string;
    os: string;
    arch: string;
    command_line: string[];
    workers: number;
    chunk_images: number;
    duration_seconds: number;
    images_per_second: number;
    memory: {
      estimated_peak_bytes: number;
      measured_peak_bytes: number | null;
      /** The estimate's parts: runtime, workers, buffers, churn, total. */
      estimate_parts?: Record<string, number>;
    };
  };
}

/** The file name of the record inside a version folder. */
export const METADATA_FILE = "metadata.json";

/**
 * Checks that a parsed metadata.json has every field with the right type.
 *
 * @param value What `JSON.parse` returned.
 * @returns The names of missing or mistyped fields; empty when complete.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { metadataProblems } from "./metadata.ts";
 * assert.ok(metadataProblems({}).includes("seed"));
 * ```
 */
export function metadataProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== "object" || value === null) return ["the whole record"];
  const record = value as Record<string, unknown>;
  const expect: [string, string][] = [
    ["schema_version", "number"],
    ["dataset", "string"],
    ["version", "number"],
    ["version_id", "string"],
    ["created_at", "string"],
    ["finished_at", "string"],
    ["seed", "number"],
    ["num_images", "number"],
    ["image_size", "number"],
    ["dtype", "string"],
    ["generator", "object"],
    ["files", "object"],
    ["arrays", "object"],
    ["run", "object"],
  ];
  for (const [key, type] of expect) {
    if (typeof record[key] !== type || record[key] === null) problems.push(key);
  }
  if (!Array.isArray(record.files)) problems.push("files");
  if (!Array.isArray(record.arrays)) problems.push("arrays");
  const generator = record.generator as Record<string, unknown> | undefined;
  if (typeof generator?.name !== "string") problems.push("generator.name");
  if (typeof generator?.version !== "string") problems.push("generator.version");
  return [...new Set(problems)];
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
 * ```
 */
export async function writeMetadata(folder: string, metadata: VersionMetadata): Promise<void> {
  const temporary = `${folder}/.${METADATA_FILE}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(metadata, null, 2) + "\n");
  await Deno.rename(temporary, `${folder}/${METADATA_FILE}`);
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
  const problems = metadataProblems(value);
  if (problems.length > 0) {
    throw new TypeError(`Cannot use ${path}: missing or wrong fields ${problems.join(", ")}`);
  }
  return value as VersionMetadata;
}
