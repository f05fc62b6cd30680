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
 * ever writes into an existing version. A new number is one more than the largest number in
 * use: finished, staging, or any entry named like a version (`v0007-by-hand` takes 7 too).
 *
 * While it runs, a run holds an exclusive lock on its `owner.json`. The kernel drops the lock
 * when the process ends, however it ends (even SIGKILL), so a staging folder whose lock can be
 * taken is the leftover of a dead run, and {@linkcode removeStaleStaging} deletes it. Checking
 * the lock instead of the recorded pid needs no access to `/proc` or `kill` (Deno grants
 * neither without `--allow-all`/`--allow-run`) and is not fooled by a reused pid.
 *
 * @module
 */

import { join } from "node:path";
import { hostname } from "node:os";
import { claimOwnerFile, tryLockOwnerFile } from "./owner_lock.ts";
import { TRUSTED_FOLDER_MODE, untrustedReason } from "./trusted_file.ts";

const VERSION_PATTERN = /^v(\d{4,})-(\d{8}T\d{6}Z)$/;
/** Any entry that claims a version number, including hand-made ones like `v0003-old`. */
const NUMBER_PATTERN = /^v(\d{4,})(?=$|[^0-9])/;
const STAGING_PATTERN = /^\.v(\d{4,})\.staging$/;
const OWNER_FILE = "owner.json";
const OWNER_TEMPORARY = ".owner.json.tmp";

/**
 * How old a staging folder without an `owner.json` must be before it counts as abandoned.
 *
 * A live run has no owner file only for the instant between its `mkdir` and the rename of its
 * owner file, and again between removing it and publishing; a run killed in one of those
 * instants leaves such a folder, which is safe to remove once it is this old.
 */
export const OWNERLESS_STAGING_GRACE_MS = 60_000;

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
  /** The owning process's id. */
  pid: number;
  /** The owning machine's host name; only runs on this host are judged alive or dead. */
  host: string;
  /** When the owning run began reserving the folder: an ISO 8601 UTC time. */
  startedAt: string;
}

