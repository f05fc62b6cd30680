/**
 * The NPY format, version 1.0, as numpy's `lib/format.py` defines it.
 *
 * An `.npy` file is a header followed by the raw array bytes:
 *
 * | bytes          | content                                                      |
 * | -------------- | ------------------------------------------------------------ |
 * | 0-5            | magic string `\x93NUMPY`                                      |
 * | 6              | major version, `\x01`                                         |
 * | 7              | minor version, `\x00`                                         |
 * | 8-9            | header length H, unsigned little-endian 16-bit integer        |
 * | 10 .. 10+H-1   | ASCII Python dict literal: `{'descr': '|u1', 'fortran_order': |
 * |                | False, 'shape': (1000, 16, 16), }`, padded with spaces and     |
 * |                | ended by `\n` so that 10 + H is a multiple of 64               |
 * | 10+H ..        | the array in C (row-major) order, `prod(shape) * itemsize`     |
 *
 * Only the dtypes dsgen writes are supported: `|u1`, `<f4`, `<f8`, `<i8` and
 * fixed-width unicode `<U{n}` (UTF-32LE code units, zero-padded).
 *
 * @module
 */

/** The six magic bytes every NPY file starts with. */
export const NPY_MAGIC: Uint8Array = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Alignment of the data start, as numpy uses since 1.x (`ARRAY_ALIGN`). */
export const NPY_ALIGN = 64;

/** A dtype descriptor dsgen reads and writes. */
export type NpyDtype =
  | "|u1"
  | "|i1"
  | "<u2"
  | "<i2"
  | "<u4"
  | "<i4"
  | "<f4"
  | "<f8"
  | "<i8"
  | `<U${number}`;

/** What an NPY header says about the array that follows it. */
export interface NpyHeader {
  /** The dtype descriptor, e.g. `|u1`. */
  descr: NpyDtype;
  /** Always false for dsgen: arrays are C-ordered. */
  fortranOrder: boolean;
  /** The array's shape; `[]` is a scalar. */
  shape: number[];
}

/**
 * The size in bytes of one element of `descr`.
 *
 * @param descr A dtype descriptor.
 * @returns The item size in bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { itemSize } from "./npy.ts";
 * assert.ok(itemSize("<f8") === 8);
 * assert.ok(itemSize("<U7") === 28);
 * ```
 */
export function itemSize(descr: NpyDtype): number {
  switch (descr) {
    case "|u1":
    case "|i1":
      return 1;
    case "<u2":
    case "<i2":
      return 2;
    case "<u4":
    case "<i4":
    case "<f4":
      return 4;
    case "<f8":
    case "<i8":
      return 8;
  }
  const match = /^<U(\d+)$/.exec(descr);
  if (match === null) throw new TypeError(`Cannot use dtype "${descr}": not supported`);
  return 4 * Number(match[1]);
}

function shapeLiteral(shape: readonly number[]): string {
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`Cannot write shape dimension ${dim}: expected a whole number >= 0`);
    }
  }
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/**
 * Encodes an NPY version 1.0 header, padded so the data starts on a 64-byte boundary.
 *
 * @param header The dtype, order and shape to describe.
 * @returns The header bytes, magic included.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNpyHeader } from "./npy.ts";
 * const bytes = encodeNpyHeader({ descr: "|u1", fortranOrder: false, shape: [2, 3] });
 * assert.equal(bytes.length, 128); // 10 bytes of preamble + the dict, padded to 64
 * ```
 */
