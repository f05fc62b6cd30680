/**
 * `deno task bench`: speed, memory and size of `dsgen generate`, measured from outside.
 *
 * Prints, as Markdown tables:
 * 1. render + quantize throughput on one thread (16x16, no I/O);
 * 2. end-to-end runs (process start to published version, checksums included) for
 *    N = 1,000 / 100,000 / 1,000,000 / 10,000,000 with 1 worker and with every core:
 *    wall time, images/s, peak RSS (`/usr/bin/time`), archive size;
 * 3. the uint8 saving: the same dataset as uint8 and as float64 (the unquantized baseline);
 * 4. the full `dsprites` grid, 737,280 images of 64x64 (3.07 GB) on every core: wall time,
 *    images/s and peak RSS, which must stay flat.
 *
 * `--max-images N` skips larger runs (e.g. `deno task bench --max-images 1000000`);
 * `--skip-grid` skips 4.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generators } from "../src/generators/registry.ts";
import { renderImageBytes } from "../src/pipeline/render.ts";
import { machineLine, measureGenerate, megabytes, npzEntryBytes, printTable } from "./run_dsgen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { "max-images": { type: "string" }, "skip-grid": { type: "boolean" } },
  strict: true,
});
const maxImages = Number(values["max-images"] ?? 10_000_000);
const cores = navigator.hardwareConcurrency;

console.log(`Machine: ${machineLine()}\n`);

// 1. Render + quantize on one thread.
{
  const generator = generators.get("shapes").create({ imageSize: 16 });
  const plan = { generator, seed: 1, dtype: "uint8" as const };
  const total = 500_000, chunk = 256;
  for (let start = 0; start < 50_000; start += chunk) {
    renderImageBytes(plan, { start, count: chunk });
  }
  const started = performance.now();
  for (let start = 0; start < total; start += chunk) {
    renderImageBytes(plan, { start, count: chunk });
  }
  const seconds = (performance.now() - started) / 1000;
  console.log("Render + quantize, one thread, 16x16:");
  printTable(["images", "seconds", "images/s"], [[
    String(total),
    seconds.toFixed(3),
    Math.round(total / seconds).toLocaleString("en-US"),
  ]]);
  console.log();
}

// 2. End to end.
const outputRoot = await Deno.makeTempDir({ prefix: "dsgen-bench-" });
try {
  const rows: string[][] = [];
  for (const numImages of [1_000, 100_000, 1_000_000, 10_000_000]) {
    if (numImages > maxImages) continue;
    for (const workers of [...new Set([1, cores])]) {
      const out = `${outputRoot}/run`;
      const result = await measureGenerate(
        ["--num-images", String(numImages), "--seed", "42", "--workers", String(workers)],
        out,
      );
      const bytes = result.metadata.files[0]!.bytes;
      const used = result.metadata.run.workers;
      rows.push([
        numImages.toLocaleString("en-US"),
        used === workers ? String(workers) : `${workers} (${used} used)`,
        result.seconds.toFixed(2),
        Math.round(numImages / result.seconds).toLocaleString("en-US"),
        megabytes(result.peakRssBytes),
        megabytes(bytes),
      ]);
      await Deno.remove(out, { recursive: true });
      console.error(`  done: ${numImages} images, ${workers} worker(s)`);
    }
  }
  console.log("End to end (process start to published version), 16x16 uint8:");
  printTable(["images", "workers", "wall s", "images/s", "peak RSS MB", "file MB"], rows);
  console.log();

  // 3. The uint8 saving against the float64 baseline.
  const compareImages = Math.min(1_000_000, maxImages);
  const sizes: Record<string, { images: number; file: number }> = {};
  for (const dtype of ["uint8", "float64"]) {
    const out = `${outputRoot}/${dtype}`;
    const result = await measureGenerate(
      ["--num-images", String(compareImages), "--seed", "42", "--dtype", dtype],
      out,
    );
    const archive = `${result.versionPath}/dataset.npz`;
    sizes[dtype] = {
      images: await npzEntryBytes(archive, "images.npy"),
      file: (await Deno.stat(archive)).size,
    };
    await Deno.remove(out, { recursive: true });
  }
  const u8 = sizes.uint8!, f64 = sizes.float64!;
  console.log(`uint8 against float64, ${compareImages.toLocaleString("en-US")} images of 16x16:`);
  printTable(["dtype", "images.npy bytes", "dataset.npz bytes"], [
    ["float64", f64.images.toLocaleString("en-US"), f64.file.toLocaleString("en-US")],
    ["uint8", u8.images.toLocaleString("en-US"), u8.file.toLocaleString("en-US")],
    [
      "ratio",
      `${(f64.images / u8.images).toFixed(3)}x`,
      `${(f64.file / u8.file).toFixed(3)}x`,
    ],
  ]);

  // 4. The full dsprites grid.
  if (values["skip-grid"] !== true) {
    const out = `${outputRoot}/grid`;
    const result = await measureGenerate(
      ["--generator", "dsprites", "--grid", "--workers", String(cores)],
      out,
    );
    const numImages = result.metadata.num_images;
    console.log();
    console.log("The full dsprites grid, 64x64 uint8, every core:");
    printTable(["images", "workers", "wall s", "images/s", "peak RSS MB", "file MB"], [[
      numImages.toLocaleString("en-US"),
      String(result.metadata.run.workers),
      result.seconds.toFixed(2),
      Math.round(numImages / result.seconds).toLocaleString("en-US"),
      megabytes(result.peakRssBytes),
      megabytes(result.metadata.files[0]!.bytes),
    ]]);
    await Deno.remove(out, { recursive: true });
  }
} finally {
  await Deno.remove(outputRoot, { recursive: true });
}
