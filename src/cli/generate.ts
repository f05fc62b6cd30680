/**
 * `dsgen generate`: from flags to a published, versioned dataset.
 *
 * {@linkcode parseGenerateArgs} turns the words into a typed {@linkcode GenerateOptions} (and
 * is tested alone); {@linkcode runGenerate} hands the spec they describe to the run's steps
 * (`src/run/generate_dataset.ts`) with the terminal as output, and prints the version's path.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generators } from "../generators/registry.ts";
import type { DatasetSpec } from "../generators/spec.ts";
import type { JsonValue } from "../generators/generator.ts";
import type { writeDatasetNpz } from "../pipeline/dataset.ts";
import type { ImageDtype } from "../pipeline/render.ts";
import { defaultName, type GenerateResult, runDataset } from "../run/generate_dataset.ts";
import { MAX_WORKERS } from "../run/resources.ts";
import { DEFAULT_RENDERER_TIMEOUT_SECONDS } from "../renderer/pool.ts";
import { MAX_SHARDS } from "../cluster/run_folder.ts";
import { resolveSlice } from "../cluster/scheduler.ts";
import { runSlice, type SliceId } from "../cluster/slice.ts";
import { UsageError } from "./errors.ts";
import {
  NUMBER_SYNTAX,
  parseChoice,
  parseCommandWords,
  parseFlags,
  parseIntegerFlag,
  quote,
  requireValue,
} from "./flags.ts";
import { confirm, type Console, runOutput } from "./console.ts";
import { type CallerFolder, callerPath } from "./paths.ts";
import { readRecipeRun, type RecipeRun, recordedRecipe } from "./recipe_args.ts";
import { SCENE_FLAGS, SCENE_FLAGS_HELP, sceneOptionsOfFlags } from "./scene_flags.ts";

export type { GenerateResult };
export { defaultName };

/** The largest dataset dsgen generates in one run. */
export const MAX_IMAGES = 1_000_000_000;
/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 4_294_967_295;

/** A generate run, as the flags describe it. */
export interface GenerateOptions {
  /** Number of images, 1 to {@linkcode MAX_IMAGES} (`--num-images`). */
  numImages: number;
  /** The folder that holds the dataset folders, created if missing (`--output-dir`). */
  outputDir: string;
  /** Dataset seed, 0 to {@linkcode MAX_SEED}; undefined: draw one, print it and record it. */
  seed?: number;
  /** The dataset folder's name inside `outputDir` (`--name`, default `<generator><size>`). */
  name: string;
  /** Side of every (square) image in pixels, 4 to 256 (`--image-size`, default 16). */
  imageSize: number;
  /** The dataset family's registry name (`--generator`, default `shapes`). */
  generator: string;
  /** The images' element type (`--dtype`, default `uint8`). */
  dtype: ImageDtype;
  /**
   * Rendering threads requested, 1 to 64 (`--workers`); undefined: the CPUs of the allocation
   * or machine. Runs shorter than about 0.3 s stay on the main thread anyway
   * (`minImagesForWorkers`), and the run's model may pick fewer (`thread_plan.ts`).
   */
  workers?: number;
  /**
   * One slice of a sharded run (`--shards`, `--shard-index`, `--run-id`); undefined for a run
   * on one machine.
   */
  slice?: SliceId;
  /** The family's own options, e.g. `{ grid: true }` from `--grid` (default `{}`). */
  familyOptions?: { [key: string]: JsonValue };
  /** Skip the confirmation question (`--yes`). */
  yes: boolean;
  /**
   * Print no plan, progress bar or summary (`--quiet`); a drawn seed and removed leftovers of
   * killed runs are still reported.
   */
  quiet: boolean;
  /**
   * An external renderer (`--generator-cmd`, docs/renderer_protocol.md) instead of a family:
   * the command as typed and its words, the per-request timeout (`--generator-timeout`), and
   * the image size and dataset name if given (else the renderer's declared size and
   * `<renderer name><size>`); `imageSize` and `name` above are then placeholders.
   */
  external?: {
    command: string;
    words: string[];
    /** The folder the command runs in: the one it was typed in. */
    cwd: string;
    timeoutSeconds: number;
    imageSize?: number;
    name?: string;
  };
  /**
   * The recipe the run comes from (`--recipe`): the family it names, its splits, the fields
   * flags overrode, and for a metadata.json what the remake must reproduce.
   */
  recipe?: RecipeRun;
}

