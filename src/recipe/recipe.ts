/**
 * Recipe files: a dataset named by a small JSON file that makes it again, byte for byte.
 *
 * ```json
 * {
 *   "family": { "name": "dsprites", "options": { "grid": true } },
 *   "image_size": 64,
 *   "dtype": "uint8",
 *   "seed": 0,
 *   "name": "dsprites64-extrapolation",
 *   "splits": [
 *     { "name": "test", "where": { "preset": "montero_extrapolation" } },
 *     { "name": "train", "where": "rest" }
 *   ]
 * }
 * ```
 *
 * Keys are snake_case, as in metadata.json; an unknown key is an error. A version's
 * metadata.json is a recipe too ({@linkcode recipeFromMetadata}): its `recipe` field, or, for
 * versions written before recipes, its camelCase `spec`. The schema is documented in
 * docs/recipes.md.
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import { childPath, type JsonObject, objectWith, RecipeError } from "./recipe_error.ts";
import type { PredicateJson } from "./predicate.ts";

/** The family of a recipe: a registry name, a module's family, or an external renderer. */
export interface RecipeFamily {
  /** The family's name (`renderer` for an external renderer). */
  name: string;
  /** The family's own options, e.g. `{ "grid": true }`; `{}` for none. */
  options: { [key: string]: JsonValue };
  /** The URL of a module exporting the family, for families of the user's own. */
  module?: string;
  /**
   * An external renderer's command as typed; it runs only when `--generator-cmd` names the
   * same command.
   */
  command?: string;
  /** The family's version; a remake refuses a family whose version differs. */
  version?: string;
}

/** One split of a recipe. */
export interface RecipeSplit {
  /** The split's name: its archive is `<name>.npz`. */
  name: string;
  /** Its region: a predicate (src/recipe/predicate.ts), or `"rest"`: no other split's. */
  where: PredicateJson | "rest";
  /** Random runs: the split's number of images. Grid runs: absent (its region's size). */
  num_images?: number;
  /** Random runs: per-factor distributions (src/recipe/distribution.ts). */
  factors?: { [key: string]: JsonValue };
  /** Random runs: correlated pairs (src/recipe/distribution.ts). */
  correlations?: JsonValue[];
}

/** A checked recipe: every field the flags of `dsgen generate` can say, and splits. */
export interface Recipe {
  /** The family. */
  family: RecipeFamily;
  /** The image side in pixels. */
  image_size?: number;
  /** `uint8` or `float64`. */
  dtype?: "uint8" | "float64";
  /** The dataset seed, 0 to 4294967295. */
  seed?: number;
  /** The number of images (random runs without splits; a grid's size if given). */
  num_images?: number;
  /** The dataset folder's name. */
  name?: string;
  /** Named splits, each its own archive in the version. */
  splits?: RecipeSplit[];
}

/** The keys a recipe accepts at its top level. */
export const RECIPE_KEYS = [
  "family",
  "image_size",
  "dtype",
  "seed",
  "num_images",
  "name",
  "splits",
] as const;

