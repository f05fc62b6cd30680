/**
 * Factor distributions of a split: how often each factor combination of the split's region is
 * drawn, as JSON. Uniform over the region unless the split says otherwise:
 *
 * ```json
 * "factors": {
 *   "color": { "fixed": 1 },
 *   "shape": { "values": [1, 3] },
 *   "scale": { "weights": [1, 1, 1, 2, 2, 2] }
 * },
 * "correlations": [{ "factors": ["orientation", "posX"], "sigma": 0.2, "inverse": false }]
 * ```
 *
 * A combination's weight is the product of its factors' weights (`fixed`: one value;
 * `values`: a subset; `weights`: one non-negative weight per value, in index order) and, for
 * each correlated pair, `exp(-(c1 - c2)^2 / (2 sigma^2))` (Träuble et al. 2021), where c is the
 * value's index over the factor's number of values minus one (its place between the first and
 * last value: values normalised to [0, 1]); `inverse` uses 1 - c2 (an anti-correlation).
 *
 * @module
 */

import { childPath, objectWith, RecipeError } from "./recipe_error.ts";

/** A factor of the grid, for distributions: its name and its values (of the first class). */
export interface DistributionFactor {
  /** The factor's name. */
  name: string;
  /** Its values in index order; per-class factors give their number of values only. */
  values?: readonly number[];
  /** The number of values. */
  size: number;
}

/**
 * A compiled distribution: the weight of a combination given its factors' value indices;
 * `uniform` when every weight is 1.
 */
export interface Distribution {
  /** Whether every combination weighs 1. */
  uniform: boolean;
  /** The weight of the combination whose value indices are `indices`. */
  weight(indices: Int32Array): number;
  /** The factors (indices) whose value indices the weight reads. */
  reads: readonly number[];
}

/**
 * Checks a split's `factors` and `correlations` against the grid's factors and compiles them.
 *
 * @param json The split's `factors` and `correlations` (either may be undefined).
 * @param factors The grid's factors.
 * @param path The split's JSON path, for messages.
 * @returns The compiled distribution.
 * @throws {RecipeError} Naming the path of the first bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileDistribution } from "./distribution.ts";
 * const factors = [{ name: "a", values: [0, 1], size: 2 }, { name: "b", values: [0, 1], size: 2 }];
 * const same = compileDistribution({
 *   correlations: [{ factors: ["a", "b"], sigma: 0.5 }],
 * }, factors, "splits[0]");
 * assert.ok(same.weight(Int32Array.of(0, 0)) > same.weight(Int32Array.of(0, 1)));
 * const fixed = compileDistribution({ factors: { a: { fixed: 1 } } }, factors, "splits[0]");
 * assert.equal(fixed.weight(Int32Array.of(0, 0)), 0);
 * ```
 */
