/**
 * Renderer protocol version 2: a program declares its arrays as a sample schema and answers
 * one length-prefixed buffer per array. The handshake's checks, the answer's framing and size
 * checks, and each way a version 2 renderer can fail, with tests/renderers/v2.py.
 */

import assert from "node:assert/strict";
import { RendererError, RendererProcess } from "../src/renderer/process.ts";
import { answerBytes, answerBytesPerPixel, parseDescription } from "../src/renderer/protocol.ts";
import { estimatePeakMemory } from "../src/report/memory.ts";
import { checkAnswer } from "../src/renderer/chunks.ts";
import { join } from "node:path";
import { entriesOf, REPO_ROOT, runCli } from "./support/cli.ts";
import { requireNumpy, runPythonJson } from "./support/python.ts";
import { withTempDir } from "./support/folders.ts";
import { rendererGenerateArgs } from "./support/renderers.ts";

const V2 = ["python3", "tests/renderers/v2.py"];

const GOOD = {
  protocol: "dsgen-renderer",
  version: 2,
  capabilities: ["render"],
  name: "rgbmask",
  renderer_version: "2.0",
  arrays: [
    { name: "images", dtype: "float32", shape: [8, 8, 3], role: "image" },
    { name: "shape", dtype: "uint8", shape: [], role: "label" },
    { name: "counts", dtype: "int32", shape: [3], role: "other" },
    { name: "mask", dtype: "uint8", shape: [8, 8], role: "mask" },
  ],
  classes: ["square", "disc"],
};

function start(mode: string): Promise<RendererProcess> {
  return RendererProcess.start([...V2, mode], {
    label: `python3 tests/renderers/v2.py ${mode}`,
    timeoutSeconds: 20,
    cwd: REPO_ROOT,
  });
}

