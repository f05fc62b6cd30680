/**
 * `deno task bench:merge`: how fast the merge of a sharded run copies, and that its memory
 * stays flat whatever the size.
 *
 * For N = 1,000,000 and 10,000,000 16x16 images in 16 slices: renders the slices (in this
 * process, every core), then times `dsgen merge` as a separate process (under `/usr/bin/time`
 * for its peak RSS). Prints, as a Markdown table: the archive's size, the merge's wall time
 * (process start to published version), the write phase alone (metadata.json's
 * `duration_seconds`), MB/s for each, the peak RSS, and, as the disk's reference, `cat` of the
 * same slice files into one file. The slice files were just written, so they are read from
 * the page cache, as a merge right after its last slice reads them.
 *
 * `--max-images N` skips larger runs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { runSlice } from "../src/cluster/slice.ts";
import { runFolder } from "../src/cluster/run_folder.ts";
import { machineLine, megabytes, printTable, RUN_FLAGS } from "./run_dsgen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { "max-images": { type: "string" } },
  strict: true,
});
const maxImages = Number(values["max-images"] ?? 10_000_000);
const SHARDS = 16;
const ROOT = new URL("../", import.meta.url).pathname;

console.log(`Machine: ${machineLine()}\n`);
const rows: string[][] = [];
const outputRoot = await Deno.makeTempDir({ prefix: "dsgen-merge-bench-" });
try {
  for (const numImages of [1_000_000, 10_000_000]) {
    if (numImages > maxImages) continue;
    const out = join(outputRoot, String(numImages));
    const spec = {
      family: { name: "shapes", options: {} },
      seed: 7,
      numImages,
      imageSize: 16,
      dtype: "uint8" as const,
    };
    const datasetDir = join(out, "shapes16");
    const folder = runFolder(datasetDir, "bench");
    // Hold the merge back: the last slice finds a merge "under way" and leaves it to us.
    await Deno.mkdir(folder, { recursive: true });
    await Deno.mkdir(join(folder, "merge.lock"));
    const renderStart = performance.now();
    for (let index = 0; index < SHARDS; index++) {
      await runSlice(spec, out, { shards: SHARDS, index, runId: "bench" });
    }
    const renderSeconds = (performance.now() - renderStart) / 1000;
    await Deno.remove(join(folder, "merge.lock"));

    // The disk's reference: the same bytes copied by cat.
    const slices = [...Deno.readDirSync(folder)].map((entry) => entry.name)
      .filter((name) => name.endsWith(".bin")).sort().map((name) => join(folder, name));
    const copy = join(outputRoot, "copy.bin");
    const catStart = performance.now();
    const cat = await new Deno.Command("sh", {
      args: ["-c", `cat "$@" > ${copy} && sync ${copy}`, "sh", ...slices],
    }).output();
    const catSeconds = (performance.now() - catStart) / 1000;
    if (!cat.success) throw new Error("cat failed");
    const copyBytes = (await Deno.stat(copy)).size;
    await Deno.remove(copy);

    const dsgen = [Deno.execPath(), "run", ...RUN_FLAGS, join(ROOT, "main.ts")];
    const mergeStart = performance.now();
    const merge = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%M", ...dsgen, "merge", datasetDir, "--run-id", "bench", "--quiet"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const mergeSeconds = (performance.now() - mergeStart) / 1000;
    const stderr = new TextDecoder().decode(merge.stderr).trim();
    if (!merge.success) throw new Error(`dsgen merge failed: ${stderr}`);
    const version = new TextDecoder().decode(merge.stdout).trim();
    const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
    const bytes = metadata.files[0].bytes as number;
    const writeSeconds = metadata.run.duration_seconds as number;
    const peak = Number(stderr.split("\n").at(-1)) * 1024;
    rows.push([
      numImages.toLocaleString("en-US"),
      String(SHARDS),
      megabytes(bytes),
      renderSeconds.toFixed(1),
      mergeSeconds.toFixed(2),
      (bytes / 1e6 / mergeSeconds).toFixed(0),
      writeSeconds.toFixed(2),
      (bytes / 1e6 / writeSeconds).toFixed(0),
      megabytes(peak),
      `${catSeconds.toFixed(2)} s, ${(copyBytes / 1e6 / catSeconds).toFixed(0)} MB/s`,
    ]);
    await Deno.remove(out, { recursive: true });
  }
} finally {
  await Deno.remove(outputRoot, { recursive: true });
}
console.log("Merge of a sharded run (16x16 uint8), `dsgen merge` as its own process:");
printTable(
  [
    "images",
    "slices",
    "archive (MB)",
    "render slices (s)",
    "merge wall (s)",
    "MB/s wall",
    "write phase (s)",
    "MB/s write",
    "peak RSS (MB)",
    "cat of the slices",
  ],
  rows,
);
