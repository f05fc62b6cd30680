/**
 * Sharded runs: slices in any order make one version byte-identical to one machine's; a slice
 * whose flags differ from the run's plan is refused; two merges racing give one version; a
 * slice already done is not redone; an interrupted slice removes only its own partial file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { hostname } from "node:os";
import type { DatasetSpec } from "../src/generators/spec.ts";
import { InterruptedError, RunError, UsageError } from "../src/exit/errors.ts";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { runSlice } from "../src/cluster/slice.ts";
import { mergeRun } from "../src/cluster/merge.ts";
import { listRuns, runFolder, sliceRange } from "../src/cluster/run_folder.ts";
import { resolveSlice } from "../src/cluster/scheduler.ts";
import { minImagesForWorkers } from "../src/pipeline/worker_pool.ts";
import { listVersions, removeStaleStaging } from "../src/store/versions.ts";
import { folderBytes } from "../src/store/list_datasets.ts";
import type { ListedRun } from "../src/cli/list.ts";
import { readMetadata } from "../src/store/metadata.ts";
import { entriesOf } from "./support/cli.ts";
import { runPythonJson } from "./support/python.ts";
import { runCli as runWith, taskPermissions } from "./fault_fixtures.ts";
import { withTempDir } from "./support/folders.ts";

/** dsgen as `deno task dsgen` runs it: the task's permissions, not -A. */
const PERMISSIONS = await taskPermissions();
const runCli = (args: string[]) => runWith(args, { permissions: PERMISSIONS });

const SPEC: DatasetSpec = {
  family: { name: "shapes", options: {} },
  seed: 77,
  numImages: 3001,
  imageSize: 8,
  dtype: "uint8",
};

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

function withFolder(body: (folder: string) => Promise<void>): Promise<void> {
  return withTempDir("dsgen_cluster_test_", body);
}

async function oneMachine(folder: string, spec: DatasetSpec): Promise<string> {
  const { path } = await generateDataset(spec, join(folder, "one"), { workers: 1 });
  return await sha256(join(path, "dataset.npz"));
}

