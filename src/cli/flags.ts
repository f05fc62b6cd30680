/**
 * Turning command-line words into typed values, with one clear message per mistake.
 *
 * Every message names the flag, the value given and what is accepted, e.g.
 * `Cannot parse "--num-images" value "abc": expected an integer from 1 to 1000000000`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";
import { splitCommand } from "../renderer/protocol.ts";

/** How a flag is declared: its type, short alias and what it accepts (for messages). */
export interface FlagSpec {
  /** `string` for a flag that takes a value (`--seed 4`), `boolean` for a switch (`--yes`). */
  type: "string" | "boolean";
  /** A one-letter alias used with one dash, e.g. `y` for `-y`. */
  short?: string;
  /** For string flags: the accepted values, as the message says them. */
  accepts?: string;
}

/**
 * Parses the words of one subcommand, strictly: unknown flags, missing values and stray
 * positionals become {@linkcode UsageError}s.
 *
 * @param args The words after the subcommand.
 * @param options The command's name, flags and how many positionals it takes.
 * @returns The flags' raw values and the positionals.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags(["--seed", "4"], {
 *   command: "generate",
 *   flags: { seed: { type: "string", accepts: "an integer" } },
 * });
 * assert.ok(values.seed === "4");
 * ```
 */
export function parseFlags(
  args: readonly string[],
  options: { command: string; flags: Record<string, FlagSpec>; positionals?: number },
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const { command, flags } = options;
  const config = Object.fromEntries(
    Object.entries(flags).map(([name, spec]) => [
      name,
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({
      args: attachDashValues(args, flags),
      options: config,
      strict: true,
      allowPositionals: true,
      allowNegative: false,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, { args, command, flags }));
  }
  const allowed = options.positionals ?? 0;
  if (parsed.positionals.length > allowed) {
    const extra = parsed.positionals[allowed]!;
    throw new UsageError(
      allowed === 0
        ? `Unexpected argument ${
          quote(extra)
        } for "dsgen ${command}": it takes flags only (see --help)`
        : `Unexpected argument ${quote(extra)} for "dsgen ${command}": it takes ${allowed} path`,
    );
  }
  // parseArgs keeps the last of repeated flags; a research record must not guess which.
  const seen = new Map<string, string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const shown = token.value === undefined ? token.rawName : `${token.rawName} ${token.value}`;
    const earlier = seen.get(token.name);
    if (earlier !== undefined) {
      throw new UsageError(
        `Cannot repeat "--${token.name}" (${quote(earlier)}, then ${quote(shown)}): give it once`,
      );
    }
    seen.set(token.name, shown);
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

/** The flag a word names: `--seed`, `--seed=4` and `-y` do; `-5`, `-` and `--` do not. */
function namedFlag(word: string, flags: Record<string, FlagSpec>): FlagSpec | undefined {
  const long = /^--([^=]+)/.exec(word);
  if (long !== null) return flags[long[1]!];
  const short = /^-([^-])/.exec(word);
  if (short === null) return undefined;
  return Object.values(flags).find((spec) => spec.short === short[1]);
}

/**
 * Joins `--flag -x` into `--flag=-x` when `-x` names no flag, so that a negative or dashed
 * value is judged as a value ("expected an integer from 1 ...") instead of as a missing one.
 */
function attachDashValues(args: readonly string[], flags: Record<string, FlagSpec>): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const word = args[index]!;
    const next = args[index + 1];
    if (word === "--") {
      joined.push(...args.slice(index));
      break;
    }
    const takesValue = /^--[^=]+$|^-[^-]$/.test(word) && namedFlag(word, flags)?.type === "string";
    if (
      takesValue && next !== undefined && next.startsWith("-") && next !== "--" &&
      namedFlag(next, flags) === undefined
    ) {
      const spec = namedFlag(word, flags)!;
      const name = Object.keys(flags).find((key) => flags[key] === spec)!;
      joined.push(`--${name}=${next}`);
      index++;
    } else {
      joined.push(word);
    }
  }
  return joined;
}

function describeParseError(
  error: unknown,
  context: { args: readonly string[]; command: string; flags: Record<string, FlagSpec> },
): string {
  const { args, command, flags } = context;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  // parseArgs quotes the flag first, as '--seed', '-y, --yes' or '--seed <value>'.
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "?";
  const flag = quoted.split(/[ ,]+/).find((part) => part.startsWith("--")) ??
    quoted.split(/[ ,]+/)[0]!;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const known = Object.keys(flags).map((name) => `--${name}`).join(", ");
    // "-yx" is reported as "-x"; show the word the user typed too.
    const word = args.find((arg) => arg === flag || arg.startsWith(`${flag}=`)) ??
      args.find((arg) => /^-[^-]/.test(arg) && arg.includes(flag.slice(1)));
    const typed = word === undefined || word === flag ? "" : ` (in ${quote(word)})`;
    return `Unknown flag ${
      quote(flag)
    }${typed} for "dsgen ${command}": accepted flags are ${known}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = flag.replace(/^-+/, "");
    const spec = flags[name] ?? Object.values(flags).find((f) => `-${f.short}` === flag);
    if (spec?.type === "boolean") {
      const word = args.find((arg) => arg.startsWith(`${flag}=`));
      const value = word === undefined ? "" : ` value ${quote(word.slice(flag.length + 1))}`;
      return `Cannot use "${flag}"${value}: it is a switch, expected no value`;
    }
    const index = args.findIndex((arg) => namedFlag(arg, flags) === spec);
    const next = index >= 0 ? args[index + 1] : undefined;
    const instead = next === undefined ? "" : ` (found the flag ${quote(next)} instead)`;
    return `Missing value for "${flag}"${instead}: expected ${spec?.accepts ?? "a value"}`;
  }
  return `Cannot parse the command line: ${message.split("\n")[0]}`;
}

/**
 * Quotes a word from the command line for a message: in double quotes, with control
 * characters escaped, so that a message stays on one line whatever was typed.
 *
 * @param word The word as given.
 * @returns The word in quotes, e.g. `"abc"`, `"a\nb"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quote } from "./flags.ts";
 * assert.ok(quote("12") === '"12"');
 * assert.ok(!quote("a\nb").includes("\n"));
 * ```
 */
export function quote(word: string): string {
  return JSON.stringify(word);
}

/**
 * How every integer flag may be written, as the commands' help says it: decimal digits,
 * optionally grouped by single underscores as in Python (`1_000_000`), optionally followed by a
 * power of ten (`1e6`, `25e3`). Signs, decimal points and hexadecimal are not accepted.
 */
export const NUMBER_SYNTAX =
  "Integers may be grouped with underscores (1_000_000) or given a power of ten (1e6).";

/**
 * Parses a decimal integer within a range, written as {@linkcode NUMBER_SYNTAX} says.
 *
 * @param flag The flag's name with dashes, for the message.
 * @param value The word given.
 * @param range The smallest and largest accepted values.
 * @returns The integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseInteger } from "./flags.ts";
 * assert.ok(parseInteger("--seed", "42", { min: 0, max: 10 ** 9 }) === 42);
 * assert.ok(parseInteger("--seed", "1_000", { min: 0, max: 10 ** 9 }) === 1000);
 * assert.ok(parseInteger("--seed", "1e3", { min: 0, max: 10 ** 9 }) === 1000);
 * ```
 */
export function parseInteger(
  flag: string,
  value: string,
  range: { min: number; max: number },
): number {
  const accepted = `an integer from ${range.min} to ${range.max}`;
  // Digits, optionally grouped by single underscores as in Python (100_000), optionally with
  // a power of ten (1e5): one rule for every integer flag, said in each command's help.
  if (!/^\d+(_\d+)*([eE]\d+)?$/.test(value)) {
    throw new UsageError(`Cannot parse "${flag}" value ${quote(value)}: expected ${accepted}`);
  }
  const number = Number(value.replaceAll("_", ""));
  if (number < range.min || number > range.max) {
    throw new UsageError(`Cannot use "${flag}" value ${quote(value)}: expected ${accepted}`);
  }
  return number;
}

/**
 * Reads an integer flag from parsed values: present, non-empty, and within the range. The
 * accepted values are said as `an integer from MIN to MAX`, as the commands declare them.
 *
 * @param values What {@linkcode parseFlags} returned.
 * @param name The flag's name without dashes, e.g. `seed`.
 * @param range The smallest and largest accepted values.
 * @returns The integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIntegerFlag } from "./flags.ts";
 * assert.equal(parseIntegerFlag({ seed: "7" }, "seed", { min: 0, max: 9 }), 7);
 * assert.throws(() => parseIntegerFlag({ seed: "" }, "seed", { min: 0, max: 9 }), /"--seed"/);
 * ```
 */
export function parseIntegerFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  range: { min: number; max: number },
): number {
  const flag = `--${name}`;
  const accepts = `an integer from ${range.min} to ${range.max}`;
  return parseInteger(flag, requireValue(flag, values[name], accepts), range);
}

