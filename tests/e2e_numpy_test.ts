import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { metadataProblems } from "../src/store/metadata.ts";
import { runCli } from "./support/cli.ts";
import { runPythonJson } from "./support/python.ts";

const NUM_IMAGES = 1000;
const SEED = 2024;

/**
 * What numpy sees in a version folder: every array as `np.load` returns it, and the checks that
 * need whole arrays, computed in numpy.
 */
const INSPECT = `
import hashlib, json, sys
import numpy as np

folder = sys.argv[1]
with open(f"{folder}/metadata.json") as file:
    metadata = json.load(file)
path = f"{folder}/dataset.npz"
with open(path, "rb") as file:
    sha256 = hashlib.sha256(file.read()).hexdigest()
with np.load(path, allow_pickle=False) as data:
    arrays = {key: data[key] for key in data.files}

# Every array memory-mapped in place at its recorded offset is the array np.load reads.
memmap_equal = {}
for record in metadata["arrays"]:
    mapped = np.memmap(path, dtype=np.dtype(record["dtype"]), mode="r",
                       offset=record["offset"], shape=tuple(record["shape"]))
    memmap_equal[record["name"]] = bool(np.array_equal(mapped, arrays[record["name"]])) and \
        record["offset"] % 64 == 0
    del mapped

report = {
    "keys": list(arrays),
    "memmap_equal": memmap_equal,
    "sha256": sha256,
    "arrays": {key: {"dtype": a.dtype.str, "shape": list(a.shape)} for key, a in arrays.items()},
    "class_names": arrays["class_names"].tolist(),
    "latent_names": arrays["latent_names"].tolist(),
}
images, labels, latents = arrays["images"], arrays["labels"], arrays["latents"]
size = images.shape[1]
report["labels"] = {"min": int(labels.min()), "max": int(labels.max()),
                    "counts": np.bincount(labels, minlength=3).tolist()}

# Latents against the ranges metadata.json declares, per class where it says so.
specs = metadata["generator"]["parameters"]["latents"]
classes = metadata["generator"]["parameters"]["classes"]
outside = []
spans = {}
for column, spec in enumerate(specs):
    for label, name in enumerate(classes):
        values = latents[labels == label, column]
        bounds = spec.get("perClass", {}).get(name, {"min": spec["min"], "max": spec["max"]})
        low, high = np.float32(bounds["min"]), np.float32(bounds["max"])
        bad = int(np.count_nonzero((values < low) | (values >= high)))
        if bad:
            outside.append(f"{spec['name']} of {name}: {bad} outside [{low}, {high})")
        # How much of the declared range the values cover (all of it, for uniform draws).
        spans[f"{spec['name']}/{name}"] = float((values.max() - values.min()) / (high - low))
report["latents_outside"] = outside
report["latent_spans"] = spans

values = images.astype(np.float64)
if images.dtype == np.uint8:
    values /= 255
else:
    uint8 = np.load(sys.argv[2], allow_pickle=False)
    report["float_matches_uint8"] = bool(
        np.array_equal(np.round(images * 255).astype(np.uint8), uint8["images"]))
    report["same_labels"] = bool(np.array_equal(labels, uint8["labels"]))
    report["same_latents"] = bool(np.array_equal(latents, uint8["latents"]))
report["min"] = float(images.min())
report["max"] = float(images.max())
report["has_min"] = bool((images == 0).any())
report["has_max"] = bool((images == (255 if images.dtype == np.uint8 else 1.0)).any())
report["blank_images"] = int(np.count_nonzero(values.max(axis=(1, 2)) == 0))
report["images_without_full_pixel"] = int(np.count_nonzero(values.max(axis=(1, 2)) < 1))

# Geometry: pixel (x, y) covers [x, x + 1) x [y, y + 1), so index x is centred at x + 0.5 and a
# shape centred at pos * size has its intensity centroid at index pos * size - 0.5.
rows, columns = np.mgrid[0:size, 0:size]
mass = values.sum(axis=(1, 2))
centroid_x = (values * columns).sum(axis=(1, 2)) / mass
centroid_y = (values * rows).sum(axis=(1, 2)) / mass
expected_x = latents[:, 2].astype(np.float64) * size - 0.5
expected_y = latents[:, 3].astype(np.float64) * size - 0.5
error = np.hypot(centroid_x - expected_x, centroid_y - expected_y)
radius = latents[:, 0].astype(np.float64) * 0.25 * size
area = np.select(
    [labels == 0, labels == 1, labels == 2],
    [np.pi * radius * (radius / 2), 2 * radius**2, 3 * np.sqrt(3) / 4 * radius**2])
ratio = mass / area
report["per_class"] = {
    name: {
        "centroid_error_max": float(error[labels == label].max()),
        "mass_ratio_min": float(ratio[labels == label].min()),
        "mass_ratio_max": float(ratio[labels == label].max()),
        "mass_ratio_mean": float(ratio[labels == label].mean()),
    }
    for label, name in enumerate(classes)
}
print(json.dumps(report))
`;