Deno.test("slice ranges tile the dataset, sizes differing by at most one", () => {
  for (const [numImages, shards] of [[10, 4], [3001, 7], [5, 5], [1_000_000_000, 100_000]]) {
    let next = 0;
    const sizes = new Set<number>();
    for (let index = 0; index < shards!; index++) {
      const range = sliceRange(numImages!, shards!, index);
      assert.equal(range.start, next);
      next += range.count;
      sizes.add(range.count);
    }
    assert.equal(next, numImages);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
});

for (
  const order of [[0, 1, 2, 3, 4], [4, 2, 0, 3, 1], [3, 4, 1, 0, 2]]
) {
  Deno.test(`slices run in order ${order.join(",")} merge into the one-machine archive`, async () => {
    await withFolder(async (folder) => {
      const expected = await oneMachine(folder, SPEC);
      const out = join(folder, "sharded");
      const results = [];
      for (const index of order) {
        results.push(await runSlice(SPEC, out, { shards: 5, index, runId: "r", workers: 1 }));
      }
      // Only the last slice merges.
      assert.deepEqual(results.map((result) => result.merge?.status), [
        undefined,
        undefined,
        undefined,
        undefined,
        "merged",
      ]);
      const versions = await listVersions(join(out, "shapes8"));
      assert.equal(versions.length, 1);
      assert.equal(await sha256(join(versions[0]!.path, "dataset.npz")), expected);
      // The run folder is gone; the metadata records every slice.
      assert.deepEqual(await entriesOf(join(out, "shapes8")), [versions[0]!.id]);
      const metadata = await readMetadata(versions[0]!.path);
      assert.equal(metadata.sharded_run?.run_id, "r");
      assert.deepEqual(metadata.sharded_run?.slices.map((slice) => slice.index), [0, 1, 2, 3, 4]);
      for (const slice of metadata.sharded_run!.slices) {
        assert.deepEqual(
          { start: slice.start_image, count: slice.num_images },
          sliceRange(SPEC.numImages, 5, slice.index),
        );
        assert.ok(slice.images_per_second > 0 && slice.host !== "" && slice.duration_seconds >= 0);
      }
      assert.equal(metadata.spec?.numImages, SPEC.numImages);
    });
  });
}

Deno.test("a float64 run with worker threads in its slices is byte-identical too", async () => {
  await withFolder(async (folder) => {
    // Enough images per slice for worker threads (minImagesForWorkers), the last one short.
    const numImages = 2 * minImagesForWorkers(16, "float64") + 1;
    const spec: DatasetSpec = { ...SPEC, numImages, imageSize: 16, dtype: "float64" };
    const expected = await oneMachine(folder, spec);
    const out = join(folder, "sharded");
    for (const index of [1, 0]) {
      const result = await runSlice(spec, out, { shards: 2, index, runId: "f", workers: 2 });
      assert.equal(result.record.workers, 2);
    }
    const [version] = await listVersions(join(out, "shapes16-float64"));
    assert.equal(await sha256(join(version!.path, "dataset.npz")), expected);
  });
});

Deno.test("a slice whose flags differ from the run's plan exits 2 naming the flag", async () => {
  await withFolder(async (folder) => {
    // One dataset folder for all: the default name differs with --dtype.
    await runSlice(SPEC, folder, { shards: 4, index: 0, runId: "p", workers: 1, name: "d" });
    const cases: [Partial<DatasetSpec>, number, string][] = [
      [{ seed: 78 }, 4, "--seed"],
      [{ numImages: 3002 }, 4, "--num-images"],
      [{ dtype: "float64" }, 4, "--dtype"],
      [{}, 5, "--shards"],
    ];
    for (const [change, shards, flag] of cases) {
      const error = await runSlice({ ...SPEC, ...change }, folder, {
        shards,
        index: 1,
        runId: "p",
        workers: 1,
        name: "d",
      }).catch((e) => e);
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, new RegExp(`^Cannot join run "p": "${flag}" differs`));
    }
    // Nothing was written for the refused slices.
    assert.deepEqual(
      (await entriesOf(runFolder(join(folder, "d"), "p"))).filter((name) =>
        !name.startsWith("slice-00000")
      ),
      ["plan.json"],
    );
  });
});

Deno.test("an image size that differs names the dataset folder, not the plan", async () => {
  // The dataset folder's default name holds the size, so the slice lands in another run.
  const spec = { ...SPEC, imageSize: 16 };
  await withFolder(async (folder) => {
    await runSlice(SPEC, folder, { shards: 2, index: 0, runId: "s", name: "d", workers: 1 });
    const error = await runSlice(spec, folder, {
      shards: 2,
      index: 1,
      runId: "s",
      name: "d",
      workers: 1,
    }).catch((e) => e);
    assert.match(String(error), /"--image-size" differs/);
  });
});

/** A run's output, not a terminal, kept as text. */
function textLog() {
  let said = "";
  return {
    output: {
      write: (text: string) => void (said += text),
      isTerminal: false,
      columns: () => 80,
      noColor: true,
    },
    text: () => said,
  };
}

Deno.test("a slice already complete is not redone", async () => {
  await withFolder(async (folder) => {
    const first = await runSlice(SPEC, folder, { shards: 3, index: 1, runId: "a", workers: 1 });
    const bin = join(runFolder(join(folder, "shapes8"), "a"), "slice-00001-of-00003.bin");
    const before = (await Deno.stat(bin)).mtime;
    const log = textLog();
    const again = await runSlice(SPEC, folder, {
      shards: 3,
      index: 1,
      runId: "a",
      workers: 1,
      output: log.output,
    });
    assert.equal(again.status, "already complete");
    assert.deepEqual(again.record, first.record);
    assert.deepEqual((await Deno.stat(bin)).mtime, before);
    assert.match(
      log.text(),
      /^Slice 1 of 3 \(images 1000 to 1999\) of run "a" is already complete/,
    );
  });
});

