/**
 * Verifying a version made from a recipe with splits (one archive per split, `<name>.npz`):
 *
 * 1. `metadata`: the record lists each split's archive, and the splits' counts sum to
 *    `num_images`.
 * 2. `folder`: the version holds the archives and metadata.json, nothing else.
 * 3. `checksum`: each archive's size and SHA-256 match the record.
 * 4. `arrays`: each archive holds the recorded arrays, with their dtypes and shapes.
 * 5. `splits`: no factor combination (a row of `latents_classes`) is in two splits; the
 *    recipe's splits are disjoint by construction, so one shared combination means the files
 *    were mixed up or edited.
 * 6. `samples`: images of each split (the first, the last and some drawn at random),
 *    re-rendered from the seed, the split and their index, are byte-identical to the stored
 *    ones, and so are their labels.
 * 7. `crc`: every entry's CRC-32 matches its archive's central directory.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { NpzReader } from "../format/npz_reader.ts";
import { createGenerator } from "../generators/spec.ts";
import { renderImageBytes } from "../pipeline/render.ts";
import { METADATA_FILE, type SplitMetadata } from "../store/metadata.ts";
import type { OpenedVersion } from "../store/open_version.ts";
import { drawSampleIndices } from "./sample_indices.ts";

/** One verification step's outcome (as `verify_version.ts` reports them). */
export interface SplitVerifyStep {
  /** The step's name. */
  name: "metadata" | "folder" | "checksum" | "arrays" | "samples" | "splits" | "crc";
  /** Whether it passed; true for a skipped step unless `strict` was asked. */
  ok: boolean;
  /** Set when the step was not checked (a program the caller did not name). */
  skipped?: boolean;
  /** What was checked, or what differs. */
  detail: string;
}

class StepFailed extends Error {}

