/**
 * `deno task bench:scenes`: how fast one thread renders scenes with every array, and how long
 * `dsgen generate` takes end to end for 100,000 colored_on_colored 64x64 scenes (4.9 GB of
 * arrays), so that the time can be split between rendering and writing.
 *
 * Renders `--scenes` scenes (default 20,000) in chunks of 1,000 reused from one allocation,
 * into every array of the schema, `--rounds` times (default 5) after a warm-up round, and
 * prints a Markdown table: scenes/s (range over rounds), CPU seconds per 100,000 scenes, the
 * bytes of arrays produced per second, and what 100,000 scenes would take to render alone on 2
 * threads at that rate. Rows: the drawing of factors alone; the whole rendering; and the
 * rendering followed by what an archive writer does at least with the bytes (node:zlib's CRC-32
 * of each array and a write to one file per array in `--dir`, default a new temporary folder on
 * the temporary folder's disk; `--dir /dev/shm/x` for memory), still on one thread, with the
 * file's `fsync` at the end of each round (Deno asks for `--allow-all` to write under /dev, so
 * run the file with `deno run -A` for `--dir /dev/shm/...`). `--preset`, `--image-size` and `--no-overlap`
 * choose another configuration.
 *
 * Then, end to end: `--e2e-scenes` scenes (default 100,000; 0 to skip) through
 * `dsgen generate --generator scenes` in a child process, `--e2e-rounds` times (default 2),
 * every array written to `dataset.npz` in `--dir`: wall and CPU seconds, the bytes written,
 * and the peak RSS against the plan's estimate.
 *
 * The machine may be shared: the CPU seconds are steadier than the wall-clock rates.
 *
 * @module
 */

import { join } from "node:path";
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { crc32 } from "node:zlib";
import { createSceneFactors, SceneRenderer } from "../src/generators/scenes.ts";
import { allocateChunk, sampleBytes } from "../src/generators/sample_schema.ts";
import { machineLine, measureGenerate, megabytes, printTable, range } from "./run_dsgen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scenes: { type: "string" },
    "e2e-scenes": { type: "string" },
    "e2e-rounds": { type: "string" },
    rounds: { type: "string" },
    preset: { type: "string" },
    "image-size": { type: "string" },
    "no-overlap": { type: "boolean" },
    dir: { type: "string" },
  },
  strict: true,
});
const numScenes = Number(values.scenes ?? 20_000);
const rounds = Math.max(1, Number(values.rounds ?? 5));
const CHUNK = 1_000;
const options = {
  preset: values.preset ?? "colored_on_colored",
  imageSize: Number(values["image-size"] ?? 64),
  overlap: !values["no-overlap"],
};

const renderer = new SceneRenderer(options);
const chunk = allocateChunk(renderer.schema, CHUNK);
const factors = createSceneFactors(renderer.config.maxK, renderer.config.channels);

const dir = values.dir ?? await Deno.makeTempDir({ prefix: "dsgen-scenes-bench-" });
await Deno.mkdir(dir, { recursive: true });
let files: Deno.FsFile[] = [];

/** Times `work` over `numScenes` scenes: [wall seconds, CPU seconds]. */
function timed(work: (start: number, count: number) => void): [number, number] {
  files = chunk.arrays.map((array) =>
    Deno.openSync(join(dir, `${array.spec.name}.bin`), {
      write: true,
      create: true,
      truncate: true,
    })
  );
  const cpuBefore = cpuUsage(), before = performance.now();
  for (let start = 0; start < numScenes; start += CHUNK) {
    work(start, Math.min(CHUNK, numScenes - start));
  }
  for (const file of files) {
    file.syncSync();
    file.close();
  }
  const cpu = cpuUsage(cpuBefore);
  return [(performance.now() - before) / 1000, (cpu.user + cpu.system) / 1e6];
}