export function encodeNpyHeader(header: NpyHeader): Uint8Array {
  itemSize(header.descr);
  const dict = `{'descr': '${header.descr}', 'fortran_order': ${
    header.fortranOrder ? "True" : "False"
  }, 'shape': ${shapeLiteral(header.shape)}, }`;
  const unpadded = NPY_MAGIC.length + 2 + 2 + dict.length + 1;
  const total = Math.ceil(unpadded / NPY_ALIGN) * NPY_ALIGN;
  const headerLength = total - 10;
  if (headerLength > 0xffff) {
    throw new RangeError(`Cannot write an NPY 1.0 header of ${headerLength} bytes: limit is 65535`);
  }
  const text = dict + " ".repeat(total - unpadded) + "\n";
  const bytes = new Uint8Array(total);
  bytes.set(NPY_MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  bytes[8] = headerLength & 0xff;
  bytes[9] = headerLength >> 8;
  for (let index = 0; index < text.length; index++) bytes[10 + index] = text.charCodeAt(index);
  return bytes;
}

/**
 * The number of data bytes an array with this header holds.
 *
 * @param header The array's header.
 * @returns `prod(shape) * itemsize`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npyDataLength } from "./npy.ts";
 * assert.ok(npyDataLength({ descr: "<f4", fortranOrder: false, shape: [10, 4] }) === 160);
 * ```
 */
export function npyDataLength(header: NpyHeader): number {
  return header.shape.reduce((product, dim) => product * dim, 1) * itemSize(header.descr);
}

/**
 * Parses the header at the start of an NPY file.
 *
 * @param bytes At least the first `10 + H` bytes of the file.
 * @returns The header and the offset where the data starts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeNpyHeader, encodeNpyHeader } from "./npy.ts";
 * const bytes = encodeNpyHeader({ descr: "|u1", fortranOrder: false, shape: [5] });
 * assert.ok(decodeNpyHeader(bytes).header.shape[0] === 5);
 * ```
 */
export function decodeNpyHeader(bytes: Uint8Array): { header: NpyHeader; dataOffset: number } {
  if (bytes.length < 10 || NPY_MAGIC.some((byte, index) => bytes[index] !== byte)) {
    throw new TypeError("Cannot read NPY data: wrong magic bytes");
  }
  if (bytes[6] !== 1 || bytes[7] !== 0) {
    throw new TypeError(`Cannot read NPY version ${bytes[6]}.${bytes[7]}: expected 1.0`);
  }
  const headerLength = (bytes[8] ?? 0) | ((bytes[9] ?? 0) << 8);
  if (bytes.length < 10 + headerLength) {
    throw new TypeError("Cannot read NPY header: it is truncated");
  }
  const text = new TextDecoder("latin1").decode(bytes.subarray(10, 10 + headerLength));
  const match =
    /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \(([\d, ]*)\), \} *\n$/
      .exec(text);
  if (match === null) throw new TypeError(`Cannot parse NPY header ${JSON.stringify(text)}`);
  const descr = match[1] as NpyDtype;
  itemSize(descr);
  // A Python tuple of whole numbers: "()", "(3,)", "(3, 4)"; not "(3)", "(,)", "(1,,2)", "(3 4)".
  const inner = (match[3] ?? "").trim();
  const parts = inner === ""
    ? []
    : inner.replace(/,\s*$/, "").split(",").map((part) => part.trim());
  const shape = parts.map(Number);
  if (
    parts.some((part) => !/^\d+$/.test(part)) || (parts.length === 1 && !inner.endsWith(",")) ||
    !shape.every(Number.isSafeInteger)
  ) {
    throw new TypeError(
      `Cannot parse NPY shape "(${match[3]})": expected a tuple of whole numbers`,
    );
  }
  return {
    header: { descr, fortranOrder: match[2] === "True", shape },
    dataOffset: 10 + headerLength,
  };
}

/**
 * Encodes strings as a fixed-width unicode array (`<U{n}`), the form numpy loads without pickle.
 *
 * @param values The strings; n is the longest one's length in code points (at least 1).
 * @returns The dtype and the data bytes (UTF-32LE, zero-padded).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeUnicodeArray } from "./npy.ts";
 * const { descr, data } = encodeUnicodeArray(["ab", "c"]);
 * assert.ok(descr === "<U2" && data.length === 16);
 * ```
 */
export function encodeUnicodeArray(
  values: readonly string[],
): { descr: NpyDtype; data: Uint8Array } {
  const codePoints = values.map((value) => Array.from(value, (char) => char.codePointAt(0) ?? 0));
  const width = Math.max(1, ...codePoints.map((points) => points.length));
  const data = new Uint8Array(values.length * width * 4);
  const view = new DataView(data.buffer);
  codePoints.forEach((points, row) => {
    points.forEach((point, column) => view.setUint32((row * width + column) * 4, point, true));
  });
  return { descr: `<U${width}`, data };
}

/**
 * Decodes a fixed-width unicode array's data back to strings.
 *
 * @param data UTF-32LE code units, `count * width * 4` bytes.
 * @param width The `n` of `<U{n}`.
 * @returns The strings, trailing zero code points removed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeUnicodeArray, encodeUnicodeArray } from "./npy.ts";
 * const { data } = encodeUnicodeArray(["ab", "c"]);
 * assert.ok(decodeUnicodeArray(data, 2)[1] === "c");
 * ```
 */
export function decodeUnicodeArray(data: Uint8Array, width: number): string[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = data.byteLength / (width * 4);
  const values: string[] = [];
  for (let row = 0; row < count; row++) {
    // Like numpy, strip the zero padding at the end only: a NUL inside a string is kept.
    let end = width;
    while (end > 0 && view.getUint32((row * width + end - 1) * 4, true) === 0) end--;
    let text = "";
    for (let column = 0; column < end; column++) {
      text += String.fromCodePoint(view.getUint32((row * width + column) * 4, true));
    }
    values.push(text);
  }
  return values;
}