/**
 * Verifies a version whose metadata.json has `splits`; see the module doc for the steps.
 *
 * @param version The opened version.
 * @param options Samples per split (default 100), their seed, ignored folders, a callback.
 * @returns The steps run, all passed except possibly the last.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDataset } from "../run/generate_dataset.ts";
 * import { openVersion } from "../store/open_version.ts";
 * import { verifySplitVersion } from "./verify_splits.ts";
 * const dir = await Deno.makeTempDir();
 * const family = { name: "dsprites", options: {} };
 * const split = (name: string, where: { [key: string]: unknown }) =>
 *   ({ numImages: 20, split: { name, mode: "random" as const, where } });
 * const { path } = await runDataset({ family, seed: 3, numImages: 40, imageSize: 16,
 *   dtype: "uint8" }, dir, { name: "demo", workers: 1, splits: [
 *     split("train", { factor: "posX", le: 0.5 }), split("test", { factor: "posX", gt: 0.5 })] });
 * const steps = await verifySplitVersion(await openVersion(path), { seed: 1, samples: 5 });
 * assert.ok(steps.every((step) => step.ok));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function verifySplitVersion(
  version: OpenedVersion,
  options: {
    seed: number;
    samples?: number;
    ignore?: readonly string[];
    onStep?: (step: SplitVerifyStep) => void;
    /**
     * The program the samples need (a family module), when the caller did not name it: the
     * samples step is then skipped, since a dataset's files never choose a program to run.
     */
    notNamed?: string;
    /** A skipped step fails the verification. */
    strict?: boolean;
  },
): Promise<SplitVerifyStep[]> {
  const steps: SplitVerifyStep[] = [];
  const pass = (name: SplitVerifyStep["name"], detail: string) => {
    const step = { name, ok: true, detail };
    steps.push(step);
    options.onStep?.(step);
  };
  const fail = (name: SplitVerifyStep["name"], detail: string): never => {
    const step = { name, ok: false, detail };
    steps.push(step);
    options.onStep?.(step);
    throw new StepFailed(detail);
  };
  const metadata = version.metadata;
  const splits: SplitMetadata[] = metadata.splits ?? [];
  const readers: NpzReader[] = [];
  try {
    const listed = new Set(metadata.files.map((file) => file.name));
    const missing = splits.find((split) =>
      !listed.has(split.file) || split.file !== `${split.name}.npz`
    );
    if (splits.length === 0 || missing !== undefined || metadata.spec === undefined) {
      fail("metadata", `${METADATA_FILE}: each split needs its archive <name>.npz in files`);
    }
    const total = splits.reduce((sum, split) => sum + split.num_images, 0);
    if (total !== metadata.num_images) {
      fail(
        "metadata",
        `the splits hold ${total} images but num_images says ${metadata.num_images}`,
      );
    }
    pass(
      "metadata",
      `${METADATA_FILE} is complete: splits ${
        splits.map((split) => `${split.name} (${split.num_images})`).join(", ")
      }`,
    );

    const ignore = options.ignore ?? ["inspection"];
    for await (const entry of Deno.readDir(version.path)) {
      if (entry.name === METADATA_FILE || (entry.isDirectory && ignore.includes(entry.name))) {
        continue;
      }
      if (!listed.has(entry.name)) {
        fail("folder", `${entry.name} is in the version folder but not listed in ${METADATA_FILE}`);
      }
    }
    pass("folder", `holds ${[...listed, METADATA_FILE].join(", ")} and nothing else`);

    for (const file of metadata.files) {
      const sha256 = await hashFile(join(version.path, file.name)).catch(() => "missing");
      if (sha256 !== file.sha256) {
        fail(
          "checksum",
          `${file.name}: SHA-256 is ${sha256} but ${METADATA_FILE} records ${file.sha256}`,
        );
      }
      pass("checksum", `${file.name}: SHA-256 ${sha256}`);
    }

    for (const split of splits) {
      let reader: NpzReader;
      try {
        reader = await NpzReader.open(join(version.path, split.file));
      } catch (error) {
        return fail("arrays", (error as Error).message);
      }
      readers.push(reader);
      for (const array of split.arrays) {
        const entry = reader.entries.find((candidate) => candidate.name === array.name);
        if (
          entry === undefined || entry.header.descr !== array.dtype ||
          entry.header.shape.join() !== array.shape.join()
        ) {
          fail("arrays", `${split.file}: ${array.name} is not as ${METADATA_FILE} records it`);
        }
      }
    }
    pass("arrays", `each split's archive holds its recorded arrays`);

    pass("splits", await checkDisjoint(splits, readers));

    if (options.notNamed !== undefined) {
      const detail = `not checked: the samples can be re-rendered only by the ` +
        `${options.notNamed}, which is started only when the caller names that same program`;
      const step = { name: "samples" as const, ok: options.strict !== true, skipped: true, detail };
      steps.push(step);
      options.onStep?.(step);
      if (!step.ok) throw new StepFailed(detail);
    }
    const spec = metadata.spec!;
    let checked = 0;
    for (const [index, split] of splits.entries()) {
      if (options.notNamed !== undefined) break;
      const reader = readers[index]!;
      let generator;
      try {
        generator = await createGenerator({
          family: { ...spec.family, split: split.split },
          imageSize: spec.imageSize,
        });
      } catch (error) {
        return fail("samples", `${split.file}: ${(error as Error).message}`);
      }
      const bytesPerImage = spec.imageSize ** 2 * (spec.dtype === "uint8" ? 1 : 8);
      const plan = { generator, seed: spec.seed, dtype: spec.dtype };
      let labels: number[] = [];
      for (
        const image of drawSampleIndices(split.num_images, options.seed, {
          count: options.samples ?? 100,
        })
      ) {
        const rows = {
          labels: new Uint8Array(1),
          latents: new Float32Array(generator.latents.length),
        };
        const expected = renderImageBytes(plan, { start: image, count: 1, rowsInto: rows });
        labels = [rows.labels[0]!];
        let stored: Uint8Array, label: number | undefined;
        try {
          stored = await reader.read("images", {
            offset: image * bytesPerImage,
            length: bytesPerImage,
          });
          label = (await reader.read("labels", { offset: image, length: 1 }))[0];
        } catch (error) {
          return fail("samples", `${split.file}: ${(error as Error).message}`);
        }
        if (!equalBytes(expected, stored) || label !== labels[0]) {
          fail(
            "samples",
            `${split.file}: image ${image} differs from its re-rendering from seed ${spec.seed}, ` +
              `split ${split.name} and index ${image}`,
          );
        }
        checked++;
      }
    }
    if (options.notNamed === undefined) {
      pass(
        "samples",
        `${checked} images re-rendered byte-identical across ${splits.length} splits`,
      );
    }

    for (const reader of readers) {
      for (const entry of reader.entries) {
        try {
          await reader.verifyCrc(entry.name);
        } catch (error) {
          fail("crc", (error as Error).message);
        }
      }
    }
    pass("crc", `the CRC-32 of every entry of ${splits.length} archives matches`);
  } catch (error) {
    if (!(error instanceof StepFailed)) throw error;
    if (steps.at(-1)?.ok !== false) throw error;
  } finally {
    for (const reader of readers) reader.close();
  }
  return steps;

  async function checkDisjoint(
    splits: SplitMetadata[],
    readers: NpzReader[],
  ): Promise<string> {
    const sizesBytes = await readers[0]!.readAll("latents_sizes").catch(() => undefined);
    if (sizesBytes === undefined) {
      return fail("splits", "the archives hold no latents_sizes to tell combinations apart");
    }
    const sizes = Array.from(
      new BigInt64Array(sizesBytes.buffer, sizesBytes.byteOffset, sizesBytes.length / 8),
      Number,
    );
    const combinations = sizes.reduce((product, size) => product * size, 1);
    if (combinations > 2 ** 31) return fail("splits", "the grid is too large to check");
    // Which split (index + 1) holds each combination; 0: none yet.
    const owner = new Uint8Array(combinations);
    const width = sizes.length;
    for (const [index, reader] of readers.entries()) {
      const rows = new BigInt64Array(8192 * width);
      const entry = reader.entry("latents_classes");
      const rowBytes = width * 8;
      const total = entry.header.shape[0]!;
      for (let start = 0; start < total; start += 8192) {
        const count = Math.min(8192, total - start);
        const bytes = await reader.read("latents_classes", {
          offset: start * rowBytes,
          length: count * rowBytes,
        });
        new Uint8Array(rows.buffer).set(bytes);
        for (let row = 0; row < count; row++) {
          let combination = 0;
          for (let factor = 0; factor < width; factor++) {
            combination = combination * sizes[factor]! + Number(rows[row * width + factor]!);
          }
          const held = owner[combination]!;
          if (held === 0) owner[combination] = index + 1;
          else if (held !== index + 1) {
            const values = Array.from(rows.subarray(row * width, row * width + width), Number);
            return fail(
              "splits",
              `combination ${JSON.stringify(values)} (latents_classes) is in both ` +
                `${splits[held - 1]!.name} and ${splits[index]!.name}, which the recipe makes ` +
                "disjoint",
            );
          }
        }
      }
    }
    return `no factor combination is in two splits (${
      splits.map((split) => split.name).join(", ")
    })`;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buffer = new Uint8Array(4 * 1024 * 1024);
  while (true) {
    const read = await file.read(buffer);
    if (read === null) break;
    hash.update(buffer.subarray(0, read));
  }
  return hash.digest("hex");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
