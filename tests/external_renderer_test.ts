/**
 * `--generator-cmd`: the Python example through the protocol, read back by numpy and checked
 * by `verify`; a nondeterministic renderer failing `verify`; every way a renderer can
 * misbehave giving its line, leaving nothing and no process behind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { entriesOf, REPO_ROOT, runCli } from "./support/cli.ts";
import { requireNumpy, runPythonJson } from "./support/python.ts";
import { withTempDir } from "./support/folders.ts";
import { FAULTY, rendererGenerateArgs } from "./support/renderers.ts";

/**
 * The processes left with a marker after a short grace period (a renderer started through a
 * shell shim, like pyenv's, has helper subshells with the same command line for a moment).
 */
async function leftWith(marker: string): Promise<string[]> {
  for (let tries = 0; tries < 20; tries++) {
    const left = await processesWith(marker);
    if (left.length === 0) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return await processesWith(marker);
}

/**
 * The processes other than dsgen whose command line holds a marker (renderers left behind).
 * Deno reads /proc only with --allow-all, so this asks `ps`.
 */
async function processesWith(marker: string): Promise<string[]> {
  const output = await new Deno.Command("ps", { args: ["-eo", "args="], stdout: "piped" })
    .output();
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) =>
    line.includes(marker) && !line.includes("main.ts")
  );
}

Deno.test({
  name: "the Python example: numpy reads the archive, verify passes",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const run = await runCli(
        rendererGenerateArgs(out, "python3 examples/python/render.py", ["--num-images", "300"]),
      );
      assert.equal(run.code, 0, run.stderr);
      const version = run.stdout.trim();
      const found = await runPythonJson<{
        shape: number[];
        dtype: string;
        labels: number[];
        classes: string[];
        latents: string[];
        latentShape: number[];
        same: boolean;
      }>(
        `
import json, sys
import numpy as np
sys.path.insert(0, "examples/python")
from my_corpus import generate_corpus
d = np.load(sys.argv[1] + "/dataset.npz")
img, lab, lat = generate_corpus(1, np.random.SeedSequence([7, 123]))
expected = np.round(np.clip(img[0].astype(np.float64), 0, 1) * 255).astype(np.uint8)
print(json.dumps({"shape": list(d["images"].shape), "dtype": str(d["images"].dtype),
  "labels": sorted(set(d["labels"].tolist())), "classes": d["class_names"].tolist(),
  "latents": d["latent_names"].tolist(), "latentShape": list(d["latents"].shape),
  "same": bool((d["images"][123] == expected).all() and d["labels"][123] == lab[0]
               and (d["latents"][123] == lat[0]).all())}))
`,
        [version],
      );
      assert.deepEqual(found.shape, [300, 16, 16]);
      assert.equal(found.dtype, "uint8");
      assert.deepEqual(found.labels, [0, 1]);
      assert.deepEqual(found.classes, ["blob", "ring"]);
      assert.deepEqual(found.latents, ["x", "y", "width"]);
      assert.deepEqual(found.latentShape, [300, 3]);
      assert.ok(found.same, "image 123 is generate_corpus(1, SeedSequence([7, 123])) quantized");
      const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      assert.equal(metadata.renderer.command, "python3 examples/python/render.py");
      assert.equal(metadata.renderer.declared.name, "corpus");
      assert.deepEqual(metadata.spec.family.command, ["python3", "examples/python/render.py"]);
      assert.equal(metadata.generator.name, "corpus");
      const verify = await runCli([
        "verify",
        version,
        "--samples",
        "20",
        "--seed",
        "1",
        "--generator-cmd",
        "python3 examples/python/render.py",
      ]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(verify.stdout, /re-rendered byte-identical/);
    });
  },
});

Deno.test({
  name: "several renderer processes write the same archive as one",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const hashes = [];
      for (const workers of ["1", "3"]) {
        const run = await runCli(
          rendererGenerateArgs(out, `${FAULTY} ok`, [
            "--num-images",
            "60000",
            "--workers",
            workers,
            "--name",
            `w${workers}`,
          ]),
        );
        assert.equal(run.code, 0, run.stderr);
        const metadata = JSON.parse(
          await Deno.readTextFile(join(run.stdout.trim(), "metadata.json")),
        );
        assert.equal(metadata.run.workers, Number(workers));
        hashes.push(metadata.files[0].sha256);
      }
      assert.equal(hashes[0], hashes[1]);
    });
  },
});

