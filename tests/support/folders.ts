/**
 * A temporary folder for the length of a test body.
 *
 * @module
 */

/**
 * Runs `body` with a new temporary folder, removed afterwards whatever happens.
 *
 * @param prefix The folder name's prefix, naming the test file (e.g. `dsgen_cli_test_`).
 * @param body The test, given the folder.
 */
export async function withTempDir(
  prefix: string,
  body: (folder: string) => Promise<void>,
): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix });
  try {
    await body(folder);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}
