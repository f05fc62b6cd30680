/**
 * `dsgen generate --recipe FILE`: a recipe file, or a version's metadata.json, turned into the
 * options of a run. Flags given with it override its fields (`--seed`, `--num-images`,
 * `--image-size`, `--dtype`, `--name`), and the run records which.
 *
 * The recipe is checked against its family here, before anything is created: unknown keys,
 * factors, classes, values, splits that do not cover a grid or overlap, and regions without a
 * combination all give one line naming the field's JSON path (exit 2).
 *
 * @module
 */

import { dirname } from "node:path";
import type { ImageGenerator, JsonValue } from "../generators/generator.ts";
import { generators } from "../generators/registry.ts";
import type { FamilyRef } from "../generators/spec.ts";
import { splitCommand } from "../renderer/protocol.ts";
import { checkNamedProgram, type RecordedProgram } from "../generators/named_program.ts";
import {
  expandedWhere,
  isMetadata,
  parseRecipe,
  type Recipe,
  recipeFromMetadata,
  type RecordedVersion,
} from "../recipe/recipe.ts";
import { RecipeError } from "../recipe/recipe_error.ts";
import { gridTable, type SplitRef, splitRegion } from "../recipe/split_generator.ts";
import { UsageError } from "./errors.ts";
import { parseInteger, quote } from "./flags.ts";

/** The recipe side of a run's options. */
export interface RecipeRun {
  /** The recipe file, as given. */
  file: string;
  /** The recipe after overrides (seed filled in at the start of the run if drawn). */
  recipe: Recipe;
  /** The fields flags overrode, with the flag that did. */
  overridden: { [field: string]: string };
  /** The family, as the spec names it. */
  family: FamilyRef;
  /** The splits, each with its number of images. */
  splits?: { numImages: number; split: SplitRef }[];
  /** For `--recipe metadata.json` without overrides: what the remake must reproduce. */
  remake?: RecordedVersion & { folder: string };
  /** Whether the recipe is a version's metadata.json. */
  fromMetadata: boolean;
}

/** The flags a recipe's fields may be overridden by, with the field each sets. */
const OVERRIDES = {
  seed: "seed",
  "num-images": "num_images",
  "image-size": "image_size",
  dtype: "dtype",
  name: "name",
} as const;

/** Flags that cannot go with `--recipe`: the recipe's family is part of its identity. */
const REFUSED = ["generator", "grid", "grid-values"];

/**
 * Reads and checks a recipe file with the flags given beside it.
 *
 * @param path The recipe's path (already resolved against the caller's folder).
 * @param values The other flags' raw values.
 * @returns What the run needs of the recipe.
 * @throws {UsageError} Naming the file and the JSON path of the first bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readRecipeRun } from "./recipe_args.ts";
 * const file = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(file, JSON.stringify({ family: "shapes", seed: 1, num_images: 5 }));
 * const run = readRecipeRun(file, { seed: "2" });
 * assert.equal(run.recipe.seed, 2);
 * assert.deepEqual(run.overridden, { seed: "--seed 2" });
 * await Deno.remove(file);
 * ```
 */
export function readRecipeRun(
  path: string,
  values: Record<string, string | boolean | undefined>,
): RecipeRun {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    throw new UsageError(
      `Cannot read "--recipe" file ${quote(path)}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `Cannot parse "--recipe" file ${quote(path)}: ${(error as Error).message}, expected JSON`,
    );
  }
  try {
    return checkRecipeRun(path, json, values);
  } catch (error) {
    if (error instanceof RecipeError) throw new UsageError(`${error.message} (in ${path})`);
    throw error;
  }
}

function checkRecipeRun(
  path: string,
  json: unknown,
  values: Record<string, string | boolean | undefined>,
): RecipeRun {
  for (const flag of REFUSED) {
    if (values[flag] !== undefined) {
      throw new UsageError(
        `Cannot use "--${flag}" with "--recipe": the recipe's family field says it, edit the ` +
          "recipe instead",
      );
    }
  }
  const fromMetadata = isMetadata(json);
  const { recipe, recorded } = fromMetadata
    ? recipeFromMetadata(json)
    : { recipe: parseRecipe(json), recorded: undefined };
  const overridden: { [field: string]: string } = {};
  for (const [flag, field] of Object.entries(OVERRIDES)) {
    const given = values[flag];
    if (typeof given !== "string") continue;
    overridden[field] = `--${flag} ${given}`;
    if (field === "dtype" || field === "name") {
      (recipe as unknown as Record<string, unknown>)[field] = given;
    } else {
      (recipe as unknown as Record<string, unknown>)[field] = parseInteger(`--${flag}`, given, {
        min: field === "seed" ? 0 : 1,
        max: field === "seed" ? 4294967295 : field === "image_size" ? 256 : 1_000_000_000,
      });
    }
  }
  // Overridden values get the recipe's own checks (a name's characters, a dtype).
  const checked = parseRecipe(recipe);
  const family = resolveFamily(checked, values);
  const run: RecipeRun = { file: path, recipe: checked, overridden, family, fromMetadata };
  if (checked.splits !== undefined) run.splits = checkSplits(checked, family);
  if (fromMetadata && recorded !== undefined && Object.keys(overridden).length === 0) {
    run.remake = { ...recorded, folder: dirname(path) };
  }
  return run;
}

