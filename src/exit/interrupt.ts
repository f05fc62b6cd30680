/**
 * Stopping a run on a signal: the error that says what was left, and waiting on a promise
 * that a signal may cut short (the confirmation question).
 *
 * @module
 */

import { InterruptedError, RunError } from "./errors.ts";

/**
 * The error to report when the run was stopped by a signal, or undefined if it was not.
 *
 * @param signal The run's abort signal.
 * @param outcome What is left, e.g. "nothing was created".
 * @returns A {@linkcode RunError} with the signal's exit code, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InterruptedError } from "./errors.ts";
 * import { interruption } from "./interrupt.ts";
 * const controller = new AbortController();
 * controller.abort(new InterruptedError("SIGTERM"));
 * assert.equal(interruption(controller.signal, "nothing kept")?.exitCode, 143);
 * ```
 */
export function interruption(
  signal: AbortSignal | undefined,
  outcome: string,
): RunError | undefined {
  const reason = signal?.reason;
  if (!(signal?.aborted && reason instanceof InterruptedError)) return undefined;
  return new RunError(`${reason.message}: ${outcome}`, { exitCode: reason.exitCode });
}

/**
 * Waits for a promise, or rejects with the signal's reason as soon as it is aborted.
 *
 * @param promise What to wait for.
 * @param signal Cuts the wait short.
 * @returns The promise's value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { untilAborted } from "./interrupt.ts";
 * assert.equal(await untilAborted(Promise.resolve(1), undefined), 1);
 * ```
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