Deno.test({
  name: "a nondeterministic renderer fails verify, naming the first differing image",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const run = await runCli(
        rendererGenerateArgs(out, `${FAULTY} nondeterministic`, ["--num-images", "50"]),
      );
      assert.equal(run.code, 0, run.stderr);
      const verify = await runCli([
        "verify",
        run.stdout.trim(),
        "--samples",
        "5",
        "--seed",
        "1",
        "--generator-cmd",
        `${FAULTY} nondeterministic`,
      ]);
      assert.equal(verify.code, 1, verify.stdout + verify.stderr);
      assert.match(
        verify.stdout + verify.stderr,
        /image #0 differs from its re-render .*: the renderer is not deterministic/,
      );
    });
  },
});

const FAILURES: { mode: string; line: RegExp; stderr?: RegExp; extra?: string[] }[] = [
  { mode: "missing", line: /cannot be started: program "no-such-renderer-\w+" not found/ },
  {
    mode: "crash",
    line: /exited with code 3 before answering request "render 7 \d+ \d+"/,
    stderr: /renderer stderr: ZeroDivisionError: division by zero/,
  },
  { mode: "short", line: /after 100 of the \d+ bytes of the payload .* \(too few bytes\)/ },
  { mode: "long", line: /announced \d+ bytes for request .*, expected \d+ \(too many bytes\)/ },
  { mode: "trailing", line: /wrote 4 bytes after its last answer \(too many bytes\)/ },
  { mode: "badheader", line: /sent a bad answer header .*starts with "OOPS"/ },
  { mode: "badhandshake", line: /sent a bad handshake: "version" is 7, expected one of 1/ },
  { mode: "nan", line: /sent pixel value NaN at image #\d+ \(row 2, column 3\)/ },
  { mode: "label", line: /sent label 5 for image #\d+, expected 0 to 1 \(2 classes\)/ },
  { mode: "error", line: /reported an error for request .*: cannot render: the GPU is gone/ },
  {
    mode: "hang",
    line: /did not answer request "render 7 \d+ \d+" within 3 s \(--generator-timeout\)/,
    stderr: /renderer stderr: renderer: stuck on a lock/,
    extra: ["--generator-timeout", "3"],
  },
  {
    mode: "silent",
    line: /sent no handshake within 3 s/,
    stderr: /renderer stderr: renderer: thinking very hard/,
    extra: ["--generator-timeout", "3"],
  },
];

for (const failure of FAILURES) {
  Deno.test({
    name: `a renderer that fails (${failure.mode}): one line, exit 1, nothing kept, no process`,
    async fn() {
      await requireNumpy();
      const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
      const command = failure.mode === "missing"
        ? `no-such-renderer-${marker.slice(7)} x`
        : `${FAULTY} ${failure.mode} ${marker}`;
      await withTempDir("dsgen_renderer_test_", async (out) => {
        const run = await runCli(
          rendererGenerateArgs(out, command, [
            "--num-images",
            "3000",
            "--name",
            "faulty",
            ...(failure.extra ?? []),
          ]),
        );
        assert.equal(run.code, 1, run.stderr);
        const [first, ...rest] = run.stderr.trimEnd().split("\n");
        assert.match(first!, /^dsgen: Renderer "/);
        assert.match(first!, failure.line);
        assert.ok(rest.every((line) => line.startsWith("  renderer stderr: ")), run.stderr);
        if (failure.stderr !== undefined) assert.match(run.stderr, failure.stderr);
        assert.equal(run.stdout, "");
        assert.deepEqual(await entriesOf(join(out, "faulty")), []);
        assert.deepEqual(await leftWith(marker), []);
      });
    },
  });
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test({
    name: `${signal} mid-run stops every renderer process and keeps nothing`,
    async fn() {
      await requireNumpy();
      const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
      await withTempDir("dsgen_renderer_test_", async (out) => {
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "main.ts",
            ...rendererGenerateArgs(out, `${FAULTY} ok ${marker}`, [
              // Long enough (about 18 s with two renderers) that the run is still going when a
              // slow machine's polling below sees it: 5,000,000 once finished before it did.
              "--num-images",
              "20000000",
              "--workers",
              "2",
              "--name",
              "long",
            ]),
          ],
          cwd: REPO_ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { DSGEN_DEBUG: "", NO_COLOR: "1" },
        }).spawn();
        const output = child.output();
        // Wait until both renderers run and the archive is being written.
        for (let tries = 0; tries < 200; tries++) {
          const staging = (await entriesOf(join(out, "long"))).find((name) => name.startsWith("."));
          if ((await processesWith(marker)).length >= 2 && staging !== undefined) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.ok((await processesWith(marker)).length >= 2);
        child.kill(signal);
        const result = await output;
        const stderr = new TextDecoder().decode(result.stderr);
        assert.equal(result.code, code, stderr);
        assert.match(
          stderr,
          new RegExp(`^dsgen: Interrupted by ${signal}: the unfinished version was removed`),
        );
        assert.deepEqual(await entriesOf(join(out, "long")), []);
        assert.deepEqual(await leftWith(marker), []);
      });
    },
  });
}

Deno.test({
  name: "--shards with --generator-cmd: slices in any order merge into the single-run archive",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const args = (extra: string[]) =>
        rendererGenerateArgs(out, `${FAULTY} ok`, [
          "--num-images",
          "30000",
          "--workers",
          "2",
          ...extra,
        ]);
      const single = await runCli(args(["--name", "single"]));
      assert.equal(single.code, 0, single.stderr);
      let merged = "";
      for (const index of ["2", "0", "1"]) {
        const run = await runCli(
          args(["--name", "sharded", "--shards", "3", "--shard-index", index, "--run-id", "r"]),
        );
        assert.equal(run.code, 0, run.stderr);
        merged = run.stdout.trim();
      }
      assert.deepEqual(await entriesOf(join(out, "sharded")), [merged.split("/").at(-1)!]);
      const sha = async (version: string) =>
        JSON.parse(await Deno.readTextFile(join(version, "metadata.json"))).files[0].sha256;
      assert.equal(await sha(merged), await sha(single.stdout.trim()));
      const verify = await runCli([
        "verify",
        merged,
        "--samples",
        "10",
        "--seed",
        "4",
        "--generator-cmd",
        `${FAULTY} ok`,
      ]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  },
});

Deno.test({
  name: "a renderer failing in a slice removes the slice's partial files and its processes",
  async fn() {
    await requireNumpy();
    const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const run = await runCli(rendererGenerateArgs(out, `${FAULTY} crash ${marker}`, [
        "--num-images",
        "30000",
        "--name",
        "sharded",
        "--shards",
        "2",
        "--shard-index",
        "1",
        "--run-id",
        "r",
      ]));
      assert.equal(run.code, 1, run.stderr);
      assert.match(
        run.stderr,
        /^dsgen: Renderer ".*" exited with code 3 .*partial files were removed/,
      );
      assert.deepEqual(await entriesOf(join(out, "sharded", ".run-r")), ["plan.json"]);
      assert.deepEqual(await leftWith(marker), []);
    });
  },
});

