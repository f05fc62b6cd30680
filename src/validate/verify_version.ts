/**
 * Verifying a version the way a careful reviewer would, in this order, stopping at the first
 * thing that differs:
 *
 * 1. `metadata`: metadata.json is complete and consistent (files, arrays, counts, dtype).
 * 2. `folder`: every file it lists exists, and the folder holds nothing else (the `inspection/`
 *    folder that `dsgen inspect` writes is ignored).
 * 3. `checksum`: every file's size and SHA-256 (streamed) match the record.
 * 4. `arrays`: every array of dataset.npz has the NPY header, dtype and shape of the record.
 * 5. `generator`: the generator is installed in the recorded version, with the recorded
 *    parameters; otherwise re-rendering cannot be trusted and is not attempted.
 * 6. `samples`: K images (the first, the last, and K - 2 drawn at random) re-rendered from the
 *    seed and their index are byte-identical to the stored ones, and so are their labels and
 *    latents, and the class and latent names. For a family with its own sample schema, every
 *    array of the schema is re-rendered and compared, sample by sample.
 *
 * A version whose family is a program (an external renderer's command, a family module) is
 * re-rendered only when the caller names that same program (`named`; see
 * `generators/named_program.ts`): metadata.json never chooses what runs. Without it, steps 5
 * and 6 are skipped (`skipped: true`), or fail with `strict`, and the other steps still run.
 * 7. `crc`: every entry's CRC-32 matches the archive's central directory.
 *
 * The CRC check comes last: after the checksum passed, it can only fail for an archive edited
 * together with its metadata.json, and then the re-rendered samples name the image that differs.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { NpzReader } from "../format/npz_reader.ts";
import type { JsonValue } from "../generators/generator.ts";
import { generators } from "../generators/registry.ts";
import {
  canonicalJson,
  createGenerator,
  type DatasetSpec,
  loadFamily,
} from "../generators/spec.ts";
import { bytesPerPixel, renderImageBytes, sampleChunk } from "../pipeline/render.ts";
import { fillSamples, viewBytes } from "../pipeline/sample_chunk.ts";
import {
  allocateChunk,
  type ArraySpec,
  bytesPerSample,
  type SampleSchema,
} from "../generators/sample_schema.ts";
import { decodeUnicodeArray, itemSize } from "../format/npy.ts";
import { checkAnswer } from "../renderer/chunks.ts";
import { RendererError, RendererProcess } from "../renderer/process.ts";
import { describedAsJson } from "../renderer/protocol.ts";
import { storedSchema } from "../renderer/generator.ts";
import {
  checkNamedProgram,
  describeProgram,
  type NamedProgram,
  quoteCommand,
  recordedProgram,
} from "../generators/named_program.ts";
import {
  ARCHIVE_FILE,
  hasClassicArrays,
  METADATA_FILE,
  type VersionMetadata,
} from "../store/metadata.ts";
import type { OpenedVersion } from "../store/open_version.ts";
import { readDatasetArrays } from "./dataset_arrays.ts";
import { drawSampleIndices } from "./sample_indices.ts";
import { arraysDisagreement } from "./metadata_agreement.ts";
import { verifySplitVersion } from "./verify_splits.ts";

/** The name of each verification step, in the order they run. */
export type VerifyStepName =
  | "metadata"
  | "folder"
  | "checksum"
  | "arrays"
  | "generator"
  | "samples"
  | "splits"
  | "crc";

/** The outcome of one step. */
export interface VerifyStep {
  /** Which step. */
  name: VerifyStepName;
  /** Whether it passed; true for a skipped step unless `strict` was asked. */
  ok: boolean;
  /**
   * Set when the step was not checked: the version's family is a program (an external
   * renderer's command, a family module) that the caller did not name.
   */
  skipped?: boolean;
  /** What was checked, or what differs, or why it was not checked. */
  detail: string;
}

