/**
 * Whether the classes of a dataset are balanced: Pearson's chi-square test of the class counts
 * against equal expected counts, and the ratio of the largest count to the smallest.
 *
 * Generators draw the class uniformly, so under a correct generator the statistic follows a
 * chi-square distribution with C - 1 degrees of freedom and the p-value is uniform on [0, 1].
 * The verdict is `fail` below p = 1e-6 (a correct dataset fails once in a million), `warn`
 * below p = 0.001, and `pass` otherwise; a class with no image at all fails whenever the
 * dataset has at least 5 images per class (where the test is reliable).
 *
 * @module
 */

/** A check's outcome. */
export type Verdict = "pass" | "warn" | "fail";

/** The balance of a set of class counts. */
export interface ClassBalance {
  /** Pearson's statistic, the sum of (count - expected)² / expected. */
  chiSquare: number;
  /** Number of classes minus one. */
  degreesOfFreedom: number;
  /** Probability of a statistic at least this large under equal class probabilities. */
  pValue: number;
  /** Largest count over smallest; null when the smallest is 0. */
  maxMinRatio: number | null;
  /** The verdict, see the module doc. */
  verdict: Verdict;
}

const FAIL_P = 1e-6;
const WARN_P = 1e-3;

/**
 * Tests class counts against equal class probabilities.
 *
 * @param counts The number of images of each class, at least two classes.
 * @returns The statistic, its p-value, the max/min ratio and a verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classBalance } from "./class_balance.ts";
 *
 * assert.equal(classBalance([331, 339, 330]).verdict, "pass");
 * assert.equal(classBalance([500, 300, 200]).verdict, "fail");
 * assert.equal(classBalance([10, 0, 12]).maxMinRatio, null);
 * ```
 */
export function classBalance(counts: readonly number[]): ClassBalance {
  if (counts.length < 2) {
    throw new RangeError(`Cannot test the balance of ${counts.length} class: expected 2 or more`);
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  const expected = total / counts.length;
  const chiSquare = total === 0
    ? 0
    : counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  const degreesOfFreedom = counts.length - 1;
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  const smallest = Math.min(...counts);
  const maxMinRatio = smallest === 0 ? null : Math.max(...counts) / smallest;
  const emptyClass = smallest === 0 && expected >= 5;
  const verdict: Verdict = pValue < FAIL_P || emptyClass
    ? "fail"
    : pValue < WARN_P
    ? "warn"
    : "pass";
  return { chiSquare, degreesOfFreedom, pValue, maxMinRatio, verdict };
}

/**
 * The probability that a chi-square variable with `degreesOfFreedom` exceeds `statistic`:
 * the regularized upper incomplete gamma function Q(k / 2, x / 2).
 *
 * @param statistic The observed statistic, at least 0.
 * @param degreesOfFreedom The degrees of freedom, at least 1.
 * @returns The p-value, from 0 to 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chiSquareSurvival } from "./class_balance.ts";
 *
 * assert.ok(Math.abs(chiSquareSurvival(5.991464547, 2) - 0.05) < 1e-9);
 * assert.equal(chiSquareSurvival(0, 2), 1);
 * ```
 */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (!(degreesOfFreedom >= 1)) {
    throw new RangeError(`Cannot use ${degreesOfFreedom} degrees of freedom: expected 1 or more`);
  }
  if (!(statistic > 0)) return 1;
  const a = degreesOfFreedom / 2;
  const x = statistic / 2;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperContinuedFraction(a, x);
}

/** ln Γ(a), Lanczos approximation (g = 7, 9 terms), relative error below 1e-15. */
function logGamma(a: number): number {
  const coefficients = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (a < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * a)) - logGamma(1 - a);
  const z = a - 1;
  let sum = coefficients[0]!;
  for (let index = 1; index < coefficients.length; index++) {
    sum += coefficients[index]! / (z + index);
  }
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** P(a, x) by its power series; converges fast for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 1000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by Lentz's continued fraction; converges fast for x >= a + 1. */
function upperContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < 1000; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}
