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
import denoJson from "../../deno.json" with { type: "json" };
import { ProgressReporter } from "../report/progress_bar.ts";
import { writeFileAtomic } from "../store/atomic_write.ts";
import { ARCHIVE_FILE } from "../store/metadata.ts";
import { openVersion } from "../store/open_version.ts";
import { inspectScenes, type SceneInspection } from "../validate/inspect_scenes.ts";
import type { Console } from "./console.ts";
import { RunError, UsageError } from "./errors.ts";
import { computeGridLayout } from "../report/grid_layout.ts";
import type { InspectCommandOptions } from "./inspect.ts";
import { asRunError } from "./input_error.ts";
import { snakeCaseKeys } from "./inspect.ts";

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
  try {
    return (await openVersion(path)).metadata.generator.name === "scenes";
  } catch {
    return false;
  }
}

/** The report as a table: check, verdict, result. */
function formatSceneTable(inspection: SceneInspection): string {
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
): Promise<{ inspection: SceneInspection; gridPath: string; reportPath: string }> {
  let version;
  try {
    version = await openVersion(options.path);
  } catch (error) {
    throw asRunError(error, `Cannot open ${options.path}`);
  }
  const { metadata } = version;
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
  const outputDir = options.out ?? join(version.path, "inspection");
  try {
    await Deno.mkdir(outputDir, { recursive: true });
  } catch (error) {
    throw asRunError(error, `Cannot write the inspection into ${outputDir}`);
  }
  io.stderr(
    `Inspecting ${version.path} (${metadata.num_images} scenes of ${imageSize}x${imageSize}, ` +
      `generator ${metadata.generator.name} ${metadata.generator.version}); sampling seed ` +
      `${seed}${options.seed === undefined ? " (drawn)" : ""}\n`,
  );
  const progress = new ProgressReporter({
    total: Math.max(1, metadata.num_images),
    write: io.stderr,
    isTerminal: io.stderrIsTerminal,
    columns: io.columns,
    quiet: options.quiet,
    noColor: io.noColor,
    description: "Inspecting",
  });
  let inspection: SceneInspection;
  try {
    inspection = await inspectScenes(join(version.path, ARCHIVE_FILE), {
      parameters: metadata.generator.parameters ?? {},
      samples,
      seed,
      onProgress: (done) => progress.update(done),
    });
    progress.finish();
  } catch (error) {
    progress.clear();
    throw asRunError(error, `Cannot read ${version.path}`);
  }
  const gridPath = join(outputDir, "grid.png");
  const reportPath = join(outputDir, "report.json");
  // Loaded here, not at the top: pureimage costs every command's start about 15 ms.
  const { renderSceneGridPng } = await import("../report/scene_grid.ts");
  const png = await renderSceneGridPng(inspection.cells, {
    imageSize,
    channels: inspection.channels,
    scale,
    title,
  });
  const record = {
    schema_version: 1,
    dataset: metadata.dataset,
    version_id: version.id,
    path: resolve(version.path),
    inspected_at: new Date().toISOString(),
    dsgen_version: denoJson.version,
    generator: { name: metadata.generator.name, version: metadata.generator.version },
    sample_seed: seed,
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
  const failed = inspection.report.checks.filter((check) => check.verdict === "fail");
  if (failed.length > 0) {
    throw new RunError(
      `Inspection failed: ${failed.map((check) => check.name).join(", ")} (${
        failed.length === 1 ? "1 check" : `${failed.length} checks`
      } of ${inspection.report.checks.length}); details in ${reportPath}`,
    );
  }
  return { inspection, gridPath, reportPath };
}
