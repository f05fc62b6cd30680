import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeNpyHeader,
  decodeUnicodeArray,
  encodeNpyHeader,
  encodeUnicodeArray,
  itemSize,
  NPY_ALIGN,
  NPY_MAGIC,
  npyDataLength,
  type NpyDtype,
  type NpyHeader,
} from "../src/format/npy.ts";
import { runPython, runPythonJson } from "./support/python.ts";

const TESTDATA = new URL("./testdata/", import.meta.url);

/** The golden files of tests/testdata (see its README) and the headers they describe. */
const GOLDEN: [string, NpyHeader][] = [
  ["npy_header_u1_1000x16x16.bin", { descr: "|u1", fortranOrder: false, shape: [1000, 16, 16] }],
  ["npy_header_u1_1000.bin", { descr: "|u1", fortranOrder: false, shape: [1000] }],
  ["npy_header_f4_1000x4.bin", { descr: "<f4", fortranOrder: false, shape: [1000, 4] }],
  ["npy_header_f8_2x16x16.bin", { descr: "<f8", fortranOrder: false, shape: [2, 16, 16] }],
  ["npy_header_U8_3.bin", { descr: "<U8", fortranOrder: false, shape: [3] }],
];

/** Headers of every kind dsgen writes, at the edges of what it accepts. */
const SHAPES: NpyHeader[] = [
  { descr: "|u1", fortranOrder: false, shape: [] },
  { descr: "|u1", fortranOrder: false, shape: [0] },
  { descr: "|u1", fortranOrder: false, shape: [1] },
  { descr: "|u1", fortranOrder: false, shape: [1, 4, 4] },
  { descr: "|u1", fortranOrder: false, shape: [1_000_000_000, 256, 256] },
  { descr: "<f8", fortranOrder: false, shape: [1_000_000_000, 256, 256] },
  { descr: "<f4", fortranOrder: false, shape: [1_000_000_000, 4] },
  { descr: "<f8", fortranOrder: true, shape: [7, 3] },
  { descr: "<U1", fortranOrder: false, shape: [0] },
  { descr: "<U11", fortranOrder: false, shape: [4] },
  { descr: "<U123", fortranOrder: false, shape: [99999, 2] },
];

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("encodeNpyHeader matches numpy's header bytes exactly (golden files)", async () => {
  for (const [file, header] of GOLDEN) {
    const expected = await Deno.readFile(new URL(file, TESTDATA));
    const actual = encodeNpyHeader(header);
    assert.equal(
      new TextDecoder("latin1").decode(actual),
      new TextDecoder("latin1").decode(expected),
      file,
    );
    assert.deepEqual(actual, expected, file);
  }
});

Deno.test("encodeNpyHeader matches numpy for every image shape dsgen can write", async () => {
  const headers: NpyHeader[] = [];
  for (const count of [1, 9, 10, 99, 1000, 65535, 65536, 123_456_789, 1_000_000_000]) {
    for (const size of [4, 9, 10, 16, 99, 100, 255, 256]) {
      headers.push({ descr: "|u1", fortranOrder: false, shape: [count, size, size] });
      headers.push({ descr: "<f8", fortranOrder: false, shape: [count, size, size] });
    }
    headers.push({ descr: "|u1", fortranOrder: false, shape: [count] });
    headers.push({ descr: "<f4", fortranOrder: false, shape: [count, 4] });
  }
  // numpy writes the header of an array of this dtype and shape; one hex line per header.
  const script = `
import io, json, sys
from numpy.lib import format
for case in json.loads(sys.argv[1]):
    buffer = io.BytesIO()
    format.write_array_header_1_0(
        buffer, {"descr": case[0], "fortran_order": False, "shape": tuple(case[1])})
    print(buffer.getvalue().hex())
`;
  const cases = JSON.stringify(headers.map((header) => [header.descr, header.shape]));
  const lines = (await runPython(script, [cases])).trim().split("\n");
  assert.equal(lines.length, headers.length);
  headers.forEach((header, index) => {
    assert.equal(hex(encodeNpyHeader(header)), lines[index], JSON.stringify(header));
  });
});

