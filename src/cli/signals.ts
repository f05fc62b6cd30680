/**
 * SIGINT and SIGTERM as a request to stop: the first one aborts the run, which removes what it
 * was writing and exits with 130 (SIGINT) or 143 (SIGTERM).
 *
 * One request often arrives more than once: `scancel` signals the whole process group, and the
 * launchers in between (`npx`, `deno task`, a shell) forward the same signal again, within
 * milliseconds; a terminal's Ctrl+C reaches every process of the foreground group too. So a
 * repeat within {@linkcode REPEAT_WINDOW_MS} of the first is the same request and is ignored.
 * Only a signal after that (a cleanup stuck on a hung disk, an impatient user) exits at once,
 * leaving the unfinished files for the next run, which removes them since this process is gone.
 *
 * @module
 */

import { InterruptedError } from "./errors.ts";

/** A repeat within this many milliseconds of the first signal is the same request. */
export const REPEAT_WINDOW_MS = 1000;

/** The stop signals. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** What {@linkcode stopOnSignals} uses of the process; tests inject their own. */
export interface SignalHost {
  /** Adds a listener (default `Deno.addSignalListener`). */
  addSignalListener(signal: StopSignal, handler: () => void): void;
  /** Removes it (default `Deno.removeSignalListener`). */
  removeSignalListener(signal: StopSignal, handler: () => void): void;
  /** Exits at once (default `Deno.exit`). */
  exit(code: number): void;
  /** Milliseconds, monotonic (default `performance.now`). */
  now(): number;
  /** Says that the process stops without cleaning up. */
  warn(line: string): void;
}

const denoHost: SignalHost = {
  addSignalListener: (signal, handler) => Deno.addSignalListener(signal, handler),
  removeSignalListener: (signal, handler) => Deno.removeSignalListener(signal, handler),
  exit: (code) => Deno.exit(code),
  now: () => performance.now(),
  warn: (line) => console.error(line),
};

/**
 * Aborts `controller` with an {@linkcode InterruptedError} on the first SIGINT or SIGTERM;
 * ignores repeats within {@linkcode REPEAT_WINDOW_MS}; exits at once on a later one.
 *
 * @param controller Aborted on the first signal.
 * @param host The process (default: Deno's).
 * @returns A function that removes the listeners.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stopOnSignals } from "./signals.ts";
 * const controller = new AbortController();
 * const stop = stopOnSignals(controller);
 * stop();
 * assert.equal(controller.signal.aborted, false);
 * ```
 */
export function stopOnSignals(
  controller: AbortController,
  host: SignalHost = denoHost,
): () => void {
  let firstAt: number | undefined;
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => {
      const interrupted = new InterruptedError(signal);
      if (firstAt === undefined) {
        firstAt = host.now();
        return controller.abort(interrupted);
      }
      if (host.now() - firstAt < REPEAT_WINDOW_MS) return; // The same request, forwarded.
      const first = controller.signal.reason as InterruptedError;
      host.warn(
        `dsgen: ${interrupted.message} again: stopped without cleaning up; the next run ` +
          "into this dataset removes the unfinished files",
      );
      host.exit(first.exitCode);
    };
    try {
      host.addSignalListener(signal, handler);
    } catch {
      // Not every platform has SIGTERM listeners (Windows); Ctrl+C still stops the run.
    }
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) {
      try {
        host.removeSignalListener(signal, handler);
      } catch {
        // Never added.
      }
    }
  };
}
