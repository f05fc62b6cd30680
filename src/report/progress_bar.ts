/**
 * A tqdm-style progress bar for `dsgen generate`, drawn on stderr:
 *
 * ```text
 * Generating:  55%|█████▍    | 547/1000 [01:23<01:08, 6.60img/s]
 * ```
 *
 * The line is `{description}: {percentage:3.0f}%|{bar}| {done}/{total} [{elapsed}<{remaining}, {rate}]`,
 * which is tqdm's default `{l_bar}{bar}{r_bar}` layout:
 *
 * - The percentage is rounded like Python's `{:3.0f}` (half to even) and right-aligned in 3 columns.
 * - The bar takes every column the text around it leaves, at least 1. It is made of full blocks `█`,
 *   one partial block from ` ▏▎▍▌▋▊▉` and space padding. Like tqdm, the filled length in eighths of
 *   a column is truncated, never rounded up, so the bar is full only at 100% (547/1000 over 10
 *   columns is 43.76 eighths: 5 full blocks and `▍`). If even a 1-column bar does not fit, the
 *   line is cut at the width, as tqdm does. Width 0 means no bar at all (tqdm's `ncols=0`).
 * - Elapsed and remaining time are `MM:SS`, or `H:MM:SS` from one hour on, truncated to whole seconds.
 *   The remaining time is `?` while the rate is unknown (nothing done yet).
 * - The rate is `6.60img/s`: two decimals below 1000 (tqdm's default `{:.2f}`, without its
 *   5-column padding), then one decimal with an SI prefix (`231.5kimg/s`, `1.5Mimg/s`). Both forms
 *   are at most 6 characters wide, so the bar barely jitters as the rate changes. Below 1 unit per
 *   second the rate is inverted, as in tqdm: `4.00s/img`.
 *
 * The bar uses no colour and no escape sequences, so `NO_COLOR` needs nothing from it.
 *
 * {@linkcode renderProgressBar} is the pure formatting; {@linkcode ProgressReporter} decides when to
 * draw: `\r` redraws at most 10 times a second on a terminal, plain lines at each 10% (or every 30 s)
 * when stderr is a log file.
 *
 * @module
 */

/** Glyphs for 0 to 8 eighths of a column; index 8 is the full block. */
const BAR_GLYPHS = " ▏▎▍▌▋▊▉█";
const EIGHTHS_PER_COLUMN = 8;
const SI_PREFIXES = ["k", "M", "G", "T", "P", "E", "Z", "Y"] as const;

/** Everything {@linkcode renderProgressBar} needs to draw one line. */
export interface ProgressState {
  /** Text before the colon, e.g. `Generating`; empty drops the `: ` as well. */
  description: string;
  /** Units done so far, from 0 to `total`. */
  done: number;
  /** Units to do in all, at least 1. */
  total: number;
  /** Seconds since the work started. */
  elapsedSeconds: number;
  /** Name of one unit, e.g. `img`. */
  unit: string;
  /**
   * Units per second, e.g. a smoothed rate. Defaults to `done / elapsedSeconds`; 0 means unknown.
   */
  rate?: number;
}

/**
 * Formats a number of seconds as a clock time, `MM:SS` below one hour and `H:MM:SS` from one hour
 * on, truncating the fraction of a second as tqdm does.
 *
 * @param seconds A duration in seconds, finite and not negative.
 * @returns The duration, e.g. `01:23` or `1:02:03`.
 * @throws {RangeError} If `seconds` is negative or not finite.
 *
 * @example Minutes and hours
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress_bar.ts";
 *
 * assert.equal(formatDuration(83.9), "01:23");
 * assert.equal(formatDuration(3723), "1:02:03");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(
      `Cannot format duration ${seconds}: expected a finite number of seconds from 0`,
    );
  }
  const wholeSeconds = Math.trunc(seconds);
  const secs = wholeSeconds % 60;
  const totalMinutes = Math.trunc(wholeSeconds / 60);
  const mins = totalMinutes % 60;
  const hours = Math.trunc(totalMinutes / 60);
  const mm = String(mins).padStart(2, "0");
  const ss = String(secs).padStart(2, "0");
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * Formats a rate as `6.60img/s`: two decimals below 1000, then one decimal with an SI prefix
 * (`231.5kimg/s`). Below 1 unit per second it shows seconds per unit instead (`4.00s/img`), and an
 * unknown rate (`undefined` or 0) shows as `?img/s`.
 *
 * @param rate Units per second, not negative, or `undefined` if unknown.
 * @param unit Name of one unit, e.g. `img`.
 * @returns The formatted rate with its unit.
 * @throws {RangeError} If `rate` is negative or not finite.
 *
 * @example Slow, fast and unknown rates
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate } from "./progress_bar.ts";
 *
 * assert.equal(formatRate(6.6, "img"), "6.60img/s");
 * assert.equal(formatRate(231_500, "img"), "231.5kimg/s");
 * assert.equal(formatRate(0.25, "img"), "4.00s/img");
 * assert.equal(formatRate(undefined, "img"), "?img/s");
 * ```
 */