Deno.test("encodeNpyHeader aligns the data start to 64 bytes and ends the dict with a newline", () => {
  for (const header of [...SHAPES, ...GOLDEN.map(([, header]) => header)]) {
    const bytes = encodeNpyHeader(header);
    const label = JSON.stringify(header);
    assert.equal(bytes.length % NPY_ALIGN, 0, label);
    assert.deepEqual(bytes.subarray(0, 6), NPY_MAGIC, label);
    assert.deepEqual([bytes[6], bytes[7]], [1, 0], label);
    assert.equal(bytes[8]! | (bytes[9]! << 8), bytes.length - 10, label);
    assert.equal(bytes[bytes.length - 1], 0x0a, label);
    const text = new TextDecoder("latin1").decode(bytes.subarray(10));
    assert.match(
      text,
      /^\{'descr': '[^']+', 'fortran_order': (True|False), 'shape': \([^)]*\), \} *\n$/,
    );
    // Padding is spaces only, and never a whole extra block.
    const padding = text.length - text.trimEnd().length - 1;
    assert.ok(padding >= 0 && padding < NPY_ALIGN, label);
    assert.ok(bytes.every((byte) => byte < 0x80 || byte === 0x93), label);
  }
});

Deno.test("decodeNpyHeader reads back what encodeNpyHeader wrote", () => {
  for (const header of [...SHAPES, ...GOLDEN.map(([, header]) => header)]) {
    const bytes = encodeNpyHeader(header);
    const withData = new Uint8Array(bytes.length + 5);
    withData.set(bytes);
    const decoded = decodeNpyHeader(withData);
    assert.deepEqual(decoded.header, header);
    assert.equal(decoded.dataOffset, bytes.length);
  }
});

Deno.test("decodeNpyHeader reads numpy's golden headers, spare growth spaces included", async () => {
  for (const [file, header] of GOLDEN) {
    const bytes = await Deno.readFile(new URL(file, TESTDATA));
    assert.deepEqual(decodeNpyHeader(bytes), { header, dataOffset: bytes.length }, file);
  }
});

