/**
 * Failures lose nothing: interrupted, killed, out-of-disk and concurrent runs leave no
 * half-made version and never touch an earlier one.
 *
 * The command-line tests run `dsgen` with the permissions of `deno task generate`; the small
 * disks are real tmpfs mounts, skipped with a printed reason where mounting is not allowed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hostname } from "node:os";
import { InterruptedError, RunError } from "../src/cli/errors.ts";
import type { Console } from "../src/cli/console.ts";
import { type GenerateOptions, runGenerate } from "../src/cli/generate.ts";
import { writeDatasetNpz } from "../src/pipeline/dataset.ts";
import { runDataset } from "../src/run/generate_dataset.ts";
import { minImagesForWorkers } from "../src/pipeline/worker_pool.ts";
import { entriesOf } from "./support/cli.ts";
import {
  createStaging,
  discardStaging,
  listStaging,
  listVersions,
  OWNERLESS_STAGING_GRACE_MS,
  publishStaging,
  removeStaleStaging,
} from "../src/store/versions.ts";
import {
  fillDisk,
  lines,
  mountSmallDisk,
  runCli,
  type RunningCli,
  STAGING_NAME,
  startCli,
  taskPermissions,
  tmpfsUnavailable,
  VERSION_LIKE_NAME,
  versionChecksums,
  waitFor,
  waitForGrowingArchive,
} from "./fault_fixtures.ts";

const PERMISSIONS = await taskPermissions();
const noTmpfs = await tmpfsUnavailable();
if (noTmpfs !== undefined) {
  console.log(`reliability_test: skipping the full-disk and read-only cases: ${noTmpfs}`);
}

/**
 * Images in a run meant to be stopped halfway: seconds of work (~110 MB), so the test
 * stops it long before it ends, yet small enough for the pre-flight check on a small disk.
 */
const LONG_RUN_IMAGES = 400_000;

/** `generate` into a dataset `data` under `outputDir`, without questions or progress. */
function generateArgs(outputDir: string, numImages: number, extra: string[] = []): string[] {
  return [
    "generate",
    "--num-images",
    String(numImages),
    "--output-dir",
    outputDir,
    "--name",
    "data",
    "--yes",
    "--quiet",
    ...extra,
  ];
}

async function generateVersion(outputDir: string, seed: number): Promise<string> {
  const result = await runCli(generateArgs(outputDir, 300, ["--seed", String(seed)]), {
    permissions: PERMISSIONS,
  });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/**
 * Like `Promise.all`, but waits for every promise before failing: a test must not unmount or
 * delete a folder while some of its runs still write there.
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((outcome) => outcome.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

async function assertUntouched(datasetDir: string, before: Map<string, string>): Promise<void> {
  const after = await versionChecksums(datasetDir);
  for (const [path, sum] of before) {
    assert.equal(after.get(path), sum, `${path} changed or vanished`);
  }
}

async function assertNoStaging(datasetDir: string): Promise<void> {
  const staging = (await entriesOf(datasetDir)).filter((name) => STAGING_NAME.test(name));
  assert.deepEqual(staging, [], "a staging folder was left behind");
}

/** A console that records what is printed and answers no question. */
function recordingConsole(): Console & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    stdout() {},
    stderr: (text) => void errors.push(text),
    stderrIsTerminal: false,
    columns: () => 80,
    noColor: true,
    readLine: () => Promise.resolve(null),
  };
}

function generateOptions(outputDir: string, numImages: number): GenerateOptions {
  return {
    numImages,
    outputDir,
    seed: 5,
    name: "data",
    imageSize: 16,
    generator: "shapes",
    dtype: "uint8",
    workers: 2,
    yes: true,
    quiet: true,
  };
}

/** A writer that fails after its first chunk of images, with `error`, like a full disk. */
function failingWriter(error: Error, before?: () => void): typeof writeDatasetNpz {
  return (plan, path, options = {}) =>
    writeDatasetNpz(plan, path, {
      ...options,
      onProgress: (done) => {
        options.onProgress?.(done);
        before?.();
        throw error;
      },
    });
}

/**
 * Runs `body` while counting the Worker threads it starts and those still running after it:
 * a failed run must not leave render threads behind.
 */
