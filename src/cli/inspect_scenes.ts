/**
 * `dsgen inspect` of a `scenes` version: the scene quality report (object counts, shapes per
 * slot, occlusion, masks that partition every pixel) over every scene, and `grid.png`, the
 * sampled scenes beside their masks with each entity in its own colour. Writes grid.png and
 * report.json into `<version>/inspection/` (or `--out`), prints the table, and exits 1 when a
 * check fails.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { writeFileAtomic } from "../store/atomic_write.ts";
import { ARCHIVE_FILE, hasClassicArrays, type VersionMetadata } from "../store/metadata.ts";
import { openVersion } from "../store/open_version.ts";
import { inspectScenes, type SceneInspection } from "../validate/inspect_scenes.ts";
import {
  inspectSchema,
  type SchemaHints,
  type SchemaInspection,
} from "../validate/inspect_schema.ts";
import type { Console } from "./console.ts";
import { UsageError } from "./errors.ts";
import { computeGridLayout } from "../report/grid_layout.ts";
import type { InspectCommandOptions } from "./inspect.ts";
import { asRunError } from "./input_error.ts";
import {
  checkArchive,
  inspectionFolder,
  inspectionPass,
  openForInspection,
  recordHead,
  snakeCaseKeys,
  throwIfFailed,
} from "./inspect.ts";

/**
 * Whether a path is a version (or a dataset whose newest version is) of the `scenes` family.
 *
 * @param path A version or dataset folder.
 * @returns True for scenes; false otherwise, or when it cannot be opened (inspect then says
 *   why).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isScenesVersion } from "./inspect_scenes.ts";
 * assert.equal(await isScenesVersion("/nonexistent"), false);
 * ```
 */
export async function isScenesVersion(path: string): Promise<boolean> {
  return await ownSchemaKind(path) === "scenes";
}

/**
 * Which report a version with its own sample schema gets: `scenes` for the scenes family,
 * `schema` for any other family or renderer with its own arrays (a version 2 renderer's, or
 * one without the classic arrays: `hasClassicArrays`), undefined for a classic version (or one
 * that cannot be opened: inspect then says why).
 *
 * @param path A version or dataset folder.
 * @returns The kind of report.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ownSchemaKind } from "./inspect_scenes.ts";
 * assert.equal(await ownSchemaKind("/nonexistent"), undefined);
 * ```
 */
export async function ownSchemaKind(path: string): Promise<"scenes" | "schema" | undefined> {
  try {
    return schemaKindOf((await openVersion(path)).metadata);
  } catch {
    return undefined;
  }
}

/** {@linkcode ownSchemaKind} of a version's metadata. */
function schemaKindOf(metadata: VersionMetadata): "scenes" | "schema" | undefined {
  if (metadata.generator.name === "scenes") return "scenes";
  if (metadata.splits !== undefined) return undefined;
  return hasClassicArrays(metadata) ? undefined : "schema";
}

