/**
 * Split predicates: which factor combinations belong to a split, as JSON.
 *
 * A predicate is one of
 *
 * | JSON                                              | true for a combination whose ...        |
 * | ------------------------------------------------- | --------------------------------------- |
 * | `{ "factor": "posX", "gt": 0.5 }`                 | factor compares so (`gt`, `ge`, `lt`, `le`, `eq`, `ne`; several in one object must all hold: a range) |
 * | `{ "factor": "scale", "in": [0.5, 1] }`           | factor takes one of the values          |
 * | `{ "class": "square" }`, `{ "class": ["a", "b"] }` | class is one of these                   |
 * | `{ "all": [p, ...] }`, `{ "any": [p, ...] }`, `{ "not": p }` | and, or, not                  |
 * | `{ "preset": "montero_extrapolation" }`           | a preset region (below)                 |
 * | `{ "random_fraction": 0.1, "salt": 0 }`           | hash of (salt, combination) falls in the first 10% |
 *
 * Comparisons use the factor's value as `latents_possible_values_<factor>` holds it (float64),
 * so `{ "factor": "scale", "gt": 0.6 }` excludes dSprites' scale 0.6 as numpy does on
 * dSprites' own latents; `eq`, `ne` and `in` also match a value given as its float32 (as
 * `latents` stores it).
 *
 * The presets are the held-out (test) regions of Montero et al. 2021's dSprites splits
 * (shape 1/2/3 = square/ellipse/heart):
 * - `montero_extrapolation`: posX > 0.5;
 * - `montero_recombination_to_range`: square and posX > 0.5;
 * - `montero_leave_one_out`: ellipse, scale > 0.6, 2π/3 < orientation < 4π/3, posX > 0.66 and
 *   posY > 0.66.
 *
 * @module
 */

import { mix32 } from "../generators/random.ts";
import { childPath, objectWith, RecipeError } from "./recipe_error.ts";

/** A predicate, as JSON (see the module's table). */
export type PredicateJson = boolean | { [key: string]: unknown };

/** The factors and classes a predicate may name. */
export interface FactorNames {
  /** The family's name, for messages. */
  family: string;
  /** The factors' names, in column order (dSprites: color, shape, scale, ...). */
  factors: readonly string[];
  /** The class names; a label indexes them. */
  classes: readonly string[];
}

/**
 * A compiled predicate: the factors' float64 values of one combination, its label and its index
 * in the full grid (for `random_fraction`).
 */
export type Predicate = (values: Float64Array, label: number, combination: number) => boolean;

const COMPARISONS = ["gt", "ge", "lt", "le", "eq", "ne", "in"] as const;

/** The preset regions, by name. */
export const PRESETS: Readonly<Record<string, PredicateJson>> = {
  montero_extrapolation: { factor: "posX", gt: 0.5 },
  montero_recombination_to_range: { all: [{ class: "square" }, { factor: "posX", gt: 0.5 }] },
  montero_leave_one_out: {
    all: [
      { class: "ellipse" },
      { factor: "scale", gt: 0.6 },
      { factor: "orientation", gt: (2 * Math.PI) / 3, lt: (4 * Math.PI) / 3 },
      { factor: "posX", gt: 0.66 },
      { factor: "posY", gt: 0.66 },
    ],
  },
};

const PREDICATE_FORMS = "true, false, or an object with factor, class, all, any, not, preset " +
  "or random_fraction";

/**
 * Checks a predicate against a family's factors and compiles it.
 *
 * @param json The predicate.
 * @param names The factors and classes it may name.
 * @param path Its JSON path in the recipe, for messages.
 * @returns The compiled predicate.
 * @throws {RecipeError} Naming the path of the first bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compilePredicate } from "./predicate.ts";
 * const names = { family: "dsprites", factors: ["shape", "posX"], classes: ["square", "ellipse"] };
 * const test = compilePredicate({ all: [{ class: "square" }, { factor: "posX", gt: 0.5 }] },
 *   names, "where");
 * assert.equal(test(new Float64Array([1, 0.6]), 0, 0), true);
 * assert.equal(test(new Float64Array([2, 0.6]), 1, 0), false);
 * assert.throws(() => compilePredicate({ factor: "posZ", gt: 0 }, names, "where"), /"where.factor"/);
 * ```
 */
