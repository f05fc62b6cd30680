import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNpyHeader } from "../src/format/npy.ts";
import { generators } from "../src/generators/registry.ts";
import { HEART_AREA_FACTOR } from "../src/generators/heart.ts";
import { renderImageBytes } from "../src/pipeline/render.ts";
import { checkLatentRows, renderLatentRows } from "../src/pipeline/render_latents.ts";
import { parseGenerateArgs } from "../src/cli/generate.ts";
import { UsageError } from "../src/cli/errors.ts";
import { entriesOf, runCli } from "./support/cli.ts";

const SIZES = [1, 3, 6, 40, 32, 32];
const GRID = 737_280;

function grid(imageSize = 64) {
  return generators.get("dsprites").create({ imageSize, options: { grid: true } });
}

/** The grid index of a combination, dSprites' way: the last factor varies fastest. */
function indexOf(classes: readonly number[]): number {
  return classes.reduce((index, value, factor) => index * SIZES[factor]! + value, 0);
}

function image(generator: ReturnType<typeof grid>, index: number): Uint8Array {
  return renderImageBytes({ generator, seed: 0, dtype: "uint8" }, { start: index, count: 1 });
}

Deno.test("dsprites: dSprites' factors, values and grid order", () => {
  const generator = grid();
  assert.deepEqual(generator.classes, ["square", "ellipse", "heart"]);
  assert.deepEqual(
    generator.latents.map((latent) => latent.name),
    ["color", "shape", "scale", "orientation", "posX", "posY"],
  );
  assert.deepEqual(generator.latents.map((latent) => latent.values!.length), SIZES);
  assert.equal(generator.fixedNumImages, GRID);
  const scale = generator.latents[2]!.values!;
  assert.equal(scale[0], 0.5);
  assert.equal(scale[5], 1);
  const orientation = generator.latents[3]!.values!;
  // 40 distinct steps over [0, 2π): no repeated endpoint.
  assert.equal(orientation[0], 0);
  assert.ok(Math.abs(orientation[39]! - (39 * 2 * Math.PI) / 40) < 1e-12);
  assert.equal(generator.latents[4]!.values![31], 1);
  const classes = new Int32Array(6), latents = new Float32Array(6);
  for (const index of [0, 1, 31, 32, 1023, 1024, 40959, 40960, GRID - 1, 512_345]) {
    generator.sampleClasses!(0, index, classes, 0);
    assert.equal(indexOf([...classes]), index);
    const label = generator.sample(0, index, latents, 0);
    assert.equal(label, classes[1]);
    assert.equal(latents[1], classes[1]! + 1);
    assert.equal(latents[3], Math.fround(orientation[classes[3]!]!));
  }
});

Deno.test("dsprites: a heart's 40 orientations are 40 different images", () => {
  const generator = grid();
  const seen = new Set<string>();
  for (let step = 0; step < 40; step++) {
    seen.add(image(generator, indexOf([0, 2, 3, step, 16, 9])).join(","));
  }
  assert.equal(seen.size, 40);
});

Deno.test("dsprites: squares repeat every 10 steps and ellipses every 20, byte for byte", () => {
  const generator = grid(32);
  for (const [shape, period] of [[0, 10], [1, 20]] as const) {
    for (const [scale, x, y] of [[0, 0, 0], [5, 31, 31], [2, 7, 19]] as const) {
      const distinct = new Set<string>();
      for (let step = 0; step < 40; step++) {
        const bytes = image(generator, indexOf([0, shape, scale, step, x, y])).join(",");
        distinct.add(bytes);
        if (step >= period) {
          const earlier = image(generator, indexOf([0, shape, scale, step - period, x, y]));
          assert.equal(bytes, earlier.join(","), `shape ${shape} step ${step}`);
        }
      }
      assert.equal(distinct.size, period, `shape ${shape}`);
    }
  }
  assert.deepEqual(generator.expectedDuplicates!(GRID).count, 6 * 32 * 32 * (30 + 20));
});

Deno.test("dsprites: heart mass matches its area; at posX 0.5 it is mirror symmetric", () => {
  for (const imageSize of [16, 64, 256]) {
    const generator = grid(imageSize);
    const rows = checkLatentRows(generator, [1, 3, 1, 0, 0.5, 0.5]);
    const pixels = renderLatentRows(generator, rows, { start: 0, count: 1 });
    let mass = 0;
    for (let y = 0; y < imageSize; y++) {
      for (let x = 0; x < imageSize; x++) {
        mass += pixels[y * imageSize + x]! / 255;
        assert.equal(pixels[y * imageSize + x], pixels[y * imageSize + imageSize - 1 - x]);
      }
    }
    const radius = 0.2 * imageSize;
    const area = HEART_AREA_FACTOR * radius * radius;
    // Sampling errs by at most half a sample column per unit of height (see frame_cut.ts).
    assert.ok(Math.abs(mass - area) < (4 * radius) / 4 + 1, `${imageSize}: ${mass} vs ${area}`);
  }
});

