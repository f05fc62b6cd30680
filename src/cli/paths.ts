/**
 * What a relative path on the command line means: the folder the user ran the command from.
 *
 * `deno task` runs every task in the project folder, whatever folder it was typed in, and
 * records that folder in `INIT_CWD` (as `npm run` does). A relative path typed there must mean
 * that folder, not the project's: `deno task generate --output-dir ./out` run from `~/exp`
 * writes `~/exp/out`. Every subcommand's parse step passes each path flag and argument through
 * {@linkcode callerPath}, so that no command differs from another.
 *
 * Without `INIT_CWD` (the installed `dsgen`, the compiled binary, `deno run`), the process's
 * working folder is the caller's, and relative paths stay as typed; `INIT_CWD` is trusted only
 * when the process runs in this project's folder, where `deno task` puts it. With it, they become
 * absolute, so the version path `generate` prints is valid from the caller's folder in both
 * cases: `path=$(deno task generate ...)` works from any folder.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where relative paths are resolved: the caller's folder, when the runner moved away from it. */
export interface CallerFolder {
  /**
   * The folder the user typed the command in, when it differs from the process's working
   * folder (`INIT_CWD` under `deno task`); undefined: relative paths stay as typed.
   */
  callerDir?: string;
}

/** The project folder: where deno.json and main.ts are, and where `deno task` runs. */
const PROJECT_DIR = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/**
 * The caller's folder: `INIT_CWD`, when set, non-empty, and the process runs in dsgen's own
 * project folder (where `deno task` puts it). A variable inherited from an outer runner (a
 * `deno task` or `npm run` of another project that starts the installed `dsgen` in a folder of
 * its own) is ignored, since the process's working folder is then the caller's.
 *
 * @param context The environment, the working folder and the project folder (defaults: the
 * process's, and the folder holding this project's deno.json).
 * @returns The folder, for {@linkcode callerPath}; `{}` when the process runs where it was typed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callerFolder } from "./paths.ts";
 * const env = (name: string) => name === "INIT_CWD" ? "/home/me/exp" : undefined;
 * assert.deepEqual(callerFolder({ env, cwd: "/src/dsgen", projectDir: "/src/dsgen" }), {
 *   callerDir: "/home/me/exp",
 * });
 * assert.deepEqual(callerFolder({ env, cwd: "/home/me/other", projectDir: "/src/dsgen" }), {});
 * assert.deepEqual(callerFolder({ env: () => undefined }), {});
 * ```
 */
export function callerFolder(
  context: { env?: (name: string) => string | undefined; cwd?: string; projectDir?: string } = {},
): CallerFolder {
  const env = context.env ?? ((name: string) => Deno.env.get(name));
  const dir = env("INIT_CWD");
  if (dir === undefined || dir === "") return {};
  const cwd = resolve(context.cwd ?? Deno.cwd());
  return cwd === resolve(context.projectDir ?? PROJECT_DIR) ? { callerDir: dir } : {};
}

/**
 * A path as the user meant it: a relative path is resolved against the caller's folder when
 * one is known; absolute paths, and every path when no caller folder is known, stay as typed.
 *
 * @param path The path from the command line.
 * @param caller The caller's folder, from {@linkcode callerFolder}.
 * @returns The path to use, valid from the process's working folder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { callerPath } from "./paths.ts";
 * assert.equal(callerPath("out", { callerDir: "/home/me/exp" }), "/home/me/exp/out");
 * assert.equal(callerPath("/data", { callerDir: "/home/me/exp" }), "/data");
 * assert.equal(callerPath("out", {}), "out");
 * ```
 */
export function callerPath(path: string, caller: CallerFolder = {}): string {
  if (caller.callerDir === undefined || isAbsolute(path)) return path;
  return resolve(caller.callerDir, path);
}
