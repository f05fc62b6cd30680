import assert from "node:assert/strict";
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";
import { InlineHasher, ThreadHasher } from "../src/pipeline/file_hasher.ts";
import { chooseThreadPlan } from "../src/pipeline/thread_plan.ts";
import { generators } from "../src/generators/registry.ts";
import { writeDatasetNpz } from "../src/pipeline/dataset.ts";
import { planRun } from "../src/run/plan.ts";
import { withTempDir } from "./support/folders.ts";

/** Runs `body` with a new empty file in a temporary folder, removed afterwards. */
function withTempFile(body: (path: string) => Promise<void>): Promise<void> {
  return withTempDir("dsgen_file_hasher_test_", async (folder) => {
    const path = join(folder, "file");
    await Deno.writeFile(path, new Uint8Array());
    await body(path);
  });
}

/** Writes bytes to the file, then tells the hasher and the reference hash. */
async function writeAndTell(
  file: Deno.FsFile,
  hasher: ThreadHasher | InlineHasher,
  reference: Hash,
  bytes: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
  reference.update(bytes);
  await hasher.wrote(bytes);
}

/** Writes `total` bytes of a pattern in pieces, telling the hasher after each. */
async function writeThrough(path: string, hasher: ThreadHasher | InlineHasher, total: number) {
  const reference = createHash("sha256");
  using file = await Deno.open(path, { write: true, truncate: true });
  const piece = new Uint8Array(3 * 1024 * 1024 + 7);
  for (let written = 0, round = 0; written < total; round++) {
    const length = Math.min(piece.length, total - written);
    for (let i = 0; i < length; i += 4093) piece[i] = (round * 31 + i) & 255;
    await writeAndTell(file, hasher, reference, piece.subarray(0, length));
    written += length;
  }
  return reference.digest("hex");
}

Deno.test("the hashing thread's SHA-256 equals the bytes' while it lags behind the writer", async () => {
  await withTempFile(async (path) => {
    // 400 MB: more than the 256 MiB the thread may lag, so the writer waits for it on the way.
    const hasher = new ThreadHasher(path);
    const expected = await writeThrough(path, hasher, 400_000_000);
    assert.equal(await hasher.digest(), expected);
    const inline = new InlineHasher();
    const written = await writeThrough(path, inline, 1_000_003);
    assert.equal(await inline.digest(), written);
  });
});

Deno.test("the hashing thread fails with the file's name when the file is shorter than said", async () => {
  await withTempFile(async (path) => {
    const hasher = new ThreadHasher(path);
    // Says 10 bytes were written; the file is empty.
    await hasher.wrote(new Uint8Array(10));
    await assert.rejects(hasher.digest(), (error: Error) => {
      assert.match(error.message, new RegExp(`Cannot hash ${path}: The file ended at 0 bytes`));
      return true;
    });
  });
});

Deno.test("an archive hashed on its own thread has the same bytes and SHA-256 as one hashed inline", async () => {
  await withTempDir("dsgen_file_hasher_test_", async (dir) => {
    const generator = generators.get("shapes").create({ imageSize: 32 });
    const plan = { generator, numImages: 3000, seed: 5, dtype: "uint8" as const, chunkImages: 700 };
    const inline = await writeDatasetNpz(plan, `${dir}/inline.npz`);
    const threaded = await writeDatasetNpz(plan, `${dir}/thread.npz`, { hashThread: true });
    assert.equal(threaded.sha256, inline.sha256);
    const fileSha = createHash("sha256").update(await Deno.readFile(`${dir}/thread.npz`))
      .digest("hex");
    assert.equal(threaded.sha256, fileSha);
  });
});

