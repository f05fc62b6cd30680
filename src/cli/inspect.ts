/**
 * `dsgen inspect`: an inspection grid of random samples and a quality report over every image.
 *
 * {@linkcode parseInspectArgs} turns the words into a typed {@linkcode InspectCommandOptions}
 * (and is tested alone); {@linkcode runInspect} finds the version, streams the archive once
 * (`validate/inspect_version.ts`), draws the grid (`report/grid.ts`), writes `grid.png` and
 * `report.json` into `<version>/inspection/` or the `--out` folder (each through a temporary
 * file and a rename; dataset.npz and metadata.json are never touched), prints the report's
 * table, and fails (exit 1) when a check fails.
 *
 * Shared datasets are often read-only. Before the long pass, inspect makes sure it can write
 * where it will write: a version it cannot write into gets one line that suggests `--out`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { computeGridLayout, MAX_CELLS, MAX_SCALE } from "../report/grid_layout.ts";
import { ProgressReporter } from "../report/progress_bar.ts";
import { writeFileAtomic } from "../store/atomic_write.ts";
import { type OpenedVersion, openVersion } from "../store/open_version.ts";
import { type Inspection, inspectVersion } from "../validate/inspect_version.ts";
import { NpzReader } from "../format/npz_reader.ts";
import { ARCHIVE_FILE, type VersionMetadata } from "../store/metadata.ts";
import { archiveDisagreement } from "../validate/metadata_agreement.ts";
import { formatQualityTable } from "../validate/quality_table.ts";
import type { Console } from "./console.ts";
import { RunError, UsageError } from "./errors.ts";
import {
  type FlagSpec,
  NUMBER_SYNTAX,
  parseFlags,
  parseIntegerFlag,
  quote,
  requireValue,
} from "./flags.ts";
import { MAX_SEED } from "./generate.ts";
import { asRunError, systemReason } from "./input_error.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** The folder, inside a version, that inspect writes to (and verify ignores). */
export const INSPECTION_FOLDER = "inspection";

