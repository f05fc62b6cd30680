import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { decodeUnicodeArray, type NpyHeader } from "../src/format/npy.ts";
import { NpzWriter } from "../src/format/npz.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { temporaryFolder } from "./support/datasets.ts";
import { runPython } from "./support/python.ts";

const U1 = (shape: number[]): NpyHeader => ({ descr: "|u1", fortranOrder: false, shape });

/** Writes arrays with dsgen's writer; `zip64` forces Zip64. */
async function writeNpz(
  arrays: [string, NpyHeader, Uint8Array][],
  options: { zip64?: boolean } = {},
): Promise<string> {
  const path = join(await temporaryFolder(), "a.npz");
  const file = await Deno.open(path, { write: true, createNew: true });
  const npz = new NpzWriter(file.writable, {
    arrays: arrays.map(([name, header]) => ({ name, header })),
    ...options,
  });
  for (const [name, header, data] of arrays) {
    // Several chunks, so entries are not one write.
    await npz.addArray(name, header, [data.subarray(0, 3), data.subarray(3)]);
  }
  await npz.close();
  return path;
}

function counting(length: number, factor = 7): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * factor + 1) & 0xff);
}

async function withReader<T>(path: string, body: (reader: NpzReader) => Promise<T>): Promise<T> {
  const reader = await NpzReader.open(path);
  try {
    return await body(reader);
  } finally {
    reader.close();
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function assertOpenFails(path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(NpzReader.open(path), (error: Error) => {
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error.name}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), "the message is one line");
    return true;
  });
}

Deno.test("NpzReader lists entries with headers and data offsets, and reads any byte range", async () => {
  const images = counting(5 * 4 * 4);
  const labels = new Uint8Array([0, 1, 2, 1, 0]);
  const path = await writeNpz([["images", U1([5, 4, 4]), images], ["labels", U1([5]), labels]]);
  const fileBytes = await Deno.readFile(path);
  await withReader(path, async (reader) => {
    assert.deepEqual(reader.entries.map((entry) => entry.fileName), ["images.npy", "labels.npy"]);
    const entry = reader.entry("images");
    assert.deepEqual(entry.header, U1([5, 4, 4]));
    assert.equal(entry.dataBytes, 80);
    assert.equal(entry.zip64, false);
    assert.equal(entry.size, 128 + 80);
    // The offsets point into the file itself.
    assert.deepEqual(fileBytes.subarray(entry.dataOffset, entry.dataOffset + 80), images);
    assert.deepEqual(
      fileBytes.subarray(entry.entryOffset, entry.entryOffset + 6),
      new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]),
    );
    assert.equal(
      entry.crc32,
      crc32(fileBytes.subarray(entry.entryOffset, entry.entryOffset + entry.size)),
    );
    assert.deepEqual(
      await reader.read("images", { offset: 16, length: 16 }),
      images.subarray(16, 32),
    );
    assert.deepEqual(await reader.read("labels", { offset: 4, length: 1 }), new Uint8Array([0]));
    assert.deepEqual(await reader.readAll("labels"), labels);
    // Reads issued together do not mix up the shared file position.
    const [a, b] = await Promise.all([
      reader.read("images", { offset: 0, length: 8 }),
      reader.read("labels", { offset: 0, length: 5 }),
    ]);
    assert.deepEqual(a, images.subarray(0, 8));
    assert.deepEqual(b, labels);
  });
});

Deno.test("NpzReader streams an array in chunks of the asked size, whole or a range", async () => {
  const data = counting(1000);
  const path = await writeNpz([["x", U1([1000]), data]]);
  await withReader(path, async (reader) => {
    const chunks = await collect(reader.stream("x", { chunkBytes: 300 }));
    assert.deepEqual(chunks.map((chunk) => chunk.length), [300, 300, 300, 100]);
    assert.deepEqual(concat(chunks), data);
    const part = await collect(reader.stream("x", { offset: 10, length: 25, chunkBytes: 10 }));
    assert.deepEqual(part.map((chunk) => chunk.length), [10, 10, 5]);
    assert.deepEqual(concat(part), data.subarray(10, 35));
    await assert.rejects(collect(reader.stream("x", { offset: 1, verifyCrc: true })), RangeError);
    await assert.rejects(
      reader.read("x", { offset: 990, length: 11 }),
      /within its 1000 data bytes/,
    );
    await assert.rejects(
      reader.read("y", { offset: 0, length: 1 }),
      /holds no array "y" \(arrays: x\)/,
    );
  });
});

