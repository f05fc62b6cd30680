import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import * as PImage from "pureimage";
import { RunError, UsageError } from "../src/cli/errors.ts";
import { parseInspectArgs, runInspect, type SnakeCaseKeys } from "../src/cli/inspect.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { generators } from "../src/generators/registry.ts";
import { renderChunk } from "../src/pipeline/render.ts";
import { quantize } from "../src/pipeline/quantize.ts";
import { cellPosition, computeGridLayout } from "../src/report/grid.ts";
import { openVersion } from "../src/store/open_version.ts";
import { inspectVersion } from "../src/validate/inspect_version.ts";
import type { QualityReport } from "../src/validate/quality.ts";
import { entriesOf, runCli } from "./support/cli.ts";
import {
  type ArchiveArrays,
  copyVersion,
  editMetadata,
  makeVersion,
  recordingConsole,
  rewriteArchive,
  temporaryFolder,
} from "./support/datasets.ts";
import { runPythonJson } from "./support/python.ts";

const SIZE = 16;
const AREA = SIZE * SIZE;

type Report = SnakeCaseKeys<QualityReport> & {
  path: string;
  sample_seed: number;
  sample_indices: number[];
  grid: { path: string; title: string; columns: number; scale: number };
};

let base: Promise<{ version: string; outputDir: string }> | undefined;
/** One 1000-image dataset (seed 42) shared by the tests that only read it. */
function baseVersion(): Promise<{ version: string; outputDir: string }> {
  base ??= makeVersion({ numImages: 1000, seed: 42 });
  return base;
}

async function readReport(version: string, folder?: string): Promise<Report> {
  const path = join(folder ?? join(version, "inspection"), "report.json");
  return JSON.parse(await Deno.readTextFile(path));
}

function verdicts(
  report: { checks: readonly { name: string; verdict: string }[] },
): Record<string, string> {
  return Object.fromEntries(report.checks.map((check) => [check.name, check.verdict]));
}

