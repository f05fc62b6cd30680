/**
 * CRC-32 (the zip checksum) at native speed, and the combination of the CRCs of consecutive
 * pieces, so that threads can checksum the pieces they produce and the writer only combines.
 *
 * `crc32(bytes, previous)` is `node:zlib`'s, about 8x faster than a JavaScript table loop.
 * {@linkcode crc32Combine} is zlib's `crc32_combine`: appending `lengthB` bytes multiplies the
 * first CRC by x^(8 lengthB) modulo the CRC polynomial, in GF(2), so
 * `crc32Combine(crc32(a), crc32(b), b.length) === crc32(a ++ b)`, exactly.
 *
 * @module
 */

import { crc32 as nativeCrc32 } from "node:zlib";

/** The reflected CRC-32 polynomial. */
const POLYNOMIAL = 0xedb88320;

/**
 * The CRC-32 of `bytes`, continuing from `previous` (the CRC of the bytes before them).
 *
 * @param bytes The bytes.
 * @param previous The CRC so far (default 0, the CRC of nothing).
 * @returns The CRC, an unsigned 32-bit integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "./crc32.ts";
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return nativeCrc32(bytes, previous) >>> 0;
}

/** a(x) b(x) modulo the polynomial, both reflected (bit 31 is x^0). */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let mask = 0x80000000; mask !== 0; mask >>>= 1) {
    if ((a & mask) !== 0) product ^= b;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** x^(2^k) modulo the polynomial, for k = 0..63. */
const X_POWERS = (() => {
  const table = new Uint32Array(64);
  let power = 0x40000000; // x^1
  for (let k = 0; k < 64; k++) {
    table[k] = power;
    power = multiplyModP(power, power);
  }
  return table;
})();

/**
 * The CRC-32 of two consecutive pieces from the CRC of each (zlib's `crc32_combine`).
 *
 * @param crcA The CRC of the first piece.
 * @param crcB The CRC of the second piece.
 * @param lengthB The second piece's length in bytes (any safe integer).
 * @returns The CRC of the first piece followed by the second.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32, crc32Combine } from "./crc32.ts";
 * const text = new TextEncoder().encode("123456789");
 * const a = text.subarray(0, 4), b = text.subarray(4);
 * assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(text));
 * ```
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  // x^(8 lengthB) = product of x^(2^k) over the set bits of 8 lengthB.
  let factor = 0x80000000; // x^0
  let bits = lengthB;
  for (let k = 3; bits > 0; k++, bits = Math.floor(bits / 2)) {
    if (bits % 2 === 1) factor = multiplyModP(X_POWERS[k]!, factor);
  }
  return (multiplyModP(factor, crcA >>> 0) ^ crcB) >>> 0;
}
