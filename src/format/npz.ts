/**
 * Writing NPZ archives: a zip file of `.npy` entries, as `numpy.savez` writes them, laid out so
 * that every array can also be memory-mapped.
 *
 * Entries are stored uncompressed (zip method 0) and streamed: each array's bytes come from an
 * iterable of chunks and go to the output as they arrive, so memory does not grow with the
 * array. Timestamps are fixed (1980-01-01) so that the same arrays give the same file bytes.
 * An entry is written as:
 *
 * | part                     | bytes   | content (little-endian)                              |
 * | ------------------------ | ------- | ---------------------------------------------------- |
 * | local file header        | 30      | `PK\x03\x04`, version 20 (45 with Zip64), flags 8     |
 * |                          |         | (sizes and CRC follow the data), method 0, DOS time 0 |
 * |                          |         | and date 1980-01-01, CRC and sizes 0 (0xffffffff with |
 * |                          |         | Zip64), name length n, extra length e                 |
 * | name                     | n       | `<array>.npy`                                         |
 * | Zip64 extra (Zip64 only) | 20      | id 1, 16, then the sizes as u64 zeros                 |
 * | alignment extra          | 0 or 4+ | id 0xd935 (zipalign's), its length, the alignment     |
 * |                          |         | (u16 64), zeros: the entry's bytes start on a 64-byte |
 * |                          |         | boundary of the file                                  |
 * | the `.npy` file          |         | its header (a multiple of 64 bytes), then the data,   |
 * |                          |         | which therefore starts 64-byte aligned too            |
 * | data descriptor          | 16 (24) | `PK\x07\x08`, CRC-32, sizes (u32, or u64 with Zip64)  |
 *
 * The central directory and end records follow, as APPNOTE 6.3 describes (Zip64 end record and
 * locator when the archive uses Zip64). An archive whose arrays total 4 GiB or more uses Zip64
 * for every entry, which numpy's `zipfile` reads. Because the data of every array starts at an
 * aligned offset the writer knows in advance ({@linkcode planNpzLayout}), a reader can
 * `np.memmap` it directly.
 *
 * Chunks are plain bytes, or {@linkcode ChecksummedChunk}s that carry their CRC-32 computed
 * elsewhere (a worker thread): the writer then only combines CRCs, touching no byte.
 *
 * @module
 */

import { crc32, crc32Combine } from "./crc32.ts";
import { encodeNpyHeader, npyDataLength, type NpyHeader } from "./npy.ts";

/** Bytes together with their CRC-32, computed by whoever made them. */
export interface ChecksummedChunk {
  /** The bytes. */
  bytes: Uint8Array;
  /** `crc32(bytes)`: the CRC-32 of these bytes alone. */
  crc32: number;
}

/** A piece of an array's data: bytes, or bytes with their CRC-32. */
export type DataChunk = Uint8Array | ChecksummedChunk;

/**
 * The bytes of a chunk, whatever its kind.
 *
 * @param chunk A chunk.
 * @returns Its bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkBytes } from "./npz.ts";
 * const bytes = new Uint8Array(3);
 * assert.equal(chunkBytes({ bytes, crc32: 0 }), bytes);
 * assert.equal(chunkBytes(bytes), bytes);
 * ```
 */
export function chunkBytes(chunk: DataChunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.bytes;
}

/** The alignment of every entry's bytes, and so of every array's data (numpy's `ARRAY_ALIGN`). */
export const NPZ_ALIGN = 64;
const ZIP32_LIMIT = 0xffffffff;
const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const ZIP64_EXTRA_LOCAL = 20;
const ZIP64_EXTRA_CENTRAL = 28;
const ALIGN_EXTRA_ID = 0xd935;
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const FLAG_DATA_DESCRIPTOR = 0x0008;

/** Where an entry lies in an archive. */
export interface EntryPlacement {
  /** The entry's file name, e.g. `images.npy`. */
  fileName: string;
  /** Offset of its local file header. */
  headerOffset: number;
  /** Offset of its bytes (the `.npy` file): a multiple of {@linkcode NPZ_ALIGN}. */
  entryOffset: number;
  /** The `.npy` file's size. */
  size: number;
}

function padding(nameLength: number, headerOffset: number, zip64: boolean): number {
  const unpadded = headerOffset + LOCAL_HEADER_SIZE + nameLength + (zip64 ? ZIP64_EXTRA_LOCAL : 0);
  let pad = (NPZ_ALIGN - (unpadded % NPZ_ALIGN)) % NPZ_ALIGN;
  // An extra field needs 4 bytes for its id and length, 6 with the alignment value.
  if (pad !== 0 && pad < 6) pad += NPZ_ALIGN;
  return pad;
}