/** An inspect run, as the flags describe it. */
export interface InspectCommandOptions {
  /** A version folder or a dataset folder (its newest version). */
  path: string;
  /** Number of grid samples. */
  samples: number;
  /** The sampling seed; undefined: draw one and print it. */
  seed?: number;
  /** Nearest-neighbour upscaling; undefined: 8 for 16-pixel images, less for larger ones. */
  scale?: number;
  /** The folder for grid.png and report.json; undefined: `<version>/inspection/`. */
  out?: string;
  /** No progress bar. */
  quiet: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  samples: { type: "string", accepts: `an integer from 1 to ${MAX_CELLS}` },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
  scale: { type: "string", accepts: `an integer from 1 to ${MAX_SCALE}` },
  out: { type: "string", accepts: "a folder path" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen inspect`. */
export const INSPECT_HELP = `Usage: dsgen inspect PATH [options]

Draws random samples of a version into a captioned grid PNG and checks every image: class
balance, latent ranges, blank, saturated and cut images, duplicates, intensity statistics.
PATH is a version folder, or a dataset folder (its newest version is inspected). Writes
grid.png, report.json and factors.png (a histogram per factor), and for a full factor grid
traversals.png (one row per factor stepping through its values), into
<version>/${INSPECTION_FOLDER}/, or into the --out folder (needed when the version is
read-only); dataset files are never changed. Exits 1 when a check fails. A scenes version
gets the scene checks (object counts, shapes, masks, occlusion: docs/scenes.md), and grid.png
shows each scene beside its masks. Any other version with its own arrays (a version 2
renderer's) gets the schema checks: every array's length and CRC-32, finite floats, blank
images, label counts; grid.png shows its images.
Relative paths mean the folder the command was typed in.
${NUMBER_SYNTAX}

Options:
  --samples N   grid samples, 1 to ${MAX_CELLS} (default 100, a 10x10 grid)
  --seed S      sampling seed, 0 to ${MAX_SEED}; drawn and printed if omitted
  --scale K     pixel upscaling, 1 to ${MAX_SCALE} (default 8 for 16x16 images, cells of at most
                128 pixels for larger ones)
  --out DIR     write grid.png and report.json into DIR (created with its parents)
  -q, --quiet   no progress bar
  -h, --help    show this help
`;

/**
 * Turns the words after `inspect` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param caller The folder relative paths mean (see `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseInspectArgs } from "./inspect.ts";
 *
 * const options = parseInspectArgs(["data/shapes16", "--samples", "25", "--seed", "7"]);
 * assert.deepEqual(options, { path: "data/shapes16", samples: 25, seed: 7, quiet: false });
 * assert.throws(() => parseInspectArgs(["data", "--scale", "0"]), /expected an integer from 1/);
 * ```
 */
export function parseInspectArgs(
  args: readonly string[],
  caller: CallerFolder = {},
): InspectCommandOptions | "help" {
  const { values, positionals } = parseFlags(args, {
    command: "inspect",
    flags: FLAGS,
    positionals: 1,
  });
  if (values.help === true) return "help";
  const integer = (flag: string, min: number, max: number) =>
    parseIntegerFlag(values, flag, { min, max });
  const path = positionals[0];
  if (path === undefined) {
    throw new UsageError(
      'Missing PATH for "dsgen inspect": expected a version or dataset folder',
    );
  }
  const options: InspectCommandOptions = {
    path: callerPath(path, caller),
    samples: values.samples === undefined ? 100 : integer("samples", 1, MAX_CELLS),
    quiet: values.quiet === true,
  };
  if (values.seed !== undefined) options.seed = integer("seed", 0, MAX_SEED);
  if (values.scale !== undefined) options.scale = integer("scale", 1, MAX_SCALE);
  if (values.out !== undefined) {
    options.out = callerPath(requireValue("--out", values.out, "a folder path"), caller);
  }
  return options;
}

/** What {@linkcode runInspect} wrote and found. */
export interface InspectResult {
  /** The layout, report and samples. */
  inspection: Inspection;
  /** Where the grid PNG was written. */
  gridPath: string;
  /** Where report.json was written. */
  reportPath: string;
  /** The sampling seed used (given or drawn). */
  seed: number;
}

/**
 * Runs `dsgen inspect` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @returns The inspection and the paths written.
 * @throws {RunError} Exit 1 for unreadable input or a failed check (after writing the files).
 * @throws {UsageError} Exit 2 when the grid would be too large for `--scale` and `--samples`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "../run/generate_dataset.ts";
 * import { runInspect } from "./inspect.ts";
 *
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * const dir = await Deno.makeTempDir();
 * const { path } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 3, numImages: 30, imageSize: 8, dtype: "uint8" }, dir, { name: "demo", workers: 1 });
 * const result = await runInspect({ path, samples: 9, seed: 1, quiet: true }, io);
 * assert.equal(result.gridPath, `${path}/inspection/grid.png`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runInspect(
  options: InspectCommandOptions,
  io: Console,
): Promise<InspectResult> {
  const version = await openForInspection(options.path);
  const { metadata } = version;
  if (metadata.splits !== undefined) {
    throw new RunError(
      `Cannot inspect ${version.path} this way: it is made of splits, which runInspectSplits ` +
        "(src/cli/inspect_splits.ts) draws",
    );
  }
  await checkArchive(version);
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const imageSize = metadata.image_size;
  const scale = options.scale ?? Math.max(1, Math.min(8, Math.floor(128 / imageSize)));
  const samples = Math.min(options.samples, metadata.num_images);
  const columns = Math.ceil(Math.sqrt(samples));
  const title = `${metadata.dataset} ${version.id}  seed ${metadata.seed}  samples seed ${seed}`;
  checkGridSize({ samples, imageSize, columns, scale, title, numImages: metadata.num_images });

  const outputDir = await inspectionFolder(options, version.path);

  io.stderr(
    `Inspecting ${version.path} (${metadata.num_images} images of ${imageSize}x${imageSize} ` +
      `${metadata.dtype}, generator ${metadata.generator.name} ${metadata.generator.version}); ` +
      `sampling seed ${seed}${options.seed === undefined ? " (drawn)" : ""}\n`,
  );
  const inspection: Inspection = await inspectionPass(
    io,
    options,
    { path: version.path, numImages: metadata.num_images },
    (onProgress) => inspectVersion(version, { samples, seed, onProgress }),
  );

  const gridPath = join(outputDir, "grid.png");
  const reportPath = join(outputDir, "report.json");
  const factorsPath = join(outputDir, "factors.png");
  const traversalsPath = join(outputDir, "traversals.png");
  // Loaded here, not at the top: pureimage costs every command's start about 15 ms.
  const { renderGridPng } = await import("../report/grid.ts");
  const { renderHistogramsPng } = await import("../report/histograms.ts");
  const png = await renderGridPng(
    inspection.samples.map((sample) => ({
      pixels: sample.pixels,
      caption: `#${sample.index} ${sample.className}`,
    })),
    { imageSize: inspection.arrays.imageSize, columns, scale, title },
  );
  const record = {
    ...recordHead(version, seed),
    sample_indices: inspection.samples.map((sample) => sample.index),
    grid: { path: resolve(gridPath), title, columns, scale },
    ...snakeCaseKeys(inspection.report),
  };
  try {
    await writeFileAtomic(gridPath, png);
    await writeFileAtomic(reportPath, JSON.stringify(record, null, 2) + "\n");
    await writeFileAtomic(factorsPath, await renderHistogramsPng(inspection.histograms, title));
    if (inspection.traversals !== undefined) {
      await writeFileAtomic(traversalsPath, await renderTraversalsPng(inspection, title, scale));
    }
  } catch (error) {
    throw asRunError(error, "Cannot write the inspection files");
  }

  io.stdout(formatQualityTable(inspection.report));
  io.stdout(`\nGrid: ${gridPath}\nReport: ${reportPath}\nFactors: ${factorsPath}\n`);
  if (inspection.traversals !== undefined) io.stdout(`Traversals: ${traversalsPath}\n`);
  throwIfFailed(inspection.report.checks, reportPath);
  return { inspection, gridPath, reportPath, seed };
}

