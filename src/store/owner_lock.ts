/**
 * The one lock of dsgen: an `owner.json` held open with an exclusive lock for as long as its
 * owner lives (a run's staging folder, a merge's `merge.lock`). The kernel drops the lock when
 * the process ends, however it ends (even SIGKILL), so an owner file whose lock can be taken
 * was left by a process that is gone.
 *
 * Deno's `FsFile.lock` is `flock(2)`; on Linux NFS it is emulated as a POSIX lock, which needs
 * the file open for writing and is dropped when ANY descriptor of the file closes. Deno runs an
 * asynchronous call on a duplicate of the descriptor and closes it after, so a locked file is
 * only ever touched with synchronous calls here.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { TRUSTED_FILE_MODE } from "./trusted_file.ts";

/** Options of {@linkcode claimOwnerFile}. */
export interface ClaimOwnerOptions {
  /**
   * Write and lock a temporary file of this name in the same folder, then rename it to the
   * owner file, so that no one ever sees the owner file unlocked (the lock moves with the
   * rename: it belongs to the open file, not to the name). Default: create the owner file
   * itself.
   */
  temporary?: string;
  /**
   * Whether a file system without locks is an error (default true); when false, the owner is
   * still recorded, for messages.
   */
  lockRequired?: boolean;
}

/**
 * Creates an owner file (it must not exist), locks it exclusively and writes the owner as one
 * JSON line.
 *
 * @param path The owner file.
 * @param owner What to record, e.g. host, pid and start time.
 * @param options A temporary name to write through, and whether locks are required.
 * @returns The open, locked file: close it to release the lock.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimOwnerFile, tryLockOwnerFile } from "./owner_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await claimOwnerFile(`${dir}/owner.json`, { pid: Deno.pid });
 * assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/owner.json`)), { pid: Deno.pid });
 * file.close();
 * (await tryLockOwnerFile(`${dir}/owner.json`))?.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function claimOwnerFile(
  path: string,
  owner: unknown,
  options: ClaimOwnerOptions = {},
): Promise<Deno.FsFile> {
  const created = options.temporary === undefined ? path : join(dirname(path), options.temporary);
  const file = await Deno.open(created, { write: true, createNew: true, mode: TRUSTED_FILE_MODE });
  try {
    // Uncontended: nobody else knows this file yet.
    try {
      file.lockSync(true);
    } catch (error) {
      if (options.lockRequired ?? true) throw error;
    }
    const bytes = new TextEncoder().encode(JSON.stringify(owner) + "\n");
    let offset = 0;
    while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
    if (created !== path) await Deno.rename(created, path);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * Takes the lock of an existing owner file, if its owner is gone.
 *
 * @param path The owner file.
 * @returns The open file, locked by us (close it once done with what it owned); undefined when
 * the lock is held, or the file system has no locks (no way to tell: leave it).
 * @throws {Deno.errors.NotFound} And other errors of opening the file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimOwnerFile, tryLockOwnerFile } from "./owner_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const held = await claimOwnerFile(`${dir}/owner.json`, {});
 * // flock is per open file: a second open of the same file is refused while one holds it.
 * assert.equal(await tryLockOwnerFile(`${dir}/owner.json`), undefined);
 * held.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function tryLockOwnerFile(path: string): Promise<Deno.FsFile | undefined> {
  // Writable: an exclusive POSIX lock (flock on NFS) needs it. Nothing is written.
  const file = await Deno.open(path, { read: true, write: true });
  let free = false;
  try {
    free = file.tryLockSync(true);
  } catch {
    // A file system without locks.
  }
  if (!free) {
    file.close();
    return undefined;
  }
  return file;
}