Deno.test("the thread plan: a hashing thread for large images on 2 cores, none for small files or 1 core", async () => {
  const large = { numImages: 20_000, imageSize: 256, dtype: "uint8" as const };
  assert.deepEqual(
    chooseThreadPlan(large, { workers: 2, fixed: false, cores: 2, archiveBytes: 1.31e9 }),
    { workers: 1, hashThread: true },
  );
  assert.deepEqual(
    chooseThreadPlan(large, { workers: 1, fixed: false, cores: 1, archiveBytes: 1.31e9 }),
    { workers: 1, hashThread: false },
  );
  // 16x16: rendering dominates, so both cores render and the main thread hashes.
  const small = { numImages: 1_000_000, imageSize: 16, dtype: "uint8" as const };
  assert.deepEqual(
    chooseThreadPlan(small, { workers: 2, fixed: false, cores: 2, archiveBytes: 2.73e8 }),
    { workers: 2, hashThread: false },
  );
  // --workers given: kept, only the hashing thread is decided, and only where a core is left.
  assert.deepEqual(
    chooseThreadPlan(large, { workers: 2, fixed: true, cores: 2, archiveBytes: 1.31e9 }),
    { workers: 2, hashThread: false },
  );
  assert.deepEqual(
    chooseThreadPlan(large, { workers: 4, fixed: true, cores: 8, archiveBytes: 1.31e9 }),
    { workers: 4, hashThread: true },
  );
  // A file under 64 MiB is hashed inline whatever the rest.
  assert.equal(
    chooseThreadPlan(large, { workers: 2, fixed: false, cores: 2, archiveBytes: 1e6 }).hashThread,
    false,
  );
  const plan = await planRun(
    { family: { name: "shapes", options: {} }, seed: 1, ...large },
    { probe: { env: {}, usableCpus: 2, machineCpus: 2 } },
  );
  assert.deepEqual([plan.workers.count, plan.hashThread], [1, true]);
  const cluster = await planRun(
    { family: { name: "shapes", options: {} }, seed: 1, ...large },
    { probe: { env: {}, usableCpus: 2, machineCpus: 2 }, hashes: false },
  );
  assert.equal(cluster.hashThread, false);
});

Deno.test("the hashing thread hashes shared chunks in place, between chunks it reads back", async () => {
  await withTempFile(async (path) => {
    const reference = createHash("sha256");
    const hasher = new ThreadHasher(path);
    using file = await Deno.open(path, { write: true, truncate: true });
    // Three shared buffers in turn, as the merge reads its pieces: each is filled again only
    // once wrote() returned for the piece after it.
    const shared = Array.from({ length: 3 }, () => new Uint8Array(new SharedArrayBuffer(1 << 20)));
    for (let piece = 0; piece < 40; piece++) {
      const plain = piece % 5 === 0;
      const bytes = plain ? new Uint8Array(1000 + piece) : shared[piece % 3]!;
      for (let i = 0; i < bytes.length; i += 997) bytes[i] = (piece * 7 + i) & 255;
      await writeAndTell(file, hasher, reference, bytes);
    }
    assert.equal(await hasher.digest(), reference.digest("hex"));
  });
});

Deno.test("shared chunks are hashed from memory, not read back from the file", async () => {
  await withTempFile(async (path) => {
    const hasher = new ThreadHasher(path);
    const bytes = new Uint8Array(new SharedArrayBuffer(4096)).fill(7);
    // The file holds zeros where the hasher is told the shared bytes are.
    await Deno.writeFile(path, new Uint8Array(4096));
    await hasher.wrote(bytes);
    assert.equal(await hasher.digest(), createHash("sha256").update(bytes).digest("hex"));
  });
});

Deno.test("the thread plan on 2 cores: two render threads for 16x16 and the dsprites grid, one for 100,000 64x64 and 256x256", () => {
  // The recorded bench run of 2026-12-04 (bench/results/2026-12-04.md), runs alternated on a
  // quiet machine: the grid took 8.3-8.6 s on two render threads against 10.9-11.5 s on one with
  // a hashing thread; 100,000 64x64 shapes 0.64-0.68 s against 0.68-0.73 (within the 10% margin,
  // so the cheaper plan); 20,000 256x256 1.45-1.56 s against 1.11-1.24 s.
  const options = { workers: 2, fixed: false, cores: 2 };
  const shapes64 = { numImages: 100_000, imageSize: 64, dtype: "uint8" as const };
  assert.deepEqual(chooseThreadPlan(shapes64, { ...options, archiveBytes: 4.1e8 }), {
    workers: 1,
    hashThread: true,
  });
  const shapes256 = { numImages: 20_000, imageSize: 256, dtype: "uint8" as const };
  assert.deepEqual(chooseThreadPlan(shapes256, { ...options, archiveBytes: 1.31e9 }), {
    workers: 1,
    hashThread: true,
  });
  const grid = { numImages: 737_280, imageSize: 64, dtype: "uint8" as const, bytePath: false };
  assert.deepEqual(chooseThreadPlan(grid, { ...options, archiveBytes: 3.07e9 }), {
    workers: 2,
    hashThread: false,
  });
  const shapes16 = { numImages: 1_000_000, imageSize: 16, dtype: "uint8" as const };
  assert.deepEqual(chooseThreadPlan(shapes16, { ...options, archiveBytes: 2.73e8 }), {
    workers: 2,
    hashThread: false,
  });
});
