/**
 * `deno task bench`: speed, memory and size of `dsgen generate`, measured from outside.
 *
 * Prints, as Markdown tables, with the machine and the date:
 * 0. the parallel capacity, at the start and at the end: how much work 2 threads (every core)
 *    do against one. On a virtual machine whose cores are shared with other guests this moves
 *    from run to run (measured here: from 1.1x to 2.0x within minutes), and every multi-thread
 *    figure moves with it;
 * 1. render + quantize throughput on one thread (16x16, no I/O), best and worst of 3 rounds;
 *    then rendering alone through the worker pool, 1 render thread against 2 (16x16 and 64x64,
 *    nothing written or hashed): how much 2 threads can gain before any writing;
 * 2. end-to-end runs (process start to published version, SHA-256 and CRC-32 included) on
 *    one core (`taskset -c 0`: everything on one thread), with `--workers 1` (which may add a
 *    hashing thread), with every core and with the default plan (the render threads and hashing
 *    thread dsgen's model picks, see src/pipeline/thread_plan.ts): 1,000,000 images of 16x16,
 *    100,000 of 64x64, 20,000 of 256x256 and the full dsprites grid (737,280 of 64x64, 3.07 GB;
 *    no one-core run), the plans alternated within each round; the time ratio against one
 *    core, the CPU seconds of all threads (on a loaded machine, wall times stretch while CPU
 *    seconds barely move), peak RSS (`/usr/bin/time`) against the estimate dsgen printed, and
 *    the archive size; then the thread-plan table: the default against `--workers 1` and
 *    `--workers N`, wall and CPU medians (ranges) and the ratios default / explicit taken
 *    within each round;
 * 3. the uint8 saving: the same dataset as uint8 and as float64 (the unquantized baseline);
 * 4. an external renderer returning zeros (`--generator-cmd`): images/s through the protocol
 *    (the target is 200,000 16x16 images/s) and the memory estimate against the measured peak
 *    of the process tree (bench/renderer_bench.ts);
 * 5. `dsgen inspect` against `dsgen generate` of the full dsprites grid at 16, 32 and 64 pixels
 *    (the target: inspect no slower than generate), with inspect's CPU seconds and peak RSS;
 * 6. the merge's throughput: bench/merge_bench.ts for 1,000,000 16x16 images in 16 slices, one
 *    round (`deno task bench:merge` runs more);
 * 7. what a recipe's splits and distributions cost (docs/recipes.md; the target is at most
 *    10% of the generation speed): 1,000,000 dsprites images of 16x16, default plan, as one
 *    archive against a recipe of two splits (900,000 images outside Montero et al.'s
 *    extrapolation region with orientation and posX correlated, 100,000 inside it), and
 *    against 8 splits of 125,000 (one eighth of posX's range each), alternated, `--rounds`
 *    times.
 *
 * Runs write to a tmpfs the bench mounts when it runs as root, else to the temporary folder;
 * `--output-dir D` writes under D instead (e.g. a disk, to see the disk's limit).
 * `--max-images N` skips larger runs (e.g. `deno task bench --max-images 100000`);
 * `--rounds R` repeats each end-to-end run R times (default 3; inspect runs min(R, 3) rounds;
 * the whole bench took 15 minutes at R = 3 on this project's 2-core machine while other
 * sessions' benchmarks kept its load average at 10-13); `--skip-grid` skips the grid rows and 5;
 * `--skip-inspect` skips 5; `--skip-merge` skips 6.
 * Other processes on the machine move these figures: report ranges over runs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { generators } from "../src/generators/registry.ts";
import { renderImageBytes } from "../src/pipeline/render.ts";
import { chunkImages } from "../src/pipeline/dataset.ts";
import { workerSampleChunks } from "../src/pipeline/worker_pool.ts";
import {
  machineLine,
  measureGenerate,
  measureInspect,
  median,
  megabytes,
  npzEntryBytes,
  printTable,
  range,
  RUN_FLAGS,
} from "./run_dsgen.ts";
import { benchRenderer } from "./renderer_bench.ts";
import type { SpinRequest } from "./spin_worker.ts";
import { mountSmallDisk, tmpfsUnavailable } from "../tests/fault_fixtures.ts";
import { posXSplits, twoSplits } from "./recipes.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "max-images": { type: "string" },
    rounds: { type: "string" },
    "output-dir": { type: "string" },
    "skip-grid": { type: "boolean" },
    "skip-inspect": { type: "boolean" },
    "skip-merge": { type: "boolean" },
  },
  strict: true,
});
const maxImages = Number(values["max-images"] ?? 1_000_000);
const rounds = Math.max(1, Number(values.rounds ?? 3));
const inspectRounds = Math.min(rounds, 3);
const cores = navigator.hardwareConcurrency;

console.log(`Machine: ${machineLine()}`);
console.log(`Date: ${new Date().toISOString()}\n`);

// 0. How much of its second core the machine gives now: a virtual machine's cores may be
// shared with other guests, which no CPU-time figure shows; and two cores of one machine may
// share caches and memory, which integer work in registers does not show but rendering does.
async function spin(threads: number, request: SpinRequest): Promise<number> {
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL("./spin_worker.ts", import.meta.url), { type: "module" }),
  );
  try {
    const counts = await Promise.all(workers.map((worker) =>
      new Promise<number>((resolve) => {
        worker.onmessage = (event) => resolve(event.data.rounds);
        worker.postMessage(request);
      })
    ));
    return counts.reduce((sum, count) => sum + count, 0);
  } finally {
    for (const worker of workers) worker.terminate();
  }
}
async function printCapacity(when: string): Promise<void> {
  const ratio = async (work: SpinRequest["work"]) => {
    // A short first run lets each thread compile the work before the measured second.
    await spin(1, { milliseconds: 200, work });
    const one = await spin(1, { milliseconds: 1000, work });
    return await spin(cores, { milliseconds: 1000, work }) / one;
  };
  const integer = await ratio("integer");
  const render = await ratio("render");
  console.log(
    `Parallel capacity ${when}: ${cores} threads do ${integer.toFixed(2)}x the integer work ` +
      `of one, and render ${render.toFixed(2)}x the 16x16 images (${cores}.00 when every core ` +
      `is the machine's own and shares nothing)\n`,
  );
}
await printCapacity("at the start");

// 1. Render + quantize on one thread.
{
  const generator = generators.get("shapes").create({ imageSize: 16 });
  const plan = { generator, seed: 1, dtype: "uint8" as const };
  const total = 1_000_000, chunk = 256;
  const out = new Uint8Array(chunk * 256);
  for (let start = 0; start < 100_000; start += chunk) {
    renderImageBytes(plan, { start, count: chunk, out });
  }
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let start = 0; start < total; start += chunk) {
      renderImageBytes(plan, { start, count: chunk, out });
    }
    rates.push(total / ((performance.now() - started) / 1000));
  }
  const format = (rate: number) => Math.round(rate).toLocaleString("en-US");
  console.log("Render + quantize, one thread, 16x16 (3 rounds of 1,000,000 images):");
  printTable(["best images/s", "worst images/s"], [[
    format(Math.max(...rates)),
    format(Math.min(...rates)),
  ]]);
  console.log();
}

// 1b. Rendering alone through the worker pool: 1 render thread against 2, nothing written or
// hashed (this thread only takes the chunks). Both start cold, as in a run. What 2 threads can
// gain over 1 before any writing: the bound of every multi-thread row below.
{
  const rows: string[][] = [];
  for (const [imageSize, numImages] of [[16, 1_000_000], [64, 100_000]] as const) {
    const generator = generators.get("shapes").create({ imageSize });
    const plan = {
      generator,
      numImages,
      seed: 1,
      dtype: "uint8" as const,
      chunkImages: chunkImages(imageSize, "uint8"),
    };
    const seconds = async (workers: number) => {
      const started = performance.now();
      const options = { workers, family: { name: "shapes", options: {} } };
      for await (const _ of workerSampleChunks(plan, options)) { /* taken, not written */ }
      return (performance.now() - started) / 1000;
    };
    const one: number[] = [], two: number[] = [], ratios: number[] = [];
    for (let round = 0; round < Math.max(3, rounds); round++) {
      one.push(await seconds(1));
      two.push(await seconds(2));
      ratios.push(two.at(-1)! / one.at(-1)!);
    }
    rows.push([
      `${numImages.toLocaleString("en-US")} x ${imageSize}²`,
      range(one, 2),
      range(two, 2),
      range(ratios, 2),
    ]);
  }
  console.log(
    "Rendering alone (worker pool, nothing written or hashed), " +
      `${Math.max(3, rounds)} rounds, 1 render thread against 2:`,
  );
  printTable(["images", "1 thread s", "2 threads s", "2 against 1"], rows);
  console.log();
}