Deno.test({
  name: "bad --generator-cmd flags are usage errors (exit 2) and create nothing",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const cases: [string[], RegExp][] = [
        [
          ["--generator-cmd", `${FAULTY} ok`, "--generator", "shapes"],
          /^dsgen: Cannot use "--generator" value "shapes" with "--generator-cmd"/,
        ],
        [
          ["--generator-timeout", "5"],
          /^dsgen: Cannot use "--generator-timeout" value "5" without "--generator-cmd"/,
        ],
        [
          ["--generator-cmd", "python3 'x"],
          /^dsgen: Cannot use "--generator-cmd" value "python3 'x": a single quote is not closed/,
        ],
        [
          ["--generator-cmd", `${FAULTY} ok`, "--generator-timeout", "0"],
          /^dsgen: Cannot use "--generator-timeout" value "0": expected an integer from 1 to/,
        ],
        [
          ["--generator-cmd", `${FAULTY} ok`, "--image-size", "32"],
          /^dsgen: Cannot use "--image-size" value "32" with renderer ".*": it declares 8x8/,
        ],
        [
          ["--generator-cmd", "python3 bench/zeros_renderer.py 16 uint8", "--dtype", "float64"],
          /^dsgen: Cannot use "--dtype" value "float64" with renderer .* declares uint8 pixels/,
        ],
      ];
      for (const [flags, message] of cases) {
        const run = await runCli([
          "generate",
          "--num-images",
          "10",
          "--output-dir",
          join(out, "data"),
          "--yes",
          ...flags,
        ]);
        assert.equal(run.code, 2, `${flags.join(" ")}: ${run.stderr}`);
        assert.match(run.stderr, message);
        assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
        assert.deepEqual(await entriesOf(out), []);
      }
    });
  },
});