Deno.test("merges racing for one complete run give exactly one version", async () => {
  await withFolder(async (folder) => {
    const expected = await oneMachine(folder, SPEC);
    const out = join(folder, "sharded");
    const datasetDir = join(out, "shapes8");
    const lock = join(runFolder(datasetDir, "race"), "merge.lock");
    // Every slice done but none merged: the last one finds a merge.lock (as if another
    // process were merging), which is then gone, as after a failed merge.
    for (let index = 0; index < 3; index++) {
      await runSlice(SPEC, out, { shards: 4, index, runId: "race", workers: 1 });
    }
    await Deno.mkdir(lock);
    const last = await runSlice(SPEC, out, { shards: 4, index: 3, runId: "race", workers: 1 });
    assert.equal(last.merge?.status, "merging elsewhere");
    assert.equal((await listVersions(datasetDir)).length, 0);
    await Deno.remove(lock);
    // Four processes reach the merge at the same moment.
    const results = await Promise.all(
      Array.from({ length: 4 }, () => mergeRun(datasetDir, "race").catch((e) => e)),
    );
    const statuses = results.map((result) => result.status ?? String(result));
    assert.equal(statuses.filter((status) => status === "merged").length, 1, String(statuses));
    for (const status of statuses) {
      assert.ok(["merged", "merging elsewhere", "already merged"].includes(status), status);
    }
    const versions = await listVersions(datasetDir);
    assert.equal(versions.length, 1);
    assert.equal(await sha256(join(versions[0]!.path, "dataset.npz")), expected);
    // A merge after the run was merged says so, and makes nothing.
    const after = await mergeRun(datasetDir, "race");
    assert.deepEqual(after, { status: "already merged", path: versions[0]!.path });
  });
});

