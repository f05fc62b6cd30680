/**
 * Reading NPZ archives with random access: the arrays of a `.npz` without loading them.
 *
 * An NPZ file is a zip archive of `.npy` entries. dsgen reads the subset of zip that
 * `numpy.savez` and dsgen's own writer produce: stored (uncompressed) entries, one disk, with or
 * without Zip64. The reader starts at the end of the file, as zip readers must:
 *
 * | structure                        | bytes | fields dsgen reads (little-endian)                |
 * | -------------------------------- | ----- | ------------------------------------------------- |
 * | end of central directory (EOCD)  | 22+c  | `PK\x05\x06`; +10 entry count (u16); +12 size of  |
 * |                                  |       | the central directory (u32); +16 its offset (u32);|
 * |                                  |       | +20 comment length c (u16). A field of all 1 bits |
 * |                                  |       | (0xffff, 0xffffffff) means "see Zip64"             |
 * | Zip64 EOCD locator               | 20    | `PK\x06\x07`, just before the EOCD; +8 offset of  |
 * |                                  |       | the Zip64 EOCD record (u64)                        |
 * | Zip64 EOCD record                | 56+   | `PK\x06\x06`; +32 entry count (u64); +40 size of  |
 * |                                  |       | the central directory (u64); +48 its offset (u64) |
 * | central directory file header    | 46+   | `PK\x01\x02`; +8 flags (u16; bit 0 encrypted);    |
 * | (one per entry)                  | n+e+k | +10 method (u16; 0 stored); +16 CRC-32 (u32); +20 |
 * |                                  |       | compressed size (u32); +24 size (u32); +28 name   |
 * |                                  |       | length n; +30 extra length e; +32 comment length  |
 * |                                  |       | k; +42 offset of the local header (u32); +46 name |
 * | Zip64 extra field (in the extra) | 4+    | id 0x0001, then u64 size, u64 compressed size and |
 * |                                  |       | u64 local header offset, each present only when   |
 * |                                  |       | its 32-bit field is 0xffffffff, in that order      |
 * | local file header (per entry)    | 30+   | `PK\x03\x04`; +26 name length (u16); +28 extra    |
 * |                                  | n+e   | length (u16); the entry's bytes follow the extra  |
 *
 * The sizes and CRC in the local header may be zero (flag bit 3, data descriptor after the data,
 * as dsgen's writer writes them), so the central directory is the only source of truth. An
 * entry's bytes are a whole `.npy` file (see `npy.ts`): its header is parsed when the archive is opened, so the
 * array data of every entry has a known offset and length in the file and can be read at any
 * position, or streamed in chunks, with `Deno.FsFile` seek and read.
 *
 * Every problem is one line naming the file: not a zip (wrong magic), truncated, compressed or
 * encrypted entries, a bad NPY header, an entry whose size disagrees with its header, a CRC-32
 * mismatch (checked whenever a whole entry is read).
 *
 * @module
 */

import { crc32 } from "node:zlib";
import { decodeNpyHeader, npyDataLength, type NpyHeader } from "./npy.ts";

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
const NPY_PREFIX = 10;
/** The default size of the chunks {@linkcode NpzReader.stream} yields. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** One `.npy` entry of an archive, where its parts lie in the file. */
export interface NpzEntry {
  /** The array's name: the entry's file name without `.npy`, e.g. `images`. */
  name: string;
  /** The entry's file name in the archive, e.g. `images.npy`. */
  fileName: string;
  /** CRC-32 of the entry's bytes (NPY header and data), from the central directory. */
  crc32: number;
  /** Bytes of the entry: the whole `.npy`, header and data. */
  size: number;
  /** Whether the central directory gave this entry Zip64 fields. */
  zip64: boolean;
  /** Offset in the file of the entry's local header. */
  localHeaderOffset: number;
  /** Offset in the file of the entry's first byte (the NPY magic). */
  entryOffset: number;
  /** The array's NPY header. */
  header: NpyHeader;
  /** Offset in the file of the array's first data byte. */
  dataOffset: number;
  /** Bytes of array data: the product of the shape times the item size. */
  dataBytes: number;
}

