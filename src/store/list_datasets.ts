/**
 * Every dataset and version under an output folder, from the folders and their metadata.json
 * alone (archives are never opened): finished versions, and staging folders left by runs in
 * progress or killed, with their owner and whether it is still alive.
 *
 * Whether the owner is alive is read from the lock a run holds on its `owner.json` for as long
 * as it lives (see `versions.ts`): if the lock can be taken, the run is gone, whatever its pid
 * now names. The lock is released at once. Runs on other hosts are never judged, since their
 * locks may not reach this one.
 *
 * @module
 */

import { basename, join } from "node:path";
import { hostname } from "node:os";
import { readMetadata } from "./metadata.ts";
import { listStaging, listVersions, type StagingOwner } from "./versions.ts";

/** One version folder or staging folder. */
export interface ListedVersion {
  /** The dataset folder's name. */
  dataset: string;
  /** The version number. */
  version: number;
  /** The folder's name: `v0001-20261125T031245Z` or `.v0003.staging`. */
  id: string;
  /** The folder's path. */
  path: string;
  /**
   * `complete`: a published version; `unfinished`: a staging folder (a run in progress, or
   * killed); `damaged`: a published version whose metadata.json is missing or unreadable.
   */
  status: "complete" | "unfinished" | "damaged";
  /** When the run started (ISO 8601), or null when unknown. */
  created: string | null;
  /** Number of images, from metadata.json; null for unfinished or damaged versions. */
  images: number | null;
  /** The images' element type, from metadata.json; null for unfinished or damaged versions. */
  dtype: string | null;
  /** The side of an image in pixels, from metadata.json; null when unknown. */
  image_size: number | null;
  /** Bytes of the version's own files (dataset.npz, metadata.json), as they are on disk now. */
  bytes: number;
  /** Bytes of what `dsgen inspect` added (the `inspection/` folder); 0 when not inspected. */
  inspection_bytes: number;
  /** The dataset seed; null when unknown. */
  seed: number | null;
  /**
   * For unfinished versions: who runs it, and whether that run is alive (its lock on
   * owner.json is held); `alive` is null for another host's run or when locks are unavailable.
   */
  owner?: StagingOwner & { alive: boolean | null };
  /** For damaged versions: what is wrong. */
  problem?: string;
}

/** The folder `dsgen inspect` writes into a version; counted apart from the version's files. */
const INSPECTION_FOLDER = "inspection";

/**
 * The bytes of the files in a folder and its subfolders, as they are on disk now; 0 for a
 * folder that is gone (a run may remove its folder while we look).
 *
 * @param path The folder.
 * @param options `skip`: a child's name not to count.
 * @returns The sum of the files' sizes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { folderBytes } from "./list_datasets.ts";
 * assert.equal(await folderBytes("/nonexistent"), 0);
 * ```
 */
export async function folderBytes(
  path: string,
  options: { skip?: string } = {},
): Promise<number> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.name === options.skip) continue;
      if (entry.isDirectory) total += await folderBytes(child);
      else if (entry.isFile) total += (await Deno.stat(child).catch(() => ({ size: 0 }))).size;
    }
  } catch (error) {
    // A run may remove its staging folder while we look; it then holds nothing.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return total;
}

/** Whether the run owning a staging folder is alive; null when no one can tell. */
async function ownerAlive(stagingPath: string): Promise<boolean | null> {
  let file: Deno.FsFile;
  try {
    // Writable, as in versions.ts: NFS's POSIX locks need it for an exclusive lock.
    file = await Deno.open(join(stagingPath, "owner.json"), { read: true, write: true });
  } catch {
    return null;
  }
  try {
    // Synchronous: an asynchronous call would drop POSIX locks (see versions.ts).
    const free = file.tryLockSync(true);
    if (free) file.unlockSync();
    return !free;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

async function listDataset(datasetDir: string): Promise<ListedVersion[]> {
  const dataset = basename(datasetDir);
  const rows: ListedVersion[] = [];
  for (const version of await listVersions(datasetDir)) {
    const row: ListedVersion = {
      dataset,
      version: version.number,
      id: version.id,
      path: version.path,
      status: "complete",
      created: null,
      images: null,
      dtype: null,
      image_size: null,
      bytes: await folderBytes(version.path, { skip: INSPECTION_FOLDER }),
      inspection_bytes: await folderBytes(join(version.path, INSPECTION_FOLDER)),
      seed: null,
    };
    try {
      const metadata = await readMetadata(version.path);
      row.created = metadata.created_at;
      row.images = metadata.num_images;
      row.dtype = metadata.dtype;
      row.image_size = metadata.image_size;
      row.seed = metadata.seed;
    } catch (error) {
      row.status = "damaged";
      row.problem = (error as Error).message;
    }
    rows.push(row);
  }
  const host = hostname();
  for (const staging of await listStaging(datasetDir)) {
    const row: ListedVersion = {
      dataset,
      version: staging.number,
      id: basename(staging.path),
      path: staging.path,
      status: "unfinished",
      created: staging.owner?.startedAt ?? null,
      images: null,
      dtype: null,
      image_size: null,
      bytes: await folderBytes(staging.path),
      inspection_bytes: 0,
      seed: null,
    };
    if (staging.owner !== undefined) {
      row.owner = {
        ...staging.owner,
        alive: staging.owner.host === host ? await ownerAlive(staging.path) : null,
      };
    }
    rows.push(row);
  }
  return rows.sort((a, b) => a.version - b.version || a.id.localeCompare(b.id));
}

/**
 * Lists every dataset and version under an output folder (or in a dataset folder given
 * directly): datasets by name, and within each its versions by number, newest last.
 *
 * @param outputDir The output folder that `generate --output-dir` wrote into.
 * @returns One row per version or staging folder.
 * @throws {TypeError} If the folder is missing or is a file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listDatasets } from "./list_datasets.ts";
 * import { createStaging, discardStaging } from "./versions.ts";
 *
 * const outputDir = await Deno.makeTempDir();
 * const staging = await createStaging(`${outputDir}/shapes16`);
 * const [row] = await listDatasets(outputDir);
 * assert.equal(row?.status, "unfinished");
 * assert.equal(row?.owner?.alive, true);
 * await discardStaging(staging);
 * await Deno.remove(outputDir, { recursive: true });
 * ```
 */
export async function listDatasets(outputDir: string): Promise<ListedVersion[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(outputDir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      throw new TypeError(`Cannot find ${outputDir}: expected an output folder`);
    }
    throw new TypeError(`Cannot open ${outputDir}: ${(error as Error).message}`);
  }
  if (!info.isDirectory) {
    throw new TypeError(`Cannot list ${outputDir}: it is a file, expected an output folder`);
  }
  const rows = await listDataset(outputDir);
  const names: string[] = [];
  for await (const entry of Deno.readDir(outputDir)) {
    if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
  }
  for (const name of names.sort()) rows.push(...await listDataset(join(outputDir, name)));
  return rows;
}
