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

import { basename, join, resolve } from "node:path";
import { statfsSync } from "node:fs";
import denoJson from "../../deno.json" with { type: "json" };
import { generators } from "../generators/registry.ts";
import { createGenerator, type DatasetSpec } from "../generators/spec.ts";
import type { JsonValue } from "../generators/generator.ts";
import {
  chunkImages,
  type DatasetPlan,
  predictArchiveBytes,
  writeDatasetNpz,
} from "../pipeline/dataset.ts";
import { bytesPerPixel, type ImageDtype } from "../pipeline/render.ts";
import { effectiveWorkers, workerImageChunks } from "../pipeline/worker_pool.ts";
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
import {
  NUMBER_SYNTAX,
  parseChoice,
  parseFlags,
  parseIntegerFlag,
  quote,
  requireValue,
} from "./flags.ts";
import { confirm, type Console } from "./console.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** The largest dataset dsgen generates in one run. */
export const MAX_IMAGES = 1_000_000_000;
/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 4_294_967_295;

/** A generate run, as the flags describe it. */
export interface GenerateOptions {
  /** Number of images, 1 to {@linkcode MAX_IMAGES} (`--num-images`). */
  numImages: number;
  /** The folder that holds the dataset folders, created if missing (`--output-dir`). */
  outputDir: string;
  /** Dataset seed, 0 to {@linkcode MAX_SEED}; undefined: draw one, print it and record it. */
  seed?: number;
  /** The dataset folder's name inside `outputDir` (`--name`, default `<generator><size>`). */
  name: string;
  /** Side of every (square) image in pixels, 4 to 256 (`--image-size`, default 16; 64 for dsprites). */
  imageSize: number;
  /** The dataset family's registry name (`--generator`, default `shapes`). */
  generator: string;
  /** The images' element type (`--dtype`, default `uint8`). */
  dtype: ImageDtype;
  /**
   * Rendering threads requested, 1 to 64 (`--workers`, default the number of cores); runs of
   * fewer than 20000 images render on the main thread anyway.
   */
  workers: number;
  /** The family's own options, e.g. `{ grid: true }` from `--grid` (default `{}`). */
  familyOptions?: { [key: string]: JsonValue };
  /** Skip the confirmation question (`--yes`). */
  yes: boolean;
  /**
   * Print no plan, progress bar or summary (`--quiet`); a drawn seed and removed leftovers of
   * killed runs are still reported.
   */
  quiet: boolean;
}