/** One row per factor, padded with black cells to the longest row. */
async function renderTraversalsPng(
  inspection: Inspection,
  title: string,
  scale: number,
): Promise<Uint8Array> {
  const rows = inspection.traversals ?? [];
  const columns = Math.max(1, ...rows.map((row) => row.length));
  const imageSize = inspection.arrays.imageSize;
  const blank = { pixels: new Uint8Array(imageSize * imageSize), caption: "" };
  const cells = rows.flatMap((row) => [...row, ...new Array(columns - row.length).fill(blank)]);
  const { renderGridPng } = await import("../report/grid.ts");
  return await renderGridPng(cells, {
    imageSize,
    columns,
    scale,
    title: `${title}  traversals`,
  });
}

/**
 * Fails early, before the long pass, when the inspection files cannot be written: creates the
 * folder and a temporary file in it (permission bits say nothing of read-only mounts, and root
 * ignores them anyway). A version that cannot be written into is a failed run with a way out
 * (`--out`); an `--out` folder that cannot be written is a bad flag value.
 */
// The steps every kind of `dsgen inspect` shares (the classic report, scenes, other schemas):
// opening the version, checking its archive, the output folder, progress, the report's head
// and the verdict. Each report kind adds its own pass and pictures between them.

/**
 * Opens the version to inspect.
 *
 * @param path A version or dataset folder.
 * @returns The version.
 * @throws {RunError} Exit 1 when it cannot be opened.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openForInspection } from "./inspect.ts";
 * await assert.rejects(openForInspection("/nonexistent"), /^RunError: Cannot find \/nonexistent/);
 * ```
 */
export async function openForInspection(path: string): Promise<OpenedVersion> {
  try {
    return await openVersion(path);
  } catch (error) {
    throw asRunError(error, `Cannot open ${path}`);
  }
}

/**
 * Refuses a version without images, and one whose metadata.json disagrees with its archive's
 * headers: the archive's own headers, not metadata.json's claims, say how many images there are.
 *
 * @param version The opened version.
 * @throws {RunError} Exit 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkArchive } from "./inspect.ts";
 * const version = { path: "/x", metadata: { num_images: 0 } } as Parameters<typeof checkArchive>[0];
 * await assert.rejects(checkArchive(version), /it has no images/);
 * ```
 */
export async function checkArchive(version: OpenedVersion): Promise<void> {
  if (version.metadata.num_images < 1) {
    throw new RunError(`Cannot inspect ${version.path}: it has no images`);
  }
  await checkAgreement(version.path, version.metadata);
}

