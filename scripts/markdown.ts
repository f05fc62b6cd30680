/**
 * The two parts of Markdown that dsgen's documentation tooling reads: fenced code blocks (the
 * examples tests/docs_examples_test.ts runs) and pipe tables (the flag tables
 * tests/flag_tables_test.ts compares with `--help`, and the bench tables
 * scripts/performance_doc.ts turns into docs/performance.md).
 *
 * Only what the project's pages use: fences of three or more backticks or tildes, possibly
 * indented (inside a list item), and GitHub pipe tables with a `| --- |` delimiter row.
 *
 * @module
 */

/** One fenced code block of a Markdown text. */
export interface FencedBlock {
  /** The first word of the info string, e.g. `sh`; empty when the fence has no info string. */
  language: string;
  /** The whole info string after the fence, e.g. `sh no-run: needs a cluster`. */
  info: string;
  /** The block's text, without the fences and without the fence's indentation. */
  code: string;
  /** The 1-based line number of the opening fence. */
  line: number;
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/**
 * Every fenced code block of a Markdown text, in order.
 *
 * @param markdown The page's text.
 * @returns The blocks; an unclosed block runs to the end of the text, as in CommonMark.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fencedBlocks } from "./markdown.ts";
 * const fence = "`".repeat(3);
 * const page = `Text\n\n${fence}sh no-run: needs a cluster\nsbatch job.sh\n${fence}\n`;
 * const [block] = fencedBlocks(page);
 * assert.equal(block?.language, "sh");
 * assert.equal(block?.info, "sh no-run: needs a cluster");
 * assert.equal(block?.code, "sbatch job.sh\n");
 * assert.equal(block?.line, 3);
 * ```
 */
export function fencedBlocks(markdown: string): FencedBlock[] {
  const lines = markdown.split("\n");
  const blocks: FencedBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index] ?? "");
    if (open === null) continue;
    const [, indent = "", fence = "", rest = ""] = open;
    // A backtick fence's info string may not contain a backtick (that is inline code).
    if (fence.startsWith("`") && rest.includes("`")) continue;
    const info = rest.trim();
    const body: string[] = [];
    const start = index;
    for (index++; index < lines.length; index++) {
      const line = lines[index] ?? "";
      const close = FENCE.exec(line);
      if (
        close !== null && close[2]?.[0] === fence[0] && (close[2]?.length ?? 0) >= fence.length &&
        close[3]?.trim() === ""
      ) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    blocks.push({
      language: info.split(/\s+/)[0] ?? "",
      info,
      code: body.length === 0 ? "" : body.join("\n") + "\n",
      line: start + 1,
    });
  }
  return blocks;
}

/** One pipe table of a Markdown text. */
export interface PipeTable {
  /** The header cells, trimmed. */
  header: string[];
  /** The body rows' cells, trimmed; a row has as many cells as its line. */
  rows: string[][];
  /** The 1-based line number of the header row. */
  line: number;
  /** The nearest text line above the table that is not blank (a heading or a caption). */
  caption: string;
}

const DELIMITER_CELL = /^:?-{3,}:?$/;

/**
 * Splits one table line into its trimmed cells. A pipe inside backticks or escaped as `\|`
 * does not split.
 *
 * @param line A line such as `| a | b |`.
 * @returns The cells, e.g. `["a", "b"]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableCells } from "./markdown.ts";
 * assert.deepEqual(tableCells("| `a|b` | c \\| d |"), ["`a|b`", "c | d"]);
 * ```
 */
export function tableCells(line: string): string[] {
  let text = line.trim();
  if (text.startsWith("|")) text = text.slice(1);
  if (text.endsWith("|") && !text.endsWith("\\|")) text = text.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  let inCode = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\" && text[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (char === "`") {
      inCode = !inCode;
      cell += char;
    } else if (char === "|" && !inCode) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * Every pipe table of a Markdown text (or of plain text holding such tables, like a bench
 * run's raw output), in order. Tables inside fenced blocks count too: a bench's output is
 * recorded in fenced blocks.
 *
 * @param markdown The text.
 * @returns The tables: a header line, a delimiter line (`| --- |`) and the lines after it
 *   that start with `|`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pipeTables } from "./markdown.ts";
 * const text = "Flags:\n\n| flag | default |\n| --- | --- |\n| `--seed S` | drawn |\n\nafter";
 * const [table] = pipeTables(text);
 * assert.deepEqual(table?.header, ["flag", "default"]);
 * assert.deepEqual(table?.rows, [["`--seed S`", "drawn"]]);
 * assert.equal(table?.caption, "Flags:");
 * ```
 */
export function pipeTables(markdown: string): PipeTable[] {
  const lines = markdown.split("\n");
  const tables: PipeTable[] = [];
  for (let index = 0; index + 1 < lines.length; index++) {
    const headerLine = (lines[index] ?? "").trim();
    const delimiterLine = (lines[index + 1] ?? "").trim();
    if (!headerLine.startsWith("|") || !delimiterLine.startsWith("|")) continue;
    const delimiter = tableCells(delimiterLine);
    if (!delimiter.every((cell) => DELIMITER_CELL.test(cell))) continue;
    const header = tableCells(headerLine);
    const rows: string[][] = [];
    let end = index + 2;
    for (; end < lines.length && (lines[end] ?? "").trim().startsWith("|"); end++) {
      rows.push(tableCells(lines[end] ?? ""));
    }
    let above = index - 1;
    while (above >= 0 && (lines[above] ?? "").trim() === "") above--;
    tables.push({
      header,
      rows,
      line: index + 1,
      caption: above >= 0 ? (lines[above] ?? "").trim() : "",
    });
    index = end - 1;
  }
  return tables;
}
