/**
 * Inspecting a `scenes` archive: one pass over its per-scene arrays, a chunk of scenes at a
 * time (about 8 MiB of masks), computes the scene quality report (`scene_quality.ts`), and a
 * few reads fetch the sampled scenes (image and masks) for the grid. Memory stays flat: one
 * chunk of each array at a time.
 *
 * @module
 */

import { NpzReader } from "../format/npz_reader.ts";
import type { SceneCell } from "../report/scene_grid.ts";
import { SCENE_SHAPES } from "../generators/scenes.ts";
import { drawSampleIndices } from "./sample_indices.ts";
import {
  SceneQualityAccumulator,
  type SceneQualityConfig,
  type SceneQualityReport,
} from "./scene_quality.ts";

/** Target bytes of masks per chunk. */
const CHUNK_BYTES = 8 * 1024 * 1024;

/** What {@linkcode inspectScenes} found. */
export interface SceneInspection {
  /** The configuration read from the archive and the recorded parameters. */
  config: SceneQualityConfig;
  /** The colour channels of the images. */
  channels: number;
  /** The number of scenes. */
  numScenes: number;
  /** The quality report. */
  report: SceneQualityReport;
  /** The sampled scenes, by ascending index. */
  cells: SceneCell[];
}

/**
 * The configuration of a scenes archive: S and K from its arrays' shapes, the count range and
 * shapes from the recorded parameters (`generator.parameters` of metadata.json), else all.
 *
 * @param reader The open archive.
 * @param parameters The recorded parameters.
 * @returns The configuration and the colour channels.
 * @throws {TypeError} When an array the report needs is missing or misshapen.
 */
function configOf(
  reader: NpzReader,
  parameters: { [key: string]: unknown },
): { config: SceneQualityConfig; channels: number; numScenes: number } {
  const shapeOf = (name: string, rank: number) => {
    const entry = reader.entries.find((candidate) => candidate.name === name);
    if (entry === undefined || entry.header.shape.length !== rank) {
      throw new TypeError(
        `Cannot inspect ${reader.path} as scenes: ${
          entry === undefined ? `it has no "${name}"` : `"${name}" has shape ` +
            `(${entry.header.shape.join(", ")})`
        }, expected an array of ${rank} dimensions`,
      );
    }
    return entry.header.shape;
  };
  const masks = shapeOf("masks", 4);
  const color = shapeOf("color", 3);
  for (const [name, rank] of [["amodal_masks", 4], ["shape", 2], ["occlusion", 2]] as const) {
    shapeOf(name, rank);
  }
  shapeOf("num_objects", 1);
  shapeOf("visibility", 2);
  const maxK = masks[1]! - 1;
  const number = (key: string, fallback: number) =>
    typeof parameters[key] === "number" ? parameters[key] as number : fallback;
  const names = Array.isArray(parameters.shapes) ? parameters.shapes as string[] : SCENE_SHAPES;
  return {
    config: {
      imageSize: masks[2]!,
      maxK,
      minObjects: number("min_objects", 0),
      maxObjects: number("max_objects", maxK),
      shapeNames: SCENE_SHAPES,
      shapes: names.map((name) => SCENE_SHAPES.indexOf(name as typeof SCENE_SHAPES[number]) + 1)
        .filter((code) => code > 0),
      overlap: parameters.overlap !== false,
    },
    channels: color[2]!,
    numScenes: masks[0]!,
  };
}

/**
 * Computes the quality report of a scenes archive and reads the sampled scenes.
 *
 * @param path The `dataset.npz`.
 * @param options The recorded parameters, the number of samples, the sampling seed and a
 *   progress callback.
 * @returns The configuration, report and sampled scenes.
 * @throws {TypeError} If the archive is unreadable, corrupted (CRC-32), or lacks scene arrays.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectScenes } from "./inspect_scenes.ts";
 * await assert.rejects(inspectScenes("/nonexistent.npz", { parameters: {}, samples: 4, seed: 1 }));
 * ```
 */
export async function inspectScenes(
  path: string,
  options: {
    parameters: { [key: string]: unknown };
    samples: number;
    seed: number;
    onProgress?: (done: number) => void;
  },
): Promise<SceneInspection> {
  const reader = await NpzReader.open(path);
  try {
    const { config, channels, numScenes } = configOf(reader, options.parameters);
    const pixels = config.imageSize * config.imageSize, slots = config.maxK;
    const quality = new SceneQualityAccumulator(config);
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / ((slots + 1) * pixels)));
    const read = (name: string, start: number, count: number, perScene: number) =>
      reader.read(name, { offset: start * perScene, length: count * perScene });
    const floats = (bytes: Uint8Array) =>
      new Float32Array(bytes.slice().buffer, 0, bytes.length / 4);
    // One read of each array, a chunk of scenes from each in step; each stream checks its
    // array's CRC-32 once it has given its last chunk.
    const arrays = {
      masks: (slots + 1) * pixels,
      amodal_masks: slots * pixels,
      num_objects: 1,
      shape: slots,
      occlusion: 4 * slots,
      visibility: slots + 1,
    };
    const streams = Object.fromEntries(
      Object.entries(arrays).map(([name, perScene]) => [
        name,
        reader.stream(name, { chunkBytes: perChunk * perScene }),
      ]),
    ) as Record<keyof typeof arrays, AsyncGenerator<Uint8Array>>;
    const next = async (name: keyof typeof arrays) => {
      const chunk = await streams[name].next();
      if (chunk.done) {
        throw new TypeError(
          `Cannot inspect ${reader.path} as scenes: "${name}" holds fewer than ${numScenes} scenes`,
        );
      }
      return chunk.value;
    };
    for (let start = 0; start < numScenes; start += perChunk) {
      const count = Math.min(perChunk, numScenes - start);
      quality.add({
        start,
        count,
        masks: await next("masks"),
        amodal: await next("amodal_masks"),
        numObjects: await next("num_objects"),
        shape: await next("shape"),
        occlusion: floats(await next("occlusion")),
        visibility: await next("visibility"),
      });
      options.onProgress?.(start + count);
    }
    for (const stream of Object.values(streams)) await stream.next();
    const cells: SceneCell[] = [];
    const imageBytes = pixels * channels;
    for (const index of drawSampleIndices(numScenes, options.seed, { count: options.samples })) {
      cells.push({
        index,
        numObjects: (await read("num_objects", index, 1, 1))[0]!,
        image: await read("image", index, 1, imageBytes),
        masks: await read("masks", index, 1, (slots + 1) * pixels),
      });
    }
    return { config, channels, numScenes, report: quality.finish(), cells };
  } finally {
    reader.close();
  }
}
