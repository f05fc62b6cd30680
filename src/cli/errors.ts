/**
 * The errors `main.ts` turns into one line on stderr and an exit code; they live below every
 * layer that throws them (`src/exit/errors.ts`): the run steps, the renderer and the commands.
 *
 * @module
 */

export { InterruptedError, RunError, UsageError } from "../exit/errors.ts";
