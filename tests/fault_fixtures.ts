/**
 * Fixtures for the fault tests: running `dsgen` as a user does (and stopping it halfway),
 * fingerprinting the versions of a dataset, and small real disks (tmpfs mounts) to fill up or
 * make read-only.
 *
 * @module
 */

import { entriesOf } from "./support/cli.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, where main.ts and deno.json live. */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** The name of a staging folder, as the store makes them. */
export const STAGING_NAME = /^\.v(\d{4,})\.staging$/;
/** The name of anything that claims a version number, finished or made by hand. */
export const VERSION_LIKE_NAME = /^v\d{4,}/;

/** What a finished `dsgen` process left behind. */
export interface CliResult {
  code: number;
  /** The signal that killed it, if one did. */
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** A `dsgen` process under way. */
export interface RunningCli {
  child: Deno.ChildProcess;
  /** What it has printed on stderr so far. */
  stderrSoFar(): string;
  /** Resolves when it has exited and both output streams are read. */
  finished: Promise<CliResult>;
  /** Closes stdin, if it was piped. */
  closeStdin(): Promise<void>;
}

/**
 * The permission flags of `deno task generate`, read from deno.json so that the fault tests
 * run with exactly what users run with (a liveness check once failed only without `-A`).
 *
 * @returns The words between `deno run` and `main.ts` of the `generate` task.
 */
export async function taskPermissions(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const words = String(config.tasks.generate).split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
}

/**
 * Starts `deno run <permissions> main.ts ...args` in the repository root.
 *
 * @param args The words after the program name.
 * @param options `permissions` (default `-A`); `stdin`: `"piped"` to keep it open (answer or
 * close it with the handle), otherwise /dev/null.
 * @returns The handle, collecting output in the background.
 */
export function startCli(
  args: readonly string[],
  options: { permissions?: readonly string[]; stdin?: "null" | "piped" } = {},
): RunningCli {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? ["-A"]), "main.ts", ...args],
    cwd: REPO_ROOT,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
    // A debugging switch in the caller's environment must not change what the tests see.
    env: { DSGEN_DEBUG: "", NO_COLOR: "1", INIT_CWD: "" },
  }).spawn();
  let stdout = "";
  let stderr = "";
  const collect = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) append(decoder.decode(chunk, { stream: true }));
  };
  const finished = Promise.all([
    collect(child.stdout, (text) => void (stdout += text)),
    collect(child.stderr, (text) => void (stderr += text)),
    child.status,
  ]).then(([, , status]) => ({ code: status.code, signal: status.signal, stdout, stderr }));
  let stdinClosed = options.stdin !== "piped";
  return {
    child,
    stderrSoFar: () => stderr,
    finished,
    closeStdin: async () => {
      if (stdinClosed) return;
      stdinClosed = true;
      await child.stdin.close().catch(() => {});
    },
  };
}

/**
 * Runs `dsgen` to the end.
 *
 * @param args The words after the program name.
 * @param options As for {@linkcode startCli}, with stdin at /dev/null.
 * @returns The exit code and the output.
 */
