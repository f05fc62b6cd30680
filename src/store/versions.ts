/**
 * Versioned dataset folders: numbering, staging and atomic publication.
 *
 * A dataset folder holds one folder per finished version and, while runs are under way, one
 * hidden staging folder per run:
 *
 * ```
 * <output-dir>/<name>/
 *   v0001-20261125T031245Z/      finished: dataset.npz, metadata.json
 *   v0002-20261125T040010Z/
 *   .v0003.staging/              a run in progress (or killed): owner.json, partial files
 * ```
 *
 * A run reserves its number by creating `.vNNNN.staging` (mkdir is atomic: two runs never get
 * the same folder), writes everything into it, and publishes it with one rename to
 * `vNNNN-<timestamp>`. A version folder therefore exists only once it is complete; nothing
 * ever writes into an existing version. Numbers are one more than the largest number in use,
 * finished or staging, so they only grow.
 *
 * @module
 */

import { join } from "node:path";
import { hostname } from "node:os";

const VERSION_PATTERN = /^v(\d{4,})-(\d{8}T\d{6}Z)$/;
const STAGING_PATTERN = /^\.v(\d{4,})\.staging$/;
const OWNER_FILE = "owner.json";

/** A finished version folder. */
export interface VersionEntry {
  /** The version number. */
  number: number;
  /** The folder's name, e.g. `v0001-20261125T031245Z`. */
  id: string;
  /** The folder's path. */
  path: string;
}

/** Who owns a staging folder. */
export interface StagingOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** A staging folder: a run in progress, or the leftovers of a killed one. */
export interface StagingEntry {
  number: number;
  path: string;
  /** Undefined when owner.json is missing or unreadable (a run that died at its very start). */
  owner?: StagingOwner;
}

/**
 * Formats a version number and time as a folder name.
 *
 * @param number The version number.
 * @param time The creation time.
 * @returns For example `v0001-20261125T031245Z`.
 * @example
 * ```ts
 * import { versionId } from "./versions.ts";
 * console.assert(versionId(1, new Date("2026-11-25T03:12:45.123Z")) === "v0001-20261125T031245Z");
 * ```
 */
export function versionId(number: number, time: Date): string {
  const stamp = time.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  return `v${String(number).padStart(4, "0")}-${stamp}`;
}

/**
 * Parses a folder name as a version id.
 *
 * @param name A folder name.
 * @returns The number, or undefined if the name is no version id.
 * @example
 * ```ts
 * import { parseVersionId } from "./versions.ts";
 * console.assert(parseVersionId("v0012-20261125T031245Z") === 12);
 * console.assert(parseVersionId("notes") === undefined);
 * ```
 */
export function parseVersionId(name: string): number | undefined {
  const match = VERSION_PATTERN.exec(name);
  return match === null ? undefined : Number(match[1]);
}

async function readDirNames(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names;
}

/**
 * The finished versions in a dataset folder, oldest first.
 *
 * @param datasetDir The dataset folder; a missing one has no versions.
 * @returns The versions, by number.
 * @example
 * ```ts
 * import { listVersions } from "./versions.ts";
 * console.assert((await listVersions("/nonexistent")).length === 0);
 * ```
 */
export async function listVersions(datasetDir: string): Promise<VersionEntry[]> {
  const versions: VersionEntry[] = [];
  for (const name of await readDirNames(datasetDir)) {
    const number = parseVersionId(name);
    if (number !== undefined) versions.push({ number, id: name, path: join(datasetDir, name) });
  }
  return versions.sort((a, b) => a.number - b.number || a.id.localeCompare(b.id));
}

/**
 * The staging folders in a dataset folder, with their owners where known.
 *
 * @param datasetDir The dataset folder.
 * @returns The staging folders, by number.
 * @example
 * ```ts
 * import { listStaging } from "./versions.ts";
 * console.assert((await listStaging("/nonexistent")).length === 0);
 * ```
 */
export async function listStaging(datasetDir: string): Promise<StagingEntry[]> {
  const entries: StagingEntry[] = [];
  for (const name of await readDirNames(datasetDir)) {
    const match = STAGING_PATTERN.exec(name);
    if (match === null) continue;
    const path = join(datasetDir, name);
    let owner: StagingOwner | undefined;
    try {
      owner = JSON.parse(await Deno.readTextFile(join(path, OWNER_FILE)));
    } catch {
      owner = undefined;
    }
    entries.push(
      owner === undefined ? { number: Number(match[1]), path } : {
        number: Number(match[1]),
        path,
        owner,
      },
    );
  }
  return entries.sort((a, b) => a.number - b.number);
}