Deno.test("dsprites: random runs draw grid values from (seed, i); render reproduces them", () => {
  const generator = generators.get("dsprites").create({ imageSize: 16 });
  assert.equal(generator.fixedNumImages, undefined);
  const latents = new Float32Array(6 * 50), labels = new Uint8Array(50);
  for (let index = 0; index < 50; index++) {
    labels[index] = generator.sample(9, 1000 + index, latents, 6 * index);
  }
  const rows = checkLatentRows(generator, latents);
  assert.deepEqual(rows.labels, labels);
  const rendered = renderLatentRows(generator, rows, { start: 0, count: 50 });
  const stored = renderImageBytes({ generator, seed: 9, dtype: "uint8" }, {
    start: 1000,
    count: 50,
  });
  assert.deepEqual(rendered, stored);
});

Deno.test("generate --grid: sets the count and the family option; refuses a wrong count", () => {
  const options = parseGenerateArgs(["--generator", "dsprites", "--grid", "--output-dir", "d"]);
  assert.ok(options !== "help");
  assert.equal(options.numImages, GRID);
  assert.equal(options.imageSize, 64);
  assert.deepEqual(options.familyOptions, { grid: true });
  const again = parseGenerateArgs([
    "--generator",
    "dsprites",
    "--grid",
    "--num-images",
    String(GRID),
    "--output-dir",
    "d",
  ]);
  assert.ok(again !== "help" && again.numImages === GRID);
  assert.throws(
    () =>
      parseGenerateArgs([
        "--generator",
        "dsprites",
        "--grid",
        "--num-images",
        "1000",
        "--output-dir",
        "d",
      ]),
    (error) => error instanceof UsageError && /737280/.test(error.message),
  );
  assert.throws(
    () => parseGenerateArgs(["--generator", "dsprites", "--image-size", "8", "--output-dir", "d"]),
    /"--image-size" value "8": expected an integer from 16 to 256/,
  );
});

Deno.test("generate --grid with a wrong count exits 2 and creates nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runCli([
      "generate",
      "--generator",
      "dsprites",
      "--grid",
      "--num-images",
      "5",
      "--output-dir",
      join(dir, "out"),
      "--yes",
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /"--num-images" value "5"/);
    assert.deepEqual(await entriesOf(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function writeNpy(path: string, descr: "<f8" | "<f4", shape: number[], values: number[]) {
  const data = descr === "<f8" ? new Float64Array(values) : new Float32Array(values);
  const header = encodeNpyHeader({ descr, fortranOrder: false, shape });
  await Deno.writeFile(path, new Uint8Array([...header, ...new Uint8Array(data.buffer)]));
}

Deno.test("render: bad inputs exit 2 naming the row and column, and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const input = join(dir, "in.npy"), output = join(dir, "out.npy");
    const renderArgs = [
      "render",
      "--generator",
      "dsprites",
      "--latents",
      input,
      "--output",
      output,
    ];
    const good = [1, 1, 0.5, 0, 0, 0];
    const cases: [string, "<f8" | "<f4", number[], number[], RegExp][] = [
      ["NaN", "<f8", [2, 6], [...good, 1, 2, 0.5, NaN, 0, 0], /row 1, column 3 \(orientation\)/],
      ["shape 4", "<f4", [2, 6], [...good, 1, 4, 0.5, 0, 0, 0], /row 1, column 1 \(shape\)/],
      ["scale 2", "<f8", [1, 6], [1, 1, 2, 0, 0, 0], /row 0, column 2 \(scale\).*0\.5 to 1/],
      ["posY -1", "<f8", [1, 6], [1, 1, 1, 0, 0, -1], /row 0, column 5 \(posY\)/],
      ["5 columns", "<f8", [1, 5], [1, 1, 1, 0, 0], /expected \(N, 6\)/],
    ];
    for (const [name, descr, shape, values, pattern] of cases) {
      await writeNpy(input, descr, shape, values);
      const result = await runCli(renderArgs);
      assert.equal(result.code, 2, name);
      assert.match(result.stderr, pattern, name);
      assert.deepEqual((await entriesOf(dir)).sort(), ["in.npy"], name);
    }
    const header = encodeNpyHeader({ descr: "|u1", fortranOrder: false, shape: [1, 6] });
    await Deno.writeFile(input, new Uint8Array([...header, 1, 1, 1, 0, 0, 0]));
    const result = await runCli(renderArgs);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /dtype is \|u1, expected float32/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dsprites: random runs expect the duplicates that repeated and symmetric draws make", () => {
  const generator = generators.get("dsprites").create({ imageSize: 16 });
  const numImages = 100_000;
  const classes = new Int32Array(6);
  const seen = new Set<number>();
  let duplicates = 0;
  for (let index = 0; index < numImages; index++) {
    generator.sampleClasses!(3, index, classes, 0);
    // The pose that the image shows: the orientation within the shape's symmetry period.
    const period = [10, 20, 40][classes[1]!]!;
    const key = indexOf([
      0,
      classes[1]!,
      classes[2]!,
      classes[3]! % period,
      classes[4]!,
      classes[5]!,
    ]);
    if (seen.has(key)) duplicates++;
    else seen.add(key);
  }
  const expected = generator.expectedDuplicates!(numImages).count;
  // The count is a sum of nearly independent draws: its spread is below the square root.
  assert.ok(
    Math.abs(duplicates - expected) < 5 * Math.sqrt(expected),
    `${duplicates} vs ${expected}`,
  );
});