/** Options of {@linkcode verifyVersion}. */
export interface VerifyOptions {
  /** Images to re-render (default 100); all images when the dataset has fewer. */
  samples?: number;
  /** Seed that picks the random samples. */
  seed: number;
  /** Folder names inside the version that are not part of it (default `["inspection"]`). */
  ignore?: readonly string[];
  /** Called after each step, so a caller can print as it goes. */
  onStep?: (step: VerifyStep) => void;
  /** Seconds to wait for an external renderer's handshake and each answer (default 60). */
  rendererTimeoutSeconds?: number;
  /**
   * The program the caller names to re-render with, when the version's family is an external
   * renderer (`command`: its words) or a module (`module`: its URL); it must be the recorded
   * one. Without it, the generator and samples steps of such a version are skipped: a
   * dataset's files never choose a program to run.
   */
  named?: NamedProgram;
  /** The folder a named command runs in (default: the current one). */
  rendererCwd?: string;
  /** A skipped step fails the verification (default: it is reported with `skipped`). */
  strict?: boolean;
}

const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/** Stops the run at the first failed step. */
class StepFailed extends Error {}

/**
 * Verifies a version; see the module doc for the steps.
 *
 * @param version The version, as `openVersion` gives it (its metadata.json already parsed and
 * checked for missing fields).
 * @param options The number of samples, their seed, and a callback per step.
 * @returns The steps run, all passed (or skipped) except possibly the last, which is the first
 * failure.
 * @throws {TypeError} When `named` names another program than the version records (both are
 * shown), before any step runs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateDataset } from "../run/generate_dataset.ts";
 * import { openVersion } from "../store/open_version.ts";
 * import { verifyVersion } from "./verify_version.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const { path } = await generateDataset({ family: { name: "shapes", options: {} },
 *   seed: 3, numImages: 20, imageSize: 8, dtype: "uint8" }, dir, { name: "demo", workers: 1 });
 * const steps = await verifyVersion(await openVersion(path), { samples: 5, seed: 1 });
 * assert.ok(steps.every((step) => step.ok));
 * assert.equal(steps.at(-1)?.name, "crc");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifyVersion(
  version: OpenedVersion,
  options: VerifyOptions,
): Promise<VerifyStep[]> {
  const steps: VerifyStep[] = [];
  const pass = (name: VerifyStepName, detail: string) => {
    const step = { name, ok: true, detail };
    steps.push(step);
    options.onStep?.(step);
  };
  const failStep = (name: VerifyStepName, detail: string): never => {
    const step = { name, ok: false, detail };
    steps.push(step);
    options.onStep?.(step);
    throw new StepFailed(detail);
  };
  const metadata = version.metadata;
  const program = recordedProgram(specOf(metadata).family);
  let decision;
  try {
    decision = checkNamedProgram(program, options.named ?? {});
  } catch (error) {
    throw new TypeError(`Cannot re-render ${version.path}: ${(error as Error).message}`);
  }
  // A recipe's splits: one archive each, and a check that they share no combination.
  if (metadata.splits !== undefined) {
    return await verifySplitVersion(version, {
      ...options,
      notNamed: decision === "not named" ? describeProgram(program!) : undefined,
    });
  }
  const skip = (name: VerifyStepName, detail: string) => {
    const step = { name, ok: options.strict !== true, skipped: true, detail };
    steps.push(step);
    options.onStep?.(step);
    if (!step.ok) throw new StepFailed(detail);
  };
  let reader: NpzReader | undefined;
  try {
    const metadataProblem = checkMetadata(metadata);
    if (metadataProblem !== undefined) failStep("metadata", `${METADATA_FILE}: ${metadataProblem}`);
    pass(
      "metadata",
      `${METADATA_FILE} is complete: ${metadata.num_images} images of ${metadata.image_size}x` +
        `${metadata.image_size} ${metadata.dtype}, seed ${metadata.seed}, generator ` +
        `${metadata.generator.name} ${metadata.generator.version}`,
    );

    const ignore = options.ignore ?? ["inspection"];
    const folderProblem = await checkFolder(version.path, metadata, ignore);
    if (folderProblem !== undefined) failStep("folder", folderProblem);
    pass(
      "folder",
      `holds ${[...metadata.files.map((file) => file.name), METADATA_FILE].join(", ")}` +
        ` and nothing else (${ignore.map((name) => `${name}/`).join(", ")} ignored)`,
    );

    for (const file of metadata.files) {
      const path = join(version.path, file.name);
      const size = (await Deno.stat(path)).size;
      if (size !== file.bytes) {
        failStep(
          "checksum",
          `${file.name} is ${size} bytes but ${METADATA_FILE} records ${file.bytes}: the file ` +
            `was changed, truncated or corrupted`,
        );
      }
      const sha256 = await hashFile(path);
      if (sha256 !== file.sha256) {
        failStep(
          "checksum",
          `${file.name}: SHA-256 checksum is ${sha256} but ${METADATA_FILE} records ` +
            `${file.sha256}: the file was changed or corrupted`,
        );
      }
      pass("checksum", `${file.name}: ${size} bytes, SHA-256 ${sha256}`);
    }

    try {
      reader = await NpzReader.open(join(version.path, ARCHIVE_FILE));
    } catch (error) {
      failStep("arrays", (error as Error).message);
    }
    const arraysProblem = arraysDisagreement(reader!, metadata);
    if (arraysProblem !== undefined) failStep("arrays", arraysProblem);
    let arrays;
    try {
      // A family with its own schema: its arrays are checked against metadata.json above, and
      // against the family's schema in the samples step.
      arrays = hasClassicArrays(metadata)
        ? await readDatasetArrays(reader!)
        : { ...await readNames(reader!), numImages: metadata.num_images };
    } catch (error) {
      failStep("arrays", (error as Error).message);
    }
    pass(
      "arrays",
      reader!.entries.map((entry) =>
        `${entry.name} ${entry.header.descr} ${shapeText(entry.header.shape)}`
      ).join(", "),
    );

    if (decision === "not named") {
      const recorded = describeProgram(program!);
      skip(
        "generator",
        `not started: the ${recorded} is named only in ${METADATA_FILE}, and a dataset's files ` +
          "never choose a program to run",
      );
      skip(
        "samples",
        `not checked: the samples can be re-rendered only by the ${recorded}, which is started ` +
          "only when the caller names that same program",
      );
    } else {
      const cwd = options.rendererCwd ?? Deno.cwd();
      const source = await openResampler(metadata, options, cwd);
      if ("problem" in source) failStep("generator", source.problem);
      pass(
        "generator",
        metadata.spec?.family.command === undefined
          ? `${metadata.generator.name} ${metadata.generator.version} is installed, with the ` +
            `recorded parameters`
          : `renderer ${quoteCommand(metadata.spec.family.command)} (run in ${cwd}) started ` +
            `and declared ${metadata.generator.name} ${metadata.generator.version} as recorded`,
      );

      let samplesProblem;
      try {
        samplesProblem = await checkSamples(reader!, arrays!, source as Resampler, options);
      } finally {
        await (source as Resampler).close().catch(() => {});
      }
      if (typeof samplesProblem !== "string") failStep("samples", samplesProblem.problem);
      pass("samples", samplesProblem as string);
    }

    for (const entry of reader!.entries) {
      try {
        await reader!.verifyCrc(entry.name);
      } catch (error) {
        failStep("crc", (error as Error).message);
      }
    }
    pass("crc", `the CRC-32 of all ${reader!.entries.length} entries matches the archive's record`);
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
  } finally {
    reader?.close();
  }
  return steps;
}

/** Streams a file through SHA-256. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(HASH_CHUNK_BYTES);
    for (;;) {
      const read = await file.read(buffer);
      if (read === null) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

function isPlainName(name: unknown): name is string {
  return typeof name === "string" && name !== "" && name !== "." && name !== ".." &&
    !/[\\/]/.test(name);
}

/** What metadataProblems does not check: the records of files and arrays, and their agreement. */
function checkMetadata(metadata: VersionMetadata): string | undefined {
  for (const [index, file] of metadata.files.entries()) {
    if (
      !isPlainName(file?.name) || !Number.isSafeInteger(file.bytes) ||
      typeof file.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(file.sha256)
    ) {
      return `files[${index}] needs a plain file name, a byte count and a SHA-256 in hex`;
    }
  }
  if (!metadata.files.some((file) => file.name === ARCHIVE_FILE)) {
    return `files does not list ${ARCHIVE_FILE}`;
  }
  for (const [index, array] of metadata.arrays.entries()) {
    if (
      typeof array?.name !== "string" || typeof array.dtype !== "string" ||
      !Array.isArray(array.shape) || !array.shape.every((dim) => Number.isSafeInteger(dim))
    ) {
      return `arrays[${index}] needs a name, a dtype and a shape of integers`;
    }
  }
  if (!hasClassicArrays(metadata)) {
    // A family with its own schema: its first array holds one entry per sample.
    const first = metadata.arrays[0];
    if (first === undefined) return "arrays is empty";
    if (first.shape[0] !== metadata.num_images) {
      return `${first.name} has shape (${first.shape.join(", ")}) but num_images is ` +
        `${metadata.num_images}`;
    }
    return undefined;
  }
  const images = metadata.arrays.find((array) => array.name === "images");
  if (images === undefined) return "arrays does not list images";
  const { num_images: numImages, image_size: size, dtype } = metadata;
  if (images.shape.join() !== [numImages, size, size].join()) {
    return `images has shape (${images.shape.join(", ")}) but num_images ${numImages} and ` +
      `image_size ${size} say (${numImages}, ${size}, ${size})`;
  }
  const descr = { uint8: "|u1", float64: "<f8" }[dtype];
  if (descr === undefined) return `dtype "${dtype}" is unknown: expected uint8 or float64`;
  if (images.dtype !== descr) return `images has dtype ${images.dtype} but dtype says ${dtype}`;
  return undefined;
}

