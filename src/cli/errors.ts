/**
 * The errors `main.ts` turns into one line on stderr and an exit code; they live with the run
 * steps (`src/run/errors.ts`), which throw them too.
 *
 * @module
 */

export { InterruptedError, RunError, UsageError } from "../run/errors.ts";