Deno.test("numpy loads .npy files made of encodeNpyHeader plus data, for every dtype", async () => {
  const folder = await Deno.makeTempDir({ prefix: "dsgen_npy_test_" });
  try {
    const u1 = Uint8Array.from({ length: 2 * 3 * 3 }, (_, index) => (index * 37) % 256);
    const f4 = Float32Array.from([0.5, -1.25, 3.5e-7, 65504, Infinity, -0]);
    const f8 = Float64Array.from([Math.PI, -Math.E, 1e-300, 2 ** 60, Number.MIN_VALUE]);
    const names = encodeUnicodeArray(["ellipse", "", "Ünïcødé", "😀 smile"]);
    const files: [string, NpyHeader, Uint8Array][] = [
      ["u1.npy", { descr: "|u1", fortranOrder: false, shape: [2, 3, 3] }, u1],
      ["f4.npy", { descr: "<f4", fortranOrder: false, shape: [3, 2] }, new Uint8Array(f4.buffer)],
      ["f8.npy", { descr: "<f8", fortranOrder: false, shape: [5] }, new Uint8Array(f8.buffer)],
      ["u.npy", { descr: names.descr, fortranOrder: false, shape: [4] }, names.data],
      ["scalar.npy", { descr: "<f8", fortranOrder: false, shape: [] }, new Uint8Array(8)],
    ];
    for (const [name, header, data] of files) {
      assert.equal(npyDataLength(header), data.length, name);
      const head = encodeNpyHeader(header);
      const file = new Uint8Array(head.length + data.length);
      file.set(head);
      file.set(data, head.length);
      await Deno.writeFile(join(folder, name), file);
    }
    const script = `
import json, sys
import numpy as np
out = {}
for name in ["u1", "f4", "f8", "u", "scalar"]:
    array = np.load(f"{sys.argv[1]}/{name}.npy", allow_pickle=False)
    values = array.tolist()
    if array.dtype.kind == "f":
        values = [repr(float(v)) for v in np.ravel(array)]
    out[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "values": values}
print(json.dumps(out))
`;
    type Loaded = Record<string, { dtype: string; shape: number[]; values: unknown }>;
    const loaded = await runPythonJson<Loaded>(script, [folder]);
    assert.deepEqual(loaded.u1, {
      dtype: "|u1",
      shape: [2, 3, 3],
      values: [[[0, 37, 74], [111, 148, 185], [222, 3, 40]], [
        [77, 114, 151],
        [188, 225, 6],
        [43, 80, 117],
      ]],
    });
    // Python's repr of a float round-trips exactly; "inf" is the one repr JS cannot parse.
    const floats = (values: unknown) =>
      (values as string[]).map((text) => text === "inf" ? Infinity : Number(text));
    assert.equal(loaded.f4?.dtype, "<f4");
    assert.deepEqual(loaded.f4?.shape, [3, 2]);
    assert.deepEqual(floats(loaded.f4?.values), Array.from(f4));
    assert.equal(loaded.f8?.dtype, "<f8");
    assert.deepEqual(loaded.f8?.shape, [5]);
    assert.deepEqual(floats(loaded.f8?.values), Array.from(f8));
    assert.equal(names.descr, "<U7");
    assert.deepEqual(loaded.u, {
      dtype: "<U7",
      shape: [4],
      values: ["ellipse", "", "Ünïcødé", "😀 smile"],
    });
    assert.deepEqual(loaded.scalar, { dtype: "<f8", shape: [], values: ["0.0"] });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("unicode arrays round trip, astral code points and empty strings included", () => {
  const cases: string[][] = [
    ["ellipse", "square", "triangle"],
    ["scale", "orientation", "pos_x", "pos_y"],
    [""],
    ["", ""],
    ["a", "", "abc"],
    ["é", "ß", "Ω", "中文", "😀", "a😀b", "\u{10FFFF}"],
  ];
  for (const values of cases) {
    const { descr, data } = encodeUnicodeArray(values);
    const width = Math.max(1, ...values.map((value) => Array.from(value).length));
    assert.equal(descr, `<U${width}`, JSON.stringify(values));
    assert.equal(data.length, values.length * width * 4);
    assert.equal(itemSize(descr) * values.length, data.length);
    assert.deepEqual(decodeUnicodeArray(data, width), values);
    // A view into a larger buffer decodes the same (byteOffset is honoured).
    const padded = new Uint8Array(data.length + 12);
    padded.set(data, 8);
    assert.deepEqual(decodeUnicodeArray(padded.subarray(8, 8 + data.length), width), values);
  }
  assert.deepEqual(encodeUnicodeArray([]), { descr: "<U1", data: new Uint8Array(0) });
  // UTF-32LE, zero-padded: "ab" in <U3 is 61 00 00 00 62 00 00 00 00 00 00 00.
  const { data } = encodeUnicodeArray(["ab", "cde"]);
  assert.deepEqual(Array.from(data.subarray(0, 12)), [97, 0, 0, 0, 98, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(encodeUnicodeArray(["😀"]).data), [0x00, 0xf6, 0x01, 0x00]);
});

Deno.test("decodeUnicodeArray reads numpy's own '<U' data", async () => {
  const values = ["ellipse", "square", "triangle", "", "😀x"];
  const script = `
import sys
import numpy as np
sys.stdout.write(np.array(["ellipse", "square", "triangle", "", "\\U0001F600x"], dtype="<U8").tobytes().hex())
`;
  const text = (await runPython(script)).trim();
  const bytes = Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
  assert.deepEqual(decodeUnicodeArray(bytes, 8), values);
  assert.deepEqual(encodeUnicodeArray(values).data.length, 5 * 8 * 4);
  assert.deepEqual(encodeUnicodeArray(values).data, bytes);
});

Deno.test("decodeUnicodeArray drops trailing NULs only, as numpy does", async () => {
  // numpy keeps a NUL inside a string and strips the padding after it.
  const script = `
import json
import numpy as np
array = np.array(["a\\x00b", "c", "\\x00d"], dtype="<U3")
print(json.dumps({"hex": array.tobytes().hex(), "values": array.tolist()}))
`;
  const numpy = await runPythonJson<{ hex: string; values: string[] }>(script);
  assert.deepEqual(numpy.values, ["a\0b", "c", "\0d"]);
  const bytes = Uint8Array.from(numpy.hex.match(/../g)!, (pair) => parseInt(pair, 16));
  assert.deepEqual(decodeUnicodeArray(bytes, 3), numpy.values);
  assert.deepEqual(encodeUnicodeArray(numpy.values).data, bytes);
});

Deno.test("itemSize and npyDataLength follow the dtype", () => {
  assert.equal(itemSize("|u1"), 1);
  assert.equal(itemSize("<f4"), 4);
  assert.equal(itemSize("<f8"), 8);
  assert.equal(itemSize("<U1"), 4);
  assert.equal(itemSize("<U11"), 44);
  assert.equal(npyDataLength({ descr: "|u1", fortranOrder: false, shape: [1000, 16, 16] }), 256000);
  assert.equal(npyDataLength({ descr: "<f8", fortranOrder: false, shape: [2, 16, 16] }), 4096);
  assert.equal(npyDataLength({ descr: "<U8", fortranOrder: false, shape: [3] }), 96);
  assert.equal(npyDataLength({ descr: "<f8", fortranOrder: false, shape: [] }), 8);
  assert.equal(npyDataLength({ descr: "<f8", fortranOrder: false, shape: [5, 0] }), 0);
});

Deno.test("encodeNpyHeader rejects bad shapes with RangeError and bad dtypes with TypeError", () => {
  const header = (shape: number[], descr = "|u1"): NpyHeader => ({
    descr: descr as NpyDtype,
    fortranOrder: false,
    shape,
  });
  for (const shape of [[-1], [1.5], [NaN], [Infinity], [2 ** 53], [3, -2, 4]]) {
    assert.throws(() => encodeNpyHeader(header(shape)), RangeError, JSON.stringify(shape));
  }
  for (const descr of ["<c8", "u1", "|u2", ">f8", "<U", "<U-1", "<Ux", "", "<f8 "]) {
    assert.throws(() => encodeNpyHeader(header([1], descr)), TypeError, descr);
    assert.throws(() => itemSize(descr as NpyDtype), TypeError, descr);
  }
  // A dict longer than the 16-bit header length field can hold.
  assert.throws(
    () => encodeNpyHeader(header(Array.from({ length: 30000 }, () => 1))),
    (error: unknown) => error instanceof RangeError && /65535/.test(error.message),
  );
});

Deno.test("decodeNpyHeader rejects what is not an NPY 1.0 header with TypeError", () => {
  const good = encodeNpyHeader({ descr: "|u1", fortranOrder: false, shape: [3] });
  const changed = (index: number, value: number) => {
    const copy = good.slice();
    copy[index] = value;
    return copy;
  };
  const withDict = (dict: string) => {
    const text = dict.padEnd(117, " ") + "\n";
    const bytes = new Uint8Array(128);
    bytes.set(good.subarray(0, 10));
    for (let index = 0; index < text.length; index++) bytes[10 + index] = text.charCodeAt(index);
    return bytes;
  };
  const bad: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["shorter than the fixed part", good.subarray(0, 9)],
    ["wrong magic", changed(0, 0x92)],
    ["wrong magic letter", changed(3, 0x6d)],
    ["version 2.0", changed(6, 2)],
    ["version 1.1", changed(7, 1)],
    ["truncated", good.subarray(0, 64)],
    ["header length past the end", changed(9, 0xff)],
    ["unsupported dtype", withDict("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }")],
    [
      "no newline",
      withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }").fill(32, 127),
    ],
    [
      "keys in another order",
      withDict("{'shape': (3,), 'descr': '|u1', 'fortran_order': False, }"),
    ],
    ["fortran_order not a bool", withDict("{'descr': '|u1', 'fortran_order': 0, 'shape': (3,), }")],
    ["shape not a tuple", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': [3], }")],
    ["negative dimension", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (-3,), }")],
    // Shapes Python would not read as a tuple of integers.
    ["shape (3 4)", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (3 4), }")],
    ["shape (,)", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (,), }")],
    ["shape (1,,2)", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (1,,2), }")],
    ["shape (3), an int", withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (3), }")],
    [
      "dimension past 2^53",
      withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
    ],
    ["not a dict", withDict("hello")],
  ];
  for (const [label, bytes] of bad) {
    assert.throws(() => decodeNpyHeader(bytes), TypeError, label);
  }
  // The same bytes with a well-formed dict do decode, so each rejection above is for its reason.
  assert.deepEqual(
    decodeNpyHeader(withDict("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }")).header,
    { descr: "|u1", fortranOrder: false, shape: [3] },
  );
});