interface Report {
  keys: string[];
  sha256: string;
  memmap_equal: Record<string, boolean>;
  arrays: Record<string, { dtype: string; shape: number[] }>;
  class_names: string[];
  latent_names: string[];
  labels: { min: number; max: number; counts: number[] };
  latents_outside: string[];
  latent_spans: Record<string, number>;
  float_matches_uint8?: boolean;
  same_labels?: boolean;
  same_latents?: boolean;
  min: number;
  max: number;
  has_min: boolean;
  has_max: boolean;
  blank_images: number;
  images_without_full_pixel: number;
  per_class: Record<string, {
    centroid_error_max: number;
    mass_ratio_min: number;
    mass_ratio_max: number;
    mass_ratio_mean: number;
  }>;
}

/** The top-level, generator and run fields metadata.json must have. */
const METADATA_FIELDS = [
  "schema_version",
  "dataset",
  "version",
  "version_id",
  "created_at",
  "finished_at",
  "seed",
  "seed_source",
  "num_images",
  "image_size",
  "dtype",
  "generator",
  "files",
  "arrays",
  "run",
];
const RUN_FIELDS = [
  "dsgen_version",
  "deno_version",
  "v8_version",
  "os",
  "arch",
  "command_line",
  "workers",
  "chunk_images",
  "duration_seconds",
  "images_per_second",
  "memory",
];

async function checkMetadata(folder: string, report: Report, dtype: string): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const metadata: any = JSON.parse(await Deno.readTextFile(join(folder, "metadata.json")));
  assert.deepEqual(metadataProblems(metadata), []);
  for (const field of METADATA_FIELDS) assert.ok(field in metadata, field);
  for (const field of RUN_FIELDS) assert.ok(field in metadata.run, `run.${field}`);
  for (const field of ["estimated_peak_bytes", "measured_peak_bytes"]) {
    assert.ok(field in metadata.run.memory, `run.memory.${field}`);
  }
  assert.equal(metadata.schema_version, 1);
  // The default name tells the dtypes apart: a float64 baseline never joins the uint8 series.
  assert.equal(metadata.dataset, dtype === "uint8" ? "shapes16" : "shapes16-float64");
  assert.ok(Number.isInteger(metadata.run.memory.estimated_peak_bytes));
  assert.equal(metadata.version_id, folder.split("/").at(-1));
  assert.equal(metadata.version, Number(metadata.version_id.slice(1, 5)));
  assert.ok(Date.parse(metadata.created_at) <= Date.parse(metadata.finished_at));
  assert.equal(metadata.seed, SEED);
  assert.equal(metadata.seed_source, "flag");
  assert.equal(metadata.num_images, NUM_IMAGES);
  assert.equal(metadata.image_size, 16);
  assert.equal(metadata.dtype, dtype);
  assert.equal(metadata.generator.name, "shapes");
  assert.match(metadata.generator.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(metadata.generator.parameters.classes, report.class_names);
  assert.deepEqual(
    metadata.generator.parameters.latents.map((latent: { name: string }) => latent.name),
    report.latent_names,
  );
  // The recorded checksum and size are those of the file on disk, as numpy's side reads it.
  const bytes = await Deno.readFile(join(folder, "dataset.npz"));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  assert.deepEqual(metadata.files, [{ name: "dataset.npz", bytes: bytes.length, sha256 }]);
  assert.equal(report.sha256, sha256);
  // The recorded arrays are what numpy loads.
  assert.deepEqual(
    metadata.arrays.map(({ offset: _, ...array }: { offset: number }) => array),
    report.keys.map((name) => ({ name, ...report.arrays[name] })),
  );
  // Each recorded offset is 64-byte aligned and np.memmap there reads what np.load reads.
  assert.deepEqual(
    report.memmap_equal,
    Object.fromEntries(report.keys.map((name) => [name, true])),
  );
  assert.ok(metadata.run.command_line.includes(String(SEED)));
  assert.ok(metadata.run.workers >= 1);
  assert.ok(metadata.run.memory.estimated_peak_bytes > 0);
}