export function compilePredicate(json: unknown, names: FactorNames, path: string): Predicate {
  if (json === true) return () => true;
  if (json === false) return () => false;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RecipeError(path, json, PREDICATE_FORMS);
  }
  const object = json as Record<string, unknown>;
  const keys = Object.keys(object);
  if ("all" in object || "any" in object) {
    const key = "all" in object ? "all" : "any";
    objectWith(object, path, [key]);
    const list = object[key];
    if (!Array.isArray(list)) {
      throw new RecipeError(childPath(path, key), list, "an array of predicates");
    }
    const parts = list.map((part, index) =>
      compilePredicate(part, names, childPath(childPath(path, key), index))
    );
    // Plain loops: a region is found by calling this once per combination of the grid.
    return key === "all"
      ? (values, label, combination) => {
        for (let index = 0; index < parts.length; index++) {
          if (!parts[index]!(values, label, combination)) return false;
        }
        return true;
      }
      : (values, label, combination) => {
        for (let index = 0; index < parts.length; index++) {
          if (parts[index]!(values, label, combination)) return true;
        }
        return false;
      };
  }
  if ("not" in object) {
    objectWith(object, path, ["not"]);
    const inner = compilePredicate(object.not, names, childPath(path, "not"));
    return (values, label, combination) => !inner(values, label, combination);
  }
  if ("preset" in object) {
    objectWith(object, path, ["preset"]);
    const preset = object.preset;
    if (typeof preset !== "string" || !Object.hasOwn(PRESETS, preset)) {
      throw new RecipeError(
        childPath(path, "preset"),
        preset,
        `one of ${Object.keys(PRESETS).join(", ")}`,
      );
    }
    const needed = ["scale", "orientation", "posX", "posY"];
    if (
      needed.some((name) => !names.factors.includes(name)) ||
      !["square", "ellipse"].every((name) => names.classes.includes(name))
    ) {
      throw new RecipeError(
        childPath(path, "preset"),
        preset,
        `a family with dSprites' factors (dsprites), not ${names.family}`,
      );
    }
    return compilePredicate(PRESETS[preset], names, `${childPath(path, "preset")}(${preset})`);
  }
  if ("random_fraction" in object) {
    objectWith(object, path, ["random_fraction", "salt"]);
    const fraction = object.random_fraction;
    if (typeof fraction !== "number" || !(fraction >= 0 && fraction <= 1)) {
      throw new RecipeError(childPath(path, "random_fraction"), fraction, "a number from 0 to 1");
    }
    const salt = object.salt ?? 0;
    if (typeof salt !== "number" || !Number.isInteger(salt) || salt < 0 || salt > 0xffffffff) {
      throw new RecipeError(childPath(path, "salt"), salt, "an integer from 0 to 4294967295");
    }
    const key = mix32(salt ^ 0x27d4eb2f);
    return (_values, _label, combination) =>
      mix32(key ^ mix32(combination + 0x9e3779b9)) / 4294967296 < fraction;
  }
  if ("class" in object) {
    objectWith(object, path, ["class"]);
    const given = object.class;
    const list = Array.isArray(given) ? given : [given];
    const labels = list.map((name, index) => {
      const label = typeof name === "string" ? names.classes.indexOf(name) : -1;
      if (label < 0) {
        throw new RecipeError(
          Array.isArray(given)
            ? childPath(childPath(path, "class"), index)
            : childPath(path, "class"),
          name,
          `a class of ${names.family}: ${names.classes.join(", ")}`,
        );
      }
      return label;
    });
    return (_values, label) => labels.includes(label);
  }
  if ("factor" in object) {
    objectWith(object, path, ["factor", ...COMPARISONS]);
    const factor = names.factors.indexOf(object.factor as string);
    if (typeof object.factor !== "string" || factor < 0) {
      throw new RecipeError(
        childPath(path, "factor"),
        object.factor,
        `a factor of ${names.family}: ${names.factors.join(", ")}`,
      );
    }
    const tests: ((value: number) => boolean)[] = [];
    for (const comparison of COMPARISONS) {
      if (!(comparison in object)) continue;
      const given = object[comparison];
      const at = childPath(path, comparison);
      if (comparison === "in") {
        if (!Array.isArray(given) || given.some((value) => !Number.isFinite(value))) {
          throw new RecipeError(at, given, "an array of numbers");
        }
        const set = given as number[];
        tests.push((value) => set.some((member) => sameValue(value, member)));
        continue;
      }
      if (typeof given !== "number" || !Number.isFinite(given)) {
        throw new RecipeError(at, given, "a number");
      }
      tests.push(
        comparison === "gt"
          ? (value) => value > given
          : comparison === "ge"
          ? (value) => value >= given
          : comparison === "lt"
          ? (value) => value < given
          : comparison === "le"
          ? (value) => value <= given
          : comparison === "eq"
          ? (value) => sameValue(value, given)
          : (value) => !sameValue(value, given),
      );
    }
    if (tests.length === 0) {
      throw new RecipeError(path, object, `a comparison too: ${COMPARISONS.join(", ")}`);
    }
    return (values) => {
      const value = values[factor]!;
      for (let index = 0; index < tests.length; index++) if (!tests[index]!(value)) return false;
      return true;
    };
  }
  throw new RecipeError(path, keys.length === 0 ? object : keys[0], PREDICATE_FORMS);
}

