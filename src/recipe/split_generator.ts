/**
 * One split of a dataset as a generator: the family's grid, restricted to the split's region
 * and drawn from the split's distribution. The pipeline, worker threads and `verify` see an
 * ordinary {@linkcode ImageGenerator}, so a split archive is written like any other.
 *
 * - **Grid splits** (`mode: "grid"`): image i is the split's i-th combination in the grid's
 *   (dSprites') order; the split's size is fixed by its region.
 * - **Random splits** (`mode: "random"`): image i draws one combination of the region, with
 *   probability proportional to its weight ({@linkcode compileDistribution}; Walker's alias
 *   method, {@linkcode aliasTable}), from two uniform draws of `imageKey(splitSeed, i)`, where `splitSeed = mix32(seed ^ fnv1a(split name))`: it
 *   depends only on (seed, split, i).
 *
 * Either way the image of a combination is the family's grid image of that combination, byte
 * for byte.
 *
 * @module
 */

import type {
  FactorSpec,
  GeneratorFamily,
  ImageGenerator,
  JsonValue,
} from "../generators/generator.ts";
import { imageKey, mix32, uniform } from "../generators/random.ts";
import { compileDistribution, type DistributionFactor } from "./distribution.ts";
import { compilePredicate, type PredicateJson, predicateReads } from "./predicate.ts";

/** A split as the dataset spec holds it (`spec.family.split`): plain JSON. */
export interface SplitRef {
  /** The split's name, e.g. `train`; also its archive's name (`train.npz`). */
  name: string;
  /** Its region: the combinations for which this predicate holds. */
  where: PredicateJson;
  /** `grid`: every combination of the region once; `random`: draws from the region. */
  mode: "grid" | "random";
  /** Per-factor distributions (random splits only; see distribution.ts). */
  factors?: { [key: string]: JsonValue };
  /** Correlated pairs (random splits only; see distribution.ts). */
  correlations?: JsonValue[];
}

/** A grid generator's factors with their sizes and values (of the first class). */
export function gridTable(generator: ImageGenerator): {
  factors: readonly FactorSpec[];
  sizes: number[];
  combinations: number;
} {
  const factors = generator.factors ?? generator.latents;
  const sizes = factors.map((factor) =>
    factor.values?.length ??
      (factor as FactorSpec).perClassValues?.[generator.classes[0]!]?.length ?? 0
  );
  return {
    factors,
    sizes,
    combinations: sizes.reduce((product, size) => product * size, 1),
  };
}

/** The FNV-1a hash of a string's UTF-16 code units, 32 bits. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The seed of a split's draws: `mix32(seed ^ fnv1a(name))`.
 *
 * @param seed The dataset seed.
 * @param name The split's name.
 * @returns An unsigned 32-bit integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitSeed } from "./split_generator.ts";
 * assert.notEqual(splitSeed(1, "train"), splitSeed(1, "test"));
 * ```
 */
export function splitSeed(seed: number, name: string): number {
  return mix32(seed ^ fnv1a(name));
}

/** The region of a split: its combinations in grid order, and their cumulative weights. */
export interface SplitRegion {
  /** Grid indices of the region's combinations, ascending. */
  combinations: Uint32Array;
  /** For a weighted random split: cumulative weights, one per combination. */
  cumulative?: Float64Array;
  /**
   * For a weighted random split, once a generator was made of it: per slot of its alias table,
   * the probability of keeping the slot, its combination and its alias's.
   */
  slots?: Float64Array;
}

/**
 * Finds a split's region in a grid generator: every combination, in order, for which the
 * predicate holds and (random splits) whose weight is positive.
 *
 * @param grid The family configured with its grid.
 * @param split The split.
 * @param path The split's JSON path, for messages.
 * @returns The region.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { splitRegion } from "./split_generator.ts";
 * const grid = generators.get("dsprites").create({ imageSize: 16, options: { grid: true } });
 * const region = splitRegion(grid, { name: "test", mode: "grid",
 *   where: { preset: "montero_extrapolation" } });
 * assert.equal(region.combinations.length, 737280 / 2);
 * ```
 */
export function splitRegion(grid: ImageGenerator, split: SplitRef, path = "split"): SplitRegion {
  const key = regionKey(grid, split);
  const cached = regions.get(key);
  if (cached !== undefined) return cached;
  const region = findRegion(grid, split, path);
  keepRegion(key, region);
  return region;
}

