/**
 * Runs python3 with numpy, the real reader of what dsgen writes, from tests.
 *
 * @module
 */

/**
 * Runs a Python script and returns what it printed on stdout.
 *
 * @param script The program, passed to `python3 -c`.
 * @param args The words the script sees as `sys.argv[1:]`.
 * @returns The script's stdout.
 * @throws {Error} when the script exits with a non-zero code, with its stderr.
 */
export async function runPython(script: string, args: readonly string[] = []): Promise<string> {
  const output = await new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`python3 failed (exit ${output.code}):\n${decoder.decode(output.stderr)}`);
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
