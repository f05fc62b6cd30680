import assert from "node:assert/strict";
import {
  estimatePeakMemory,
  estimateSliceThenMerge,
  formatMegabytes,
  measuredPeakMemory,
} from "../src/report/memory.ts";

const MB = 1024 * 1024;
const base = {
  numImages: 1_000_000,
  imageSize: 16,
  chunkImages: 256,
  bytesPerPixel: 1,
  workers: 2,
  runtimeBytes: 60 * MB,
};

Deno.test("estimatePeakMemory: the parts add up and the runtime part is the one given", () => {
  const estimate = estimatePeakMemory(base);
  assert.equal(estimate.runtime, 60 * MB);
  assert.equal(
    estimate.total,
    estimate.runtime + estimate.workers + estimate.buffers + estimate.churn,
  );
  for (const part of [estimate.workers, estimate.buffers, estimate.churn]) assert.ok(part > 0);
});

Deno.test("estimatePeakMemory: the runtime part defaults to this process's resident size", () => {
  const { runtimeBytes: _, ...withoutRuntime } = base;
  const rss = Deno.memoryUsage().rss;
  const estimate = estimatePeakMemory(withoutRuntime);
  // The process's size moves a little between the two readings, never by 20 MB.
  assert.ok(Math.abs(estimate.runtime - rss) < 20 * MB, `${estimate.runtime} vs ${rss}`);
});

Deno.test("estimatePeakMemory: one thread has no worker isolates, more threads cost more", () => {
  const single = estimatePeakMemory({ ...base, workers: 1 });
  const two = estimatePeakMemory(base);
  const four = estimatePeakMemory({ ...base, workers: 4 });
  // Without threads, only the renderer's code and heap on the main thread: 4 MiB, 9 MiB for
  // a family drawn through floats; nothing for a merge, which renders nothing.
  assert.equal(single.workers, 4 * MB);
  assert.equal(estimatePeakMemory({ ...base, workers: 1, floatScratch: true }).workers, 9 * MB);
  assert.equal(estimatePeakMemory({ ...base, workers: 1, merge: true }).workers, 0);
  assert.ok(two.workers > 0 && four.workers === 2 * two.workers);
  assert.ok(single.total < two.total && two.total < four.total);
});

Deno.test("estimatePeakMemory: dead copies grow with the bytes written and level off", () => {
  const churn = (numImages: number) => estimatePeakMemory({ ...base, workers: 1, numImages }).churn;
  assert.ok(churn(1_000) < churn(100_000));
  assert.ok(churn(100_000) < churn(1_000_000));
  // Past a few hundred megabytes written, more images change nothing: memory stays flat.
  assert.ok(churn(1_000_000_000) - churn(10_000_000) < 0.001 * MB);
  assert.ok(churn(1_000_000_000) < 40 * MB);
});

Deno.test("estimatePeakMemory: with worker threads too, past the cap more images change nothing", () => {
  const churn = (numImages: number, workers = 2) =>
    estimatePeakMemory({ ...base, chunkImages: 4096, workers, numImages }).churn;
  // The pool takes chunks through shared memory: no message per chunk to leave memory behind
  // (bench:memory, 16x16 uint8, default plan: 107.6-109.2 MB at 1,000,000, 108.9 at 30,000,000).
  assert.ok(churn(100_000_000) - churn(1_000_000) < 0.001 * MB);
  assert.ok(churn(100_000_000, 1) - churn(1_000_000, 1) < 0.001 * MB);
});

Deno.test("estimatePeakMemory: float64 chunks hold more than uint8 chunks", () => {
  const uint8 = estimatePeakMemory(base);
  const float64 = estimatePeakMemory({ ...base, bytesPerPixel: 8 });
  assert.ok(float64.buffers > uint8.buffers);
  assert.ok(float64.total > uint8.total);
});

Deno.test("measuredPeakMemory covers memory this process has touched", () => {
  const before = measuredPeakMemory();
  assert.ok(before !== undefined && before > 10 * MB, String(before));
  const block = new Uint8Array(64 * MB).fill(1);
  const after = measuredPeakMemory()!;
  assert.ok(after >= before, `${after} < ${before}`);
  assert.ok(after >= 64 * MB + 10 * MB, `${after} does not cover a 64 MB block`);
  assert.equal(block[block.length - 1], 1);
});

Deno.test("formatMegabytes prints decimal megabytes with one decimal", () => {
  assert.equal(formatMegabytes(74_200_000), "74.2 MB");
  assert.equal(formatMegabytes(0), "0.0 MB");
});

