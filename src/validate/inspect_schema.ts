/**
 * Inspecting an archive of a family or renderer with its own sample schema that dsgen has no
 * dedicated report for (a version 2 renderer's, a family module's): one pass over every
 * array, a chunk of samples at a time, checks what any schema allows checking, and a few
 * reads fetch the sampled images for the grid. Memory stays flat: one chunk of one array at a
 * time.
 *
 * The checks:
 * - `arrays`: every per-sample array holds `num_images` samples and its CRC-32 holds;
 * - `finite`: no NaN or infinity in a float array;
 * - `blank`: no image whose pixels are all equal (a renderer that drew nothing);
 * - `labels`: each label array's values index the recorded classes, and its counts per class.
 *
 * @module
 */

import { NpzReader } from "../format/npz_reader.ts";
import type { SceneCell } from "../report/scene_grid.ts";
import { drawSampleIndices } from "./sample_indices.ts";

/** Target bytes per chunk of the pass. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** One check of the report. */
export interface SchemaCheck {
  /** The check's name. */
  name: string;
  /** Its verdict. */
  verdict: "pass" | "warn" | "fail";
  /** One line. */
  summary: string;
}

/** What {@linkcode inspectSchema} found. */
export interface SchemaInspection {
  /** The image array's name, side and channels. */
  image: { name: string; imageSize: number; channels: number };
  /** The checks. */
  report: { checks: SchemaCheck[]; label_counts: { [array: string]: number[] } };
  /** The sampled images, by ascending index (`masks` empty: no mask picture). */
  cells: SceneCell[];
}

/** What the inspection knows of the arrays besides their headers. */
export interface SchemaHints {
  /** The number of samples the version records. */
  numSamples: number;
  /** Roles by array name, where recorded (a version 2 renderer's handshake). */
  roles: ReadonlyMap<string, string>;
  /** The recorded class names. */
  classes: readonly string[];
}

const FLOAT_DESCRS = new Set(["<f4", "<f8"]);

/**
 * The image array: the one whose recorded role is `image`, else the first uint8 array of
 * shape (N, S, S) or (N, S, S, C) with C from 1 to 4.
 */
function findImage(reader: NpzReader, hints: SchemaHints) {
  const looksLikeImage = (shape: readonly number[]) =>
    (shape.length === 3 || (shape.length === 4 && shape[3]! >= 1 && shape[3]! <= 4)) &&
    shape[1] === shape[2];
  const entry = reader.entries.find((candidate) => hints.roles.get(candidate.name) === "image") ??
    reader.entries.find((candidate) =>
      candidate.header.descr === "|u1" && looksLikeImage(candidate.header.shape)
    );
  if (entry === undefined || !looksLikeImage(entry.header.shape)) {
    throw new TypeError(
      `Cannot inspect ${reader.path}: it has no image array (uint8 of shape (N, S, S) or ` +
        `(N, S, S, C) with C from 1 to 4)`,
    );
  }
  const shape = entry.header.shape;
  return { entry, imageSize: shape[1]!, channels: shape.length === 4 ? shape[3]! : 1 };
}

/**
 * Checks an archive of any sample schema and reads its sampled images.
 *
 * @param path The `dataset.npz`.
 * @param hints The version's sample count, recorded roles and classes.
 * @param options The number of samples, the sampling seed and a progress callback.
 * @returns The image array, the report and the sampled images.
 * @throws {TypeError} If the archive is unreadable, corrupted, or has no image array.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectSchema } from "./inspect_schema.ts";
 * const hints = { numSamples: 1, roles: new Map(), classes: [] };
 * await assert.rejects(inspectSchema("/nonexistent.npz", hints, { samples: 4, seed: 1 }));
 * ```
 */
