/**
 * The plan of a run: the spec resolved to a generator, the chunking, the threads and the
 * memory it may use, the bytes it writes and the memory it needs, and the lines that say so.
 *
 * @module
 */

import { UsageError } from "../exit/errors.ts";
import { createGenerator, type DatasetSpec } from "../generators/spec.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import {
  chunkSamples,
  type DatasetPlan,
  predictArchiveBytes,
  spillBytes,
} from "../pipeline/dataset.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { sampleBytes, type SampleSchema } from "../generators/sample_schema.ts";
import { bytesPerPixel } from "../pipeline/render.ts";
import { effectiveWorkers } from "../pipeline/worker_pool.ts";
import { chooseThreadPlan } from "../pipeline/thread_plan.ts";
import { estimatePeakMemory, formatMegabytes, type MemoryEstimate } from "../report/memory.ts";
import type { MemoryLimit } from "./preflight.ts";
import { allocatedWorkers, memoryLimit, type ResourceProbe } from "./resources.ts";

/** A run, planned: everything decided before anything is created. */
export interface RunPlan {
  /** The spec, with the family's version filled in. */
  spec: DatasetSpec;
  /** The configured generator. */
  generator: ImageGenerator;
  /** What the writer renders. */
  dataset: DatasetPlan;
  /** Rendering threads used (1: the main thread), and where the default came from. */
  workers: { count: number; source: string };
  /** Whether the archive's SHA-256 runs on a thread of its own (`thread_plan.ts`). */
  hashThread: boolean;
  /** The archive's exact size in bytes. */
  archiveBytes: number;
  /**
   * Bytes of the spill files beside the archive while it is written (`spill.ts`): every array
   * of the schema after the first, and the arrays drawn per image (`latents_classes`), once
   * the first is written; 0 for a merge, which brings them. The disk needs room for both.
   */
  spillBytes: number;
  /** The estimated peak memory. */
  estimate: MemoryEstimate;
  /** The memory the run may use, and where that figure came from. */
  memory: MemoryLimit;
}

/** Options of {@linkcode planRun}. */
export interface PlanOptions {
  /** Threads requested (`--workers`); default: the allocation's CPUs. */
  workers?: number;
  /** Injected environment and machine figures (tests). */
  probe?: ResourceProbe;
  /** The generator, already resolved (an external renderer's description). */
  generator?: ImageGenerator;
  /**
   * External renderers: the peak resident memory of one process, measured on a pilot request
   * (the estimate counts one per worker, and no worker threads in dsgen), and the bytes per
   * pixel of their answers.
   */
  renderer?: { peakBytes: number; answerBytesPerPixel: number };
  /**
   * Whether the run hashes what it writes (default true; a cluster slice writes raw image
   * files, hashed only when merged).
   */
  hashes?: boolean;
  /** The run copies the slice files of a sharded run (a merge) instead of rendering. */
  merge?: boolean;
  /**
   * For a cluster slice: the images of the whole archive the slice holds a share of, which a
   * family that fixes its count (a grid) must fix; default: the spec's own count.
   */
  wholeImages?: number;
  /**
   * The samples the run's threads render in all, when they render several archives on one
   * set of threads (a recipe's splits): the threads are chosen for these, not for this
   * archive's alone (default: this plan's). Eight splits of 100,000 16x16 images are a
   * run of 800,000 for the threads, not eight runs too small for them.
   */
  threadImages?: number;
}

/**
 * Resolves a spec into a plan.
 *
 * @param spec What to generate.
 * @param options Requested threads, injected resources.
 * @returns The plan.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" }, { workers: 4 });
 * assert.equal(plan.workers.count, 1); // small runs render on the main thread
 * ```
 */
