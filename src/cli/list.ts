/**
 * `dsgen list`: every dataset and version under an output folder, as a table or as JSON.
 *
 * {@linkcode parseListArgs} turns the words into a typed {@linkcode ListCommandOptions};
 * {@linkcode formatListTable} is the table, tested alone; {@linkcode runList} prints it. A
 * version whose metadata.json is missing or unreadable is listed as `damaged` and makes the
 * command exit 1 after printing everything.
 *
 * @module
 */

import { join } from "node:path";
import { listRuns, type RunSummary } from "../cluster/run_folder.ts";
import { formatMegabytes } from "../report/memory.ts";
import { listDatasets, type ListedVersion } from "../store/list_datasets.ts";
import type { Console } from "./console.ts";
import { RunError, UsageError } from "./errors.ts";
import { type FlagSpec, parseFlags } from "./flags.ts";
import { asRunError } from "./input_error.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** A list run, as the flags describe it. */
export interface ListCommandOptions {
  /** The output folder. */
  dir: string;
  /** Print JSON instead of a table. */
  json: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen list`. */
export const LIST_HELP = `Usage: dsgen list DIR [--json]

Lists every dataset and version under an output folder, newest last within each dataset:
dataset, version, created, images, image size and dtype, size on disk (dataset.npz and
metadata.json; what inspect added is in --json as inspection_bytes), seed and status.
Status is complete, or unfinished for a staging folder left by a run in progress or killed
(with the owner's pid and host, and whether that process is alive on this host), or damaged
for an unreadable metadata.json. Unfinished sharded runs (--shards) follow in a table of their
own: run id, slices done of all, and the missing ones; in --json they are rows after the
versions, with status unfinished, version null and a "run" object (id, shards, done,
missing, merging).

A relative DIR means the folder the command was typed in.

Options:
  --json       print a JSON array for scripts
  -h, --help   show this help
`;

/**
 * Turns the words after `list` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param caller The folder relative paths mean (see `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListArgs } from "./list.ts";
 *
 * assert.deepEqual(parseListArgs(["data", "--json"]), { dir: "data", json: true });
 * assert.throws(() => parseListArgs(["data", "--all"]), /Unknown flag "--all"/);
 * ```
 */
export function parseListArgs(
  args: readonly string[],
  caller: CallerFolder = {},
): ListCommandOptions | "help" {
  const { values, positionals } = parseFlags(args, {
    command: "list",
    flags: FLAGS,
    positionals: 1,
  });
  if (values.help === true) return "help";
  const dir = positionals[0];
  if (dir === undefined) {
    throw new UsageError('Missing DIR for "dsgen list": expected an output folder');
  }
  return { dir: callerPath(dir, caller), json: values.json === true };
}

function describeStatus(row: ListedVersion): string {
  if (row.status === "damaged") return `damaged: ${row.problem ?? "unreadable metadata.json"}`;
  if (row.status === "complete") return "complete";
  const owner = row.owner;
  if (owner === undefined) return "unfinished (no owner.json: the run died at its start)";
  const where = `pid ${owner.pid} on ${owner.host}`;
  if (owner.alive === null) return `unfinished (${where}, another host: cannot tell if running)`;
  return owner.alive
    ? `unfinished (${where}, running: in progress)`
    : `unfinished (${where}, not running: killed run)`;
}

/**
 * Formats the rows as an aligned table with a header line.
 *
 * @param rows The versions, as {@linkcode listDatasets} gives them.
 * @returns The table's lines, ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatListTable } from "./list.ts";
 *
 * const table = formatListTable([{ dataset: "shapes16", version: 1, id: "v0001-20261125T031245Z",
 *   path: "data/shapes16/v0001-20261125T031245Z", status: "complete",
 *   created: "2026-11-25T03:12:45.123Z", images: 1000, dtype: "uint8", image_size: 16,
 *   bytes: 274518, inspection_bytes: 0, seed: 42 }]);
 * assert.match(table, /^shapes16 +v0001-\S+ +2026-11-25 03:12:45Z +1000 +16x16 uint8 +0\.3 MB +42 +complete$/m);
 * ```
 */
export function formatListTable(rows: readonly ListedVersion[]): string {
  const table = [
    ["dataset", "version", "created", "images", "image", "size", "seed", "status"],
    ...rows.map((row) => [
      row.dataset,
      row.id,
      row.created === null ? "-" : row.created.replace("T", " ").replace(/\.\d+Z$/, "Z"),
      row.images === null ? "-" : String(row.images),
      row.image_size === null || row.dtype === null
        ? "-"
        : `${row.image_size}x${row.image_size} ${row.dtype}`,
      formatMegabytes(row.bytes),
      row.seed === null ? "-" : String(row.seed),
      describeStatus(row),
    ]),
  ];
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => line[column]!.length))
  );
  return table.map((line) =>
    line.map((cell, column) => column === line.length - 1 ? cell : cell.padEnd(widths[column]!))
      .join("  ")
  ).join("\n") + "\n";
}

/** The unfinished sharded runs in the output folder's datasets (and in it, if it is one). */
async function unfinishedRuns(dir: string): Promise<RunSummary[]> {
  const runs = await listRuns(dir);
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
    }
    for (const name of names.sort()) runs.push(...await listRuns(join(dir, name)));
  } catch {
    // listDatasets already reported an unreadable folder.
  }
  return runs;
}

