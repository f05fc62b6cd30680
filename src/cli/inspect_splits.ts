/**
 * `dsgen inspect` of a version made of splits (docs/recipes.md): reads each split's
 * `latents_classes`, counts every pair of varying factors per split, and draws
 * `inspection/splits.png` (the held-out regions, pair by pair, coloured by split) and, when the
 * recipe correlates factors, `inspection/correlations.png` (each correlated pair's 2-D
 * histogram, per split).
 *
 * @module
 */

import { join } from "node:path";
import { decodeUnicodeArray } from "../format/npy.ts";
import { NpzReader } from "../format/npz_reader.ts";
import { writeFileAtomic } from "../store/atomic_write.ts";
import { openVersion } from "../store/open_version.ts";
import type { PairCounts } from "../report/split_pictures.ts";
import type { Console } from "./console.ts";
import { RunError } from "./errors.ts";
import { asRunError } from "./input_error.ts";

/**
 * Whether a version folder (or a dataset folder's newest version) is made of splits.
 *
 * @param path The folder.
 * @returns True when its metadata.json has `splits`; false otherwise, or when it cannot be read
 * (the ordinary inspection then says why).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasSplits } from "./inspect_splits.ts";
 * assert.equal(await hasSplits("/nonexistent"), false);
 * ```
 */
export async function hasSplits(path: string): Promise<boolean> {
  try {
    return (await openVersion(path)).metadata.splits !== undefined;
  } catch {
    return false;
  }
}

/**
 * Draws the pictures of a split version and prints their paths.
 *
 * @param options The version's path, and the folder for the pictures (default
 * `<version>/inspection/`).
 * @param io Where to print.
 * @returns The pictures written.
 * @example
 * ```ts ignore
 * import { runInspectSplits } from "./inspect_splits.ts";
 * import { denoConsole } from "./console.ts";
 * await runInspectSplits({ path: "data/loo" }, denoConsole());
 * ```
 */
export async function runInspectSplits(
  options: { path: string; out?: string },
  io: Console,
): Promise<string[]> {
  let version;
  try {
    version = await openVersion(options.path);
  } catch (error) {
    throw asRunError(error, `Cannot open ${options.path}`);
  }
  const splits = version.metadata.splits ?? [];
  if (splits.length === 0) throw new RunError(`Cannot inspect ${version.path}: it has no splits`);
  io.stderr(`Inspecting ${version.path}: splits ${splits.map((split) => split.name).join(", ")}\n`);
  let pairs: PairCounts[];
  let names: string[];
  try {
    ({ pairs, names } = await countPairs(version.path, splits.map((split) => split.file)));
  } catch (error) {
    throw asRunError(error, `Cannot read ${version.path}`);
  }
  const outputDir = options.out ?? join(version.path, "inspection");
  const title = `${version.metadata.dataset} ${version.id}  seed ${version.metadata.seed}`;
  const { renderPairsPng } = await import("../report/split_pictures.ts");
  const written: string[] = [];
  try {
    await Deno.mkdir(outputDir, { recursive: true });
    const splitsPath = join(outputDir, "splits.png");
    await writeFileAtomic(
      splitsPath,
      await renderPairsPng(pairs, {
        splits: splits.map((split) => split.name),
        title: `${title}  factor pairs by split`,
      }),
    );
    written.push(splitsPath);
    const correlated = new Set<string>();
    for (const split of splits) {
      for (const pair of split.split.correlations ?? []) {
        const factors = (pair as { factors?: string[] }).factors ?? [];
        const [first, second] = [names.indexOf(factors[0]!), names.indexOf(factors[1]!)];
        if (first >= 0 && second >= 0) {
          correlated.add(`${names[Math.min(first, second)]} x ${names[Math.max(first, second)]}`);
        }
      }
    }
    if (correlated.size > 0) {
      const correlationsPath = join(outputDir, "correlations.png");
      await writeFileAtomic(
        correlationsPath,
        await renderPairsPng(
          pairs.filter((pair) => correlated.has(`${pair.names[0]} x ${pair.names[1]}`)),
          {
            splits: splits.map((split) => split.name),
            title: `${title}  correlated pairs`,
            gray: true,
          },
        ),
      );
      written.push(correlationsPath);
    }
  } catch (error) {
    throw asRunError(error, "Cannot write the inspection files");
  }
  io.stdout(written.map((path) => `${path}\n`).join(""));
  return written;
}

/** Counts every pair of varying factors in each split's `latents_classes`. */
async function countPairs(
  folder: string,
  files: string[],
): Promise<{ pairs: PairCounts[]; names: string[] }> {
  let pairs: PairCounts[] = [];
  let names: string[] = [];
  let varying: number[] = [];
  for (const [index, file] of files.entries()) {
    const reader = await NpzReader.open(join(folder, file));
    try {
      if (index === 0) {
        const sizesBytes = await reader.readAll("latents_sizes");
        const sizes = Array.from(
          new BigInt64Array(sizesBytes.buffer, sizesBytes.byteOffset, sizesBytes.length / 8),
          Number,
        );
        const entry = reader.entry("factor_names");
        const width = Number(/<U(\d+)/.exec(entry.header.descr)?.[1] ?? 1);
        names = decodeUnicodeArray(await reader.readAll("factor_names"), width);
        varying = sizes.flatMap((size, factor) => size > 1 ? [factor] : []);
        for (let first = 0; first < varying.length; first++) {
          for (let second = first + 1; second < varying.length; second++) {
            const a = varying[first]!, b = varying[second]!;
            pairs.push({
              names: [names[a]!, names[b]!],
              sizes: [sizes[a]!, sizes[b]!],
              counts: files.map(() => new Float64Array(sizes[a]! * sizes[b]!)),
            });
          }
        }
      }
      const entry = reader.entry("latents_classes");
      const width = entry.header.shape[1]!;
      const total = entry.header.shape[0]!;
      const rowsPerRead = 16384;
      const rows = new BigInt64Array(rowsPerRead * width);
      const view = new Int32Array(rows.buffer);
      for (let start = 0; start < total; start += rowsPerRead) {
        const count = Math.min(rowsPerRead, total - start);
        const bytes = await reader.read("latents_classes", {
          offset: start * width * 8,
          length: count * width * 8,
        });
        new Uint8Array(rows.buffer).set(bytes);
        let at = 0;
        for (let first = 0; first < varying.length; first++) {
          for (let second = first + 1; second < varying.length; second++) {
            const pair = pairs[at++]!;
            const counts = pair.counts[index]!;
            const a = varying[first]!, b = varying[second]!;
            const across = pair.sizes[1];
            // Little-endian int64 of small non-negative numbers: the low words.
            for (let row = 0; row < count; row++) {
              const base = 2 * row * width;
              const cell = view[base + 2 * a]! * across + view[base + 2 * b]!;
              counts[cell] = counts[cell]! + 1;
            }
          }
        }
      }
    } finally {
      reader.close();
    }
  }
  pairs = pairs.filter((pair) => pair.counts.length > 0);
  return { pairs, names };
}