const SPLIT_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RecipeError(path, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Checks a parsed recipe's shape: keys, types and ranges. The family's factors, the splits'
 * predicates and distributions are checked against the family later (`checkRecipeFamily` in
 * the command), where the family is known.
 *
 * @param json What `JSON.parse` returned.
 * @returns The recipe.
 * @throws {RecipeError} Naming the JSON path of the first bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecipe } from "./recipe.ts";
 * const recipe = parseRecipe({ family: "dsprites", seed: 1, num_images: 10 });
 * assert.deepEqual(recipe.family, { name: "dsprites", options: {} });
 * assert.throws(() => parseRecipe({ family: "dsprites", sed: 1 }), /"sed"/);
 * ```
 */
export function parseRecipe(json: unknown): Recipe {
  const object = objectWith(json, "", RECIPE_KEYS);
  if (object.family === undefined) {
    throw new RecipeError("family", undefined, 'a family name or { "name", "options" }');
  }
  const recipe: Recipe = { family: parseFamily(object.family) };
  if (object.image_size !== undefined) {
    recipe.image_size = integer(object.image_size, "image_size", 4, 256);
  }
  if (object.dtype !== undefined) {
    if (object.dtype !== "uint8" && object.dtype !== "float64") {
      throw new RecipeError("dtype", object.dtype, "one of uint8, float64");
    }
    recipe.dtype = object.dtype;
  }
  if (object.seed !== undefined) recipe.seed = integer(object.seed, "seed", 0, 4294967295);
  if (object.num_images !== undefined) {
    recipe.num_images = integer(object.num_images, "num_images", 1, 1_000_000_000);
  }
  if (object.name !== undefined) {
    const name = object.name;
    if (
      typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) ||
      name.includes("..")
    ) {
      throw new RecipeError(
        "name",
        name,
        "1 to 100 letters, digits, '-', '_' and '.', starting with a letter or digit",
      );
    }
    recipe.name = name;
  }
  if (object.splits !== undefined) recipe.splits = parseSplits(object.splits);
  return recipe;
}

function parseFamily(value: unknown): RecipeFamily {
  if (typeof value === "string") {
    if (value === "") throw new RecipeError("family", value, "a family name");
    return { name: value, options: {} };
  }
  const object = objectWith(value, "family", ["name", "options", "module", "command", "version"]);
  const family: RecipeFamily = { name: "", options: {} };
  if (typeof object.name !== "string" || object.name === "") {
    throw new RecipeError("family.name", object.name, "a family name, e.g. dsprites");
  }
  family.name = object.name;
  if (object.options !== undefined) {
    const options = objectWith(object.options, "family.options", Object.keys(object.options ?? {}));
    family.options = options as { [key: string]: JsonValue };
  }
  for (const key of ["module", "command", "version"] as const) {
    const given = object[key];
    if (given === undefined) continue;
    if (typeof given !== "string" || given === "") {
      throw new RecipeError(childPath("family", key), given, "a non-empty string");
    }
    family[key] = given;
  }
  if (family.module !== undefined && family.command !== undefined) {
    throw new RecipeError("family.command", family.command, "no command with a module");
  }
  return family;
}

function parseSplits(value: unknown): RecipeSplit[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RecipeError("splits", value, "a non-empty array of { name, where, ... }");
  }
  const names = new Set<string>();
  let rest = 0;
  return value.map((given, index) => {
    const path = childPath("splits", index);
    const object: JsonObject = objectWith(given, path, [
      "name",
      "where",
      "num_images",
      "factors",
      "correlations",
    ]);
    const name = object.name;
    if (typeof name !== "string" || !SPLIT_NAME.test(name) || name === "dataset") {
      throw new RecipeError(
        childPath(path, "name"),
        name,
        "1 to 40 lowercase letters, digits, '-' and '_' (not dataset)",
      );
    }
    if (names.has(name)) {
      throw new RecipeError(childPath(path, "name"), name, "a name no other split has");
    }
    names.add(name);
    if (object.where === undefined) {
      throw new RecipeError(childPath(path, "where"), undefined, 'a predicate or "rest"');
    }
    if (object.where === "rest" && ++rest > 1) {
      throw new RecipeError(childPath(path, "where"), "rest", 'one split only with "rest"');
    }
    const split: RecipeSplit = { name, where: object.where as PredicateJson | "rest" };
    if (object.num_images !== undefined) {
      split.num_images = integer(object.num_images, childPath(path, "num_images"), 1, 1e9);
    }
    if (object.factors !== undefined) {
      split.factors = objectWith(object.factors, childPath(path, "factors"), [
        ...Object.keys(object.factors ?? {}),
      ]) as { [key: string]: JsonValue };
    }
    if (object.correlations !== undefined) {
      if (!Array.isArray(object.correlations)) {
        throw new RecipeError(
          childPath(path, "correlations"),
          object.correlations,
          "an array of { factors, sigma, inverse }",
        );
      }
      split.correlations = object.correlations as JsonValue[];
    }
    return split;
  });
}

/**
 * A split's region as its generator takes it: `"rest"` becomes "none of the other splits".
 *
 * @param splits The recipe's splits.
 * @param index Which split.
 * @returns The predicate.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandedWhere } from "./recipe.ts";
 * const splits = [{ name: "test", where: { class: "square" } }, { name: "train", where: "rest" as const }];
 * assert.deepEqual(expandedWhere(splits, 1), { not: { any: [{ class: "square" }] } });
 * ```
 */
