/** The tests' numpy helper: without numpy, one line saying what to install. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { INSTALL_NUMPY, runPython } from "./support/python.ts";
import { temporaryFolder } from "./support/datasets.ts";

Deno.test("without numpy, the numpy tests fail with one line saying how to install it", async () => {
  // python3 without its site packages: a Python on which numpy is not installed.
  const python = join(await temporaryFolder(), "python3-without-numpy");
  await Deno.writeTextFile(python, '#!/bin/sh\nexec python3 -S "$@"\n');
  await Deno.chmod(python, 0o755);
  for (let test = 0; test < 2; test++) {
    await assert.rejects(runPython("import numpy", [], { python }), (error: Error) => {
      assert.equal(
        error.message,
        `Cannot import numpy in ${python} (ModuleNotFoundError: No module named 'numpy'): ` +
          INSTALL_NUMPY,
      );
      assert.equal(error.stack, `Error: ${error.message}`);
      return true;
    });
  }
  const missing = join(python, "..", "no-such-python");
  await assert.rejects(
    runPython("print(1)", [], { python: missing }),
    new RegExp(`^Error: Cannot run ${missing} \\(NotFound\\): install numpy`),
  );
  // With numpy, scripts run as before.
  assert.equal((await runPython("import numpy; print(numpy.uint8(255) + 0)")).trim(), "255");
});
