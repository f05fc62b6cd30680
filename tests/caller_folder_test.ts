/**
 * Relative paths mean the folder the command was typed in: `deno task` runs in the project
 * folder and says where it was typed in `INIT_CWD`; every command and path flag resolves
 * against it, and the printed version path is valid from there.
 */
import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { parseGenerateArgs } from "../src/cli/generate.ts";
import { parseListArgs } from "../src/cli/list.ts";
import { parseVerifyArgs } from "../src/cli/verify.ts";
import { callerFolder } from "../src/cli/paths.ts";
import { type CliResult, entriesOf, REPO_ROOT, runAsUser } from "./support/cli.ts";
import { temporaryFolder } from "./support/datasets.ts";

/** Runs `deno task <task> ...args` in `cwd`, as a user typing it there. */
function denoTask(cwd: string, task: string, args: readonly string[]): Promise<CliResult> {
  const config = join(REPO_ROOT, "deno.json");
  return runAsUser(Deno.execPath(), ["task", "--quiet", "--config", config, task, ...args], {
    cwd,
  });
}

Deno.test("deno task from another folder: files land there, printed paths work from there", async () => {
  const caller = await temporaryFolder();
  const before = await entriesOf(REPO_ROOT);

  const generated = await denoTask(caller, "generate", [
    "--num-images",
    "1e2",
    "--output-dir",
    "./out",
    "--seed",
    "7",
    "--yes",
    "--quiet",
  ]);
  assert.equal(generated.code, 0, generated.stderr);
  const printed = generated.stdout.trim();
  assert.ok(isAbsolute(printed), `printed path ${printed} is valid from any folder`);
  assert.match(printed, new RegExp(`^${caller}/out/shapes16/v0001-\\d{8}T\\d{6}Z$`));
  assert.deepEqual(await entriesOf(printed), ["dataset.npz", "metadata.json"]);
  // Nothing in the project folder.
  assert.deepEqual(await entriesOf(REPO_ROOT), before);

  // A float64 run gets a dataset of its own.
  const float64 = await denoTask(caller, "generate", [
    "--num-images=100",
    "--output-dir=out",
    "--seed=7",
    "--dtype=float64",
    "-y",
    "-q",
  ]);
  assert.equal(float64.code, 0, float64.stderr);
  assert.match(float64.stdout, new RegExp(`^${caller}/out/shapes16-float64/v0001-\\S+\\n$`));

  // inspect, verify and list take relative paths from the caller's folder too.
  const inspected = await denoTask(caller, "inspect", ["out/shapes16", "--seed", "1", "-q"]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.deepEqual(await entriesOf(join(printed, "inspection")), [
    "factors.png",
    "grid.png",
    "report.json",
  ]);
  const elsewhere = await denoTask(caller, "inspect", ["out/shapes16", "-q", "--out", "grids"]);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.deepEqual(await entriesOf(join(caller, "grids")), [
    "factors.png",
    "grid.png",
    "report.json",
  ]);
  const verified = await denoTask(caller, "verify", ["out/shapes16-float64", "--samples", "5"]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /Verified: v0001-\S+ is intact/);
  const listed = await denoTask(caller, "list", ["out", "--json"]);
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { dataset: string; dtype: string }[];
  assert.deepEqual(rows.map((row) => [row.dataset, row.dtype]), [
    ["shapes16", "uint8"],
    ["shapes16-float64", "float64"],
  ]);
  assert.deepEqual(await entriesOf(REPO_ROOT), before);
});

Deno.test("every command's parse step resolves relative paths against the caller's folder", () => {
  const caller = { callerDir: "/home/me/exp" };
  const generate = parseGenerateArgs(["--num-images", "1", "--output-dir", "out"], caller);
  assert.ok(generate !== "help");
  assert.equal(generate.outputDir, "/home/me/exp/out");
  assert.equal(
    (parseGenerateArgs(["--num-images", "1", "--output-dir", "/abs"], caller) as {
      outputDir: string;
    }).outputDir,
    "/abs",
  );
  assert.deepEqual(parseVerifyArgs(["../d"], caller), { path: "/home/me/d", samples: 100 });
  assert.deepEqual(parseListArgs(["."], caller), { dir: "/home/me/exp", json: false });
  // Without a caller folder, paths stay as typed: the process runs where they were typed.
  assert.deepEqual(parseListArgs(["out"]), { dir: "out", json: false });
});

Deno.test("INIT_CWD counts only when the process runs in the project folder, as deno task puts it", () => {
  const env = (name: string) => name === "INIT_CWD" ? "/home/me/exp" : undefined;
  assert.deepEqual(callerFolder({ env, cwd: REPO_ROOT }), { callerDir: "/home/me/exp" });
  // An installed dsgen started by another project's task, in a folder of its own.
  assert.deepEqual(callerFolder({ env, cwd: "/home/me/exp/sub" }), {});
  assert.deepEqual(callerFolder({ env: () => "", cwd: REPO_ROOT }), {});
});

Deno.test("the default dataset name tells float64 from uint8", () => {
  const parse = (extra: string[]) => {
    const options = parseGenerateArgs(["--num-images", "1", "--output-dir", "d", ...extra]);
    assert.ok(options !== "help");
    return options.name;
  };
  assert.equal(parse([]), "shapes16");
  assert.equal(parse(["--dtype", "uint8", "--image-size", "32"]), "shapes32");
  assert.equal(parse(["--dtype", "float64"]), "shapes16-float64");
  assert.equal(parse(["--dtype", "float64", "--name", "mine"]), "mine");
});