// 2. End to end, 1 worker against every core, at three image sizes. On a tmpfs mounted for
// the bench when it runs as root (else the temporary folder): on this machine's virtual disk,
// writing and syncing 1.3 GB takes longer than rendering it, and no number of threads changes
// that; `--output-dir D` measures under D instead.
let disk: AsyncDisposable | undefined;
let outputRoot: string;
if (values["output-dir"] !== undefined) {
  outputRoot = await Deno.makeTempDir({ prefix: "dsgen-bench-", dir: values["output-dir"] });
} else if ((await tmpfsUnavailable()) === undefined) {
  // Room for the scenes' archive and its spill files (8.6 GB); a tmpfs takes only what is
  // written.
  const mounted = await mountSmallDisk(10 * 1024 ** 3);
  disk = mounted;
  outputRoot = mounted.path;
} else outputRoot = await Deno.makeTempDir({ prefix: "dsgen-bench-" });
console.log(
  `Output: ${outputRoot}${disk === undefined ? "" : " (a tmpfs mounted for the bench)"}\n`,
);
try {
  const rows: string[][] = [];
  const planRows: string[][] = [];
  // taskset (util-linux) pins a run to one CPU: the one-thread baseline.
  const taskset = ["/usr/bin/taskset", "/bin/taskset"].find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
  const baselineLabel = taskset === undefined ? "--workers 1" : "one core";
  const cases = [
    { numImages: 1_000_000, imageSize: 16, flags: [] as string[], name: "" },
    { numImages: 100_000, imageSize: 64, flags: [] as string[], name: "" },
    { numImages: 20_000, imageSize: 256, flags: [] as string[], name: "" },
    // The full dsprites grid, 737,280 images of 64x64 (3.07 GB).
    {
      numImages: 737_280,
      imageSize: 64,
      flags: ["--generator", "dsprites", "--grid"],
      name: "dsprites grid",
    },
    // 100,000 scenes with every array (4.93 GB; 3.7 GB of it spilled beside the archive while
    // the images stream): the target is 10 s end to end.
    {
      numImages: 100_000,
      imageSize: 64,
      flags: [
        ...["--generator", "scenes", "--preset", "colored_on_colored"],
        ...["--num-images", "100000", "--image-size", "64"],
      ],
      name: "scenes colored_on_colored",
    },
  ];
  const withRange = (numbers: number[], digits: number) =>
    numbers.length === 1
      ? numbers[0]!.toFixed(digits)
      : `${median(numbers).toFixed(digits)} (${range(numbers, digits)})`;
  for (const { numImages, imageSize, flags: familyFlags, name } of cases) {
    if (numImages > maxImages || (name === "dsprites grid" && values["skip-grid"] === true)) {
      continue;
    }
    const seconds = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    // One core (everything on one thread: the CPU affinity mask has one CPU, so no hashing
    // thread either; not for the grid, to keep the bench short), --workers 1, --workers N
    // (every core), and the default: the plan dsgen picks by its model. Alternated within each
    // round, so a change of the machine's load falls on every plan alike.
    const plans: { label: string; flags: string[]; prefix?: string[] }[] = [
      ...(taskset === undefined || name !== ""
        ? []
        : [{ label: "one core (taskset -c 0)", flags: [], prefix: [taskset, "-c", "0"] }]),
      { label: "--workers 1", flags: ["--workers", "1"] },
      {
        label: `--workers ${Math.max(2, cores)}`,
        flags: ["--workers", String(Math.max(2, cores))],
      },
      { label: "default", flags: [] },
    ];
    const title = `${numImages.toLocaleString("en-US")} x ${imageSize}²${name ? ` ${name}` : ""}`;
    const planOf = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      for (const { label, flags, prefix } of plans) {
        const out = `${outputRoot}/run`;
        const result = await measureGenerate(
          [
            ...(name === ""
              ? ["--num-images", String(numImages), "--image-size", String(imageSize)]
              : familyFlags),
            "--seed",
            "42",
            ...flags,
          ],
          out,
          prefix === undefined ? {} : { prefix },
        );
        await Deno.remove(out, { recursive: true });
        seconds.set(label, [...(seconds.get(label) ?? []), result.seconds]);
        cpu.set(label, [...(cpu.get(label) ?? []), result.cpuSeconds]);
        const times = seconds.get(label)!;
        const run = result.metadata.run;
        planOf.set(label, `${run.workers}${run.hash_thread ? " + hash thread" : ""}`);
        const single = seconds.get(plans[0]!.label) ?? [];
        const ratio = label === plans[0]!.label || single.length === 0
          ? ""
          : range(times.map((time, index) => time / (single[index] ?? single[0]!)), 2);
        if (round === rounds - 1) {
          rows.push([
            title,
            label,
            planOf.get(label)!,
            range(times, 2),
            range(cpu.get(label)!, 2),
            range(times.map((time) => numImages / time / 1000), 0),
            ratio,
            megabytes(result.peakRssBytes),
            megabytes(run.memory.estimated_peak_bytes),
            megabytes(result.metadata.files[0]!.bytes),
          ]);
        }
        console.error(`  done: ${title}, ${label}, ${result.seconds.toFixed(2)} s`);
      }
    }
    // The default against each explicit plan, round by round (the runs of a round ran side by
    // side in time): wall and CPU ratios, median and range.
    const pairwise = (label: string, of: Map<string, number[]>) =>
      of.get("default")!.map((value, index) => value / of.get(label)![index]!);
    const every = `--workers ${Math.max(2, cores)}`;
    planRows.push([
      title,
      planOf.get("default")!,
      withRange(seconds.get("default")!, 2),
      withRange(seconds.get("--workers 1")!, 2),
      withRange(seconds.get(every)!, 2),
      withRange(cpu.get("default")!, 2),
      withRange(cpu.get("--workers 1")!, 2),
      withRange(cpu.get(every)!, 2),
      withRange(pairwise("--workers 1", seconds), 2),
      withRange(pairwise(every, seconds), 2),
      withRange(pairwise("--workers 1", cpu), 2),
      withRange(pairwise(every, cpu), 2),
    ]);
  }
  console.log(
    `End to end (process start to published version, SHA-256 included), uint8, ${rounds} ` +
      `round(s):`,
  );
  printTable([
    "images",
    "flags",
    "render threads",
    "wall s",
    "CPU s",
    "k images/s",
    `time vs ${baselineLabel}`,
    "peak RSS MB",
    "estimate MB",
    "file MB",
  ], rows);
  console.log();
  const every = Math.max(2, cores);
  console.log(
    `The default plan against --workers 1 and --workers ${every}: medians (ranges) of ` +
      `${rounds} round(s), runs alternated; ratios are default / explicit, taken within each ` +
      "round (below 1: the default is faster or cheaper):",
  );
  printTable([
    "images",
    "default plan",
    "default wall s",
    "w1 wall s",
    `w${every} wall s`,
    "default CPU s",
    "w1 CPU s",
    `w${every} CPU s`,
    "wall vs w1",
    `wall vs w${every}`,
    "CPU vs w1",
    `CPU vs w${every}`,
  ], planRows);
  console.log();

  // 3. The uint8 saving against the float64 baseline.
  // At least 1,000 images, so that `--max-images 0` (render speed only) still runs.
  const compareImages = Math.max(1_000, Math.min(100_000, maxImages));
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
  console.log();

  // 7. The cost of splits and distributions (printed here, before the slower sections).
  await benchRecipe(outputRoot, Math.min(1_000_000, Math.max(10_000, maxImages)));

  // 4. An external renderer through the protocol.
  await benchRenderer(outputRoot);

  // 5. Inspect against generate, the full dsprites grid at 16, 32 and 64 pixels: the grid has
  // 307,200 images equal to an earlier one, which inspect compares byte for byte.
  if (values["skip-grid"] !== true && values["skip-inspect"] !== true) {
    const inspectRows: string[][] = [];
    for (const imageSize of [16, 32, 64]) {
      const generated: number[] = [], inspected: number[] = [];
      const generateCpu: number[] = [], inspectCpu: number[] = [], inspectRss: number[] = [];
      for (let round = 0; round < inspectRounds; round++) {
        const out = `${outputRoot}/inspect`;
        const result = await measureGenerate(
          ["--generator", "dsprites", "--grid", "--image-size", String(imageSize)],
          out,
        );
        generated.push(result.seconds);
        generateCpu.push(result.cpuSeconds);
        const inspection = await measureInspect(result.versionPath);
        inspected.push(inspection.seconds);
        inspectCpu.push(inspection.cpuSeconds);
        inspectRss.push(inspection.peakRssBytes);
        await Deno.remove(out, { recursive: true });
        console.error(
          `  done: inspect of the ${imageSize}² grid, ${inspection.seconds.toFixed(2)} s`,
        );
      }
      inspectRows.push([
        `${imageSize}x${imageSize}`,
        range(generated, 2),
        range(generateCpu, 2),
        range(inspected, 2),
        range(inspectCpu, 2),
        range(inspected.map((time, index) => time / generated[index]!), 2),
        range(inspectRss.map((bytes) => bytes / 1e6), 1),
      ]);
    }
    console.log(
      `Inspect against generate, the full dsprites grid (737,280 images, default plan), ` +
        `${inspectRounds} round(s), each inspect right after its generate:`,
    );
    printTable([
      "grid",
      "generate wall s",
      "generate CPU s",
      "inspect wall s",
      "inspect CPU s",
      "inspect / generate",
      "inspect peak RSS MB",
    ], inspectRows);
    console.log();
  }
} finally {
  if (disk !== undefined) await disk[Symbol.asyncDispose]();
  else await Deno.remove(outputRoot, { recursive: true });
}
// 6. The merge's throughput (bench/merge_bench.ts, 1,000,000 16x16 images in 16 slices, on a
// tmpfs when root, and the temporary folder's disk), one round: `deno task bench:merge` has more.
if (values["skip-merge"] !== true && maxImages >= 1_000_000) {
  console.log(
    "The merge of a sharded run (deno task bench:merge --max-images 1000000 --rounds 1):",
  );
  const merge = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...RUN_FLAGS,
      new URL("./merge_bench.ts", import.meta.url).pathname,
      "--max-images",
      "1000000",
      "--rounds",
      "1",
      "--no-header",
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!merge.success) console.log("(the merge bench failed; see above)");
  console.log();
}