export function formatRate(rate: number | undefined, unit: string): string {
  if (rate === undefined || rate === 0) return `?${unit}/s`;
  if (!Number.isFinite(rate) || rate < 0) {
    throw new RangeError(
      `Cannot format rate ${rate}: expected a finite number of units per second from 0`,
    );
  }
  if (rate < 1) return `${formatScaled(1 / rate)}s/${unit}`;
  return `${formatScaled(rate)}${unit}/s`;
}

/** `{:.2f}` below 1000, else one decimal and the smallest SI prefix that keeps it below 1000. */
function formatScaled(value: number): string {
  const plain = value.toFixed(2);
  if (Number(plain) < 1000) return plain;
  let scaled = value;
  for (const [index, prefix] of SI_PREFIXES.entries()) {
    scaled /= 1000;
    const text = scaled.toFixed(1);
    if (Number(text) < 1000 || index === SI_PREFIXES.length - 1) return text + prefix;
  }
  // Unreachable: the loop returns on its last prefix.
  return plain;
}

/** Python's `{:3.0f}`: round half to even, right-aligned in 3 columns. */
function formatPercentage(percentage: number): string {
  const floor = Math.floor(percentage);
  const diff = percentage - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return String(rounded).padStart(3, " ");
}

/** tqdm's bar: truncated eighths, full blocks, one partial block, then spaces. */
function renderBar(fraction: number, barWidth: number): string {
  const eighths = Math.floor(fraction * barWidth * EIGHTHS_PER_COLUMN);
  const fullColumns = Math.floor(eighths / EIGHTHS_PER_COLUMN);
  const fullBlock = BAR_GLYPHS[EIGHTHS_PER_COLUMN] ?? "█";
  if (fullColumns >= barWidth) return fullBlock.repeat(barWidth);
  const partial = BAR_GLYPHS[eighths % EIGHTHS_PER_COLUMN] ?? " ";
  return fullBlock.repeat(fullColumns) + partial + " ".repeat(barWidth - fullColumns - 1);
}

/** Cuts `text` to `width` code points; every glyph the bar uses takes one column. */
function cutToWidth(text: string, width: number): string {
  const codePoints = Array.from(text);
  return codePoints.length <= width ? text : codePoints.slice(0, width).join("");
}

function checkState(state: ProgressState, width: number): void {
  const { done, total, elapsedSeconds, rate } = state;
  if (!Number.isInteger(total) || total < 1) {
    throw new RangeError(`Cannot render progress: total ${total} is not an integer from 1`);
  }
  if (!Number.isFinite(done) || done < 0 || done > total) {
    throw new RangeError(
      `Cannot render progress: done ${done} is not a number from 0 to total ${total}`,
    );
  }
  if (!Number.isFinite(elapsedSeconds) || elapsedSeconds < 0) {
    throw new RangeError(
      `Cannot render progress: elapsed ${elapsedSeconds} s is not a finite number from 0`,
    );
  }
  if (rate !== undefined && (!Number.isFinite(rate) || rate < 0)) {
    throw new RangeError(`Cannot render progress: rate ${rate} is not a finite number from 0`);
  }
  if (!Number.isInteger(width) || width < 0) {
    throw new RangeError(`Cannot render progress: width ${width} is not an integer from 0`);
  }
}

/**
 * Renders one progress line in tqdm's default format, at most `width` columns wide, without a
 * trailing newline or carriage return.
 *
 * @param state What to show: description, done, total, elapsed seconds, unit and optional rate.
 * @param width Terminal columns for the whole line; the bar gets what the text leaves (at least 1).
 *   0 leaves out the bar.
 * @returns The line, e.g. `Generating:  55%|█████▍    | 547/1000 [01:23<01:08, 6.60img/s]`.
 * @throws {RangeError} If `done` is outside 0..`total`, `total` is not a positive integer, the
 *   elapsed time or rate is negative or not finite, or `width` is not an integer from 0.
 *
 * @example Half way, 62 columns (a 10-column bar)
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderProgressBar } from "./progress_bar.ts";
 *
 * const line = renderProgressBar({
 *   description: "Generating",
 *   done: 500,
 *   total: 1000,
 *   elapsedSeconds: 100,
 *   unit: "img",
 * }, 62);
 * assert.equal(line, "Generating:  50%|█████     | 500/1000 [01:40<01:40, 5.00img/s]");
 * ```
 */