async function checkFolder(
  path: string,
  metadata: VersionMetadata,
  ignore: readonly string[],
): Promise<string | undefined> {
  const listed = new Set(metadata.files.map((file) => file.name));
  const present = new Set<string>();
  for await (const entry of Deno.readDir(path)) {
    if (entry.name === METADATA_FILE) continue;
    if (entry.isDirectory && ignore.includes(entry.name)) continue;
    if (!listed.has(entry.name)) {
      return `${entry.name} is in the version folder but not listed in ${METADATA_FILE}`;
    }
    if (!entry.isFile) return `${entry.name} is no regular file`;
    present.add(entry.name);
  }
  const missing = [...listed].find((name) => !present.has(name));
  return missing === undefined
    ? undefined
    : `${missing} is listed in ${METADATA_FILE} but missing from the version folder`;
}

/** A shape as numpy prints it: `(1000,)`, `(1000, 16, 16)`. */
function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * The spec to re-render a version with: the recorded family reference (module, options) where
 * there is one, else the family by name; the seed, count, size and dtype of the record's own
 * fields, which the other steps check against the archive.
 */
function specOf(metadata: VersionMetadata): DatasetSpec {
  return {
    family: {
      ...(metadata.spec?.family ?? { options: {} }),
      name: metadata.generator.name,
      version: metadata.generator.version,
    },
    seed: metadata.seed,
    numImages: metadata.num_images,
    imageSize: metadata.image_size,
    dtype: metadata.dtype === "float64" ? "float64" : "uint8",
  };
}

