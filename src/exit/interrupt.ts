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

/**
 * Asks the run's confirmation question, if any, and then makes sure no signal came meanwhile:
 * a signal during the question ends its line and stops the run with `outcome`.
 *
 * @param confirm The question; rejects to cancel. Undefined: no question.
 * @param options The run's signal, where the question was written, and what is left if stopped.
 * @throws {RunError} With the signal's exit code, when stopped by a signal.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InterruptedError } from "./errors.ts";
 * import { confirmOrStop } from "./interrupt.ts";
 * await confirmOrStop(() => Promise.resolve(), { outcome: "nothing was created" });
 * const controller = new AbortController();
 * controller.abort(new InterruptedError("SIGINT"));
 * await assert.rejects(
 *   confirmOrStop(undefined, { signal: controller.signal, outcome: "nothing was created" }),
 *   /Interrupted by SIGINT: nothing was created/,
 * );
 * ```
 */
export async function confirmOrStop(
  confirm: (() => Promise<void>) | undefined,
  options: { signal?: AbortSignal; output?: { write(text: string): void }; outcome: string },
): Promise<void> {
  const { signal, output, outcome } = options;
  if (confirm !== undefined) {
    try {
      await untilAborted(confirm(), signal);
    } catch (error) {
      const interrupted = interruption(signal, outcome);
      if (interrupted === undefined) throw error;
      output?.write("\n"); // End the unanswered question's line.
      throw interrupted;
    }
  }
  const stopped = interruption(signal, outcome);
  if (stopped !== undefined) throw stopped;
}