/** What a predicate reads of a combination. */
export interface PredicateReads {
  /** The factors (indices) whose values it compares. */
  factors: number[];
  /** Whether it reads the class. */
  label: boolean;
  /** Whether it reads the combination's grid index (`random_fraction`). */
  combination: boolean;
}

/**
 * What a predicate reads of a combination, so that a region can be found a block of
 * combinations at a time where the predicate cannot change (the factors it does not read).
 *
 * @param json A predicate that {@linkcode compilePredicate} accepted.
 * @param names The family's factors and classes.
 * @returns The factors, and whether the class or the grid index are read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predicateReads } from "./predicate.ts";
 * const names = { family: "dsprites", classes: ["square", "ellipse", "heart"],
 *   factors: ["color", "shape", "scale", "orientation", "posX", "posY"] };
 * assert.deepEqual(predicateReads({ preset: "montero_recombination_to_range" }, names),
 *   { factors: [4], label: true, combination: false });
 * ```
 */
export function predicateReads(json: unknown, names: FactorNames): PredicateReads {
  const reads: PredicateReads = { factors: [], label: false, combination: false };
  const visit = (node: unknown) => {
    if (typeof node !== "object" || node === null) return;
    const object = node as Record<string, unknown>;
    if (Array.isArray(object.all)) object.all.forEach(visit);
    else if (Array.isArray(object.any)) object.any.forEach(visit);
    else if ("not" in object) visit(object.not);
    else if (typeof object.preset === "string") visit(PRESETS[object.preset]);
    else if ("random_fraction" in object) reads.combination = true;
    else if ("class" in object) reads.label = true;
    else if (typeof object.factor === "string") {
      const factor = names.factors.indexOf(object.factor);
      if (!reads.factors.includes(factor)) reads.factors.push(factor);
    }
  };
  visit(json);
  return reads;
}

/** Whether a factor's value equals a given number, as float64 or as float32. */
function sameValue(value: number, given: number): boolean {
  return value === given || Math.fround(value) === Math.fround(given);
}