/** What re-draws the samples: the installed family, or the external renderer. */
interface Resampler {
  /**
   * For a family with its own sample schema: the schema, and sample `index` of every array
   * (classic families and renderers use `draw`).
   */
  schema?: { schema: SampleSchema; fill(index: number): Uint8Array[] | Promise<Uint8Array[]> };
  /** Class names it declares. */
  classes: readonly string[];
  /** Latent names it declares. */
  latentNames: readonly string[];
  /** Image `index` as the archive stores it, with its label and latents. */
  draw(index: number): Promise<{ image: Uint8Array; label: number; latents: Float32Array }>;
  /** What a differing image says about the source, e.g. a determinism hint. */
  hint: string;
  /** Ends it: an external renderer must exit cleanly. */
  close(): Promise<void>;
}

/** The generator of a version, ready to re-draw samples; or why it cannot be. */
async function openResampler(
  metadata: VersionMetadata,
  options: VerifyOptions,
  cwd: string,
): Promise<Resampler | { problem: string }> {
  const spec = specOf(metadata);
  if (spec.family.command !== undefined) {
    return await openRenderer(metadata, spec, { ...options, cwd });
  }
  const problem = await checkGenerator(metadata);
  if (problem !== undefined) return { problem };
  const generator = await createGenerator(spec);
  const plan = { generator, seed: metadata.seed, dtype: spec.dtype };
  const schema = generator.schema;
  return {
    ...(schema === undefined ? {} : {
      schema: {
        schema,
        fill: (index: number) => {
          const chunk = allocateChunk(schema, 1);
          fillSamples(plan, index, chunk);
          return chunk.arrays.map((array) => viewBytes(array.view));
        },
      },
    }),
    classes: generator.classes,
    latentNames: generator.latents.map((latent) => latent.name),
    draw: (index) => {
      const expected = sampleChunk(generator, metadata.seed, { start: index, count: 1 });
      return Promise.resolve({
        image: renderImageBytes(plan, { start: index, count: 1 }),
        label: expected.labels[0]!,
        latents: expected.latents,
      });
    },
    hint: "",
    close: () => Promise.resolve(),
  };
}

