/**
 * Writing a file so that readers see either the old file or the whole new one, never a part:
 * the bytes go to a hidden temporary file in the same folder, which is then renamed over the
 * target (rename is atomic within a file system).
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` through a temporary file and a rename; creates the folder if missing.
 *
 * @param path The file to write (replaced if it exists).
 * @param bytes The content; a string is written as UTF-8.
 * @param options `mode`: the new file's permission bits (before the umask); `temporary`: the
 * temporary file's name in the same folder (default `.<name>.<pid>.tmp`), for writers that
 * share a folder across hosts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomic } from "./atomic_write.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/inspection/report.json`;
 * await writeFileAtomic(path, "{}\n");
 * assert.equal(await Deno.readTextFile(path), "{}\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  options: { mode?: number; temporary?: string } = {},
): Promise<void> {
  const folder = dirname(path);
  await Deno.mkdir(folder, { recursive: true });
  const temporary = join(folder, options.temporary ?? `.${basename(path)}.${Deno.pid}.tmp`);
  try {
    if (typeof bytes === "string") {
      await Deno.writeTextFile(temporary, bytes, { mode: options.mode });
    } else await Deno.writeFile(temporary, bytes, { mode: options.mode });
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => undefined);
    throw error;
  }
}