export function renderProgressBar(state: ProgressState, width: number): string {
  checkState(state, width);
  const { description, done, total, elapsedSeconds, unit } = state;
  // 0 stands for "unknown" here, as in tqdm: no time has passed or nothing is done yet.
  let rate = state.rate ?? (elapsedSeconds > 0 ? done / elapsedSeconds : 0);
  if (!Number.isFinite(rate)) rate = 0;

  const remainingSeconds = rate > 0 ? (total - done) / rate : Number.NaN;
  const remaining = Number.isFinite(remainingSeconds) ? formatDuration(remainingSeconds) : "?";
  const fraction = done / total;

  const left = `${description === "" ? "" : `${description}: `}${
    formatPercentage(fraction * 100)
  }%|`;
  const right = `| ${done}/${total} [${formatDuration(elapsedSeconds)}<${remaining}, ${
    formatRate(rate, unit)
  }]`;
  if (width === 0) return left.slice(0, -1) + right.slice(1);

  const textWidth = Array.from(left).length + Array.from(right).length;
  const barWidth = Math.max(1, width - textWidth);
  return cutToWidth(left + renderBar(fraction, barWidth) + right, width);
}

/** Options for {@linkcode ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Units to do in all, at least 1. */
  total: number;
  /** Writes text as is, e.g. to stderr; the reporter adds every `\r` and `\n` itself. */
  write: (text: string) => void;
  /** Whether the output is a terminal: `\r` redraws if so, plain lines for logs if not. */
  isTerminal: boolean;
  /** Terminal width in columns, asked before each redraw. Default: 80. */
  columns?: () => number;
  /** Current time in milliseconds, e.g. a fake clock in tests. Default: `performance.now()`. */
  now?: () => number;
  /** Text before the colon. Default: `Generating`. */
  description?: string;
  /** Name of one unit. Default: `img`. */
  unit?: string;
  /** Accepted for callers that honour `NO_COLOR`; the bar never uses colour, so it changes nothing. */
  noColor?: boolean;
  /** Write nothing at all. Default: false. */
  quiet?: boolean;
  /** Least time between two terminal redraws. Default: 100 ms (10 redraws a second). */
  minRedrawMs?: number;
  /** Longest time between two log lines when no 10% boundary is crossed. Default: 30 000 ms. */
  logIntervalMs?: number;
  /** Width of log lines when the output is not a terminal. Default: 80. */
  logWidth?: number;
}

const DEFAULT_COLUMNS = 80;

/**
 * Draws a {@linkcode renderProgressBar} line as work advances. On a terminal it redraws one line
 * with `\r` at most every `minRedrawMs`; each line fills the terminal width, so it covers the
 * previous one whatever its length. Elsewhere (a log
 * file, a cluster job) it never writes `\r`: it prints a full line whenever a 10% boundary is crossed
 * or `logIntervalMs` has passed since the last line. {@linkcode ProgressReporter.finish} prints the
 * final `total/total` line. The rate is the average since the reporter was created.
 *
 * @example A log file gets plain lines
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressReporter } from "./progress_bar.ts";
 *
 * let output = "";
 * let clockMs = 0;
 * const progress = new ProgressReporter({
 *   total: 4,
 *   write: (text) => output += text,
 *   isTerminal: false,
 *   now: () => clockMs,
 * });
 * progress.update(0);
 * clockMs = 2000;
 * progress.update(4);
 * progress.finish();
 * assert.ok(!output.includes("\r"));
 * assert.equal(output.split("\n").length, 3);
 * assert.ok(output.endsWith("| 4/4 [00:02<00:00, 2.00img/s]\n"));
 * ```
 */