Deno.test("NpzReader reads Zip64 archives", async () => {
  const floats = new Float64Array([1.5, -2, 3.25]);
  const bytes = new Uint8Array(floats.buffer);
  const path = await writeNpz([
    ["a", U1([7]), counting(7)],
    ["b", { descr: "<f8", fortranOrder: false, shape: [3] }, bytes],
  ], { zip64: true });
  await withReader(path, async (reader) => {
    assert.ok(reader.entries.every((entry) => entry.zip64));
    assert.deepEqual(await reader.readAll("a"), counting(7));
    assert.deepEqual(new Float64Array((await reader.readAll("b")).slice().buffer), floats);
  });
  // numpy reads the same file the same way.
  assert.equal(
    (await runPython("import numpy as np, sys; print(np.load(sys.argv[1])['b'].tolist())", [path]))
      .trim(),
    "[1.5, -2.0, 3.25]",
  );
});

Deno.test("NpzReader reads what numpy.savez writes", async () => {
  const folder = await temporaryFolder();
  const path = join(folder, "numpy.npz");
  await runPython(
    "import numpy as np, sys\n" +
      "np.savez(sys.argv[1], pixels=np.arange(24, dtype=np.uint8).reshape(2, 3, 4), " +
      "names=np.array(['ellipse', 'sq']), values=np.array([0.5, 0.25], dtype=np.float32))",
    [path],
  );
  await withReader(path, async (reader) => {
    assert.deepEqual(reader.entry("pixels").header.shape, [2, 3, 4]);
    assert.deepEqual(await reader.readAll("pixels"), Uint8Array.from({ length: 24 }, (_, i) => i));
    assert.equal(reader.entry("names").header.descr, "<U7");
    assert.deepEqual(decodeUnicodeArray(await reader.readAll("names"), 7), ["ellipse", "sq"]);
    const values = await reader.readAll("values");
    assert.deepEqual([...new Float32Array(values.slice().buffer)], [0.5, 0.25]);
  });
});

Deno.test("NpzReader rejects a truncated file, a non-zip and an empty file with one clear line", async () => {
  const path = await writeNpz([["x", U1([100]), counting(100)]]);
  const bytes = await Deno.readFile(path);
  const folder = await temporaryFolder();
  const truncated = join(folder, "truncated.npz");
  await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 30));
  await assertOpenFails(
    truncated,
    /truncated\.npz: its zip end record is missing: the file is truncated/,
  );
  const halved = join(folder, "halved.npz");
  await Deno.writeFile(halved, bytes.subarray(0, 100));
  await assertOpenFails(halved, /the file is truncated/);
  const text = join(folder, "text.npz");
  await Deno.writeTextFile(text, "these are not the bytes you are looking for");
  await assertOpenFails(text, /it is no zip archive \(wrong magic bytes\)/);
  const empty = join(folder, "empty.npz");
  await Deno.writeFile(empty, new Uint8Array(0));
  await assertOpenFails(empty, /0 bytes long/);
  await assert.rejects(NpzReader.open(join(folder, "missing.npz")), Deno.errors.NotFound);
});

