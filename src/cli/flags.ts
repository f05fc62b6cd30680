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

/** How a flag is declared: its type, short alias and what it accepts (for messages). */
export interface FlagSpec {
  type: "string" | "boolean";
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
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags(["--seed", "4"], {
 *   command: "generate",
 *   flags: { seed: { type: "string", accepts: "an integer" } },
 * });
 * console.assert(values.seed === "4");
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
      args: [...args],
      options: config,
      strict: true,
      allowPositionals: true,
      allowNegative: false,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, command, flags));
  }
  const allowed = options.positionals ?? 0;
  if (parsed.positionals.length > allowed) {
    const extra = parsed.positionals[allowed]!;
    throw new UsageError(
      allowed === 0
        ? `Unexpected argument "${extra}" for "dsgen ${command}": it takes flags only (see --help)`
        : `Unexpected argument "${extra}" for "dsgen ${command}": it takes ${allowed} path`,
    );
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) {
      throw new UsageError(`Cannot repeat "--${name}": give it once`);
    }
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

function describeParseError(
  error: unknown,
  command: string,
  flags: Record<string, FlagSpec>,
): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const flagMatch = /'(-{1,2}[^' ]+)/.exec(message);
  const flag = flagMatch?.[1] ?? "?";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const known = Object.keys(flags).map((name) => `--${name}`).join(", ");
    return `Unknown flag "${flag}" for "dsgen ${command}": accepted flags are ${known}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = flag.replace(/^-+/, "");
    const spec = flags[name] ?? Object.values(flags).find((f) => `-${f.short}` === flag);
    if (spec?.type === "boolean") {
      return `Cannot give "${flag}" a value: it is a switch, use it alone`;
    }
    return `Missing value for "${flag}": expected ${spec?.accepts ?? "a value"}`;
  }
  return `Cannot parse the command line: ${message.split("\n")[0]}`;
}

/**
 * Parses a decimal integer within a range.
 *
 * @param flag The flag's name with dashes, for the message.
 * @param value The word given.
 * @param range The smallest and largest accepted values.
 * @returns The integer.
 * @example
 * ```ts
 * import { parseInteger } from "./flags.ts";
 * console.assert(parseInteger("--seed", "42", { min: 0, max: 10 ** 9 }) === 42);
 * ```
 */
export function parseInteger(
  flag: string,
  value: string,
  range: { min: number; max: number },
): number {
  const accepted = `an integer from ${range.min} to ${range.max}`;
  const digits = value.replaceAll("_", "");
  if (!/^\d+$/.test(digits) || value.startsWith("_") || value.endsWith("_")) {
    throw new UsageError(`Cannot parse "${flag}" value "${value}": expected ${accepted}`);
  }
  const number = Number(digits);
  if (number < range.min || number > range.max) {
    throw new UsageError(`Cannot use "${flag}" value "${value}": expected ${accepted}`);
  }
  return number;
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
 * import { parseChoice } from "./flags.ts";
 * console.assert(parseChoice("--dtype", "uint8", ["uint8", "float64"] as const) === "uint8");
 * ```
 */
export function parseChoice<T extends string>(
  flag: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(
      `Cannot use "${flag}" value "${value}": expected one of ${choices.join(", ")}`,
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
 * import { requireValue } from "./flags.ts";
 * console.assert(requireValue("--output-dir", "data", "a folder path") === "data");
 * ```
 */
export function requireValue(
  flag: string,
  value: string | boolean | undefined,
  accepts: string,
): string {
  if (value === undefined) throw new UsageError(`Missing "${flag}": expected ${accepts}`);
  if (typeof value !== "string" || value.trim() === "") {
    throw new UsageError(`Cannot use "${flag}" value "${String(value)}": expected ${accepts}`);
  }
  return value;
}
