/**
 * `deno task bench:memory`: the memory estimate against the measured peak.
 *
 * Runs `dsgen generate` for N = 1,000 / 100,000 / 1,000,000, image sizes 16 and 64, dtypes
 * uint8 and float64, with the default number of workers, measures each run's peak resident
 * set size from outside (`/usr/bin/time`), and prints the estimate dsgen printed (recorded in
 * metadata.json), the measurement and the error.
 *
 * `--max-images N` skips larger runs; `--max-bytes B` skips datasets larger than B bytes
 * (the 1,000,000-image 64x64 float64 run writes 32.8 GB).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { machineLine, measureGenerate, megabytes, printTable } from "./run_dsgen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { "max-images": { type: "string" }, "max-bytes": { type: "string" } },
  strict: true,
});
const maxImages = Number(values["max-images"] ?? 1_000_000);
const maxBytes = Number(values["max-bytes"] ?? Infinity);

console.log(`Machine: ${machineLine()}\n`);
const outputRoot = await Deno.makeTempDir({ prefix: "dsgen-membench-" });
const rows: string[][] = [];
let worst = 0;
try {
  for (const numImages of [1_000, 100_000, 1_000_000]) {
    for (const imageSize of [16, 64]) {
      for (const dtype of ["uint8", "float64"]) {
        const bytes = numImages * imageSize * imageSize * (dtype === "uint8" ? 1 : 8);
        if (numImages > maxImages || bytes > maxBytes) {
          console.error(`  skipped: ${numImages} images ${imageSize}px ${dtype}`);
          continue;
        }
        const out = `${outputRoot}/run`;
        const result = await measureGenerate([
          "--num-images",
          String(numImages),
          "--image-size",
          String(imageSize),
          "--dtype",
          dtype,
          "--seed",
          "7",
        ], out);
        await Deno.remove(out, { recursive: true });
        const estimate = result.metadata.run.memory.estimated_peak_bytes;
        const error = (estimate - result.peakRssBytes) / result.peakRssBytes;
        worst = Math.max(worst, Math.abs(error));
        rows.push([
          numImages.toLocaleString("en-US"),
          String(imageSize),
          dtype,
          String(result.metadata.run.workers) + (result.metadata.run.hash_thread ? " + hash" : ""),
          megabytes(estimate),
          megabytes(result.peakRssBytes),
          `${error >= 0 ? "+" : ""}${(100 * error).toFixed(1)}%`,
        ]);
        console.error(`  done: ${rows[rows.length - 1]!.join(" ")}`);
      }
    }
  }
} finally {
  await Deno.remove(outputRoot, { recursive: true });
}
printTable(
  ["images", "size", "dtype", "workers", "estimate MB", "measured MB", "error"],
  rows,
);
console.log(`\nLargest error: ${(100 * worst).toFixed(1)}%`);