/** Runs inspect in-process; returns the report even when the run fails on a check. */
async function inspectCopy(
  edit: (arrays: ArchiveArrays) => void,
): Promise<{ version: string; report: Report; error?: unknown; out: string }> {
  const version = await copyVersion((await baseVersion()).version);
  await rewriteArchive(version, edit);
  const io = recordingConsole();
  let error: unknown;
  try {
    await runInspect({ path: version, samples: 16, seed: 1, quiet: true }, io);
  } catch (caught) {
    error = caught;
  }
  return { version, report: await readReport(version), error, out: io.out };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test("inspect passes a correct dataset and agrees with numpy on every figure", async () => {
  const { version } = await baseVersion();
  const before = await Promise.all(
    ["dataset.npz", "metadata.json"].map(async (name) =>
      sha256(await Deno.readFile(join(version, name)))
    ),
  );
  const io = recordingConsole();
  const result = await runInspect({ path: version, samples: 100, seed: 7, quiet: true }, io);
  const report = await readReport(version);

  assert.deepEqual(verdicts(report), {
    classes: "pass",
    latents: "pass",
    blank: "pass",
    saturated: "pass",
    cut: "pass",
    duplicates: "pass",
    intensity: "pass",
  });
  assert.equal(report.cut.checked, true);
  assert.equal(report.sample_seed, 7);
  assert.equal(report.sample_indices.length, 100);
  assert.equal(new Set(report.sample_indices).size, 100);
  assert.match(io.out, /^blank +PASS +0 of 1000 images all zero$/m);
  // The latent's own row carries its out-of-range count; its class rows follow.
  assert.match(io.out, /^orientation +all +\[0, 3\.14159\) +\[0\.0\d+, 3\.1\d+\] +0$/m);
  assert.match(io.out, /^ +square +\[0, 1\.5708\) +\[0\.0\d+, 1\.5\d+\] *$/m);
  assert.equal(result.reportPath, join(version, "inspection", "report.json"));

  const expected = await runPythonJson<{
    counts: number[];
    mean: number;
    std: number;
    nonzero: number;
    min: number[];
    max: number[];
  }>(
    `import json, sys, numpy as np
d = np.load(sys.argv[1])
images = d["images"].astype(np.float64); latents = d["latents"]
print(json.dumps({"counts": np.bincount(d["labels"], minlength=3).tolist(),
  "mean": images.mean(), "std": images.std(), "nonzero": float((images > 0).mean()),
  "min": latents.min(0).astype(float).tolist(), "max": latents.max(0).astype(float).tolist()}))`,
    [join(version, "dataset.npz")],
  );
  assert.deepEqual(report.classes.counts.map((entry) => entry.count), expected.counts);
  assert.ok(Math.abs(report.intensity.mean! - expected.mean) < 1e-9);
  assert.ok(Math.abs(report.intensity.std! - expected.std) < 1e-9);
  assert.ok(Math.abs(report.intensity.nonzero_fraction! - expected.nonzero) < 1e-12);
  assert.deepEqual(report.latents.map((latent) => latent.observed.min), expected.min);
  assert.deepEqual(report.latents.map((latent) => latent.observed.max), expected.max);

  // Inspecting never changes the dataset.
  const after = await Promise.all(
    ["dataset.npz", "metadata.json"].map(async (name) =>
      sha256(await Deno.readFile(join(version, name)))
    ),
  );
  assert.deepEqual(after, before);
});

Deno.test("inspect draws a 10x10 grid PNG whose cells are the captioned samples, upscaled", async () => {
  const { version } = await baseVersion();
  const out = join(await temporaryFolder(), "made", "by", "inspect");
  await runInspect({ path: version, samples: 100, seed: 3, quiet: true, out }, recordingConsole());
  const report = await readReport(version, out);
  const png = await Deno.readFile(join(out, "grid.png"));
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer);
  const width = view.getUint32(16), height = view.getUint32(20);

  const generator = generators.get("shapes").create({ imageSize: SIZE });
  const captions = report.sample_indices.map((index) => {
    const chunk = renderChunk(generator, 42, { start: index, count: 1 });
    return `#${index} ${generator.classes[chunk.labels[0]!]}`;
  });
  const layout = computeGridLayout(captions, {
    imageSize: SIZE,
    columns: report.grid.columns,
    scale: report.grid.scale,
    title: report.grid.title,
  });
  assert.equal(report.grid.columns, 10);
  assert.equal(report.grid.scale, 8);
  assert.equal(width, 2 + 10 * (SIZE * 8 + 2));
  assert.deepEqual([width, height], [layout.width, layout.height]);

  // Cells 0 and 99 show their samples' pixels, each as an 8x8 block.
  const bitmap = await PImage.decodePNGFromStream(Readable.from([png]));
  for (const cell of [0, 99]) {
    const index = report.sample_indices[cell]!;
    const pixels = quantize(renderChunk(generator, 42, { start: index, count: 1 }).pixels);
    const { x, y } = cellPosition(layout, cell);
    for (let pixel = 0; pixel < AREA; pixel++) {
      const row = Math.floor(pixel / SIZE), column = pixel % SIZE;
      for (const [dx, dy] of [[0, 0], [7, 7], [3, 5]]) {
        const rgba = bitmap.getPixelRGBA(x + column * 8 + dx!, y + row * 8 + dy!);
        const level = pixels[pixel]!;
        assert.equal(rgba >>> 0, ((level << 24) | (level << 16) | (level << 8) | 0xff) >>> 0);
      }
    }
  }
  // With --out both files go there (the folder is created), and the report names the grid.
  assert.equal(report.grid.path, join(out, "grid.png"));
});