Deno.test("estimatePeakMemory: every part is whole bytes, as metadata.json records them", () => {
  for (const numImages of [1, 1_000, 123_457, 1_000_000_000]) {
    for (const workers of [1, 3]) {
      for (const bytesPerPixel of [1, 8]) {
        const estimate = estimatePeakMemory({ ...base, numImages, workers, bytesPerPixel });
        for (const [part, bytes] of Object.entries(estimate)) {
          assert.ok(Number.isInteger(bytes), `${part} = ${bytes} for ${numImages} images`);
        }
      }
    }
  }
});

Deno.test({
  name: "measuredPeakMemory: a run started by a larger process reports its own peak",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // Linux's getrusage carries the starting process's peak over the exec: this process,
    // holding 300 MB, would pass it on to a child that holds some 40 MB.
    const block = new Uint8Array(300 * MB).fill(1);
    const module = new URL("../src/report/memory.ts", import.meta.url).href;
    const script = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(
      script,
      `import { measuredPeakMemory } from "${module}"; console.log(measuredPeakMemory());`,
    );
    // The tasks' permissions, not --allow-all: /proc is read through cat.
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-run", script],
      stderr: "inherit",
    }).output();
    await Deno.remove(script);
    const childPeak = Number(new TextDecoder().decode(output.stdout).trim());
    assert.ok(childPeak > 10 * MB && childPeak < 200 * MB, `the child reported ${childPeak}`);
    assert.equal(block[block.length - 1], 1);
  },
});

Deno.test("estimatePeakMemory: a family drawn through floats holds a float block per thread", () => {
  const plan = { ...base, imageSize: 64, bytesPerPixel: 1, workers: 2 };
  const direct = estimatePeakMemory(plan);
  const floats = estimatePeakMemory({ ...plan, floatScratch: true });
  // A block of 4 images of 64x64 (128 KiB of floats), 8 bytes per pixel, on each of two threads.
  assert.equal(floats.buffers - direct.buffers, 2 * 4 * 64 * 64 * 8);
  // float64 images are rendered into their own chunk: no scratch.
  const float64 = { ...plan, bytesPerPixel: 8 };
  assert.equal(
    estimatePeakMemory({ ...float64, floatScratch: true }).total,
    estimatePeakMemory(float64).total,
  );
});

Deno.test("estimateSliceThenMerge: a slice's estimate covers the merge it may do", () => {
  const slice = estimatePeakMemory({ ...base, workers: 2 });
  const merged = estimateSliceThenMerge(slice, { hashThread: true });
  // The process keeps what its render threads took (measured: see the function's doc); the
  // hashing thread and the merge's buffers come on top.
  assert.equal(merged, slice.total + 16 * MB + 15 * MB);
  const oneThread = estimatePeakMemory({ ...base, workers: 1 });
  assert.equal(estimateSliceThenMerge(oneThread, { hashThread: false }), oneThread.total + 16 * MB);
  const many = estimatePeakMemory({ ...base, workers: 8 });
  assert.ok(estimateSliceThenMerge(many, { hashThread: false }) > many.total);
});

Deno.test("estimatePeakMemory: a merge holds its copy buffers instead of rendered chunks", () => {
  const plan = { ...base, workers: 1, imageSize: 64, bytesPerPixel: 1, floatScratch: true };
  const merge = estimatePeakMemory({ ...plan, merge: true });
  assert.equal(merge.buffers, estimatePeakMemory({ ...base, workers: 1, merge: true }).buffers);
  assert.ok(merge.buffers > 16 * MB && merge.buffers < 24 * MB, String(merge.buffers));
});

Deno.test({
  name: "estimatePeakMemory: a scenes run's estimate is within 10% of its peak (4 MiB chunks)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // 10,000 scenes of 64x64 colored_on_colored (493 MB, 85 a chunk), the default plan (one
    // render thread and a hashing thread) and --workers 1, as metadata.json records them.
    const folder = await Deno.makeTempDir({ prefix: "dsgen-scenes-memory-" });
    try {
      for (const [index, workers] of [[], ["--workers", "1"]].entries()) {
        const out = `${folder}/${index}`;
        const output = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            "--v8-flags=--expose-gc,--max-semi-space-size=1",
            new URL("../main.ts", import.meta.url).pathname,
            ...["generate", "--generator", "scenes", "--preset", "colored_on_colored"],
            ...["--num-images", "10000", "--image-size", "64", "--seed", "5", "--yes"],
            ...["--output-dir", out, ...workers],
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(output.success, new TextDecoder().decode(output.stderr));
        const version = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!;
        const metadata = JSON.parse(await Deno.readTextFile(`${version}/metadata.json`));
        const { estimated_peak_bytes: estimated, measured_peak_bytes: measured } =
          metadata.run.memory;
        assert.ok(
          Math.abs(estimated - measured) <= 0.1 * measured,
          `${workers.join(" ") || "default"}: estimated ${formatMegabytes(estimated)}, ` +
            `measured ${formatMegabytes(measured)}`,
        );
      }
    } finally {
      await Deno.remove(folder, { recursive: true });
    }
  },
});