const FLAGS: Record<string, { type: "string" | "boolean"; short?: string; accepts?: string }> = {
  "num-images": { type: "string", accepts: `an integer from 1 to ${MAX_IMAGES}` },
  "output-dir": { type: "string", accepts: "a folder path" },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
  name: {
    type: "string",
    accepts: "1 to 100 letters, digits, '-', '_' and '.', starting with a letter or digit",
  },
  "image-size": { type: "string", accepts: "an integer from 4 to 256" },
  generator: { type: "string", accepts: `one of ${generators.names().join(", ")}` },
  dtype: { type: "string", accepts: "one of uint8, float64" },
  workers: { type: "string", accepts: "an integer from 1 to 64" },
  grid: { type: "boolean" },
  "grid-values": {
    type: "string",
    accepts: "NAME=COUNT pairs separated by commas, e.g. scale=6,orientation=40,pos_x=32,pos_y=32",
  },
  yes: { type: "boolean", short: "y" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen generate`. */
export const GENERATE_HELP = `Usage: dsgen generate --num-images N --output-dir DIR [options]

Generates N images into a new version folder <DIR>/<name>/vNNNN-<UTC time>/ holding
dataset.npz (images, labels, latents, class_names, latent_names) and metadata.json, and
prints the version's path. A relative DIR means the folder the command was typed in.
${NUMBER_SYNTAX}

Options:
  --num-images N    number of images, 1 to ${MAX_IMAGES} (required unless --grid)
  --output-dir DIR  output folder, created if missing (required)
  --seed S          integer 0 to ${MAX_SEED}; drawn, printed and recorded if omitted
  --name NAME       dataset folder name (default: <generator><size>, e.g. shapes16,
                    and shapes16-float64 for --dtype float64)
  --image-size S    image side in pixels, 4 to 256 (default 16; dsprites: 16 to 256,
                    default 64)
  --generator G     dataset family: ${generators.names().join(", ")} (default shapes)
  --dtype T         uint8 (default) or float64 (the unquantized baseline, 8x larger)
  --grid            every combination of the factors once, in dSprites' order (the last
                    factor fastest); --num-images, if given, must equal the grid's size
  --grid-values V   values per factor of a shapes grid (implies --grid), e.g.
                    scale=6,orientation=40,pos_x=32,pos_y=32 (the default)
  --workers N       rendering threads, 1 to 64 (default: number of cores; runs of
                    fewer than 20000 images render on the main thread)
  -y, --yes         do not ask for confirmation
  -q, --quiet       print no plan and no progress bar
  -h, --help        show this help
`;

/**
 * Turns the words after `generate` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param defaults The default worker count (the number of cores), and the caller's folder that
 * a relative `--output-dir` means (see `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGenerateArgs } from "./generate.ts";
 * const options = parseGenerateArgs(["--num-images", "10", "--output-dir", "data"]);
 * assert.ok(options !== "help" && options.name === "shapes16");
 * ```
 */
export function parseGenerateArgs(
  args: readonly string[],
  defaults: { workers?: number } & CallerFolder = {},
): GenerateOptions | "help" {
  const { values } = parseFlags(args, { command: "generate", flags: FLAGS });
  if (values.help === true) return "help";
  const text = (flag: string) =>
    requireValue(`--${flag}`, values[flag], FLAGS[flag]?.accepts ?? "a value");
  const integer = (flag: string, min: number, max: number) =>
    parseIntegerFlag(values, flag, { min, max });

  const generator = values.generator === undefined
    ? "shapes"
    : parseChoice("--generator", text("generator"), generators.names());
  const minSize = generators.get(generator).minImageSize ?? 4;
  const imageSize = values["image-size"] === undefined
    ? (generators.get(generator).defaultImageSize ?? 16)
    : integer("image-size", minSize, 256);
  const gridValues = values["grid-values"] === undefined
    ? undefined
    : parseGridValues(text("grid-values"));
  const grid = values.grid === true || gridValues !== undefined;
  const familyOptions: { [key: string]: JsonValue } = gridValues !== undefined
    ? { grid: gridValues }
    : grid
    ? { grid: true }
    : {};
  const fixed = fixedNumImages(generator, imageSize, familyOptions);
  if (grid && fixed === undefined) {
    throw new UsageError(`Cannot use "--grid" with generator "${generator}": it has no grid`);
  }
  const numImages = values["num-images"] === undefined && fixed !== undefined
    ? fixed
    : integer("num-images", 1, MAX_IMAGES);
  if (fixed !== undefined && numImages !== fixed) {
    throw new UsageError(
      `Cannot use "--num-images" value "${values["num-images"]}": the ${generator} grid has ` +
        `${fixed} images, expected ${fixed} or no --num-images`,
    );
  }
  const outputDir = callerPath(text("output-dir"), defaults);
  const seed = values.seed === undefined ? undefined : integer("seed", 0, MAX_SEED);
  const dtype = values.dtype === undefined
    ? "uint8"
    : parseChoice("--dtype", text("dtype"), ["uint8", "float64"] as const);
  const workers = values.workers === undefined
    ? Math.max(1, Math.min(64, defaults.workers ?? navigator.hardwareConcurrency ?? 1))
    : integer("workers", 1, 64);
  const name = values.name === undefined ? defaultName(generator, imageSize, dtype) : text("name");
  // Not hidden (".x" looks like a staging folder), no option look-alike ("-x"), no "..".
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) || name.includes("..")) {
    throw new UsageError(
      `Cannot use "--name" value ${quote(name)}: expected ${FLAGS.name!.accepts}`,
    );
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
  if (Object.keys(familyOptions).length > 0) options.familyOptions = familyOptions;
  return options;
}

/**
 * Reads `--grid-values`: `NAME=COUNT` pairs separated by commas.
 *
 * @param value The flag's value.
 * @returns The counts by factor name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGridValues } from "./generate.ts";
 * assert.deepEqual(parseGridValues("scale=6,orientation=40"), { scale: 6, orientation: 40 });
 * ```
 */
