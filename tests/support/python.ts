/**
 * Runs python3 with numpy, the real reader of what dsgen writes, from tests.
 *
 * The tests need `python3` on the PATH with numpy 1.24 or newer (1.24 and 2.x are both
 * checked); nothing else from Python. Without them, every test that reads an archive with numpy
 * fails with the same one line saying what to install, instead of a traceback each.
 *
 * @module
 */

/** What to do when python3 or numpy is missing, in one line. */
export const INSTALL_NUMPY =
  "install numpy for python3 (1.24 or newer): `python3 -m pip install numpy`, or " +
  "`apt-get install python3-numpy` on Debian and Ubuntu";

const checked = new Map<string, Promise<void>>();

/**
 * Checks once per interpreter that it runs and imports numpy, and rejects with one line (and
 * no stack trace, which would only point here) when it does not.
 *
 * @param python The interpreter's name or path.
 */
export function requireNumpy(python = "python3"): Promise<void> {
  let check = checked.get(python);
  if (check === undefined) {
    check = (async () => {
      let output: Deno.CommandOutput;
      try {
        output = await new Deno.Command(python, {
          args: ["-c", "import numpy"],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
      } catch (error) {
        throw oneLine(`Cannot run ${python} (${(error as Error).name}): ${INSTALL_NUMPY}`);
      }
      if (!output.success) {
        const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
        throw oneLine(`Cannot import numpy in ${python} (${stderr}): ${INSTALL_NUMPY}`);
      }
    })();
    checked.set(python, check);
  }
  return check;
}

/** An error that a test report shows as its message alone. */
function oneLine(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

/**
 * Runs a Python script and returns what it printed on stdout.
 *
 * @param script The program, passed to `python3 -c`.
 * @param args The words the script sees as `sys.argv[1:]`.
 * @param options `python`: the interpreter (default `python3` from the PATH).
 * @returns The script's stdout.
 * @throws {Error} when numpy is missing (one line), or the script exits with a non-zero code,
 * with its stderr.
 */
export async function runPython(
  script: string,
  args: readonly string[] = [],
  options: { python?: string } = {},
): Promise<string> {
  const python = options.python ?? "python3";
  await requireNumpy(python);
  const output = await new Deno.Command(python, {
    args: ["-c", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`${python} failed (exit ${output.code}):\n${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

/**
 * Runs a Python script that prints one JSON document, and parses it.
 *
 * @param script The program, passed to `python3 -c`.
 * @param args The words the script sees as `sys.argv[1:]`.
 * @returns The parsed JSON.
 */
export async function runPythonJson<T>(script: string, args: readonly string[] = []): Promise<T> {
  return JSON.parse(await runPython(script, args)) as T;
}
