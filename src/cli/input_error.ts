/**
 * Turning the errors of reading a user's files into {@linkcode RunError}s: a missing, truncated
 * or corrupted input is a failed run (exit 1, one line), not a bug.
 *
 * The format and store modules throw the built-in `TypeError` and `RangeError` with messages
 * written for the user (`Cannot read x.npz: ...`), and Deno throws its `Deno.errors` classes for
 * files it cannot open; both become a `RunError` with the same message.
 *
 * @module
 */

import { RunError, UsageError } from "./errors.ts";

/**
 * Wraps an input error as a {@linkcode RunError}; returns other errors unchanged.
 *
 * @param error What was thrown.
 * @param context Prefixed to messages of `Deno.errors`, which lack the file's role.
 * @returns The error to rethrow.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RunError } from "./errors.ts";
 * import { asRunError } from "./input_error.ts";
 *
 * const wrapped = asRunError(new TypeError("Cannot read x.npz: it is truncated"));
 * assert.ok(wrapped instanceof RunError);
 * assert.equal(wrapped.message, "Cannot read x.npz: it is truncated");
 * ```
 */
export function asRunError(error: unknown, context = "Cannot read the input"): unknown {
  if (error instanceof RunError || error instanceof UsageError) return error;
  if (error instanceof TypeError || error instanceof RangeError) {
    return new RunError(error.message, { cause: error });
  }
  if (error instanceof Error && Object.values(Deno.errors).some((kind) => error instanceof kind)) {
    return new RunError(`${context}: ${error.message}`, { cause: error });
  }
  return error;
}

export { systemReason } from "../run/preflight.ts";
