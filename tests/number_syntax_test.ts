/** One rule for integers in every flag of every command, said in each command's help. */
import assert from "node:assert/strict";
import { GENERATE_HELP, parseGenerateArgs } from "../src/cli/generate.ts";
import { INSPECT_HELP, parseInspectArgs } from "../src/cli/inspect.ts";
import { parseVerifyArgs, VERIFY_HELP } from "../src/cli/verify.ts";
import { NUMBER_SYNTAX } from "../src/cli/flags.ts";
import { UsageError } from "../src/cli/errors.ts";

Deno.test("1_000 and 1e3 are both 1000, in every integer flag of every command", () => {
  for (const written of ["1000", "1_000", "1e3", "1E3", "10e2", "0_001e3"]) {
    const generate = parseGenerateArgs([
      "--num-images",
      written,
      "--output-dir",
      "d",
      "--seed",
      written,
    ]);
    assert.ok(generate !== "help");
    assert.deepEqual([generate.numImages, generate.seed], [1000, 1000], written);
    const inspect = parseInspectArgs(["v", "--samples", written, "--seed", written]);
    assert.ok(inspect !== "help");
    assert.deepEqual([inspect.samples, inspect.seed], [1000, 1000], written);
    assert.deepEqual(parseVerifyArgs(["v", "--samples", written, "--seed", written]), {
      path: "v",
      samples: 1000,
      seed: 1000,
    });
  }
  for (const written of ["1.5e3", "1e-3", "1e+3", "1e", "e3", "1_e3", "1e3_0", "1__000", "1,000"]) {
    assert.throws(
      () => parseVerifyArgs(["v", "--samples", written]),
      (error: Error) =>
        error instanceof UsageError &&
        error.message === `Cannot parse "--samples" value "${written}": expected an integer ` +
            "from 1 to 1000000000",
      written,
    );
  }
  // An exponent does not lift the range.
  assert.throws(() => parseVerifyArgs(["v", "--seed", "5e9"]), /Cannot use "--seed" value "5e9"/);
});

Deno.test("every command's help says how integers may be written", () => {
  for (const help of [GENERATE_HELP, INSPECT_HELP, VERIFY_HELP]) {
    assert.ok(help.replace(/\s+/g, " ").includes(NUMBER_SYNTAX), help);
  }
});