/** A staging folder: a run in progress, or the leftovers of a killed one. */
export interface StagingEntry {
  /** The version number the folder reserves (the `NNNN` of `.vNNNN.staging`). */
  number: number;
  /** The folder's path. */
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
 * import assert from "node:assert/strict";
 * import { versionId } from "./versions.ts";
 * assert.equal(versionId(1, new Date("2026-11-25T03:12:45.123Z")), "v0001-20261125T031245Z");
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
 * import assert from "node:assert/strict";
 * import { parseVersionId } from "./versions.ts";
 * assert.equal(parseVersionId("v0012-20261125T031245Z"), 12);
 * assert.equal(parseVersionId("notes"), undefined);
 * ```
 */
export function parseVersionId(name: string): number | undefined {
  const match = VERSION_PATTERN.exec(name);
  return match === null ? undefined : Number(match[1]);
}

async function readEntries(path: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(path)) entries.push(entry);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return entries;
}

async function readDirNames(path: string): Promise<string[]> {
  return (await readEntries(path)).filter((entry) => entry.isDirectory).map((entry) => entry.name);
}

/** Every number a new version must not take: versions, staging folders, look-alikes. */
async function numbersInUse(datasetDir: string): Promise<number[]> {
  const numbers: number[] = [];
  for (const { name } of await readEntries(datasetDir)) {
    const match = NUMBER_PATTERN.exec(name) ?? STAGING_PATTERN.exec(name);
    if (match !== null) numbers.push(Number(match[1]));
  }
  return numbers;
}

/**
 * The finished versions in a dataset folder, oldest first.
 *
 * @param datasetDir The dataset folder; a missing one has no versions.
 * @returns The versions, by number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listVersions } from "./versions.ts";
 * assert.deepEqual(await listVersions("/nonexistent"), []);
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

async function readOwner(stagingPath: string): Promise<StagingOwner | undefined> {
  try {
    const value = JSON.parse(await Deno.readTextFile(join(stagingPath, OWNER_FILE)));
    const complete = typeof value?.pid === "number" && typeof value?.host === "string" &&
      typeof value?.startedAt === "string";
    return complete ? { pid: value.pid, host: value.host, startedAt: value.startedAt } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The staging folders in a dataset folder, with their owners where known.
 *
 * @param datasetDir The dataset folder.
 * @returns The staging folders, by number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listStaging } from "./versions.ts";
 * assert.deepEqual(await listStaging("/nonexistent"), []);
 * ```
 */
export async function listStaging(datasetDir: string): Promise<StagingEntry[]> {
  const entries: StagingEntry[] = [];
  for (const name of await readDirNames(datasetDir)) {
    const match = STAGING_PATTERN.exec(name);
    if (match === null) continue;
    const number = Number(match[1]);
    const path = join(datasetDir, name);
    const owner = await readOwner(path);
    entries.push(owner === undefined ? { number, path } : { number, path, owner });
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
  /**
   * `owner.json`, open and locked for as long as the run lives; publishing or discarding the
   * staging folder closes it.
   */
  lock?: Deno.FsFile;
}

/** Writes owner.json through a locked temporary file, so no one sees it unlocked. */
function claimOwnership(stagingPath: string, owner: StagingOwner): Promise<Deno.FsFile> {
  return claimOwnerFile(join(stagingPath, OWNER_FILE), owner, { temporary: OWNER_TEMPORARY });
}

/** Whether a path is trusted (`trusted_file.ts`); an unreadable one is not. */
async function trusted(path: string): Promise<boolean> {
  return await untrustedReason(path).catch(() => "unreadable") === undefined;
}

function releaseLock(staging: { lock?: Deno.FsFile }): void {
  try {
    staging.lock?.close();
  } catch {
    // Already closed.
  }
  delete staging.lock;
}

/**
 * Reserves the next version number by creating its staging folder, and records the owner
 * in a locked `owner.json`.
 *
 * @param datasetDir The dataset folder; created with its parents if missing.
 * @param options The owner to record (defaults to this process).
 * @returns The reservation; publish or discard it to release its lock.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStaging, discardStaging } from "./versions.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await createStaging(dir);
 * assert.equal(staging.number, 1);
 * await discardStaging(staging);
 * await Deno.remove(dir, { recursive: true });
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
  // Past numbers found taken by an entry the listing did not show (a file, or a race).
  let floor = 0;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const number = Math.max(floor, ...(await numbersInUse(datasetDir))) + 1;
    const name = `.v${String(number).padStart(4, "0")}.staging`;
    const path = join(datasetDir, name);
    try {
      await Deno.mkdir(path, { mode: TRUSTED_FOLDER_MODE });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      floor = number;
      continue;
    }
    // A listing taken while another run renamed its staging folder may have missed that
    // run's number; once our mkdir has succeeded, a fresh listing shows any such version.
    const others = (await readEntries(datasetDir)).filter(
      (entry) => entry.name !== name && Number(NUMBER_PATTERN.exec(entry.name)?.[1]) === number,
    );
    if (others.length > 0) {
      await Deno.remove(path, { recursive: true });
      floor = number;
      continue;
    }
    try {
      return { number, path, datasetDir, lock: await claimOwnership(path, owner) };
    } catch (error) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
      throw error;
    }
  }
  throw new Error(`Cannot reserve a version number in ${datasetDir}: too many concurrent runs`);
}

/**
 * Publishes a staging folder as a finished version, by renaming it.
 *
 * @param staging The reservation, with every file written.
 * @param createdAt The run's start time, part of the version id.
 * @returns The finished version.
 * @throws {Error} when a folder of that name exists; the staging folder is left for the
 * caller to discard.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStaging, publishStaging } from "./versions.ts";
 * const dir = await Deno.makeTempDir();
 * const version = await publishStaging(await createStaging(dir), new Date());
 * assert.equal(version.number, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function publishStaging(staging: Staging, createdAt: Date): Promise<VersionEntry> {
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
  await Deno.remove(join(staging.path, OWNER_FILE));
  await Deno.rename(staging.path, path);
  releaseLock(staging);
  return { number: staging.number, id, path };
}

/**
 * Removes a staging folder and everything in it, and releases its lock; a missing folder is
 * not an error.
 *
 * @param staging The reservation to give up.
 * @example
 * ```ts
 * import { createStaging, discardStaging } from "./versions.ts";
 * const dir = await Deno.makeTempDir();
 * const staging = await createStaging(dir);
 * await discardStaging(staging);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function discardStaging(staging: { path: string; lock?: Deno.FsFile }): Promise<void> {
  try {
    await Deno.remove(staging.path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  } finally {
    // Removed or not, this run no longer owns it: a later run may clean up what is left.
    releaseLock(staging);
  }
}

/**
 * Whether a staging folder was left by a run that is gone, and if so, takes it over.
 *
 * @returns The owner file, locked by us (close it after removing the folder); `"ownerless"`
 * for an old folder without an owner file; undefined when the folder is in use or gone.
 */
async function takeOverStale(
  entry: StagingEntry,
  now: number,
): Promise<Deno.FsFile | "ownerless" | undefined> {
  try {
    return await tryLockOwnerFile(join(entry.path, OWNER_FILE));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return undefined;
    try {
      const info = await Deno.stat(entry.path);
      const changed = info.mtime?.getTime() ?? now;
      return now - changed > OWNERLESS_STAGING_GRACE_MS ? "ownerless" : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Removes the staging folders left by runs on this host that are gone: killed, crashed or
 * powered off. Folders of live runs, of runs on other hosts sharing the disk, and folders whose
 * owner file another user owns or could have written (`trusted_file.ts`), are kept.
 *
 * @param datasetDir The dataset folder.
 * @param options `now`: the current time in ms (for tests of the grace period).
 * @returns The folders removed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { removeStaleStaging } from "./versions.ts";
 * assert.deepEqual(await removeStaleStaging("/nonexistent"), []);
 * ```
 */
export async function removeStaleStaging(
  datasetDir: string,
  options: { now?: number } = {},
): Promise<StagingEntry[]> {
  const removed: StagingEntry[] = [];
  const host = hostname();
  const now = options.now ?? Date.now();
  for (const entry of await listStaging(datasetDir)) {
    // Another host's lock may not reach us (NFS without a lock manager): never judge it.
    if (entry.owner !== undefined && entry.owner.host !== host) continue;
    // Nor a folder or owner file someone else could have written: it is not ours to judge.
    if (!await trusted(entry.path) || !await trusted(join(entry.path, OWNER_FILE))) continue;
    const taken = await takeOverStale(entry, now);
    if (taken === undefined) continue;
    try {
      await Deno.remove(entry.path, { recursive: true });
      removed.push(entry);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    } finally {
      if (taken !== "ownerless") taken.close();
    }
  }
  return removed;
}
