// The library's errors name its options, the command line's name the flags typed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateDataset } from "../mod.ts";
import { runCli } from "./support/cli.ts";
import { commandLineMessage, type RunError } from "../src/cli/errors.ts";
import { RendererError } from "../src/renderer/process.ts";
import { rendererRunError } from "../src/renderer/pool.ts";

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

Deno.test("a renderer's timeout: the library names rendererTimeoutSeconds, dsgen the flag", () => {
  const failure = new RendererError(
    'Renderer "r" did not answer within 3 s (rendererTimeoutSeconds)',
    [
      "last words",
    ],
    {
      option: "rendererTimeoutSeconds",
      text: (name) => `Renderer "r" did not answer within 3 s (${name})`,
    },
  );
  const error = rendererRunError(failure, "nothing was created") as RunError;
  assert.equal(
    error.message,
    'Renderer "r" did not answer within 3 s (rendererTimeoutSeconds); nothing was created\n' +
      "  renderer stderr: last words",
  );
  assert.equal(
    commandLineMessage(error),
    'Renderer "r" did not answer within 3 s (--generator-timeout); nothing was created\n' +
      "  renderer stderr: last words",
  );
});
