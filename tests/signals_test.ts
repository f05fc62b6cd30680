/**
 * One stop request, however many copies of the signal arrive: `scancel` signals the whole
 * process group and launchers (`npx`, `deno task`) forward the signal again, so a run sees it
 * two or three times within milliseconds. It must still clean up and exit with 130 (SIGINT)
 * or 143 (SIGTERM).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { REPEAT_WINDOW_MS, type SignalHost, stopOnSignals } from "../src/cli/signals.ts";
import { InterruptedError } from "../src/cli/errors.ts";
import { entriesOf, REPO_ROOT } from "./support/cli.ts";

function fakeHost(): SignalHost & {
  send(signal: "SIGINT" | "SIGTERM"): void;
  time: number;
  exits: number[];
  warnings: string[];
} {
  const handlers = new Map<string, () => void>();
  const host = {
    time: 0,
    exits: [] as number[],
    warnings: [] as string[],
    addSignalListener: (signal: string, handler: () => void) => void handlers.set(signal, handler),
    removeSignalListener: (signal: string) => void handlers.delete(signal),
    exit: (code: number) => void host.exits.push(code),
    now: () => host.time,
    warn: (line: string) => void host.warnings.push(line),
    send: (signal: string) => handlers.get(signal)?.(),
  };
  return host;
}

Deno.test("stopOnSignals: a repeat within the window is the same request", () => {
  const host = fakeHost();
  const controller = new AbortController();
  const stop = stopOnSignals(controller, host);
  host.send("SIGTERM");
  host.time = 5;
  host.send("SIGTERM"); // forwarded by a launcher
  host.time = REPEAT_WINDOW_MS - 1;
  host.send("SIGINT"); // Ctrl+C reaching the same group
  assert.ok(controller.signal.reason instanceof InterruptedError);
  assert.equal(controller.signal.reason.exitCode, 143);
  assert.deepEqual(host.exits, []);
  stop();
});

Deno.test("stopOnSignals: a later signal exits at once with the first signal's code", () => {
  const host = fakeHost();
  const controller = new AbortController();
  stopOnSignals(controller, host);
  host.send("SIGINT");
  host.time = REPEAT_WINDOW_MS + 1;
  host.send("SIGTERM");
  assert.deepEqual(host.exits, [130]);
  assert.match(host.warnings[0]!, /^dsgen: Interrupted by SIGTERM again: stopped without/);
});

Deno.test("stopOnSignals: removing the listeners leaves none", () => {
  const host = fakeHost();
  const controller = new AbortController();
  stopOnSignals(controller, host)();
  host.send("SIGINT");
  assert.equal(controller.signal.aborted, false);
});

const npxMissing = await new Deno.Command("npx", { args: ["--version"], stdout: "null" })
  .output().then(
    (output) => output.success ? undefined : "npx --version failed",
    (error) => `npx is not installed (${(error as Error).message})`,
  );
const setsidMissing = await new Deno.Command("setsid", { args: ["--version"], stdout: "null" })
  .output().then(() => undefined, () => "setsid (util-linux) is not installed");
for (const reason of [npxMissing, setsidMissing]) {
  if (reason !== undefined) {
    if (Deno.env.get("CI") === "true") throw new Error(`signals_test needs it in CI: ${reason}`);
    console.log(`signals_test: skipping a launcher case: ${reason}`);
  }
}

/** Starts a long generate through a launcher, as its own process group (as sbatch does). */
function startInGroup(launcher: string[], outputDir: string): Deno.ChildProcess {
  return new Deno.Command("setsid", {
    args: [
      ...launcher,
      "--num-images",
      "2000000",
      "--output-dir",
      outputDir,
      "--seed",
      "1",
      "--yes",
      "--quiet",
    ],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DSGEN_DEBUG: "" },
  }).spawn();
}

async function waitForArchive(datasetDir: string, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 120_000;
  while (!exited && Date.now() < deadline) {
    for (const name of await entriesOf(datasetDir)) {
      const size = await Deno.stat(join(datasetDir, name, "dataset.npz")).then(
        (info) => info.size,
        () => 0,
      );
      if (size > 0) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no archive appeared in ${datasetDir}`);
}

const launchers = [
  { name: "deno task generate", words: [Deno.execPath(), "task", "generate"], skip: undefined },
  {
    name: "npx -y deno@2.9.6 task generate",
    words: ["npx", "-y", "deno@2.9.6", "task", "generate"],
    skip: npxMissing,
  },
];
const cases = [
  {
    what: "SIGTERM twice (scancel, then the launcher forwarding it)",
    signals: ["SIGTERM", "SIGTERM"] as const,
    codes: [143],
  },
  {
    // Deno merges copies of one signal that arrive at the same instant, so a mixed pair is
    // what surely arrives as two signals before the cleanup ends: either may be seen first.
    what: "SIGTERM and SIGINT at once",
    signals: ["SIGTERM", "SIGINT"] as const,
    codes: [143, 130],
  },
];
for (const launcher of launchers) {
  for (const { what, signals, codes } of cases) {
    Deno.test({
      name: `${what} to the group of ${launcher.name}: exit ${codes.join(" or ")}, nothing left`,
      ignore: launcher.skip !== undefined || setsidMissing !== undefined,
      fn: async () => {
        const out = await Deno.makeTempDir({ prefix: "dsgen_signals_test_" });
        try {
          const child = startInGroup(launcher.words, out);
          const output = child.output();
          await waitForArchive(join(out, "shapes16"), child);
          // setsid made the launcher a group leader: its pid is the group's id. Like scancel,
          // signal the whole group.
          for (const signal of signals) {
            try {
              Deno.kill(-child.pid, signal);
            } catch {
              // The group is already gone.
            }
          }
          const result = await output;
          const stderr = new TextDecoder().decode(result.stderr);
          assert.ok(codes.includes(result.code), `exit ${result.code}: ${stderr}`);
          // A launcher reports the signal it got, which may not be the one dsgen saw first.
          const names = signals.join("|");
          assert.match(
            stderr,
            new RegExp(
              `dsgen: Interrupted by (${names}): the unfinished version was removed, ` +
                "nothing kept\\n$",
            ),
          );
          assert.doesNotMatch(stderr, /again/);
          assert.deepEqual(await entriesOf(join(out, "shapes16")), []);
        } finally {
          await Deno.remove(out, { recursive: true });
        }
      },
    });
  }
}
