/**
 * `deno task bench:memory`: the memory estimate against the measured peak, from 1,000 to
 * 100,000,000 images.
 *
 * Each row runs dsgen in a child process and measures the peak of its whole process tree
 * (`process_tree.ts`: every process's `VmHWM`, summed, so an external renderer counts), and
 * prints the estimate dsgen printed before the run (recorded in metadata.json as
 * `run.memory.estimated_peak_bytes`), the measurement and the error. The rows: 16x16 uint8 at
 * 1K, 1M, 10M and 30M images with the default plan, 1M, 10M and 30M with `--workers 1`;
 * float64; 64x64 and 256x256; the dsprites grid; an external renderer (`zeros_renderer.py`,
 * and the float32 example `examples/python/render.py`); a Slurm-style run in two slices, the
 * slice index taken from `SLURM_ARRAY_TASK_ID`, whose second slice merges the run, and the same
 * run merged by a job of its own (`dsgen merge`, as an `afterok` job does); recipes with splits
 * (1,000,000 images in a train and a test split with a correlated pair, on one machine and in
 * 3 slices; 8 splits of 100,000 and of 1,000,000 images; the dsprites grid at 64x64 in two grid
 * splits).
 *
 * `--huge` adds 100,000,000 16x16 images (26 GB written, a few minutes) and prints the ratio of
 * its peak to the 1,000,000-image peak of the same plan: memory must stay flat. Output goes
 * to a folder under `--dir` (default /tmp, which must be a disk: the 30M run writes 7.7 GB).
 * `--only TEXT` runs the rows whose name contains TEXT.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { measureTree, type TreeMeasurement } from "./process_tree.ts";
import { machineLine, megabytes, printTable, RUN_FLAGS } from "./run_dsgen.ts";
import { MERGE_LOCK, RUN_FOLDER_PREFIX } from "../src/cluster/run_folder.ts";
import { posXSplits, twoSplits } from "./recipes.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const { values } = parseArgs({
  args: Deno.args,
  options: {
    huge: { type: "boolean", default: false },
    dir: { type: "string", default: "/tmp" },
    only: { type: "string" },
  },
  strict: true,
});

/** One run of the table. */
interface Row {
  /** What the row measures, as the table prints it. */
  name: string;
  /** The `dsgen generate` flags (without --output-dir, --yes, --quiet). */
  args: string[];
  /** Only with --huge. */
  huge?: boolean;
  /** A sharded run: its slices run one after the other, each measured as a row. */
  shards?: number;
  /**
   * The merge runs as a job of its own (`dsgen merge`, Slurm's `afterok` job): the last slice
   * finds the merge taken (a lock held by another host) and leaves it.
   */
  mergeJob?: boolean;
  /** A recipe, written to a file that `--recipe` names before `args`. */
  recipe?: { [key: string]: unknown };
}

const TWO_SPLITS = twoSplits(1_000_000);