/** The family reference of a recipe; an external renderer only if the command line names it. */
function resolveFamily(
  recipe: Recipe,
  values: Record<string, string | boolean | undefined>,
): FamilyRef {
  const { family } = recipe;
  const typed = values["generator-cmd"];
  const typedModule = values["generator-module"];
  // A command or module found in a file never runs unless the user names the same one.
  const recorded: RecordedProgram | undefined = family.command !== undefined
    ? { kind: "command", words: wordsOf(family.command) }
    : family.module !== undefined
    ? { kind: "module", url: family.module }
    : undefined;
  const named = {
    command: typeof typed === "string" ? wordsOf(typed) : undefined,
    module: typeof typedModule === "string" ? typedModule : undefined,
  };
  let decision: "none" | "named" | "not named" | "another";
  try {
    decision = checkNamedProgram(recorded, named);
  } catch {
    decision = "another"; // Its words or kind differ from the recorded program's.
  }
  const given = typed ?? typedModule;
  if (recorded === undefined && given !== undefined) {
    const flag = typed === undefined ? "--generator-module" : "--generator-cmd";
    throw new UsageError(
      `Cannot use "${flag}" value ${quote(String(given))} with a recipe whose family is ` +
        `${quote(family.name)}: expected it only when the recipe names the same program`,
    );
  }
  if (recorded !== undefined && decision !== "named") {
    const [noun, flag, kind] = recorded.kind === "command"
      ? ["renderer command", "--generator-cmd", "command"]
      : ["family module", "--generator-module", "module"];
    throw new UsageError(
      `Cannot run the recipe's ${noun} ${quote(family.command ?? family.module!)} unless ` +
        `"${flag}" names the same ${kind} (given: ${
          given === undefined ? "none" : quote(String(given))
        })`,
    );
  }
  if (family.command !== undefined) {
    return {
      name: family.name,
      command: wordsOf(family.command),
      cwd: "",
      options: family.options,
      ...(family.version === undefined ? {} : { version: family.version }),
    };
  }
  if (family.module === undefined && !generators.names().includes(family.name)) {
    throw new RecipeError(
      "family.name",
      family.name,
      `one of ${generators.names().join(", ")}, or a family with a module`,
    );
  }
  return {
    name: family.name,
    ...(family.module === undefined ? {} : { module: family.module }),
    ...(family.version === undefined ? {} : { version: family.version }),
    options: family.options,
  };
}

function wordsOf(command: string): string[] {
  try {
    return splitCommand(command);
  } catch {
    return [command];
  }
}

/**
 * Checks a recipe's splits against its family's grid: predicates and distributions, counts,
 * and that the regions are disjoint (and, for a grid run, cover the grid).
 */