Deno.test("NpzReader rejects compressed entries, bad NPY headers and unsupported dtypes", async () => {
  const folder = await temporaryFolder();
  const compressed = join(folder, "compressed.npz");
  const int32 = join(folder, "int32.npz");
  await runPython(
    "import numpy as np, sys\n" +
      "np.savez_compressed(sys.argv[1], a=np.zeros(100, dtype=np.uint8))\n" +
      "np.savez(sys.argv[2], a=np.arange(4, dtype=np.complex64))",
    [compressed, int32],
  );
  await assertOpenFails(
    compressed,
    /a\.npy is compressed \(zip method 8, deflate\); dsgen reads stored entries only/,
  );
  await assertOpenFails(
    int32,
    /a\.npy has a bad NPY header \(cannot use dtype "<c8": not supported\)/,
  );

  const path = await writeNpz([["x", U1([10]), counting(10)]]);
  const badMagic = await Deno.readFile(path);
  const entryOffset = await withReader(
    path,
    (reader) => Promise.resolve(reader.entry("x").entryOffset),
  );
  badMagic[entryOffset + 1] = 0x58; // "\x93XUMPY"
  const badMagicPath = join(folder, "bad_magic.npz");
  await Deno.writeFile(badMagicPath, badMagic);
  await assertOpenFails(
    badMagicPath,
    /x\.npy has a bad NPY header \(cannot read NPY data: wrong magic bytes\)/,
  );

  // A header that promises more data than the entry holds.
  const lying = await Deno.readFile(path);
  const header = new TextDecoder().decode(lying.subarray(entryOffset, entryOffset + 128));
  const at = entryOffset + header.indexOf("(10,)");
  lying.set(new TextEncoder().encode("(90,)"), at);
  const lyingPath = join(folder, "lying.npz");
  await Deno.writeFile(lyingPath, lying);
  await assertOpenFails(
    lyingPath,
    /x\.npy holds 10 data bytes but its header \(\|u1, shape \(90,\)\) needs 90/,
  );
});

Deno.test("NpzReader checks the CRC-32 of whole entries, not of ranges", async () => {
  const path = await writeNpz([["x", U1([1000]), counting(1000)]]);
  const bytes = await Deno.readFile(path);
  const dataOffset = await withReader(
    path,
    (reader) => Promise.resolve(reader.entry("x").dataOffset),
  );
  bytes[dataOffset + 500] = bytes[dataOffset + 500]! ^ 0xff;
  await Deno.writeFile(path, bytes);
  await withReader(path, async (reader) => {
    // A range cannot be checked, so it reads the changed byte as it is.
    const range = await reader.read("x", { offset: 500, length: 1 });
    assert.equal(range[0], counting(1000)[500]! ^ 0xff);
    const crcError =
      /the CRC-32 of x\.npy is [0-9a-f]{8} but the archive records [0-9a-f]{8}: the file is corrupted/;
    await assert.rejects(reader.verifyCrc("x"), crcError);
    await assert.rejects(reader.readAll("x"), crcError);
    await assert.rejects(collect(reader.stream("x", { chunkBytes: 128 })), crcError);
    // Opted out, the stream yields everything.
    assert.equal(concat(await collect(reader.stream("x", { verifyCrc: false }))).length, 1000);
  });
});

Deno.test("zip-js, an independent zip reader, reads the writer's archives and checks their CRCs", async () => {
  const { BlobReader, Uint8ArrayWriter, ZipReader } = await import("@zip.js/zip.js");
  const images = counting(5 * 16);
  const labels = counting(5, 3);
  for (const zip64 of [false, true]) {
    const path = await writeNpz([["images", U1([5, 4, 4]), images], ["labels", U1([5]), labels]], {
      zip64,
    });
    const zip = new ZipReader(new BlobReader(new Blob([await Deno.readFile(path)])));
    try {
      const entries = await zip.getEntries();
      assert.deepEqual(entries.map((entry) => entry.filename), ["images.npy", "labels.npy"]);
      for (const [entry, data] of [[entries[0]!, images], [entries[1]!, labels]] as const) {
        // checkSignature makes zip-js compare the data's CRC-32 with the directory's.
        assert.ok(!entry.directory, entry.filename);
        const bytes = await entry.getData(new Uint8ArrayWriter(), { checkSignature: true });
        assert.deepEqual(bytes.subarray(bytes.length - data.length), data);
      }
    } finally {
      await zip.close();
    }
  }
});