const FLAGS: Record<string, { type: "string" | "boolean"; short?: string; accepts?: string }> = {
  "num-images": { type: "string", accepts: `an integer from 1 to ${MAX_IMAGES}` },
  "output-dir": { type: "string", accepts: "a folder path" },
  seed: { type: "string", accepts: `an integer from 0 to ${MAX_SEED}` },
  name: {
    type: "string",
    accepts: "1 to 100 letters, digits, '-', '_' and '.', starting with a letter or digit",
  },
  "image-size": { type: "string", accepts: "an integer from 4 to 256" },
  generator: { type: "string", accepts: `one of ${generators.names().join(", ")}` },
  dtype: { type: "string", accepts: "one of uint8, float64" },
  workers: { type: "string", accepts: "an integer from 1 to 64" },
  grid: { type: "boolean" },
  "grid-values": {
    type: "string",
    accepts: "NAME=COUNT pairs separated by commas, e.g. scale=6,orientation=40,pos_x=32,pos_y=32",
  },
  recipe: { type: "string", accepts: "a recipe file or a version's metadata.json" },
  "generator-cmd": { type: "string", accepts: 'a command, e.g. "python3 render.py"' },
  "generator-module": {
    type: "string",
    accepts: "the family module the --recipe names (a path or URL)",
  },
  "generator-timeout": { type: "string", accepts: "an integer from 1 to 86400 (seconds)" },
  shards: { type: "string", accepts: `an integer from 1 to ${MAX_SHARDS}` },
  "shard-index": { type: "string", accepts: "an integer from 0 to shards - 1" },
  "run-id": { type: "string", accepts: "1 to 64 letters, digits, '-', '_' and '.'" },
  ...SCENE_FLAGS,
  yes: { type: "boolean", short: "y" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen generate`. */
export const GENERATE_HELP = `Usage: dsgen generate --num-images N --output-dir DIR [options]

Generates N images into a new version folder <DIR>/<name>/vNNNN-<UTC time>/ holding
dataset.npz (images, labels, latents, class_names, latent_names) and metadata.json, and
prints the version's path. A relative DIR means the folder the command was typed in.
${NUMBER_SYNTAX}

Options:
  --num-images N    number of images, 1 to ${MAX_IMAGES} (required unless --grid)
  --output-dir DIR  output folder, created if missing (required)
  --seed S          integer 0 to ${MAX_SEED}; drawn, printed and recorded if omitted
  --name NAME       dataset folder name (default: <generator><size>, e.g. shapes16,
                    and shapes16-float64 for --dtype float64)
  --image-size S    image side in pixels, 4 to 256 (default 16; dsprites and scenes:
                    16 to 256, default 64)
  --generator G     dataset family: ${generators.names().join(", ")} (default shapes)
  --dtype T         uint8 (default) or float64 (the unquantized baseline, 8x larger)
  --grid            every combination of the factors once, in dSprites' order (the last
                    factor fastest); --num-images, if given, must equal the grid's size
  --grid-values V   values per factor of a shapes grid (implies --grid), e.g.
                    scale=6,orientation=40,pos_x=32,pos_y=32 (the default)
  --recipe FILE     a recipe (docs/recipes.md): family, size, dtype, seed, images,
                    name and splits as JSON; or a version's metadata.json, which
                    remakes it and checks every archive's SHA-256 (exit 1 naming the
                    first differing array). --seed, --num-images, --image-size,
                    --dtype and --name override its fields (recorded as such)
  --workers N       rendering threads, 1 to 64 (default: SLURM_CPUS_PER_TASK, else
                    the CPUs this process may use; runs shorter than about 0.3 s
                    stay on the main thread, and large images may render there
                    with SHA-256 on a second thread: the plan line says so)
