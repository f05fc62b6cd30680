/**
 * The dataset spec: everything that decides a dataset's arrays, as plain JSON.
 *
 * A spec is the one value that crosses boundaries: the command line and the library build it,
 * worker threads and external renderers receive it, each cluster slice records it (a merge
 * refuses slices whose spec differs), metadata.json keeps it and `verify` rebuilds the
 * generator from it. Two runs with equal specs write byte-identical arrays.
 *
 * A family is named by a {@linkcode FamilyRef}: a registry name for the families dsgen ships, or
 * the URL of a module that exports `family` for a family of the user's own, so that worker
 * threads can import it too.
 *
 * @module
 */

import type { GeneratorFamily, ImageGenerator, JsonValue } from "./generator.ts";
import { generators } from "./registry.ts";
import {
  adoptRegions,
  createSplitGenerator,
  type SharedRegions,
  sharedRegions,
  type SplitRef,
} from "../recipe/split_generator.ts";

/** The image dtypes dsgen writes. */
export type ImageDtype = "uint8" | "float64";

/** Which family renders a dataset, and how it is configured. */
export interface FamilyRef {
  /** The family's name: its registry name, or the `name` of the module's family. */
  name: string;
  /**
   * The URL of a module whose `family` export is the family (`file:///...` or any URL Deno can
   * import); absent for the families in the registry.
   */
  module?: string;
  /**
   * The words of an external renderer's command (`--generator-cmd`, see
   * docs/renderer_protocol.md); absent for families that are modules.
   */
  command?: string[];
  /** The folder an external renderer's command runs in. */
  cwd?: string;
  /** The family's version, as its generator reports it; filled in once it is resolved. */
  version?: string;
  /** The family's own options (e.g. a grid's values per factor), as JSON; `{}` for none. */
  options: { [key: string]: JsonValue };
  /**
   * One split of a recipe's dataset (`src/recipe/split_generator.ts`): the family's grid
   * restricted to the split's region and drawn from its distribution; absent for a whole
   * dataset.
   */
  split?: SplitRef;
}

/** What to generate: equal specs give byte-identical arrays. */
export interface DatasetSpec {
  /** The family and its options. */
  family: FamilyRef;
  /** The dataset seed, an unsigned 32-bit integer. */
  seed: number;
  /** The number of images. */
  numImages: number;
  /** The side of every (square) image in pixels. */
  imageSize: number;
  /** The images' element type. */
  dtype: ImageDtype;
}

/**
 * Finds the family a reference names: imports its module, or looks it up in the registry.
 *
 * @param ref The family reference.
 * @returns The family.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadFamily } from "./spec.ts";
 * assert.equal((await loadFamily({ name: "shapes", options: {} })).name, "shapes");
 * ```
 */
export async function loadFamily(ref: FamilyRef): Promise<GeneratorFamily> {
  if (ref.command !== undefined) {
    throw new TypeError(
      `Cannot load "${ref.name}" as a module: it is the external renderer ` +
        `"${ref.command.join(" ")}"`,
    );
  }
  if (ref.module === undefined) return generators.get(ref.name);
  let exports: { family?: GeneratorFamily; default?: GeneratorFamily };
  try {
    exports = await import(ref.module);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new TypeError(`Cannot import generator module "${ref.module}": ${reason}`);
  }
  const family = exports.family ?? exports.default;
  if (typeof family?.create !== "function" || typeof family.name !== "string") {
    throw new TypeError(
      `Cannot use generator module "${ref.module}": expected it to export a family as "family"`,
    );
  }
  if (family.name !== ref.name) {
    throw new TypeError(
      `Cannot use generator module "${ref.module}": its family is "${family.name}", ` +
        `expected "${ref.name}"`,
    );
  }
  return family;
}

/**
 * Configures the spec's family for its image size and options, and checks its version.
 *
 * @param spec The dataset spec.
 * @returns The configured generator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createGenerator } from "./spec.ts";
 * const spec = {
 *   family: { name: "shapes", options: {} }, seed: 1, numImages: 10, imageSize: 16,
 *   dtype: "uint8" as const,
 * };
 * assert.equal((await createGenerator(spec)).imageSize, 16);
 * ```
 */
export async function createGenerator(
  spec: Pick<DatasetSpec, "family" | "imageSize">,
): Promise<ImageGenerator> {
  const family = await loadFamily(spec.family);
  const split = spec.family.split;
  const generator = split === undefined
    ? family.create({ imageSize: spec.imageSize, options: spec.family.options })
    : createSplitGenerator(family, {
      imageSize: spec.imageSize,
      options: spec.family.options,
      split,
    });
  const wanted = spec.family.version;
  if (wanted !== undefined && generator.version !== wanted) {
    throw new TypeError(
      `Cannot use generator ${spec.family.name} ${generator.version}: the spec asks for ` +
        `version ${wanted}`,
    );
  }
  return generator;
}

/**
 * What configuring families computed on this thread that another thread may reuse: today the
 * regions of recipe splits, in shared memory (posting them copies nothing). A render thread
 * {@linkcode adoptFamilyTables adopts} them before making its generators.
 */
export type FamilyTables = SharedRegions;

/**
 * The tables this thread's families computed, for worker threads (see {@linkcode FamilyTables}).
 *
 * @returns The tables; empty when there are none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { familyTables } from "./spec.ts";
 * assert.ok(Array.isArray(familyTables()));
 * ```
 */
export function familyTables(): FamilyTables {
  return sharedRegions();
}

/**
 * Adopts another thread's {@linkcode familyTables}: generators made here afterwards reuse them.
 *
 * @param tables The other thread's tables.
 * @example
 * ```ts
 * import { adoptFamilyTables } from "./spec.ts";
 * adoptFamilyTables([]);
 * ```
 */
export function adoptFamilyTables(tables: FamilyTables): void {
  adoptRegions(tables);
}

/** JSON with object keys sorted, so that equal values compare equal whatever their key order. */
export function canonicalJson(value: JsonValue | undefined): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${
      keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")
    }}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The first field in which two specs differ, as a dotted path, or undefined when they agree.
 *
 * @param expected The recorded spec.
 * @param actual The spec to compare with it.
 * @returns For example `seed`, `family.options.grid`, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { specDifference } from "./spec.ts";
 * const spec = {
 *   family: { name: "shapes", options: {} }, seed: 1, numImages: 10, imageSize: 16,
 *   dtype: "uint8" as const,
 * };
 * assert.equal(specDifference(spec, { ...spec, seed: 2 }), "seed");
 * assert.equal(specDifference(spec, structuredClone(spec)), undefined);
 * ```
 */
export function specDifference(expected: DatasetSpec, actual: DatasetSpec): string | undefined {
  const walk = (
    a: JsonValue | undefined,
    b: JsonValue | undefined,
    path: string,
  ): string | undefined => {
    const objects = typeof a === "object" && a !== null && !Array.isArray(a) &&
      typeof b === "object" && b !== null && !Array.isArray(b);
    if (!objects) return canonicalJson(a) === canonicalJson(b) ? undefined : path;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const found = walk(a[key], b[key], path === "" ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(
    expected as unknown as JsonValue,
    actual as unknown as JsonValue,
    "",
  );
}
