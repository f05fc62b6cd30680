import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { hostname } from "node:os";
import { formatListTable, parseListArgs, runList } from "../src/cli/list.ts";
import { RunError, UsageError } from "../src/cli/errors.ts";
import type { ListedVersion } from "../src/store/list_datasets.ts";
import { createStaging, discardStaging } from "../src/store/versions.ts";
import { runCli } from "./support/cli.ts";
import { makeVersion, recordingConsole, temporaryFolder } from "./support/datasets.ts";

/** Writes a staging folder as a run leaves it, with an owner file nobody holds locked. */
async function abandonedStaging(
  datasetDir: string,
  number: number,
  owner?: { pid: number; host: string; startedAt: string },
): Promise<void> {
  const path = join(datasetDir, `.v${String(number).padStart(4, "0")}.staging`);
  await Deno.mkdir(path, { recursive: true });
  await Deno.writeFile(join(path, "dataset.npz"), new Uint8Array(12345));
  if (owner !== undefined) {
    await Deno.writeTextFile(join(path, "owner.json"), JSON.stringify(owner));
  }
}

/**
 * An output folder with two datasets: shapes16 with versions 1 and 2, a live run (3, owned and
 * locked by this test process), a killed run (4), another host's run (5) and an ownerless
 * folder (6); and shapes8 with one version.
 */
async function outputFolder(): Promise<
  { outputDir: string; liveRun: { path: string; lock?: Deno.FsFile } }
> {
  const outputDir = await temporaryFolder();
  await makeVersion({ outputDir, numImages: 300, seed: 42 });
  await makeVersion({ outputDir, numImages: 200, seed: 7 });
  await makeVersion({ outputDir, numImages: 100, seed: 5, imageSize: 8 });
  const datasetDir = join(outputDir, "shapes16");
  const liveRun = await createStaging(datasetDir);
  await abandonedStaging(datasetDir, 4, {
    pid: 2 ** 22 + 1,
    host: hostname(),
    startedAt: "2026-11-25T03:12:45.000Z",
  });
  await abandonedStaging(datasetDir, 5, {
    pid: 4242,
    host: "elsewhere.example",
    startedAt: "2026-11-25T04:00:00.000Z",
  });
  await abandonedStaging(datasetDir, 6);
  return { outputDir, liveRun };
}

Deno.test("list shows complete and unfinished versions, with owners, newest last", async () => {
  const { outputDir, liveRun } = await outputFolder();
  try {
    const result = await runCli(["list", outputDir]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^dataset +version +created +images +image +size +seed +status$/);
    const rows = lines.slice(1).map((line) => line.split(/ {2,}/));
    assert.deepEqual(rows.map((row) => [row[0], row[1]!.slice(0, 6)]), [
      ["shapes16", "v0001-"],
      ["shapes16", "v0002-"],
      ["shapes16", ".v0003"],
      ["shapes16", ".v0004"],
      ["shapes16", ".v0005"],
      ["shapes16", ".v0006"],
      ["shapes8", "v0001-"],
    ]);
    assert.match(lines[1]!, / 300 +16x16 uint8 +0\.1 MB +42 +complete$/);
    assert.match(
      lines[2]!,
      /^shapes16 +v0002-\d{8}T\d{6}Z +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +200 +16x16 uint8 +0\.1 MB +7 +complete$/,
    );
    assert.match(
      lines[3]!,
      new RegExp(`unfinished \\(pid ${Deno.pid} on ${hostname()}, running: in progress\\)$`),
    );
    assert.match(
      lines[4]!,
      /2026-11-25 03:12:45Z +- +- +0\.0 MB +- +unfinished \(pid 4194305 on .*, not running: killed run\)$/,
    );
    assert.match(
      lines[5]!,
      /unfinished \(pid 4242 on elsewhere\.example, another host: cannot tell if running\)$/,
    );
    assert.match(lines[6]!, /unfinished \(no owner\.json: the run died at its start\)$/);
    assert.match(lines[7]!, /^shapes8 .* 100 .* 5 +complete$/);
  } finally {
    await discardStaging(liveRun);
  }
});