/** A reserved, not yet published version. */
export interface Staging {
  /** The reserved version number. */
  number: number;
  /** The staging folder to write into. */
  path: string;
  /** The dataset folder. */
  datasetDir: string;
}

/**
 * Reserves the next version number by creating its staging folder, and records the owner.
 *
 * @param datasetDir The dataset folder; created with its parents if missing.
 * @param options The owner to record (defaults to this process).
 * @returns The reservation.
 * @example
 * ```ts
 * import { createStaging, discardStaging } from "./versions.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await createStaging(dir);
 * console.assert(staging.number === 1);
 * await discardStaging(staging);
 * ```
 */
export async function createStaging(
  datasetDir: string,
  options: { owner?: StagingOwner } = {},
): Promise<Staging> {
  await Deno.mkdir(datasetDir, { recursive: true });
  const owner = options.owner ?? {
    pid: Deno.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 1000; attempt++) {
    const inUse = [
      ...(await listVersions(datasetDir)).map((version) => version.number),
      ...(await listStaging(datasetDir)).map((staging) => staging.number),
    ];
    const number = Math.max(0, ...inUse) + 1;
    const path = join(datasetDir, `.v${String(number).padStart(4, "0")}.staging`);
    try {
      await Deno.mkdir(path);
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw error;
    }
    // A listing taken while another run renamed its staging folder may have missed that
    // run's number; once our mkdir has succeeded, a fresh listing shows any such version.
    const taken = (await listVersions(datasetDir)).some((version) => version.number === number);
    if (taken) {
      await Deno.remove(path, { recursive: true });
      continue;
    }
    await Deno.writeTextFile(join(path, OWNER_FILE), JSON.stringify(owner) + "\n");
    return { number, path, datasetDir };
  }
  throw new Error(`Cannot reserve a version number in ${datasetDir}: too many concurrent runs`);
}

/**
 * Publishes a staging folder as a finished version, by renaming it.
 *
 * @param staging The reservation, with every file written.
 * @param createdAt The run's start time, part of the version id.
 * @returns The finished version.
 * @example
 * ```ts
 * import { createStaging, publishStaging } from "./versions.ts";
 * const dir = await Deno.makeTempDir();
 * const version = await publishStaging(await createStaging(dir), new Date());
 * console.assert(version.number === 1);
 * ```
 */
export async function publishStaging(staging: Staging, createdAt: Date): Promise<VersionEntry> {
  await Deno.remove(join(staging.path, OWNER_FILE));
  const id = versionId(staging.number, createdAt);
  const path = join(staging.datasetDir, id);
  // rename() replaces an empty folder at the target; refuse to, since it would hide a
  // version folder someone made by hand.
  try {
    await Deno.lstat(path);
    throw new Error(`Cannot publish version ${id}: ${path} already exists`);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(staging.path, path);
  return { number: staging.number, id, path };
}

/**
 * Removes a staging folder and everything in it; a missing one is not an error.
 *
 * @param staging The reservation to give up.
 * @example
 * ```ts
 * import { createStaging, discardStaging } from "./versions.ts";
 * const staging = await createStaging(await Deno.makeTempDir());
 * await discardStaging(staging);
 * ```
 */
export async function discardStaging(staging: { path: string }): Promise<void> {
  try {
    await Deno.remove(staging.path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Whether a process is alive on this host: `/proc/<pid>` on Linux, `kill -0` elsewhere.
 *
 * @param pid The process id.
 * @returns True if the process exists.
 * @example
 * ```ts
 * import { processAlive } from "./versions.ts";
 * console.assert(processAlive(Deno.pid));
 * ```
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (Deno.build.os === "linux") {
    try {
      Deno.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  }
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

/**
 * Removes the staging folders left by runs on this host whose process is gone.
 *
 * @param datasetDir The dataset folder.
 * @returns The folders removed.
 * @example
 * ```ts
 * import { removeStaleStaging } from "./versions.ts";
 * console.assert((await removeStaleStaging("/nonexistent")).length === 0);
 * ```
 */
export async function removeStaleStaging(datasetDir: string): Promise<StagingEntry[]> {
  const removed: StagingEntry[] = [];
  const host = hostname();
  for (const entry of await listStaging(datasetDir)) {
    if (entry.owner === undefined || entry.owner.host !== host) continue;
    if (entry.owner.pid === Deno.pid || processAlive(entry.owner.pid)) continue;
    await discardStaging(entry);
    removed.push(entry);
  }
  return removed;
}
