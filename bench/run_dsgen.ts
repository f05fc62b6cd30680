/**
 * Runs `dsgen generate` in a child process and measures it from outside: wall time and peak
 * resident set size (`/usr/bin/time`'s "Maximum resident set size", i.e. the kernel's
 * ru_maxrss of the child). Shared by the benchmarks.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The same runtime flags the tasks and the compiled binary use. */
export const RUN_FLAGS: string[] = (() => {
  const task = denoJson.tasks.generate;
  return task.split(" ").filter((word) => word.startsWith("--allow") || word.startsWith("--v8"));
})();

/** What one measured run gives. */
export interface Measurement {
  seconds: number;
  peakRssBytes: number;
  /** User + system CPU seconds of the run, all threads (NaN without /usr/bin/time). */
  cpuSeconds: number;
  versionPath: string;
  metadata: {
    num_images: number;
    files: { name: string; bytes: number }[];
    arrays: { name: string; dtype: string; shape: number[] }[];
    run: {
      workers: number;
      hash_thread?: boolean;
      memory: { estimated_peak_bytes: number; measured_peak_bytes: number | null };
    };
  };
}

/**
 * Generates a dataset in a child process and measures it.
 *
 * @param args Flags for `dsgen generate` (`--yes --quiet` are added).
 * @param outputDir Where to write.
 * @param options `prefix`: a command to run dsgen through (e.g. `taskset -c 0`: one core);
 * `root`: the checkout whose `main.ts` runs (default: this one), e.g. an older commit's.
 * @returns Time, peak RSS and the version's metadata.
 */
export async function measureGenerate(
  args: string[],
  outputDir: string,
  options: { prefix?: string[]; root?: string } = {},
): Promise<Measurement> {
  const timeBinary = "/usr/bin/time";
  let hasTime = true;
  try {
    await Deno.stat(timeBinary);
  } catch {
    hasTime = false;
  }
  const dsgen = [
    ...(options.prefix ?? []),
    Deno.execPath(),
    "run",
    ...RUN_FLAGS,
    join(options.root ?? ROOT, "main.ts"),
    "generate",
  ];
  const allArgs = [...args, "--output-dir", outputDir, "--yes", "--quiet"];
  const started = performance.now();
  const command = hasTime
    ? new Deno.Command(timeBinary, {
      args: ["-f", "%M %U %S", ...dsgen, ...allArgs],
      stderr: "piped",
    })
    : new Deno.Command(dsgen[0]!, { args: [...dsgen.slice(1), ...allArgs], stderr: "piped" });
  const output = await command.output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`dsgen failed: ${stderr}`);
  const versionPath = new TextDecoder().decode(output.stdout).trim();
  const metadata = JSON.parse(await Deno.readTextFile(join(versionPath, "metadata.json")));
  const lines = stderr.trim().split("\n");
  const [rssKilobytes, user, system] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
  const peakRssBytes = hasTime ? rssKilobytes! * 1024 : metadata.run.memory.measured_peak_bytes;
  const cpuSeconds = hasTime ? user! + system! : NaN;
  return { seconds, peakRssBytes, cpuSeconds, versionPath, metadata };
}

/**
 * Runs `dsgen inspect` of a version in a child process and measures it from outside, as
 * {@linkcode measureGenerate} does; its files go to a temporary folder, removed afterwards.
 *
 * @param versionPath The version folder.
 * @returns Wall time, CPU seconds (user + system, all threads) and peak RSS.
 */
export async function measureInspect(
  versionPath: string,
): Promise<{ seconds: number; cpuSeconds: number; peakRssBytes: number }> {
  const out = await Deno.makeTempDir({ prefix: "dsgen-bench-inspect-" });
  try {
    const args = [
      "-f",
      "%M %U %S",
      Deno.execPath(),
      "run",
      ...RUN_FLAGS,
      join(ROOT, "main.ts"),
      "inspect",
      versionPath,
      "--seed",
      "1",
      "--quiet",
      "--out",
      out,
    ];
    const started = performance.now();
    const output = await new Deno.Command("/usr/bin/time", {
      args,
      stderr: "piped",
      stdout: "null",
    })
      .output();
    const seconds = (performance.now() - started) / 1000;
    const stderr = new TextDecoder().decode(output.stderr);
    if (!output.success) throw new Error(`dsgen inspect failed: ${stderr}`);
    const lines = stderr.trim().split("\n");
    const [rssKilobytes, user, system] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
    return { seconds, cpuSeconds: user! + system!, peakRssBytes: rssKilobytes! * 1024 };
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/**
 * The size of one entry of an NPZ archive, from numpy's view of it (python3 + numpy), or from
 * metadata when python3 is missing.
 *
 * @param path The archive.
 * @param entry The entry name, e.g. `images.npy`.
 * @returns Its uncompressed size in bytes.
 */
export async function npzEntryBytes(path: string, entry: string): Promise<number> {
  const script =
    `import zipfile,sys; print(zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2]).file_size)`;
  const output = await new Deno.Command("python3", { args: ["-c", script, path, entry] }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return Number(new TextDecoder().decode(output.stdout).trim());
}

/**
 * Formats a number of bytes as MB (10^6), one decimal.
 *
 * @param bytes A size.
 * @returns For example `74.2`.
 */
export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * A range of figures as a table shows it: `low-high`, or one figure when they agree.
 *
 * @param numbers The figures, one per round.
 * @param digits Decimal places.
 * @returns For example `1.61-1.77`.
 */
export function range(numbers: number[], digits: number): string {
  const low = Math.min(...numbers).toFixed(digits), high = Math.max(...numbers).toFixed(digits);
  return low === high ? low : `${low}-${high}`;
}

/**
 * The median of some figures (the mean of the middle two for an even count).
 *
 * @param numbers The figures, at least one.
 * @returns Their median.
 */
export function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Prints a Markdown table.
 *
 * @param header Column titles.
 * @param rows Cells.
 */
export function printTable(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map(() => "---").join(" | ")} |`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

/**
 * A line that says which machine a table was measured on.
 *
 * @returns CPU model, cores, memory, OS and Deno version.
 */
export function machineLine(): string {
  let cpu = "unknown CPU";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  const memory = Deno.systemMemoryInfo().total / 2 ** 30;
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${memory.toFixed(0)} GiB, ` +
    `${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}`;
}