Deno.test("list --json gives the same rows for scripts", async () => {
  const { outputDir, liveRun } = await outputFolder();
  try {
    const result = await runCli(["list", outputDir, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as ListedVersion[];
    assert.deepEqual(
      rows.map((row) => [row.dataset, row.version, row.status, row.images, row.seed]),
      [
        ["shapes16", 1, "complete", 300, 42],
        ["shapes16", 2, "complete", 200, 7],
        ["shapes16", 3, "unfinished", null, null],
        ["shapes16", 4, "unfinished", null, null],
        ["shapes16", 5, "unfinished", null, null],
        ["shapes16", 6, "unfinished", null, null],
        ["shapes8", 1, "complete", 100, 5],
      ],
    );
    assert.deepEqual(rows.map((row) => row.owner?.alive), [
      undefined,
      undefined,
      true,
      false,
      null,
      undefined,
      undefined,
    ]);
    assert.equal(rows[3]!.owner?.pid, 2 ** 22 + 1);
    assert.equal(rows[3]!.bytes, 12345 + (await Deno.stat(join(rows[3]!.path, "owner.json"))).size);
    const version = rows[0]!;
    let bytes = 0;
    for await (const entry of Deno.readDir(version.path)) {
      bytes += (await Deno.stat(join(version.path, entry.name))).size;
    }
    assert.equal(version.bytes, bytes);
    assert.match(version.created!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(basename(version.path), version.id);
  } finally {
    await discardStaging(liveRun);
  }
});

Deno.test("list shows each version's dtype and image size, and sizes without inspection/", async () => {
  const outputDir = await temporaryFolder();
  const uint8 = await makeVersion({ outputDir, numImages: 100, imageSize: 8 });
  const float64 = await makeVersion({ outputDir, numImages: 100, dtype: "float64" });
  const before = (await runList({ dir: outputDir, json: true }, recordingConsole()))
    .find((row) => row.path === uint8.version)!;
  assert.equal(before.inspection_bytes, 0);
  const inspected = await runCli(["inspect", uint8.version, "--seed", "1", "-q"]);
  assert.equal(inspected.code, 0, inspected.stderr);

  const io = recordingConsole();
  const rows = await runList({ dir: outputDir, json: false }, io);
  const row = (path: string) => rows.find((candidate) => candidate.path === path)!;
  assert.deepEqual([row(uint8.version).dtype, row(uint8.version).image_size], ["uint8", 8]);
  assert.deepEqual([row(float64.version).dtype, row(float64.version).image_size], ["float64", 16]);
  assert.match(io.out, / 100 +8x8 uint8 +0\.0 MB +42 +complete$/m);
  assert.match(io.out, / 100 +16x16 float64 +0\.2 MB +42 +complete$/m);
  // inspect added grid.png and report.json: counted apart, the version's size unchanged.
  assert.equal(row(uint8.version).bytes, before.bytes);
  let inspection = 0;
  for await (const entry of Deno.readDir(join(uint8.version, "inspection"))) {
    inspection += (await Deno.stat(join(uint8.version, "inspection", entry.name))).size;
  }
  assert.ok(inspection > 0);
  assert.equal(row(uint8.version).inspection_bytes, inspection);
});

Deno.test("list reads metadata only: a truncated archive lists, a broken metadata.json fails", async () => {
  const outputDir = await temporaryFolder();
  const { version } = await makeVersion({ outputDir, numImages: 100 });
  await Deno.truncate(join(version, "dataset.npz"), 1000);
  const io = recordingConsole();
  const rows = await runList({ dir: outputDir, json: false }, io);
  assert.equal(rows[0]!.status, "complete");
  assert.match(io.out, / 100 +16x16 uint8 +0\.0 MB +42 +complete$/m);

  const second = await makeVersion({ outputDir, numImages: 100 });
  await Deno.writeTextFile(join(second.version, "metadata.json"), "{");
  const result = await runCli(["list", outputDir]);
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /v0002-\S+ +- +- +- +[\d.]+ MB +- +damaged: Cannot parse .*metadata\.json: /,
  );
  assert.match(
    result.stderr,
    /^dsgen: 1 version is damaged: Cannot parse .*metadata\.json: [^\n]*\n$/,
  );
});

Deno.test("list of an empty, missing or file path", async () => {
  const empty = await temporaryFolder();
  const io = recordingConsole();
  assert.deepEqual(await runList({ dir: empty, json: false }, io), []);
  assert.equal(io.err, `No datasets in ${empty}\n`);
  const json = recordingConsole();
  await runList({ dir: empty, json: true }, json);
  assert.equal(json.out, "[]\n");

  await assert.rejects(
    runList({ dir: join(empty, "missing"), json: false }, io),
    (error: Error) => {
      assert.ok(error instanceof RunError);
      assert.match(error.message, /^Cannot find .*missing: expected an output folder$/);
      return true;
    },
  );
  const file = join(empty, "file.txt");
  await Deno.writeTextFile(file, "x");
  const cli = await runCli(["list", file]);
  assert.equal(cli.code, 1);
  assert.equal(cli.stderr, `dsgen: Cannot list ${file}: it is a file, expected an output folder\n`);
});

Deno.test("list flags: unknown flags and extra words are usage errors (exit 2)", async () => {
  assert.deepEqual(parseListArgs(["data"]), { dir: "data", json: false });
  assert.equal(parseListArgs(["--help"]), "help");
  assert.throws(() => parseListArgs(["data", "--json=yes"]), UsageError);
  assert.throws(() => parseListArgs([]), /^UsageError: Missing DIR for "dsgen list"/);
  assert.throws(() => parseListArgs(["a", "b"]), /Unexpected argument "b"/);
  const cli = await runCli(["list", "data", "--all"]);
  assert.equal(cli.code, 2);
  assert.match(
    cli.stderr,
    /^dsgen: Unknown flag "--all" for "dsgen list": accepted flags are --json, --help\n$/,
  );
});

Deno.test("formatListTable aligns columns and shortens times", () => {
  const row: ListedVersion = {
    dataset: "shapes16",
    version: 12,
    id: "v0012-20261125T031245Z",
    path: "/data/shapes16/v0012-20261125T031245Z",
    status: "complete",
    created: "2026-11-25T03:12:45.123Z",
    images: 1_000_000,
    dtype: "uint8",
    image_size: 16,
    bytes: 273_001_518,
    inspection_bytes: 0,
    seed: 4_294_967_295,
  };
  assert.equal(
    formatListTable([row]),
    "dataset   version                 created               images   image        size      seed        status\n" +
      "shapes16  v0012-20261125T031245Z  2026-11-25 03:12:45Z  1000000  16x16 uint8  273.0 MB  4294967295  complete\n",
  );
});