export function parseGridValues(value: string): { [key: string]: number } {
  const counts: { [key: string]: number } = {};
  for (const pair of value.split(",")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\d{1,4})$/.exec(pair.trim());
    if (match === null || Object.hasOwn(counts, match[1]!) || Number(match[2]) < 1) {
      throw new UsageError(
        `Cannot use "--grid-values" value ${quote(value)}: expected ${
          FLAGS["grid-values"]!.accepts
        }, each name once, each count from 1`,
      );
    }
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

/** The number of images a registry family fixes for these options, if it fixes one. */
function fixedNumImages(
  generator: string,
  imageSize: number,
  options: { [key: string]: JsonValue },
): number | undefined {
  try {
    return generators.get(generator).create({ imageSize, options }).fixedNumImages;
  } catch (error) {
    const flag = Object.keys(options).length > 0 ? "--grid-values" : "--generator";
    throw new UsageError(
      `Cannot use "${flag}" with generator "${generator}": ${
        (error as Error).message.replace(/^Cannot [^:]*: /, "")
      }`,
    );
  }
}

/**
 * The dataset folder's name when `--name` is not given: `<generator><size>`, with the dtype
 * when it is not uint8, so that float64 baselines never join the uint8 series (whose newest
 * version `inspect` and `verify` take for a dataset folder).
 *
 * @param generator The family's registry name.
 * @param imageSize The image side in pixels.
 * @param dtype The images' element type.
 * @returns E.g. `shapes16`, `shapes16-float64`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultName } from "./generate.ts";
 * assert.equal(defaultName("shapes", 16, "uint8"), "shapes16");
 * assert.equal(defaultName("shapes", 16, "float64"), "shapes16-float64");
 * ```
 */
export function defaultName(generator: string, imageSize: number, dtype: ImageDtype): string {
  return `${generator}${imageSize}${dtype === "uint8" ? "" : `-${dtype}`}`;
}

/**
 * Refuses an output path that is a file, has a file in it, is a broken link or cannot be read,
 * without creating anything.
 */
async function checkOutputFolder(
  outputDir: string,
  name: string,
  datasetDir: string,
): Promise<void> {
  for (
    const [flag, value, path] of [
      ["--output-dir", outputDir, outputDir],
      ["--name", name, datasetDir],
    ] as const
  ) {
    const refuse = (problem: string) =>
      new UsageError(`Cannot use "${flag}" value ${quote(value)}: ${problem}, expected a folder`);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        // Missing is fine; it may also have been made meanwhile, by a concurrent run.
        const link = await Deno.lstat(path).catch(() => undefined);
        if (link?.isSymlink) throw refuse(`${quote(path)} is a symbolic link to nothing`);
        continue;
      }
      if (error instanceof Deno.errors.NotADirectory) {
        throw refuse(`a part of ${quote(path)} is a file`);
      }
      throw refuse(`cannot read ${quote(path)} (${systemReason(error)})`);
    }
    if (!info.isDirectory) throw refuse(`${quote(path)} is a file`);
  }
}

/** An operating-system error in a few words, without the error number and the path. */
function systemReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  const known: Record<string, string> = {
    EROFS: "read-only file system",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "no space left on the disk",
    EDQUOT: "disk quota exceeded",
    EIO: "input/output error",
  };
  if (code !== undefined && known[code] !== undefined) return known[code]!;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "").replace(/:\s*$/, "");
}

/**
 * Refuses a folder dsgen cannot create folders in, by creating and removing an empty one:
 * permission bits say nothing of read-only mounts, and root ignores them anyway.
 */
