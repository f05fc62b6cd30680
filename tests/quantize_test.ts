import assert from "node:assert/strict";
import { join } from "node:path";
import { quantize, quantizeValue } from "../src/pipeline/quantize.ts";
import { runPython } from "./support/python.ts";

/** The next float64 after `value` towards `direction` (+1 or -1), for values > 0. */
function nextFloat(value: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

/** Round-half-to-even of the exact rational `numerator / denominator` (both >= 0 integers). */
function roundHalfEven(numerator: number, denominator: number): number {
  const quotient = Math.floor(numerator / denominator);
  const twiceRemainder = 2 * (numerator - quotient * denominator);
  if (twiceRemainder > denominator) return quotient + 1;
  if (twiceRemainder < denominator) return quotient;
  return quotient % 2 === 0 ? quotient : quotient + 1;
}

/** The floats x near (k + 0.5) / 255 whose product x * 255 is exactly k + 0.5 in float64. */
function exactHalves(): { value: number; k: number }[] {
  const found: { value: number; k: number }[] = [];
  for (let k = 0; k < 255; k++) {
    let value = (k + 0.5) / 255;
    for (let step = 0; step < 4; step++) value = nextFloat(value, -1);
    for (let step = 0; step < 9; step++, value = nextFloat(value, 1)) {
      if (value * 255 === k + 0.5) found.push({ value, k });
    }
  }
  return found;
}

/** A deterministic spread of values over [-0.25, 1.25), for the bulk comparison with numpy. */
function spread(count: number): Float64Array {
  let state = 0x12345678;
  return Float64Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return -0.25 + 1.5 * (state / 4294967296);
  });
}

Deno.test("quantizeValue clamps 0, 1, negatives and values above 1", () => {
  assert.equal(quantizeValue(0), 0);
  assert.equal(quantizeValue(-0), 0);
  assert.equal(quantizeValue(1), 255);
  for (const value of [-1e-300, -Number.MIN_VALUE, -0.5, -1, -255, -Infinity]) {
    assert.equal(quantizeValue(value), 0, String(value));
  }
  for (const value of [1 + Number.EPSILON, 1.001, 2, 255, 1e300, Infinity]) {
    assert.equal(quantizeValue(value), 255, String(value));
  }
  assert.equal(quantizeValue(Number.MIN_VALUE), 0);
  assert.equal(quantizeValue(nextFloat(1, -1)), 255);
  assert.equal(quantizeValue(1 / 255), 1);
  assert.equal(quantizeValue(254 / 255), 254);
});

Deno.test("quantizeValue sends NaN to 0", () => {
  assert.equal(quantizeValue(NaN), 0);
  assert.equal(quantizeValue(-NaN), 0);
  assert.deepEqual(quantize(new Float64Array([NaN, 1, NaN])), new Uint8Array([0, 255, 0]));
});

Deno.test("quantizeValue rounds exact halves to the even neighbour", () => {
  assert.equal(quantizeValue(0.5), 128, "0.5 * 255 = 127.5 rounds up to the even 128");
  const halves = exactHalves();
  // Most k have such a float; enough of both parities must be tested to mean something.
  const evens = halves.filter(({ k }) => k % 2 === 0).length;
  const odds = halves.length - evens;
  assert.ok(evens > 50 && odds > 50, `${evens} even and ${odds} odd halves found`);
  for (const { value, k } of halves) {
    const expected = k % 2 === 0 ? k : k + 1;
    assert.equal(quantizeValue(value), expected, `${value} * 255 = ${k}.5`);
    assert.equal(quantize(new Float64Array([value]))[0], expected, `quantize: ${k}.5`);
    // Several floats can share the product k + 0.5; the first one off it is no tie any more.
    let below = nextFloat(value, -1), above = nextFloat(value, 1);
    while (below * 255 === k + 0.5) below = nextFloat(below, -1);
    while (above * 255 === k + 0.5) above = nextFloat(above, 1);
    assert.equal(quantizeValue(below), k, `just below ${k}.5`);
    assert.equal(quantizeValue(above), k + 1, `just above ${k}.5`);
  }
  // Halves of small k by hand: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4.
  assert.equal(quantizeValue(0.5 / 255), 0);
  assert.equal(quantizeValue(1.5 / 255), 2);
  assert.equal(quantizeValue(2.5 / 255), 2);
  assert.equal(quantizeValue(3.5 / 255), 4);
});

