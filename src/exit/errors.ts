/**
 * The errors `main.ts` turns into one line on stderr and an exit code, thrown by the run steps
 * (src/run/, src/cluster/), the external renderer (src/renderer/) and the commands alike. They
 * import nothing, so every layer may throw them.
 *
 * Any other error is a bug or an unexpected system failure: main prints its message (and the
 * stack only with `DSGEN_DEBUG=1`) and exits with 1.
 *
 * @module
 */

/** A bad command line: wrong flag, value or argument. Exit code 2; nothing was created. */
export class UsageError extends Error {
  /** The process exit code. */
  readonly exitCode = 2;
  /** The error's name, as stack traces show it. */
  override name = "UsageError";
}

/**
 * A bad value of one option: a {@linkcode UsageError} whose message can name the option as
 * the library does (`outputDir`, the default) or as a command does (`--output-dir`), so that
 * library errors name no flag and the command line's name the flag the user typed.
 */
export class OptionError extends UsageError {
  /** The error's name, as stack traces show it. */
  override name = "OptionError";
  /** The option as the library names it, e.g. `outputDir`. */
  readonly option: string;
  #describe: (name: string) => string;

  /**
   * Creates the error; its message names the option as the library does.
   *
   * @param option The option as the library names it.
   * @param describe The message, given the option's name.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OptionError } from "./errors.ts";
   * const error = new OptionError("outputDir", (name) => `Cannot use "${name}" value "x"`);
   * assert.equal(error.message, 'Cannot use "outputDir" value "x"');
   * assert.equal(error.messageFor("--output-dir"), 'Cannot use "--output-dir" value "x"');
   * assert.equal(error.exitCode, 2);
   * ```
   */
  constructor(option: string, describe: (name: string) => string) {
    super(describe(option));
    this.option = option;
    this.#describe = describe;
  }

  /**
   * The message naming the option another way.
   *
   * @param name E.g. the command-line flag.
   * @returns The message.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { OptionError } from "./errors.ts";
   * assert.equal(new OptionError("dtype", (name) => `bad ${name}`).messageFor("--dtype"), "bad --dtype");
   * ```
   */
  messageFor(name: string): string {
    return this.#describe(name);
  }
}

/**
 * A message about one option, which the library names one way (`rendererTimeoutSeconds`) and a
 * command another (its flag, `--generator-timeout`).
 */
export interface OptionMessage {
  /** The option as the library names it. */
  option: string;
  /** The message, given the option's name. */
  text(name: string): string;
}

/** A run that could not complete (disk full, corrupted input, failed check). Exit code 1. */
export class RunError extends Error {
  /** The process exit code. */
  readonly exitCode: number;
  /** The error's name, as stack traces show it. */
  override name = "RunError";

  /**
   * Creates a run error; its exit code defaults to 1.
   *
   * @param message One line for the user.
   * @param options The exit code (default 1), the cause, and the message again as one about an
   * option (`named`), for a command to name the option by its flag.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RunError } from "./errors.ts";
   * assert.ok(new RunError("Disk full").exitCode === 1);
   * ```
   */
  constructor(
    message: string,
    options: { exitCode?: number; cause?: unknown; named?: OptionMessage } = {},
  ) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    this.named = options.named;
  }

  /** The message as one about an option, when it is one. */
  readonly named?: OptionMessage;
}

/** Which signal stopped a run, and the conventional exit code for it (128 + signal number). */
export class InterruptedError extends Error {
  /** 130 for SIGINT, 143 for SIGTERM. */
  readonly exitCode: number;
  /** The error's name, as stack traces show it. */
  override name = "InterruptedError";

  /**
   * Creates the error for a signal; the exit code follows from the signal.
   *
   * @param signal The signal received.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { InterruptedError } from "./errors.ts";
   * assert.ok(new InterruptedError("SIGTERM").exitCode === 143);
   * ```
   */
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`Interrupted by ${signal}`);
    this.exitCode = signal === "SIGINT" ? 130 : 143;
  }
}
