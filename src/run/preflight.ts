/**
 * Pre-flight: the checks a run makes before it creates anything. The output folder must be a
 * folder (or missing), dsgen must be able to create folders there, the disk must have room for
 * the archive, and the estimated peak memory must fit in what the process may use.
 *
 * Each check throws a {@linkcode UsageError} naming the option and the value (an
 * {@linkcode OptionError}, which a command names by its flag), so a refused run
 * exits 2 and leaves nothing behind.
 *
 * @module
 */

import { resolve } from "node:path";
import { statfsSync } from "node:fs";
import { formatMegabytes } from "../report/memory.ts";
import { OptionError, UsageError } from "../exit/errors.ts";

/** Room on the disk beyond the archive: metadata.json, owner.json and file-system blocks. */
export const DISK_MARGIN_BYTES = 256 * 1024;

/** Quotes a user's word for a message, on one line whatever it holds. */
function quote(word: string): string {
  return JSON.stringify(word);
}

/**
 * An operating-system error in a few words, without the error number and the path.
 *
 * @param error What a file operation threw.
 * @returns For example `read-only file system`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemReason } from "./preflight.ts";
 * assert.equal(systemReason(Object.assign(new Error("x"), { code: "EROFS" })), "read-only file system");
 * ```
 */
export function systemReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  const known: Record<string, string> = {
    EROFS: "read-only file system",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "no space left on the disk",
    EDQUOT: "disk quota exceeded",
    EIO: "input/output error",
  };
  if (code !== undefined && known[code] !== undefined) return known[code]!;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "").replace(/:\s*$/, "");
}

/**
 * Refuses an output path that is a file, has a file in it, is a broken link or cannot be read,
 * without creating anything.
 *
 * @param outputDir The `--output-dir` value.
 * @param name The dataset folder's name inside it (`--name`).
 * @example
 * ```ts
 * import { checkOutputFolder } from "./preflight.ts";
 * await checkOutputFolder("/nonexistent/data", "shapes16");
 * ```
 */
export async function checkOutputFolder(outputDir: string, name: string): Promise<void> {
  const datasetDir = resolve(outputDir, name);
  for (
    const [flag, value, path] of [
      ["outputDir", outputDir, outputDir],
      ["name", name, datasetDir],
    ] as const
  ) {
    const refuse = (problem: string) =>
      new OptionError(
        flag,
        (option) => `Cannot use "${option}" value ${quote(value)}: ${problem}, expected a folder`,
      );
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        // Missing is fine; it may also have been made meanwhile, by a concurrent run.
        const link = await Deno.lstat(path).catch(() => undefined);
        if (link?.isSymlink) throw refuse(`${quote(path)} is a symbolic link to nothing`);
        continue;
      }
      if (error instanceof Deno.errors.NotADirectory) {
        throw refuse(`a part of ${quote(path)} is a file`);
      }
      throw refuse(`cannot read ${quote(path)} (${systemReason(error)})`);
    }
    if (!info.isDirectory) throw refuse(`${quote(path)} is a file`);
  }
}

/**
 * Refuses a folder dsgen cannot create folders in, by creating and removing an empty one:
 * permission bits say nothing of read-only mounts, and root ignores them anyway.
 *
 * @param outputDir The `--output-dir` value, for the message.
 * @param datasetDir The dataset folder (its nearest existing ancestor is tried).
 * @example
 * ```ts
 * import { checkWritable } from "./preflight.ts";
 * await checkWritable(Deno.cwd(), Deno.cwd() + "/not-made-yet");
 * ```
 */
export async function checkWritable(outputDir: string, datasetDir: string): Promise<void> {
  const folder = existingAncestor(datasetDir);
  try {
    await Deno.remove(await Deno.makeTempDir({ dir: folder, prefix: ".dsgen-write-check-" }));
  } catch (error) {
    const where = quote(folder);
    throw new OptionError(
      "outputDir",
      (option) =>
        `Cannot use "${option}" value ${quote(outputDir)}: cannot create folders in ${where} ` +
        `(${systemReason(error)}), expected a folder dsgen can write to`,
    );
  }
}

/**
 * The nearest existing ancestor of a path (the folder whose disk the dataset lands on).
 *
 * @param path Any path.
 * @returns The path itself if it exists, else its nearest existing parent.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { existingAncestor } from "./preflight.ts";
 * assert.equal(existingAncestor("/nonexistent/a/b"), "/");
 * ```
 */
export function existingAncestor(path: string): string {
  let current = resolve(path);
  for (;;) {
    try {
      Deno.statSync(current);
      return current;
    } catch {
      const parent = resolve(current, "..");
      if (parent === current) return current;
      current = parent;
    }
  }
}

function freeDiskBytes(path: string): number | undefined {
  try {
    const stats = statfsSync(existingAncestor(path));
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}

/**
 * Refuses a run whose files do not fit on the disk, margin included.
 *
 * @param bytes What the run writes.
 * @param where `outputDir` for the message, `datasetDir` for the disk.
 * @example
 * ```ts
 * import { checkDiskRoom } from "./preflight.ts";
 * checkDiskRoom(1000, { outputDir: ".", datasetDir: "." });
 * ```
 */
export function checkDiskRoom(
  bytes: number,
  where: { outputDir: string; datasetDir: string },
): void {
  const free = freeDiskBytes(where.datasetDir);
  if (free !== undefined && bytes + DISK_MARGIN_BYTES > free) {
    throw new OptionError(
      "outputDir",
      (option) =>
        `Cannot use "${option}" value ${quote(where.outputDir)}: the dataset needs ` +
        `${formatMegabytes(bytes + DISK_MARGIN_BYTES)} and the disk has ` +
        `${formatMegabytes(free)} free, expected a folder on a disk with room for it`,
    );
  }
}

/** The memory a run may use, and where that figure came from. */
export interface MemoryLimit {
  /** Bytes. */
  bytes: number;
  /** For example `available on this machine` or `SLURM_MEM_PER_NODE`. */
  source: string;
}

/**
 * Refuses a run whose estimated peak memory exceeds the limit.
 *
 * @param estimatedBytes The estimate's total.
 * @param limit The memory the run may use.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMemory } from "./preflight.ts";
 * assert.throws(() => checkMemory(2e9, { bytes: 1e9, source: "SLURM_MEM_PER_NODE" }), /exceeds/);
 * ```
 */
export function checkMemory(estimatedBytes: number, limit: MemoryLimit): void {
  if (estimatedBytes > limit.bytes) {
    throw new UsageError(
      `Cannot run: the estimated peak memory ${formatMegabytes(estimatedBytes)} exceeds the ` +
        `${formatMegabytes(limit.bytes)} ${limit.source}`,
    );
  }
}