Deno.test("inspect prints the sampling seed it drew, and a seed gives the same samples", async () => {
  const { version } = await baseVersion();
  const io = recordingConsole();
  const drawn = await runInspect({ path: version, samples: 20, quiet: true }, io);
  assert.match(io.err, new RegExp(`sampling seed ${drawn.seed} \\(drawn\\)`));
  assert.equal((await readReport(version)).sample_seed, drawn.seed);
  const again = await runInspect(
    { path: version, samples: 20, seed: drawn.seed, quiet: true },
    recordingConsole(),
  );
  assert.deepEqual(
    again.inspection.samples.map((sample) => sample.index),
    drawn.inspection.samples.map((sample) => sample.index),
  );
});

Deno.test("inspect of a dataset folder takes its newest version", async () => {
  const { version } = await baseVersion();
  const datasetDir = join(version, "..");
  const result = await runInspect(
    { path: datasetDir, samples: 4, seed: 1, quiet: true },
    recordingConsole(),
  );
  assert.equal(result.reportPath, join(version, "inspection", "report.json"));
});

Deno.test("a blank image fails the blank check and inspect exits 1", async () => {
  const version = await copyVersion((await baseVersion()).version);
  await rewriteArchive(version, (arrays) => {
    arrays.get("images")!.data.fill(0, 123 * AREA, 124 * AREA);
  });
  const result = await runCli(["inspect", version, "--seed", "1", "--quiet"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /^blank +FAIL +1 of 1000 images all zero \(e\.g\. #123\)$/m);
  assert.match(result.stdout, /^saturated +PASS/m);
  assert.match(
    result.stderr,
    /^dsgen: Inspection failed: blank \(1 check of 7\); details in .*report\.json$/m,
  );
  assert.doesNotMatch(result.stderr, /\n\s+at /);
  const report = await readReport(version);
  assert.deepEqual(report.blank, { count: 1, examples: [123] });
});

Deno.test("a saturated image and unbalanced classes fail their checks", async () => {
  const { report, error } = await inspectCopy((arrays) => {
    arrays.get("images")!.data.fill(255, 5 * AREA, 6 * AREA);
    // Most squares become ellipses, far beyond chance. (A square has more area than the
    // ellipse of the same scale, so none looks cut; a triangle would.)
    const labels = arrays.get("labels")!.data;
    for (let index = 0; index < 900; index++) if (labels[index] === 1) labels[index] = 0;
  });
  assert.ok(error instanceof RunError);
  assert.match(error.message, /Inspection failed: classes, saturated \(2 checks of 7\)/);
  assert.deepEqual(report.saturated, { count: 1, examples: [5] });
  assert.equal(verdicts(report).classes, "fail");
  assert.ok(report.classes.p_value < 1e-6);
  // The square's orientation range lies inside the ellipse's: the latents stay valid.
  assert.equal(verdicts(report).latents, "pass");
});

Deno.test("a shape cut by the frame fails the cut check, from its pixels alone", async () => {
  const { version } = await baseVersion();
  const reader = await NpzReader.open(join(version, "dataset.npz"));
  const latents = new Float32Array((await reader.readAll("latents")).slice().buffer);
  reader.close();
  // The large shape nearest the left edge.
  let target = -1;
  for (let index = 0; index < 1000; index++) {
    if (latents[index * 4]! < 0.85) continue;
    if (target < 0 || latents[index * 4 + 2]! < latents[target * 4 + 2]!) target = index;
  }
  assert.ok(latents[target * 4 + 2]! < 0.3);
  const { report, error } = await inspectCopy((arrays) => {
    const image = arrays.get("images")!.data.subarray(target * AREA, (target + 1) * AREA);
    // Slide the shape 5 pixels left: its left part falls off the frame.
    for (let row = 0; row < SIZE; row++) {
      const line = image.subarray(row * SIZE, (row + 1) * SIZE);
      line.copyWithin(0, 5);
      line.fill(0, SIZE - 5);
    }
  });
  assert.ok(error instanceof RunError);
  assert.match(error.message, /Inspection failed: cut \(1 check of 7\)/);
  assert.deepEqual(report.cut, { count: 1, examples: [target], checked: true });
  assert.equal(verdicts(report).latents, "pass");
});

Deno.test("a shape drawn from out-of-range latents fails the latents and cut checks", async () => {
  const generator = generators.get("shapes").create({ imageSize: SIZE });
  let square = -1;
  const { report } = await inspectCopy((arrays) => {
    const data = arrays.get("latents")!.data;
    const latents = new Float32Array(data.buffer, data.byteOffset, data.length / 4);
    const labels = arrays.get("labels")!.data;
    // Image 7: a large square centred at x = 0.05 of the side, far outside [0.25, 0.75).
    labels[7] = 1;
    latents.set([0.95, 0.3, 0.05, 0.5], 7 * 4);
    const pixels = new Float64Array(AREA);
    generator.render(1, latents, 7 * 4, pixels, 0);
    arrays.get("images")!.data.set(quantize(pixels), 7 * AREA);
    // The first other square gets orientation π/2 (rounded to float32, just above): the end of
    // the square's half-open range [0, π/2), though well inside the ellipse's [0, π).
    square = labels.findIndex((label, index) => label === 1 && index !== 7);
    latents[square * 4 + 1] = Math.PI / 2;
  });
  assert.equal(verdicts(report).latents, "fail");
  const posX = report.latents.find((latent) => latent.name === "pos_x")!;
  assert.equal(posX.out_of_range, 1);
  assert.deepEqual(posX.out_of_range_examples, [7]);
  assert.equal(report.latents.find((latent) => latent.name === "scale")!.out_of_range, 0);
  const orientation = report.latents.find((latent) => latent.name === "orientation")!;
  assert.deepEqual(orientation.out_of_range_examples, [square]);
  assert.equal(orientation.per_class![1]!.observed.max, Math.fround(Math.PI / 2));
  assert.deepEqual(report.cut.examples, [7]);
});

Deno.test("duplicate images are counted exactly and only warn", async () => {
  const { report, error } = await inspectCopy((arrays) => {
    const images = arrays.get("images")!.data;
    images.copyWithin(20 * AREA, 10 * AREA, 11 * AREA);
    images.copyWithin(30 * AREA, 10 * AREA, 11 * AREA);
  });
  assert.equal(error, undefined);
  assert.deepEqual(report.duplicates, { count: 2, groups: 1, examples: [[10, 20], [10, 30]] });
  assert.equal(verdicts(report).duplicates, "warn");
});

Deno.test("the report does not depend on the chunk size", async () => {
  const { version } = await baseVersion();
  const opened = await openVersion(version);
  const whole = await inspectVersion(opened, { samples: 5, seed: 2 });
  const odd = await inspectVersion(opened, { samples: 5, seed: 2, chunkBytes: 7 * AREA });
  const single = await inspectVersion(opened, { samples: 5, seed: 2, chunkBytes: 1 });
  assert.deepEqual(odd.report, whole.report);
  assert.deepEqual(single.report, whole.report);
  assert.deepEqual(odd.samples, whole.samples);
});

Deno.test("a float64 dataset is inspected in its own unit", async () => {
  const { version } = await makeVersion({ numImages: 1000, seed: 42, dtype: "float64" });
  const result = await runInspect(
    { path: version, samples: 9, seed: 1, quiet: true },
    recordingConsole(),
  );
  const report = result.inspection.report;
  assert.deepEqual(Object.values(verdicts(report)), new Array(7).fill("pass"));
  assert.equal(report.intensity.fullValue, 1);
  assert.equal(report.intensity.max, 1);
  assert.equal(result.inspection.samples[0]!.pixels.length, AREA);
  // The uint8 dataset of the same seed holds the same images, quantized: each pixel moves by
  // at most half a level, and coverage (a multiple of 1/16) never quantizes to 0.
  const uint8 = (await readReport((await baseVersion()).version)).intensity;
  assert.ok(Math.abs(report.intensity.mean! * 255 - uint8.mean!) <= 0.5);
  assert.equal(report.intensity.nonzeroFraction, uint8.nonzero_fraction);
});

Deno.test("bad input gives one line and exit 1: truncated archive, missing path, no version, bad metadata, wrong dtype", async () => {
  const { version } = await baseVersion();
  const truncated = await copyVersion(version);
  const archive = join(truncated, "dataset.npz");
  const bytes = await Deno.readFile(archive);
  await Deno.writeFile(archive, bytes.subarray(0, 100_000));
  const cli = await runCli(["inspect", truncated, "--quiet"]);
  assert.equal(cli.code, 1);
  assert.match(
    cli.stderr,
    /^dsgen: Cannot read .*dataset\.npz: its zip end record is missing: the file is truncated or no zip archive$/m,
  );
  assert.doesNotMatch(cli.stderr, /\n\s+at |unexpected/);

  const cases: [string, RegExp][] = [
    [
      join(await temporaryFolder(), "missing"),
      /^Cannot find .*missing: expected a version or dataset folder$/,
    ],
    [
      await temporaryFolder(),
      /is no dsgen version folder \(no metadata\.json\) and no dataset folder/,
    ],
  ];
  const badMetadata = await copyVersion(version);
  await Deno.writeTextFile(join(badMetadata, "metadata.json"), '{"seed": 42,');
  cases.push([badMetadata, /^Cannot parse .*metadata\.json: /]);
  const wrongDtype = await copyVersion(version);
  await rewriteArchive(wrongDtype, (arrays) => {
    const images = arrays.get("images")!;
    arrays.set("images", {
      header: { ...images.header, descr: "<f4" },
      data: new Uint8Array(images.data.length * 4),
    });
  });
  cases.push([
    wrongDtype,
    // The archive's header against metadata.json's claim, before anything is read.
    /metadata\.json says dtype uint8 but dataset\.npz's images are <f4$/,
  ]);
  const badGenerator = await copyVersion(version);
  await editMetadata(badGenerator, (metadata) => void (metadata.generator = "shapes" as never));
  cases.push([badGenerator, /generator is "shapes", expected a JSON object/]);
  for (const [path, pattern] of cases) {
    await assert.rejects(
      runInspect({ path, samples: 4, seed: 1, quiet: true }, recordingConsole()),
      (error: Error) => {
        assert.ok(error instanceof RunError, `${path}: ${error.name}: ${error.message}`);
        assert.equal(error.exitCode, 1);
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
  }
});

Deno.test("inspect flags: bad values are usage errors (exit 2), --help works", async () => {
  assert.deepEqual(parseInspectArgs(["v", "--scale", "4", "--out", "g", "-q"]), {
    path: "v",
    samples: 100,
    scale: 4,
    out: "g",
    quiet: true,
  });
  // Relative paths mean the caller's folder (INIT_CWD under deno task), for PATH and --out.
  assert.deepEqual(
    parseInspectArgs(["v", "--out", "g", "--samples", "1e2"], { callerDir: "/home/me" }),
    { path: "/home/me/v", samples: 100, out: "/home/me/g", quiet: false },
  );
  assert.equal(parseInspectArgs(["--help"]), "help");
  const bad: [string[], RegExp][] = [
    [
      ["v", "--samples", "0"],
      /^Cannot use "--samples" value "0": expected an integer from 1 to 10000$/,
    ],
    [["v", "--samples", "ten"], /^Cannot parse "--samples" value "ten": expected an integer/],
    [["v", "--scale", "65"], /^Cannot use "--scale" value "65": expected an integer from 1 to 64$/],
    [["v", "--seed", "-1"], /^Cannot parse "--seed" value "-1"|Missing value for "--seed"/],
    [["v", "--seed", "4294967296"], /^Cannot use "--seed" value "4294967296"/],
    [["v", "--colour"], /^Unknown flag "--colour" for "dsgen inspect"/],
    [[], /^Missing PATH for "dsgen inspect"/],
    [["a", "b"], /^Unexpected argument "b" for "dsgen inspect"/],
  ];
  for (const [args, pattern] of bad) {
    assert.throws(() => parseInspectArgs(args), (error: Error) => {
      assert.ok(error instanceof UsageError, args.join(" "));
      assert.match(error.message, pattern);
      return true;
    });
  }
  const cli = await runCli(["inspect", "somewhere", "--scale", "0"]);
  assert.equal(cli.code, 2);
  assert.equal(
    cli.stderr.trim(),
    'dsgen: Cannot use "--scale" value "0": expected an integer from 1 to 64',
  );
  const help = await runCli(["inspect", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: dsgen inspect PATH/);
});

Deno.test("report.json writes every key in snake_case", async () => {
  const { version } = await baseVersion();
  await runInspect({ path: version, samples: 4, seed: 1, quiet: true }, recordingConsole());
  const keys: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== "object") return;
    for (const [key, item] of Object.entries(value)) {
      keys.push(key);
      walk(item);
    }
  };
  const report = await readReport(version);
  walk(report);
  assert.deepEqual(keys.filter((key) => !/^[a-z0-9_]+$/.test(key)), []);
  assert.equal(report.num_images, 1000);
  assert.equal(report.sample_seed, 1);
});

/**
 * A tmpfs mounted for the test, to be remounted read-only: root ignores permission bits, so a
 * read-only mount is the way to see what a shared, read-only dataset does. Undefined (with the
 * reason printed) where mounting is not allowed.
 */
async function mountTmpfs(): Promise<{ path: string; readOnly(): Promise<void> } | undefined> {
  const path = await temporaryFolder();
  const run = async (args: string[]) => {
    const output = await new Deno.Command("mount", { args, stdout: "null", stderr: "piped" })
      .output().catch((error: Error) => ({ success: false, stderr: error.message }));
    if (!output.success) {
      const stderr = output.stderr;
      throw new Error(typeof stderr === "string" ? stderr : new TextDecoder().decode(stderr));
    }
  };
  try {
    await run(["-t", "tmpfs", "-o", "size=16m", "tmpfs", path]);
  } catch (error) {
    console.log(`skipped: cannot mount a tmpfs to make a read-only version: ${error}`);
    return undefined;
  }
  globalThis.addEventListener("unload", () => {
    new Deno.Command("umount", { args: [path] }).outputSync();
    Deno.removeSync(path, { recursive: true });
  });
  return { path, readOnly: () => run(["-o", "remount,ro", path]) };
}

Deno.test("inspect of a read-only version: one line suggesting --out (exit 1); --out works", async () => {
  const mount = await mountTmpfs();
  if (mount === undefined) return;
  const { version } = await makeVersion({ outputDir: mount.path, numImages: 200 });
  await mount.readOnly();

  const refused = await runCli(["inspect", version, "--seed", "1", "-q"]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.equal(
    refused.stderr,
    `dsgen: Cannot write the inspection into ${join(version, "inspection")} (read-only file ` +
      "system): pass --out DIR to write grid.png and report.json to a folder of your own\n",
  );
  assert.equal(refused.stdout, "");

  const out = join(await temporaryFolder(), "inspection-of-shared");
  const written = await runCli(["inspect", version, "--seed", "1", "-q", "--out", out]);
  assert.equal(written.code, 0, written.stderr);
  assert.deepEqual(await entriesOf(out), ["factors.png", "grid.png", "report.json"]);
  assert.equal((await readReport(version, out)).path, version);

  // An --out folder that cannot be written is a bad flag value: exit 2, before the long pass.
  const badOut = await runCli(["inspect", version, "--out", join(version, "mine")]);
  assert.equal(badOut.code, 2);
  assert.match(
    badOut.stderr,
    /^dsgen: Cannot use "--out" value ".*mine": cannot write in it \(read-only file system\), expected a folder dsgen can write to\n$/,
  );
  assert.deepEqual(await entriesOf(version), ["dataset.npz", "metadata.json"]);
});