export function runCli(
  args: readonly string[],
  options: { permissions?: readonly string[] } = {},
): Promise<CliResult> {
  return startCli(args, options).finished;
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

/**
 * Polls until `probe` returns a value; fails if the process exits first, or after a long
 * safety timeout (a hang, not a slow machine: nothing here asserts on time).
 *
 * @param what What is awaited, for the failure message.
 * @param probe Returns the value once the condition holds, undefined before.
 * @param running The process whose progress is awaited.
 * @returns The probe's value.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  running?: RunningCli,
): Promise<T> {
  let exited: CliResult | undefined;
  running?.finished.then((result) => (exited = result));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (exited !== undefined) {
      throw new Error(`dsgen exited (${exited.code}) before ${what}:\n${exited.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until a run's staging folder holds a `dataset.npz` that has grown between two looks:
 * the run is past its checks and writing.
 *
 * @param datasetDir The dataset folder.
 * @param running The run.
 * @param options `number`: the staging folder's version number, when several may exist.
 * @returns The staging folder's path.
 */
export function waitForGrowingArchive(
  datasetDir: string,
  running: RunningCli,
  options: { number?: number } = {},
): Promise<string> {
  let previous = 0;
  return waitFor("a growing dataset.npz in a staging folder", async () => {
    const staging = (await entriesOf(datasetDir)).find((name) => {
      const match = STAGING_NAME.exec(name);
      return match !== null &&
        (options.number === undefined || Number(match[1]) === options.number);
    });
    if (staging === undefined) return undefined;
    const path = join(datasetDir, staging);
    const size = await Deno.stat(join(path, "dataset.npz")).then((info) => info.size, () => 0);
    if (previous > 0 && size > previous) return path;
    previous = size;
    return undefined;
  }, running);
}

/**
 * The SHA-256 of every file in every version-like folder of a dataset (`v0001-.../x` ->
 * hash), including hand-made ones: what no failure may change.
 *
 * @param datasetDir The dataset folder.
 * @returns Relative path -> hex digest.
 */
export async function versionChecksums(datasetDir: string): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(join(datasetDir, relative))) {
      const path = join(relative, entry.name);
      if (entry.isDirectory) await walk(path);
      else {
        const bytes = await Deno.readFile(join(datasetDir, path));
        sums.set(path, createHash("sha256").update(bytes).digest("hex"));
      }
    }
  };
  for (const name of await entriesOf(datasetDir)) {
    if (VERSION_LIKE_NAME.test(name)) await walk(name);
  }
  return sums;
}

/**
 * Every name and file digest under a folder, for "nothing was created or changed".
 *
 * @param root The folder.
 * @returns Sorted `path` or `path sha256` lines; empty for a missing folder.
 */
export async function treeFingerprint(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string) => {
    for (const name of await entriesOf(join(root, relative))) {
      const path = join(relative, name);
      const info = await Deno.lstat(join(root, path));
      if (info.isDirectory) {
        found.push(path + "/");
        await walk(path);
      } else if (info.isFile) {
        const digest = createHash("sha256").update(await Deno.readFile(join(root, path)));
        found.push(`${path} ${digest.digest("hex")}`);
      } else {
        found.push(`${path} (link)`);
      }
    }
  };
  await walk("");
  return found;
}

async function system(command: string, args: string[]): Promise<{ ok: boolean; error: string }> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
      .output();
    return { ok: output.success, error: new TextDecoder().decode(output.stderr).trim() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/**
 * Why small real disks cannot be made here, or undefined when they can: mounting a tmpfs
 * needs root (or CAP_SYS_ADMIN) and a system that allows mounts.
 *
 * @returns The reason to skip, or undefined.
 */
export async function tmpfsUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "tmpfs mounts need Linux";
  if (Deno.uid() !== 0) return "mounting a tmpfs needs root";
  const dir = await Deno.makeTempDir({ prefix: "dsgen-tmpfs-probe-" });
  try {
    const mounted = await system("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
    if (!mounted.ok) return `cannot mount a tmpfs: ${mounted.error}`;
    await system("umount", [dir]);
    return undefined;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A mounted tmpfs: a small real disk of a known size. */
export interface SmallDisk extends AsyncDisposable {
  path: string;
  /** Remounts it read-only or read-write. */
  remount(mode: "ro" | "rw"): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeBytes` on a new temporary folder; disposing of it unmounts it.
 *
 * @param sizeBytes The disk's size.
 * @returns The mounted disk.
 */
export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const path = await Deno.makeTempDir({ prefix: "dsgen-disk-" });
  const mounted = await system("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", path]);
  if (!mounted.ok) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
    throw new Error(`Cannot mount a tmpfs on ${path}: ${mounted.error}`);
  }
  return {
    path,
    async remount(mode) {
      const done = await system("mount", ["-o", `remount,${mode}`, path]);
      if (!done.ok) throw new Error(`Cannot remount ${path} ${mode}: ${done.error}`);
    },
    async [Symbol.asyncDispose]() {
      const unmounted = await system("umount", [path]);
      if (!unmounted.ok) await system("umount", ["-l", path]);
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Fills the free space of a disk with one file, until the disk says it is full.
 *
 * @param path The file to create.
 * @returns The bytes written.
 */
export async function fillDisk(path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const block = new Uint8Array(256 * 1024).fill(0x5a);
  let written = 0;
  try {
    for (;;) written += await file.write(block);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOSPC") throw error;
  } finally {
    file.close();
  }
  return written;
}
