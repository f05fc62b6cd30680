/**
 * An external renderer that returns zeros (bench/zeros_renderer.py) through `--generator-cmd`:
 * what the protocol itself costs (the target: 200,000 16x16 images/s), and the memory estimate
 * against the measured peak of the whole process tree (dsgen and its renderers). Part of
 * `deno task bench`; alone: `deno run -A bench/renderer_bench.ts`.
 *
 * @module
 */

import { machineLine, measureGenerate, megabytes, printTable } from "./run_dsgen.ts";

/**
 * Runs the renderer benchmark and prints its table.
 *
 * @param outputRoot A scratch folder for the runs.
 */
export async function benchRenderer(outputRoot: string): Promise<void> {
  const cores = navigator.hardwareConcurrency;
  console.log();

  // 4. An external renderer that returns zeros: what the protocol itself costs, and the memory
  // estimate against the measured peak of the whole process tree (dsgen + renderers).
  const rendererRows: string[][] = [];
  const renderers = [
    { size: 16, dtype: "uint8", images: 2_000_000 },
    { size: 16, dtype: "float32", images: 1_000_000 },
    { size: 64, dtype: "float32", images: 100_000 },
  ];
  for (const { size, dtype, images } of renderers) {
    const numImages = images;
    for (const workers of [...new Set([1, cores])]) {
      const out = `${outputRoot}/renderer`;
      const result = await measureGenerate([
        "--generator-cmd",
        `python3 ${new URL("./zeros_renderer.py", import.meta.url).pathname} ${size} ${dtype}`,
        "--num-images",
        String(numImages),
        "--seed",
        "42",
        "--workers",
        String(workers),
      ], out);
      const memory = result.metadata.run.memory;
      const measured = memory.measured_peak_bytes ?? NaN;
      rendererRows.push([
        `${size}x${size} ${dtype}`,
        numImages.toLocaleString("en-US"),
        String(result.metadata.run.workers),
        result.seconds.toFixed(2),
        Math.round(numImages / result.seconds).toLocaleString("en-US"),
        megabytes(memory.estimated_peak_bytes),
        megabytes(measured),
        `${((memory.estimated_peak_bytes / measured - 1) * 100).toFixed(1)}%`,
      ]);
      await Deno.remove(out, { recursive: true });
      console.error(`  done: renderer ${size} ${dtype}, ${workers} process(es)`);
    }
  }
  console.log(
    "External renderer returning zeros (--generator-cmd python3 bench/zeros_renderer.py), " +
      "stored as uint8; memory of the whole process tree:",
  );
  printTable([
    "answers",
    "images",
    "processes",
    "wall s",
    "images/s",
    "estimated MB",
    "measured MB",
    "estimate error",
  ], rendererRows);
}

if (import.meta.main) {
  console.log(`Machine: ${machineLine()}\n`);
  const outputRoot = await Deno.makeTempDir({ prefix: "dsgen-bench-" });
  try {
    await benchRenderer(outputRoot);
  } finally {
    await Deno.remove(outputRoot, { recursive: true });
  }
}
