/**
 * `deno task bench:merge`: how fast the merge of a sharded run copies, against `cat` of the same
 * slice files, and that its memory stays flat whatever the size.
 *
 * For N = 1,000,000 and 10,000,000 16x16 images in 16 slices, on a tmpfs the bench mounts (when
 * it runs as root: the pipeline's own speed) and on the temporary folder's disk: renders the
 * slices once (in this process, every core), then, for each round, times
 * 1. `cat` of the slice files into one file, then `sync` (the merge syncs its archive too);
 * 2. `dsgen merge` as a separate process (under `/usr/bin/time` for its peak RSS) of a copy of
 *    the run folder made of hard links (the merge removes its run folder once published).
 * Every timed step starts after a `sync`, with nothing left to flush. Prints, as a Markdown
 * table, ranges over the rounds: the merge's wall time (process start to published version),
 * MB/s, the write phase alone (metadata.json's `duration_seconds`), the peak RSS, and `cat`.
 * The slice files were just written, so they are read from the page cache, as a merge right
 * after its last slice reads them.
 *
 * On this project's virtual machine the disk's figures swing widely: the same `dd` of 2.7 GB
 * took from 2.0 s to 10.4 s of mostly system time within minutes. Compare a merge with the
 * `cat` of the same round, not across runs.
 *
 * `--max-images N` skips larger runs; `--rounds R` (default 3); `--disk-only` skips the tmpfs;
 * `--no-header` leaves out the machine and date lines (`deno task bench` runs this bench too).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { runSlice } from "../src/cluster/slice.ts";
import { runFolder } from "../src/cluster/run_folder.ts";
import { machineLine, megabytes, printTable, range, RUN_FLAGS } from "./run_dsgen.ts";
import { mountSmallDisk, tmpfsUnavailable } from "../tests/fault_fixtures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "max-images": { type: "string" },
    rounds: { type: "string" },
    "disk-only": { type: "boolean" },
    "no-header": { type: "boolean" },
  },
  strict: true,
});
const maxImages = Number(values["max-images"] ?? 10_000_000);
const rounds = Math.max(1, Number(values.rounds ?? 3));
const SHARDS = 16;
const ROOT = new URL("../", import.meta.url).pathname;

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stderr: "piped" }).output();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
}

/** Renders the slices under `root`, then times cat and merge for each round. */
async function benchAt(root: string, where: string): Promise<string[][]> {
  const rows: string[][] = [];
  for (const numImages of [1_000_000, 10_000_000]) {
    if (numImages > maxImages) continue;
    const spec = {
      family: { name: "shapes", options: {} },
      seed: 7,
      numImages,
      imageSize: 16,
      dtype: "uint8" as const,
    };
    const slicesDir = join(root, "slices");
    const folder = runFolder(join(slicesDir, "shapes16"), "bench");
    // Hold the merge back: the last slice finds a merge "under way" and leaves it to us.
    await Deno.mkdir(folder, { recursive: true });
    await Deno.mkdir(join(folder, "merge.lock"));
    const renderStart = performance.now();
    for (let index = 0; index < SHARDS; index++) {
      await runSlice(spec, slicesDir, { shards: SHARDS, index, runId: "bench" });
    }
    const renderSeconds = (performance.now() - renderStart) / 1000;
    await Deno.remove(join(folder, "merge.lock"));
    const slices = [...Deno.readDirSync(folder)].map((entry) => entry.name)
      .filter((name) => /^slice-\d+-of-\d+\.bin$/.test(name)).sort().map((name) =>
        join(folder, name)
      );

    const measured = { wall: [] as number[], write: [] as number[], peak: [] as number[] };
    const cat: number[] = [];
    let bytes = 0;
    for (let round = 0; round < rounds; round++) {
      await run("sync", []);
      const copy = join(root, "copy.bin");
      const catStart = performance.now();
      await run("sh", ["-c", `cat "$@" > ${copy} && sync ${copy}`, "sh", ...slices]);
      cat.push((performance.now() - catStart) / 1000);
      const copyBytes = (await Deno.stat(copy)).size;
      await Deno.remove(copy);

      const datasetDir = join(root, "merged", "shapes16");
      await Deno.mkdir(datasetDir, { recursive: true });
      await run("cp", ["-al", folder, runFolder(datasetDir, "bench")]);
      await run("sync", []);
      const dsgen = [Deno.execPath(), "run", ...RUN_FLAGS, join(ROOT, "main.ts")];
      const mergeStart = performance.now();
      const merge = await new Deno.Command("/usr/bin/time", {
        args: ["-f", "%M", ...dsgen, "merge", datasetDir, "--run-id", "bench", "--quiet"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      measured.wall.push((performance.now() - mergeStart) / 1000);
      const stderr = new TextDecoder().decode(merge.stderr).trim();
      if (!merge.success) throw new Error(`dsgen merge failed: ${stderr}`);
      const version = new TextDecoder().decode(merge.stdout).trim();
      const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      bytes = metadata.files[0].bytes as number;
      measured.write.push(metadata.run.duration_seconds as number);
      measured.peak.push(Number(stderr.split("\n").at(-1)) * 1024);
      cat[cat.length - 1] = copyBytes / 1e6 / cat.at(-1)!;
      await Deno.remove(join(root, "merged"), { recursive: true });
      console.error(`  done: ${where}, ${numImages} images, round ${round + 1}`);
    }
    rows.push([
      where,
      numImages.toLocaleString("en-US"),
      megabytes(bytes),
      renderSeconds.toFixed(1),
      range(measured.wall, 2),
      range(measured.wall.map((seconds) => bytes / 1e6 / seconds), 0),
      range(measured.write, 2),
      range(measured.write.map((seconds) => bytes / 1e6 / seconds), 0),
      range(measured.peak.map((peak) => peak / 1e6), 1),
      range(cat, 0),
    ]);
    await Deno.remove(slicesDir, { recursive: true });
  }
  return rows;
}

if (values["no-header"] !== true) {
  console.log(`Machine: ${machineLine()}`);
  console.log(`Date: ${new Date().toISOString()}\n`);
}
const rows: string[][] = [];
if (values["disk-only"] !== true) {
  const reason = await tmpfsUnavailable();
  if (reason !== undefined) console.log(`tmpfs skipped: ${reason}\n`);
  else {
    await using disk = await mountSmallDisk(8 * 1024 ** 3);
    rows.push(...await benchAt(disk.path, "tmpfs"));
  }
}
const onDisk = await Deno.makeTempDir({ prefix: "dsgen-merge-bench-" });
try {
  rows.push(...await benchAt(onDisk, `disk (${Deno.env.get("TMPDIR") ?? "/tmp"})`));
} finally {
  await Deno.remove(onDisk, { recursive: true });
}
console.log(
  `Merge of a sharded run (16x16 uint8, ${SHARDS} slices), \`dsgen merge\` as its own process, ` +
    `${rounds} round(s):`,
);
printTable(
  [
    "where",
    "images",
    "archive (MB)",
    "render slices (s)",
    "merge wall (s)",
    "MB/s wall",
    "write phase (s)",
    "MB/s write",
    "peak RSS (MB)",
    "cat + sync (MB/s)",
  ],
  rows,
);