async function checkWritable(outputDir: string, datasetDir: string): Promise<void> {
  const folder = existingAncestor(datasetDir);
  try {
    await Deno.remove(await Deno.makeTempDir({ dir: folder, prefix: ".dsgen-write-check-" }));
  } catch (error) {
    const where = quote(folder);
    throw new UsageError(
      `Cannot use "--output-dir" value ${quote(outputDir)}: cannot create folders in ${where} ` +
        `(${systemReason(error)}), expected a folder dsgen can write to`,
    );
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

/** Room on the disk beyond the archive: metadata.json, owner.json and file-system blocks. */
const DISK_MARGIN_BYTES = 256 * 1024;

/** What `runGenerate` returns: the published version and the run's figures. */
export interface GenerateResult {
  /** The published version folder, e.g. `data/shapes16/v0001-20261125T031245Z`. */
  path: string;
  /** What was written to the version's metadata.json. */
  metadata: VersionMetadata;
}

/** Where `runGenerate` prints and asks, what it records, and what stops it. */
export interface GenerateContext extends Console {
  /** The command line, recorded in metadata.json. */
  commandLine?: string[];
  /** Aborted with an {@linkcode InterruptedError} when a signal arrives. */
  signal?: AbortSignal;
  /**
   * Writes the archive; {@linkcode writeDatasetNpz} unless a test injects a failing writer to
   * check what a write fault leaves behind.
   */
  writeDataset?: typeof writeDatasetNpz;
}

/**
 * Runs `dsgen generate` with parsed options.
 *
 * Nothing is created before every check has passed and the run is confirmed. From then on
 * everything goes into a staging folder, published with one rename; any failure, and any
 * interruption, removes the staging folder, so a failed run leaves nothing and touches no
 * earlier version.
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
  io: GenerateContext,
): Promise<GenerateResult> {
  let startedAt = new Date();
  let startTime = performance.now();
  const outputDir = options.outputDir;
  const datasetDir = join(outputDir, options.name);
  await checkOutputFolder(outputDir, options.name, datasetDir);
  await checkWritable(outputDir, datasetDir);

  const seedSource = options.seed === undefined ? "drawn" : "flag";
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const spec: DatasetSpec = {
    family: { name: options.generator, options: options.familyOptions ?? {} },
    seed,
    numImages: options.numImages,
    imageSize: options.imageSize,
    dtype: options.dtype,
  };
  const generator = await createGenerator(spec);
  spec.family.version = generator.version;
  if (generator.fixedNumImages !== undefined && generator.fixedNumImages !== options.numImages) {
    throw new UsageError(
      `Cannot generate ${options.numImages} images with ${generator.name}: its options fix ` +
        `${generator.fixedNumImages}`,
    );
  }
  const plan: DatasetPlan = {
    generator,
    numImages: options.numImages,
    seed,
    dtype: options.dtype,
    chunkImages: chunkImages(options.imageSize, options.dtype),
  };
  const workers = effectiveWorkers(options.workers, plan);
  const diskBytes = await predictArchiveBytes(plan);
  const free = freeDiskBytes(datasetDir);
  if (free !== undefined && diskBytes + DISK_MARGIN_BYTES > free) {
    throw new UsageError(
      `Cannot use "--output-dir" value ${quote(outputDir)}: the dataset needs ` +
        `${formatMegabytes(diskBytes + DISK_MARGIN_BYTES)} and the disk has ` +
        `${formatMegabytes(free)} free, expected a folder on a disk with room for it`,
    );
  }
  const estimate = estimatePeakMemory({
    numImages: options.numImages,
    imageSize: options.imageSize,
    chunkImages: plan.chunkImages,
    bytesPerPixel: bytesPerPixel(options.dtype),
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
  if (!options.yes) {
    try {
      await untilAborted(confirm(io), io.signal);
    } catch (error) {
      const interrupted = interruption(io.signal, "nothing was created");
      if (interrupted === undefined) throw error;
      io.stderr("\n"); // End the unanswered question's line.
      throw interrupted;
    }
  }
  const interrupted = interruption(io.signal, "nothing was created");
  if (interrupted !== undefined) throw interrupted;
  // The run starts now: time spent reading the plan and answering is not the run's.
  startedAt = new Date();
  startTime = performance.now();

  let staging: Staging;
  try {
    await Deno.mkdir(datasetDir, { recursive: true });
    for (const stale of await removeStaleStaging(datasetDir)) {
      // Always said, even with --quiet: it deletes files this run did not write.
      io.stderr(
        `Removed ${basename(stale.path)}: an unfinished version left by ` +
          (stale.owner === undefined
            ? "a run"
            : `process ${stale.owner.pid} (started ${stale.owner.startedAt})`) +
          " that is no longer running\n",
      );
    }
    staging = await createStaging(datasetDir);
  } catch (error) {
    throw new RunError(
      `Cannot create a version in ${datasetDir}: ${systemReason(error)}; no version was created`,
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
    io.signal?.throwIfAborted();
    const writeDataset = io.writeDataset ?? writeDatasetNpz;
    const npzRecord = await writeDataset(plan, join(staging.path, "dataset.npz"), {
      onProgress: (done) => progress.update(done),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      ...(workers > 1
        ? {
          imageChunks: (p: DatasetPlan, signal?: AbortSignal) =>
            workerImageChunks(p, { workers, family: spec.family, signal }),
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
      version_id: versionId(staging.number, startedAt),
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
      spec,
      files: [{ name: "dataset.npz", bytes: npzRecord.bytes, sha256: npzRecord.sha256 }],
      arrays: npzRecord.arrays.map(({ name, dtype, shape, offset }) => ({
        name,
        dtype,
        shape,
        offset,
      })),
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
        memory: {
          estimated_peak_bytes: estimate.total,
          measured_peak_bytes: peak ?? null,
          estimate_parts: { ...estimate },
        },
      },
    };
    await writeMetadata(staging.path, metadata);
    // The last moment to honour an interrupt: after the rename the version is complete.
    io.signal?.throwIfAborted();
    const version = await publishStaging(staging, startedAt);
    info(
      `Wrote ${options.numImages} images, ${formatMegabytes(npzRecord.bytes)}, in ` +
        `${seconds.toFixed(2)} s (${metadata.run.images_per_second} img/s)`,
    );
    if (peak !== undefined) {
      info(`Peak memory: ${formatMegabytes(peak)} (estimated ${formatMegabytes(estimate.total)})`);
    }
    io.stdout(version.path + "\n");
    return { path: version.path, metadata };
  } catch (error) {
    progress.clear();
    let removed = "the unfinished version was removed";
    try {
      await discardStaging(staging);
    } catch (removeError) {
      // Never hide the first failure; the next run into this dataset removes the folder.
      removed = `the unfinished version ${staging.path} could not be removed ` +
        `(${systemReason(removeError)}); the next run removes it`;
    }
    const interrupted = interruption(io.signal, `${removed}, nothing kept`);
    if (interrupted !== undefined) throw interrupted;
    if (error instanceof RunError || error instanceof UsageError) throw error;
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const diskFull = code === "ENOSPC" || code === "EDQUOT" ||
      /no space left|ENOSPC|os error 28|quota/i.test(message);
    throw new RunError(
      diskFull
        ? `Cannot write to ${datasetDir}: ${systemReason(error)}; ${removed}, ` +
          "earlier versions are untouched"
        : `Cannot write the dataset to ${staging.path}: ${message}; ${removed}`,
      { cause: error },
    );
  }
}

/**
 * The error to report when the run was stopped by a signal, or undefined if it was not.
 *
 * @param signal The run's abort signal.
 * @param outcome What is left, e.g. "nothing was created".
 */
function interruption(signal: AbortSignal | undefined, outcome: string): RunError | undefined {
  const reason = signal?.reason;
  if (!(signal?.aborted && reason instanceof InterruptedError)) return undefined;
  return new RunError(`${reason.message}: ${outcome}`, { exitCode: reason.exitCode });
}

/** Waits for a promise, or rejects with the signal's reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