/** Options of {@linkcode NpzReader.stream}. */
export interface StreamOptions {
  /** Bytes per chunk (default 4 MiB); a multiple of the item size keeps items whole. */
  chunkBytes?: number;
  /** The first data byte to read (default 0). */
  offset?: number;
  /** How many data bytes to read (default: to the end of the array). */
  length?: number;
  /**
   * Check the entry's CRC-32 after the last chunk (default: when the whole array is streamed;
   * a partial range cannot be checked and `true` then throws a `RangeError`).
   */
  verifyCrc?: boolean;
}

function fail(path: string, problem: string): never {
  throw new TypeError(`Cannot read ${path}: ${problem}`);
}

function uint64(view: DataView, offset: number, path: string, field: string): number {
  const value = view.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(path, `${field} ${value} is out of range`);
  return Number(value);
}

/** A position in the file and the bytes wanted there. */
interface Span {
  position: number;
  length: number;
}

/** An open NPZ archive: its entries, their NPY headers, and reads of their array data. */
export class NpzReader {
  /** The archive's path, as given. */
  readonly path: string;
  /** The archive's size in bytes. */
  readonly fileSize: number;
  #file: Deno.FsFile;
  #entries: NpzEntry[] = [];
  #byName = new Map<string, NpzEntry>();
  /** Reads share one file position, so they run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(path: string, file: Deno.FsFile, fileSize: number) {
    this.path = path;
    this.#file = file;
    this.fileSize = fileSize;
  }

  /**
   * Opens an archive, reads its central directory and every entry's NPY header.
   *
   * @param path The `.npz` file.
   * @returns The open reader; close it with {@linkcode NpzReader.close}.
   * @throws {TypeError} If the file is no zip, is truncated, or holds an entry dsgen cannot
   * read (compressed, encrypted, not `.npy`, bad NPY header, size disagreeing with the header).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const file = await Deno.open(path, { write: true, create: true });
   * const npz = new NpzWriter(file.writable);
   * await npz.addArray("labels", { descr: "|u1", fortranOrder: false, shape: [3] }, [
   *   new Uint8Array([7, 8, 9]),
   * ]);
   * await npz.close();
   *
   * const reader = await NpzReader.open(path);
   * try {
   *   assert.deepEqual(reader.entry("labels").header.shape, [3]);
   *   assert.deepEqual([...await reader.read("labels", { offset: 1, length: 2 })], [8, 9]);
   * } finally {
   *   reader.close();
   * }
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static async open(path: string): Promise<NpzReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = await file.stat();
      if (!info.isFile) fail(path, "it is no file");
      const reader = new NpzReader(path, file, info.size);
      await reader.#readDirectory();
      return reader;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** The `.npy` entries, in archive order. */
  get entries(): readonly NpzEntry[] {
    return this.#entries;
  }