const stages: [string, (start: number, count: number) => void][] = [
  ["draw factors", (start, count) => {
    for (let index = start; index < start + count; index++) renderer.draw(0, index, factors);
  }],
  ["draw + render every array", (start, count) => {
    if (count === CHUNK) renderer.renderChunk(0, start, chunk);
    else {
      for (let sample = 0; sample < count; sample++) {
        renderer.renderScene(0, start + sample, { chunk, sample });
      }
    }
  }],
  ["render + CRC-32 + write", (start, count) => {
    renderer.renderChunk(0, start, chunk);
    chunk.arrays.forEach((array, index) => {
      const bytes = new Uint8Array(
        array.view.buffer,
        0,
        count * array.view.BYTES_PER_ELEMENT * array.elementsPerSample,
      );
      crc32(bytes);
      let written = 0;
      while (written < bytes.length) written += files[index]!.writeSync(bytes.subarray(written));
    });
  }],
];

const bytesPerScene = sampleBytes(renderer.schema);
console.log(machineLine());
console.log(
  `scenes ${JSON.stringify(renderer.config)}, ${numScenes} scenes x ${rounds} rounds, one ` +
    `thread, ${bytesPerScene} bytes of arrays per scene`,
);
const rows: string[][] = [];
for (const [name, work] of stages) {
  timed(work); // Warm-up: the JIT compiles the hot loops.
  const rates: number[] = [], cpus: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [wall, cpu] = timed(work);
    rates.push(numScenes / wall);
    cpus.push((cpu / numScenes) * 100_000);
  }
  const best = Math.max(...rates);
  rows.push([
    name,
    range(rates, 0),
    range(cpus, 2),
    name !== "draw factors" ? range(rates.map((rate) => (rate * bytesPerScene) / 1e6), 0) : "",
    (100_000 / (2 * best)).toFixed(2),
  ]);
}
for (const file of chunk.arrays) await Deno.remove(join(dir, `${file.spec.name}.bin`));
if (values.dir === undefined) await Deno.remove(dir);
console.log(`written to ${values.dir ?? "a temporary folder"}`);
printTable(
  ["stage", "scenes/s", "CPU s per 100K", "MB/s of arrays", "100K on 2 threads, s (best)"],
  rows,
);

// End to end: `dsgen generate --generator scenes` in a child process, every array written to
// dataset.npz in --dir (default: a temporary folder on the temporary folder's disk), with the
// SHA-256, the spills of the later arrays and the metadata; wall time, CPU seconds of all
// threads and peak RSS from /usr/bin/time, against the plan's memory estimate.
const e2eScenes = Number(values["e2e-scenes"] ?? 100_000);
const e2eRounds = Number(values["e2e-rounds"] ?? 2);
if (e2eScenes > 0 && e2eRounds > 0) {
  const e2eRows: string[][] = [];
  const walls: number[] = [], cpus: number[] = [], peaks: number[] = [];
  let estimate = 0, bytes = 0;
  for (let round = 0; round < e2eRounds; round++) {
    const out = await Deno.makeTempDir({
      prefix: "dsgen-scenes-e2e-",
      ...(values.dir === undefined ? {} : { dir: values.dir }),
    });
    try {
      const measured = await measureGenerate([
        "--generator",
        "scenes",
        "--preset",
        options.preset,
        "--image-size",
        String(options.imageSize),
        ...(options.overlap ? [] : ["--no-overlap"]),
        "--num-images",
        String(e2eScenes),
        "--seed",
        "1",
      ], out);
      walls.push(measured.seconds);
      cpus.push(measured.cpuSeconds);
      peaks.push(measured.peakRssBytes);
      estimate = measured.metadata.run.memory.estimated_peak_bytes;
      bytes = measured.metadata.files.reduce((total, file) => total + file.bytes, 0);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  }
  e2eRows.push([
    `${e2eScenes} ${options.preset} ${options.imageSize}x${options.imageSize}`,
    range(walls, 1),
    range(cpus, 1),
    megabytes(bytes),
    range(peaks.map((peak) => peak / 1e6), 1),
    megabytes(estimate),
  ]);
  console.log(
    `\nend to end (dsgen generate, every array, ${e2eRounds} rounds, in ` +
      `${values.dir ?? "a temporary folder"}):`,
  );
  printTable(
    ["run", "wall s", "CPU s", "MB written", "peak RSS MB", "estimated MB"],
    e2eRows,
  );
}