export function expandedWhere(splits: readonly RecipeSplit[], index: number): PredicateJson {
  const where = splits[index]!.where;
  if (where !== "rest") return where;
  return {
    not: { any: splits.filter((_, other) => other !== index).map((split) => split.where) },
  };
}

/** What a version's metadata.json says a remake must reproduce. */
export interface RecordedVersion {
  /** The version's files with their sizes and SHA-256. */
  files: { name: string; bytes: number; sha256: string }[];
  /** The recorded arrays of each archive, by file name. */
  arrays: Record<string, { name: string; dtype: string; shape: number[] }[]>;
}

/**
 * Whether a parsed JSON file is a version's metadata.json rather than a recipe.
 *
 * @param json What `JSON.parse` returned.
 * @returns True when it has `schema_version` and `files`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMetadata } from "./recipe.ts";
 * assert.equal(isMetadata({ schema_version: 1, files: [] }), true);
 * assert.equal(isMetadata({ family: "shapes" }), false);
 * ```
 */
export function isMetadata(json: unknown): boolean {
  return typeof json === "object" && json !== null && "schema_version" in json &&
    "files" in json;
}

/**
 * The recipe of a version, from its metadata.json: its `recipe` field, or (versions written
 * before recipes) its camelCase `spec`; and what the remake must reproduce.
 *
 * @param json The parsed metadata.json.
 * @returns The recipe and the recorded files and arrays.
 * @throws {RecipeError} When the record holds neither.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recipeFromMetadata } from "./recipe.ts";
 * const { recipe } = recipeFromMetadata({ schema_version: 1, dataset: "shapes16", files: [],
 *   arrays: [], spec: { family: { name: "shapes", options: {}, version: "1.0.0" }, seed: 4,
 *   numImages: 10, imageSize: 16, dtype: "uint8" } });
 * assert.equal(recipe.num_images, 10);
 * assert.equal(recipe.family.version, "1.0.0");
 * ```
 */
export function recipeFromMetadata(
  json: unknown,
): { recipe: Recipe; recorded: RecordedVersion } {
  const record = json as JsonObject;
  const files = Array.isArray(record.files) ? record.files as RecordedVersion["files"] : [];
  const arrays: RecordedVersion["arrays"] = {};
  if (Array.isArray(record.arrays) && record.arrays.length > 0) {
    arrays["dataset.npz"] = record.arrays as RecordedVersion["arrays"][string];
  }
  if (Array.isArray(record.splits)) {
    for (const split of record.splits as JsonObject[]) {
      arrays[split.file as string] = split.arrays as RecordedVersion["arrays"][string];
    }
  }
  const recorded = { files, arrays };
  if (record.recipe !== undefined) return { recipe: parseRecipe(record.recipe), recorded };
  const spec = record.spec as JsonObject | undefined;
  if (typeof spec !== "object" || spec === null) {
    throw new RecipeError(
      "spec",
      undefined,
      "a metadata.json with a recipe or spec (written by dsgen 0.1.0 or later)",
    );
  }
  const family = objectWith(spec.family, "spec.family", [
    "name",
    "options",
    "module",
    "command",
    "cwd",
    "version",
    "split",
  ]);
  const renderer = record.renderer as JsonObject | undefined;
  const recipe: Recipe = {
    family: {
      name: family.name as string,
      options: (family.options ?? {}) as { [key: string]: JsonValue },
      ...(family.module === undefined ? {} : { module: family.module as string }),
      ...(family.command === undefined ? {} : {
        command: typeof renderer?.command === "string"
          ? renderer.command
          : (family.command as string[]).join(" "),
      }),
      ...(family.version === undefined ? {} : { version: family.version as string }),
    },
    image_size: spec.imageSize as number,
    dtype: spec.dtype as "uint8" | "float64",
    seed: spec.seed as number,
    num_images: spec.numImages as number,
    ...(typeof record.dataset === "string" ? { name: record.dataset } : {}),
  };
  return { recipe: parseRecipe(recipe), recorded };
}