async function watchWorkers<T>(
  body: () => Promise<T>,
): Promise<{ result: T; started: number; running: number }> {
  const Original = globalThis.Worker;
  const running = new Set<Worker>();
  let started = 0;
  globalThis.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      super(...args);
      started++;
      running.add(this);
    }
    override terminate() {
      running.delete(this);
      super.terminate();
    }
  };
  try {
    const result = await body();
    return { result, started, running: running.size };
  } finally {
    globalThis.Worker = Original;
    for (const worker of running) worker.terminate();
  }
}

/** Enough images for the worker pool to be used (small runs render on the main thread). */
const POOLED_RUN_IMAGES = minImagesForWorkers(16) + 1000;

function systemError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

// --- the store --------------------------------------------------------------------------------

Deno.test("createStaging() skips every number in use, hand-made folders and files included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "v0001-20200101T000000Z"));
    await Deno.writeTextFile(join(dir, "v0001-20200101T000000Z", "notes.txt"), "by hand\n");
    await Deno.mkdir(join(dir, "v0003-by-hand"));
    await Deno.writeTextFile(join(dir, "v0004"), "a file named like a version\n");
    await Deno.writeTextFile(join(dir, ".v0005.staging"), "a file named like a staging folder\n");
    const staging = await createStaging(dir);
    assert.equal(staging.number, 6);
    const version = await publishStaging(staging, new Date("2026-01-02T03:04:05Z"));
    assert.equal(version.id, "v0006-20260102T030405Z");
    assert.equal(
      await Deno.readTextFile(join(dir, "v0001-20200101T000000Z", "notes.txt")),
      "by hand\n",
    );
    assert.deepEqual(await entriesOf(join(dir, "v0003-by-hand")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createStaging() gives concurrent reservations distinct, contiguous numbers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const reserved = await Promise.all(Array.from({ length: 8 }, () => createStaging(dir)));
    assert.deepEqual(reserved.map((staging) => staging.number).sort((a, b) => a - b), [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]);
    for (const staging of reserved) await discardStaging(staging);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("publishStaging() never renames onto a folder that exists, even an empty one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const staging = await createStaging(dir);
    const when = new Date("2026-01-02T03:04:05Z");
    await Deno.mkdir(join(dir, "v0001-20260102T030405Z"));
    await assert.rejects(publishStaging(staging, when), /already exists/);
    assert.deepEqual(await entriesOf(join(dir, "v0001-20260102T030405Z")), []);
    await discardStaging(staging);
    assert.deepEqual(await entriesOf(dir), ["v0001-20260102T030405Z"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("removeStaleStaging() removes dead runs' folders only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const live = await createStaging(dir);
    // A run that died: owner.json of this host, but nobody holds its lock.
    const dead = join(dir, ".v0002.staging");
    await Deno.mkdir(dead);
    const deadOwner = { pid: 999_999_999, host: hostname(), startedAt: "2026-01-01T00:00:00Z" };
    await Deno.writeTextFile(join(dead, "owner.json"), JSON.stringify(deadOwner));
    await Deno.writeTextFile(join(dead, "dataset.npz"), "partial");
    // Another host's run on a shared disk: its lock may not be visible here.
    const foreign = join(dir, ".v0003.staging");
    await Deno.mkdir(foreign);
    await Deno.writeTextFile(
      join(foreign, "owner.json"),
      JSON.stringify({ ...deadOwner, host: `not-${hostname()}` }),
    );
    // Killed between mkdir and owner.json: judged by age.
    const ownerless = join(dir, ".v0004.staging");
    await Deno.mkdir(ownerless);
    const changed = (await Deno.stat(ownerless)).mtime!.getTime();

    const soon = await removeStaleStaging(dir, { now: changed + 1000 });
    assert.deepEqual(soon.map((entry) => entry.number), [2]);
    assert.deepEqual(soon[0]!.owner, deadOwner);
    assert.deepEqual((await listStaging(dir)).map((entry) => entry.number), [1, 3, 4]);

    const later = await removeStaleStaging(dir, {
      now: changed + OWNERLESS_STAGING_GRACE_MS + 1000,
    });
    assert.deepEqual(later.map((entry) => entry.number), [4]);
    assert.deepEqual((await listStaging(dir)).map((entry) => entry.number), [1, 3]);

    // Once the live run lets go of its folder without removing it (as a killed process
    // would), the folder is stale too.
    live.lock?.close();
    assert.deepEqual((await removeStaleStaging(dir)).map((entry) => entry.number), [1]);
    assert.deepEqual(await listVersions(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- runGenerate with injected faults ---------------------------------------------------------

for (
  const fault of [
    {
      what: "a full disk",
      error: systemError("No space left on device (os error 28)", "ENOSPC"),
      message:
        /^Cannot write to .*: no space left on the disk; the unfinished version was removed, earlier versions are untouched$/,
    },
    {
      what: "an I/O error",
      error: systemError("Input/output error (os error 5)", "EIO"),
      message:
        /^Cannot write the dataset to .*\.v0002\.staging: Input\/output error \(os error 5\); the unfinished version was removed$/,
    },
  ]
) {
  Deno.test(`runGenerate() on ${fault.what} mid-write removes the partial files, exit code 1`, async () => {
    const out = await Deno.makeTempDir();
    const datasetDir = join(out, "data");
    try {
      await runGenerate(generateOptions(out, 300), recordingConsole());
      const before = await versionChecksums(datasetDir);
      const entries = await entriesOf(datasetDir);
      let partialSeen = false;
      const io = {
        ...recordingConsole(),
        writeDataset: failingWriter(fault.error, () => {
          // The fault strikes while dataset.npz is half written in the staging folder.
          partialSeen = Deno.statSync(join(datasetDir, ".v0002.staging", "dataset.npz")).size > 0;
        }),
      };
      const { result: error, started, running } = await watchWorkers(() =>
        runGenerate(generateOptions(out, POOLED_RUN_IMAGES), io).catch((e) => e)
      );
      assert.ok(started > 0);
      assert.equal(running, 0, "render workers were left running");
      assert.ok(error instanceof RunError, String(error));
      assert.equal(error.exitCode, 1);
      assert.match(error.message, fault.message);
      assert.ok(partialSeen);
      assert.deepEqual(await entriesOf(datasetDir), entries);
      await assertUntouched(datasetDir, before);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("runGenerate() interrupted mid-write stops the workers and keeps nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const controller = new AbortController();
    const io = {
      ...recordingConsole(),
      signal: controller.signal,
      writeDataset: ((plan, path, options = {}) =>
        writeDatasetNpz(plan, path, {
          ...options,
          onProgress: (done) => {
            options.onProgress?.(done);
            controller.abort(new InterruptedError("SIGINT"));
          },
        })) as typeof writeDatasetNpz,
    };
    const { result: error, started, running } = await watchWorkers(() =>
      runGenerate(generateOptions(out, POOLED_RUN_IMAGES), io).catch((e) => e)
    );
    assert.ok(started > 0);
    assert.equal(running, 0, "render workers were left running");
    assert.ok(error instanceof RunError, String(error));
    assert.equal(error.exitCode, 130);
    assert.equal(
      error.message,
      "Interrupted by SIGINT: the unfinished version was removed, nothing kept",
    );
    assert.deepEqual(await entriesOf(join(out, "data")), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("runGenerate() interrupted at the confirmation question creates nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const controller = new AbortController();
    const io = {
      ...recordingConsole(),
      signal: controller.signal,
      // The user never answers; the signal comes instead.
      readLine: () => {
        controller.abort(new InterruptedError("SIGTERM"));
        return new Promise<string | null>(() => {});
      },
    };
    const options = { ...generateOptions(out, 100), yes: false };
    const error = await runGenerate(options, io).catch((e) => e);
    assert.ok(error instanceof RunError, String(error));
    assert.equal(error.exitCode, 143);
    assert.equal(error.message, "Interrupted by SIGTERM: nothing was created");
    assert.deepEqual(await entriesOf(out), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

// --- the command line -------------------------------------------------------------------------

for (
  const { signal, code, workers } of [
    { signal: "SIGINT", code: 130, workers: "2" },
    { signal: "SIGTERM", code: 143, workers: "1" },
  ] as const
) {
  Deno.test(`${signal} mid-run removes the staging folder and exits with ${code}`, async () => {
    const out = await Deno.makeTempDir();
    const datasetDir = join(out, "data");
    try {
      const run = startCli(
        generateArgs(out, LONG_RUN_IMAGES, ["--seed", "3", "--workers", workers]),
        { permissions: PERMISSIONS },
      );
      await waitForGrowingArchive(datasetDir, run);
      run.child.kill(signal);
      const result = await run.finished;
      assert.equal(result.code, code, result.stderr);
      assert.deepEqual(lines(result.stderr), [
        `dsgen: Interrupted by ${signal}: the unfinished version was removed, nothing kept`,
      ]);
      assert.equal(result.stdout, "");
      assert.deepEqual(await entriesOf(datasetDir), []);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("a second SIGINT exits at once; the next run removes whatever was left", async () => {
  const out = await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  try {
    const run = startCli(generateArgs(out, LONG_RUN_IMAGES, ["--seed", "3"]), {
      permissions: PERMISSIONS,
    });
    await waitForGrowingArchive(datasetDir, run);
    run.child.kill("SIGINT");
    try {
      run.child.kill("SIGINT");
    } catch {
      // Already gone: the first signal's cleanup won the race.
    }
    const result = await run.finished;
    assert.equal(result.code, 130, result.stderr);
    // Either the cleanup finished first, or the second signal cut it short; both say so.
    const said = lines(result.stderr);
    assert.equal(said.length, 1, result.stderr);
    assert.match(said[0]!, /^dsgen: Interrupted by SIGINT(: the unfinished| again: stopped)/);
    assert.equal((await listVersions(datasetDir)).length, 0);
    const next = await runCli(generateArgs(out, 100, ["--seed", "4"]), {
      permissions: PERMISSIONS,
    });
    assert.equal(next.code, 0, next.stderr);
    await assertNoStaging(datasetDir);
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [1]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("SIGINT at the confirmation question exits with 130 and creates nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = startCli(
      ["generate", "--num-images", "100", "--output-dir", join(out, "new")],
      { permissions: PERMISSIONS, stdin: "piped" },
    );
    await waitForText(run, "Proceed? [y/N]");
    run.child.kill("SIGINT");
    const result = await run.finished;
    await run.closeStdin();
    assert.equal(result.code, 130, result.stderr);
    assert.match(
      lines(result.stderr).at(-1)!,
      /^dsgen: Interrupted by SIGINT: nothing was created$/,
    );
    assert.deepEqual(await entriesOf(out), []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

function waitForText(run: RunningCli, text: string): Promise<true> {
  return waitFor(
    `"${text}" on stderr`,
    () => Promise.resolve(run.stderrSoFar().includes(text) ? true : undefined),
    run,
  );
}

Deno.test("SIGKILL leaves no version; the next run removes the leftovers and says so", async () => {
  const out = await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  try {
    await generateVersion(out, 1);
    const before = await versionChecksums(datasetDir);
    const run = startCli(generateArgs(out, LONG_RUN_IMAGES, ["--seed", "2"]), {
      permissions: PERMISSIONS,
    });
    const staging = await waitForGrowingArchive(datasetDir, run);
    run.child.kill("SIGKILL");
    const killed = await run.finished;
    assert.equal(killed.signal, "SIGKILL");

    // What is left never looks like a version: a hidden folder, without metadata.json.
    const left = await entriesOf(datasetDir);
    assert.equal(left.filter((name) => VERSION_LIKE_NAME.test(name)).length, 1);
    assert.deepEqual(left.filter((name) => STAGING_NAME.test(name)), [".v0002.staging"]);
    assert.ok(!(await entriesOf(staging)).includes("metadata.json"));
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [1]);

    const next = await runCli(generateArgs(out, 100, ["--seed", "4"]), {
      permissions: PERMISSIONS,
    });
    assert.equal(next.code, 0, next.stderr);
    const said = lines(next.stderr);
    assert.equal(said.length, 1, next.stderr);
    assert.match(
      said[0]!,
      new RegExp(
        `^Removed \\.v0002\\.staging: an unfinished version left by process ${run.child.pid} ` +
          `\\(started [^)]+\\) that is no longer running$`,
      ),
    );
    await assertNoStaging(datasetDir);
    // The killed run's number was never published, so it is free again.
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [1, 2]);
    await assertUntouched(datasetDir, before);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a run leaves the staging folder of a live run alone", async () => {
  const out = await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  try {
    const long = startCli(generateArgs(out, LONG_RUN_IMAGES, ["--seed", "5", "--workers", "1"]), {
      permissions: PERMISSIONS,
    });
    const staging = await waitForGrowingArchive(datasetDir, long);
    const short = await runCli(generateArgs(out, 100, ["--seed", "6"]), {
      permissions: PERMISSIONS,
    });
    assert.equal(short.code, 0, short.stderr);
    assert.deepEqual(lines(short.stderr), []);
    assert.match(short.stdout, /\/v0002-\d{8}T\d{6}Z\n$/);
    // Still there, and still being written.
    const size = (await Deno.stat(join(staging, "dataset.npz"))).size;
    await waitFor("the live run to go on writing", async () => {
      const now = (await Deno.stat(join(staging, "dataset.npz"))).size;
      return now > size ? true : undefined;
    }, long);
    long.child.kill("SIGINT");
    assert.equal((await long.finished).code, 130);
    await assertNoStaging(datasetDir);
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [2]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("concurrent runs into one dataset all finish, with distinct, contiguous numbers", async () => {
  const out = await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  const runAtOnce = async (seeds: number[]) => {
    const results = await Promise.all(
      seeds.map((seed) =>
        runCli(generateArgs(out, 2000, ["--seed", String(seed)]), { permissions: PERMISSIONS })
      ),
    );
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
    }
    return results.map((result) => Number(/\/v(\d{4})-[^/]+\n$/.exec(result.stdout)?.[1]));
  };
  try {
    // Into a dataset folder that does not exist yet: the runs also race to create it.
    assert.deepEqual((await runAtOnce([11, 12, 13, 14])).toSorted(), [1, 2, 3, 4]);
    const before = await versionChecksums(datasetDir);
    assert.deepEqual((await runAtOnce([15, 16])).toSorted(), [5, 6]);
    const versions = await listVersions(datasetDir);
    assert.deepEqual(versions.map((version) => version.number), [1, 2, 3, 4, 5, 6]);
    for (const version of versions) {
      const metadata = JSON.parse(await Deno.readTextFile(join(version.path, "metadata.json")));
      assert.equal(metadata.version, version.number);
      assert.equal(metadata.version_id, version.id);
    }
    await assertNoStaging(datasetDir);
    await assertUntouched(datasetDir, before);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a version folder made by hand is skipped past and never written into", async () => {
  const out = await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  try {
    await Deno.mkdir(join(datasetDir, "v0001-20200101T000000Z"), { recursive: true });
    await Deno.writeTextFile(join(datasetDir, "v0001-20200101T000000Z", "README"), "mine\n");
    await Deno.mkdir(join(datasetDir, "v0002"));
    const before = await versionChecksums(datasetDir);
    const result = await runCli(generateArgs(out, 100, ["--seed", "1"]), {
      permissions: PERMISSIONS,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\/v0003-\d{8}T\d{6}Z\n$/);
    assert.deepEqual(await entriesOf(join(datasetDir, "v0002")), []);
    assert.deepEqual(await entriesOf(join(datasetDir, "v0001-20200101T000000Z")), ["README"]);
    await assertUntouched(datasetDir, before);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name: "a disk that fills up mid-run: exit code 1, partial files removed, versions untouched",
  ignore: noTmpfs !== undefined,
  async fn() {
    await using disk = await mountSmallDisk(128 * 1024 * 1024);
    const datasetDir = join(disk.path, "data");
    await generateVersion(disk.path, 1);
    const before = await versionChecksums(datasetDir);
    // The dataset fits when the run checks; another file takes the room while it writes.
    const run = startCli(generateArgs(disk.path, LONG_RUN_IMAGES, ["--seed", "2"]), {
      permissions: PERMISSIONS,
    });
    await waitForGrowingArchive(datasetDir, run);
    await fillDisk(join(disk.path, "filler"));
    const result = await run.finished;
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(lines(result.stderr).length, 1, result.stderr);
    assert.match(
      result.stderr,
      /^dsgen: Cannot write to .*: no space left on the disk; the unfinished version was removed, earlier versions are untouched\n$/,
    );
    await assertNoStaging(datasetDir);
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [1]);
    await assertUntouched(datasetDir, before);
  },
});

// --- nothing lost -----------------------------------------------------------------------------

Deno.test("every fault against one dataset leaves its earlier versions byte-identical", async (t) => {
  // On a small real disk when possible, so that the full-disk and read-only faults hit the
  // same dataset as the others.
  const disk = noTmpfs === undefined ? await mountSmallDisk(192 * 1024 * 1024) : undefined;
  const out = disk?.path ?? await Deno.makeTempDir();
  const datasetDir = join(out, "data");
  const cli = (args: string[]) => runCli(args, { permissions: PERMISSIONS });
  try {
    // At once, into a dataset folder that does not exist yet: the runs race to create it.
    await settleAll([1, 2, 3].map((seed) => generateVersion(out, seed)));
    const before = await versionChecksums(datasetDir);
    assert.equal(before.size, 6); // dataset.npz and metadata.json of three versions
    const check = async () => {
      await assertUntouched(datasetDir, before);
      await assertNoStaging(datasetDir);
    };

    await t.step("bad input", async () => {
      for (const bad of [["--seed", "x"], ["--name", ".."], ["--workers", "0"], ["--bogus"]]) {
        const result = await cli([...generateArgs(out, 100), ...bad]);
        assert.equal(result.code, 2, result.stderr);
      }
      await check();
    });

    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      await t.step(`${signal} mid-run`, async () => {
        const run = startCli(generateArgs(out, LONG_RUN_IMAGES), { permissions: PERMISSIONS });
        await waitForGrowingArchive(datasetDir, run);
        run.child.kill(signal);
        assert.equal((await run.finished).code, signal === "SIGINT" ? 130 : 143);
        await check();
      });
    }

    await t.step("SIGKILL mid-run, then a run that cleans up", async () => {
      const run = startCli(generateArgs(out, LONG_RUN_IMAGES), { permissions: PERMISSIONS });
      await waitForGrowingArchive(datasetDir, run);
      run.child.kill("SIGKILL");
      await run.finished;
      await assertUntouched(datasetDir, before);
      const next = await cli(generateArgs(out, 100, ["--seed", "4"]));
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /^Removed \.v0004\.staging: /);
      await check();
    });

    await t.step("a dataset larger than the disk", async () => {
      // Half a petabyte: larger than any disk this runs on.
      const huge = ["--image-size", "256", "--dtype", "float64"];
      const result = await cli(generateArgs(out, 1_000_000_000, huge));
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /the dataset needs .* free/);
      await check();
    });

    await t.step("a write fault inside the run", async () => {
      const error = await runGenerate(generateOptions(out, 5000), {
        ...recordingConsole(),
        writeDataset: failingWriter(systemError("No space left on device (os error 28)", "ENOSPC")),
      }).catch((e) => e);
      assert.ok(error instanceof RunError && error.exitCode === 1, String(error));
      await check();
    });

    await t.step({
      name: "the disk filling up mid-run",
      ignore: disk === undefined,
      fn: async () => {
        const run = startCli(generateArgs(out, LONG_RUN_IMAGES), { permissions: PERMISSIONS });
        await waitForGrowingArchive(datasetDir, run);
        const filler = join(out, "filler");
        await fillDisk(filler);
        const result = await run.finished;
        await Deno.remove(filler);
        assert.equal(result.code, 1, result.stderr);
        await check();
      },
    });

    await t.step({
      name: "a read-only disk",
      ignore: disk === undefined,
      fn: async () => {
        await disk!.remount("ro");
        try {
          const result = await cli(generateArgs(out, 100));
          assert.equal(result.code, 2, result.stderr);
          assert.match(result.stderr, /read-only/);
        } finally {
          await disk!.remount("rw");
        }
        await check();
      },
    });

    await t.step("concurrent runs", async () => {
      const results = await Promise.all(
        [5, 6, 7].map((seed) => cli(generateArgs(out, 1000, ["--seed", String(seed)]))),
      );
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
      ]);
      await check();
    });

    await t.step("the earlier versions still verify", async (step) => {
      const verify = await cli(["verify", "--help"]);
      if (verify.code !== 0) {
        console.log("reliability_test: `dsgen verify` does not exist yet; checksums only");
        return;
      }
      for (const version of (await listVersions(datasetDir)).slice(0, 3)) {
        await step.step(version.id, async () => {
          const result = await cli(["verify", version.path]);
          assert.equal(result.code, 0, result.stderr);
        });
      }
    });
  } finally {
    if (disk !== undefined) await disk[Symbol.asyncDispose]();
    else await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name: "runGenerate() on a disk that fills up stops the workers and removes the partial files",
  ignore: noTmpfs !== undefined,
  async fn() {
    await using disk = await mountSmallDisk(64 * 1024 * 1024);
    const datasetDir = join(disk.path, "data");
    const io = recordingConsole();
    const { result: error, started, running } = await watchWorkers(async () => {
      let settled = false;
      const run = runGenerate(generateOptions(disk.path, POOLED_RUN_IMAGES), io)
        .catch((e) => e)
        .finally(() => (settled = true));
      // Fill the disk once the archive has started: a real ENOSPC from inside the writer.
      const archive = join(datasetDir, ".v0001.staging", "dataset.npz");
      for (let size = 0; !settled;) {
        const now = await Deno.stat(archive).then((info) => info.size, () => 0);
        if (size > 0 && now > size) break;
        size = now;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await fillDisk(join(disk.path, "filler"));
      return await run;
    });
    assert.ok(error instanceof RunError, String(error));
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /no space left on the disk/);
    assert.ok(started > 0);
    assert.equal(running, 0, "render workers were left running");
    assert.deepEqual(await entriesOf(datasetDir), []);
  },
});

Deno.test("a run of splits stopped while an archive's tail is written, the next one already rendering, stops every thread and keeps nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const spec = {
      family: { name: "dsprites", options: {} },
      seed: 3,
      numImages: 2 * POOLED_RUN_IMAGES,
      imageSize: 16,
      dtype: "uint8" as const,
    };
    const splits = [
      { name: "left", where: { factor: "posX", lt: 0.5 } },
      { name: "right", where: { factor: "posX", ge: 0.5 } },
    ].map((split) => ({
      numImages: POOLED_RUN_IMAGES,
      split: { ...split, mode: "random" as const },
    }));
    for (const stop of ["after the next archive started", "in the next archive"]) {
      const controller = new AbortController();
      let archives = 0;
      const writeDataset = ((plan, path, options = {}) => {
        archives++;
        const archive = archives;
        return writeDatasetNpz(plan, path, {
          ...options,
          onSamplesWritten: async () => {
            await options.onSamplesWritten?.(); // The next archive's chunks are requested.
            if (stop === "after the next archive started") {
              controller.abort(new InterruptedError("SIGINT"));
            }
          },
          onProgress: (done) => {
            options.onProgress?.(done);
            if (stop === "in the next archive" && archive === 2) {
              controller.abort(new InterruptedError("SIGTERM"));
            }
          },
        });
      }) as typeof writeDatasetNpz;
      const { result: error, started, running } = await watchWorkers(() =>
        runDataset(spec, out, {
          name: "data",
          splits,
          signal: controller.signal,
          writeDataset,
          workers: 2,
        }).catch((e) => e)
      );
      assert.equal(started, 2, stop);
      assert.equal(running, 0, `render threads were left running (${stop})`);
      assert.ok(error instanceof InterruptedError || error instanceof RunError, String(error));
      assert.equal(archives, stop === "in the next archive" ? 2 : 1, stop);
      assert.deepEqual(await entriesOf(join(out, "data")), [], stop);
    }
    // Not stopped: both archives, from two threads started once.
    const { result, started, running } = await watchWorkers(() =>
      runDataset(spec, out, { name: "data", splits, workers: 2 })
    );
    assert.equal(started, 2);
    assert.equal(running, 0);
    assert.deepEqual(result.metadata.files?.map((file) => file.name), ["left.npz", "right.npz"]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
