/**
 * The record of a run: the metadata.json of the version it makes.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { NpzRecord } from "../pipeline/dataset.ts";
import { ARCHIVE_FILE, type SliceMetadata, type VersionMetadata } from "../store/metadata.ts";
import { versionId } from "../store/versions.ts";
import type { RunPlan } from "./plan.ts";

/** What a run knows once its archive is written. */
export interface RunFacts {
  /** The dataset folder's name. */
  dataset: string;
  /** The reserved version number. */
  version: number;
  /** When the run started (after the plan was confirmed). */
  startedAt: Date;
  /** When the archive was complete. */
  finishedAt: Date;
  /** Seconds from start to the end of the write. */
  seconds: number;
  /** Whether the seed came from the caller or was drawn. */
  seedSource: "flag" | "drawn";
  /** What the writer returned. */
  archive: NpzRecord;
  /** The command line as typed; empty for a library call. */
  commandLine?: string[];
  /** The measured peak resident memory in bytes, where known. */
  peakBytes?: number;
  /** The part of `peakBytes` that external renderer processes used. */
  rendererPeakBytes?: number;
  /** For an external renderer: the command as typed and what its handshake declared. */
  renderer?: VersionMetadata["renderer"];
  /** For a merge: the run id, shards and the slices' records. */
  shardedRun?: { run_id: string; shards: number; slices: SliceMetadata[] };
}

/**
 * Builds the version's metadata.json.
 *
 * @param plan The run's plan.
 * @param facts What the run did.
 * @returns The record.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * import { recordRun } from "./record.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" });
 * const now = new Date();
 * const record = recordRun(plan, { dataset: "shapes16", version: 1, startedAt: now,
 *   finishedAt: now, seconds: 1, seedSource: "flag",
 *   archive: { bytes: 1, sha256: "0".repeat(64), arrays: [] } });
 * assert.equal(record.run.images_per_second, 10);
 * ```
 */
export function recordRun(plan: RunPlan, facts: RunFacts): VersionMetadata {
  const { spec, generator } = plan;
  const metadata: VersionMetadata = {
    schema_version: 1,
    dataset: facts.dataset,
    version: facts.version,
    version_id: versionId(facts.version, facts.startedAt),
    created_at: facts.startedAt.toISOString(),
    finished_at: facts.finishedAt.toISOString(),
    seed: spec.seed,
    seed_source: facts.seedSource,
    num_images: spec.numImages,
    image_size: spec.imageSize,
    dtype: spec.dtype,
    generator: {
      name: generator.name,
      version: generator.version,
      parameters: generator.parameters,
    },
    spec: plan.spec,
    files: [{ name: ARCHIVE_FILE, bytes: facts.archive.bytes, sha256: facts.archive.sha256 }],
    arrays: facts.archive.arrays.map(({ name, dtype, shape, offset }) => ({
      name,
      dtype,
      shape,
      offset,
    })),
    run: {
      dsgen_version: denoJson.version,
      deno_version: Deno.version.deno,
      v8_version: Deno.version.v8,
      os: Deno.build.os,
      arch: Deno.build.arch,
      command_line: facts.commandLine ?? [],
      workers: plan.workers.count,
      hash_thread: plan.hashThread,
      chunk_images: plan.dataset.chunkImages,
      duration_seconds: Number(facts.seconds.toFixed(3)),
      images_per_second: Math.round(spec.numImages / facts.seconds),
      memory: {
        estimated_peak_bytes: plan.estimate.total,
        measured_peak_bytes: facts.peakBytes ?? null,
        estimate_parts: { ...plan.estimate },
      },
    },
  };
  if (facts.renderer !== undefined) metadata.renderer = facts.renderer;
  if (facts.rendererPeakBytes !== undefined) {
    metadata.run.memory.renderers_peak_bytes = facts.rendererPeakBytes;
  }
  if (facts.shardedRun !== undefined) metadata.sharded_run = facts.shardedRun;
  return metadata;
}
