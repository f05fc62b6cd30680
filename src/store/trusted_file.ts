/**
 * Files that steer a run (a sharded run's `plan.json` and slice records, the owner and lock
 * files of a run folder or a staging folder) are trusted only when no one else could have
 * written them, as ssh's StrictModes trusts `authorized_keys`: the file, or folder, must be
 * owned by the user running dsgen (or by root) and must not be writable by group or others.
 * A symbolic link is never followed.
 *
 * dsgen creates such files with mode 0644 and such folders with mode 0755
 * ({@linkcode TRUSTED_FILE_MODE}, {@linkcode TRUSTED_FOLDER_MODE}); a umask only removes bits,
 * so what dsgen creates always passes.
 *
 * Root: root owns system files and could change any file anyway, so a root-owned file is
 * trusted by every user; when dsgen itself runs as root, a file owned by any other user is
 * refused, since that user could otherwise choose what root's run does.
 *
 * @module
 */

/** The mode dsgen creates files that steer a run with: read-write for the owner only. */
export const TRUSTED_FILE_MODE = 0o644;
/** The mode dsgen creates folders that hold such files with. */
export const TRUSTED_FOLDER_MODE = 0o755;

/** Options of {@linkcode checkTrusted}. */
export interface TrustOptions {
  /**
   * The user id to trust besides root; default: the process's (`Deno.uid()`). `null`: do not
   * check owners (no user ids on this system, or `--allow-sys` withheld).
   */
  uid?: number | null;
}

/**
 * The user id of this process, or null where it cannot be known (Windows, or a library caller
 * that withheld `--allow-sys`): then only the write bits are checked.
 *
 * @returns The uid, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentUid } from "./trusted_file.ts";
 * const uid = currentUid();
 * assert.ok(uid === null || Number.isInteger(uid));
 * ```
 */
export function currentUid(): number | null {
  try {
    return Deno.uid();
  } catch {
    return null;
  }
}

/**
 * Why a file or folder that steers a run cannot be trusted, or undefined when it can (or is
 * missing: the caller decides what a missing file means).
 *
 * @param path The file or folder.
 * @param options The user id to trust (tests); default: this process's.
 * @returns One line naming the path and what is wrong, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { untrustedReason } from "./trusted_file.ts";
 * const folder = await Deno.makeTempDir();
 * const path = `${folder}/plan.json`;
 * await Deno.writeTextFile(path, "{}", { mode: 0o644 });
 * await Deno.chmod(path, 0o644);
 * assert.equal(await untrustedReason(path), undefined);
 * await Deno.chmod(path, 0o666);
 * assert.match((await untrustedReason(path))!, /others can write it \(mode 0666\)/);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function untrustedReason(
  path: string,
  options: TrustOptions = {},
): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const what = info.isDirectory ? "folder" : "file";
  if (info.isSymlink) {
    return `Cannot trust ${path}: it is a symbolic link, and a file that steers a run is ` +
      `never followed through one`;
  }
  const uid = options.uid === undefined ? currentUid() : options.uid;
  if (uid !== null && info.uid !== null && info.uid !== uid && info.uid !== 0) {
    return `Cannot trust ${path}: the ${what} is owned by user id ${info.uid}, not by you ` +
      `(user id ${uid}) or root; only the user who started a run may steer it (see docs/safety.md)`;
  }
  const mode = info.mode;
  if (mode !== null && (mode & 0o022) !== 0) {
    const who = (mode & 0o020) !== 0 && (mode & 0o002) !== 0
      ? "group and others"
      : (mode & 0o020) !== 0
      ? "group members"
      : "others";
    const octal = (mode & 0o7777).toString(8).padStart(4, "0");
    return `Cannot trust ${path}: ${who} can write it (mode ${octal}); a ${what} that steers a ` +
      `run must be writable by its owner only: chmod go-w ${path}`;
  }
  return undefined;
}

/**
 * Throws when a file or folder that steers a run cannot be trusted (see
 * {@linkcode untrustedReason}); a missing one passes.
 *
 * @param path The file or folder.
 * @param options The user id to trust (tests).
 * @throws {TypeError} One line naming the path and what is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTrusted } from "./trusted_file.ts";
 * const folder = await Deno.makeTempDir();
 * await Deno.chmod(folder, 0o777);
 * await assert.rejects(checkTrusted(folder), /Cannot trust .*: group and others can write it/);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function checkTrusted(path: string, options: TrustOptions = {}): Promise<void> {
  const reason = await untrustedReason(path, options);
  if (reason !== undefined) throw new TypeError(reason);
}
