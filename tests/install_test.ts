/**
 * `deno task install` puts a `dsgen` command on the PATH that runs from any folder: installed
 * into a temporary root, it generates, inspects, verifies and lists with relative paths that
 * mean the folder it runs in, with the runtime flags the memory estimate assumes, and loads
 * its render worker from the installed path.
 */
import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { entriesOf, REPO_ROOT, runAsUser as run } from "./support/cli.ts";
import { temporaryFolder } from "./support/datasets.ts";

Deno.test("deno task install: the installed dsgen works from another folder", async () => {
  const root = await temporaryFolder();
  const installed = await run(Deno.execPath(), ["task", "--quiet", "install"], {
    cwd: REPO_ROOT,
    env: { DENO_INSTALL_ROOT: root },
  });
  assert.equal(installed.code, 0, installed.stderr);
  const dsgen = join(root, "bin", Deno.build.os === "windows" ? "dsgen.cmd" : "dsgen");
  const shim = await Deno.readTextFile(dsgen);
  // The permissions dsgen needs, no more, and the V8 flags the memory estimate assumes.
  assert.match(shim, /--allow-read --allow-write --allow-env --allow-run --allow-sys /);
  // --allow-run starts --generator-cmd renderers (and reads their memory through cat).
  assert.doesNotMatch(shim, /--allow-all|--allow-net|-A /);
  assert.match(shim, /--v8-flags=--expose-gc,--max-semi-space-size=1/);

  const caller = await temporaryFolder();
  const version = await run(dsgen, ["--version"], { cwd: caller });
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout, `dsgen ${denoJson.version} (deno ${Deno.version.deno})\n`);

  // 12,000 images of 128x128: above the threshold for worker threads (minImagesForWorkers), so
  // the render worker must load.
  const generated = await run(dsgen, [
    "generate",
    "--num-images",
    "12_000",
    "--output-dir",
    "data",
    "--image-size",
    "128",
    "--seed",
    "3",
    "--workers",
    "2",
    "--yes",
  ], { cwd: caller });
  assert.equal(generated.code, 0, generated.stderr);
  assert.match(generated.stderr, /^Plan: 12000 images of 128x128 uint8, .*, 2 workers$/m);
  const printed = generated.stdout.trim();
  assert.match(printed, /^data\/shapes128\/v0001-\d{8}T\d{6}Z$/);
  assert.ok(!isAbsolute(printed));
  assert.deepEqual(await entriesOf(join(caller, printed)), ["dataset.npz", "metadata.json"]);
  const metadata = JSON.parse(await Deno.readTextFile(join(caller, printed, "metadata.json")));
  assert.equal(metadata.run.workers, 2);
  assert.equal(Number.isInteger(metadata.run.memory.estimated_peak_bytes), true);

  const inspected = await run(dsgen, ["inspect", "data/shapes128", "--seed", "1", "-q"], {
    cwd: caller,
  });
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.deepEqual(await entriesOf(join(caller, printed, "inspection")), [
    "factors.png",
    "grid.png",
    "report.json",
  ]);
  const verified = await run(dsgen, ["verify", printed, "--samples", "20"], { cwd: caller });
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /is intact/);
  const listed = await run(dsgen, ["list", "data"], { cwd: caller });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(
    listed.stdout,
    /^shapes128 +v0001-\S+ .* 12000 +128x128 uint8 +[\d.]+ MB +3 +complete$/m,
  );
});
