/**
 * Ownership of staging folders on NFS. There the client emulates `flock` with a POSIX lock,
 * which takes an exclusive lock only on a file open for writing. A small preload library gives
 * `flock` exactly those semantics on a local disk (the Linux NFS client's `flock` is
 * `fcntl(F_SETLK)` on the whole file), so the test runs without an NFS server. POSIX locks
 * belong to a process, so each run here is its own process, as on a cluster.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "./support/cli.ts";

const SHIM_SOURCE = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
int flock(int fd, int operation) {
  struct flock lock = {0};
  int op = operation & ~LOCK_NB;
  lock.l_whence = SEEK_SET;
  lock.l_type = op == LOCK_EX ? F_WRLCK : op == LOCK_SH ? F_RDLCK : F_UNLCK;
  int result = fcntl(fd, (operation & LOCK_NB) ? F_SETLK : F_SETLKW, &lock);
  if (result == -1 && (errno == EACCES || errno == EAGAIN)) errno = EWOULDBLOCK;
  return result;
}
`;

async function buildShim(): Promise<string | { skip: string }> {
  if (Deno.build.os !== "linux") return { skip: "the flock shim needs Linux" };
  const folder = await Deno.makeTempDir({ prefix: "dsgen_nfs_shim_" });
  await Deno.writeTextFile(join(folder, "shim.c"), SHIM_SOURCE);
  const library = join(folder, "flock_as_fcntl.so");
  try {
    const output = await new Deno.Command("gcc", {
      args: ["-shared", "-fPIC", "-O2", "-o", library, join(folder, "shim.c")],
      stderr: "piped",
    }).output();
    if (!output.success) return { skip: `gcc failed: ${new TextDecoder().decode(output.stderr)}` };
  } catch (error) {
    return { skip: `gcc is not installed (${(error as Error).message})` };
  }
  return library;
}

const shim = await buildShim();
if (typeof shim !== "string") {
  if (Deno.env.get("CI") === "true") throw new Error(`nfs_lock_test needs gcc in CI: ${shim.skip}`);
  console.log(`nfs_lock_test: skipping: ${shim.skip}`);
}

const VERSIONS = new URL("../src/store/versions.ts", import.meta.url).href;

/** Runs a snippet in a new Deno process whose flock behaves as on NFS. */
function startSnippet(code: string, library: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", `import * as versions from "${VERSIONS}";\n${code}`],
    cwd: REPO_ROOT,
    env: { LD_PRELOAD: library },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(child: Deno.ChildProcess): Promise<string> {
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.ok(output.success, stderr);
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test({
  name: "with NFS lock semantics, a dead run's staging folder is removed, a live one's kept",
  ignore: typeof shim !== "string",
  fn: async () => {
    const library = shim as string;
    const datasetDir = await Deno.makeTempDir({ prefix: "dsgen_nfs_lock_test_" });
    try {
      // The preload really gives NFS semantics: a read-only exclusive lock fails.
      const probe = await finish(startSnippet(
        `const f = await Deno.open("${VERSIONS.replace("file://", "")}", { read: true });
         console.log(await f.tryLock(true).then(() => "locked", (e) => e.code ?? e.name));`,
        library,
      ));
      assert.equal(probe, "EBADF");

      // A run that dies: it reserves a version, then the process is killed.
      const dead = startSnippet(
        `await versions.createStaging(${JSON.stringify(datasetDir)}); console.log("ready");
         setInterval(() => {}, 1000);`,
        library,
      );
      const deadOutput = dead.stdout.getReader();
      await deadOutput.read();
      dead.kill("SIGKILL");
      await dead.status;
      deadOutput.releaseLock();
      await dead.stdout.cancel();
      await dead.stderr.cancel();

      // A run that lives: it holds its staging folder while the cleanup runs.
      const live = startSnippet(
        `await versions.createStaging(${JSON.stringify(datasetDir)}); console.log("ready");
         setInterval(() => {}, 1000);`,
        library,
      );
      const liveOutput = live.stdout.getReader();
      await liveOutput.read();

      const removed = await finish(startSnippet(
        `const removed = await versions.removeStaleStaging(${JSON.stringify(datasetDir)});
         console.log(removed.map((entry) => entry.number).join(","));`,
        library,
      ));
      live.kill("SIGKILL");
      await live.status;
      liveOutput.releaseLock();
      await live.stdout.cancel();
      await live.stderr.cancel();

      assert.equal(
        removed,
        "1",
        `the dead run's folder .v0001.staging is removed (removed: "${removed}")`,
      );
      const left = [];
      for await (const entry of Deno.readDir(datasetDir)) left.push(entry.name);
      assert.deepEqual(left, [".v0002.staging"]);
    } finally {
      await Deno.remove(datasetDir, { recursive: true });
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (typeof shim === "string") Deno.removeSync(join(shim, ".."), { recursive: true });
});