function regionKey(grid: ImageGenerator, split: SplitRef): string {
  return JSON.stringify([grid.name, grid.version, grid.parameters.grid ?? null, split]);
}

// A run asks for each split's region when it checks the recipe, when it plans, and on each
// render thread: the threads adopt this thread's regions (shared memory) instead of finding
// them again, which cost each thread about 70 ms per split of the dSprites grid.
function keepRegion(key: string, region: SplitRegion): void {
  remember(regions, key, region);
}

/** Sets a key of a small cache, forgetting its oldest key first when it holds eight. */
function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (!cache.has(key) && cache.size >= 8) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}

const regions = new Map<string, SplitRegion>();

/** Split regions found on one thread, to be adopted by another: see {@linkcode sharedRegions}. */
export type SharedRegions = [key: string, region: SplitRegion][];

/**
 * The split regions this thread has found, with their alias tables where made. Their arrays
 * are in shared memory, so posting them to a worker thread copies no combination; a thread
 * that adopts them ({@linkcode adoptRegions}) makes the same generators without finding them.
 *
 * @returns The regions, keyed by grid and split; empty when no split was made.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dspritesFamily } from "../generators/dsprites.ts";
 * import { adoptRegions, createSplitGenerator, sharedRegions } from "./split_generator.ts";
 * createSplitGenerator(dspritesFamily, { imageSize: 16, options: { grid: true },
 *   split: { name: "test", mode: "grid", where: { preset: "montero_extrapolation" } } });
 * const shared = sharedRegions();
 * assert.ok(shared.length >= 1);
 * assert.ok(shared[0]![1].combinations.buffer instanceof SharedArrayBuffer);
 * adoptRegions(shared); // what a render thread does with them
 * ```
 */
export function sharedRegions(): SharedRegions {
  // Once the alias table is made, the cumulative weights are not needed.
  return [...regions].map(([key, { combinations, cumulative, slots }]) => [key, {
    combinations,
    ...(slots !== undefined ? { slots } : cumulative !== undefined ? { cumulative } : {}),
  }]);
}

/**
 * Adopts regions found on another thread ({@linkcode sharedRegions}): generators made here
 * afterwards use them instead of finding them again. The regions are the same for the same key,
 * so the bytes rendered are the same either way.
 *
 * @param shared The other thread's regions.
 * @example
 * ```ts
 * import { adoptRegions } from "./split_generator.ts";
 * adoptRegions([]);
 * ```
 */
export function adoptRegions(shared: SharedRegions): void {
  for (const [key, region] of shared) {
    if (!regions.has(key)) keepRegion(key, region);
  }
}