export class ProgressReporter {
  readonly #total: number;
  readonly #write: (text: string) => void;
  readonly #isTerminal: boolean;
  readonly #columns: () => number;
  readonly #now: () => number;
  readonly #description: string;
  readonly #unit: string;
  readonly #quiet: boolean;
  readonly #minRedrawMs: number;
  readonly #logIntervalMs: number;
  readonly #logWidth: number;
  readonly #startMs: number;
  #done = 0;
  #finished = false;
  /** When the last line or redraw was written, or undefined before the first. */
  #lastWriteMs: number | undefined = undefined;
  /** Highest 10% step already logged (non-terminal mode). */
  #lastLoggedTenth = -1;
  /** Code points of the line now on the terminal, for `clear()`. */
  #shownLength = 0;

  /**
   * Starts the clock; writes nothing until the first {@linkcode ProgressReporter.update}.
   *
   * @param options Total, output and terminal settings; see {@linkcode ProgressReporterOptions}.
   * @throws {RangeError} If `total` is not a positive integer or an interval or width is invalid.
   *
   * @example Quiet mode writes nothing
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProgressReporter } from "./progress_bar.ts";
   *
   * const written: string[] = [];
   * const progress = new ProgressReporter({
   *   total: 10,
   *   write: (text) => written.push(text),
   *   isTerminal: true,
   *   quiet: true,
   * });
   * progress.update(5);
   * progress.finish();
   * assert.deepEqual(written, []);
   * ```
   */
  constructor(options: ProgressReporterOptions) {
    const { total } = options;
    if (!Number.isInteger(total) || total < 1) {
      throw new RangeError(`Cannot report progress: total ${total} is not an integer from 1`);
    }
    const minRedrawMs = options.minRedrawMs ?? 100;
    const logIntervalMs = options.logIntervalMs ?? 30_000;
    const logWidth = options.logWidth ?? DEFAULT_COLUMNS;
    if (!Number.isFinite(minRedrawMs) || minRedrawMs < 0) {
      throw new RangeError(`Cannot report progress: minRedrawMs ${minRedrawMs} is not from 0`);
    }
    if (!(logIntervalMs > 0)) {
      throw new RangeError(`Cannot report progress: logIntervalMs ${logIntervalMs} is not above 0`);
    }
    if (!Number.isInteger(logWidth) || logWidth < 0) {
      throw new RangeError(`Cannot report progress: logWidth ${logWidth} is not an integer from 0`);
    }
    this.#total = total;
    this.#write = options.write;
    this.#isTerminal = options.isTerminal;
    this.#columns = options.columns ?? (() => DEFAULT_COLUMNS);
    this.#now = options.now ?? (() => performance.now());
    this.#description = options.description ?? "Generating";
    this.#unit = options.unit ?? "img";
    this.#quiet = options.quiet ?? false;
    this.#minRedrawMs = minRedrawMs;
    this.#logIntervalMs = logIntervalMs;
    this.#logWidth = logWidth;
    this.#startMs = this.#now();
  }

