/**
 * `dsgen generate`: from flags to a published, versioned dataset.
 *
 * {@linkcode parseGenerateArgs} turns the words into a typed {@linkcode GenerateOptions} (and
 * is tested alone); {@linkcode runGenerate} checks the output folder, prints the plan, asks for
 * confirmation, streams the archive into a staging folder, writes metadata.json and publishes
 * the version with one rename.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { statfsSync } from "node:fs";
import denoJson from "../../deno.json" with { type: "json" };
import { generators } from "../generators/registry.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import {
  chunkImages,
  type DatasetPlan,
  type ImageDtype,
  predictArchiveBytes,
  writeDatasetNpz,
} from "../pipeline/dataset.ts";
import { workerImageChunks } from "../pipeline/worker_pool.ts";
import {
  createStaging,
  discardStaging,
  publishStaging,
  removeStaleStaging,
  type Staging,
  versionId,
} from "../store/versions.ts";
import { type VersionMetadata, writeMetadata } from "../store/metadata.ts";
import { estimatePeakMemory, formatMegabytes, measuredPeakMemory } from "../report/memory.ts";
import { ProgressReporter } from "../report/progress_bar.ts";
import { InterruptedError, RunError, UsageError } from "./errors.ts";
import { parseChoice, parseFlags, parseInteger, requireValue } from "./flags.ts";
import { confirm, type Console } from "./console.ts";

/** The largest dataset dsgen generates in one run. */
export const MAX_IMAGES = 1_000_000_000;
/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 4_294_967_295;

/** A generate run, as the flags describe it. */
export interface GenerateOptions {
  numImages: number;
  outputDir: string;
  /** Undefined: draw one, print it and record it. */
  seed?: number;
  name: string;
  imageSize: number;
  generator: string;
  dtype: ImageDtype;
  workers: number;
  yes: boolean;
  quiet: boolean;
}

const FLAGS: Record<string, { type: "string" | "boolean"; short?: string; accepts?: string }> = {
  "num-images": { type: "string", accepts: `an integer from 1 to ${MAX_IMAGES}` },
  "output-dir": { type: "string", accepts: "a folder path" },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
  name: {
    type: "string",
    accepts: "a name of letters, digits, '-', '_' and '.', not '.' or '..'",
  },
  "image-size": { type: "string", accepts: "an integer from 4 to 256" },
  generator: { type: "string", accepts: `one of ${generators.names().join(", ")}` },
  dtype: { type: "string", accepts: "one of uint8, float64" },
  workers: { type: "string", accepts: "an integer from 1 to 64" },
  yes: { type: "boolean", short: "y" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen generate`. */
export const GENERATE_HELP = `Usage: dsgen generate --num-images N --output-dir DIR [options]

Generates N images into a new version folder <DIR>/<name>/vNNNN-<UTC time>/ holding
dataset.npz (images, labels, latents, class_names, latent_names) and metadata.json.

Options:
  --num-images N    number of images, 1 to ${MAX_IMAGES} (required)
  --output-dir DIR  output folder, created if missing (required)
  --seed S          integer 0 to ${MAX_SEED}; drawn, printed and recorded if omitted
  --name NAME       dataset folder name (default: <generator><size>, e.g. shapes16)
  --image-size S    image side in pixels, 4 to 256 (default 16)
  --generator G     dataset family: ${generators.names().join(", ")} (default shapes)
  --dtype T         uint8 (default) or float64 (the unquantized baseline, 8x larger)
  --workers N       rendering threads, 1 to 64 (default: number of cores)
  -y, --yes         do not ask for confirmation
  -q, --quiet       print no plan and no progress bar
  -h, --help        show this help
`;

/**
 * Turns the words after `generate` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param defaults The default worker count (the number of cores).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import { parseGenerateArgs } from "./generate.ts";
 * const options = parseGenerateArgs(["--num-images", "10", "--output-dir", "data"]);
 * console.assert(options !== "help" && options.name === "shapes16");
 * ```
 */
export function parseGenerateArgs(
  args: readonly string[],
  defaults: { workers?: number } = {},
): GenerateOptions | "help" {
  const { values } = parseFlags(args, { command: "generate", flags: FLAGS });
  if (values.help === true) return "help";
  const text = (flag: string) =>
    requireValue(`--${flag}`, values[flag], FLAGS[flag]?.accepts ?? "a value");
  const integer = (flag: string, min: number, max: number) =>
    parseInteger(`--${flag}`, text(flag), { min, max });

  const numImages = integer("num-images", 1, MAX_IMAGES);
  const outputDir = text("output-dir");
  const seed = values.seed === undefined ? undefined : integer("seed", 0, MAX_SEED);
  const imageSize = values["image-size"] === undefined ? 16 : integer("image-size", 4, 256);
  const generator = values.generator === undefined
    ? "shapes"
    : parseChoice("--generator", text("generator"), generators.names());
  const dtype = values.dtype === undefined
    ? "uint8"
    : parseChoice("--dtype", text("dtype"), ["uint8", "float64"] as const);
  const workers = values.workers === undefined
    ? Math.max(1, Math.min(64, defaults.workers ?? navigator.hardwareConcurrency ?? 1))
    : integer("workers", 1, 64);
  const name = values.name === undefined ? `${generator}${imageSize}` : text("name");
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name.includes("..")) {
    throw new UsageError(`Cannot use "--name" value "${name}": expected ${FLAGS.name!.accepts}`);
  }
  const options: GenerateOptions = {
    numImages,
    outputDir,
    name,
    imageSize,
    generator,
    dtype,
    workers,
    yes: values.yes === true,
    quiet: values.quiet === true,
  };
  if (seed !== undefined) options.seed = seed;
  return options;
}

/** Which part of a path exists and what it is, without creating anything. */
async function checkOutputFolder(outputDir: string, datasetDir: string): Promise<void> {
  for (const [flag, path] of [["--output-dir", outputDir], ["--name", datasetDir]] as const) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      if (error instanceof Deno.errors.NotADirectory) {
        throw new UsageError(
          `Cannot use "--output-dir" value "${outputDir}": a part of the path is a file, expected a folder`,
        );
      }
      throw new UsageError(
        `Cannot use "${flag}" value "${path}": ${(error as Error).message}`,
      );
    }
    if (!info.isDirectory) {
      const shown = flag === "--output-dir" ? outputDir : path;
      throw new UsageError(
        `Cannot use "${flag}" value "${shown}": it is a file, expected a folder`,
      );
    }
  }
}

