/**
 * The CRC-32 of each chunk of a slice file, kept beside it as `slice-00003-of-00016.crc32`, so
 * that the merge hands the writer checksummed chunks and copies bytes without computing a CRC
 * (the zip format needs one per entry; the writer combines the chunks' CRCs).
 *
 * The file is a sequence of little-endian uint32 pairs: a chunk's length in bytes, then its
 * CRC-32. The lengths add up to the slice file's size.
 *
 * @module
 */

import { basename } from "node:path";
import { temporaryName } from "./run_folder.ts";
import { writeFileAtomic } from "../store/atomic_write.ts";

/** The chunks of a slice file as they were written: lengths and CRC-32s. */
export class ChunkChecksums {
  #words: number[] = [];

  /**
   * Records the next chunk.
   *
   * @param length The chunk's length in bytes (below 4 GiB).
   * @param crc The chunk's CRC-32.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkChecksums } from "./checksums.ts";
   * const checksums = new ChunkChecksums();
   * checksums.add(3, 0x12345678);
   * assert.equal(checksums.encode().length, 8);
   * ```
   */
  add(length: number, crc: number): void {
    this.#words.push(length, crc >>> 0);
  }

  /**
   * The file's bytes.
   *
   * @returns Little-endian uint32 pairs.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChunkChecksums } from "./checksums.ts";
   * assert.equal(new ChunkChecksums().encode().length, 0);
   * ```
   */
  encode(): Uint8Array {
    const bytes = new Uint8Array(this.#words.length * 4);
    const view = new DataView(bytes.buffer);
    this.#words.forEach((word, index) => view.setUint32(index * 4, word, true));
    return bytes;
  }
}

/** One chunk of a slice file. */
export interface ChunkChecksum {
  /** Its length in bytes. */
  length: number;
  /** Its CRC-32. */
  crc32: number;
}

/**
 * Writes a slice's checksums (`<slice file stem>.crc32`), through a temporary file and a
 * rename.
 *
 * @param path The checksums file, e.g. `<run folder>/slice-00003-of-00016.crc32`.
 * @param checksums The chunks' lengths and CRCs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChunkChecksums, readChunkChecksums, writeChunkChecksums } from "./checksums.ts";
 * const folder = await Deno.makeTempDir();
 * const checksums = new ChunkChecksums();
 * checksums.add(5, 7);
 * await writeChunkChecksums(`${folder}/slice-00000-of-00001.crc32`, checksums);
 * assert.deepEqual(await readChunkChecksums(`${folder}/slice-00000-of-00001.crc32`, 5),
 *   [{ length: 5, crc32: 7 }]);
 * await Deno.remove(folder, { recursive: true });
 * ```
 */
export async function writeChunkChecksums(
  path: string,
  checksums: ChunkChecksums,
): Promise<void> {
  await writeFileAtomic(path, checksums.encode(), {
    mode: 0o644,
    temporary: temporaryName(basename(path)),
  });
}

/**
 * Reads a slice's checksums, if they exist and cover exactly the slice file.
 *
 * @param path The checksums file.
 * @param size The slice file's size.
 * @returns The chunks, or undefined (missing, or not matching the size): the merge then lets
 *   the writer compute the CRC.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readChunkChecksums } from "./checksums.ts";
 * assert.equal(await readChunkChecksums("/nonexistent/slice-00000-of-00001.crc32", 5), undefined);
 * ```
 */
export async function readChunkChecksums(
  path: string,
  size: number,
): Promise<ChunkChecksum[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return undefined;
  }
  if (bytes.length % 8 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: ChunkChecksum[] = [];
  let total = 0;
  for (let offset = 0; offset < bytes.length; offset += 8) {
    const length = view.getUint32(offset, true);
    chunks.push({ length, crc32: view.getUint32(offset + 4, true) });
    total += length;
  }
  return total === size ? chunks : undefined;
}
