/**
 * Stage 2 of the pipeline: float images in [0, 1] to uint8.
 *
 * The rule is numpy's `np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)`: clamp, scale, and
 * round half to even. NaN becomes 0.
 *
 * @module
 */

/**
 * Quantizes one value.
 *
 * @param value A float, nominally in [0, 1].
 * @returns An integer from 0 to 255.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizeValue } from "./quantize.ts";
 * assert.ok(quantizeValue(0.5) === 128); // 127.5 rounds half to even
 * assert.ok(quantizeValue(2) === 255 && quantizeValue(-1) === 0);
 * ```
 */
export function quantizeValue(value: number): number {
  if (!(value > 0)) return 0;
  if (value >= 1) return 255;
  const scaled = value * 255;
  const rounded = Math.round(scaled);
  // Math.round sends halves up; numpy sends them to the even neighbour.
  return rounded - scaled === 0.5 && (rounded & 1) === 1 ? rounded - 1 : rounded;
}

/**
 * Quantizes a buffer of floats into a buffer of bytes of the same length.
 *
 * @param values Floats, nominally in [0, 1] (float32 values are widened exactly first).
 * @param out Where to write; defaults to a new array.
 * @returns `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantize } from "./quantize.ts";
 * const bytes = quantize(new Float64Array([0, 0.25, 1]));
 * assert.ok(bytes[1] === 64 && bytes[2] === 255);
 * ```
 */
export function quantize(
  values: Float64Array | Float32Array,
  out: Uint8Array = new Uint8Array(values.length),
): Uint8Array {
  if (out.length < values.length) {
    throw new RangeError(
      `Cannot quantize ${values.length} values into ${out.length} bytes: the output is too short`,
    );
  }
  // Storing into a Uint8ClampedArray is exactly numpy's rule: clamp to [0, 255], round half
  // to even, NaN to 0 (ECMAScript ToUint8Clamp), compiled to a few instructions. Scaling
  // first and clamping after equals clamping to [0, 1] first, since 255 * x is monotonic.
  const clamped = new Uint8ClampedArray(out.buffer, out.byteOffset, values.length);
  for (let index = 0; index < values.length; index++) clamped[index] = values[index]! * 255;
  return out;
}