export function compileDistribution(
  json: { factors?: unknown; correlations?: unknown },
  factors: readonly DistributionFactor[],
  path: string,
): Distribution {
  const names = factors.map((factor) => factor.name);
  const tables: (Float64Array | undefined)[] = factors.map(() => undefined);
  if (json.factors !== undefined) {
    const at = childPath(path, "factors");
    const object = objectWith(json.factors, at, names);
    for (const [name, given] of Object.entries(object)) {
      const index = names.indexOf(name);
      const factor = factors[index]!;
      const fieldPath = childPath(at, name);
      const spec = objectWith(given, fieldPath, ["fixed", "values", "weights"]);
      const forms = Object.keys(spec);
      if (forms.length !== 1) {
        throw new RecipeError(fieldPath, given, "exactly one of fixed, values, weights");
      }
      const table = new Float64Array(factor.size);
      const indexOf = (value: unknown, valuePath: string) => {
        const found = typeof value === "number" && factor.values !== undefined
          ? factor.values.findIndex((member) =>
            member === value || Math.fround(member) === Math.fround(value)
          )
          : -1;
        if (found < 0) {
          throw new RecipeError(
            valuePath,
            value,
            factor.values === undefined
              ? `weights for ${name}: its values depend on the class`
              : `one of ${name}'s values: ${factor.values.join(", ")}`,
          );
        }
        return found;
      };
      if ("fixed" in spec) table[indexOf(spec.fixed, childPath(fieldPath, "fixed"))] = 1;
      if ("values" in spec) {
        const valuesPath = childPath(fieldPath, "values");
        if (!Array.isArray(spec.values) || spec.values.length === 0) {
          throw new RecipeError(valuesPath, spec.values, `a non-empty array of ${name}'s values`);
        }
        spec.values.forEach((value, position) => {
          table[indexOf(value, childPath(valuesPath, position))] = 1;
        });
      }
      if ("weights" in spec) {
        const weights = spec.weights;
        if (
          !Array.isArray(weights) || weights.length !== factor.size ||
          weights.some((weight) => typeof weight !== "number" || !(weight >= 0) || weight > 1e300)
        ) {
          throw new RecipeError(
            childPath(fieldPath, "weights"),
            weights,
            `${factor.size} non-negative numbers, one per value of ${name}`,
          );
        }
        table.set(weights as number[]);
      }
      tables[index] = table;
    }
  }
  const pairs: { first: number; second: number; sigma: number; inverse: boolean }[] = [];
  if (json.correlations !== undefined) {
    const at = childPath(path, "correlations");
    if (!Array.isArray(json.correlations)) {
      throw new RecipeError(at, json.correlations, "an array of { factors, sigma, inverse }");
    }
    json.correlations.forEach((given, position) => {
      const pairPath = childPath(at, position);
      const spec = objectWith(given, pairPath, ["factors", "sigma", "inverse"]);
      const pair = spec.factors;
      const pairNames = `two different factors of ${names.join(", ")}`;
      if (
        !Array.isArray(pair) || pair.length !== 2 || pair[0] === pair[1] ||
        pair.some((name) => !names.includes(name as string))
      ) {
        throw new RecipeError(childPath(pairPath, "factors"), pair, pairNames);
      }
      const sigma = spec.sigma;
      if (typeof sigma !== "number" || !(sigma > 0) || !Number.isFinite(sigma)) {
        throw new RecipeError(childPath(pairPath, "sigma"), sigma, "a positive number");
      }
      const inverse = spec.inverse ?? false;
      if (typeof inverse !== "boolean") {
        throw new RecipeError(childPath(pairPath, "inverse"), inverse, "true or false");
      }
      pairs.push({
        first: names.indexOf(pair[0] as string),
        second: names.indexOf(pair[1] as string),
        sigma,
        inverse,
      });
    });
  }
  // Each pair's factor, as a table over the two factors' value indices.
  const pairTables = pairs.map(({ first, second, sigma, inverse }) => {
    const rows = factors[first]!.size, columns = factors[second]!.size;
    const table = new Float64Array(rows * columns);
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const c1 = rows > 1 ? row / (rows - 1) : 0;
        const raw = columns > 1 ? column / (columns - 1) : 0;
        const c2 = inverse ? 1 - raw : raw;
        table[row * columns + column] = Math.exp(-((c1 - c2) ** 2) / (2 * sigma * sigma));
      }
    }
    return { first, second, columns, table };
  });
  const weighted = tables.flatMap((table, index) => table === undefined ? [] : [index]);
  return {
    uniform: weighted.length === 0 && pairs.length === 0,
    reads: [...new Set([...weighted, ...pairs.flatMap((pair) => [pair.first, pair.second])])],
    weight(indices: Int32Array): number {
      let weight = 1;
      for (let at = 0; at < weighted.length; at++) {
        const index = weighted[at]!;
        weight *= tables[index]![indices[index]!]!;
      }
      for (let at = 0; at < pairTables.length; at++) {
        const { first, second, columns, table } = pairTables[at]!;
        weight *= table[indices[first]! * columns + indices[second]!]!;
      }
      return weight;
    },
  };
}