${SCENE_FLAGS_HELP}  --generator-cmd CMD
                    an external renderer speaking docs/renderer_protocol.md, one
                    process per worker (at most one per chunk, however few the
                    images), e.g. "python3 render.py" (instead of --generator;
                    --image-size defaults to the size it declares)
  --generator-module PATH
                    with --recipe: the family module the recipe names, a path or URL
                    (a module named only in a file is never imported)
  --generator-timeout SECONDS
                    seconds a renderer may take per request, 1 to 86400 (default 60)
  --shards N        render one of N slices of the dataset (1 to ${MAX_SHARDS}; needs
                    --seed); the slice that completes the run merges it into one
                    version, byte-identical to a run without --shards
  --shard-index K   which slice, 0 to N-1 (default: SLURM_ARRAY_TASK_ID, else
                    JOB_COMPLETION_INDEX)
  --run-id ID       the run the slice belongs to (default: SLURM_ARRAY_JOB_ID)
  -y, --yes         do not ask for confirmation
  -q, --quiet       print no plan and no progress bar
  -h, --help        show this help
`;

/**
 * Turns the words after `generate` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param defaults The default worker count, the environment that gives a slice's defaults
 * (default: the process's), and the caller's folder that a relative `--output-dir` means (see
 * `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGenerateArgs } from "./generate.ts";
 * const options = parseGenerateArgs(["--num-images", "10", "--output-dir", "data"]);
 * assert.ok(options !== "help" && options.name === "shapes16");
 * ```
 */
export function parseGenerateArgs(
  args: readonly string[],
  defaults: { workers?: number; env?: Record<string, string | undefined> } & CallerFolder = {},
): GenerateOptions | "help" {
  const { values } = parseFlags(args, { command: "generate", flags: FLAGS });
  if (values.help === true) return "help";
  const text = (flag: string) =>
    requireValue(`--${flag}`, values[flag], FLAGS[flag]?.accepts ?? "a value");
  const integer = (flag: string, min: number, max: number) =>
    parseIntegerFlag(values, flag, { min, max });
  if (values["generator-module"] !== undefined && values.recipe === undefined) {
    throw new UsageError(
      `Cannot use "--generator-module" value ${quote(text("generator-module"))} without ` +
        `"--recipe": expected it only to name the module a recipe names`,
    );
  }
  if (values.recipe !== undefined) {
    const sceneFlag = Object.keys(SCENE_FLAGS).find((flag) => values[flag] !== undefined);
    if (sceneFlag !== undefined) {
      throw new UsageError(
        `Cannot use "--${sceneFlag}" with "--recipe": expected the scenes options in the ` +
          "recipe's family options",
      );
    }
    if (values["generator-module"] !== undefined) {
      const module = text("generator-module");
      // A URL as given; a path, from the folder the command was typed in.
      values["generator-module"] = /^[A-Za-z][A-Za-z0-9+.-]+:/.test(module)
        ? module
        : pathToFileURL(resolve(callerPath(module, defaults))).href;
    }
    return recipeOptions(readRecipeRun(callerPath(text("recipe"), defaults), values), {
      values,
      defaults,
      text,
      integer,
    });
  }

  const generator = values.generator === undefined
    ? "shapes"
    : parseChoice("--generator", text("generator"), generators.names());
  const minSize = generators.get(generator).minImageSize ?? 4;
  const imageSize = values["image-size"] === undefined
    ? (generators.get(generator).defaultImageSize ?? 16)
    : integer("image-size", minSize, 256);
  const gridValues = values["grid-values"] === undefined
    ? undefined
    : parseGridValues(text("grid-values"));
  const grid = values.grid === true || gridValues !== undefined;
  if (grid && generator === "scenes") {
    throw new UsageError(`Cannot use "--grid" with generator "${generator}": it has no grid`);
  }
  const familyOptions: { [key: string]: JsonValue } = gridValues !== undefined
    ? { grid: gridValues }
    : grid
    ? { grid: true }
    : sceneOptionsOfFlags(values, { generator, imageSize });
  const fixed = values["generator-cmd"] === undefined
    ? fixedNumImages(generator, imageSize, familyOptions)
    : undefined;
  if (grid && fixed === undefined) {
    throw new UsageError(`Cannot use "--grid" with generator "${generator}": it has no grid`);
  }
  const numImages = values["num-images"] === undefined && fixed !== undefined
    ? fixed
    : integer("num-images", 1, MAX_IMAGES);
  if (fixed !== undefined && numImages !== fixed) {
    throw new UsageError(
      `Cannot use "--num-images" value "${values["num-images"]}": the ${generator} grid has ` +
        `${fixed} images, expected ${fixed} or no --num-images`,
    );
  }
  const outputDir = callerPath(text("output-dir"), defaults);
  const seed = values.seed === undefined ? undefined : integer("seed", 0, MAX_SEED);
  const dtype = values.dtype === undefined
    ? "uint8"
    : parseChoice("--dtype", text("dtype"), ["uint8", "float64"] as const);
  if (dtype !== "uint8" && generator === "scenes") {
    throw new UsageError(
      `Cannot use "--dtype" value ${quote(dtype)} with generator "scenes": expected uint8 ` +
        "(scenes declare the dtype of each array)",
    );
  }
  const workers = values.workers === undefined
    ? (defaults.workers === undefined
      ? undefined
      : Math.max(1, Math.min(MAX_WORKERS, defaults.workers)))
    : integer("workers", 1, MAX_WORKERS);
  const command = values["generator-cmd"] === undefined ? undefined : text("generator-cmd");
  let words: string[] = [];
  if (command !== undefined) {
    if (values.generator !== undefined) {
      throw new UsageError(
        `Cannot use "--generator" value ${quote(generator)} with "--generator-cmd": expected ` +
          "one of the two",
      );
    }
    words = parseCommandWords(command, FLAGS["generator-cmd"]!.accepts!);
  } else if (values["generator-timeout"] !== undefined) {
    throw new UsageError(
      `Cannot use "--generator-timeout" value ${quote(text("generator-timeout"))} without ` +
        `"--generator-cmd": expected it only with an external renderer`,
    );
  }
  const name = values.name === undefined
    ? defaultName(command === undefined ? generator : "renderer", imageSize, dtype)
    : text("name");
  // Not hidden (".x" looks like a staging folder), no option look-alike ("-x"), no "..".
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) || name.includes("..")) {
    throw new UsageError(
      `Cannot use "--name" value ${quote(name)}: expected ${FLAGS.name!.accepts}`,
    );
  }
  const options: GenerateOptions = {
    numImages,
    outputDir,
    name,
    imageSize,
    generator,
    dtype,
    yes: values.yes === true,
    quiet: values.quiet === true,
  };
  if (workers !== undefined) options.workers = workers;
  const slice = sliceOfFlags({ values, text, integer, env: defaults.env }, { seed, numImages });
  if (slice !== undefined) options.slice = slice;
  if (seed !== undefined) options.seed = seed;
  if (Object.keys(familyOptions).length > 0) options.familyOptions = familyOptions;
  if (command !== undefined) {
    options.external = {
      command,
      words,
      cwd: defaults.callerDir ?? Deno.cwd(),
      timeoutSeconds: values["generator-timeout"] === undefined
        ? DEFAULT_RENDERER_TIMEOUT_SECONDS
        : integer("generator-timeout", 1, 86400),
      ...(values["image-size"] === undefined ? {} : { imageSize }),
      ...(values.name === undefined ? {} : { name }),
    };
  }
  return options;
}

/**
 * The slice a `--shards` run renders, from its flags and the scheduler's variables; undefined
 * without `--shards`. The same for runs from flags and from recipes.
 */
function sliceOfFlags(
  flags: {
    values: Record<string, string | boolean | undefined>;
    text: (flag: string) => string;
    integer: (flag: string, min: number, max: number) => number;
    env: Record<string, string | undefined> | undefined;
  },
  run: { seed: number | undefined; numImages: number; counted?: string },
): SliceId | undefined {
  const { values, text, integer } = flags;
  if (values.shards === undefined) {
    for (const flag of ["shard-index", "run-id"]) {
      if (values[flag] !== undefined) {
        throw new UsageError(
          `Cannot use "--${flag}" without "--shards": expected the number of slices too`,
        );
      }
    }
    return undefined;
  }
  if (run.seed === undefined) {
    throw new UsageError(
      'Missing "--seed" for "--shards": expected the same seed for every slice of the run',
    );
  }
  const shards = integer("shards", 1, MAX_SHARDS);
  const slice = resolveSlice({
    shards,
    ...(values["shard-index"] === undefined ? {} : { shardIndex: text("shard-index") }),
    ...(values["run-id"] === undefined ? {} : { runId: text("run-id") }),
  }, flags.env ?? processEnv());
  if (shards > run.numImages) {
    throw new UsageError(
      `Cannot use "--shards" value ${quote(String(values.shards))}: expected at most the ` +
        `${run.numImages} images of ${run.counted ?? '"--num-images"'}`,
    );
  }
  return { shards, index: slice.index, runId: slice.runId };
}

/** The options of a `--recipe` run: the recipe's fields, and the flags that run it. */
function recipeOptions(
  run: RecipeRun,
  flags: {
    values: Record<string, string | boolean | undefined>;
    defaults: { workers?: number; env?: Record<string, string | undefined> } & CallerFolder;
    text: (flag: string) => string;
    integer: (flag: string, min: number, max: number) => number;
  },
): GenerateOptions {
  const { values, defaults, text, integer } = flags;
  const { recipe, family } = run;
  const registered = family.module === undefined && family.command === undefined
    ? generators.get(family.name)
    : undefined;
  const imageSize = recipe.image_size ?? registered?.defaultImageSize ?? 16;
  const minSize = registered?.minImageSize ?? 4;
  if (imageSize < minSize) {
    throw new UsageError(
      `Cannot use recipe field "image_size" value ${imageSize}: expected ${minSize} to 256 for ` +
        `${family.name} (in ${run.file})`,
    );
  }
  let numImages: number;
  if (run.splits !== undefined) {
    numImages = run.splits.reduce((sum, split) => sum + split.numImages, 0);
  } else {
    const fixed = registered === undefined
      ? undefined
      : fixedNumImages(family.name, imageSize, family.options, run.file);
    const given = recipe.num_images ?? fixed;
    if (given === undefined) {
      throw new UsageError(
        `Missing recipe field "num_images": expected an integer from 1 to ${MAX_IMAGES}, or ` +
          `a family whose options fix it (a grid) (in ${run.file})`,
      );
    }
    if (fixed !== undefined && given !== fixed) {
      throw new UsageError(
        `Cannot use recipe field "num_images" value ${given}: the ${family.name} grid has ` +
          `${fixed} images, expected ${fixed} or no num_images (in ${run.file})`,
      );
    }
    numImages = given;
  }
  const dtype = recipe.dtype ?? "uint8";
  const name = recipe.name ??
    defaultName(family.command === undefined ? family.name : "renderer", imageSize, dtype);
  const options: GenerateOptions = {
    numImages,
    outputDir: callerPath(text("output-dir"), defaults),
    name,
    imageSize,
    generator: family.name,
    dtype,
    yes: values.yes === true,
    quiet: values.quiet === true,
    recipe: run,
  };
  if (recipe.seed !== undefined) options.seed = recipe.seed;
  if (values.workers !== undefined) options.workers = integer("workers", 1, MAX_WORKERS);
  else if (defaults.workers !== undefined) {
    options.workers = Math.max(1, Math.min(MAX_WORKERS, defaults.workers));
  }
  if (Object.keys(family.options).length > 0) options.familyOptions = family.options;
  const slice = sliceOfFlags({ values, text, integer, env: defaults.env }, {
    seed: recipe.seed,
    numImages,
    counted: `the recipe${run.splits === undefined ? "" : "'s splits"} (${run.file})`,
  });
  if (slice !== undefined) options.slice = slice;
  if (family.command !== undefined) {
    options.external = {
      command: text("generator-cmd"),
      words: family.command,
      cwd: defaults.callerDir ?? Deno.cwd(),
      timeoutSeconds: values["generator-timeout"] === undefined
        ? DEFAULT_RENDERER_TIMEOUT_SECONDS
        : integer("generator-timeout", 1, 86400),
      ...(recipe.image_size === undefined ? {} : { imageSize }),
      ...(recipe.name === undefined ? {} : { name }),
    };
  }
  return options;
}

/**
 * Reads `--grid-values`: `NAME=COUNT` pairs separated by commas.
 *
 * @param value The flag's value.
 * @returns The counts by factor name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGridValues } from "./generate.ts";
 * assert.deepEqual(parseGridValues("scale=6,orientation=40"), { scale: 6, orientation: 40 });
 * ```
 */
