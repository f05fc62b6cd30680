/**
 * One running external renderer: the program behind `--generator-cmd`, spoken to with the
 * protocol of `protocol.ts` over its stdin and stdout.
 *
 * Every way the program can misbehave becomes a {@linkcode RendererError} whose message names
 * the command, what went wrong and during which request, and which carries the last lines the
 * program wrote on stderr. Live processes are tracked, so that an exiting dsgen (even through
 * `Deno.exit`) leaves none behind.
 *
 * @module
 */

import type { OptionMessage } from "../exit/errors.ts";
import { bytesPerSample } from "../generators/sample_schema.ts";
import {
  ANSWER_HEADER_BYTES,
  answerBytes,
  ARRAY_LENGTH_BYTES,
  decodeAnswerHeader,
  describeArray,
  helloLine,
  parseDescription,
  type RendererDescription,
  requestLine,
} from "./protocol.ts";

/** How many of the program's last stderr lines a failure shows. */
const STDERR_TAIL_LINES = 10;
/** The longest handshake line accepted. */
const MAX_HANDSHAKE_BYTES = 1024 * 1024;
/** How long a program may take to exit after its stdin is closed, or after SIGTERM. */
const EXIT_GRACE_MS = 5000;

/** A renderer that misbehaved: the message is one line, the stderr tail comes with it. */
export class RendererError extends Error {
  /** The error's name, as stack traces show it. */
  override name = "RendererError";
  /** The last lines the program wrote on stderr, oldest first. */
  readonly stderrTail: string[];

  /**
   * Creates the error.
   *
   * @param message One line: the command and what went wrong.
   * @param stderrTail The program's last stderr lines.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RendererError } from "./process.ts";
   * assert.equal(new RendererError("Renderer x failed", ["boom"]).stderrTail[0], "boom");
   * ```
   */
  constructor(message: string, stderrTail: string[], named?: OptionMessage) {
    super(message);
    this.stderrTail = stderrTail;
    this.named = named;
  }

  /** The message as one about an option (the timeout), when it is one. */
  readonly named?: OptionMessage;
}

/** Options of {@linkcode RendererProcess.start}. */
export interface RendererStartOptions {
  /** The command as typed, for messages (default: the words joined by spaces). */
  label?: string;
  /** Seconds to wait for the handshake and for each answer. */
  timeoutSeconds: number;
  /** The image size the user asked for, sent in the handshake; undefined when not asked. */
  imageSize?: number | undefined;
  /** The working directory to run the program in (default: dsgen's). */
  cwd?: string;
  /** Stops the program when aborted: every request then fails, and the run with it. */
  signal?: AbortSignal | undefined;
}

/**
 * An ok answer: one buffer per array of the description's `arrays`, in their order, each
 * `count` samples as raw little-endian bytes (version 1: images, labels, latents).
 */
export interface RendererAnswer {
  /** The arrays' bytes, in the order of `description.arrays`. */
  arrays: Uint8Array[];
}

const live = new Set<Deno.ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // `Deno.exit` (a second Ctrl+C, main's exit) dispatches "unload": leave no renderer behind.
  globalThis.addEventListener("unload", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }
  });
}

/** Buffered reads of exact byte counts and lines from a stream. */
class StreamBytes {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** Reads until `bytes` are buffered or the stream ends; true when they are. */
  async fill(bytes: number): Promise<boolean> {
    while (this.#buffered < bytes && !this.ended) {
      const { value, done } = await this.#reader.read();
      if (done) this.ended = true;
      else if (value.length > 0) {
        this.#chunks.push(value);
        this.#buffered += value.length;
      }
    }
    return this.#buffered >= bytes;
  }

