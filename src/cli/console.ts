/**
 * The terminal as the commands see it: output, the confirmation question and its answer.
 *
 * Commands take a {@linkcode Console} instead of touching `Deno.stdin`/`Deno.stderr`, so tests
 * can feed answers and read what was printed.
 *
 * @module
 */

import type { RunOutput } from "../run/generate_dataset.ts";
import { RunError, UsageError } from "./errors.ts";

/** What a command may do with the terminal. */
export interface Console {
  /** Writes text as is (no newline added) to stdout: a command's result, e.g. a path. */
  stdout(text: string): void;
  /** Writes text as is (no newline added) to stderr: plan, progress, questions, notices. */
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress redraws with `\r` only then). */
  stderrIsTerminal: boolean;
  /**
   * Whether stdin is a terminal, which echoes what is typed. When it is not (an answer piped
   * in), {@linkcode confirm} echoes the answer itself so that the prompt's line ends.
   */
  stdinIsTerminal?: boolean;
  /** The terminal's width in columns. */
  columns(): number;
  /** Whether `NO_COLOR` is set. */
  noColor: boolean;
  /** Reads one line from stdin, without its line ending; null at end of input. */
  readLine(): Promise<string | null>;
}

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
}

/**
 * Where a run started from the command line prints its plan, progress bar and summary: stderr.
 *
 * @param io The terminal.
 * @param quiet `--quiet`: no plan, bar or summary.
 * @returns The run's output.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoConsole, runOutput } from "./console.ts";
 * assert.equal(runOutput(denoConsole(), true).quiet, true);
 * ```
 */
export function runOutput(io: Console, quiet: boolean): RunOutput {
  return {
    write: io.stderr,
    isTerminal: io.stderrIsTerminal,
    columns: io.columns,
    noColor: io.noColor,
    quiet,
  };
}

/**
 * The real terminal of this process.
 *
 * @returns A console on Deno's stdin, stdout and stderr.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoConsole } from "./console.ts";
 * const io = denoConsole();
 * assert.ok(io.columns() > 0);
 * ```
 */
export function denoConsole(): Console {
  let pending = new Uint8Array(0);
  let ended = false;
  return {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    columns: () => {
      try {
        return Deno.consoleSize().columns;
      } catch {
        return 80;
      }
    },
    noColor: Deno.noColor,
    async readLine() {
      for (;;) {
        const newline = pending.indexOf(10);
        if (newline >= 0) {
          const line = new TextDecoder().decode(pending.subarray(0, newline));
          pending = pending.slice(newline + 1);
          return line.replace(/\r$/, "");
        }
        if (ended) {
          if (pending.length === 0) return null;
          const line = new TextDecoder().decode(pending);
          pending = new Uint8Array(0);
          return line;
        }
        const buffer = new Uint8Array(1024);
        const read = await Deno.stdin.read(buffer);
        if (read === null) ended = true;
        else {
          const joined = new Uint8Array(pending.length + read);
          joined.set(pending);
          joined.set(buffer.subarray(0, read), pending.length);
          pending = joined;
        }
      }
    },
  };
}

/**
 * Asks `Proceed? [y/N]` and returns if the answer is y or yes (any case).
 *
 * @param io The console to ask on.
 * @throws {RunError} exit code 1 for any other answer.
 * @throws {UsageError} exit code 2 at end of input with no answer.
 * @example
 * ```ts
 * import { confirm } from "./console.ts";
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: false, readLine: () => Promise.resolve("yes") };
 * await confirm(io);
 * ```
 */
export async function confirm(io: Console): Promise<void> {
  io.stderr("Proceed? [y/N] ");
  const answer = await io.readLine();
  if (answer === null) {
    io.stderr("\n");
    throw new UsageError(
      "Cannot ask for confirmation: stdin ended with no answer; pass --yes to run without asking",
    );
  }
  if (io.stdinIsTerminal === false) io.stderr(`${answer}\n`);
  if (!/^\s*y(es)?\s*$/i.test(answer)) {
    throw new RunError(`Cancelled (answer "${answer.trim()}"): nothing was created`);
  }
}