/**
 * The folder the inspection writes to (`--out`, else `<version>/inspection`), created and
 * checked writable.
 *
 * @param options The `--out` flag.
 * @param versionPath The version's folder.
 * @returns The folder.
 * @throws {UsageError} Exit 2 for an `--out` dsgen cannot write to.
 * @throws {RunError} Exit 1 for a version folder dsgen cannot write to (saying to pass --out).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectionFolder } from "./inspect.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await inspectionFolder({}, dir), `${dir}/inspection`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function inspectionFolder(
  options: { out?: string | undefined },
  versionPath: string,
): Promise<string> {
  const folder = options.out ?? join(versionPath, INSPECTION_FOLDER);
  await checkWritable(folder, options.out !== undefined);
  return folder;
}

/**
 * An inspection's pass over a version, with its progress bar: finished when the pass is, cleared
 * when it fails, and a failure said as one line naming the version.
 *
 * @param io Where the bar prints.
 * @param options `--quiet`.
 * @param version The version's folder and its number of images (or samples).
 * @param pass The pass, told how many images it has read.
 * @returns What the pass returns.
 * @throws {RunError} Exit 1, `Cannot read <version>: <reason>`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectionPass } from "./inspect.ts";
 * import { denoConsole } from "./console.ts";
 * const read = await inspectionPass(denoConsole(), { quiet: true },
 *   { path: "/data/v0001", numImages: 10 },
 *   (onProgress) => { onProgress(10); return Promise.resolve(10); });
 * assert.equal(read, 10);
 * ```
 */
export async function inspectionPass<T>(
  io: Console,
  options: { quiet?: boolean | undefined },
  version: { path: string; numImages: number },
  pass: (onProgress: (done: number) => void) => Promise<T>,
): Promise<T> {
  const progress = new ProgressReporter({
    total: Math.max(1, version.numImages),
    write: io.stderr,
    isTerminal: io.stderrIsTerminal,
    columns: io.columns,
    quiet: options.quiet,
    noColor: io.noColor,
    description: "Inspecting",
  });
  try {
    const result = await pass((done) => progress.update(done));
    progress.finish();
    return result;
  } catch (error) {
    progress.clear();
    throw asRunError(error, `Cannot read ${version.path}`);
  }
}

/** The fields every report.json starts with, as {@linkcode recordHead} gives them. */
export interface RecordHead {
  /** The report's format. */
  schema_version: number;
  /** The dataset's name. */
  dataset: string;
  /** The version's id, e.g. `v0001-20261204T120000Z`. */
  version_id: string;
  /** The version's absolute path. */
  path: string;
  /** When the inspection ran (ISO 8601). */
  inspected_at: string;
  /** The dsgen that inspected it. */
  dsgen_version: string;
  /** The family (or renderer) that drew it. */
  generator: { name: string; version: string };
  /** The seed the samples were drawn with. */
  sample_seed: number;
}

/**
 * The fields every report.json starts with: which version, when, by which dsgen, and the
 * sampling seed.
 *
 * @param version The inspected version.
 * @param seed The sampling seed.
 * @returns The fields, in snake_case.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordHead } from "./inspect.ts";
 * const version = { id: "v0001-x", path: "/data/v0001-x", metadata: { dataset: "d",
 *   generator: { name: "shapes", version: "1" } } } as Parameters<typeof recordHead>[0];
 * assert.equal(recordHead(version, 7).sample_seed, 7);
 * ```
 */
export function recordHead(version: OpenedVersion, seed: number): RecordHead {
  const { metadata } = version;
  return {
    schema_version: 1,
    dataset: metadata.dataset,
    version_id: version.id,
    path: resolve(version.path),
    inspected_at: new Date().toISOString(),
    dsgen_version: denoJson.version,
    generator: { name: metadata.generator.name, version: metadata.generator.version },
    sample_seed: seed,
  };
}

/**
 * Fails (exit 1) when a check of the report failed, naming them and the report.
 *
 * @param checks The report's checks.
 * @param reportPath Where report.json was written.
 * @throws {RunError} When one failed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { throwIfFailed } from "./inspect.ts";
 * throwIfFailed([{ name: "blank", verdict: "pass" }], "report.json");
 * assert.throws(() => throwIfFailed([{ name: "blank", verdict: "fail" }], "r.json"), /1 check of 1/);
 * ```
 */