Deno.test({
  name: "verify refuses a renderer that now declares another version",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const run = await runCli(rendererGenerateArgs(out, `${FAULTY} ok`, ["--num-images", "20"]));
      assert.equal(run.code, 0, run.stderr);
      const path = join(run.stdout.trim(), "metadata.json");
      const metadata = JSON.parse(await Deno.readTextFile(path));
      metadata.renderer.declared.renderer_version = "0.0";
      await Deno.writeTextFile(path, JSON.stringify(metadata));
      const verify = await runCli([
        "verify",
        run.stdout.trim(),
        "--seed",
        "1",
        "--generator-cmd",
        `${FAULTY} ok`,
      ]);
      assert.equal(verify.code, 1);
      assert.match(
        verify.stdout + verify.stderr,
        /renderer ".*" \(run in .*\) now declares renderer_version "0.1" but the dataset was made when it declared "0.0"/,
      );
    });
  },
});

Deno.test({
  name: "SIGTERM while a renderer is silent in its handshake stops it at once",
  async fn() {
    await requireNumpy();
    const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "main.ts",
          ...rendererGenerateArgs(out, `${FAULTY} silent ${marker}`, ["--num-images", "100"]),
        ],
        cwd: REPO_ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { DSGEN_DEBUG: "", NO_COLOR: "1" },
      }).spawn();
      const output = child.output();
      for (let tries = 0; tries < 200; tries++) {
        if ((await processesWith(marker)).length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const started = performance.now();
      child.kill("SIGTERM");
      const result = await output;
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 143, stderr);
      assert.match(stderr, /^dsgen: Interrupted by SIGTERM: nothing was created/);
      // Well below the 60 s handshake timeout (no timing assertion beyond that).
      assert.ok(performance.now() - started < 30_000);
      assert.deepEqual(await entriesOf(out), []);
      assert.deepEqual(await leftWith(marker), []);
    });
  },
});

Deno.test({
  name: "the library runs an external renderer from a spec with a command",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_test_", async (out) => {
      const { generateDataset } = await import("../mod.ts");
      const { path, metadata } = await generateDataset(
        {
          family: {
            name: "renderer",
            command: ["python3", "tests/renderers/faulty.py", "ok"],
            cwd: REPO_ROOT,
            options: {},
          },
          seed: 5,
          numImages: 100,
          imageSize: 0,
          dtype: "float64",
        },
        out,
        { workers: 2 },
      );
      assert.equal(metadata.generator.name, "faulty");
      assert.equal(metadata.image_size, 8);
      assert.equal(metadata.run.workers, 1); // 100 images are one request
      assert.equal(metadata.spec?.family.version, "0.1");
      assert.equal(path, join(out, "faulty8-float64", metadata.version_id));
      const verify = await runCli([
        "verify",
        path,
        "--samples",
        "5",
        "--seed",
        "1",
        "--generator-cmd",
        `${FAULTY} ok`,
      ]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  },
});