export async function planRun(spec: DatasetSpec, options: PlanOptions = {}): Promise<RunPlan> {
  const generator = options.generator ?? await createGenerator(spec);
  const wholeImages = options.wholeImages ?? spec.numImages;
  if (generator.fixedNumImages !== undefined && generator.fixedNumImages !== wholeImages) {
    throw new UsageError(
      `Cannot generate ${wholeImages} images with ${generator.name}: its options fix ` +
        `${generator.fixedNumImages}`,
    );
  }
  let schema: SampleSchema;
  try {
    schema = schemaOf(generator, spec.dtype);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  const resolved: DatasetSpec = {
    ...spec,
    family: { ...spec.family, version: generator.version },
  };
  const dataset: DatasetPlan = {
    generator,
    numImages: spec.numImages,
    seed: spec.seed,
    dtype: spec.dtype,
    chunkImages: chunkSamples(generator, spec.dtype),
  };
  const probe = options.probe ?? {};
  const allocated = allocatedWorkers(options.workers, probe);
  const archiveBytes = await predictArchiveBytes(dataset);
  let threads = { workers: 1, hashThread: false };
  if (options.renderer !== undefined) {
    // Renderer processes start in parallel and draw far slower than dsgen's own threads: use
    // them whenever there are chunks to share.
    threads.workers = Math.max(
      1,
      Math.min(allocated.count, Math.ceil(spec.numImages / dataset.chunkImages)),
    );
  } else {
    const cores = options.workers === undefined
      ? allocated.count
      : allocatedWorkers(undefined, probe).count;
    const threadImages = Math.max(spec.numImages, options.threadImages ?? 0);
    threads = chooseThreadPlan({
      numImages: threadImages,
      imageSize: spec.imageSize,
      dtype: spec.dtype,
      bytePath: generator.renderBytes !== undefined,
      ...(generator.schema === undefined ? {} : { sampleBytes: sampleBytes(schema) }),
    }, {
      workers: effectiveWorkers(allocated.count, { ...dataset, numImages: threadImages }),
      fixed: options.workers !== undefined,
      cores,
      // The bytes hashed over those samples.
      archiveBytes: options.hashes === false ? 0 : archiveBytes * threadImages / spec.numImages,
    });
  }
  const workers = { count: threads.workers, source: allocated.source };
  const estimate = estimatePeakMemory({
    numImages: spec.numImages,
    imageSize: spec.imageSize,
    chunkImages: dataset.chunkImages,
    bytesPerPixel: bytesPerPixel(spec.dtype),
    sampleBytes: sampleBytes(schema),
    workers: options.renderer === undefined ? workers.count : 1,
    hashThread: threads.hashThread,
    floatScratch: options.renderer === undefined && generator.renderBytes === undefined,
    merge: options.merge === true,
    ...(options.renderer === undefined ? {} : {
      renderers: {
        processes: workers.count,
        peakBytes: options.renderer.peakBytes,
        answerBytesPerPixel: options.renderer.answerBytesPerPixel,
      },
    }),
  });
  return {
    spec: resolved,
    generator,
    dataset,
    workers,
    hashThread: threads.hashThread,
    archiveBytes,
    spillBytes: options.merge === true ? 0 : spillBytes(dataset),
    estimate,
    memory: memoryLimit(probe, allocated),
  };
}

/**
 * The thread count as the plan line says it, with where a default came from; a run too small
 * for threads uses one whatever the default, and `--workers` needs no explanation.
 *
 * @param workers The count and its source.
 * @param noun What is counted, singular and plural (default workers; renderer processes for
 * `--generator-cmd`).
 * @returns For example `4 workers (SLURM_CPUS_PER_TASK)` or `1 worker`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeWorkers } from "./plan.ts";
 * assert.equal(describeWorkers({ count: 4, source: "CPU affinity" }), "4 workers (CPU affinity)");
 * assert.equal(describeWorkers({ count: 1, source: "cores" }), "1 worker");
 * ```
 */
export function describeWorkers(
  workers: { count: number; source: string },
  noun: [string, string] = ["worker", "workers"],
): string {
  const said = workers.source === "--workers" ||
    (workers.count === 1 && workers.source === "cores");
  const threads = `${workers.count} ${workers.count === 1 ? noun[0] : noun[1]}`;
  return said ? threads : `${threads} (${workers.source})`;
}

/**
 * The plan as the run prints it before it starts.
 *
 * @param plan The plan.
 * @param options Where the versions go, and whether the seed was drawn.
 * @returns The lines, without newlines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describePlan, planRun } from "./plan.ts";
 * const plan = await planRun({ family: { name: "shapes", options: {} }, seed: 1,
 *   numImages: 10, imageSize: 16, dtype: "uint8" });
 * assert.match(describePlan(plan, { output: "data/shapes16/v????-<time>/" })[0]!, /^Plan: 10 images/);
 * ```
 */
export function describePlan(
  plan: RunPlan,
  options: { output: string; seedDrawn?: boolean },
): string[] {
  const { spec, generator, workers } = plan;
  const threads = describeWorkers(
    workers,
    spec.family.command === undefined ? undefined : ["renderer process", "renderer processes"],
  );
  return [
    `Plan: ${spec.numImages} images of ${spec.imageSize}x${spec.imageSize} ` +
    `${spec.dtype}, generator ${generator.name} ${generator.version}, ` +
    `seed ${spec.seed}${options.seedDrawn ? " (drawn)" : ""}, ${threads}` +
    (plan.hashThread ? ", SHA-256 on its own thread" : ""),
    `Output: ${options.output}`,
    `Disk: ${formatMegabytes(plan.archiveBytes)} (${plan.archiveBytes} bytes)`,
    `Estimated memory: ${formatMegabytes(plan.estimate.total)} for ${spec.numImages} images ` +
    `(${formatMegabytes(plan.memory.bytes)} ${plan.memory.source})`,
  ];
}
