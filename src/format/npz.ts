/**
 * Writing NPZ archives: a zip file of `.npy` entries, as `numpy.savez` writes them.
 *
 * Entries are stored uncompressed (zip method 0) and streamed: each array's bytes come from an
 * iterable of chunks and go to the output as they arrive, so memory does not grow with the
 * array. Entries larger than 4 GiB, or archives past 4 GiB, use Zip64, which numpy's zipfile
 * reads. Timestamps are fixed (1980-01-01) so that the same arrays give the same file bytes.
 *
 * @module
 */

import { configure, ZipWriter } from "@zip.js/zip.js";
import { encodeNpyHeader, npyDataLength, type NpyHeader } from "./npy.ts";

// Without this, zip-js starts web workers that keep the process alive for seconds after the
// last write; stored entries need no compression worker anyway.
configure({ useWebWorkers: false });

const FIXED_DATE = new Date(1980, 0, 1);
const ZIP32_LIMIT = 0xffffffff;

/** Options of {@linkcode NpzWriter}. */
export interface NpzWriterOptions {
  /** The total bytes of all arrays, to choose Zip64 up front when the archive passes 4 GiB. */
  expectedBytes?: number;
}

/** Streams arrays into an NPZ archive, one entry after the other. */
export class NpzWriter {
  #zip: ZipWriter<unknown>;
  #zip64: boolean;
  #names = new Set<string>();

  /**
   * Starts an archive on a byte stream.
   *
   * @param writable Where the archive's bytes go; closed by {@linkcode NpzWriter.close}.
   * @param options The expected size, to pick Zip64.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NpzWriter } from "./npz.ts";
   * const chunks: Uint8Array[] = [];
   * const npz = new NpzWriter(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
   * await npz.addArray("x", { descr: "|u1", fortranOrder: false, shape: [2] }, [new Uint8Array([1, 2])]);
   * await npz.close();
   * assert.ok(chunks.length > 0);
   * ```
   */
  constructor(writable: WritableStream<Uint8Array>, options: NpzWriterOptions = {}) {
    this.#zip64 = (options.expectedBytes ?? 0) >= ZIP32_LIMIT - 65536;
    this.#zip = new ZipWriter(writable, {
      level: 0,
      zip64: this.#zip64,
      lastModDate: FIXED_DATE,
      extendedTimestamp: false,
      useWebWorkers: false,
    });
  }

  /**
   * Adds `name.npy`: the header for `header`, then the chunks, whose lengths must add up to the
   * array's data length.
   *
   * @param name The array's key in numpy's `NpzFile`, without `.npy`.
   * @param header The array's dtype and shape.
   * @param chunks The array's data in C order, in pieces of any size.
   * @example
   * ```ts
   * import { NpzWriter } from "./npz.ts";
   * const npz = new NpzWriter(new WritableStream());
   * await npz.addArray("labels", { descr: "|u1", fortranOrder: false, shape: [3] }, [new Uint8Array(3)]);
   * await npz.close();
   * ```
   */
  async addArray(
    name: string,
    header: NpyHeader,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<void> {
    if (!/^[A-Za-z0-9_]+$/.test(name) || this.#names.has(name)) {
      throw new TypeError(`Cannot add array "${name}": expected a new name of letters, digits, _`);
    }
    this.#names.add(name);
    const headerBytes = encodeNpyHeader(header);
    const dataLength = npyDataLength(header);
    const source = entryBytes(headerBytes, dataLength, chunks);
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await source.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await source.return?.(undefined);
      },
    });
    const size = headerBytes.length + dataLength;
    await this.#zip.add(`${name}.npy`, stream, {
      uncompressedSize: size,
      zip64: this.#zip64 || size >= ZIP32_LIMIT,
    });
  }

  /**
   * Writes the central directory and closes the output.
   *
   * @example
   * ```ts
   * import { NpzWriter } from "./npz.ts";
   * const npz = new NpzWriter(new WritableStream());
   * await npz.close();
   * ```
   */
  async close(): Promise<void> {
    await this.#zip.close();
  }
}

async function* entryBytes(
  header: Uint8Array,
  dataLength: number,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield header;
  let written = 0;
  for await (const chunk of chunks) {
    written += chunk.length;
    if (written > dataLength) break;
    if (chunk.length > 0) yield chunk;
  }
  if (written !== dataLength) {
    throw new RangeError(
      `Cannot write an array of ${dataLength} bytes from ${
        written > dataLength ? "more" : written
      } bytes of data`,
    );
  }
}