function checkSplits(
  recipe: Recipe,
  family: FamilyRef,
): { numImages: number; split: SplitRef }[] {
  const splits = recipe.splits!;
  const registry = family.module === undefined && family.command === undefined;
  const created = registry ? generators.get(family.name) : undefined;
  const gridRun = Boolean(family.options.grid);
  if (recipe.num_images !== undefined && !gridRun) {
    throw new RecipeError(
      "num_images",
      recipe.num_images,
      "no top-level count with splits: each split gives its num_images",
    );
  }
  const refs = splits.map((split, index): SplitRef => {
    const path = `splits[${index}]`;
    if (gridRun && split.num_images !== undefined) {
      throw new RecipeError(
        `${path}.num_images`,
        split.num_images,
        "no count in a grid run: a grid split holds each combination of its region once",
      );
    }
    if (!gridRun && split.num_images === undefined) {
      throw new RecipeError(`${path}.num_images`, undefined, "the split's number of images");
    }
    if (gridRun && (split.factors !== undefined || split.correlations !== undefined)) {
      throw new RecipeError(
        `${path}.${split.factors !== undefined ? "factors" : "correlations"}`,
        split.factors ?? split.correlations,
        "no distribution in a grid run: a grid split holds each combination once",
      );
    }
    return {
      name: split.name,
      where: expandedWhere(splits, index),
      mode: gridRun ? "grid" : "random",
      ...(split.factors === undefined ? {} : { factors: split.factors }),
      ...(split.correlations === undefined ? {} : { correlations: split.correlations }),
    };
  });
  if (created === undefined) {
    // A module's family is checked when the run creates it.
    return refs.map((split, index) => ({ numImages: splits[index]!.num_images ?? 0, split }));
  }
  const imageSize = recipe.image_size ?? created.defaultImageSize ?? 16;
  const options = gridRun ? family.options : { ...family.options, grid: true };
  const notGridded = () =>
    new RecipeError("splits", "(splits)", `a family with a grid of factors, not ${family.name}`);
  let grid;
  try {
    grid = created.create({ imageSize, options });
  } catch (error) {
    // A family that takes its options but not a grid (scenes) has no regions to split.
    if (!gridRun && canCreate(() => created.create({ imageSize, options: family.options }))) {
      throw notGridded();
    }
    throw new RecipeError("family.options", family.options, (error as Error).message);
  }
  const table = gridTable(grid);
  if (grid.sampleClasses === undefined || grid.fixedNumImages !== table.combinations) {
    throw notGridded();
  }
  // Each split's region (kept for the run's plan), then which split holds each combination.
  const owner = new Int8Array(table.combinations).fill(-1);
  const counts = refs.map((split, index) => {
    const region = splitRegion(grid, split, `splits[${index}]`);
    for (const combination of region.combinations) {
      const holder = owner[combination]!;
      if (holder >= 0) {
        throw new RecipeError(
          `splits[${index}].where`,
          splits[index]!.where,
          `a region disjoint from split "${splits[holder]!.name}"'s: both hold ` +
            describeCombination(grid, combination),
        );
      }
      owner[combination] = index;
    }
    if (region.combinations.length === 0) {
      throw new RecipeError(
        `splits[${index}].where`,
        splits[index]!.where,
        "a region holding at least one combination (with positive weight)",
      );
    }
    return region.combinations.length;
  });
  if (gridRun) {
    const left = owner.indexOf(-1);
    if (left >= 0) {
      throw new RecipeError(
        "splits",
        splits.map((split) => split.name),
        `splits that cover the grid: none holds ${describeCombination(grid, left)} (add a ` +
          'split with "where": "rest")',
      );
    }
  }
  return refs.map((split, index) => ({
    numImages: gridRun ? counts[index]! : splits[index]!.num_images!,
    split,
  }));
}

/** A combination as its factor values, e.g. `ellipse color=1 shape=2 scale=0.7 ...`. */
function describeCombination(grid: ImageGenerator, combination: number): string {
  const latents = new Float32Array(grid.latents.length);
  const label = grid.sample(0, combination, latents, 0);
  return `${grid.classes[label]} ${
    grid.latents.map((latent, index) => `${latent.name}=${Number(latents[index]!.toPrecision(6))}`)
      .join(" ")
  }`;
}

/**
 * The recipe as metadata.json records it: every field filled in (seed, count, size, dtype,
 * name, the family's version).
 *
 * @param recipe The recipe after overrides.
 * @param filled The run's values.
 * @returns The recorded recipe, as JSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordedRecipe } from "./recipe_args.ts";
 * const json = recordedRecipe({ family: { name: "shapes", options: {} } }, { seed: 3,
 *   numImages: 10, imageSize: 16, dtype: "uint8", name: "shapes16", version: "1.0.0" });
 * assert.equal(json.seed, 3);
 * ```
 */
export function recordedRecipe(
  recipe: Recipe,
  filled: {
    seed: number;
    numImages: number;
    imageSize: number;
    dtype: string;
    name: string;
    version?: string;
  },
): { [key: string]: JsonValue } {
  const family: { [key: string]: JsonValue } = { ...recipe.family };
  if (filled.version !== undefined) family.version = filled.version;
  return {
    family,
    image_size: filled.imageSize,
    dtype: filled.dtype,
    seed: filled.seed,
    ...(recipe.splits === undefined ? { num_images: filled.numImages } : {}),
    name: filled.name,
    ...(recipe.splits === undefined ? {} : { splits: recipe.splits as unknown as JsonValue[] }),
  };
}

/** Whether creating a family this way succeeds. */
function canCreate(create: () => unknown): boolean {
  try {
    create();
    return true;
  } catch {
    return false;
  }
}
