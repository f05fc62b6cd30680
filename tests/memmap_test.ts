import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32, crc32Combine } from "../src/format/crc32.ts";
import { encodeNpyHeader, type NpyHeader } from "../src/format/npy.ts";
import { type ChecksummedChunk, NpzWriter, planNpzLayout } from "../src/format/npz.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { temporaryFolder } from "./support/datasets.ts";
import { runPythonJson } from "./support/python.ts";

Deno.test("crc32Combine gives the CRC-32 of the concatenation, for any split", () => {
  const bytes = Uint8Array.from({ length: 5000 }, (_, index) => (index * 131 + 7) & 0xff);
  const whole = crc32(bytes);
  for (const split of [0, 1, 2, 3, 63, 64, 65, 1000, 4095, 4999, 5000]) {
    const left = bytes.subarray(0, split), right = bytes.subarray(split);
    assert.equal(crc32Combine(crc32(left), crc32(right), right.length), whole, `split ${split}`);
  }
  // Lengths past 2^32: combining n zero bytes equals continuing over them.
  const zeros = new Uint8Array(1 << 20);
  let running = crc32(bytes), combined = crc32(bytes);
  for (let piece = 0; piece < 8; piece++) running = crc32(zeros, running);
  combined = crc32Combine(combined, crc32(new Uint8Array(8 << 20)), 8 << 20);
  assert.equal(combined, running);
});

/**
 * Writes an archive through NpzWriter into a sparse file: chunks that are `zeros` (the same
 * buffer) are skipped over with a seek, so a Zip64 archive past 4 GiB costs little disk.
 */
async function writeSparse(
  path: string,
  arrays: {
    name: string;
    header: NpyHeader;
    chunks: () => Iterable<Uint8Array | ChecksummedChunk>;
  }[],
  zeros: Uint8Array,
): Promise<NpzWriter> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const sink = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (chunk === zeros) await file.seek(chunk.length, Deno.SeekMode.Current);
      else {
        let done = 0;
        while (done < chunk.length) done += await file.write(chunk.subarray(done));
      }
    },
    async close() {
      await file.truncate(await file.seek(0, Deno.SeekMode.Current));
      file.close();
    },
  });
  const npz = new NpzWriter(sink, { arrays });
  for (const array of arrays) await npz.addArray(array.name, array.header, array.chunks());
  await npz.close();
  return npz;
}

const MEMMAP = `
import json, sys, zipfile
import numpy as np

path, arrays = sys.argv[1], json.loads(sys.argv[2])
result = {"zip64": False, "arrays": {}}
with zipfile.ZipFile(path) as archive:
    for info in archive.infolist():
        result["zip64"] |= info.header_offset > 0xFFFFFFFF or info.file_size > 0xFFFFFFFF
    with np.load(path) as data:
        for name, record in arrays.items():
            mapped = np.memmap(path, dtype=np.dtype(record["dtype"]), mode="r",
                               offset=record["offset"], shape=tuple(record["shape"]))
            if record["big"]:
                # Too big to load: its head is zeros and its tail a known pattern.
                flat = mapped.reshape(-1)
                pattern = ((np.arange(record["tail"]) * 37 + 11) & 0xFF).astype(np.uint8)
                same = bool(not flat[: 1 << 16].any() and
                            np.array_equal(flat[-record["tail"]:], pattern))
            else:
                same = bool(np.array_equal(mapped, data[name]))
            result["arrays"][name] = {"same": same, "aligned": record["offset"] % 64 == 0}
print(json.dumps(result))
`;

Deno.test("np.memmap at each recorded offset reads every array of a Zip64 archive in place", async () => {
  const folder = await temporaryFolder();
  try {
    const path = join(folder, "big.npz");
    // 65,600 images of 256x256: 4,299,161,600 bytes, past 4 GiB, so offsets after it are too.
    const numImages = 65_600, area = 256 * 256;
    const zeros = new Uint8Array(64 << 20);
    const zerosCrc = crc32(zeros);
    const tail = Uint8Array.from({ length: 8 << 20 }, (_, index) => (index * 37 + 11) & 0xff);
    const imageBytes = numImages * area;
    const labels = Uint8Array.from({ length: numImages }, (_, index) => index % 3);
    const latents = new Float32Array(numImages * 2).map((_, index) => index / 7);
    const arrays = [
      {
        name: "images",
        header: { descr: "|u1", fortranOrder: false, shape: [numImages, 256, 256] } as NpyHeader,
        chunks: function* (): Generator<Uint8Array | ChecksummedChunk> {
          let left = imageBytes - tail.length;
          for (; left >= zeros.length; left -= zeros.length) {
            yield { bytes: zeros, crc32: zerosCrc };
          }
          yield new Uint8Array(left);
          yield tail;
        },
      },
      {
        name: "labels",
        header: { descr: "|u1", fortranOrder: false, shape: [numImages] } as NpyHeader,
        chunks: () => [labels],
      },
      {
        name: "latents",
        header: { descr: "<f4", fortranOrder: false, shape: [numImages, 2] } as NpyHeader,
        chunks: () => [new Uint8Array(latents.buffer)],
      },
    ];
    const npz = await writeSparse(path, arrays, zeros);
    const placements = npz.placements();
    const planned = planNpzLayout(placements.map(({ fileName, size }) => ({ fileName, size })));
    assert.equal(planned.zip64, true);
    assert.deepEqual(planned.entries, placements);
    assert.equal((await Deno.stat(path)).size, planned.bytes);
    assert.ok(placements[1]!.entryOffset > 2 ** 32);

    // dsgen's own reader finds the same data offsets.
    const reader = await NpzReader.open(path);
    const records: Record<string, unknown> = {};
    try {
      for (const [index, array] of arrays.entries()) {
        const entry = reader.entry(array.name);
        assert.equal(
          entry.dataOffset,
          placements[index]!.entryOffset + encodeNpyHeader(array.header).length,
        );
        records[array.name] = {
          dtype: array.header.descr,
          shape: array.header.shape,
          offset: entry.dataOffset,
          big: array.name === "images",
          tail: tail.length,
        };
      }
    } finally {
      reader.close();
    }
    const result = await runPythonJson<{
      zip64: boolean;
      arrays: Record<string, { same: boolean; aligned: boolean }>;
    }>(MEMMAP, [path, JSON.stringify(records)]);
    assert.equal(result.zip64, true);
    for (const name of Object.keys(records)) {
      assert.deepEqual(result.arrays[name], { same: true, aligned: true }, name);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