/**
 * An unfinished sharded run as `list --json` prints it, after the versions: the keys of a
 * version's row (status `unfinished`, no version number, nothing inspected), and `run`.
 */
export interface ListedRun extends Omit<ListedVersion, "version" | "status" | "owner" | "problem"> {
  /** A run folder holds no version yet. */
  version: null;
  /** Always `unfinished`: a merged run's folder is gone. */
  status: "unfinished";
  /** The sharded run: its id, slices done of all, the missing ones, and whether merging. */
  run: { id: string; shards: number | null; done: number; missing: number[]; merging: boolean };
}

/**
 * Turns a sharded run into its `list --json` row.
 *
 * @param run The run, as `listRuns` gives it.
 * @returns The row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listedRun } from "./list.ts";
 * const row = listedRun({ dataset: "shapes16", runId: "812", path: "d/.run-812", shards: 4,
 *   done: 3, missing: [2], merging: false, created: null, bytes: 10, spec: null });
 * assert.equal(row.id, ".run-812");
 * assert.deepEqual(row.run, { id: "812", shards: 4, done: 3, missing: [2], merging: false });
 * ```
 */
export function listedRun(run: RunSummary): ListedRun {
  const spec = run.spec;
  const number = (value: unknown) => typeof value === "number" ? value : null;
  return {
    dataset: run.dataset,
    version: null,
    id: run.path.split("/").filter((part) => part !== "").at(-1) ?? run.path,
    path: run.path,
    status: "unfinished",
    created: run.created,
    images: number(spec?.numImages),
    dtype: typeof spec?.dtype === "string" ? spec.dtype : null,
    image_size: number(spec?.imageSize),
    bytes: run.bytes,
    inspection_bytes: 0,
    seed: number(spec?.seed),
    run: {
      id: run.runId,
      shards: run.shards,
      done: run.done,
      missing: run.missing,
      merging: run.merging,
    },
  };
}

/**
 * Formats unfinished sharded runs: id, slices done of all, and the missing ones.
 *
 * @param runs The runs, as `listRuns` gives them.
 * @returns The lines, ending with a newline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRunsTable } from "./list.ts";
 * const table = formatRunsTable([{ dataset: "shapes16", runId: "812", path: "", shards: 4,
 *   done: 3, missing: [2], merging: false, spec: null, created: null, bytes: 0 }]);
 * assert.match(table, /^shapes16 +812 +3\/4 +2$/m);
 * ```
 */
export function formatRunsTable(runs: readonly RunSummary[]): string {
  const table = [
    ["dataset", "run", "done", "missing"],
    ...runs.map((run) => {
      const shown = run.missing.slice(0, 10).join(",") + (run.missing.length > 10 ? ",..." : "");
      return [
        run.dataset,
        run.runId,
        run.shards === null ? "-" : `${run.done}/${run.shards}`,
        run.shards === null
          ? "no plan.json"
          : run.merging
          ? "none (merging)"
          : shown === ""
          ? "none (not merged: dsgen merge)"
          : shown,
      ];
    }),
  ];
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((line) => line[column]!.length))
  );
  return "\nUnfinished sharded runs (dsgen merge or dsgen discard DATASET_DIR --run-id ID):\n" +
    table.map((line) =>
      line.map((cell, column) => column === line.length - 1 ? cell : cell.padEnd(widths[column]!))
        .join("  ")
    ).join("\n") + "\n";
}

/**
 * Runs `dsgen list` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @returns The rows printed.
 * @throws {RunError} Exit 1 for a missing folder, or after printing when a version is damaged.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runList } from "./list.ts";
 *
 * const dir = await Deno.makeTempDir();
 * let printed = "";
 * const io = { stdout: (text: string) => void (printed += text), stderr() {},
 *   stderrIsTerminal: false, columns: () => 80, noColor: true,
 *   readLine: () => Promise.resolve(null) };
 * await runList({ dir, json: true }, io);
 * assert.equal(printed, "[]\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runList(options: ListCommandOptions, io: Console): Promise<ListedVersion[]> {
  let rows: ListedVersion[];
  try {
    rows = await listDatasets(options.dir);
  } catch (error) {
    throw asRunError(error, `Cannot list ${options.dir}`);
  }
  const runs = await unfinishedRuns(options.dir);
  if (options.json) {
    const printed: (ListedVersion | ListedRun)[] = [...rows, ...runs.map(listedRun)];
    io.stdout(JSON.stringify(printed, null, 2) + "\n");
  } else if (rows.length === 0 && runs.length === 0) io.stderr(`No datasets in ${options.dir}\n`);
  else if (rows.length > 0) io.stdout(formatListTable(rows));
  if (!options.json && runs.length > 0) io.stdout(formatRunsTable(runs));
  const damaged = rows.filter((row) => row.status === "damaged");
  if (damaged.length > 0) {
    throw new RunError(
      `${damaged.length === 1 ? "1 version is" : `${damaged.length} versions are`} damaged: ${
        damaged.map((row) => row.problem).join("; ")
      }`,
    );
  }
  return rows;
}