/** The RendererError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<RendererError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RendererError, String(error));
    return error;
  }
  assert.fail("expected a RendererError");
}

Deno.test("a version 2 handshake declares arrays; the image array gives the size and dtype", () => {
  const description = parseDescription(JSON.stringify(GOOD));
  assert.equal(description.protocolVersion, 2);
  assert.equal(description.imageSize, 8);
  assert.equal(description.dtype, "float32");
  assert.deepEqual(description.latents, []);
  assert.deepEqual(description.arrays.map((spec) => spec.name), [
    "images",
    "shape",
    "counts",
    "mask",
  ]);
  // Each array after its 8-byte length: 3 samples.
  assert.equal(answerBytes(description, 3), 4 * 8 + 3 * (8 * 8 * 3 * 4 + 1 + 12 + 64));
  // Classes are optional without a label array.
  const noLabel = { ...GOOD, arrays: [GOOD.arrays[0], GOOD.arrays[3]], classes: undefined };
  assert.deepEqual(parseDescription(JSON.stringify(noLabel)).classes, []);
});

Deno.test("a malformed version 2 schema names the field, the value and what is accepted", () => {
  const arrays = (change: (list: Record<string, unknown>[]) => void) => {
    const list = GOOD.arrays.map((spec) => ({ ...spec }));
    change(list);
    return { ...GOOD, arrays: list };
  };
  const bad: [unknown, RegExp][] = [
    [
      { ...GOOD, arrays: "images" },
      /"arrays": cannot use sample schema "images": expected a list/,
    ],
    [{ ...GOOD, arrays: [] }, /cannot use a sample schema of 0 arrays: expected 1 to 64/],
    [
      arrays((list) => list[2]!.dtype = "int64"),
      /cannot use dtype "int64" for sample schema array "counts": expected one of uint8, int8/,
    ],
    [
      arrays((list) => list[3]!.shape = [8, 0]),
      /shape \[8,0\] for sample schema array "mask": dimension 0 is not a positive integer/,
    ],
    [
      arrays((list) => list[0]!.role = "other"),
      /a sample schema with 0 image arrays: expected exactly one array of role image/,
    ],
    [
      arrays((list) => list[2]!.name = "mask"),
      /sample schema array name "mask" twice: expected unique names/,
    ],
    [
      arrays((list) => list[2]!.name = "class_names"),
      /declares an array named "class_names", expected other names than class_names and latent_names/,
    ],
    [
      arrays((list) => list[0]!.shape = [8, 9, 3]),
      /image "images" of shape \[8,9,3\], expected \[S, S\] or \[S, S, C\] with S from 4 to 256/,
    ],
    [
      arrays((list) => list[0]!.dtype = "int16"),
      /image "images" of dtype "int16", expected one of uint8, float32, float64/,
    ],
    [
      arrays((list) => list[1]!.dtype = "float32"),
      /label "shape" of dtype "float32", expected an integer dtype/,
    ],
    [
      { ...GOOD, classes: undefined },
      /"classes" is missing, expected a list of 1 to 65536 non-empty strings: the values of "shape"/,
    ],
    [{ ...GOOD, image_size: 8 }, /"image_size" is 8, expected no "image_size" in version 2/],
    [{ ...GOOD, dtype: "uint8" }, /"dtype" is "uint8", expected no "dtype" in version 2/],
  ];
  for (const [handshake, message] of bad) {
    assert.throws(() => parseDescription(JSON.stringify(handshake)), message);
  }
});

Deno.test({
  name: "a version 2 renderer answers one buffer per array; sample i depends only on (seed, i)",
  async fn() {
    await requireNumpy();
    const renderer = await start("ok");
    try {
      assert.equal(renderer.description.protocolVersion, 2);
      const many = await renderer.render(7, 10, 5);
      const one = await renderer.render(7, 13, 1);
      const sizes = renderer.description.arrays.map((spec) =>
        spec.shape.reduce((product, dim) => product * dim, 1) *
        (spec.dtype === "uint8" ? 1 : 4)
      );
      assert.deepEqual(many.arrays.map((bytes) => bytes.length), sizes.map((size) => 5 * size));
      for (const [index, size] of sizes.entries()) {
        assert.deepEqual(many.arrays[index]!.slice(3 * size, 4 * size), one.arrays[index]!.slice());
      }
      const context = { description: renderer.description, start: 10, label: "v2" };
      const checked = checkAnswer(many, { ...context, dtype: "uint8" });
      assert.equal(checked.arrays[0]!.length, 5 * 8 * 8 * 3); // quantized to uint8
      assert.deepEqual(checked.arrays.slice(1), many.arrays.slice(1));
      await renderer.close();
    } finally {
      await renderer.kill();
    }
  },
});

Deno.test({
  name: "a version 2 renderer's malformed schema fails its handshake in one line",
  async fn() {
    await requireNumpy();
    const error = await failure(start("badschema-dtype"));
    assert.equal(error.message.split("\n").length, 1);
    assert.match(
      error.message,
      /^Renderer "python3 tests\/renderers\/v2.py badschema-dtype" sent a bad handshake: "arrays": cannot use dtype "int64" for sample schema array "counts": expected one of uint8/,
    );
  },
});

const FAILURES: { mode: string; line: RegExp; stderr?: RegExp }[] = [
  {
    mode: "wrongsize",
    line:
      /announced 448 bytes for array "mask" in its answer to request "render 7 5 8", expected 512 \(8 samples of uint8 \[8, 8\]; too few bytes\)/,
  },
  {
    mode: "badtotal",
    line: /announced \d+ bytes for request "render 7 5 8", expected \d+ \(too many bytes\)/,
  },
  {
    mode: "crash",
    line: /exited with code 3 before answering request "render 7 5 8"/,
    stderr: /ZeroDivisionError: division by zero/,
  },
  { mode: "label", line: /sent label "shape" = 2 for sample #5, expected 0 to 1 \(2 classes\)/ },
  {
    mode: "nan",
    line: /sent factor "position" = NaN for sample #6 \(element 1\), expected a finite number/,
  },
];

for (const { mode, line, stderr } of FAILURES) {
  Deno.test({
    name: `a version 2 renderer that fails (${mode}) names what it sent and what is expected`,
    async fn() {
      await requireNumpy();
      const renderer = await start(mode);
      try {
        const first = await renderer.render(7, 0, 5);
        const description = renderer.description;
        const check = (answer: typeof first, at: number) =>
          checkAnswer(answer, {
            description,
            start: at,
            dtype: "uint8",
            label: renderer.label,
          });
        check(first, 0);
        const error = await failure(renderer.render(7, 5, 8).then((answer) => check(answer, 5)));
        assert.equal(error.message.split("\n").length, 1);
        assert.match(error.message, /^Renderer "python3 tests\/renderers\/v2.py \w+" /);
        assert.match(error.message, line);
        if (stderr !== undefined) assert.match(error.stderrTail.join("\n"), stderr);
      } finally {
        await renderer.kill();
      }
    },
  });
}

const V2_COMMAND = "python3 tests/renderers/v2.py ok";

/** `verify` of a version, re-rendering 10 samples with a command. */
function verifyArgs(version: string, command: string): string[] {
  return ["verify", version, "--samples", "10", "--seed", "1", "--generator-cmd", command];
}