/**
 * Checks a value against a list of choices.
 *
 * @param flag The flag's name with dashes, for the message.
 * @param value The word given.
 * @param choices The accepted words.
 * @returns The value, typed as one of the choices.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseChoice } from "./flags.ts";
 * assert.ok(parseChoice("--dtype", "uint8", ["uint8", "float64"] as const) === "uint8");
 * ```
 */
export function parseChoice<T extends string>(
  flag: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(
      `Cannot use "${flag}" value ${quote(value)}: expected one of ${choices.join(", ")}`,
    );
  }
  return value as T;
}

/**
 * Requires a flag's value to be present and non-empty.
 *
 * @param flag The flag's name with dashes, for the message.
 * @param value The raw value (undefined when the flag is missing).
 * @param accepts What the flag accepts, for the message.
 * @returns The value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requireValue } from "./flags.ts";
 * assert.ok(requireValue("--output-dir", "data", "a folder path") === "data");
 * ```
 */
export function requireValue(
  flag: string,
  value: string | boolean | undefined,
  accepts: string,
): string {
  if (value === undefined) throw new UsageError(`Missing "${flag}": expected ${accepts}`);
  if (typeof value !== "string" || value.trim() === "") {
    throw new UsageError(`Cannot use "${flag}" value ${quote(String(value))}: expected ${accepts}`);
  }
  return value;
}

/**
 * The words of an external renderer's command (`--generator-cmd`), split as a shell would
 * without running one.
 *
 * @param command The flag's value.
 * @param accepts What the flag accepts, for the message.
 * @returns The words, at least one.
 * @throws {UsageError} Naming the flag, the value and what is accepted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandWords } from "./flags.ts";
 * assert.deepEqual(parseCommandWords("python3 'my renderer.py'", "a command"), [
 *   "python3",
 *   "my renderer.py",
 * ]);
 * assert.throws(() => parseCommandWords("  ", "a command"), /expected a command/);
 * ```
 */
export function parseCommandWords(command: string, accepts: string): string[] {
  let words: string[];
  try {
    words = splitCommand(command);
  } catch (error) {
    throw new UsageError(
      `Cannot use "--generator-cmd" value ${quote(command)}: ${(error as Error).message}, ` +
        `expected ${accepts}`,
    );
  }
  if (words.length === 0) {
    throw new UsageError(
      `Cannot use "--generator-cmd" value ${quote(command)}: expected ${accepts}`,
    );
  }
  return words;
}
