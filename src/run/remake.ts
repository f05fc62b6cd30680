/**
 * Remaking a version from its metadata.json: the archives just written against the ones the
 * record lists, file by file, and when a checksum differs, the first array that differs.
 *
 * @module
 */

import { join } from "node:path";
import type { NpzRecord } from "../pipeline/dataset.ts";

/** What a version's metadata.json records of its archives. */
export interface RecordedArchives {
  /** The version's files with their sizes and SHA-256. */
  files: { name: string; bytes: number; sha256: string }[];
  /** Each archive's arrays, by file name. */
  arrays: Record<string, { name: string; dtype: string; shape: number[] }[]>;
  /** The recorded version's folder: where its archives may still be, to name a difference. */
  folder?: string;
}

/**
 * Compares the archives of a remake with the record.
 *
 * @param made Each archive written: its file name, path and what the writer returned.
 * @param recorded What metadata.json records.
 * @returns Undefined when every archive has its recorded SHA-256, else one line naming the
 * first file and array that differ.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareRemake } from "./remake.ts";
 * const record = { bytes: 1, sha256: "a".repeat(64), arrays: [] };
 * const files = [{ name: "dataset.npz", bytes: 1, sha256: "a".repeat(64) }];
 * assert.equal(await compareRemake([{ file: "dataset.npz", path: "x", record }],
 *   { files, arrays: {} }), undefined);
 * ```
 */
export async function compareRemake(
  made: { file: string; path: string; record: NpzRecord }[],
  recorded: RecordedArchives,
): Promise<string | undefined> {
  const madeNames = made.map((part) => part.file).sort().join(", ");
  const recordedNames = recorded.files.map((file) => file.name).sort().join(", ");
  if (madeNames !== recordedNames) {
    return `Cannot remake the version: the recipe makes ${madeNames}, metadata.json records ` +
      recordedNames;
  }
  for (const part of made) {
    const file = recorded.files.find((entry) => entry.name === part.file)!;
    if (file.sha256 === part.record.sha256) continue;
    const where = await firstDifference(part, recorded);
    return `Cannot remake ${part.file} byte-identically: ${where}; SHA-256 ` +
      `${part.record.sha256}, metadata.json records ${file.sha256}`;
  }
  return undefined;
}

async function firstDifference(
  part: { file: string; path: string; record: NpzRecord },
  recorded: RecordedArchives,
): Promise<string> {
  const arrays = part.record.arrays;
  const recordedArrays = recorded.arrays[part.file] ?? [];
  for (const [index, array] of arrays.entries()) {
    const other = recordedArrays[index];
    if (other === undefined) return `array "${array.name}" is not in the record`;
    if (
      other.name !== array.name || other.dtype !== array.dtype ||
      other.shape.join(",") !== array.shape.join(",")
    ) {
      return `array "${array.name}" (${array.dtype} ${JSON.stringify(array.shape)}) differs ` +
        `from the recorded "${other.name}" (${other.dtype} ${JSON.stringify(other.shape)})`;
    }
  }
  if (recorded.folder === undefined) return "the arrays' dtypes and shapes match the record";
  const original = join(recorded.folder, part.file);
  let byte: number | undefined;
  try {
    byte = await firstDifferentByte(part.path, original);
  } catch {
    return `the arrays' dtypes and shapes match the record, and ${original} is not there to ` +
      "name the first differing array";
  }
  if (byte === undefined) return "the archives' bytes are equal, but not their recorded hash";
  const containing = arrays.findLast((array) => array.offset <= byte);
  return containing === undefined
    ? `the archives differ before their first array (byte ${byte})`
    : `array "${containing.name}" differs from ${original} (first at byte ${byte})`;
}

/** The first byte at which two files differ, or undefined when they are equal. */
async function firstDifferentByte(first: string, second: string): Promise<number | undefined> {
  using a = await Deno.open(first);
  using b = await Deno.open(second);
  const size = 1 << 20;
  const bufferA = new Uint8Array(size), bufferB = new Uint8Array(size);
  let position = 0;
  while (true) {
    const readA = await readFull(a, bufferA), readB = await readFull(b, bufferB);
    const length = Math.min(readA, readB);
    for (let index = 0; index < length; index++) {
      if (bufferA[index] !== bufferB[index]) return position + index;
    }
    if (readA !== readB) return position + length;
    if (readA === 0) return undefined;
    position += readA;
  }
}

async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return filled;
}