/**
 * Starts the renderer command (the caller named it: the recorded words, in the caller's
 * folder) and checks it declares what it declared then. Messages show the words that run and
 * their folder, never the label metadata.json keeps for people.
 */
async function openRenderer(
  metadata: VersionMetadata,
  spec: DatasetSpec,
  options: VerifyOptions & { cwd: string },
): Promise<Resampler | { problem: string }> {
  const command = spec.family.command!;
  const label = quoteCommand(command);
  const where = ` (run in ${options.cwd})`;
  let renderer: RendererProcess;
  try {
    renderer = await RendererProcess.start(command, {
      label,
      timeoutSeconds: options.rendererTimeoutSeconds ?? 60,
      imageSize: metadata.image_size,
      cwd: options.cwd,
    });
  } catch (error) {
    if (!(error instanceof RendererError)) throw error;
    return { problem: `${withTail(error)}${where}: the samples cannot be re-rendered` };
  }
  const now = describedAsJson(renderer.description);
  const then = metadata.renderer?.declared ?? {};
  const differing = [...new Set([...Object.keys(now), ...Object.keys(then)])].sort()
    .find((key) => canonicalJson(now[key]) !== canonicalJson(then[key]));
  if (differing !== undefined) {
    await renderer.kill();
    return {
      problem: `renderer ${JSON.stringify(label)}${where} now declares ${differing} ` +
        `${canonicalJson(now[differing])} but the dataset was made when it declared ` +
        `${canonicalJson(then[differing])}: the samples cannot be re-rendered`,
    };
  }
  const renderOne = async (index: number) =>
    checkAnswer(await renderer.render(metadata.seed, index, 1), {
      description: renderer.description,
      start: index,
      dtype: spec.dtype,
      label,
      stderrTail: renderer.stderrTail,
    }).arrays;
  const schema = storedSchema(renderer.description);
  return {
    // Version 2: every declared array, re-requested sample by sample.
    ...(schema === undefined ? {} : { schema: { schema, fill: renderOne } }),
    classes: renderer.description.classes,
    latentNames: renderer.description.latents,
    draw: async (index) => {
      // Version 1's arrays: images, labels, latents.
      const [image, labels, latents] = await renderOne(index);
      return {
        image: image!,
        label: labels![0]!,
        latents: new Float32Array(latents!.slice().buffer),
      };
    },
    hint: `: the renderer is not deterministic (image i must depend only on the seed and i)`,
    close: () => renderer.close(),
  };
}

/** A renderer failure on one line, with its last stderr line if any. */
function withTail(error: RendererError): string {
  const last = error.stderrTail.at(-1);
  return last === undefined ? error.message : `${error.message} (stderr: ${last})`;
}

async function checkGenerator(metadata: VersionMetadata): Promise<string | undefined> {
  const recorded = metadata.generator;
  const spec = specOf(metadata);
  let family;
  try {
    family = await loadFamily(spec.family);
  } catch (error) {
    if (spec.family.module !== undefined) {
      return `${(error as Error).message}: the samples cannot be re-rendered`;
    }
    return `generator "${recorded.name}" is not installed (installed: ${
      generators.names().join(", ")
    }): the samples cannot be re-rendered`;
  }
  const installed = family.create({ imageSize: spec.imageSize, options: spec.family.options });
  if (installed.version !== recorded.version) {
    return `generator ${recorded.name} is version ${installed.version} here but the dataset ` +
      `was made with version ${recorded.version}: re-rendered samples cannot be trusted to ` +
      `match, so they were not compared; verify with a dsgen whose ${recorded.name} is ` +
      `${recorded.version}`;
  }
  const parameters = installed.parameters as { [key: string]: JsonValue };
  const differing = [...new Set([...Object.keys(parameters), ...Object.keys(recorded.parameters)])]
    .filter((key) => canonicalJson(parameters[key]) !== canonicalJson(recorded.parameters[key]));
  if (differing.length > 0) {
    return `generator ${recorded.name} ${recorded.version} here has other parameters than ` +
      `recorded (${differing.join(", ")}): the samples cannot be re-rendered`;
  }
  return undefined;
}

