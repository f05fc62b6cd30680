/**
 * The rule for programs named in files: a command or module found in a data file
 * (metadata.json, plan.json, a recipe) runs only when the user names the same one.
 *
 * Datasets travel: they are downloaded, copied from shared folders, received from colleagues.
 * Whoever could edit such a file would otherwise choose the program that the next reader's
 * `verify` starts, as that reader. So a recorded program is only ever compared with what the
 * user typed ({@linkcode checkNamedProgram}), and a message shows the exact words that run
 * ({@linkcode quoteCommand}), never a label stored beside them.
 *
 * @module
 */

import type { FamilyRef } from "./spec.ts";

/** A program a recorded family would run: an external renderer's command, or a module. */
export type RecordedProgram =
  | { kind: "command"; words: readonly string[]; cwd?: string | undefined }
  | { kind: "module"; url: string };

/** What the user named: a command's words, or a module's URL. */
export interface NamedProgram {
  /** The words of the command the user typed. */
  command?: readonly string[] | undefined;
  /** The URL of the family module the user named. */
  module?: string | undefined;
}

/**
 * The program a recorded family reference would run, if any: registry families run only
 * dsgen's own code.
 *
 * @param family The recorded family reference.
 * @returns The command or module, or undefined for a registry family.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordedProgram } from "./named_program.ts";
 * assert.equal(recordedProgram({ name: "shapes", options: {} }), undefined);
 * assert.deepEqual(recordedProgram({ name: "x", command: ["python3", "r.py"], options: {} }),
 *   { kind: "command", words: ["python3", "r.py"], cwd: undefined });
 * ```
 */
export function recordedProgram(family: FamilyRef): RecordedProgram | undefined {
  if (family.command !== undefined) {
    return { kind: "command", words: family.command, cwd: family.cwd };
  }
  if (family.module !== undefined) return { kind: "module", url: family.module };
  return undefined;
}

/**
 * A command's words as a shell would take them back (and `splitCommand` does): plain words
 * as they are, others in single quotes.
 *
 * @param words The command's words.
 * @returns One line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteCommand } from "./named_program.ts";
 * assert.equal(quoteCommand(["python3", "my render.py", "it's"]),
 *   `python3 'my render.py' 'it'\\''s'`);
 * ```
 */
export function quoteCommand(words: readonly string[]): string {
  return words.map((word) =>
    /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
  ).join(" ");
}

/**
 * A recorded program in words: the command and the folder it was run in, or the module.
 *
 * @param program The recorded program.
 * @returns For example `command python3 render.py (run in /work/x)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeProgram } from "./named_program.ts";
 * assert.equal(describeProgram({ kind: "command", words: ["python3", "r.py"], cwd: "/w" }),
 *   "command python3 r.py (run in /w)");
 * ```
 */
export function describeProgram(program: RecordedProgram): string {
  return program.kind === "command"
    ? `command ${quoteCommand(program.words)}${
      program.cwd === undefined ? "" : ` (run in ${program.cwd})`
    }`
    : `family module ${program.url}`;
}

/**
 * Applies the rule: whether the recorded program may run.
 *
 * @param recorded The program a file names (undefined: none, dsgen's own code).
 * @param named What the user named.
 * @returns `none` when nothing would run, `named` when the user named this very program, `not
 * named` when the user named none (then nothing may be started).
 * @throws {TypeError} When the user named another program, or one where the file names none;
 * the message shows both.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNamedProgram } from "./named_program.ts";
 * const recorded = { kind: "command" as const, words: ["python3", "r.py"] };
 * assert.equal(checkNamedProgram(recorded, {}), "not named");
 * assert.equal(checkNamedProgram(recorded, { command: ["python3", "r.py"] }), "named");
 * assert.throws(() => checkNamedProgram(recorded, { command: ["sh", "x"] }),
 *   /the command given is sh x but the one recorded is python3 r.py/);
 * ```
 */
export function checkNamedProgram(
  recorded: RecordedProgram | undefined,
  named: NamedProgram,
): "none" | "named" | "not named" {
  const given = named.command !== undefined
    ? { kind: "command", text: quoteCommand(named.command) }
    : named.module !== undefined
    ? { kind: "module", text: named.module }
    : undefined;
  const kept = recorded === undefined
    ? undefined
    : recorded.kind === "command"
    ? { kind: "command", text: quoteCommand(recorded.words) }
    : { kind: "module", text: recorded.url };
  if (given === undefined) return kept === undefined ? "none" : "not named";
  const noun = (kind: string) => kind === "command" ? "command" : "family module";
  if (kept === undefined) {
    throw new TypeError(
      `the ${noun(given.kind)} given is ${given.text} but the version names no program: its ` +
        "family is dsgen's own",
    );
  }
  if (given.kind !== kept.kind || given.text !== kept.text) {
    throw new TypeError(
      `the ${noun(given.kind)} given is ${given.text} but the one recorded is ` +
        `${kept.kind === given.kind ? "" : `the ${noun(kept.kind)} `}${kept.text}`,
    );
  }
  return "named";
}