/**
 * Where each entry and the central directory of an archive go, and its total size, from the
 * entries' names and sizes alone: the writer follows this plan byte for byte.
 *
 * @param entries Each entry's file name and size (`.npy` header and data), in order.
 * @param options `zip64: true` uses Zip64 even for a small archive (for tests).
 * @returns The placements, whether the archive uses Zip64, and its size in bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planNpzLayout } from "./npz.ts";
 * const plan = planNpzLayout([{ fileName: "a.npy", size: 200 }, { fileName: "b.npy", size: 70 }]);
 * assert.ok(plan.entries.every((entry) => entry.entryOffset % 64 === 0));
 * ```
 */
export function planNpzLayout(
  entries: readonly { fileName: string; size: number }[],
  options: { zip64?: boolean } = {},
): { entries: EntryPlacement[]; zip64: boolean; bytes: number } {
  const total = entries.reduce((sum, entry) => sum + entry.size, 0);
  const zip64 = options.zip64 === true || total >= ZIP32_LIMIT - 65536 ||
    entries.some((entry) => entry.size >= ZIP32_LIMIT);
  let offset = 0;
  const placements: EntryPlacement[] = [];
  for (const entry of entries) {
    const nameLength = new TextEncoder().encode(entry.fileName).length;
    const entryOffset = offset + LOCAL_HEADER_SIZE + nameLength +
      (zip64 ? ZIP64_EXTRA_LOCAL : 0) + padding(nameLength, offset, zip64);
    placements.push({
      fileName: entry.fileName,
      headerOffset: offset,
      entryOffset,
      size: entry.size,
    });
    offset = entryOffset + entry.size + (zip64 ? 24 : 16);
  }
  const central = placements.reduce(
    (sum, entry) =>
      sum + CENTRAL_HEADER_SIZE + new TextEncoder().encode(entry.fileName).length +
      (zip64 ? ZIP64_EXTRA_CENTRAL : 0),
    0,
  );
  return { entries: placements, zip64, bytes: offset + central + (zip64 ? 56 + 20 : 0) + 22 };
}

/** Options of {@linkcode NpzWriter}. */
export interface NpzWriterOptions {
  /**
   * Every entry's name (without `.npy`) and `.npy` header, in the order they will be added:
   * they decide Zip64 up front, and the writer checks that the arrays come as announced.
   * Without them, the archive uses Zip64 only if `zip64` says so.
   */
  arrays?: readonly { name: string; header: NpyHeader }[];
  /** Use Zip64 even for a small archive (for tests); larger ones always do. */
  zip64?: boolean;
}