function checkCommon(report: Report, imagesDtype: string): void {
  assert.deepEqual(report.keys, ["images", "labels", "latents", "class_names", "latent_names"]);
  assert.deepEqual(report.arrays.images, { dtype: imagesDtype, shape: [NUM_IMAGES, 16, 16] });
  assert.deepEqual(report.arrays.labels, { dtype: "|u1", shape: [NUM_IMAGES] });
  assert.deepEqual(report.arrays.latents, { dtype: "<f4", shape: [NUM_IMAGES, 4] });
  assert.deepEqual(report.arrays.class_names, { dtype: "<U8", shape: [3] });
  assert.deepEqual(report.arrays.latent_names, { dtype: "<U11", shape: [4] });
  assert.deepEqual(report.class_names, ["ellipse", "square", "triangle"]);
  assert.deepEqual(report.latent_names, ["scale", "orientation", "pos_x", "pos_y"]);
  assert.equal(report.labels.min, 0);
  assert.equal(report.labels.max, 2);
  // Classes are drawn uniformly: each near a third of 1,000 (binomial sd ~15).
  for (const count of report.labels.counts) assert.ok(count > 250 && count < 420, `${count}`);
  assert.deepEqual(report.latents_outside, []);
  // Uniform draws over 1,000 images fill nearly all of every declared range.
  for (const [latent, span] of Object.entries(report.latent_spans)) {
    assert.ok(span > 0.9 && span <= 1, `${latent} covers ${span} of its range`);
  }
  assert.equal(report.blank_images, 0);
  // Every shape (circumradius >= 2 px) has a core of fully covered pixels.
  assert.equal(report.images_without_full_pixel, 0);
  assert.ok(report.has_min && report.has_max);
  for (const [name, stats] of Object.entries(report.per_class)) {
    // The centroid of these shapes is their centre: only sampling and rounding move it.
    assert.ok(stats.centroid_error_max < 0.25, `${name}: centroid off ${stats.centroid_error_max}`);
    // Per image within 10% (the smallest shapes are ~5 px, mostly boundary), on average
    // within 1%: a wrong radius, aspect or formula is off by far more.
    assert.ok(
      stats.mass_ratio_min > 0.9 && stats.mass_ratio_max < 1.1,
      `${name}: ${JSON.stringify(stats)}`,
    );
    assert.ok(Math.abs(stats.mass_ratio_mean - 1) < 0.01, `${name}: ${stats.mass_ratio_mean}`);
  }
}

Deno.test("numpy reads a 1,000-image dataset made by the CLI, uint8 and float64", async (t) => {
  const folder = await Deno.makeTempDir({ prefix: "dsgen_e2e_test_" });
  try {
    const common = ["--num-images", String(NUM_IMAGES), "--seed", String(SEED), "--yes", "-q"];
    const [uint8Run, float64Run] = await Promise.all([
      runCli(["generate", ...common, "--output-dir", join(folder, "uint8")]),
      runCli([
        "generate",
        ...common,
        "--output-dir",
        join(folder, "float64"),
        "--dtype",
        "float64",
      ]),
    ]);
    assert.equal(uint8Run.code, 0, uint8Run.stderr);
    assert.equal(float64Run.code, 0, float64Run.stderr);
    assert.equal(uint8Run.stderr, "");
    const uint8Folder = uint8Run.stdout.trim();
    const float64Folder = float64Run.stdout.trim();
    const [uint8, float64] = await Promise.all([
      runPythonJson<Report>(INSPECT, [uint8Folder]),
      runPythonJson<Report>(INSPECT, [float64Folder, join(uint8Folder, "dataset.npz")]),
    ]);

    await t.step("uint8: arrays, value range, latents and geometry", () => {
      checkCommon(uint8, "|u1");
      assert.equal(uint8.min, 0);
      assert.equal(uint8.max, 255);
    });
    await t.step("uint8: metadata.json describes the files numpy reads", async () => {
      await checkMetadata(uint8Folder, uint8, "uint8");
    });
    await t.step("float64: values in [0, 1] that round to the uint8 run", () => {
      checkCommon(float64, "<f8");
      assert.equal(float64.min, 0);
      assert.equal(float64.max, 1);
      assert.equal(float64.float_matches_uint8, true, "np.round(x * 255) is the uint8 run");
      assert.equal(float64.same_labels, true);
      assert.equal(float64.same_latents, true);
    });
    await t.step("float64: metadata.json describes the files numpy reads", async () => {
      await checkMetadata(float64Folder, float64, "float64");
    });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
