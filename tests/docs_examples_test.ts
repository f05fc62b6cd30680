/**
 * Every fenced `sh` and `python` block of README.md and docs/*.md runs, against this checkout,
 * like `mdbook test` or pytest's doctests: a stale example is a failing test.
 *
 * - Each page runs in a temporary folder of its own, its blocks in order, so a block may read
 *   what an earlier block of the same page wrote (files carry over; each block is its own
 *   process, so shell and Python variables do not).
 * - A page's folder holds `examples`, a link to this checkout's examples/, as a clone does, so
 *   `python3 examples/python/render.py` works there; `deno` on the PATH is the one running the
 *   tests.
 * - `sh` blocks run in `bash -e -o pipefail` (a failing line fails the block); `python` blocks in
 *   `python3` with numpy. `dsgen` on the PATH is a shim that runs this checkout's main.ts with
 *   the flags of the `dsgen` task in deno.json, so it behaves as `deno task install` installs it.
 * - A block that cannot run here says why in its info string, e.g.
 *   `sh no-run: needs a Slurm cluster`; a reason is required. The test counts such blocks and
 *   prints the count.
 * - `python needs: torch` runs the block when `import torch` works in python3, and otherwise
 *   prints that it skipped it and why (torch is no dependency of the tests).
 * - Every fence declares its language: an empty info string fails, so that a forgotten `sh`
 *   cannot hide an example from this test. Output and other text use `text`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FencedBlock, fencedBlocks } from "../scripts/markdown.ts";
import { REPO_ROOT } from "./support/cli.ts";
import { requireNumpy } from "./support/python.ts";

/** How the block of each runnable language is run: the program and its leading arguments. */
const RUNNERS: Record<string, readonly string[]> = {
  sh: ["bash", "-e", "-o", "pipefail", "-c"],
  python: ["python3", "-c"],
};

/** Longest a single block may take before the test stops it. */
const BLOCK_TIMEOUT_MS = 60_000;

/** What the info string after the language says about running a block. */
export type RunMode =
  | { kind: "run" }
  | { kind: "no-run"; reason: string }
  | { kind: "needs"; module: string }
  | { kind: "bad"; problem: string };

/**
 * Reads the run mode from a runnable block's info string, e.g. `sh no-run: needs a cluster`.
 *
 * @param info The whole info string.
 * @returns Whether and how the block runs.
 */
export function runMode(info: string): RunMode {
  const rest = info.replace(/^\S+\s*/, "");
  if (rest === "") return { kind: "run" };
  const noRun = /^no-run(?::\s*(.*))?$/.exec(rest);
  if (noRun !== null) {
    const reason = (noRun[1] ?? "").trim();
    return reason === ""
      ? { kind: "bad", problem: "says no-run without a reason (write `no-run: why`)" }
      : { kind: "no-run", reason };
  }
  const needs = /^needs:\s*([A-Za-z_][\w.]*)$/.exec(rest);
  if (needs !== null) return { kind: "needs", module: needs[1] ?? "" };
  return { kind: "bad", problem: `has an info string this test does not know: "${info}"` };
}

/** The pages whose blocks run: README.md and every docs/*.md. */
async function pages(): Promise<string[]> {
  const names = ["README.md"];
  for await (const entry of Deno.readDir(join(REPO_ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) names.push(`docs/${entry.name}`);
  }
  return names.sort();
}

/** Writes the `dsgen` shim: this checkout's main.ts with the `dsgen` task's flags. */
async function writeShim(binFolder: string): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const words: string[] = String(config.tasks.dsgen).split(/\s+/);
  assert.deepEqual(
    [words[0], words[1], words.at(-1)],
    ["deno", "run", "main.ts"],
    `the dsgen task is no longer "deno run ... main.ts": ${config.tasks.dsgen}`,
  );
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const command = [
    Deno.execPath(),
    "run",
    "--config",
    join(REPO_ROOT, "deno.json"),
    ...words.slice(2, -1),
    join(REPO_ROOT, "main.ts"),
  ].map(quote).join(" ");
  const path = join(binFolder, "dsgen");
  await Deno.writeTextFile(path, `#!/bin/sh\nexec ${command} "$@"\n`);
  await Deno.chmod(path, 0o755);
  await Deno.symlink(Deno.execPath(), join(binFolder, "deno"));
}

