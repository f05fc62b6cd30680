/**
 * Writes the figures of docs/performance.md from a recorded bench run, so that they are never
 * typed by hand:
 *
 * ```text
 * deno task docs:performance bench/results/2026-11-27.md
 * deno task docs:performance --check      # exit 1 when the page differs from its recorded run
 * ```
 *
 * A recorded run (bench/results/*.md) is Markdown: a preamble naming the commit, then one
 * `## section` per bench command, each holding that command's raw output in a fenced block.
 * The raw output prints `Machine:` and `Date:` lines, captions ending in a colon, pipe tables
 * and a few lines of text. Every table becomes a table of the page, under its caption; the text
 * lines stay text; the machine, date and commit head the generated part. Nothing is
 * specific to today's tables, so a run that adds a table or a section needs no change here.
 *
 * The generated part of docs/performance.md lies between two markers; the first names the
 * results file, which `--check` (and tests/performance_doc_test.ts) regenerates from:
 *
 * ```text
 * <!-- performance:start bench/results/2026-11-27.md -->
 * ...
 * <!-- performance:end -->
 * ```
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fencedBlocks, pipeTables } from "./markdown.ts";

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The page this script writes. */
export const PERFORMANCE_PAGE = "docs/performance.md";

const START = /<!-- performance:start (\S+) -->/;
const END = "<!-- performance:end -->";

/** What a recorded run says about where and when it ran. */
export interface RecordedRun {
  /** The `Machine:` line of the first section, e.g. `unknown CPU, 2 cores, ...`. */
  machine: string;
  /** The first `Date:` line, an ISO time. */
  date: string;
  /** The commit the preamble names (`commit 8df1df8`), or undefined. */
  commit: string | undefined;
}

/**
 * Reads the machine, date and commit of a recorded run.
 *
 * @param results The results file's text.
 * @returns What it says; a missing machine or date reads "not recorded".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFacts } from "./performance_doc.ts";
 * const fence = "`".repeat(3);
 * const text = `# Run\n\nFrom commit 8df1df8.\n\n## speed\n\n${fence}\nMachine: 2 cores\n` +
 *   `Date: 2026-11-27T08:59:09.934Z\n${fence}\n`;
 * assert.deepEqual(runFacts(text), {
 *   machine: "2 cores",
 *   date: "2026-11-27T08:59:09.934Z",
 *   commit: "8df1df8",
 * });
 * ```
 */
export function runFacts(results: string): RecordedRun {
  const preamble = results.split(/^## /m)[0] ?? "";
  return {
    machine: /^Machine: (.+)$/m.exec(results)?.[1]?.trim() ?? "not recorded",
    date: /^Date: (.+)$/m.exec(results)?.[1]?.trim() ?? "not recorded",
    commit: /\bcommit ([0-9a-f]{7,40})\b/.exec(preamble)?.[1],
  };
}

/**
 * The command a section's raw output was made by, from deno task's `Task` line, e.g.
 * `Task bench deno run ... bench/speed_bench.ts '--rounds' '3'` gives
 * `deno task bench --rounds 3`.
 *
 * @param output A section's raw output.
 * @returns The command, or undefined without a `Task` line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taskCommand } from "./performance_doc.ts";
 * const line = "Task bench:merge deno run -A bench/merge_bench.ts '--rounds' '3'";
 * assert.equal(taskCommand(line), "deno task bench:merge --rounds 3");
 * ```
 */
export function taskCommand(output: string): string | undefined {
  const task = /^Task (\S+) .*?\.ts((?: '[^']*')*)\s*$/m.exec(output);
  if (task === null) return undefined;
  const args = [...(task[2] ?? "").matchAll(/'([^']*)'/g)].map((match) => match[1]);
  return ["deno task", task[1], ...args].join(" ");
}

/** Formats one table as Markdown (deno fmt aligns the columns afterwards). */
function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    line(header),
    line(header.map(() => "---")),
    ...rows.map((row) => line(header.map((_, i) => row[i] ?? ""))),
  ].join("\n");
}

