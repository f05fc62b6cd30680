/**
 * Checking the fields of a JSON record dsgen reads back (metadata.json, plan.json, slice
 * records) before any of them is used: each reader names the field by its JSON path
 * (`files[0].name`), shows the value found and says what is accepted, in one line.
 *
 * @module
 */

/** A field of a record that is not what dsgen accepts. */
export class FieldError extends TypeError {
  /** The field's JSON path, e.g. `spec.family.command[0]`. */
  readonly path: string;

  /**
   * A field that is wrong, with what was found and what is accepted.
   *
   * @param path The field's JSON path.
   * @param value What was found.
   * @param expected What is accepted.
   */
  constructor(path: string, value: unknown, expected: string) {
    super(`${path} is ${preview(value)}, expected ${expected}`);
    this.name = "FieldError";
    this.path = path;
  }
}

/**
 * A value shown in a message: JSON, cut to 60 characters, `missing` for undefined.
 *
 * @param value Any value.
 * @returns A short text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preview } from "./json_fields.ts";
 * assert.equal(preview(undefined), "missing");
 * assert.equal(preview("x"), '"x"');
 * ```
 */
export function preview(value: unknown): string {
  if (value === undefined) return "missing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A plain name: no path separators, not `.` or `..`, no control characters. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

/**
 * Readers for one field each; every one returns the value typed, or throws a
 * {@linkcode FieldError} naming the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fields } from "./json_fields.ts";
 * assert.equal(fields.integer(3, "seed", 0, 9), 3);
 * assert.throws(() => fields.integer(1e12, "num_images", 1, 1e9),
 *   /num_images is 1000000000000, expected an integer from 1 to 1000000000/);
 * ```
 */
export const fields = {
  /** An object (not null, not an array). */
  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new FieldError(path, value, "a JSON object");
    }
    return value as Record<string, unknown>;
  },
  /** An array of at most `max` items. */
  array(value: unknown, path: string, min: number, max: number): unknown[] {
    if (!Array.isArray(value) || value.length < min || value.length > max) {
      throw new FieldError(path, value, `a list of ${min} to ${max} items`);
    }
    return value;
  },
  /** A string of 1 to `max` characters without control characters. */
  string(value: unknown, path: string, max = 4096): string {
    if (
      typeof value !== "string" || value === "" || value.length > max ||
      [...value].some((char) => char.charCodeAt(0) < 0x20)
    ) {
      throw new FieldError(path, value, `a string of 1 to ${max} characters, one line`);
    }
    return value;
  },
  /** A string matching a pattern. */
  matching(value: unknown, path: string, pattern: RegExp, expected: string): string {
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new FieldError(path, value, expected);
    }
    return value;
  },
  /** A plain file or array name: letters, digits, `_`, `.`, `-`; no folders. */
  plainName(value: unknown, path: string): string {
    if (typeof value !== "string" || !PLAIN_NAME.test(value) || value.includes("..")) {
      throw new FieldError(
        path,
        value,
        "a plain name (letters, digits, '_', '.', '-', no folders)",
      );
    }
    return value;
  },
  /** An integer from `min` to `max`. */
  integer(value: unknown, path: string, min: number, max: number): number {
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
      throw new FieldError(path, value, `an integer from ${min} to ${max}`);
    }
    return value as number;
  },
  /** A finite number, at least `min`. */
  number(value: unknown, path: string, min = -Infinity): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
      throw new FieldError(path, value, min === -Infinity ? "a number" : `a number from ${min}`);
    }
    return value;
  },
  /** One of a few strings. */
  choice<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
    if (!choices.includes(value as T)) {
      throw new FieldError(path, value, `one of ${choices.join(", ")}`);
    }
    return value as T;
  },
  /** An ISO 8601 UTC time, as dsgen writes them. */
  time(value: unknown, path: string): string {
    if (typeof value !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) {
      throw new FieldError(path, value, "an ISO 8601 UTC time, e.g. 2026-11-25T03:12:45.123Z");
    }
    return value;
  },
};