Deno.test("two slice processes finishing together make one version", async () => {
  await withFolder(async (folder) => {
    const spec = { ...SPEC, imageSize: 16 };
    const expected = await oneMachine(folder, spec);
    const out = join(folder, "sharded");
    for (const index of [2, 3]) {
      await runSlice(spec, out, { shards: 4, index, runId: "both", workers: 1 });
    }
    const args = (index: number) => [
      "generate",
      "--num-images",
      String(spec.numImages),
      "--output-dir",
      out,
      "--seed",
      String(spec.seed),
      "--shards",
      "4",
      "--shard-index",
      String(index),
      "--run-id",
      "both",
      "--workers",
      "1",
      "--yes",
      "--quiet",
    ];
    const [first, second] = await Promise.all([runCli(args(0)), runCli(args(1))]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const versions = await listVersions(join(out, "shapes16"));
    assert.equal(versions.length, 1);
    // The merging process printed the version; the other nothing on stdout.
    assert.deepEqual([first.stdout, second.stdout].filter((text) => text !== ""), [
      versions[0]!.path + "\n",
    ]);
    assert.equal(await sha256(join(versions[0]!.path, "dataset.npz")), expected);
  });
});

Deno.test("dsgen merge names the missing slices; list shows the run; discard removes it", async () => {
  await withFolder(async (folder) => {
    for (const index of [0, 2]) {
      await runSlice(SPEC, folder, { shards: 4, index, runId: "m", workers: 1 });
    }
    const datasetDir = join(folder, "shapes8");
    const merge = await runCli(["merge", datasetDir, "--run-id", "m"]);
    assert.equal(merge.code, 1, merge.stderr);
    assert.equal(
      merge.stderr,
      'dsgen: Cannot merge run "m": 2 of 4 slices are not done (missing 1, 3); rerun them ' +
        "with --shard-index\n",
    );
    const list = await runCli(["list", folder]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^shapes8 +m +2\/4 +1,3$/m);
    const runs = await listRuns(datasetDir);
    assert.deepEqual(runs, [{
      dataset: "shapes8",
      runId: "m",
      path: runFolder(datasetDir, "m"),
      shards: 4,
      done: 2,
      missing: [1, 3],
      merging: false,
      spec: { ...SPEC, family: { ...SPEC.family, version: runs[0]!.spec!.family.version } },
      created: runs[0]!.created,
      bytes: runs[0]!.bytes,
    }]);
    assert.match(runs[0]!.created!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(runs[0]!.bytes, await folderBytes(runFolder(datasetDir, "m")));
    assert.ok(runs[0]!.bytes > 2 * SPEC.numImages / 4 * 64, `${runs[0]!.bytes} bytes`);
    // For scripts: the run is a row after the versions, with its slices.
    const json = await runCli(["list", folder, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as ListedRun[];
    assert.deepEqual(rows, [{
      dataset: "shapes8",
      version: null,
      id: ".run-m",
      path: runFolder(datasetDir, "m"),
      status: "unfinished",
      created: runs[0]!.created,
      images: SPEC.numImages,
      dtype: SPEC.dtype,
      image_size: 8,
      bytes: runs[0]!.bytes,
      inspection_bytes: 0,
      seed: SPEC.seed,
      run: { id: "m", shards: 4, done: 2, missing: [1, 3], merging: false },
    }]);
    // Stale-staging cleanup leaves run folders alone.
    assert.deepEqual(await removeStaleStaging(datasetDir, { now: Date.now() + 3_600_000 }), []);
    const discard = await runCli(["discard", datasetDir, "--run-id", "m"]);
    assert.equal(discard.code, 0, discard.stderr);
    assert.deepEqual(await entriesOf(datasetDir), []);
    const again = await runCli(["discard", datasetDir, "--run-id", "m"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^dsgen: Cannot discard run "m": .* does not exist/);
  });
});

Deno.test("dsgen merge by hand completes a run whose last slice did not merge", async () => {
  await withFolder(async (folder) => {
    const expected = await oneMachine(folder, SPEC);
    const out = join(folder, "sharded");
    const datasetDir = join(out, "shapes8");
    await runSlice(SPEC, out, { shards: 2, index: 0, runId: "h", workers: 1 });
    await Deno.mkdir(join(runFolder(datasetDir, "h"), "merge.lock"));
    await runSlice(SPEC, out, { shards: 2, index: 1, runId: "h", workers: 1 });
    const busy = await runCli(["merge", datasetDir, "--run-id", "h"]);
    assert.equal(busy.code, 1);
    assert.match(
      busy.stderr,
      /a merge is under way; if that process is gone, remove .*merge\.lock/,
    );
    await Deno.remove(join(runFolder(datasetDir, "h"), "merge.lock"));
    // A slice without its checksums file: the writer computes that slice's CRC itself.
    await Deno.remove(join(runFolder(datasetDir, "h"), "slice-00000-of-00002.crc32"));
    // A slice without its labels and latents (as an older dsgen wrote it): they are drawn again.
    await Deno.remove(join(runFolder(datasetDir, "h"), "slice-00001-of-00002.latents.bin"));
    const merge = await runCli(["merge", datasetDir, "--run-id", "h"]);
    assert.equal(merge.code, 0, merge.stderr);
    assert.match(merge.stderr, /^Plan: 3001 images of 8x8 uint8/m);
    const [version] = await listVersions(datasetDir);
    assert.equal(merge.stdout, version!.path + "\n");
    assert.equal(await sha256(join(version!.path, "dataset.npz")), expected);
  });
});

Deno.test("the merge copies the labels and latents the slices kept", async () => {
  await withFolder(async (folder) => {
    const datasetDir = join(folder, "shapes8");
    await runSlice(SPEC, folder, { shards: 2, index: 0, runId: "s", workers: 1 });
    await Deno.mkdir(join(runFolder(datasetDir, "s"), "merge.lock"));
    await runSlice(SPEC, folder, { shards: 2, index: 1, runId: "s", workers: 1 });
    const labelsPath = join(runFolder(datasetDir, "s"), "slice-00001-of-00002.labels.bin");
    const labels = await Deno.readFile(labelsPath);
    assert.equal(labels.length, sliceRange(SPEC.numImages, 2, 1).count);
    // Marked, to see where the merged labels come from.
    labels[0] = 255;
    await Deno.writeFile(labelsPath, labels);
    await Deno.remove(join(runFolder(datasetDir, "s"), "merge.lock"));
    await mergeRun(datasetDir, "s");
    const [version] = await listVersions(datasetDir);
    const merged = await runPythonJson<number>(
      `import sys, numpy as np
print(int(np.load(sys.argv[1])["labels"][int(sys.argv[2])]))`,
      [join(version!.path, "dataset.npz"), String(sliceRange(SPEC.numImages, 2, 1).start)],
    );
    assert.equal(merged, 255);
  });
});

Deno.test("an interrupted slice removes only its own partial file", async () => {
  await withFolder(async (folder) => {
    const spec = { ...SPEC, numImages: 200_000, imageSize: 16 };
    await runSlice(spec, folder, { shards: 4, index: 0, runId: "i", workers: 1 });
    const runDir = runFolder(join(folder, "shapes16"), "i");
    const before = await entriesOf(runDir);
    const controller = new AbortController();
    const output = {
      write: (text: string) => {
        // The first progress line: the slice is writing its temporary file.
        if (text.includes("Generating") && !controller.signal.aborted) {
          controller.abort(new InterruptedError("SIGTERM"));
        }
      },
      isTerminal: true,
      columns: () => 80,
      noColor: true,
    };
    const error = await runSlice(spec, folder, {
      shards: 4,
      index: 1,
      runId: "i",
      workers: 1,
      signal: controller.signal,
      output,
    }).catch((e) => e);
    assert.ok(error instanceof RunError, String(error));
    assert.equal(error.exitCode, 143);
    assert.equal(
      error.message,
      "Interrupted by SIGTERM: slice 1's partial file was removed, other slices kept",
    );
    assert.deepEqual(await entriesOf(runDir), before);
  });
});

Deno.test("the slice index and run id come from the flags, else the scheduler", () => {
  const slurm = { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_JOB_ID: "812" };
  assert.deepEqual(resolveSlice({ shards: 16 }, slurm), {
    index: 7,
    runId: "812",
    indexSource: "SLURM_ARRAY_TASK_ID",
    runIdSource: "SLURM_ARRAY_JOB_ID",
  });
  const k8s = resolveSlice({ shards: 16, runId: "job-a" }, { JOB_COMPLETION_INDEX: "5" });
  assert.deepEqual([k8s.index, k8s.indexSource], [5, "JOB_COMPLETION_INDEX"]);
  const flags = resolveSlice({ shards: 16, shardIndex: "2", runId: "x" }, slurm);
  assert.deepEqual([flags.index, flags.runId], [2, "x"]);
  const refusals: [Parameters<typeof resolveSlice>, RegExp][] = [
    [[{ shards: 16 }, {}], /^Missing "--shard-index": expected an integer from 0 to 15/],
    [[{ shards: 16, shardIndex: "3" }, {}], /^Missing "--run-id"/],
    [
      [{ shards: 16, shardIndex: "16", runId: "x" }, {}],
      /"--shard-index" value "16": expected an integer from 0 to 15/,
    ],
    [
      [{ shards: 4 }, { ...slurm }],
      /SLURM_ARRAY_TASK_ID value \(the default of "--shard-index"\) "7": expected an integer from 0 to 3/,
    ],
    [[{ shards: 0 }, slurm], /"--shards" value "0": expected an integer from 1 to 100000/],
    [[{ shards: 2, shardIndex: "0", runId: "../x" }, {}], /"--run-id" value "..\/x"/],
  ];
  for (const [args, message] of refusals) {
    assert.throws(
      () => resolveSlice(...args),
      (error) => error instanceof UsageError && message.test(error.message),
    );
  }
});

Deno.test("generate --shards: bad combinations exit 2 and create nothing", async () => {
  await withFolder(async (folder) => {
    const base = ["generate", "--num-images", "100", "--output-dir", folder, "--yes"];
    const cases: [string[], RegExp][] = [
      [
        ["--shards", "4", "--shard-index", "0", "--run-id", "a"],
        /^dsgen: Missing "--seed" for "--shards"/,
      ],
      [["--seed", "1", "--shards", "4", "--run-id", "a"], /^dsgen: Missing "--shard-index"/],
      [["--seed", "1", "--shards", "4", "--shard-index", "0"], /^dsgen: Missing "--run-id"/],
      [
        ["--seed", "1", "--shards", "200", "--shard-index", "0", "--run-id", "a"],
        /"--shards" value "200": expected at most the 100 images/,
      ],
      [
        ["--seed", "1", "--shard-index", "0"],
        /^dsgen: Cannot use "--shard-index" without "--shards"/,
      ],
      [
        ["--seed", "1", "--shards", "100001", "--shard-index", "0", "--run-id", "a"],
        /"--shards" value "100001": expected an integer from 1 to 100000/,
      ],
    ];
    for (const [extra, message] of cases) {
      const result = await runCli([...base, ...extra]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
    assert.deepEqual(await entriesOf(folder), []);
  });
});

Deno.test("a slice asks after its plan, and a no creates nothing", async () => {
  await withFolder(async (folder) => {
    const { runCli: runAnswering } = await import("./support/cli.ts");
    const result = await runAnswering([
      "generate",
      "--num-images",
      "100",
      "--output-dir",
      folder,
      "--seed",
      "1",
      "--shards",
      "2",
      "--shard-index",
      "0",
      "--run-id",
      "q",
    ], { stdin: "n\n" });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^Plan: Slice 0 of 2 \(images 0 to 49\) of run "q"/);
    assert.match(result.stderr, /Proceed\? \[y\/N\] n\ndsgen: Cancelled \(answer "n"\)/);
    assert.deepEqual(await entriesOf(folder), []);
  });
});

Deno.test("a merge.lock left by a dead merger on this host is taken over; a live one is not", async () => {
  await withFolder(async (folder) => {
    const expected = await oneMachine(folder, SPEC);
    const out = join(folder, "sharded");
    const datasetDir = join(out, "shapes8");
    const lock = join(runFolder(datasetDir, "dead"), "merge.lock");
    await runSlice(SPEC, out, { shards: 2, index: 0, runId: "dead", workers: 1 });
    // A live merger on this host: its owner.json is locked (by another open file here).
    await Deno.mkdir(lock);
    const owner = { host: hostname(), pid: 999_999, started_at: new Date().toISOString() };
    await Deno.writeTextFile(join(lock, "owner.json"), JSON.stringify(owner));
    const held = await Deno.open(join(lock, "owner.json"), { read: true, write: true });
    held.lockSync(true);
    const busy = await runSlice(SPEC, out, { shards: 2, index: 1, runId: "dead", workers: 1 });
    assert.equal(busy.merge?.status, "merging elsewhere");
    // The merger dies: its lock is released, and the next merge takes over.
    held.close();
    const merge = await mergeRun(datasetDir, "dead");
    assert.equal(merge.status, "merged");
    const versions = await listVersions(datasetDir);
    assert.equal(versions.length, 1);
    assert.equal(await sha256(join(versions[0]!.path, "dataset.npz")), expected);
    // Another host's lock is never judged.
    await runSlice(SPEC, out, { shards: 2, index: 0, runId: "other", workers: 1 });
    const otherLock = join(runFolder(datasetDir, "other"), "merge.lock");
    await Deno.mkdir(otherLock);
    await Deno.writeTextFile(
      join(otherLock, "owner.json"),
      JSON.stringify({ ...owner, host: `not-${hostname()}` }),
    );
    const other = await runSlice(SPEC, out, { shards: 2, index: 1, runId: "other", workers: 1 });
    assert.equal(other.merge?.status, "merging elsewhere");
  });
});

Deno.test("the last slice's merge says Merging in its progress lines, not Generating", async () => {
  await withFolder(async (folder) => {
    await runSlice(SPEC, folder, { shards: 2, index: 0, runId: "p", workers: 1 });
    const log = textLog();
    const last = await runSlice(SPEC, folder, {
      shards: 2,
      index: 1,
      runId: "p",
      workers: 1,
      output: log.output,
    });
    assert.equal(last.merge?.status, "merged");
    const [slice, merge] = log.text().split(/all 2 slices done; merging\n/);
    assert.ok(merge !== undefined, log.text());
    assert.match(slice!, /^Generating: 100%/m);
    assert.match(merge, /^Merging: 100%\|.*\| 3001\/3001/m);
    assert.doesNotMatch(merge, /Generating/);
  });
});