  /** Reads until a newline is buffered, at most `limit` bytes; the line, or undefined. */
  async line(limit: number): Promise<string | undefined> {
    for (;;) {
      const joined = this.peekAll();
      const end = joined.indexOf(10);
      if (end >= 0) return new TextDecoder().decode(this.take(end + 1).subarray(0, end));
      if (this.ended || this.#buffered > limit) return undefined;
      await this.fill(this.#buffered + 1);
    }
  }

  peekAll(): Uint8Array {
    if (this.#chunks.length > 1) {
      const joined = this.take(this.#buffered);
      this.#chunks = [joined];
      this.#buffered = joined.length;
    }
    return this.#chunks[0] ?? new Uint8Array(0);
  }

  /** Removes and returns the first `bytes` buffered bytes (which must be there). */
  take(bytes: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= bytes) {
      const taken = first.subarray(0, bytes);
      if (first.length === bytes) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(bytes);
      this.#buffered -= bytes;
      return taken;
    }
    const out = new Uint8Array(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#chunks[0]!;
      const used = Math.min(chunk.length, bytes - filled);
      out.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#buffered -= bytes;
    return out;
  }

  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }
}

/** The program, started, with its handshake done. */
export class RendererProcess {
  /** What the program declared about itself. */
  readonly description: RendererDescription;
  /** The command as typed, for messages. */
  readonly label: string;
  /** The program's process id. */
  readonly pid: number;
  #child: Deno.ChildProcess;
  #stdout: StreamBytes;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderrTail: string[];
  #stderrDone: Promise<void>;
  #exit: Promise<Deno.CommandStatus>;
  #exited: Deno.CommandStatus | undefined;
  #timeoutMs: number;
  #reading: Promise<unknown> = Promise.resolve();
  #failure: RendererError | undefined;

  private constructor(
    parts: {
      child: Deno.ChildProcess;
      stdout: StreamBytes;
      stdin: WritableStreamDefaultWriter<Uint8Array>;
      stderrTail: string[];
      stderrDone: Promise<void>;
      exit: Promise<Deno.CommandStatus>;
      label: string;
      timeoutMs: number;
      description: RendererDescription;
    },
  ) {
    this.#child = parts.child;
    this.pid = parts.child.pid;
    this.#stdout = parts.stdout;
    this.#stdin = parts.stdin;
    this.#stderrTail = parts.stderrTail;
    this.#stderrDone = parts.stderrDone;
    this.#exit = parts.exit;
    void this.#exit.then((status) => this.#exited = status);
    this.label = parts.label;
    this.#timeoutMs = parts.timeoutMs;
    this.description = parts.description;
  }

  /**
   * Starts the program and does the handshake.
   *
   * @param words The command's words (see `splitCommand`).
   * @param options Timeout, the image size asked for, the label for messages, the folder.
   * @returns The running process; a {@linkcode RendererError} when it cannot start or its
   * handshake is bad.
   * @example
   * ```ts ignore
   * import { RendererProcess } from "./process.ts";
   * const renderer = await RendererProcess.start(["python3", "render.py"], { timeoutSeconds: 60 });
   * const answer = await renderer.render(1, 0, 10);
   * await renderer.close();
   * ```
   */
  static async start(
    words: readonly string[],
    options: RendererStartOptions,
  ): Promise<RendererProcess> {
    const label = options.label ?? words.join(" ");
    const name = `Renderer ${JSON.stringify(label)}`;
    installExitHook();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(words[0]!, {
        args: words.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        cwd: options.cwd,
      }).spawn();
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? `program "${words[0]}" not found`
        : error instanceof Deno.errors.PermissionDenied
        ? `permission denied to run "${words[0]}"`
        : (error as Error).message.replace(/ \(os error \d+\).*$/s, "");
      throw new RendererError(`${name} cannot be started: ${reason}`, []);
    }
    live.add(child);
    const onAbort = () => void stopChild(child, exit);
    const exit = child.status.finally(() => {
      live.delete(child);
      options.signal?.removeEventListener("abort", onAbort);
    });
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const stderrTail: string[] = [];
    const stderrDone = collectTail(child.stderr, stderrTail);
    const stdout = new StreamBytes(child.stdout);
    const stdin = child.stdin.getWriter();
    const timeoutMs = options.timeoutSeconds * 1000;
    const fail = async (problem: string) => {
      await stopChild(child, exit);
      await Promise.race([stderrDone, delay(500)]);
      return new RendererError(`${name} ${problem}`, [...stderrTail]);
    };
    const exitText = async () => describeExit(await exit);
    stdin.write(new TextEncoder().encode(helloLine(options.imageSize))).catch(() => {});
    const line = await withTimeout(stdout.line(MAX_HANDSHAKE_BYTES), timeoutMs);
    if (line === "timeout") {
      throw await fail(`sent no handshake within ${options.timeoutSeconds} s`);
    }
    if (line === undefined) {
      if (stdout.ended) {
        const how = await Promise.race([exitText(), delay(2000).then(() => "closed its stdout")]);
        throw await fail(`${how} before its handshake`);
      }
      throw await fail(
        `sent a bad handshake: no newline in its first ${MAX_HANDSHAKE_BYTES} bytes`,
      );
    }
    let description: RendererDescription;
    try {
      description = parseDescription(line);
    } catch (error) {
      throw await fail(`sent a bad handshake: ${(error as Error).message}`);
    }
    return new RendererProcess({
      child,
      stdout,
      stdin,
      stderrTail,
      stderrDone,
      exit,
      label,
      timeoutMs,
      description,
    });
  }

  /** The last lines the program wrote on stderr. */
  get stderrTail(): string[] {
    return [...this.#stderrTail];
  }

  /**
   * Asks for images `start .. start + count - 1`. Requests may be issued before earlier
   * answers arrive; answers resolve in order.
   *
   * @param seed The dataset seed.
   * @param start The first image's index.
   * @param count The number of images.
   * @returns The answer's arrays; a {@linkcode RendererError} on any misbehaviour.
   */
  render(seed: number, start: number, count: number): Promise<RendererAnswer> {
    const request = requestLine(seed, start, count);
    if (this.#failure === undefined) {
      // A dead program's pipe refuses the write; the read below reports why it died.
      this.#stdin.write(new TextEncoder().encode(request)).catch(() => {});
    }
    const answer = this.#reading.then(() => this.#readAnswer(request.trim(), count));
    this.#reading = answer.catch(() => {});
    return answer;
  }

  async #readAnswer(request: string, count: number): Promise<RendererAnswer> {
    if (this.#failure !== undefined) throw this.#failure;
    const during = `request "${request}"`;
    const read = async (bytes: number, what: string): Promise<Uint8Array> => {
      const filled = await withTimeout(this.#stdout.fill(bytes), this.#timeoutMs);
      if (filled === "timeout") {
        throw await this.#fail({
          option: "rendererTimeoutSeconds",
          text: (name) => `did not answer ${during} within ${this.#timeoutMs / 1000} s (${name})`,
        });
      }
      if (!filled) {
        const got = this.#stdout.buffered;
        const exit = await Promise.race([this.#exit, delay(2000).then(() => undefined)]);
        const how = exit === undefined ? "closed its stdout" : describeExit(exit);
        throw await this.#fail(
          got === 0 && what === "header"
            ? `${how} before answering ${during}`
            : `${how} after ${got} of the ${bytes} bytes of the ${what} of its answer to ` +
              `${during} (too few bytes)`,
        );
      }
      return this.#stdout.take(bytes);
    };
    let header;
    try {
      header = decodeAnswerHeader(await read(ANSWER_HEADER_BYTES, "header"));
    } catch (error) {
      if (error instanceof RendererError) throw error;
      throw await this.#fail(`sent a bad answer header to ${during}: ${(error as Error).message}`);
    }
    if (header.status === 1) {
      const message = new TextDecoder().decode(await read(header.payloadBytes, "error message"));
      throw await this.#fail(`reported an error for ${during}: ${message.trim()}`);
    }
    const expected = answerBytes(this.description, count);
    const announcedWrong = () =>
      this.#fail(
        `announced ${header.payloadBytes} bytes for ${during}, expected ${expected} ` +
          `(${header.payloadBytes > expected ? "too many" : "too few"} bytes)`,
      );
    const { arrays, protocolVersion } = this.description;
    if (protocolVersion === 1) {
      if (header.payloadBytes !== expected) throw await announcedWrong();
      const payload = await read(expected, "payload");
      let offset = 0;
      return {
        arrays: arrays.map((spec) => {
          const bytes = count * bytesPerSample(spec);
          offset += bytes;
          return payload.subarray(offset - bytes, offset);
        }),
      };
    }
    // Version 2: each array after its own length, checked before its bytes are read, so
    // that a wrong size names the array.
    const buffers: Uint8Array[] = [];
    for (const spec of arrays) {
      const what = `array "${spec.name}"`;
      const lengthBytes = await read(ARRAY_LENGTH_BYTES, `length of ${what}`);
      const length = Number(
        new DataView(lengthBytes.buffer, lengthBytes.byteOffset, ARRAY_LENGTH_BYTES)
          .getBigUint64(0, true),
      );
      const wanted = count * bytesPerSample(spec);
      if (length !== wanted) {
        throw await this.#fail(
          `announced ${length} bytes for ${what} in its answer to ${during}, expected ` +
            `${wanted} (${count} samples of ${describeArray(spec)}; ` +
            `${length > wanted ? "too many" : "too few"} bytes)`,
        );
      }
      buffers.push(await read(wanted, what));
    }
    // Every array had its size: a wrong total is the header's own mistake.
    if (header.payloadBytes !== expected) throw await announcedWrong();
    return { arrays: buffers };
  }