/** Every array of a version, checked by numpy against the renderer's own `render`. */
async function checkArchive(version: string, numSamples: number): Promise<void> {
  const found = await runPythonJson<{ arrays: [string, number[], string][]; same: string[] }>(
    `
import json, sys
import numpy as np
sys.path.insert(0, "tests/renderers")
from v2 import render, ARRAYS
d = np.load(sys.argv[1] + "/dataset.npz")
n = int(sys.argv[2])
expected = render(7, 0, n)
expected[0] = np.round(np.clip(expected[0].astype(np.float64), 0, 1) * 255).astype(np.uint8)
same = [spec["name"] for spec, array in zip(ARRAYS, expected)
        if d[spec["name"]].dtype == array.dtype and np.array_equal(d[spec["name"]], array)]
print(json.dumps({"arrays": [[k, list(d[k].shape), str(d[k].dtype)] for k in d.files],
                  "same": same}))
`,
    [version, String(numSamples)],
  );
  assert.deepEqual(found.arrays, [
    ["images", [numSamples, 8, 8, 3], "uint8"],
    ["shape", [numSamples], "uint8"],
    ["counts", [numSamples, 3], "int32"],
    ["mask", [numSamples, 8, 8], "uint8"],
    ["position", [numSamples, 2], "float32"],
    ["class_names", [2], "<U6"],
    ["latent_names", [0], "<U1"],
  ]);
  assert.deepEqual(found.same, ["images", "shape", "counts", "mask", "position"]);
}

Deno.test({
  name: "generate through a version 2 renderer writes every declared array, as numpy reads it",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_v2_test_", async (out) => {
      const run = await runCli(
        rendererGenerateArgs(out, V2_COMMAND, ["--num-images", "10000", "--workers", "2"]),
      );
      assert.equal(run.code, 0, run.stderr);
      const version = run.stdout.trim();
      assert.match(version, /rgbmask8\/v0001-/);
      await checkArchive(version, 10000);
      const verify = await runCli(verifyArgs(version, V2_COMMAND));
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      assert.match(
        verify.stdout,
        /ok +samples +10 of 10000 samples .* re-rendered byte-identical in every array \(images, shape, counts, mask, position\)/,
      );
      // Without the command named, nothing runs: the samples are skipped.
      const unnamed = await runCli(["verify", version, "--samples", "10", "--seed", "1"]);
      assert.equal(unnamed.code, 0, unnamed.stdout + unnamed.stderr);
      assert.match(unnamed.stdout, /SKIPPED +samples/);
      const metadata = JSON.parse(await Deno.readTextFile(join(version, "metadata.json")));
      assert.equal(metadata.renderer.declared.version, 2);
      assert.deepEqual(
        metadata.renderer.declared.arrays.map((spec: { name: string }) => spec.name),
        ["images", "shape", "counts", "mask", "position"],
      );
    });
  },
});