/** The nearest existing ancestor of a path (the folder whose disk the dataset lands on). */
function existingAncestor(path: string): string {
  let current = resolve(path);
  for (;;) {
    try {
      Deno.statSync(current);
      return current;
    } catch {
      const parent = resolve(current, "..");
      if (parent === current) return current;
      current = parent;
    }
  }
}

function freeDiskBytes(path: string): number | undefined {
  try {
    const stats = statfsSync(existingAncestor(path));
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}

/** What `runGenerate` returns: the published version and the run's figures. */
export interface GenerateResult {
  path: string;
  metadata: VersionMetadata;
}

/**
 * Runs `dsgen generate` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print, how to ask, the command line to record, and the abort signal.
 * @returns The version folder and its metadata.
 * @example
 * ```ts ignore
 * import { runGenerate } from "./generate.ts";
 * import { denoConsole } from "./console.ts";
 * await runGenerate({ numImages: 10, outputDir: "data", name: "shapes16", imageSize: 16,
 *   generator: "shapes", dtype: "uint8", workers: 1, yes: true, quiet: true }, denoConsole());
 * ```
 */
export async function runGenerate(
  options: GenerateOptions,
  io: Console & { commandLine?: string[]; signal?: AbortSignal },
): Promise<GenerateResult> {
  const startedAt = new Date();
  const startTime = performance.now();
  const outputDir = options.outputDir;
  const datasetDir = join(outputDir, options.name);
  await checkOutputFolder(outputDir, datasetDir);

  const generator: ImageGenerator = generators.get(options.generator).create({
    imageSize: options.imageSize,
  });
  const seedSource = options.seed === undefined ? "drawn" : "flag";
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const workers = Math.min(options.workers, Math.ceil(options.numImages / 64));
  const plan: DatasetPlan = {
    generator,
    numImages: options.numImages,
    seed,
    dtype: options.dtype,
    chunkImages: chunkImages(options.imageSize),
  };
  const diskBytes = await predictArchiveBytes(plan);
  const estimate = estimatePeakMemory({
    imageSize: options.imageSize,
    chunkImages: plan.chunkImages,
    bytesPerPixel: options.dtype === "uint8" ? 1 : 8,
    workers,
  });
  const info = (line: string) => {
    if (!options.quiet) io.stderr(line + "\n");
  };
  info(
    `Plan: ${options.numImages} images of ${options.imageSize}x${options.imageSize} ` +
      `${options.dtype}, generator ${generator.name} ${generator.version}, ` +
      `seed ${seed}${seedSource === "drawn" ? " (drawn)" : ""}, ${workers} worker${
        workers === 1 ? "" : "s"
      }`,
  );
  info(`Output: ${resolve(datasetDir)}/v????-<time>/`);
  info(`Disk: ${formatMegabytes(diskBytes)} (${diskBytes} bytes)`);
  info(`Estimated memory: ${formatMegabytes(estimate.total)} for ${options.numImages} images`);
  if (seedSource === "drawn" && options.quiet) io.stderr(`Seed: ${seed} (drawn)\n`);

  const available = Deno.systemMemoryInfo().available;
  if (estimate.total > available) {
    throw new UsageError(
      `Cannot run: the estimated peak memory ${formatMegabytes(estimate.total)} exceeds the ` +
        `${formatMegabytes(available)} available`,
    );
  }
  const free = freeDiskBytes(outputDir);
  if (free !== undefined && diskBytes > free) {
    throw new UsageError(
      `Cannot use "--output-dir" value "${outputDir}": the dataset needs ` +
        `${formatMegabytes(diskBytes)} and the disk has ${formatMegabytes(free)} free`,
    );
  }
  if (!options.yes) await confirm(io);

  let staging: Staging;
  try {
    await Deno.mkdir(datasetDir, { recursive: true });
    for (const stale of await removeStaleStaging(datasetDir)) {
      info(`Removed unfinished version ${stale.number} left by process ${stale.owner?.pid}`);
    }
    staging = await createStaging(datasetDir);
  } catch (error) {
    throw new RunError(
      `Cannot create the dataset folder ${datasetDir}: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const progress = new ProgressReporter({
    total: options.numImages,
    write: io.stderr,
    isTerminal: io.stderrIsTerminal,
    columns: io.columns,
    quiet: options.quiet,
    noColor: io.noColor,
  });
  try {
    const npzRecord = await writeDatasetNpz(plan, join(staging.path, "dataset.npz"), {
      onProgress: (done) => progress.update(done),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      ...(workers > 1
        ? {
          imageChunks: (p: DatasetPlan, signal?: AbortSignal) =>
            workerImageChunks(p, { workers, generatorName: options.generator, signal }),
        }
        : {}),
    });
    progress.finish();
    const finishedAt = new Date();
    const seconds = (performance.now() - startTime) / 1000;
    const peak = measuredPeakMemory();
    const metadata: VersionMetadata = {
      schema_version: 1,
      dataset: options.name,
      version: staging.number,
      version_id: "",
      created_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      seed,
      seed_source: seedSource,
      num_images: options.numImages,
      image_size: options.imageSize,
      dtype: options.dtype,
      generator: {
        name: generator.name,
        version: generator.version,
        parameters: generator.parameters,
      },
      files: [{ name: "dataset.npz", bytes: npzRecord.bytes, sha256: npzRecord.sha256 }],
      arrays: npzRecord.arrays.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
      run: {
        dsgen_version: denoJson.version,
        deno_version: Deno.version.deno,
        v8_version: Deno.version.v8,
        os: Deno.build.os,
        arch: Deno.build.arch,
        command_line: io.commandLine ?? [],
        workers,
        chunk_images: plan.chunkImages,
        duration_seconds: Number(seconds.toFixed(3)),
        images_per_second: Math.round(options.numImages / seconds),
        memory: { estimated_peak_bytes: estimate.total, measured_peak_bytes: peak ?? null },
      },
    };
    metadata.version_id = versionId(staging.number, startedAt);
    await writeMetadata(staging.path, metadata);
    const version = await publishStaging(staging, startedAt);
    info(
      `Wrote ${options.numImages} images, ${formatMegabytes(npzRecord.bytes)}, in ` +
        `${seconds.toFixed(2)} s (${Math.round(options.numImages / seconds)} img/s)`,
    );
    if (peak !== undefined) {
      info(`Peak memory: ${formatMegabytes(peak)} (estimated ${formatMegabytes(estimate.total)})`);
    }
    io.stdout(version.path + "\n");
    return { path: version.path, metadata };
  } catch (error) {
    progress.clear();
    await discardStaging(staging);
    const reason = io.signal?.reason;
    if (reason instanceof InterruptedError) {
      throw new RunError(`${reason.message}: the unfinished version was removed, nothing kept`, {
        exitCode: reason.exitCode,
      });
    }
    if (error instanceof RunError || error instanceof UsageError) throw error;
    const message = (error as Error).message ?? String(error);
    const code = (error as { code?: string }).code;
    const diskFull = code === "ENOSPC" || /no space left|ENOSPC|os error 28/i.test(message);
    throw new RunError(
      diskFull
        ? `Cannot write to ${datasetDir}: the disk is full; the unfinished version was removed`
        : `Cannot write the dataset: ${message}; the unfinished version was removed`,
      { cause: error },
    );
  }
}
