/**
 * `deno task bench:compare --baseline DIR`: this checkout's `dsgen generate` against another
 * checkout's (e.g. `git worktree add DIR <commit>` of the last recorded run), side by side:
 * the two alternated within each round (baseline, this, baseline, this, ...), so that a change
 * in the machine's load moves both alike.
 *
 * Rows: 1,000,000 images of 16x16 and 100,000 of 64x64 (`shapes`, uint8, the default plan),
 * then the full dsprites grid at 64x64 unless `--skip-grid`, then two recipes of 1,000,000
 * dsprites 16x16 images: the speed bench's two splits with a correlated pair, and 8 splits of
 * 125,000 (one eighth of posX's range each). For each: wall seconds and CPU
 * seconds (user + system, all threads) of both, as ranges over `--rounds` (default 5), and the
 * ratio this / baseline taken within each round (its median and range). Output goes to a tmpfs
 * the bench mounts when it runs as root, else to the temporary folder.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { machineLine, measureGenerate, median, printTable, range } from "./run_dsgen.ts";
import { mountSmallDisk, tmpfsUnavailable } from "../tests/fault_fixtures.ts";
import { posXSplits, twoSplits } from "./recipes.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    baseline: { type: "string" },
    rounds: { type: "string" },
    "skip-grid": { type: "boolean" },
  },
  strict: true,
});
if (values.baseline === undefined) {
  throw new Error("bench:compare needs --baseline DIR, a checkout of the commit to compare with");
}
const baseline = resolve(values.baseline);
await Deno.stat(`${baseline}/main.ts`);
const rounds = Math.max(1, Number(values.rounds ?? 5));

function commitOf(dir: string): string {
  const output = new Deno.Command("git", { args: ["-C", dir, "rev-parse", "--short", "HEAD"] })
    .outputSync();
  return output.success ? new TextDecoder().decode(output.stdout).trim() : "unknown";
}

console.log(`Machine: ${machineLine()}`);
console.log(`Date: ${new Date().toISOString()}`);
console.log(
  `Baseline: ${baseline} (commit ${commitOf(baseline)}); this: commit ${
    commitOf(new URL(".", import.meta.url).pathname)
  }; ${rounds} rounds, alternated\n`,
);

let disk: AsyncDisposable | undefined;
let outputRoot: string;
if ((await tmpfsUnavailable()) === undefined) {
  const mounted = await mountSmallDisk(6 * 1024 ** 3);
  disk = mounted;
  outputRoot = mounted.path;
} else outputRoot = await Deno.makeTempDir({ prefix: "dsgen-compare-" });

try {
  const runs: [string, string[]][] = [
    ["1,000,000 16x16", ["--num-images", "1000000", "--image-size", "16"]],
    ["100,000 64x64", ["--num-images", "100000", "--image-size", "64"]],
  ];
  if (!values["skip-grid"]) {
    runs.push(["dsprites grid 64x64", ["--generator", "dsprites", "--grid", "--image-size", "64"]]);
  }
  const twoSplitsFile = `${outputRoot}/recipe-2.json`;
  const eightSplitsFile = `${outputRoot}/recipe-8.json`;
  await Deno.writeTextFile(twoSplitsFile, JSON.stringify(twoSplits(1_000_000)));
  await Deno.writeTextFile(eightSplitsFile, JSON.stringify(posXSplits(8, 125_000)));
  runs.push(["recipe: 2 splits, 1 correlated pair", ["--recipe", twoSplitsFile]]);
  runs.push(["recipe: 8 splits of 125,000", ["--recipe", eightSplitsFile]]);
  const rows: string[][] = [];
  for (const [label, args] of runs) {
    const wall = { baseline: [] as number[], current: [] as number[] };
    const cpu = { baseline: [] as number[], current: [] as number[] };
    const wallRatios: number[] = [], cpuRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const side of ["baseline", "current"] as const) {
        const measured = await measureGenerate(
          [...args, "--seed", "7"],
          outputRoot,
          side === "baseline" ? { root: baseline } : {},
        );
        wall[side].push(measured.seconds);
        cpu[side].push(measured.cpuSeconds);
        await Deno.remove(measured.versionPath, { recursive: true });
      }
      wallRatios.push(wall.current[round]! / wall.baseline[round]!);
      cpuRatios.push(cpu.current[round]! / cpu.baseline[round]!);
    }
    rows.push([
      label,
      range(wall.baseline, 2),
      range(wall.current, 2),
      `${median(wallRatios).toFixed(3)} (${range(wallRatios, 3)})`,
      range(cpu.baseline, 2),
      range(cpu.current, 2),
      `${median(cpuRatios).toFixed(3)} (${range(cpuRatios, 3)})`,
    ]);
  }
  printTable(
    [
      "run",
      "baseline wall s",
      "this wall s",
      "this / baseline wall, median (range)",
      "baseline CPU s",
      "this CPU s",
      "this / baseline CPU, median (range)",
    ],
    rows,
  );
} finally {
  await disk?.[Symbol.asyncDispose]();
  if (disk === undefined) await Deno.remove(outputRoot, { recursive: true }).catch(() => {});
}