Deno.test({
  name: "--shards with a version 2 renderer: the merge keeps every array, byte-identical",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_v2_test_", async (out) => {
      const args = (extra: string[]) =>
        rendererGenerateArgs(out, V2_COMMAND, ["--num-images", "2500", ...extra]);
      const single = await runCli(args(["--name", "single"]));
      assert.equal(single.code, 0, single.stderr);
      let merged = "";
      for (const index of ["1", "2", "0"]) {
        const run = await runCli(
          args(["--name", "sharded", "--shards", "3", "--shard-index", index, "--run-id", "r"]),
        );
        assert.equal(run.code, 0, run.stderr);
        merged = run.stdout.trim();
      }
      const sha = async (version: string) =>
        JSON.parse(await Deno.readTextFile(join(version, "metadata.json"))).files[0].sha256;
      assert.equal(await sha(merged), await sha(single.stdout.trim()));
      await checkArchive(merged, 2500);
      const verify = await runCli(verifyArgs(merged, V2_COMMAND));
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    });
  },
});

Deno.test({
  name: "a nondeterministic version 2 renderer fails verify, naming the array and element",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_v2_test_", async (out) => {
      const command = "python3 tests/renderers/v2.py nondeterministic";
      const run = await runCli(rendererGenerateArgs(out, command, ["--num-images", "50"]));
      assert.equal(run.code, 0, run.stderr);
      const verify = await runCli(verifyArgs(run.stdout.trim(), command));
      assert.equal(verify.code, 1, verify.stdout + verify.stderr);
      assert.match(
        verify.stdout,
        /FAIL +samples +counts of sample #0 differs from its re-render at 1 of 3 elements \(first at \[2\]\)/,
      );
    });
  },
});

Deno.test("a version 2 answer's RGB image is checked per channel and quantized", () => {
  const description = parseDescription(JSON.stringify({
    ...GOOD,
    arrays: [GOOD.arrays[0], GOOD.arrays[2]],
    classes: undefined,
  }));
  const pixels = new Float32Array(2 * 8 * 8 * 3).fill(0.5);
  pixels[192 + (3 * 8 + 5) * 3 + 2] = 1.5; // sample 1, row 3, column 5, channel 2
  const counts = new Uint8Array(new Int32Array([1, 2, 3, -4, 5, 6]).buffer);
  const answer = { arrays: [new Uint8Array(pixels.buffer), counts] };
  const context = { description, start: 40, dtype: "uint8" as const, label: "r" };
  assert.throws(
    () => checkAnswer(answer, context),
    /sent pixel value 1\.5 at image #41 \(row 3, column 5, channel 2\), expected a number/,
  );
  pixels[192 + (3 * 8 + 5) * 3 + 2] = 1;
  const checked = checkAnswer(answer, context);
  assert.equal(checked.arrays[0]!.length, 2 * 192);
  assert.equal(checked.arrays[0]![192 + (3 * 8 + 5) * 3 + 2], 255);
  assert.equal(checked.arrays[1], counts); // an "other" array is stored as sent
});

Deno.test("the memory estimate counts every array a version 2 renderer answers", () => {
  const description = parseDescription(JSON.stringify(GOOD));
  // Per sample: images 768, shape 1, counts 12, mask 64 bytes; over S² = 64 pixels.
  assert.equal(answerBytesPerPixel(description) * 64, 768 + 1 + 12 + 64);
  const plan = {
    numImages: 1_000_000,
    imageSize: 8,
    chunkImages: 4096,
    bytesPerPixel: 1,
    sampleBytes: 192 + 1 + 12 + 64,
    workers: 1,
    runtimeBytes: 50_000_000,
  };
  const estimate = (answerBytes: number) =>
    estimatePeakMemory({
      ...plan,
      renderers: { processes: 2, peakBytes: 30_000_000, answerBytesPerPixel: answerBytes },
    });
  const everyArray = estimate(answerBytesPerPixel(description));
  const imageOnly = estimate(4);
  assert.ok(everyArray.buffers > imageOnly.buffers);
  assert.ok(everyArray.renderers > imageOnly.renderers);
  assert.ok(everyArray.total > imageOnly.total);
});