Deno.test("quantizeValue maps every 4x4-supersampling coverage k/16 by exact rounding", () => {
  const expected = [0, 16, 32, 48, 64, 80, 96, 112, 128, 143, 159, 175, 191, 207, 223, 239, 255];
  for (let k = 0; k <= 16; k++) {
    // k/16 * 255 is exact in float64; the rational rule decides its rounding independently.
    assert.equal(roundHalfEven(k * 255, 16), expected[k]);
    assert.equal(quantizeValue(k / 16), expected[k], `${k}/16`);
  }
  // The buffer version, which the pipeline uses, gives the same bytes.
  const coverages = Float64Array.from({ length: 17 }, (_, k) => k / 16);
  assert.deepEqual(Array.from(quantize(coverages)), expected);
  for (const samples of [1, 2, 3, 4, 5]) {
    const total = samples * samples;
    for (let count = 0; count <= total; count++) {
      assert.equal(
        quantizeValue(count / total),
        roundHalfEven(count * 255, total),
        `${count}/${total}`,
      );
    }
  }
});

Deno.test("quantize writes into the buffer it is given and rejects a short one", () => {
  const values = new Float64Array([0, 0.25, 0.5, 1, -3, 7]);
  const out = new Uint8Array(8).fill(99);
  assert.equal(quantize(values, out), out);
  assert.deepEqual(Array.from(out), [0, 64, 128, 255, 0, 255, 99, 99]);
  assert.deepEqual(quantize(new Float64Array(0)), new Uint8Array(0));
  assert.throws(() => quantize(values, new Uint8Array(5)), RangeError);
});

Deno.test("quantize agrees byte for byte with numpy's round(clip(x, 0, 1) * 255)", async () => {
  const tricky = [
    0,
    -0,
    1,
    0.5,
    -1,
    2,
    -Infinity,
    Infinity,
    Number.MIN_VALUE,
    -Number.MIN_VALUE,
    Number.EPSILON,
    1 - Number.EPSILON / 2,
    1 + Number.EPSILON,
    nextFloat(1, -1),
    1 / 255,
    0.5 / 255,
    254.5 / 255,
    ...exactHalves().flatMap(({ value }) => [nextFloat(value, -1), value, nextFloat(value, 1)]),
    ...Array.from({ length: 256 }, (_, k) => k / 255),
    ...Array.from({ length: 256 }, (_, k) => (k + 0.5) / 255),
    ...[1, 2, 3, 4, 5].flatMap((samples) =>
      Array.from({ length: samples ** 2 + 1 }, (_, count) => count / samples ** 2)
    ),
    ...spread(20000),
  ];
  // NaN is left out on purpose: numpy's cast of NaN to uint8 is undefined behaviour in C
  // (it warns "invalid value encountered in cast"); dsgen's rule for NaN is tested above.
  const values = Float64Array.from(tricky);
  const folder = await Deno.makeTempDir({ prefix: "dsgen_quantize_test_" });
  try {
    const input = join(folder, "values.f8");
    const output = join(folder, "numpy.u1");
    await Deno.writeFile(input, new Uint8Array(values.buffer));
    await runPython(
      `
import sys
import numpy as np
x = np.fromfile(sys.argv[1], dtype="<f8")
np.round(np.clip(x, 0, 1) * 255).astype(np.uint8).tofile(sys.argv[2])
`,
      [input, output],
    );
    const expected = await Deno.readFile(output);
    assert.equal(expected.length, values.length);
    const actual = quantize(values);
    const mismatches = [];
    for (let index = 0; index < values.length; index++) {
      if (actual[index] !== expected[index]) {
        mismatches.push(`${values[index]}: dsgen ${actual[index]}, numpy ${expected[index]}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatches`);
    assert.deepEqual(actual, expected);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