const zeros = (size: number) => `python3 ${join(ROOT, "bench/zeros_renderer.py")} ${size} uint8`;
const ROWS: Row[] = [
  { name: "1K 16 uint8", args: ["--num-images", "1000"] },
  { name: "1M 16 uint8", args: ["--num-images", "1e6"] },
  { name: "10M 16 uint8", args: ["--num-images", "1e7"] },
  { name: "30M 16 uint8", args: ["--num-images", "3e7"] },
  { name: "100M 16 uint8", args: ["--num-images", "1e8"], huge: true },
  { name: "1M 16 uint8 --workers 1", args: ["--num-images", "1e6", "--workers", "1"] },
  { name: "10M 16 uint8 --workers 1", args: ["--num-images", "1e7", "--workers", "1"] },
  { name: "30M 16 uint8 --workers 1", args: ["--num-images", "3e7", "--workers", "1"] },
  { name: "1M 16 float64", args: ["--num-images", "1e6", "--dtype", "float64"] },
  { name: "1M 64 uint8", args: ["--num-images", "1e6", "--image-size", "64"] },
  {
    name: "100K 64 float64",
    args: ["--num-images", "1e5", "--image-size", "64", "--dtype", "float64"],
  },
  { name: "20K 256 uint8", args: ["--num-images", "2e4", "--image-size", "256"] },
  {
    name: "20K 256 uint8 --workers 1",
    args: ["--num-images", "2e4", "--image-size", "256", "--workers", "1"],
  },
  {
    name: "4K 256 float64",
    args: ["--num-images", "4000", "--image-size", "256", "--dtype", "float64"],
  },
  { name: "dsprites grid 64", args: ["--generator", "dsprites", "--grid"] },
  { name: "renderer zeros 1M 16", args: ["--num-images", "1e6", "--generator-cmd", zeros(16)] },
  {
    name: "renderer zeros 100K 64",
    args: ["--num-images", "1e5", "--generator-cmd", zeros(64)],
  },
  {
    name: "renderer render.py 20K float32",
    args: [
      "--num-images",
      "2e4",
      "--generator-cmd",
      `python3 ${join(ROOT, "examples/python/render.py")}`,
    ],
  },
  { name: "recipe 1M 16: 2 splits, 1 correlated pair", args: [], recipe: TWO_SPLITS },
  { name: "recipe 8 x 100K 16: 8 splits", args: [], recipe: posXSplits(8, 100_000) },
  { name: "recipe 8 x 1M 16: 8 splits", args: [], recipe: posXSplits(8, 1_000_000) },
  {
    name: "recipe dsprites grid 64: 2 grid splits",
    args: [],
    recipe: {
      family: { name: "dsprites", options: { grid: true } },
      image_size: 64,
      splits: [
        { name: "test", where: { preset: "montero_extrapolation" } },
        { name: "train", where: "rest" },
      ],
    },
  },
  { name: "10M 16 uint8 in 2 slices", args: ["--num-images", "1e7"], shards: 2 },
  { name: "recipe 1M 16: 2 splits in 3 slices", args: [], recipe: TWO_SPLITS, shards: 3 },
  {
    name: "10M 16 uint8 in 2 slices, merge job",
    args: ["--num-images", "1e7"],
    shards: 2,
    mergeJob: true,
  },
];

/** The estimate a run printed: `Estimated memory: 109.4 MB ...` (a slice prints no metadata). */
function printedEstimates(stderr: string): number[] {
  return [...stderr.matchAll(/Estimated memory: ([0-9.]+) MB/g)].map((match) => 1e6 * +match[1]!);
}

/** A slice's estimate without the merge: `...; 110.9 MB without it (...)`. */
function printedSliceAlone(stderr: string): number {
  return 1e6 * Number(/; ([0-9.]+) MB without it/.exec(stderr)![1]);
}

async function versionEstimate(stdout: string): Promise<number> {
  const path = stdout.trim().split("\n").pop()!;
  const metadata = JSON.parse(await Deno.readTextFile(join(path, "metadata.json")));
  return metadata.run.memory.estimated_peak_bytes;
}

function dsgen(args: string[]): string[] {
  return ["run", ...RUN_FLAGS, join(ROOT, "main.ts"), "generate", ...args, "--yes"];
}

console.log(`Machine: ${machineLine()}`);
console.log(`Date: ${new Date().toISOString()}`);
const commit = await new Deno.Command("git", { args: ["-C", ROOT, "rev-parse", "--short", "HEAD"] })
  .output();
console.log(`Commit: ${new TextDecoder().decode(commit.stdout).trim()}\n`);
const outputRoot = await Deno.makeTempDir({ dir: values.dir, prefix: "dsgen-membench-" });
const table: string[][] = [];
const peaks = new Map<string, number>();
let worst = 0;

function record(name: string, estimate: number, measured: TreeMeasurement, note: string): void {
  const error = (estimate - measured.peakBytes) / measured.peakBytes;
  worst = Math.max(worst, Math.abs(error));
  peaks.set(name, measured.peakBytes);
  // Renderer processes (tools such as cat that dsgen runs for a moment are left out).
  const renderers = measured.processes.filter((process) =>
    process.name !== "deno" && process.peakBytes > 5e6
  );
  table.push([
    name,
    note,
    megabytes(estimate),
    megabytes(measured.peakBytes),
    `${error >= 0 ? "+" : ""}${(100 * error).toFixed(1)}%`,
    renderers.length === 0
      ? ""
      : renderers.map((process) => megabytes(process.peakBytes)).join(" + "),
    measured.seconds.toFixed(1),
  ]);
  console.error(`  done: ${table[table.length - 1]!.join(" | ")}`);
}

