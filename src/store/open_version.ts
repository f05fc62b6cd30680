/**
 * Finding the version a command should read: a version folder as given, or the newest finished
 * version of a dataset folder.
 *
 * A path is a version folder when it holds `metadata.json` or its name is a version id
 * (`v0001-20261125T031245Z`); otherwise it must be a dataset folder holding version folders.
 * Staging folders (`.v0003.staging`) are unfinished runs and are never chosen.
 *
 * @module
 */

import { basename, join } from "node:path";
import { METADATA_FILE, readMetadata, type VersionMetadata } from "./metadata.ts";
import { listStaging, listVersions, parseVersionId } from "./versions.ts";

/** A version folder and its record. */
export interface OpenedVersion {
  /** The version folder's path. */
  path: string;
  /** The folder's name, e.g. `v0001-20261125T031245Z`. */
  id: string;
  /** Its metadata.json, checked for completeness. */
  metadata: VersionMetadata;
  /** `given` when the path was the version folder, `newest` when it was chosen in a dataset. */
  chosen: "given" | "newest";
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Resolves a path to a version folder and reads its metadata.json.
 *
 * @param path A version folder, or a dataset folder (its newest finished version is used).
 * @returns The version, its metadata and how it was chosen.
 * @throws {TypeError} With one line saying what is wrong: a missing path, a file, a folder that
 * holds no version, or a metadata.json that is missing, does not parse or lacks fields.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openVersion } from "./open_version.ts";
 *
 * await assert.rejects(openVersion("/nonexistent/data"), /Cannot find \/nonexistent\/data/);
 * ```
 */
export async function openVersion(path: string): Promise<OpenedVersion> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      throw new TypeError(`Cannot find ${path}: expected a version or dataset folder`);
    }
    throw new TypeError(`Cannot open ${path}: ${(error as Error).message}`);
  }
  if (!info.isDirectory) {
    throw new TypeError(`Cannot use ${path}: it is a file, expected a version or dataset folder`);
  }
  const name = basename(path);
  if (parseVersionId(name) !== undefined || await exists(join(path, METADATA_FILE))) {
    return { path, id: name, metadata: await readMetadata(path), chosen: "given" };
  }
  const versions = await listVersions(path);
  const newest = versions.at(-1);
  if (newest === undefined) {
    const staging = await listStaging(path);
    throw new TypeError(
      staging.length > 0
        ? `Cannot use ${path}: it holds only unfinished versions (${
          staging.map((entry) => basename(entry.path)).join(", ")
        }), no finished one`
        : `Cannot use ${path}: it is no dsgen version folder (no ${METADATA_FILE}) and no ` +
          `dataset folder (no vNNNN-<time> folders)`,
    );
  }
  return {
    path: newest.path,
    id: newest.id,
    metadata: await readMetadata(newest.path),
    chosen: "newest",
  };
}