const importable = new Map<string, Promise<boolean>>();

/** Whether `import <module>` works in python3 (asked once per module). */
function pythonImports(module: string): Promise<boolean> {
  let answer = importable.get(module);
  if (answer === undefined) {
    answer = new Deno.Command("python3", {
      args: ["-c", `import ${module}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output().then((output) => output.success);
    importable.set(module, answer);
  }
  return answer;
}

/** Runs one block in `cwd` and throws, with the block and its output, when it fails. */
async function runBlock(
  page: string,
  block: FencedBlock,
  options: { cwd: string; env: Record<string, string> },
): Promise<void> {
  const runner = RUNNERS[block.language] ?? [];
  const [program = "", ...args] = runner;
  const child = new Deno.Command(program, {
    args: [...args, block.code],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), BLOCK_TIMEOUT_MS);
  const output = await child.output().finally(() => clearTimeout(timer));
  if (output.success) return;
  const decoder = new TextDecoder();
  const why = output.signal === null
    ? `exited with code ${output.code}`
    : `was stopped by ${output.signal} (timeout ${BLOCK_TIMEOUT_MS / 1000} s)`;
  throw new Error(
    `${page}:${block.line}: the ${block.language} block ${why}\n` +
      `--- block ---\n${block.code}--- stdout ---\n${decoder.decode(output.stdout)}` +
      `--- stderr ---\n${decoder.decode(output.stderr)}`,
  );
}

Deno.test("runMode reads no-run reasons and needs", () => {
  assert.deepEqual(runMode("sh"), { kind: "run" });
  assert.deepEqual(runMode("sh no-run: needs a cluster"), {
    kind: "no-run",
    reason: "needs a cluster",
  });
  assert.equal(runMode("sh no-run").kind, "bad");
  assert.equal(runMode("sh no-run:  ").kind, "bad");
  assert.deepEqual(runMode("python needs: torch"), { kind: "needs", module: "torch" });
  assert.equal(runMode("python norun").kind, "bad");
});

Deno.test("every sh and python block of README.md and docs/*.md runs", async (t) => {
  await requireNumpy();
  const scratch = await Deno.makeTempDir({ prefix: "dsgen-docs-" });
  const counts = { ran: 0, noRun: 0, skipped: 0 };
  const notes: string[] = [];
  try {
    const bin = join(scratch, "bin");
    await Deno.mkdir(bin);
    await writeShim(bin);
    const env = Deno.env.toObject();
    // A `deno task test` typed elsewhere must not move the examples' relative paths.
    delete env.INIT_CWD;
    Object.assign(env, {
      PATH: `${bin}:${env.PATH ?? ""}`,
      NO_COLOR: "1",
      DSGEN_DEBUG: "",
    });

    for (const page of await pages()) {
      const text = await Deno.readTextFile(join(REPO_ROOT, page));
      const blocks = fencedBlocks(text);
      await t.step(page, async () => {
        const unlabelled = blocks.filter((block) => block.info === "");
        assert.deepEqual(
          unlabelled.map((block) => `${page}:${block.line}`),
          [],
          "every fence declares its language (`text` for output); these do not",
        );
        const cwd = join(scratch, page.replaceAll("/", "_"));
        await Deno.mkdir(cwd);
        await Deno.symlink(join(REPO_ROOT, "examples"), join(cwd, "examples"));
        for (const block of blocks) {
          if (RUNNERS[block.language] === undefined) continue;
          const mode = runMode(block.info);
          if (mode.kind === "bad") assert.fail(`${page}:${block.line}: the block ${mode.problem}`);
          if (mode.kind === "no-run") {
            counts.noRun++;
            notes.push(`  no-run  ${page}:${block.line}: ${mode.reason}`);
            continue;
          }
          if (mode.kind === "needs" && !(await pythonImports(mode.module))) {
            counts.skipped++;
            notes.push(
              `  skipped ${page}:${block.line}: needs ${mode.module}, which does not import in ` +
                "python3 here",
            );
            continue;
          }
          await runBlock(page, block, { cwd, env });
          counts.ran++;
        }
      });
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  console.log(
    `docs examples: ${counts.ran} ran, ${counts.noRun} no-run, ${counts.skipped} skipped\n` +
      notes.join("\n"),
  );
  assert.ok(counts.ran > 0, "no block ran");
});