Deno.test({
  name: "the library runs a version 2 renderer from a spec with a command",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_v2_test_", async (out) => {
      const { generateDataset } = await import("../mod.ts");
      const { path, metadata } = await generateDataset(
        {
          family: {
            name: "renderer",
            command: ["python3", "tests/renderers/v2.py", "ok"],
            cwd: REPO_ROOT,
            options: {},
          },
          seed: 7,
          numImages: 40,
          imageSize: 0,
          dtype: "uint8",
        },
        out,
      );
      assert.equal(metadata.image_size, 8);
      assert.deepEqual(metadata.arrays.map((array) => array.name), [
        "images",
        "shape",
        "counts",
        "mask",
        "position",
        "class_names",
        "latent_names",
      ]);
      await checkArchive(path, 40);
    });
  },
});

Deno.test({
  name: "--dtype float64 with a version 2 renderer is a usage error that creates nothing",
  async fn() {
    await requireNumpy();
    await withTempDir("dsgen_renderer_v2_test_", async (out) => {
      const run = await runCli(
        rendererGenerateArgs(out, V2_COMMAND, ["--num-images", "10", "--dtype", "float64"]),
      );
      assert.equal(run.code, 2, run.stderr);
      assert.match(
        run.stderr,
        /^dsgen: Cannot use "--dtype" value "float64" with renderer ".*": it declares its own arrays \(protocol version 2\), whose image is stored as uint8; expected --dtype uint8\n$/,
      );
      assert.deepEqual(await entriesOf(out), []);
    });
  },
});

const RUN_FAILURES: { mode: string; line: RegExp; stderr?: RegExp }[] = [
  {
    mode: "badschema-shape",
    line:
      /sent a bad handshake: "arrays": cannot use shape \[8,0\] for sample schema array "mask": dimension 0 is not a positive integer; nothing was created$/,
  },
  {
    mode: "wrongsize",
    line:
      /announced \d+ bytes for array "mask" in its answer to request "render 7 \d+ \d+", expected \d+ \(\d+ samples of uint8 \[8, 8\]; too few bytes\); the unfinished version was removed$/,
  },
  {
    mode: "crash",
    line: /exited with code 3 before answering request "render 7 \d+ \d+"/,
    stderr: /renderer stderr: ZeroDivisionError: division by zero/,
  },
];

for (const failure of RUN_FAILURES) {
  Deno.test({
    name:
      `generate through a version 2 renderer that fails (${failure.mode}): exit 1, nothing kept`,
    async fn() {
      await requireNumpy();
      const marker = `marker-${crypto.randomUUID().slice(0, 8)}`;
      await withTempDir("dsgen_renderer_v2_test_", async (out) => {
        const run = await runCli(
          rendererGenerateArgs(out, `python3 tests/renderers/v2.py ${failure.mode} ${marker}`, [
            "--num-images",
            "6000",
            "--name",
            "faulty",
          ]),
        );
        assert.equal(run.code, 1, run.stderr);
        const [first, ...rest] = run.stderr.trimEnd().split("\n");
        assert.match(first!, /^dsgen: Renderer "python3 tests\/renderers\/v2.py /);
        assert.match(first!, failure.line);
        assert.ok(rest.every((line) => line.startsWith("  renderer stderr: ")), run.stderr);
        if (failure.stderr !== undefined) assert.match(run.stderr, failure.stderr);
        assert.equal(run.stdout, "");
        assert.deepEqual(await entriesOf(join(out, "faulty")), []);
        assert.deepEqual(await processesWith(marker), []);
      });
    },
  });
}

/** The processes other than dsgen whose command line holds a marker (renderers left behind). */
async function processesWith(marker: string): Promise<string[]> {
  for (let tries = 0;; tries++) {
    const output = await new Deno.Command("ps", { args: ["-eo", "args="], stdout: "piped" })
      .output();
    const left = new TextDecoder().decode(output.stdout).split("\n").filter((line) =>
      line.includes(marker) && !line.includes("main.ts")
    );
    if (left.length === 0 || tries >= 20) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