function planNote(stderr: string): string {
  const plan = /^Plan: .*$/m.exec(stderr)?.[0] ?? "";
  const threads = /(\d+) (worker|renderer process)/.exec(plan);
  return (threads === null ? "?" : `${threads[1]} ${threads[2] === "worker" ? "w" : "proc"}`) +
    (plan.includes("SHA-256 on its own thread") ? " + hash" : "");
}

try {
  for (const row of ROWS) {
    if (row.huge === true && !values.huge) continue;
    if (values.only !== undefined && !row.name.includes(values.only)) continue;
    const out = join(outputRoot, "run");
    const args = [...row.args];
    if (row.recipe !== undefined) {
      const file = join(outputRoot, "recipe.json");
      await Deno.writeTextFile(file, JSON.stringify(row.recipe));
      args.unshift("--recipe", file);
    }
    if (row.shards === undefined) {
      // Not --quiet: the plan line says which threads the default chose.
      const measured = await measureTree(Deno.execPath(), [
        ...dsgen([...args, "--seed", "7", "--output-dir", out]),
      ]);
      record(row.name, await versionEstimate(measured.stdout), measured, planNote(measured.stderr));
    } else {
      // Slurm's way: the same command for every task, the index from the environment.
      const runFolder = join(out, "shapes16", `${RUN_FOLDER_PREFIX}4242`);
      for (let index = 0; index < row.shards; index++) {
        if (row.mergeJob === true && index === row.shards - 1) {
          await Deno.mkdir(join(runFolder, MERGE_LOCK));
          await Deno.writeTextFile(
            join(runFolder, MERGE_LOCK, "owner.json"),
            JSON.stringify({ host: "elsewhere", pid: 1, started_at: new Date().toISOString() }),
          );
        }
        const measured = await measureTree(
          Deno.execPath(),
          dsgen([...args, "--seed", "7", "--output-dir", out, "--shards", `${row.shards}`]),
          {
            env: {
              SLURM_ARRAY_JOB_ID: "4242",
              SLURM_ARRAY_TASK_ID: String(index),
              SLURM_ARRAY_TASK_COUNT: String(row.shards),
            },
          },
        );
        // The slice's own line (the merge prints its own estimate after it): a slice that
        // merges against its figure with the merge, one that does not (it found the run
        // incomplete, or the merge taken) against its figure without it.
        const merged = index === row.shards - 1 && row.mergeJob !== true;
        const estimate = merged
          ? printedEstimates(measured.stderr)[0]!
          : printedSliceAlone(measured.stderr);
        record(
          `${row.name}: slice ${index}${merged ? " + merge" : ""}`,
          estimate,
          measured,
          planNote(measured.stderr),
        );
      }
      if (row.mergeJob === true) {
        await Deno.remove(join(runFolder, MERGE_LOCK), { recursive: true });
        const measured = await measureTree(Deno.execPath(), [
          "run",
          ...RUN_FLAGS,
          join(ROOT, "main.ts"),
          "merge",
          join(out, "shapes16"),
          "--run-id",
          "4242",
        ]);
        record(
          `${row.name}: dsgen merge`,
          await versionEstimate(measured.stdout),
          measured,
          planNote(measured.stderr),
        );
      }
    }
    await Deno.remove(out, { recursive: true });
  }
} finally {
  await Deno.remove(outputRoot, { recursive: true });
}
printTable(
  ["run", "plan", "estimate MB", "measured MB", "error", "renderers MB", "seconds"],
  table,
);
console.log(`\nLargest error: ${(100 * worst).toFixed(1)}%`);
const small = peaks.get("1M 16 uint8"), huge = peaks.get("100M 16 uint8");
if (small !== undefined && huge !== undefined) {
  console.log(`Peak at 100M / peak at 1M (default plan): ${(huge / small).toFixed(3)}`);
}
const small1 = peaks.get("1M 16 uint8 --workers 1"), large1 = peaks.get("30M 16 uint8 --workers 1");
if (small1 !== undefined && large1 !== undefined) {
  console.log(`Peak at 30M / peak at 1M (--workers 1): ${(large1 / small1).toFixed(3)}`);
}
