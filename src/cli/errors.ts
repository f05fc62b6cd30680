/**
 * The errors `main.ts` turns into one line on stderr and an exit code; they live below every
 * layer that throws them (`src/exit/errors.ts`): the run steps, the renderer and the commands.
 * Here, the library's option names become the flags a user typed.
 *
 * @module
 */

import { OptionError, RunError, type UsageError } from "../exit/errors.ts";

export { InterruptedError, OptionError, RunError, UsageError } from "../exit/errors.ts";

/** The flag of each library option that an {@linkcode OptionError} may name. */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  outputDir: "--output-dir",
  name: "--name",
  imageSize: "--image-size",
  dtype: "--dtype",
  rendererTimeoutSeconds: "--generator-timeout",
};

/**
 * The message of an error as the command line says it: an option named by its flag.
 *
 * @param error A usage or run error.
 * @returns Its message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandLineMessage, OptionError } from "./errors.ts";
 * const error = new OptionError("outputDir", (name) => `Cannot use "${name}" value "x"`);
 * assert.equal(commandLineMessage(error), 'Cannot use "--output-dir" value "x"');
 * ```
 */
export function commandLineMessage(error: UsageError | RunError): string {
  if (error instanceof OptionError) {
    return error.messageFor(OPTION_FLAGS[error.option] ?? error.option);
  }
  if (error instanceof RunError && error.named !== undefined) {
    return error.named.text(OPTION_FLAGS[error.named.option] ?? error.named.option);
  }
  return error.message;
}