  /**
   * Looks an entry up by array name.
   *
   * @param name The array's name, without `.npy`.
   * @returns The entry.
   * @throws {TypeError} If the archive has no such array; the message lists the ones it has.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("images", { descr: "|u1", fortranOrder: false, shape: [2, 4, 4] }, [new Uint8Array(32)]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * assert.deepEqual(reader.entry("images").header.shape, [2, 4, 4]);
   * assert.throws(() => reader.entry("labels"), /holds no array "labels" \(arrays: images\)/);
   * reader.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  entry(name: string): NpzEntry {
    const entry = this.#byName.get(name);
    if (entry === undefined) {
      const names = this.#entries.map((known) => known.name).join(", ") || "none";
      fail(this.path, `it holds no array "${name}" (arrays: ${names})`);
    }
    return entry;
  }

  /**
   * Reads a byte range of an array's data.
   *
   * @param name The array's name.
   * @param range The first data byte and the number of bytes; both within the array's data.
   * @returns A new buffer of `range.length` bytes.
   * @throws {RangeError} If the range is outside the array's data.
   * @throws {TypeError} If the file ends early (it was truncated after opening).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("images", { descr: "|u1", fortranOrder: false, shape: [3, 2, 2] }, [new Uint8Array([0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0])]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * // Image 1 of 2x2 pixels.
   * assert.deepEqual([...await reader.read("images", { offset: 4, length: 4 })], [1, 2, 3, 4]);
   * reader.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async read(name: string, range: { offset: number; length: number }): Promise<Uint8Array> {
    const entry = this.entry(name);
    checkRange(entry, range.offset, range.length);
    return await this.#readAt({ position: entry.dataOffset + range.offset, length: range.length });
  }

  /**
   * Reads an array's whole data and checks the entry's CRC-32; for small arrays.
   *
   * @param name The array's name.
   * @returns The array's data bytes.
   * @throws {TypeError} On a CRC-32 mismatch or a truncated file.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("labels", { descr: "|u1", fortranOrder: false, shape: [3] }, [new Uint8Array([2, 0, 1])]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * assert.deepEqual([...await reader.readAll("labels")], [2, 0, 1]);
   * reader.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async readAll(name: string): Promise<Uint8Array> {
    const entry = this.entry(name);
    const bytes = await this.#readAt({ position: entry.entryOffset, length: entry.size });
    this.#checkCrc(entry, crc32(bytes));
    return bytes.subarray(entry.dataOffset - entry.entryOffset);
  }

  /**
   * Streams an array's data (or a range of it) in chunks, checking the CRC-32 when the whole
   * array is read.
   *
   * @param name The array's name.
   * @param options Chunk size, range and whether to check the CRC-32.
   * @returns The chunks in order; each is a new buffer the caller may keep.
   * @throws {TypeError} On a CRC-32 mismatch (after the last chunk) or a truncated file.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("images", { descr: "|u1", fortranOrder: false, shape: [10, 4, 4] }, [new Uint8Array(160)]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * const sizes: number[] = [];
   * for await (const chunk of reader.stream("images", { chunkBytes: 64 })) sizes.push(chunk.length);
   * assert.deepEqual(sizes, [64, 64, 32]);
   * reader.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async *stream(name: string, options: StreamOptions = {}): AsyncGenerator<Uint8Array> {
    const entry = this.entry(name);
    const offset = options.offset ?? 0;
    const length = options.length ?? entry.dataBytes - offset;
    checkRange(entry, offset, length);
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
      throw new RangeError(`Cannot stream chunks of ${chunkBytes} bytes: expected at least 1`);
    }
    const whole = offset === 0 && length === entry.dataBytes;
    const verify = options.verifyCrc ?? whole;
    if (verify && !whole) {
      throw new RangeError(
        `Cannot check the CRC-32 of ${entry.fileName} from a part of it: stream the whole array`,
      );
    }
    let crc = 0;
    if (verify) {
      const headerBytes = await this.#readAt({
        position: entry.entryOffset,
        length: entry.dataOffset - entry.entryOffset,
      });
      crc = crc32(headerBytes);
    }
    for (let done = 0; done < length;) {
      const size = Math.min(chunkBytes, length - done);
      const chunk = await this.#readAt({
        position: entry.dataOffset + offset + done,
        length: size,
      });
      if (verify) crc = crc32(chunk, crc);
      done += size;
      yield chunk;
    }
    if (verify) this.#checkCrc(entry, crc);
  }

  /**
   * Reads a whole entry, header included, and compares its CRC-32 with the central directory's.
   *
   * @param name The array's name.
   * @throws {TypeError} On a mismatch: the entry's bytes were changed after it was written.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("labels", { descr: "|u1", fortranOrder: false, shape: [3] }, [new Uint8Array([2, 0, 1])]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * for (const entry of reader.entries) await reader.verifyCrc(entry.name);
   * reader.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async verifyCrc(name: string): Promise<void> {
    for await (const _ of this.stream(name, { verifyCrc: true })) {
      // The CRC is checked after the last chunk.
    }
  }

  /**
   * Closes the file; the reader cannot read afterwards. Closing twice is harmless.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * import { NpzReader } from "./npz_reader.ts";
   *
   * const dir = await Deno.makeTempDir();
   * const path = `${dir}/demo.npz`;
   * const npz = new NpzWriter((await Deno.open(path, { write: true, create: true })).writable);
   * await npz.addArray("labels", { descr: "|u1", fortranOrder: false, shape: [1] }, [new Uint8Array(1)]);
   * await npz.close();
   * const reader = await NpzReader.open(path);
   * reader.close();
   * reader.close(); // harmless
   * await assert.rejects(reader.readAll("labels"), /the reader is closed/);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  #checkCrc(entry: NpzEntry, actual: number): void {
    if (actual >>> 0 !== entry.crc32 >>> 0) {
      fail(
        this.path,
        `the CRC-32 of ${entry.fileName} is ${hex(actual)} but the archive records ${
          hex(entry.crc32)
        }: the file is corrupted`,
      );
    }
  }

  /** Reads exactly `span.length` bytes at `span.position`, after any read already queued. */
  #readAt(span: Span): Promise<Uint8Array> {
    const result = this.#queue.then(() => this.#readNow(span));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  // Synchronous seek and read: an archive is read from the page cache or a local disk, where
  // an asynchronous read's round trip through the runtime's thread pool cost more than the read
  // (inspect of the 737,280-image dsprites grid re-reads 430,000 duplicate candidates: 3.2 s in
  // async seeks alone, and as much in async reads; see bench/results/2026-12-04-plan-notes.md).
  // deno-lint-ignore require-await
  async #readNow(span: Span): Promise<Uint8Array> {
    if (this.#closed) throw new TypeError(`Cannot read ${this.path}: the reader is closed`);
    const buffer = new Uint8Array(span.length);
    this.#file.seekSync(span.position, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < span.length) {
      const read = this.#file.readSync(buffer.subarray(filled));
      if (read === null) {
        fail(
          this.path,
          `the file ends at byte ${span.position + filled}, before byte ${
            span.position + span.length
          }: it is truncated`,
        );
      }
      filled += read;
    }
    return buffer;
  }

  async #readDirectory(): Promise<void> {
    const path = this.path;
    if (this.fileSize < 4) fail(path, `it is ${this.fileSize} bytes long: no zip archive`);
    const magic = new DataView((await this.#readNow({ position: 0, length: 4 })).buffer);
    const first = magic.getUint32(0, true);
    if (first !== LOCAL_HEADER_SIGNATURE && first !== EOCD_SIGNATURE) {
      fail(path, "it is no zip archive (wrong magic bytes)");
    }
    const { count, directoryOffset, directorySize, directoryEnd } = await this.#readEnd();
    if (directoryOffset + directorySize > directoryEnd) {
      fail(path, "the central directory overlaps its end record: the file is corrupted");
    }
    const directory = await this.#readNow({ position: directoryOffset, length: directorySize });
    const view = new DataView(directory.buffer);
    const decoder = new TextDecoder("utf-8", { fatal: false });
    let cursor = 0;
    for (let index = 0; index < count; index++) {
      if (cursor + CENTRAL_HEADER_SIZE > directorySize) {
        fail(path, `the central directory ends before entry ${index + 1} of ${count}`);
      }
      if (view.getUint32(cursor, true) !== CENTRAL_HEADER_SIGNATURE) {
        fail(path, `entry ${index + 1} of the central directory has a wrong signature`);
      }
      const flags = view.getUint16(cursor + 8, true);
      const method = view.getUint16(cursor + 10, true);
      const crc = view.getUint32(cursor + 16, true);
      let compressedSize = view.getUint32(cursor + 20, true);
      let size = view.getUint32(cursor + 24, true);
      const nameLength = view.getUint16(cursor + 28, true);
      const extraLength = view.getUint16(cursor + 30, true);
      const commentLength = view.getUint16(cursor + 32, true);
      let localHeaderOffset = view.getUint32(cursor + 42, true);
      const recordEnd = cursor + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
      if (recordEnd > directorySize) {
        fail(path, `entry ${index + 1} runs past the end of the central directory`);
      }
      const fileName = decoder.decode(
        directory.subarray(cursor + CENTRAL_HEADER_SIZE, cursor + CENTRAL_HEADER_SIZE + nameLength),
      );
      const zip64 = size === 0xffffffff || compressedSize === 0xffffffff ||
        localHeaderOffset === 0xffffffff;
      if (zip64) {
        const extraStart = cursor + CENTRAL_HEADER_SIZE + nameLength;
        const values = zip64Values(view, extraStart, extraLength, path, fileName);
        const next = (what: string) => {
          const offset = values.shift();
          if (offset === undefined) fail(path, `${fileName} lacks the Zip64 ${what}`);
          return uint64(view, offset, path, what);
        };
        if (size === 0xffffffff) size = next("size");
        if (compressedSize === 0xffffffff) compressedSize = next("compressed size");
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next("local header offset");
      }
      cursor = recordEnd;
      if ((flags & 1) !== 0) fail(path, `${fileName} is encrypted`);
      if (method !== 0) {
        fail(
          path,
          `${fileName} is compressed (zip method ${method}${
            method === 8 ? ", deflate" : ""
          }); dsgen reads stored entries only, as numpy.savez writes them`,
        );
      }
      if (compressedSize !== size) {
        fail(path, `${fileName} is stored but its sizes differ (${compressedSize}, ${size})`);
      }
      if (!fileName.endsWith(".npy")) fail(path, `entry "${fileName}" is no .npy array`);
      const name = fileName.slice(0, -".npy".length);
      if (this.#byName.has(name)) fail(path, `it holds ${fileName} twice`);
      const entry = await this.#readEntry({ fileName, name, crc, size, localHeaderOffset, zip64 });
      if (entry.entryOffset + entry.size > directoryOffset) {
        fail(
          path,
          `${fileName} runs past the central directory (ends at byte ${
            entry.entryOffset + entry.size
          }, directory at ${directoryOffset}): the file is corrupted`,
        );
      }
      this.#entries.push(entry);
      this.#byName.set(name, entry);
    }
  }

  /** Finds the end record (and its Zip64 record) and returns where the directory lies. */
  async #readEnd(): Promise<
    { count: number; directoryOffset: number; directorySize: number; directoryEnd: number }
  > {
    const path = this.path;
    const tailLength = Math.min(this.fileSize, EOCD_SIZE + MAX_COMMENT);
    const tailStart = this.fileSize - tailLength;
    const tail = await this.#readNow({ position: tailStart, length: tailLength });
    const view = new DataView(tail.buffer);
    let eocd = -1;
    for (let offset = tailLength - EOCD_SIZE; offset >= 0; offset--) {
      if (
        view.getUint32(offset, true) === EOCD_SIGNATURE &&
        offset + EOCD_SIZE + view.getUint16(offset + 20, true) === tailLength
      ) {
        eocd = offset;
        break;
      }
    }
    if (eocd < 0) {
      fail(path, "its zip end record is missing: the file is truncated or no zip archive");
    }
    const disk = view.getUint16(eocd + 4, true);
    const directoryDisk = view.getUint16(eocd + 6, true);
    let count = view.getUint16(eocd + 10, true);
    let directorySize = view.getUint32(eocd + 12, true);
    let directoryOffset = view.getUint32(eocd + 16, true);
    let directoryEnd = tailStart + eocd;
    const needsZip64 = count === 0xffff || directorySize === 0xffffffff ||
      directoryOffset === 0xffffffff || disk === 0xffff || directoryDisk === 0xffff;
    const locator = eocd - ZIP64_LOCATOR_SIZE;
    const hasLocator = locator >= 0 && view.getUint32(locator, true) === ZIP64_LOCATOR_SIGNATURE;
    if (needsZip64 && !hasLocator) fail(path, "its Zip64 end record is missing");
    if (hasLocator) {
      const recordOffset = uint64(view, locator + 8, path, "Zip64 end record offset");
      if (recordOffset + ZIP64_EOCD_SIZE > tailStart + locator) {
        fail(path, "its Zip64 end record lies outside the file");
      }
      const record = new DataView(
        (await this.#readNow({ position: recordOffset, length: ZIP64_EOCD_SIZE })).buffer,
      );
      if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) {
        fail(path, "its Zip64 end record has a wrong signature: the file is corrupted");
      }
      count = uint64(record, 32, path, "entry count");
      directorySize = uint64(record, 40, path, "central directory size");
      directoryOffset = uint64(record, 48, path, "central directory offset");
      directoryEnd = recordOffset;
    } else if (disk !== 0 || directoryDisk !== 0) {
      fail(path, "it is a multi-disk archive");
    }
    return { count, directoryOffset, directorySize, directoryEnd };
  }

  /** Reads an entry's local header and NPY header. */
  async #readEntry(
    found: Pick<NpzEntry, "fileName" | "name" | "size" | "localHeaderOffset" | "zip64"> & {
      crc: number;
    },
  ): Promise<NpzEntry> {
    const { fileName, size, localHeaderOffset } = found;
    const path = this.path;
    if (localHeaderOffset + LOCAL_HEADER_SIZE > this.fileSize) {
      fail(path, `the local header of ${fileName} lies outside the file`);
    }
    const local = new DataView(
      (await this.#readNow({ position: localHeaderOffset, length: LOCAL_HEADER_SIZE })).buffer,
    );
    if (local.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) {
      fail(path, `the local header of ${fileName} has a wrong signature: the file is corrupted`);
    }
    const entryOffset = localHeaderOffset + LOCAL_HEADER_SIZE + local.getUint16(26, true) +
      local.getUint16(28, true);
    if (size < NPY_PREFIX) fail(path, `${fileName} is ${size} bytes: too short for NPY`);
    const prefix = await this.#readNow({ position: entryOffset, length: NPY_PREFIX });
    const headerLength = (prefix[8] ?? 0) | ((prefix[9] ?? 0) << 8);
    const headerBytes = NPY_PREFIX + Math.min(headerLength, size - NPY_PREFIX);
    const npy = await this.#readNow({ position: entryOffset, length: headerBytes });
    let decoded;
    try {
      decoded = decodeNpyHeader(npy);
    } catch (error) {
      const reason = (error as Error).message;
      fail(
        path,
        `${fileName} has a bad NPY header (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`,
      );
    }
    const { header, dataOffset } = decoded;
    if (header.fortranOrder) fail(path, `${fileName} is in Fortran order: expected C order`);
    const dataBytes = npyDataLength(header);
    if (dataOffset + dataBytes !== size) {
      fail(
        path,
        `${fileName} holds ${size - dataOffset} data bytes but its header (${header.descr}, ` +
          `shape ${shapeText(header.shape)}) needs ${dataBytes}`,
      );
    }
    return {
      name: found.name,
      fileName,
      crc32: found.crc,
      size,
      zip64: found.zip64,
      localHeaderOffset,
      entryOffset,
      header,
      dataOffset: entryOffset + dataOffset,
      dataBytes,
    };
  }
}

/** The offsets of the 8-byte values of the Zip64 extra field (id 1) of a directory record. */
function zip64Values(
  view: DataView,
  start: number,
  length: number,
  path: string,
  fileName: string,
): number[] {
  for (let offset = start; offset + 4 <= start + length;) {
    const id = view.getUint16(offset, true);
    const size = view.getUint16(offset + 2, true);
    if (offset + 4 + size > start + length) break;
    if (id === 1) {
      return Array.from({ length: Math.floor(size / 8) }, (_, index) => offset + 4 + 8 * index);
    }
    offset += 4 + size;
  }
  fail(path, `${fileName} has 32-bit fields set to 0xffffffff but no Zip64 extra field`);
}

function checkRange(entry: NpzEntry, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
    offset + length > entry.dataBytes
  ) {
    throw new RangeError(
      `Cannot read bytes ${offset} to ${offset + length} of ${entry.fileName}: ` +
        `expected a range within its ${entry.dataBytes} data bytes`,
    );
  }
}

function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