export function throwIfFailed(
  checks: readonly { name: string; verdict: string }[],
  reportPath: string,
): void {
  const failed = checks.filter((check) => check.verdict === "fail");
  if (failed.length > 0) {
    throw new RunError(
      `Inspection failed: ${failed.map((check) => check.name).join(", ")} (${
        failed.length === 1 ? "1 check" : `${failed.length} checks`
      } of ${checks.length}); details in ${reportPath}`,
    );
  }
}

async function checkWritable(folder: string, fromFlag: boolean): Promise<void> {
  try {
    await Deno.mkdir(folder, { recursive: true });
    await Deno.remove(await Deno.makeTempFile({ dir: folder, prefix: ".dsgen-write-check-" }));
  } catch (error) {
    const reason = systemReason(error);
    if (fromFlag) {
      throw new UsageError(
        `Cannot use "--out" value ${quote(folder)}: cannot write in it (${reason}), expected a ` +
          "folder dsgen can write to",
      );
    }
    throw new RunError(
      `Cannot write the inspection into ${folder} (${reason}): pass --out DIR to write ` +
        "grid.png and report.json to a folder of your own",
      { cause: error },
    );
  }
}

/** A camelCase name in snake_case, as a type: `numImages` is `num_images`. */
export type SnakeCase<Name extends string> = Name extends `${infer First}${infer Rest}`
  ? `${First extends Lowercase<First> ? First : `_${Lowercase<First>}`}${SnakeCase<Rest>}`
  : Name;

/** A value with every object key in snake_case, as {@linkcode snakeCaseKeys} returns it. */
export type SnakeCaseKeys<T> = T extends readonly (infer Item)[] ? SnakeCaseKeys<Item>[]
  : T extends object
    ? { [Key in keyof T as Key extends string ? SnakeCase<Key> : Key]: SnakeCaseKeys<T[Key]> }
  : T;

/**
 * A report with its keys in snake_case, as every key of report.json and metadata.json is
 * written (`numImages` becomes `num_images`); values are unchanged.
 *
 * @param value The report, or any part of it.
 * @returns A copy with snake_case keys.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snakeCaseKeys } from "./inspect.ts";
 * assert.deepEqual(snakeCaseKeys({ numImages: 3, classes: [{ pValue: 1 }] }), {
 *   num_images: 3,
 *   classes: [{ p_value: 1 }],
 * });
 * ```
 */
export function snakeCaseKeys<T>(value: T): SnakeCaseKeys<T> {
  if (Array.isArray(value)) return value.map(snakeCaseKeys) as SnakeCaseKeys<T>;
  if (value === null || typeof value !== "object") return value as SnakeCaseKeys<T>;
  return Object.fromEntries(
    Object.entries(value).map((
      [key, item],
    ) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), snakeCaseKeys(item)]),
  ) as SnakeCaseKeys<T>;
}

/** Fails early, before the long pass, when the grid would exceed the renderer's limits. */
function checkGridSize(
  grid: {
    samples: number;
    imageSize: number;
    columns: number;
    scale: number;
    title: string;
    numImages: number;
  },
): void {
  const caption = `#${Math.max(0, grid.numImages - 1)} triangle`;
  try {
    computeGridLayout(new Array(grid.samples).fill(caption), grid);
  } catch (error) {
    throw new UsageError(
      `Cannot draw ${grid.samples} samples of ${grid.imageSize}x${grid.imageSize} at scale ` +
        `${grid.scale}: ${(error as Error).message.replace(/^Cannot [^:]*: /, "")}`,
    );
  }
}

/** Fails (exit 1) when metadata.json and the archive's headers disagree, as verify does. */
async function checkAgreement(path: string, metadata: VersionMetadata): Promise<void> {
  let problem;
  try {
    const archive = join(path, ARCHIVE_FILE);
    if ((await Deno.lstat(archive)).isSymlink) {
      throw new TypeError(`Cannot read ${archive}: it is a symbolic link, expected the archive`);
    }
    const reader = await NpzReader.open(archive);
    try {
      problem = archiveDisagreement(metadata, reader);
    } finally {
      reader.close();
    }
  } catch (error) {
    throw asRunError(error, `Cannot read ${path}`);
  }
  if (problem !== undefined) throw new RunError(`Cannot inspect ${path}: ${problem}`);
}