export function parseGridValues(value: string): { [key: string]: number } {
  const counts: { [key: string]: number } = {};
  for (const pair of value.split(",")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\d{1,4})$/.exec(pair.trim());
    if (match === null || Object.hasOwn(counts, match[1]!) || Number(match[2]) < 1) {
      throw new UsageError(
        `Cannot use "--grid-values" value ${quote(value)}: expected ${
          FLAGS["grid-values"]!.accepts
        }, each name once, each count from 1`,
      );
    }
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

/** The number of images a registry family fixes for these options, if it fixes one. */
function fixedNumImages(
  generator: string,
  imageSize: number,
  options: { [key: string]: JsonValue },
  recipeFile?: string,
): number | undefined {
  try {
    return generators.get(generator).create({ imageSize, options }).fixedNumImages;
  } catch (error) {
    if (recipeFile !== undefined) {
      // The family's own message names the option, its value and what is accepted.
      throw new UsageError(
        `Cannot use recipe field "family.options" value ${JSON.stringify(options)}: ` +
          `${(error as Error).message} (in ${recipeFile})`,
      );
    }
    const flag = Object.keys(options).length > 0 ? "--grid-values" : "--generator";
    throw new UsageError(
      `Cannot use "${flag}" with generator "${generator}": ${
        (error as Error).message.replace(/^Cannot [^:]*: /, "")
      }`,
    );
  }
}

function processEnv(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}

/** Where `runGenerate` prints and asks, what it records, and what stops it. */
export interface GenerateContext extends Console {
  /** The command line, recorded in metadata.json. */
  commandLine?: string[];
  /** Aborted with an {@linkcode InterruptedError} when a signal arrives. */
  signal?: AbortSignal;
  /**
   * Writes the archive; {@linkcode writeDatasetNpz} unless a test injects a failing writer to
   * check what a write fault leaves behind.
   */
  writeDataset?: typeof writeDatasetNpz;
}

/**
 * The spec the options describe; a missing seed is drawn.
 *
 * @param options The parsed flags.
 * @returns The spec, and whether its seed was drawn.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGenerateArgs, specOf } from "./generate.ts";
 * const options = parseGenerateArgs(["--num-images", "10", "--output-dir", "d", "--seed", "3"]);
 * assert.ok(options !== "help");
 * assert.equal(specOf(options).spec.seed, 3);
 * ```
 */
export function specOf(
  options: GenerateOptions,
): { spec: DatasetSpec; seedSource: "flag" | "drawn" } {
  const seedSource = options.seed === undefined ? "drawn" : "flag";
  const seed = options.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const external = options.external;
  return {
    spec: {
      // An external renderer's name and size are filled in from its handshake (size 0: the
      // one it declares).
      family: external === undefined
        ? options.recipe?.family ??
          { name: options.generator, options: options.familyOptions ?? {} }
        : { name: "renderer", command: external.words, cwd: external.cwd, options: {} },
      seed,
      numImages: options.numImages,
      imageSize: external === undefined ? options.imageSize : external.imageSize ?? 0,
      dtype: options.dtype,
    },
    seedSource,
  };
}

/**
 * Runs `dsgen generate` with parsed options: {@linkcode generateDataset} with the terminal as
 * its output and the confirmation question unless `--yes`; prints the version's path.
 *
 * @param options The parsed flags.
 * @param io Where to print, how to ask, the command line to record, and the abort signal.
 * @returns The version folder and its metadata; undefined for a slice that made no version.
 * @example
 * ```ts ignore
 * import { runGenerate } from "./generate.ts";
 * import { denoConsole } from "./console.ts";
 * await runGenerate({ numImages: 10, outputDir: "data", name: "shapes16", imageSize: 16,
 *   generator: "shapes", dtype: "uint8", workers: 1, yes: true, quiet: true }, denoConsole());
 * ```
 */
export async function runGenerate(
  options: GenerateOptions,
  io: GenerateContext,
): Promise<GenerateResult | undefined> {
  const { spec, seedSource } = specOf(options);
  const external = options.external;
  const output = runOutput(io, options.quiet);
  const recipe = options.recipe;
  const recorded = recordedRecipe(
    recipe?.recipe ?? {
      family: external === undefined
        ? { name: options.generator, options: options.familyOptions ?? {} }
        : { name: "renderer", options: {}, command: external.command },
    },
    {
      seed: spec.seed,
      numImages: spec.numImages,
      imageSize: spec.imageSize,
      dtype: spec.dtype,
      name: options.name,
    },
  );
  if (external !== undefined && external.imageSize === undefined) delete recorded.image_size;
  if (external !== undefined && external.name === undefined) delete recorded.name;
  const overridden = { ...recipe?.overridden };
  if (seedSource === "drawn") overridden.seed = "drawn";
  const recipeRecord = {
    recipe: recorded,
    ...(recipe === undefined && seedSource !== "drawn"
      ? {}
      : { source: { file: recipe?.file ?? "", overridden } }),
  };
  if (options.slice !== undefined) {
    const slice = await runSlice(spec, options.outputDir, {
      ...(options.yes ? {} : { confirm: () => confirm(io) }),
      ...options.slice,
      ...(external === undefined ? { name: options.name } : {
        name: external.name,
        rendererLabel: external.command,
        rendererTimeoutSeconds: external.timeoutSeconds,
      }),
      output,
      workers: options.workers,
      commandLine: io.commandLine,
      signal: io.signal,
      // A recipe's splits and record go to plan.json, for the merge (flags alone: the spec's).
      ...(recipe === undefined ? {} : { recipe: recipeRecord }),
      ...(recipe?.splits === undefined ? {} : { splits: recipe.splits }),
      // The merge compares the merged archives with the record (`Remade byte-identical`).
      ...(recipe?.remake === undefined ? {} : { remake: recipe.remake }),
    });
    if (slice.merge?.status === "merged") {
      io.stdout(slice.merge.version.path + "\n");
      return slice.merge.version;
    }
    return undefined;
  }
  if (recipe?.fromMetadata === true && recipe.remake === undefined) {
    io.stderr(
      `Not a remake: ${
        Object.values(recipe.overridden).join(", ")
      } overrides the recorded recipe, so the archives are not compared with metadata.json\n`,
    );
  }
  const result = await runDataset(spec, options.outputDir, {
    recipe: recipeRecord,
    splits: recipe?.splits,
    remake: recipe?.remake,
    ...(external === undefined ? { name: options.name } : {
      name: external.name,
      rendererLabel: external.command,
      rendererTimeoutSeconds: external.timeoutSeconds,
    }),
    seedSource,
    output,
    workers: options.workers,
    ...(options.yes ? {} : { confirm: () => confirm(io) }),
    commandLine: io.commandLine,
    signal: io.signal,
    writeDataset: io.writeDataset,
  });
  io.stdout(result.path + "\n");
  return result;
}