/** Text of the raw output for a reader: Markdown's special characters escaped. */
function plainText(line: string): string {
  return line.replace(/([\\*_<>[\]#])/g, "\\$1");
}

/**
 * The generated part of docs/performance.md for one recorded run: a line naming the run,
 * machine, date and commit, then per section its command, text lines and tables.
 *
 * @param results The results file's text.
 * @param resultsPath The results file's path as the page names it, e.g.
 *   `bench/results/2026-11-27.md`.
 * @returns Markdown, not yet formatted by deno fmt.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { performanceTables } from "./performance_doc.ts";
 * const fence = "`".repeat(3);
 * const results = `# Run\n\ncommit abc1234\n\n## speed\n\n${fence}\n` +
 *   "Machine: 2 cores\nDate: 2026-11-27T08:59:09Z\n\nSpeed:\n| a | b |\n| --- | --- |\n" +
 *   `| 1 | 2 |\n${fence}\n`;
 * const page = performanceTables(results, "bench/results/x.md");
 * assert.match(page, /commit `abc1234`/);
 * assert.match(page, /Speed:\n\n\| a \| b \|\n\| --- \| --- \|\n\| 1 \| 2 \|/);
 * ```
 */
export function performanceTables(results: string, resultsPath: string): string {
  const facts = runFacts(results);
  const parts: string[] = [
    `Recorded run: [\`${resultsPath}\`](../${resultsPath}), started ${facts.date}, ` +
    (facts.commit === undefined ? "commit not recorded" : `commit \`${facts.commit}\``) +
    `, on ${facts.machine}.`,
  ];
  const sections = results.split(/^## /m).slice(1);
  if (sections.length === 0) throw new RangeError(`${resultsPath} has no "## " sections`);
  for (const section of sections) {
    const title = section.split("\n")[0]?.trim() ?? "";
    const blocks = fencedBlocks(section);
    // Raw output is recorded in fenced blocks; a section pasted without fences is read whole.
    const output = blocks.length > 0
      ? blocks.map((block) => block.code).join("\n")
      : section.split("\n").slice(1).join("\n");
    const command = taskCommand(output);
    parts.push(`### ${title[0]?.toUpperCase()}${title.slice(1)}`);
    if (command !== undefined) parts.push(`\`${command}\``);
    const tables = pipeTables(output);
    const tableLines = new Set<number>();
    for (const table of tables) {
      for (let line = table.line; line < table.line + 2 + table.rows.length; line++) {
        tableLines.add(line);
      }
    }
    const captions = new Set(tables.map((table) => table.caption));
    const lines = output.split("\n");
    let paragraph: string[] = [];
    const flush = () => {
      if (paragraph.length > 0) parts.push(paragraph.join("\n"));
      paragraph = [];
    };
    lines.forEach((text, index) => {
      const lineNumber = index + 1;
      const table = tables.find((candidate) => candidate.line === lineNumber);
      if (table !== undefined) {
        flush();
        parts.push(markdownTable(table.header, table.rows));
        return;
      }
      const trimmed = text.trim();
      if (
        tableLines.has(lineNumber) || /^(Task|Machine:|Date:) /.test(trimmed) || trimmed === ""
      ) {
        flush();
        return;
      }
      if (captions.has(trimmed)) {
        flush();
        parts.push(plainText(trimmed));
        return;
      }
      paragraph.push(plainText(trimmed));
    });
    flush();
  }
  return parts.join("\n\n") + "\n";
}

/**
 * Replaces the generated part of a page with the tables of a recorded run.
 *
 * @param page The page's text, holding the two markers.
 * @param tables The generated part, from {@linkcode performanceTables}.
 * @param resultsPath The results file, named in the start marker.
 * @returns The new page text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceGenerated } from "./performance_doc.ts";
 * const page = "Intro\n<!-- performance:start a.md -->\nold\n<!-- performance:end -->\nEnd\n";
 * assert.equal(
 *   replaceGenerated(page, "new\n", "b.md"),
 *   "Intro\n<!-- performance:start b.md -->\n\nnew\n\n<!-- performance:end -->\nEnd\n",
 * );
 * ```
 */
export function replaceGenerated(page: string, tables: string, resultsPath: string): string {
  const start = START.exec(page);
  const end = page.indexOf(END);
  if (start === null || end < start.index) {
    throw new RangeError(
      `Cannot find the markers "<!-- performance:start FILE -->" and "${END}" in the page`,
    );
  }
  return page.slice(0, start.index) + `<!-- performance:start ${resultsPath} -->\n\n` + tables +
    "\n" + page.slice(end);
}

/**
 * The results file a page was generated from, as its start marker names it.
 *
 * @param page The page's text.
 * @returns The path, relative to the repository, or undefined without a marker.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordedResults } from "./performance_doc.ts";
 * assert.equal(recordedResults("<!-- performance:start bench/results/x.md -->"), "bench/results/x.md");
 * ```
 */
export function recordedResults(page: string): string | undefined {
  return START.exec(page)?.[1];
}

/** Formats Markdown as `deno fmt` does, so the page passes `deno fmt --check`. */
async function denoFmt(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const output = await child.output();
  if (!output.success) {
    throw new Error(`deno fmt failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/**
 * docs/performance.md as it should read for a results file: the current page with its
 * generated part replaced, formatted.
 *
 * @param resultsPath The results file, relative to the repository (or absolute).
 * @returns The page's expected text.
 */
export async function expectedPage(resultsPath: string): Promise<string> {
  const absolute = resolve(REPO_ROOT, resultsPath);
  const named = relative(REPO_ROOT, absolute);
  const results = await Deno.readTextFile(absolute);
  const page = await Deno.readTextFile(join(REPO_ROOT, PERFORMANCE_PAGE));
  return await denoFmt(replaceGenerated(page, performanceTables(results, named), named));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { check: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const page = await Deno.readTextFile(join(REPO_ROOT, PERFORMANCE_PAGE));
  // A path typed on the command line means the folder it was typed in (deno task runs here).
  const typed = positionals[0];
  const resultsPath = typed === undefined
    ? recordedResults(page)
    : resolve(Deno.env.get("INIT_CWD") || Deno.cwd(), typed);
  if (resultsPath === undefined || positionals.length > 1) {
    console.error(
      "Usage: deno task docs:performance [RESULTS.md] [--check] (RESULTS.md defaults to the " +
        `file ${PERFORMANCE_PAGE} names)`,
    );
    Deno.exit(2);
  }
  try {
    const expected = await expectedPage(resultsPath);
    if (values.check) {
      if (expected !== page) {
        console.error(
          `${PERFORMANCE_PAGE} differs from what ${resultsPath} gives: run ` +
            "deno task docs:performance",
        );
        Deno.exit(1);
      }
    } else {
      await Deno.writeTextFile(join(REPO_ROOT, PERFORMANCE_PAGE), expected);
      console.log(`Wrote ${PERFORMANCE_PAGE} from ${resultsPath}`);
    }
  } catch (error) {
    console.error(`Cannot write ${PERFORMANCE_PAGE}: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
