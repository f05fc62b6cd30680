/**
 * The flag tables of README.md and docs/*.md against each command's `--help`, both ways: a flag
 * that `--help` lists and no table documents fails, and so does a table flag `--help` does not
 * know.
 *
 * A flag table is a pipe table whose first header cell names its command, e.g.
 * `` | `dsgen generate` flag | accepts | default | ``. The flags of a row are every `--word` and
 * `-x` in its first cell, so one row may document several (`` `-y`, `--yes` ``). A command's
 * flags may be spread over several tables and pages (the union is compared), so documenting a
 * new flag is one new row in any of them. `-h`/`--help` needs no row: every command has it, as
 * the README says.
 *
 * The commands come from `dsgen --help`; each must have a flag table, and the README's commands
 * table (first header cell `command`) must name each of them once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pipeTables } from "../scripts/markdown.ts";
import { REPO_ROOT, runCli } from "./support/cli.ts";

/** Flags every command has, documented once in the README rather than per table. */
const EVERY_COMMAND = new Set(["-h", "--help"]);

const FLAG_TABLE_HEADER = /^`dsgen ([a-z]+)` flags?$/;
const FLAG = /(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])/g;

/** The pages whose tables are compared: README.md and every docs/*.md. */
async function pages(): Promise<string[]> {
  const names = ["README.md"];
  for await (const entry of Deno.readDir(join(REPO_ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) names.push(`docs/${entry.name}`);
  }
  return names.sort();
}

/** The flags a command's `--help` lists under "Options:", e.g. `--num-images`, `-y`, `--yes`. */
function helpFlags(help: string): Set<string> {
  const flags = new Set<string>();
  const options = help.split(/^Options:$/m)[1] ?? "";
  for (const line of options.split("\n")) {
    // An option line starts with two spaces and a dash; continuation lines are indented deeper.
    const match = /^ {2}(-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/.exec(line);
    if (match === null) continue;
    if (match[1] !== undefined) flags.add(match[1].slice(0, 2));
    flags.add(match[2] ?? "");
  }
  return flags;
}

/** The commands `dsgen --help` lists as `dsgen <command> ...` usage lines. */
function helpCommands(help: string): string[] {
  const commands = [...help.matchAll(/^ {2}dsgen ([a-z]+) /gm)].map((match) => match[1] ?? "");
  return [...new Set(commands)].sort();
}

interface DocumentedFlag {
  flag: string;
  where: string;
}

/** Every flag of every flag table, per command, with the page and line that documents it. */
async function documentedFlags(): Promise<Map<string, DocumentedFlag[]>> {
  const byCommand = new Map<string, DocumentedFlag[]>();
  for (const page of await pages()) {
    const text = await Deno.readTextFile(join(REPO_ROOT, page));
    for (const table of pipeTables(text)) {
      const command = FLAG_TABLE_HEADER.exec(table.header[0] ?? "")?.[1];
      if (command === undefined) continue;
      const flags = byCommand.get(command) ?? [];
      table.rows.forEach((row, index) => {
        for (const match of (row[0] ?? "").matchAll(FLAG)) {
          flags.push({ flag: match[1] ?? "", where: `${page}:${table.line + 2 + index}` });
        }
      });
      byCommand.set(command, flags);
    }
  }
  return byCommand;
}

Deno.test("helpFlags reads the Options section of a help text", () => {
  const help = "Usage: x\n\nIntegers --like this\n\nOptions:\n  --seed S   a seed\n" +
    "              --not-this continuation\n  -y, --yes  do not ask\n  --generator-cmd CMD\n" +
    "                    one per worker\n";
  assert.deepEqual([...helpFlags(help)].sort(), ["--generator-cmd", "--seed", "--yes", "-y"]);
});

Deno.test("every flag of every command's --help has a row in a flag table, and no more", async () => {
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0, top.stderr);
  const commands = helpCommands(top.stdout);
  assert.ok(commands.length >= 7, `dsgen --help lists too few commands: ${commands.join(", ")}`);
  const documented = await documentedFlags();

  const problems: string[] = [];
  for (const command of documented.keys()) {
    if (!commands.includes(command)) {
      problems.push(`a flag table names "dsgen ${command}", which dsgen --help does not list`);
    }
  }
  for (const command of commands) {
    const result = await runCli([command, "--help"]);
    assert.equal(result.code, 0, `dsgen ${command} --help: ${result.stderr}`);
    const inHelp = helpFlags(result.stdout);
    assert.ok(inHelp.size > 0, `found no flags in dsgen ${command} --help`);
    const rows = documented.get(command);
    if (rows === undefined) {
      problems.push(
        `no flag table for "dsgen ${command}" (a table whose first header cell is ` +
          `\`dsgen ${command}\` flag)`,
      );
      continue;
    }
    const inTables = new Set(rows.map((row) => row.flag));
    for (const flag of inHelp) {
      if (!inTables.has(flag) && !EVERY_COMMAND.has(flag)) {
        problems.push(`dsgen ${command} --help lists ${flag}, which no flag table documents`);
      }
    }
    for (const { flag, where } of rows) {
      if (!inHelp.has(flag)) {
        problems.push(`${where}: dsgen ${command} has no flag ${flag} (not in its --help)`);
      }
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});

Deno.test("the README's commands table names every command of dsgen --help once", async () => {
  const top = await runCli(["--help"]);
  const readme = await Deno.readTextFile(join(REPO_ROOT, "README.md"));
  const table = pipeTables(readme).find((candidate) => candidate.header[0] === "command");
  assert.ok(table !== undefined, "README.md has no table whose first header cell is `command`");
  const named = table.rows.map((row) => /^`dsgen ([a-z]+)/.exec(row[0] ?? "")?.[1] ?? row[0]);
  assert.deepEqual(named.sort(), helpCommands(top.stdout));
});