  async #fail(problem: string | OptionMessage): Promise<RendererError> {
    if (this.#failure !== undefined) return this.#failure;
    const renderer = `Renderer ${JSON.stringify(this.label)}`;
    this.#failure = typeof problem === "string"
      ? new RendererError(`${renderer} ${problem}`, [])
      : new RendererError(`${renderer} ${problem.text(problem.option)}`, [], {
        option: problem.option,
        text: (name) => `${renderer} ${problem.text(name)}`,
      });
    await stopChild(this.#child, this.#exit);
    await Promise.race([this.#stderrDone, delay(500)]);
    this.#failure.stderrTail.push(...this.#stderrTail);
    return this.#failure;
  }

  /**
   * The peak resident memory of the program and its children so far (`VmHWM` in
   * `/proc/<pid>/status`). Deno refuses to read `/proc/<pid>` without `--allow-all`, so this
   * asks `cat`, which `--allow-run` permits.
   *
   * @returns Bytes, or undefined where `/proc` cannot be read.
   */
  peakMemoryBytes(): Promise<number | undefined> {
    return processTreePeakBytes(this.pid);
  }

  /**
   * Ends the conversation: closes stdin, waits for the program to exit, and checks it exited
   * with 0 and wrote nothing after its last answer.
   *
   * @returns When the program has exited; a {@linkcode RendererError} if it misbehaved.
   */
  async close(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    await this.#reading;
    await this.#stdin.close().catch(() => {});
    const ended = await withTimeout(this.#stdout.fill(Number.MAX_SAFE_INTEGER), EXIT_GRACE_MS);
    if (ended === "timeout") {
      throw await this.#fail(`did not exit within ${EXIT_GRACE_MS / 1000} s of its stdin closing`);
    }
    const extra = this.#stdout.buffered;
    if (extra > 0) {
      throw await this.#fail(`wrote ${extra} bytes after its last answer (too many bytes)`);
    }
    const status = await withTimeout(this.#exit, EXIT_GRACE_MS);
    if (status === "timeout") {
      throw await this.#fail(`did not exit within ${EXIT_GRACE_MS / 1000} s of its stdin closing`);
    }
    if (!status.success) {
      throw await this.#fail(`${describeExit(status)} at the end of the run`);
    }
    await Promise.race([this.#stderrDone, delay(500)]);
  }

  /**
   * Stops the program now (SIGTERM, then SIGKILL after a grace period) without checking
   * anything; for failed and interrupted runs.
   *
   * @returns When the program has exited.
   */
  async kill(): Promise<void> {
    if (this.#exited !== undefined) return;
    this.#failure ??= new RendererError(`Renderer ${JSON.stringify(this.label)} was stopped`, []);
    await stopChild(this.#child, this.#exit);
  }
}

/** "exited with code 3", "was killed by SIGKILL". */
function describeExit(status: Deno.CommandStatus): string {
  return status.signal !== null
    ? `was killed by ${status.signal}`
    : status.code === 0
    ? "exited with code 0"
    : `exited with code ${status.code}`;
}

async function stopChild(
  child: Deno.ChildProcess,
  exit: Promise<Deno.CommandStatus>,
): Promise<void> {
  const signal = (name: Deno.Signal) => {
    try {
      child.kill(name);
    } catch {
      // Already exited.
    }
  };
  const exited = await withTimeout(exit, 0);
  if (exited !== "timeout") return;
  signal("SIGTERM");
  if (await withTimeout(exit, EXIT_GRACE_MS) === "timeout") signal("SIGKILL");
  await exit;
}

async function collectTail(stream: ReadableStream<Uint8Array>, tail: string[]): Promise<void> {
  const decoder = new TextDecoder();
  let partial = "";
  try {
    for await (const chunk of stream) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop()!;
      tail.push(...lines.filter((line) => line.trim() !== "").map(cutLine));
      tail.splice(0, Math.max(0, tail.length - STDERR_TAIL_LINES));
    }
  } catch {
    // The stream broke with the process; what was read is what there is.
  }
  if (partial.trim() !== "") tail.push(cutLine(partial));
  tail.splice(0, Math.max(0, tail.length - STDERR_TAIL_LINES));
}

/** A stderr line as a failure shows it: at most 300 characters, no carriage returns. */
function cutLine(line: string): string {
  const clean = line.replace(/\r/g, "");
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value, or "timeout" after `ms` milliseconds (the timer never outlives it). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function readProc(path: string): Promise<string | undefined> {
  try {
    const output = await new Deno.Command("cat", {
      args: [path],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The summed peak resident memory (`VmHWM`) of a process and its descendants.
 *
 * @param pid The root process.
 * @returns Bytes, or undefined where `/proc` cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processTreePeakBytes } from "./process.ts";
 * const peak = await processTreePeakBytes(Deno.pid);
 * assert.ok(peak === undefined || peak > 0);
 * ```
 */
export async function processTreePeakBytes(pid: number): Promise<number | undefined> {
  const status = await readProc(`/proc/${pid}/status`);
  const match = status?.match(/^VmHWM:\s+(\d+) kB/m);
  if (match === undefined || match === null) return undefined;
  let total = Number(match[1]) * 1024;
  const children = await readProc(`/proc/${pid}/task/${pid}/children`);
  for (const child of (children ?? "").split(/\s+/).filter((word) => word !== "")) {
    total += await processTreePeakBytes(Number(child)) ?? 0;
  }
  return total;
}
