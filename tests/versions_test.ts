import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import {
  createStaging,
  discardStaging,
  listStaging,
  listVersions,
  OWNERLESS_STAGING_GRACE_MS,
  parseVersionId,
  publishStaging,
  removeStaleStaging,
  type Staging,
  versionId,
} from "../src/store/versions.ts";

const VERSION_ID = /^v\d{4,}-\d{8}T\d{6}Z$/;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function names(folder: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(folder)) found.push(entry.name);
  return found.sort();
}

async function withDatasetDir(body: (datasetDir: string) => Promise<void>): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix: "dsgen_versions_test_" });
  try {
    await body(join(folder, "shapes16"));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/**
 * A `deno` process that reserves a staging folder in `datasetDir` and prints its path; with
 * `hold`, it keeps running (and its lock held) until its stdin closes. It never publishes or
 * discards: it stands for a run that is killed, or still running.
 */
function spawnStagingOwner(datasetDir: string, hold: boolean) {
  const versions = pathToFileURL(join(import.meta.dirname!, "../src/store/versions.ts")).href;
  const script = `
import { createStaging } from ${JSON.stringify(versions)};
const staging = await createStaging(Deno.args[0]);
console.log(JSON.stringify({ path: staging.path, number: staging.number, pid: Deno.pid }));
if (Deno.args[1] === "hold") await Deno.stdin.read(new Uint8Array(1));
Deno.exit(0);
`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script, datasetDir, hold ? "hold" : "exit"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const announced = (async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The staging owner exited early: ${JSON.stringify(text)}`);
      text += value;
    }
    reader.releaseLock();
    return JSON.parse(text) as { path: string; number: number; pid: number };
  })();
  return {
    announced,
    async finish() {
      await child.stdin.close().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      return await child.status;
    },
  };
}

Deno.test("version numbers start at 1 and grow, ids read vNNNN-YYYYMMDDTHHMMSSZ", async () => {
  await withDatasetDir(async (datasetDir) => {
    assert.deepEqual(await listVersions(datasetDir), []);
    const createdAt = new Date("2026-11-25T03:12:45.678Z");
    const first = await createStaging(datasetDir);
    assert.equal(first.number, 1);
    const published1 = await publishStaging(first, createdAt);
    assert.deepEqual(published1, {
      number: 1,
      id: "v0001-20261125T031245Z",
      path: join(datasetDir, "v0001-20261125T031245Z"),
    });
    const second = await createStaging(datasetDir);
    assert.equal(second.number, 2);
    const now = new Date();
    const published2 = await publishStaging(second, now);
    assert.match(published2.id, VERSION_ID);
    assert.equal(published2.id, versionId(2, now));
    assert.deepEqual((await listVersions(datasetDir)).map((version) => version.number), [1, 2]);
    // A reserved number stays taken while its staging folder exists.
    const third = await createStaging(datasetDir);
    const fourth = await createStaging(datasetDir);
    assert.deepEqual([third.number, fourth.number], [3, 4]);
    await discardStaging(third);
    await discardStaging(fourth);
    // A version made by hand with a larger number moves the numbering past it.
    await Deno.mkdir(join(datasetDir, "v0007-20260101T000000Z"));
    const next = await createStaging(datasetDir);
    assert.equal(next.number, 8);
    await discardStaging(next);
  });
});

Deno.test("versionId and parseVersionId agree, with zero padding and past 9999", () => {
  const time = new Date("2026-01-02T03:04:05.999Z");
  assert.equal(versionId(1, time), "v0001-20260102T030405Z");
  assert.equal(versionId(42, time), "v0042-20260102T030405Z");
  assert.equal(versionId(12345, time), "v12345-20260102T030405Z");
  for (const number of [1, 9, 10, 999, 9999, 10000, 123456]) {
    const id = versionId(number, time);
    assert.match(id, VERSION_ID);
    assert.equal(parseVersionId(id), number);
  }
  for (const name of ["v1-20260102T030405Z", "v0001", "v0001-2026", ".v0001.staging", "x"]) {
    assert.equal(parseVersionId(name), undefined, name);
  }
});

Deno.test("the staging folder is hidden, owned, and gone once published", async () => {
  await withDatasetDir(async (datasetDir) => {
    const staging = await createStaging(datasetDir);
    assert.equal(basename(staging.path), ".v0001.staging");
    assert.equal(staging.datasetDir, datasetDir);
    const owner = JSON.parse(await Deno.readTextFile(join(staging.path, "owner.json")));
    assert.equal(owner.pid, Deno.pid);
    assert.equal(owner.host, hostname());
    assert.ok(Math.abs(Date.parse(owner.startedAt) - Date.now()) < 60_000);
    assert.deepEqual(await listVersions(datasetDir), []);
    assert.deepEqual(await listStaging(datasetDir), [
      { number: 1, path: staging.path, owner },
    ]);
    await Deno.writeTextFile(join(staging.path, "dataset.npz"), "data");
    const version = await publishStaging(staging, new Date());
    assert.equal(await exists(staging.path), false);
    assert.deepEqual(await names(version.path), ["dataset.npz"]);
    assert.equal(await Deno.readTextFile(join(version.path, "dataset.npz")), "data");
    assert.deepEqual(await names(datasetDir), [version.id]);
    assert.deepEqual(await listStaging(datasetDir), []);
  });
});

Deno.test("discardStaging removes the folder, and a missing one is no error", async () => {
  await withDatasetDir(async (datasetDir) => {
    const staging = await createStaging(datasetDir);
    await Deno.writeTextFile(join(staging.path, "partial"), "x");
    await discardStaging(staging);
    assert.deepEqual(await names(datasetDir), []);
    await discardStaging(staging);
    await discardStaging({ path: join(datasetDir, ".v0099.staging") });
  });
});

Deno.test("removeStaleStaging removes the folder of a dead run and keeps live ones", async () => {
  await withDatasetDir(async (datasetDir) => {
    // A run in this very process (owner pid Deno.pid, lock held).
    const mine = await createStaging(datasetDir);
    // A run in another process that is still running.
    const live = spawnStagingOwner(datasetDir, true);
    const liveStaging = await live.announced;
    // A run in another process that ended without cleaning up (as a killed one would).
    const dead = spawnStagingOwner(datasetDir, false);
    const deadStaging = await dead.announced;
    assert.equal((await dead.finish()).code, 0);
    try {
      assert.notEqual(deadStaging.pid, Deno.pid);
      const before = await listStaging(datasetDir);
      assert.deepEqual(
        before.map((entry) => entry.owner?.pid).sort(),
        [Deno.pid, liveStaging.pid, deadStaging.pid].sort(),
      );
      const removed = await removeStaleStaging(datasetDir);
      assert.deepEqual(removed.map((entry) => entry.path), [deadStaging.path]);
      assert.equal(await exists(deadStaging.path), false);
      assert.equal(await exists(mine.path), true);
      assert.equal(await exists(liveStaging.path), true);
      // Asking again changes nothing.
      assert.deepEqual(await removeStaleStaging(datasetDir), []);
      // Once the live run ends without cleaning up, its folder is stale too.
      await live.finish();
      const later = await removeStaleStaging(datasetDir);
      assert.deepEqual(later.map((entry) => entry.path), [liveStaging.path]);
      assert.equal(await exists(mine.path), true);
      // The numbers of removed folders do not come back while a larger one is in use.
      const next = await createStaging(datasetDir);
      assert.ok(next.number > mine.number);
      await discardStaging(next);
    } finally {
      await live.finish();
      await discardStaging(mine);
    }
  });
});

Deno.test("removeStaleStaging: unlocked owner files, other hosts, folders without owner", async () => {
  await withDatasetDir(async (datasetDir) => {
    await Deno.mkdir(datasetDir, { recursive: true });
    const stage = async (number: number, owner?: object) => {
      const path = join(datasetDir, `.v${String(number).padStart(4, "0")}.staging`);
      await Deno.mkdir(path);
      if (owner !== undefined) {
        await Deno.writeTextFile(join(path, "owner.json"), JSON.stringify(owner));
      }
      return path;
    };
    const startedAt = new Date().toISOString();
    // Owner files nobody holds locked: what a run leaves when it dies (pid 2^22 + 1 is above
    // Linux's largest pid, so no process of that id runs either).
    const deadPid = await stage(1, { pid: 4194305, host: hostname(), startedAt });
    const otherHost = await stage(2, { pid: 4194305, host: `not-${hostname()}`, startedAt });
    const ownerless = await stage(3);
    const removed = await removeStaleStaging(datasetDir);
    assert.deepEqual(removed.map((entry) => entry.path), [deadPid]);
    assert.equal(await exists(otherHost), true, "another host's run is never judged");
    assert.equal(await exists(ownerless), true, "a fresh folder without owner may be starting");
    const later = Date.now() + OWNERLESS_STAGING_GRACE_MS + 1000;
    const removedLater = await removeStaleStaging(datasetDir, { now: later });
    assert.deepEqual(removedLater.map((entry) => entry.path), [ownerless]);
    assert.equal(await exists(otherHost), true);
  });
});

Deno.test("10 concurrent createStaging calls get 10 distinct numbers", async () => {
  await withDatasetDir(async (datasetDir) => {
    const stagings = await Promise.all(
      Array.from({ length: 10 }, () => createStaging(datasetDir)),
    );
    const numbers = stagings.map((staging) => staging.number).sort((a, b) => a - b);
    assert.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(new Set(stagings.map((staging) => staging.path)).size, 10);
    const createdAt = new Date();
    const versions = await Promise.all(
      stagings.map((staging) => publishStaging(staging, createdAt)),
    );
    assert.deepEqual(
      (await listVersions(datasetDir)).map((version) => version.id),
      versions.map((version) => version.id).sort(),
    );
    assert.deepEqual(await listStaging(datasetDir), []);
  });
});

Deno.test("concurrent runs that reserve and publish at once never share a number", async () => {
  await withDatasetDir(async (datasetDir) => {
    const run = async () => {
      const staging = await createStaging(datasetDir);
      await Deno.writeTextFile(join(staging.path, "dataset.npz"), String(staging.number));
      return await publishStaging(staging, new Date());
    };
    // Three processes and this one, each with several runs in flight.
    const others = Array.from({ length: 3 }, () => {
      const versions = pathToFileURL(join(import.meta.dirname!, "../src/store/versions.ts")).href;
      const script = `
import { createStaging, publishStaging } from ${JSON.stringify(versions)};
await Promise.all(Array.from({ length: 5 }, async () => {
  const staging = await createStaging(Deno.args[0]);
  await Deno.writeTextFile(staging.path + "/dataset.npz", String(staging.number));
  await publishStaging(staging, new Date());
}));
`;
      return new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-config", script, datasetDir],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    });
    const mine = await Promise.all(Array.from({ length: 5 }, run));
    for (const output of await Promise.all(others)) {
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    }
    const versions = await listVersions(datasetDir);
    assert.equal(versions.length, 20);
    assert.deepEqual(
      versions.map((version) => version.number),
      Array.from({ length: 20 }, (_, index) => index + 1),
    );
    for (const version of versions) {
      // Each run's data is in the folder of the number it reserved.
      const data = await Deno.readTextFile(join(version.path, "dataset.npz"));
      assert.equal(Number(data), version.number);
    }
    assert.ok(mine.every((version) => VERSION_ID.test(version.id)));
    assert.deepEqual(await listStaging(datasetDir), []);
  });
});

Deno.test("publishStaging refuses a target that exists, and touches neither folder", async () => {
  await withDatasetDir(async (datasetDir) => {
    const createdAt = new Date("2026-03-04T05:06:07Z");
    for (const kind of ["empty folder", "file"] as const) {
      const staging: Staging = await createStaging(datasetDir);
      const target = join(datasetDir, versionId(staging.number, createdAt));
      if (kind === "file") await Deno.writeTextFile(target, "mine");
      else await Deno.mkdir(target);
      await Deno.writeTextFile(join(staging.path, "dataset.npz"), "data");
      await assert.rejects(
        () => publishStaging(staging, createdAt),
        (error: unknown) => error instanceof Error && error.message.includes("already exists"),
        kind,
      );
      if (kind === "file") assert.equal(await Deno.readTextFile(target), "mine");
      else assert.deepEqual(await names(target), []);
      assert.deepEqual(await names(staging.path), ["dataset.npz", "owner.json"]);
      // Still owned by this live process: no cleanup may take it.
      assert.deepEqual(await removeStaleStaging(datasetDir), []);
      await discardStaging(staging);
      assert.equal(await exists(staging.path), false);
      await Deno.remove(target, { recursive: true });
    }
  });
});

Deno.test("listVersions ignores junk folders, files and staging folders", async () => {
  await withDatasetDir(async (datasetDir) => {
    await Deno.mkdir(datasetDir, { recursive: true });
    const real = ["v0001-20260101T000000Z", "v0010-20260102T000000Z", "v0003-20251231T235959Z"];
    for (const name of real) await Deno.mkdir(join(datasetDir, name));
    const junkFolders = [
      "notes",
      "v1-20260101T000000Z",
      "v0002",
      "v0004-2026",
      "v0005-20260101T000000Z.bak",
      "V0006-20260101T000000Z",
      ".v0008.staging",
      "v0009-20260101T000000z",
    ];
    for (const name of junkFolders) await Deno.mkdir(join(datasetDir, name));
    await Deno.writeTextFile(join(datasetDir, "v0011-20260101T000000Z"), "a file, not a version");
    await Deno.writeTextFile(join(datasetDir, "README"), "notes");
    // Made by hand: no version, but it claims its number, as the store documents.
    await Deno.mkdir(join(datasetDir, "v0020-old"));
    const versions = await listVersions(datasetDir);
    assert.deepEqual(versions, [
      { number: 1, id: real[0], path: join(datasetDir, real[0]!) },
      { number: 3, id: real[2], path: join(datasetDir, real[2]!) },
      { number: 10, id: real[1], path: join(datasetDir, real[1]!) },
    ]);
    assert.deepEqual((await listStaging(datasetDir)).map((entry) => entry.number), [8]);
    // A new number passes every entry that looks like one: the file, "v0020-old".
    const staging = await createStaging(datasetDir);
    assert.equal(staging.number, 21);
    await discardStaging(staging);
    assert.deepEqual(await listVersions(join(datasetDir, "missing")), []);
  });
});