/** A copy of a typed array in shared memory, so that posting it to a thread copies nothing. */
function sharedCopy<T extends Uint32Array | Float64Array>(array: T): T {
  const Kind = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Kind(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/**
 * Which factor's value index is the label, if one is: checked on every combination where only
 * that factor varies and on a spread of others. Spares calling `sample` per combination.
 */
function labelFactor(grid: ImageGenerator, sizes: number[], decode: (c: number) => Int32Array) {
  const latents = new Float32Array(grid.latents.length);
  const combinations = sizes.reduce((product, size) => product * size, 1);
  const step = Math.max(1, Math.floor(combinations / 1021));
  candidates: for (let factor = 0; factor < sizes.length; factor++) {
    if (sizes[factor] !== grid.classes.length) continue;
    for (let combination = 0; combination < combinations; combination += step) {
      if (grid.sample(0, combination, latents, 0) !== decode(combination)[factor]) {
        continue candidates;
      }
    }
    return factor;
  }
  return undefined;
}

/** Per grid: which factor's value index is the label, if one is (see `labelFactor`). */
const checkedGrids = new Map<string, { classFactor: number | undefined }>();

function findRegion(grid: ImageGenerator, split: SplitRef, path: string): SplitRegion {
  const table = gridTable(grid);
  const { factors, sizes, combinations } = table;
  if (grid.sampleClasses === undefined || grid.fixedNumImages !== combinations) {
    throw new TypeError(
      `Cannot make split "${split.name}" of ${grid.name}: it needs a family configured with a ` +
        "grid of factor values",
    );
  }
  const predicate = compilePredicate(split.where, {
    family: grid.name,
    factors: factors.map((factor) => factor.name),
    classes: grid.classes,
  }, `${path}.where`);
  const distribution = compileDistribution(
    split,
    factors.map((factor, index): DistributionFactor => ({
      name: factor.name,
      size: sizes[index]!,
      ...(factor.values === undefined ? {} : { values: factor.values }),
    })),
    path,
  );
  const width = factors.length;
  // The grid's order: mixed radix, the last factor fastest (checked below against the family).
  const scratch = new Int32Array(width);
  const decode = (combination: number) => {
    let rest = combination;
    for (let factor = width - 1; factor >= 0; factor--) {
      scratch[factor] = rest % sizes[factor]!;
      rest = Math.floor(rest / sizes[factor]!);
    }
    return scratch;
  };
  // What the grid is, checked once per grid (a recipe's splits share it; each check samples
  // thousands of combinations).
  const gridKey = JSON.stringify([grid.name, grid.version, grid.parameters.grid ?? null]);
  let checked = checkedGrids.get(gridKey);
  if (checked === undefined) {
    const check = new Int32Array(width);
    for (let combination = 0; combination < combinations; combination += 997) {
      grid.sampleClasses(0, combination, check, 0);
      if (decode(combination).some((index, factor) => index !== check[factor])) {
        throw new TypeError(
          `Cannot make split "${split.name}" of ${grid.name}: its grid is not in mixed-radix ` +
            "order",
        );
      }
    }
    checked = { classFactor: labelFactor(grid, sizes, decode) };
    remember(checkedGrids, gridKey, checked);
  }
  const { classFactor } = checked;
  // Each factor's values, per class where they depend on it.
  const tables = factors.map((factor) =>
    grid.classes.map((name) =>
      Float64Array.from(factor.perClassValues?.[name] ?? factor.values ?? [])
    )
  );
  // The predicate and the weight hold alike for every combination that differs only in factors
  // they do not read: after the last factor read, a block of combinations (all of posY's
  // values for Montero's extrapolation) is in the region or out of it at once.
  const reads = predicateReads(split.where, {
    family: grid.name,
    factors: factors.map((factor) => factor.name),
    classes: grid.classes,
  });
  const read = new Set([...reads.factors, ...distribution.reads]);
  const needsLabel = reads.label ||
    [...read].some((factor) => factors[factor]!.perClassValues !== undefined);
  if (needsLabel && classFactor !== undefined) read.add(classFactor);
  const lastRead = reads.combination || (needsLabel && classFactor === undefined)
    ? width - 1
    : Math.max(-1, ...read);
  const block = sizes.slice(lastRead + 1).reduce((product, size) => product * size, 1);
  const indices = new Int32Array(width);
  const values = new Float64Array(width);
  const latents = new Float32Array(grid.latents.length);
  const found = new Uint32Array(combinations);
  const weights = distribution.uniform ? undefined : new Float64Array(combinations);
  let count = 0;
  let total = 0;
  for (let combination = 0; combination < combinations; combination += block) {
    // The next block's indices: an odometer over the factors up to the last read.
    if (combination > 0) {
      for (let factor = lastRead; factor >= 0; factor--) {
        if (++indices[factor]! < sizes[factor]!) break;
        indices[factor] = 0;
      }
    }
    const label = classFactor !== undefined
      ? indices[classFactor]!
      : block === 1
      ? grid.sample(0, combination, latents, 0)
      : 0; // Neither read nor needed for the values read.
    for (let factor = 0; factor < width; factor++) {
      values[factor] = tables[factor]![label]![indices[factor]!]!;
    }
    if (!predicate(values, label, combination)) continue;
    const weight = weights === undefined ? 1 : distribution.weight(indices);
    if (!(weight > 0)) continue;
    for (let member = combination; member < combination + block; member++) {
      if (weights !== undefined) {
        total += weight;
        weights[count] = total;
      }
      found[count++] = member;
    }
  }
  return {
    combinations: sharedCopy(found.subarray(0, count)),
    ...(weights === undefined ? {} : { cumulative: sharedCopy(weights.subarray(0, count)) }),
  };
}

/**
 * Walker's alias table (Vose's construction) of weights given as cumulative sums: a slot drawn
 * uniformly keeps its own entry with its probability, else takes its alias. Drawing costs two
 * reads whatever the number of combinations.
 *
 * @param cumulative Cumulative weights, ascending, the last one positive.
 * @returns Per slot the probability of keeping it and the alias.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aliasTable } from "./split_generator.ts";
 * const { probability, other } = aliasTable(Float64Array.of(1, 4)); // weights 1 and 3
 * assert.deepEqual([...probability], [0.5, 1]);
 * assert.equal(other[0], 1);
 * ```
 */
export function aliasTable(
  cumulative: Float64Array,
): { probability: Float64Array; other: Uint32Array } {
  const count = cumulative.length;
  const total = cumulative[count - 1]!;
  const probability = new Float64Array(count);
  const other = new Uint32Array(count);
  // Two stacks of slot indices in one array: the small ones from the start, the large ones
  // from the end (each slot is in one of them at a time).
  const stacks = new Uint32Array(count);
  let smallTop = 0, largeTop = count;
  for (let index = 0; index < count; index++) {
    const weight = cumulative[index]! - (index === 0 ? 0 : cumulative[index - 1]!);
    probability[index] = (weight * count) / total;
    other[index] = index;
    if (probability[index]! < 1) stacks[smallTop++] = index;
    else stacks[--largeTop] = index;
  }
  while (smallTop > 0 && largeTop < count) {
    const less = stacks[--smallTop]!, more = stacks[largeTop++]!;
    other[less] = more;
    probability[more] = probability[more]! + probability[less]! - 1;
    if (probability[more]! < 1) stacks[smallTop++] = more;
    else stacks[--largeTop] = more;
  }
  // What is left is 1 up to rounding.
  for (let at = 0; at < smallTop; at++) probability[stacks[at]!] = 1;
  for (let at = largeTop; at < count; at++) probability[stacks[at]!] = 1;
  return { probability, other };
}

/** Images whose combinations a random split draws at once (see `createSplitGenerator`). */
const DRAW_BATCH = 256;

/** Two combinations below this, packed in one double as `own + alias * PAIR_RADIX`, exactly. */
const PAIR_RADIX = 2 ** 26;

/**
 * An alias table laid out for drawing: per slot, the probability of keeping it, then its
 * combination and its alias's packed in one number (16 bytes: a slot never straddles two
 * cache lines, and the table is two thirds of three numbers per slot), or, for grids of 2^26
 * combinations or more, the two as numbers of their own. Drawing from a large region misses
 * the cache once per image, so the table's size is the draw's cost.
 */
function slotTable(
  combinations: Uint32Array,
  { probability, other }: { probability: Float64Array; other: Uint32Array },
): Float64Array {
  const count = combinations.length;
  const packed = combinations[count - 1]! < PAIR_RADIX;
  const width = packed ? 2 : 3;
  const table = new Float64Array(new SharedArrayBuffer(width * count * 8));
  for (let slot = 0; slot < count; slot++) {
    const own = combinations[slot]!, alias = combinations[other[slot]!]!;
    table[width * slot] = probability[slot]!;
    if (packed) table[2 * slot + 1] = own + alias * PAIR_RADIX;
    else {
      table[3 * slot + 1] = own;
      table[3 * slot + 2] = alias;
    }
  }
  return table;
}

/**
 * The family for one split: configures the family's grid and restricts it to the split.
 *
 * @param family The dataset family.
 * @param options The image size, the family's options and the split.
 * @returns The split's generator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dspritesFamily } from "../generators/dsprites.ts";
 * import { createSplitGenerator } from "./split_generator.ts";
 * const test = createSplitGenerator(dspritesFamily, { imageSize: 16, options: { grid: true },
 *   split: { name: "test", mode: "grid", where: { preset: "montero_recombination_to_range" } } });
 * assert.equal(test.fixedNumImages, 737280 / 3 / 2);
 * ```
 */
export function createSplitGenerator(
  family: GeneratorFamily,
  options: { imageSize: number; options: { [key: string]: JsonValue }; split: SplitRef },
): ImageGenerator {
  const { split } = options;
  // A random split draws from the family's grid: its grid option, else the default grid.
  const familyOptions = split.mode === "random" && !options.options.grid
    ? { ...options.options, grid: true }
    : options.options;
  const grid = family.create({ imageSize: options.imageSize, options: familyOptions });
  const region = splitRegion(grid, split);
  const { combinations, cumulative } = region;
  const count = combinations.length;
  if (count === 0) {
    throw new RangeError(
      `Cannot make split "${split.name}": no combination of ${grid.name}'s grid is in it`,
    );
  }
  // Made once per region (a run makes each split's generator several times), shared.
  if (cumulative !== undefined && region.slots === undefined) {
    region.slots = slotTable(combinations, aliasTable(cumulative));
  }
  const slots = region.slots;
  let seedOf = -1, keySeed = 0;
  const draw = (seed: number, index: number) => {
    if (seed !== seedOf) {
      seedOf = seed;
      keySeed = splitSeed(seed, split.name);
    }
    const key = imageKey(keySeed, index);
    // 53 bits: two 32-bit draws.
    return (uniform(key, 0) + uniform(key, 1) / 4294967296) * count;
  };
  // A random split's combinations are drawn a batch of consecutive images at a time (the
  // pipeline asks for images in order): first every draw, then every table read, which do not
  // depend on each other, so the processor overlaps their cache misses (the table of a large
  // region does not fit in the cache; one read at a time, each image waited for one miss).
  const batch = new Uint32Array(DRAW_BATCH);
  const scaledBatch = new Float64Array(DRAW_BATCH);
  let batchSeed = -1, batchStart = 0, batchEnd = 0;
  const fillBatch = (seed: number, start: number) => {
    for (let at = 0; at < DRAW_BATCH; at++) scaledBatch[at] = draw(seed, start + at);
    if (slots === undefined) {
      for (let at = 0; at < DRAW_BATCH; at++) {
        batch[at] = combinations[Math.floor(scaledBatch[at]!)]!;
      }
    } else if (slots.length === 2 * count) {
      for (let at = 0; at < DRAW_BATCH; at++) {
        const scaled = scaledBatch[at]!;
        const slot = Math.floor(scaled);
        const pair = slots[2 * slot + 1]!;
        const alias = Math.floor(pair * (1 / PAIR_RADIX));
        batch[at] = scaled - slot < slots[2 * slot]! ? pair - alias * PAIR_RADIX : alias;
      }
    } else {
      for (let at = 0; at < DRAW_BATCH; at++) {
        const scaled = scaledBatch[at]!;
        const slot = Math.floor(scaled);
        batch[at] = scaled - slot < slots[3 * slot]! ? slots[3 * slot + 1]! : slots[3 * slot + 2]!;
      }
    }
    batchSeed = seed;
    batchStart = start;
    batchEnd = start + DRAW_BATCH;
  };
  const combinationOf = split.mode === "grid"
    ? (_seed: number, index: number) => combinations[index]!
    : (seed: number, index: number) => {
      if (seed !== batchSeed || index < batchStart || index >= batchEnd) fillBatch(seed, index);
      return batch[index - batchStart]!;
    };
  const generator: ImageGenerator = {
    name: grid.name,
    version: grid.version,
    imageSize: grid.imageSize,
    classes: grid.classes,
    latents: grid.latents,
    ...(grid.factors === undefined ? {} : { factors: grid.factors }),
    parameters: {
      ...grid.parameters,
      split: {
        name: split.name,
        mode: split.mode,
        where: split.where as JsonValue,
        combinations: count,
        ...(split.factors === undefined ? {} : { factors: split.factors }),
        ...(split.correlations === undefined ? {} : { correlations: split.correlations }),
      },
    },
    ...(split.mode === "grid" ? { fixedNumImages: count } : {}),
    sampleClasses: (seed, index, classesOut, offset) =>
      grid.sampleClasses!(seed, combinationOf(seed, index), classesOut, offset),
    sample: (seed, index, latentsOut, offset) =>
      grid.sample(seed, combinationOf(seed, index), latentsOut, offset),
    render: (label, latents, latentOffset, pixelsOut, pixelOffset) =>
      grid.render(label, latents, latentOffset, pixelsOut, pixelOffset),
  };
  if (grid.renderBytes !== undefined) {
    generator.renderBytes = (label, latents, latentOffset, bytesOut, byteOffset) =>
      grid.renderBytes!(label, latents, latentOffset, bytesOut, byteOffset);
  }
  if (grid.labelOf !== undefined) generator.labelOf = (row, at) => grid.labelOf!(row, at);
  if (
    count === gridTable(grid).combinations && split.mode === "grid" &&
    grid.expectedDuplicates !== undefined
  ) {
    generator.expectedDuplicates = (numImages) => grid.expectedDuplicates!(numImages);
  }
  return generator;
}
