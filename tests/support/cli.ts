/**
 * Runs the `dsgen` command line as a subprocess, the way a user does, from tests.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root, where main.ts and deno.json live. */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** What a finished `dsgen` process left behind. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A main.ts ...args` in the repository root.
 *
 * @param args The words after the program name.
 * @param options `stdin`: text to pipe in (then stdin is closed); without it stdin is /dev/null.
 * @returns The exit code and the decoded output.
 */
export async function runCli(
  args: readonly string[],
  options: { stdin?: string } = {},
): Promise<CliResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: REPO_ROOT,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    // A debugging switch in the caller's environment must not change what the tests see.
    // INIT_CWD from a `deno task test` typed elsewhere must not move relative paths either.
    env: { DSGEN_DEBUG: "", NO_COLOR: "1", INIT_CWD: "" },
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    } catch (error) {
      // A process that exits before reading its input closes the pipe; that is its business.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs a command as a user's shell would: in `cwd`, with this process's environment less the
 * `INIT_CWD` a `deno task test` typed elsewhere leaves behind (deno task keeps one it inherits),
 * no debugging switch and no colour, stdin at /dev/null.
 *
 * @param command The program, e.g. `Deno.execPath()` or an installed `dsgen`.
 * @param args Its arguments.
 * @param options The folder it runs in, and variables to add to the environment.
 * @returns The exit code and the decoded output.
 */
export async function runAsUser(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const output = await new Deno.Command(command, {
    args: [...args],
    cwd: options.cwd,
    env: { ...env, DSGEN_DEBUG: "", NO_COLOR: "1", ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * The names inside a folder, sorted; none when it is missing. A failed run must leave none.
 *
 * @param path The folder a run was pointed at.
 * @returns The names inside the folder (empty when it is missing).
 */
export async function entriesOf(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names.sort();
}
