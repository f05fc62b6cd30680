/**
 * The error of a bad recipe: one line naming the JSON path of the bad field, the value found and
 * what is accepted. The command line turns it into a usage error (exit code 2).
 *
 * @module
 */

/** A recipe field that cannot be used; `path` is its JSON path, e.g. `splits[0].where.factor`. */
export class RecipeError extends TypeError {
  /** The JSON path of the bad field, e.g. `splits[0].num_images`. */
  readonly path: string;
  /** The error's name, as stack traces show it. */
  override name = "RecipeError";

  /**
   * Creates the error: `Cannot use recipe field "<path>" value <value>: expected <accepts>`.
   *
   * @param path The JSON path of the field.
   * @param value The value found (undefined: the field is missing).
   * @param accepts What the field accepts.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RecipeError } from "./recipe_error.ts";
   * const error = new RecipeError("seed", -1, "an integer from 0 to 4294967295");
   * assert.equal(error.message,
   *   'Cannot use recipe field "seed" value -1: expected an integer from 0 to 4294967295');
   * ```
   */
  constructor(path: string, value: unknown, accepts: string) {
    super(
      value === undefined
        ? `Missing recipe field "${path}": expected ${accepts}`
        : `Cannot use recipe field "${path}" value ${shown(value)}: expected ${accepts}`,
    );
    this.path = path;
  }
}

/** A value for a one-line message: JSON, cut to 60 characters. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The JSON path of a child field.
 *
 * @param path The parent's path ("" for the top).
 * @param key A key or an array index.
 * @returns E.g. `splits[0]`, `splits[0].where`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childPath } from "./recipe_error.ts";
 * assert.equal(childPath(childPath("", "splits"), 0), "splits[0]");
 * assert.equal(childPath("splits[0]", "where"), "splits[0].where");
 * ```
 */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path === "" ? key : `${path}.${key}`;
}

/** A JSON object: not null, not an array. */
export type JsonObject = { [key: string]: unknown };

/**
 * Checks that a value is a JSON object whose keys are all known.
 *
 * @param value The value.
 * @param path Its JSON path.
 * @param keys The accepted keys.
 * @returns The object.
 * @throws {RecipeError} For a non-object or an unknown key (named by its path).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { objectWith } from "./recipe_error.ts";
 * assert.deepEqual(objectWith({ a: 1 }, "x", ["a", "b"]), { a: 1 });
 * assert.throws(() => objectWith({ c: 1 }, "x", ["a"]), /"x.c"/);
 * ```
 */
export function objectWith(value: unknown, path: string, keys: readonly string[]): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RecipeError(path === "" ? "(the whole recipe)" : path, value, "a JSON object");
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      throw new RecipeError(
        childPath(path, key),
        (value as JsonObject)[key],
        `no such key: known keys here are ${keys.join(", ")}`,
      );
    }
  }
  return value as JsonObject;
}