/** The report as a table: check, verdict, result. */
function formatSceneTable(inspection: SceneInspection | SchemaInspection): string {
  const rows = [
    ["check", "verdict", "result"],
    ...inspection.report.checks.map((check) => [
      check.name,
      check.verdict.toUpperCase(),
      check.summary,
    ]),
  ];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`
  ).join("\n") + "\n";
}

/**
 * Inspects a scenes version: report, grid, table.
 *
 * @param options The parsed `dsgen inspect` flags.
 * @param io Where to print.
 * @returns The inspection and the paths written.
 * @throws {RunError} Exit 1 for unreadable input or a failed check (after writing the files).
 * @example
 * ```ts ignore
 * import { runInspectScenes } from "./inspect_scenes.ts";
 * import { denoConsole } from "./console.ts";
 * await runInspectScenes({ path: "data/scenes64", samples: 16, quiet: true }, denoConsole());
 * ```
 */
export async function runInspectScenes(
  options: InspectCommandOptions,
  io: Console,
): Promise<
  { inspection: SceneInspection | SchemaInspection; gridPath: string; reportPath: string }
> {
  const version = await openForInspection(options.path);
  const { metadata } = version;
  const kind = schemaKindOf(metadata);
  await checkArchive(version);
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const imageSize = metadata.image_size;
  const scale = options.scale ?? Math.max(1, Math.min(8, Math.floor(128 / imageSize)));
  const samples = Math.min(options.samples, metadata.num_images);
  const title = `${metadata.dataset} ${version.id}  seed ${metadata.seed}  samples seed ${seed}`;
  // Each scene takes two cells (image and masks): refuse a grid too large before the pass.
  try {
    const captions = new Array(2 * samples).fill(`#${metadata.num_images - 1} 10 obj`);
    const columns = 2 * Math.max(1, Math.ceil(Math.sqrt(samples)));
    computeGridLayout(captions, { imageSize, columns, scale, title });
  } catch (error) {
    throw new UsageError(
      `Cannot use "--samples" value "${options.samples}" with "--scale" ${scale}: ${samples} ` +
        `scenes and their masks of ${imageSize}x${imageSize} make too large a grid, ` +
        (error as Error).message.replace(/^Cannot [^:]*: /, ""),
    );
  }
  const outputDir = await inspectionFolder(options, version.path);
  io.stderr(
    `Inspecting ${version.path} (${metadata.num_images} ${
      kind === "schema" ? "samples" : "scenes"
    } of ${imageSize}x${imageSize}, ` +
      `generator ${metadata.generator.name} ${metadata.generator.version}); sampling seed ` +
      `${seed}${options.seed === undefined ? " (drawn)" : ""}\n`,
  );
  const archive = join(version.path, ARCHIVE_FILE);
  const inspection = await inspectionPass<SceneInspection | SchemaInspection>(
    io,
    options,
    { path: version.path, numImages: metadata.num_images },
    (onProgress) =>
      kind === "schema"
        ? inspectSchema(archive, schemaHints(metadata), { samples, seed, onProgress })
        : inspectScenes(archive, {
          parameters: metadata.generator.parameters ?? {},
          samples,
          seed,
          onProgress,
        }),
  );
  const gridPath = join(outputDir, "grid.png");
  const reportPath = join(outputDir, "report.json");
  // Loaded here, not at the top: pureimage costs every command's start about 15 ms.
  const { renderSceneGridPng } = await import("../report/scene_grid.ts");
  const png = await renderSceneGridPng(inspection.cells, {
    imageSize,
    channels: "channels" in inspection ? inspection.channels : inspection.image.channels,
    scale,
    title,
  });
  const record = {
    ...recordHead(version, seed),
    sample_indices: inspection.cells.map((cell) => cell.index),
    grid: { path: resolve(gridPath), title, scale },
    ...snakeCaseKeys(inspection.report),
  };
  try {
    await writeFileAtomic(gridPath, png);
    await writeFileAtomic(reportPath, JSON.stringify(record, null, 2) + "\n");
  } catch (error) {
    throw asRunError(error, "Cannot write the inspection files");
  }
  io.stdout(formatSceneTable(inspection));
  io.stdout(`\nGrid: ${gridPath}\nReport: ${reportPath}\n`);
  throwIfFailed(inspection.report.checks, reportPath);
  return { inspection, gridPath, reportPath };
}

/** What the schema inspection reads from metadata.json: roles and classes a renderer declared. */
function schemaHints(metadata: VersionMetadata): SchemaHints {
  const declared = metadata.renderer?.declared ?? {};
  const roles = new Map<string, string>();
  if (Array.isArray(declared.arrays)) {
    for (const array of declared.arrays) {
      if (array !== null && typeof array === "object" && !Array.isArray(array)) {
        if (typeof array.name === "string" && typeof array.role === "string") {
          roles.set(array.name, array.role);
        }
      }
    }
  }
  const classes = Array.isArray(declared.classes)
    ? declared.classes.filter((name): name is string => typeof name === "string")
    : [];
  return { numSamples: metadata.num_images, roles, classes };
}