/** Streams arrays into an NPZ archive, one entry after the other, in a planned layout. */
export class NpzWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #arrays: readonly { name: string; header: NpyHeader }[] | undefined;
  #zip64: boolean;
  #names = new Set<string>();
  #offset = 0;
  #entries: (EntryPlacement & { crc: number })[] = [];

  /**
   * Starts an archive on a byte stream.
   *
   * @param writable Where the archive's bytes go; closed by {@linkcode NpzWriter.close}.
   * @param options The arrays to come, in order, or Zip64 forced.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * const chunks: Uint8Array[] = [];
   * const header = { descr: "|u1" as const, fortranOrder: false, shape: [2] };
   * const npz = new NpzWriter(new WritableStream({ write: (chunk) => void chunks.push(chunk) }), {
   *   arrays: [{ name: "x", header }],
   * });
   * await npz.addArray("x", header, [new Uint8Array([1, 2])]);
   * await npz.close();
   * assert.ok(chunks.length > 0);
   * ```
   */
  constructor(writable: WritableStream<Uint8Array>, options: NpzWriterOptions = {}) {
    this.#arrays = options.arrays;
    this.#zip64 = options.zip64 === true || (options.arrays !== undefined &&
      planNpzLayout(
        options.arrays.map(({ name, header }) => ({
          fileName: `${name}.npy`,
          size: encodeNpyHeader(header).length + npyDataLength(header),
        })),
      ).zip64);
    this.#writer = writable.getWriter();
  }

  /**
   * The data offsets so far: where each added entry's `.npy` file starts, all 64-byte aligned.
   *
   * @returns The entries written, in order.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * const npz = new NpzWriter(new WritableStream());
   * await npz.addArray("x", { descr: "|u1", fortranOrder: false, shape: [1] }, [new Uint8Array(1)]);
   * assert.equal(npz.placements()[0]!.entryOffset % 64, 0);
   * await npz.close();
   * ```
   */
  placements(): EntryPlacement[] {
    return this.#entries.map(({ crc: _, ...placement }) => placement);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    this.#offset += bytes.length;
    await this.#writer.write(bytes);
  }

  /**
   * Adds `name.npy`: the header for `header`, then the chunks, whose lengths must add up to the
   * array's data length. Arrays must come in the order given to the constructor.
   *
   * @param name The array's key in numpy's `NpzFile`, without `.npy`.
   * @param header The array's dtype and shape.
   * @param chunks The array's data in C order, in pieces of any size.
   * @example
   * ```ts
   * import { NpzWriter } from "./npz.ts";
   * const header = { descr: "|u1" as const, fortranOrder: false, shape: [3] };
   * const npz = new NpzWriter(new WritableStream(), { arrays: [{ name: "labels", header }] });
   * await npz.addArray("labels", header, [new Uint8Array(3)]);
   * await npz.close();
   * ```
   */
  async addArray(
    name: string,
    header: NpyHeader,
    chunks: Iterable<DataChunk> | AsyncIterable<DataChunk>,
  ): Promise<void> {
    if (!/^[A-Za-z0-9_]+$/.test(name) || this.#names.has(name)) {
      throw new TypeError(`Cannot add array "${name}": expected a new name of letters, digits, _`);
    }
    const expected = this.#arrays?.[this.#entries.length];
    if (this.#arrays !== undefined && expected?.name !== name) {
      throw new TypeError(
        `Cannot add array "${name}": expected ${
          expected === undefined ? "no more arrays" : `"${expected.name}"`
        } next`,
      );
    }
    this.#names.add(name);
    const zip64 = this.#zip64;
    const headerBytes = encodeNpyHeader(header);
    const dataLength = npyDataLength(header);
    const fileName = new TextEncoder().encode(`${name}.npy`);
    const extraLength = (zip64 ? ZIP64_EXTRA_LOCAL : 0) +
      padding(fileName.length, this.#offset, zip64);
    const placement: EntryPlacement = {
      fileName: `${name}.npy`,
      headerOffset: this.#offset,
      entryOffset: this.#offset + LOCAL_HEADER_SIZE + fileName.length + extraLength,
      size: headerBytes.length + dataLength,
    };
    if (!zip64 && placement.entryOffset + placement.size >= ZIP32_LIMIT) {
      throw new RangeError(
        `Cannot add array "${name}": the archive passes 4 GiB; announce its arrays to use Zip64`,
      );
    }
    const local = new Uint8Array(LOCAL_HEADER_SIZE + fileName.length + extraLength);
    const view = new DataView(local.buffer);
    view.setUint32(0, 0x04034b50, true);
    view.setUint16(4, zip64 ? 45 : 20, true);
    view.setUint16(6, FLAG_DATA_DESCRIPTOR, true);
    view.setUint16(8, 0, true);
    view.setUint16(10, 0, true);
    view.setUint16(12, DOS_DATE_1980_01_01, true);
    view.setUint32(14, 0, true);
    view.setUint32(18, zip64 ? ZIP32_LIMIT : 0, true);
    view.setUint32(22, zip64 ? ZIP32_LIMIT : 0, true);
    view.setUint16(26, fileName.length, true);
    view.setUint16(28, extraLength, true);
    local.set(fileName, LOCAL_HEADER_SIZE);
    let extra = LOCAL_HEADER_SIZE + fileName.length;
    if (zip64) {
      view.setUint16(extra, 0x0001, true);
      view.setUint16(extra + 2, 16, true);
      extra += ZIP64_EXTRA_LOCAL; // The two sizes stay zero: the descriptor has them.
    }
    if (extra < local.length) {
      view.setUint16(extra, ALIGN_EXTRA_ID, true);
      view.setUint16(extra + 2, local.length - extra - 4, true);
      view.setUint16(extra + 4, NPZ_ALIGN, true);
    }
    await this.#write(local);
    await this.#write(headerBytes);
    let crc = crc32(headerBytes);
    let written = 0;
    for await (const chunk of chunks) {
      const bytes = chunkBytes(chunk);
      written += bytes.length;
      if (written > dataLength) break;
      if (bytes.length === 0) continue;
      crc = chunk instanceof Uint8Array
        ? crc32(bytes, crc)
        : crc32Combine(crc, chunk.crc32, bytes.length);
      await this.#write(bytes);
    }
    if (written !== dataLength) {
      throw new RangeError(
        `Cannot write an array of ${dataLength} bytes from ${
          written > dataLength ? "more" : written
        } bytes of data`,
      );
    }
    const descriptor = new Uint8Array(zip64 ? 24 : 16);
    const descriptorView = new DataView(descriptor.buffer);
    descriptorView.setUint32(0, 0x08074b50, true);
    descriptorView.setUint32(4, crc, true);
    if (zip64) {
      descriptorView.setBigUint64(8, BigInt(placement.size), true);
      descriptorView.setBigUint64(16, BigInt(placement.size), true);
    } else {
      descriptorView.setUint32(8, placement.size, true);
      descriptorView.setUint32(12, placement.size, true);
    }
    await this.#write(descriptor);
    this.#entries.push({ ...placement, crc });
  }

  /**
   * Writes the central directory and closes the output.
   *
   * @example
   * ```ts
   * import { NpzWriter } from "./npz.ts";
   * const npz = new NpzWriter(new WritableStream(), { arrays: [] });
   * await npz.close();
   * ```
   */
  async close(): Promise<void> {
    const missing = this.#arrays?.[this.#entries.length];
    if (missing !== undefined) {
      throw new TypeError(`Cannot close the archive: array "${missing.name}" was not added`);
    }
    const zip64 = this.#zip64;
    const directoryOffset = this.#offset;
    const parts: Uint8Array[] = [];
    for (const placement of this.#entries) {
      const fileName = new TextEncoder().encode(placement.fileName);
      const record = new Uint8Array(
        CENTRAL_HEADER_SIZE + fileName.length + (zip64 ? ZIP64_EXTRA_CENTRAL : 0),
      );
      const view = new DataView(record.buffer);
      view.setUint32(0, 0x02014b50, true);
      view.setUint16(4, zip64 ? 45 : 20, true); // made by: MS-DOS, spec 4.5 / 2.0
      view.setUint16(6, zip64 ? 45 : 20, true);
      view.setUint16(8, FLAG_DATA_DESCRIPTOR, true);
      view.setUint16(10, 0, true);
      view.setUint16(12, 0, true);
      view.setUint16(14, DOS_DATE_1980_01_01, true);
      view.setUint32(16, placement.crc, true);
      view.setUint32(20, zip64 ? ZIP32_LIMIT : placement.size, true);
      view.setUint32(24, zip64 ? ZIP32_LIMIT : placement.size, true);
      view.setUint16(28, fileName.length, true);
      view.setUint16(30, zip64 ? ZIP64_EXTRA_CENTRAL : 0, true);
      view.setUint32(42, zip64 ? ZIP32_LIMIT : placement.headerOffset, true);
      record.set(fileName, CENTRAL_HEADER_SIZE);
      if (zip64) {
        const extra = CENTRAL_HEADER_SIZE + fileName.length;
        view.setUint16(extra, 0x0001, true);
        view.setUint16(extra + 2, 24, true);
        view.setBigUint64(extra + 4, BigInt(placement.size), true);
        view.setBigUint64(extra + 12, BigInt(placement.size), true);
        view.setBigUint64(extra + 20, BigInt(placement.headerOffset), true);
      }
      parts.push(record);
    }
    const directorySize = parts.reduce((sum, part) => sum + part.length, 0);
    const count = parts.length;
    const endOffset = directoryOffset + directorySize;
    if (zip64) {
      const record = new Uint8Array(56 + 20);
      const view = new DataView(record.buffer);
      view.setUint32(0, 0x06064b50, true);
      view.setBigUint64(4, 44n, true);
      view.setUint16(12, 45, true);
      view.setUint16(14, 45, true);
      view.setBigUint64(24, BigInt(count), true);
      view.setBigUint64(32, BigInt(count), true);
      view.setBigUint64(40, BigInt(directorySize), true);
      view.setBigUint64(48, BigInt(directoryOffset), true);
      view.setUint32(56, 0x07064b50, true);
      view.setBigUint64(64, BigInt(endOffset), true);
      view.setUint32(72, 1, true);
      parts.push(record);
    }
    const end = new Uint8Array(22);
    const endView = new DataView(end.buffer);
    endView.setUint32(0, 0x06054b50, true);
    endView.setUint16(8, zip64 ? 0xffff : count, true);
    endView.setUint16(10, zip64 ? 0xffff : count, true);
    endView.setUint32(12, zip64 ? ZIP32_LIMIT : directorySize, true);
    endView.setUint32(16, zip64 ? ZIP32_LIMIT : directoryOffset, true);
    parts.push(end);
    for (const part of parts) await this.#write(part);
    await this.#writer.close();
  }
}
