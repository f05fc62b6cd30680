// The library's errors name its options, the command line's name the flags typed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateDataset } from "../mod.ts";
import { runCli } from "./support/cli.ts";

Deno.test("a bad outputDir: the library names the option, dsgen the flag", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const file = join(folder, "a-file");
    await Deno.writeTextFile(file, "");
    const spec = {
      family: { name: "shapes", options: {} },
      seed: 1,
      numImages: 10,
      imageSize: 16,
      dtype: "uint8" as const,
    };
    await assert.rejects(
      generateDataset(spec, file, { workers: 1 }),
      (error: Error) => {
        assert.match(error.message, /^Cannot use "outputDir" value ".*a-file": .* is a file/);
        assert.doesNotMatch(error.message, /--/);
        return true;
      },
    );
    const cli = await runCli(["generate", "--num-images", "10", "--output-dir", file, "--yes"]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /^dsgen: Cannot use "--output-dir" value ".*a-file": .* is a file/);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
