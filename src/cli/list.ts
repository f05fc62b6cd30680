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
for an unreadable metadata.json.

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
  if (options.json) io.stdout(JSON.stringify(rows, null, 2) + "\n");
  else if (rows.length === 0) io.stderr(`No datasets in ${options.dir}\n`);
  else io.stdout(formatListTable(rows));
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