function describeLatents(values: ArrayLike<number>): string {
  return `[${Array.from(values, (value) => String(value)).join(", ")}]`;
}

/** Re-renders the samples; returns a success detail, or the first difference as a problem. */
async function checkSamples(
  reader: NpzReader,
  arrays:
    | Awaited<ReturnType<typeof readDatasetArrays>>
    | { numImages: number; classNames: string[]; latentNames: string[] },
  source: Resampler,
  options: VerifyOptions,
): Promise<string | { problem: string }> {
  if (arrays.classNames.join("\n") !== source.classes.join("\n")) {
    return {
      problem: `class_names are ${arrays.classNames.join(", ")} but the generator's classes ` +
        `are ${source.classes.join(", ")}`,
    };
  }
  const latentNames = source.latentNames;
  if (arrays.latentNames.join("\n") !== latentNames.join("\n")) {
    return {
      problem: `latent_names are ${arrays.latentNames.join(", ")} but the generator's latents ` +
        `are ${latentNames.join(", ")}`,
    };
  }
  const { numImages } = arrays;
  const count = Math.min(options.samples ?? 100, numImages);
  const interior = drawSampleIndices(Math.max(0, numImages - 2), options.seed, {
    count: Math.max(0, count - 2),
  }).map((index) => index + 1);
  const indices = [...new Set([0, ...interior, numImages - 1])].filter((index) =>
    index >= 0 && index < numImages
  ).slice(0, Math.max(count, 0));
  if (source.schema !== undefined) {
    return await checkSchemaSamples(reader, { ...source.schema, indices, numImages, options });
  }
  if (!("imageBytes" in arrays)) {
    return { problem: "the archive's arrays are not the classic ones its family stores" };
  }
  const { imageBytes, dtype, imageSize } = arrays;
  const width = latentNames.length;
  for (const index of indices) {
    const stored = await reader.read("images", { offset: index * imageBytes, length: imageBytes });
    let expected;
    try {
      expected = await source.draw(index);
    } catch (error) {
      if (!(error instanceof RendererError)) throw error;
      return { problem: `re-rendering image #${index}: ${withTail(error)}` };
    }
    const difference = compareImages(stored, expected.image, { dtype, side: imageSize });
    if (difference !== undefined) {
      return { problem: `image #${index} differs from its re-render ${difference}${source.hint}` };
    }
    const label = (await reader.read("labels", { offset: index, length: 1 }))[0];
    if (label !== expected.label) {
      return {
        problem: `label of image #${index} is ${label} but re-renders as ${expected.label}` +
          source.hint,
      };
    }
    const latentBytes = await reader.read("latents", {
      offset: index * width * 4,
      length: width * 4,
    });
    const latents = new Float32Array(latentBytes.slice().buffer, 0, width);
    if (!equalBytes(latentBytes, new Uint8Array(expected.latents.buffer))) {
      return {
        problem: `latents of image #${index} are ${describeLatents(latents)} but re-render as ` +
          describeLatents(expected.latents) + source.hint,
      };
    }
  }
  try {
    await source.close();
  } catch (error) {
    if (!(error instanceof RendererError)) throw error;
    return { problem: withTail(error) };
  }
  return `${indices.length} of ${numImages} images (first, last and ${
    Math.max(0, indices.length - 2)
  } drawn with seed ${options.seed}) re-rendered byte-identical, with their labels and latents`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** Where two renderings of an image differ, in words; undefined when equal. */
function compareImages(
  stored: Uint8Array,
  rendered: Uint8Array,
  image: { dtype: "uint8" | "float64"; side: number },
): string | undefined {
  const { dtype, side: size } = image;
  const valueBytes = bytesPerPixel(dtype);
  const read = (bytes: Uint8Array, pixel: number) =>
    dtype === "uint8"
      ? bytes[pixel]!
      : new DataView(bytes.buffer, bytes.byteOffset).getFloat64(pixel * 8, true);
  const pixels = stored.length / valueBytes;
  let differing = 0;
  let first = -1;
  for (let pixel = 0; pixel < pixels; pixel++) {
    let same = true;
    for (let byte = 0; byte < valueBytes; byte++) {
      if (stored[pixel * valueBytes + byte] !== rendered[pixel * valueBytes + byte]) same = false;
    }
    if (same) continue;
    differing++;
    if (first < 0) first = pixel;
  }
  if (differing === 0) return undefined;
  return `at ${differing} of ${pixels} pixels (first at row ${Math.floor(first / size)}, ` +
    `column ${first % size}: stored ${read(stored, first)}, re-rendered ${read(rendered, first)})`;
}

/** The class and latent names of an archive, whatever its other arrays. */
async function readNames(
  reader: NpzReader,
): Promise<{ classNames: string[]; latentNames: string[] }> {
  const names = async (name: string) =>
    decodeUnicodeArray(
      await reader.readAll(name),
      itemSize(reader.entry(name).header.descr) / 4,
    );
  return { classNames: await names("class_names"), latentNames: await names("latent_names") };
}

/**
 * Re-renders samples of a family with its own schema and compares every array, sample by
 * sample; returns a success detail, or the first difference as a problem.
 */
async function checkSchemaSamples(
  reader: NpzReader,
  check: {
    schema: SampleSchema;
    fill(index: number): Uint8Array[] | Promise<Uint8Array[]>;
    indices: number[];
    numImages: number;
    options: VerifyOptions;
  },
): Promise<string | { problem: string }> {
  const { schema, indices } = check;
  for (const spec of schema.arrays) {
    const entry = reader.entries.find((candidate) => candidate.name === spec.name);
    const expected = `(${[check.numImages, ...spec.shape].join(", ")})`;
    const actual = entry === undefined ? undefined : `(${entry.header.shape.join(", ")})`;
    if (actual !== expected) {
      return {
        problem: `${spec.name}.npy is ` +
          (actual === undefined ? "missing" : `of shape ${actual}`) +
          ` but the family declares ${expected}`,
      };
    }
  }
  for (const index of indices) {
    let rendered;
    try {
      rendered = await check.fill(index);
    } catch (error) {
      if (!(error instanceof RendererError)) throw error;
      return { problem: `re-rendering sample #${index}: ${withTail(error)}` };
    }
    for (const [position, spec] of schema.arrays.entries()) {
      const bytes = bytesPerSample(spec);
      const stored = await reader.read(spec.name, { offset: index * bytes, length: bytes });
      const difference = firstDifference(stored, rendered[position]!, spec);
      if (difference !== undefined) {
        return {
          problem: `${spec.name} of sample #${index} differs from its re-render ${difference}`,
        };
      }
    }
  }
  return `${indices.length} of ${check.numImages} samples (first, last and ${
    Math.max(0, indices.length - 2)
  } drawn with seed ${check.options.seed}) re-rendered byte-identical in every array (${
    schema.arrays.map((spec) => spec.name).join(", ")
  })`;
}

/** Where one sample's array differs from its re-render, by element index, in words. */
function firstDifference(
  stored: Uint8Array,
  rendered: Uint8Array,
  spec: ArraySpec,
): string | undefined {
  const size = bytesPerSample(spec) / Math.max(1, spec.shape.reduce((a, b) => a * b, 1));
  let differing = 0;
  let first = -1;
  for (let element = 0; element * size < stored.length; element++) {
    for (let byte = 0; byte < size; byte++) {
      if (stored[element * size + byte] !== rendered[element * size + byte]) {
        differing++;
        if (first < 0) first = element;
        break;
      }
    }
  }
  if (differing === 0) return undefined;
  // The element's index in the sample's shape, e.g. [2, 5, 7] for masks (K, S, S).
  const at: number[] = [];
  let rest = first;
  for (let axis = spec.shape.length - 1; axis >= 0; axis--) {
    at.unshift(rest % spec.shape[axis]!);
    rest = Math.floor(rest / spec.shape[axis]!);
  }
  return `at ${differing} of ${stored.length / size} elements (first at [${at.join(", ")}])`;
}