await printCapacity("at the end");

/** Section 7: the same number of dsprites images as one archive and as a recipe's splits. */
async function benchRecipe(root: string, numImages: number): Promise<void> {
  const recipe = `${root}/recipe.json`;
  await Deno.writeTextFile(recipe, JSON.stringify({ ...twoSplits(numImages), seed: 42 }));
  // Eight splits, each an eighth of posX's 32 values: 125,000 images each of 1,000,000.
  const eightSplits = `${root}/recipe8.json`;
  await Deno.writeTextFile(
    eightSplits,
    JSON.stringify({ ...posXSplits(8, Math.floor(numImages / 8)), seed: 42 }),
  );
  const cases = [
    {
      label: "one archive",
      args: ["--generator", "dsprites", "--image-size", "16", "--num-images", String(numImages)],
    },
    { label: "recipe: 2 splits, 1 correlated pair", args: ["--recipe", recipe] },
    { label: "recipe: 8 splits", args: ["--recipe", eightSplits] },
  ];
  const seconds = cases.map((): number[] => []), cpu = cases.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, { args }] of cases.entries()) {
      const out = `${root}/recipe-run`;
      const result = await measureGenerate([...args, "--seed", "42"], out);
      await Deno.remove(out, { recursive: true });
      seconds[index]!.push(result.seconds);
      cpu[index]!.push(result.cpuSeconds);
    }
  }
  console.log(
    `Splits and distributions, ${numImages.toLocaleString("en-US")} dsprites images of 16x16, ` +
      `default plan, ${rounds} round(s) alternated:`,
  );
  printTable(
    ["run", "wall s", "CPU s", "k images/s", "wall vs one archive", "CPU vs one archive"],
    cases.map(({ label }, index) => [
      label,
      range(seconds[index]!, 2),
      range(cpu[index]!, 2),
      range(seconds[index]!.map((time) => numImages / time / 1000), 0),
      range(seconds[index]!.map((time, at) => time / seconds[0]![at]!), 2),
      range(cpu[index]!.map((time, at) => time / cpu[0]![at]!), 2),
    ]),
  );
  console.log();
}