  /**
   * Records that `done` units are finished and draws if it is time to: on a terminal if
   * `minRedrawMs` has passed since the last redraw (the first update always draws); in a log when
   * a 10% boundary is crossed or `logIntervalMs` has passed. A log never gets the 100% line from
   * here: that is {@linkcode ProgressReporter.finish}'s. Does nothing after `finish()`.
   *
   * @param done Units finished so far, an integer from 0 to `total`.
   * @throws {RangeError} If `done` is not an integer from 0 to `total`.
   *
   * @example Redraws are throttled on a terminal
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProgressReporter } from "./progress_bar.ts";
   *
   * let redraws = 0;
   * let clockMs = 0;
   * const progress = new ProgressReporter({
   *   total: 100,
   *   write: () => redraws++,
   *   isTerminal: true,
   *   now: () => clockMs,
   * });
   * for (let done = 1; done <= 50; done++) {
   *   clockMs = done; // 50 updates within 50 ms
   *   progress.update(done);
   * }
   * assert.equal(redraws, 1);
   * ```
   */
  update(done: number): void {
    if (!Number.isInteger(done) || done < 0 || done > this.#total) {
      throw new RangeError(
        `Cannot update progress to ${done}: expected an integer from 0 to ${this.#total}`,
      );
    }
    if (this.#quiet || this.#finished) return;
    this.#done = done;
    const nowMs = this.#now();
    if (this.#isTerminal) {
      const due = this.#lastWriteMs === undefined || nowMs - this.#lastWriteMs >= this.#minRedrawMs;
      if (due) this.#redraw(nowMs, "");
      return;
    }
    if (done === this.#total) return;
    const tenth = Math.floor((done * 10) / this.#total);
    const stale = this.#lastWriteMs !== undefined &&
      nowMs - this.#lastWriteMs >= this.#logIntervalMs;
    if (tenth > this.#lastLoggedTenth || stale) {
      this.#lastLoggedTenth = Math.max(this.#lastLoggedTenth, tenth);
      this.#logLine(nowMs);
    }
  }

  /**
   * Prints the final line at `total/total` followed by `\n` (on a terminal it replaces the bar).
   * Later calls, and later updates, do nothing.
   *
   * @example The final line is printed once
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProgressReporter } from "./progress_bar.ts";
   *
   * let output = "";
   * const progress = new ProgressReporter({
   *   total: 3,
   *   write: (text) => output += text,
   *   isTerminal: true,
   *   now: () => 0,
   * });
   * progress.finish();
   * progress.finish();
   * assert.equal(output, "\rGenerating: 100%|" + "█".repeat(40) + "| 3/3 [00:00<?, ?img/s]\n");
   * ```
   */
  finish(): void {
    if (this.#quiet || this.#finished) return;
    this.#finished = true;
    this.#done = this.#total;
    const nowMs = this.#now();
    if (this.#isTerminal) {
      this.#redraw(nowMs, "\n");
      this.#shownLength = 0;
    } else {
      this.#logLine(nowMs);
    }
  }

  /**
   * Blanks the bar's line on a terminal, so that a message can be printed in its place; the next
   * update redraws at once. Writes nothing in a log or when nothing is shown.
   *
   * @example Blank the line before a warning
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProgressReporter } from "./progress_bar.ts";
   *
   * let output = "";
   * const progress = new ProgressReporter({
   *   total: 10,
   *   write: (text) => output += text,
   *   isTerminal: true,
   *   columns: () => 60,
   *   now: () => 0,
   * });
   * progress.update(1);
   * output = "";
   * progress.clear();
   * assert.equal(output, "\r" + " ".repeat(60) + "\r");
   * ```
   */
  clear(): void {
    if (this.#quiet || !this.#isTerminal || this.#shownLength === 0) return;
    this.#write(`\r${" ".repeat(this.#shownLength)}\r`);
    this.#shownLength = 0;
    this.#lastWriteMs = undefined;
  }

  #render(nowMs: number, width: number): string {
    return renderProgressBar({
      description: this.#description,
      done: this.#done,
      total: this.#total,
      elapsedSeconds: Math.max(0, (nowMs - this.#startMs) / 1000),
      unit: this.#unit,
    }, width);
  }

  #redraw(nowMs: number, ending: string): void {
    const width = terminalWidth(this.#columns());
    const line = this.#render(nowMs, width);
    // The line is always exactly `width` columns, so it covers the previous one: no padding.
    this.#write(`\r${line}${ending}`);
    this.#shownLength = Array.from(line).length;
    this.#lastWriteMs = nowMs;
  }

  #logLine(nowMs: number): void {
    this.#write(`${this.#render(nowMs, this.#logWidth)}\n`);
    this.#lastWriteMs = nowMs;
  }
}

/** A usable width from whatever `columns()` said: a broken size falls back to 80. */
function terminalWidth(columns: number): number {
  return Number.isFinite(columns) && columns >= 1 ? Math.floor(columns) : DEFAULT_COLUMNS;
}

/**
 * The progress reporter of a run that prints to `output` (a run's `RunOutput`), or a silent
 * one without an output.
 *
 * @param total The number of images.
 * @param output Where the run prints, if anywhere.
 * @param description The bar's first word (default `Generating`; a merge's is `Merging`).
 * @returns The reporter: quiet when there is no output or the output is quiet.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outputProgress } from "./progress_bar.ts";
 * const written: string[] = [];
 * const progress = outputProgress(10, { write: (text) => written.push(text), isTerminal: false,
 *   columns: () => 80, noColor: true, quiet: true });
 * progress.update(10);
 * progress.finish();
 * assert.deepEqual(written, []);
 * ```
 */
export function outputProgress(
  total: number,
  output:
    | {
      write(text: string): void;
      isTerminal: boolean;
      columns(): number;
      noColor: boolean;
      quiet?: boolean;
    }
    | undefined,
  description?: string,
): ProgressReporter {
  return new ProgressReporter({
    total,
    write: output?.write ?? (() => {}),
    isTerminal: output?.isTerminal ?? false,
    columns: output?.columns ?? (() => 80),
    quiet: output === undefined || output.quiet === true,
    noColor: output?.noColor ?? true,
    description,
  });
}