export async function inspectSchema(
  path: string,
  hints: SchemaHints,
  options: { samples: number; seed: number; onProgress?: (done: number) => void },
): Promise<SchemaInspection> {
  const reader = await NpzReader.open(path);
  try {
    const image = findImage(reader, hints);
    const perSampleArrays = reader.entries.filter((entry) =>
      entry.header.shape.length >= 1 && entry.header.shape[0] === hints.numSamples
    );
    const wrongLength = reader.entries.filter((entry) =>
      hints.roles.has(entry.name) &&
      entry.header.shape[0] !== hints.numSamples
    );
    const checks: SchemaCheck[] = [];
    let nonFinite = 0, blank = 0, done = 0;
    let badLabel: string | undefined;
    const labelCounts: { [array: string]: number[] } = {};
    const total = perSampleArrays.length * hints.numSamples;
    for (const entry of perSampleArrays) {
      const name = entry.name;
      const bytesPerSample = entry.dataBytes / hints.numSamples;
      const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, bytesPerSample)));
      const isFloat = FLOAT_DESCRS.has(entry.header.descr);
      const isLabel = hints.roles.get(name) === "label" && entry.header.descr === "|u1";
      if (isLabel) labelCounts[name] = new Array(hints.classes.length).fill(0);
      // One read of each array: the stream checks its CRC-32 after the last chunk.
      const chunkBytes = Math.max(1, perChunk * bytesPerSample);
      const chunks = reader.stream(entry.name, { chunkBytes });
      for await (const bytes of chunks) {
        const count = bytes.length / bytesPerSample;
        if (isFloat) {
          const view = entry.header.descr === "<f4"
            ? new Float32Array(bytes.slice().buffer)
            : new Float64Array(bytes.slice().buffer);
          for (const value of view) if (!Number.isFinite(value)) nonFinite++;
        }
        if (entry === image.entry) {
          for (let sample = 0; sample < count; sample++) {
            const first = bytes[sample * bytesPerSample]!;
            let same = true;
            for (let at = 1; at < bytesPerSample && same; at++) {
              same = bytes[sample * bytesPerSample + at] === first;
            }
            if (same) blank++;
          }
        }
        if (isLabel) {
          const counts = labelCounts[name]!;
          for (const value of bytes) {
            if (value >= counts.length) badLabel ??= `${name} holds ${value}`;
            else counts[value]!++;
          }
        }
        done += count;
        options.onProgress?.(Math.floor(done / Math.max(1, perSampleArrays.length)));
      }
    }
    if (total === 0) options.onProgress?.(0);
    checks.push({
      name: "arrays",
      verdict: wrongLength.length === 0 ? "pass" : "fail",
      summary: wrongLength.length === 0
        ? `${perSampleArrays.length} arrays of ${hints.numSamples} samples, CRC-32 checked`
        : `${wrongLength.map((entry) => entry.name).join(", ")} do not hold ` +
          `${hints.numSamples} samples`,
    });
    checks.push({
      name: "finite",
      verdict: nonFinite === 0 ? "pass" : "fail",
      summary: nonFinite === 0
        ? "no NaN or infinity in a float array"
        : `${nonFinite} NaN or infinite values`,
    });
    checks.push({
      name: "blank",
      verdict: blank === 0 ? "pass" : "warn",
      summary: `${blank} of ${hints.numSamples} images have every pixel equal`,
    });
    const labelNames = Object.keys(labelCounts);
    checks.push({
      name: "labels",
      verdict: badLabel === undefined ? "pass" : "fail",
      summary: badLabel !== undefined
        ? `${badLabel}, expected an index below ${hints.classes.length}`
        : labelNames.length === 0
        ? "no label array recorded"
        : labelNames.map((name) => `${name}: ${labelCounts[name]!.join("/")}`).join("; "),
    });
    const cells: SceneCell[] = [];
    const imageBytes = image.imageSize * image.imageSize * image.channels;
    for (
      const index of drawSampleIndices(hints.numSamples, options.seed, { count: options.samples })
    ) {
      cells.push({
        index,
        numObjects: -1,
        image: await reader.read(image.entry.name, {
          offset: index * imageBytes,
          length: imageBytes,
        }),
        masks: new Uint8Array(0),
      });
    }
    return {
      image: { name: image.entry.name, imageSize: image.imageSize, channels: image.channels },
      report: { checks, label_counts: labelCounts },
      cells,
    };
  } finally {
    reader.close();
  }
}
