/**
 * Rendering on every core: worker threads render chunks while the caller writes them in order.
 *
 * Chunks are handed out round-robin, a few per worker ahead of the writer, and yielded in
 * index order. Since image i depends only on (seed, i), the bytes are the same for any number
 * of workers, including one. Each worker fills a small ring of slots in shared memory,
 * signalled with `Atomics` (see `render_worker.ts`): messages only start an archive and report
 * failures, since every message between threads left Deno 2.9.6 a little more memory for good.
 *
 * @module
 */

import { type FamilyRef, familyTables, type ImageDtype } from "../generators/spec.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { bytesPerSample } from "../generators/sample_schema.ts";
import { modelSeconds } from "./thread_plan.ts";
import type { DatasetPlan } from "./dataset.ts";
import type { SampleChunk } from "./sample_chunk.ts";
import { inOrder } from "./in_order.ts";
import {
  CONTROL_HEADER_BYTES,
  DONE,
  type RenderFailure,
  type RenderSetup,
  REQUESTED,
  SLOT_FIELDS,
} from "./render_worker.ts";

/**
 * Starting worker threads costs about 0.1 s (two isolates loading the modules, measured with
 * Deno 2.9.6 on 2 cores), and two threads can at best halve the time: so threads are used only
 * when one thread would take at least this long, by {@linkcode singleThreadSeconds}'s model.
 */
export const MIN_SECONDS_FOR_WORKERS = 0.3;

/**
 * One thread's time for a run of the shapes family, everything on the main thread: the model
 * of `thread_plan.ts` (rendering, writing and hashing). Conservative for faster families.
 *
 * @param plan The number of images, their side and dtype.
 * @returns Seconds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { singleThreadSeconds } from "./worker_pool.ts";
 * const small = singleThreadSeconds({ numImages: 1000, imageSize: 16, dtype: "uint8" });
 * assert.ok(small < 0.01);
 * ```
 */
export function singleThreadSeconds(
  plan: { numImages: number; imageSize: number; dtype?: ImageDtype },
): number {
  return modelSeconds(
    { numImages: plan.numImages, imageSize: plan.imageSize, dtype: plan.dtype ?? "uint8" },
    { workers: 1, hashThread: false },
    1,
  );
}

/**
 * The fewest images for which a run uses worker threads, for an image side and dtype.
 *
 * @param imageSize The image side in pixels.
 * @param dtype The image dtype (default uint8).
 * @returns A number of images.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minImagesForWorkers } from "./worker_pool.ts";
 * assert.ok(minImagesForWorkers(256) < minImagesForWorkers(16));
 * ```
 */
export function minImagesForWorkers(imageSize: number, dtype: ImageDtype = "uint8"): number {
  return Math.ceil(
    MIN_SECONDS_FOR_WORKERS / singleThreadSeconds({ numImages: 1, imageSize, dtype }),
  );
}

/**
 * How many rendering threads a run uses: one (the main thread) for runs one thread finishes
 * in well under a second (see {@linkcode MIN_SECONDS_FOR_WORKERS}), else the requested number,
 * at most one per chunk.
 *
 * @param requested The `--workers` value.
 * @param plan The number of images, images per chunk, the image side and dtype.
 * @returns The number of threads; 1 means no worker threads.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { effectiveWorkers } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 16 });
 * const plan = { generator, dtype: "uint8" as const, chunkImages: 256 };
 * assert.ok(effectiveWorkers(8, { ...plan, numImages: 1000 }) === 1);
 * assert.ok(effectiveWorkers(2, { ...plan, numImages: 1_000_000 }) === 2);
 * ```
 */
export function effectiveWorkers(
  requested: number,
  plan: {
    numImages: number;
    chunkImages: number;
    generator: { imageSize: number };
    dtype?: ImageDtype;
  },
): number {
  const imageSize = plan.generator.imageSize;
  if (plan.numImages < minImagesForWorkers(imageSize, plan.dtype)) return 1;
  return Math.max(1, Math.min(requested, Math.ceil(plan.numImages / plan.chunkImages)));
}

/**
 * Render threads that outlive one archive: a run that writes several archives (a recipe's
 * splits) starts its threads once, not once per archive (about 0.1 s each time), and every
 * archive renders on them, however few its images. Threads that were stopped in the middle
 * of an archive are ended, not reused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { RenderThreads, workerSampleChunks } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * using threads = new RenderThreads(2);
 * for (const _archive of [1, 2]) {
 *   let samples = 0;
 *   for await (const chunk of workerSampleChunks(plan, {
 *     workers: threads.count,
 *     family: { name: "shapes", options: {} },
 *     threads,
 *   })) samples += chunk.numSamples;
 *   assert.equal(samples, 5);
 * }
 * assert.equal(threads.started, 2);
 * ```
 */
export class RenderThreads implements Disposable {
  /** The number of threads each archive renders on. */
  readonly count: number;
  #idle: Worker[] = [];
  #started = 0;
  #slots = new Map<Worker, SharedArrayBuffer[][]>();

  /**
   * Threads to be started as archives need them.
   *
   * @param count The number of threads each archive renders on.
   */
  constructor(count: number) {
    this.count = count;
  }

  /** How many threads were started so far. */
  get started(): number {
    return this.#started;
  }

  /**
   * Threads to render one archive on: idle ones first, then new ones.
   *
   * @param count How many.
   * @returns The threads; give them back with {@linkcode RenderThreads.giveBack}.
   */
  take(count: number): Worker[] {
    return Array.from({ length: count }, () => {
      const idle = this.#idle.pop();
      if (idle !== undefined) return idle;
      this.#started++;
      return new Worker(new URL("./render_worker.ts", import.meta.url), { type: "module" });
    });
  }

  /**
   * A thread's slots for an archive: those of its last archive when they have the same
   * sizes (a recipe's splits of one family), else new ones, kept for the next. New ones per
   * archive piled up until the collector freed them, which shared memory hardly urges: eight
   * splits of 100,000 16x16 dsprites images peaked at 220 MB against 110 MB on one thread.
   *
   * @param worker The thread.
   * @param count The number of slots.
   * @param bytes Each array's bytes in a slot.
   * @returns Per slot, one buffer per array.
   */
  slotsFor(worker: Worker, count: number, bytes: readonly number[]): SharedArrayBuffer[][] {
    const kept = this.#slots.get(worker);
    if (
      kept?.length === count &&
      kept.every((slot) => slot.every((buffer, index) => buffer.byteLength === bytes[index]))
    ) return kept;
    const slots = newSlots(count, bytes);
    this.#slots.set(worker, slots);
    return slots;
  }

  /**
   * Takes back threads an archive rendered on.
   *
   * @param workers The threads.
   * @param reusable Whether every request sent to them was answered; if not, they are ended.
   */
  giveBack(workers: Worker[], reusable: boolean): void {
    // Each was told to stop taking requests first: terminate() waits for a turn of the
    // thread's event loop, which a thread blocked on its control block never takes.
    for (const worker of workers) {
      if (reusable) this.#idle.push(worker);
      else {
        worker.terminate();
        this.#slots.delete(worker);
      }
    }
  }

  /** Ends the idle threads. */
  [Symbol.dispose](): void {
    for (const worker of this.#idle.splice(0)) worker.terminate();
    this.#slots.clear();
  }
}

/** `count` slots of one buffer per array, each of the given bytes. */
function newSlots(count: number, bytes: readonly number[]): SharedArrayBuffer[][] {
  return Array.from({ length: count }, () => bytes.map((size) => new SharedArrayBuffer(size)));
}

/** Options of {@linkcode workerSampleChunks}. */
export interface WorkerPoolOptions {
  /** Number of worker threads. */
  workers: number;
  /** The plan's family: each worker imports and configures its own copy. */
  family: FamilyRef;
  /** Stops between chunks; the workers are terminated. */
  signal?: AbortSignal | undefined;
  /** Chunks requested ahead per worker (default 4). */
  aheadPerWorker?: number;
  /**
   * The dataset index of the plan's first image (default 0): a cluster slice renders the
   * images `firstImage .. firstImage + plan.numImages - 1` of its dataset.
   */
  firstImage?: number;
  /** Threads to render on, kept for the next archive; default: threads of this call's own. */
  threads?: RenderThreads | undefined;
}

interface Pending {
  chunk: number;
  resolve: (chunk: SampleChunk) => void;
  reject: (error: Error) => void;
}

/** One worker's side of an archive: its control block, its slots and its requests. */
interface Lane {
  worker: Worker;
  control: Int32Array;
  fields: Float64Array;
  slots: SharedArrayBuffer[][];
  /** Requests made, answered, in order; `queue` holds the unanswered ones. */
  requested: number;
  answered: number;
  queue: Pending[];
  /** Whether a loop awaits this lane's control block. */
  watching: boolean;
}

/**
 * The chunks of a plan, filled by worker threads, in order.
 *
 * @param plan What to generate.
 * @param options Worker count, family and abort signal.
 * @returns The chunks, every array of the schema, the first with its CRC-32 (computed by the
 *   workers), in sample order. A chunk's bytes (views over `SharedArrayBuffer`s) are valid
 *   until the chunk after the next one is requested: then its memory is filled again. That one
 *   chunk more than the producer's contract lets a hashing thread hash shared bytes in place.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generators } from "../generators/registry.ts";
 * import { workerSampleChunks } from "./worker_pool.ts";
 * const generator = generators.get("shapes").create({ imageSize: 8 });
 * const plan = { generator, numImages: 5, seed: 1, dtype: "uint8" as const, chunkImages: 2 };
 * let samples = 0;
 * for await (const chunk of workerSampleChunks(plan, {
 *   workers: 2,
 *   family: { name: "shapes", options: {} },
 * })) {
 *   assert.equal(chunk.arrays.length, 3); // images, labels, latents
 *   samples += chunk.numSamples;
 * }
 * assert.equal(samples, 5);
 * ```
 */
export async function* workerSampleChunks(
  plan: DatasetPlan,
  options: WorkerPoolOptions,
): AsyncGenerator<SampleChunk> {
  const chunkCount = Math.ceil(plan.numImages / plan.chunkImages);
  const workerCount = Math.max(1, Math.min(options.workers, chunkCount));
  const aheadPerWorker = options.aheadPerWorker ?? 4;
  const ahead = workerCount * aheadPerWorker;
  // Chunk n of a lane reuses the slot of its chunk n - slots. inOrder starts chunk c + ahead
  // when chunk c is taken, so the caller is done with chunk c - 1, and the chunk before it is
  // kept too (see @returns): the slots of a lane must cover ahead + 2 chunks of all lanes.
  const slotCount = Math.min(
    aheadPerWorker + Math.ceil(2 / workerCount),
    Math.ceil(chunkCount / workerCount),
  );
  const slotImages = Math.min(plan.chunkImages, plan.numImages);
  const specs = schemaOf(plan.generator, plan.dtype).arrays;
  const slotBytes = specs.map((spec) => slotImages * bytesPerSample(spec));
  let failure: Error | undefined;
  let closed = false;
  const own = options.threads === undefined;
  const threads = options.threads ?? new RenderThreads(workerCount);
  const tables = familyTables();
  const failAll = (error: Error) => {
    failure ??= error;
    for (const lane of lanes) {
      for (const entry of lane.queue.splice(0)) entry.reject(error);
      Atomics.notify(lane.control, DONE);
    }
  };
  const lanes: Lane[] = threads.take(workerCount).map((worker) => {
    // A fresh control block per archive: a thread still leaving the last archive reads that
    // one's stop. The slots are reused (slotsFor) only after every request was answered.
    const control = new SharedArrayBuffer(CONTROL_HEADER_BYTES + slotCount * SLOT_FIELDS * 8);
    const slots = threads.slotsFor(worker, slotCount, slotBytes);
    worker.onmessage = (event: MessageEvent<RenderFailure>) => {
      failAll(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      failAll(new Error(`A render worker failed: ${event.message}`));
    };
    const setup: RenderSetup = {
      family: options.family,
      imageSize: plan.generator.imageSize,
      seed: plan.seed,
      dtype: plan.dtype,
      chunkImages: slotImages,
      control,
      slots,
      ...(tables.length > 0 ? { tables } : {}),
    };
    worker.postMessage(setup);
    return {
      worker,
      control: new Int32Array(control, 0, CONTROL_HEADER_BYTES / 4),
      fields: new Float64Array(control, CONTROL_HEADER_BYTES),
      slots,
      requested: 0,
      answered: 0,
      queue: [],
      watching: false,
    };
  });
  const answer = (lane: Lane, entry: Pending) => {
    const slot = lane.answered % slotCount;
    const numSamples = lane.fields[slot * SLOT_FIELDS + 1]!;
    const crc32 = lane.fields[slot * SLOT_FIELDS + 2]!;
    lane.answered++;
    const arrays = lane.slots[slot]!.map((buffer, index) =>
      new Uint8Array(buffer, 0, numSamples * bytesPerSample(specs[index]!))
    );
    const [first, ...rest] = arrays;
    entry.resolve({ numSamples, arrays: [{ bytes: first!, crc32 }, ...rest] });
  };
  // One loop per lane awaits its control block while it has requests unanswered.
  const watch = async (lane: Lane) => {
    lane.watching = true;
    try {
      while (!closed && failure === undefined && lane.queue.length > 0) {
        const done = Atomics.load(lane.control, DONE);
        while (lane.answered < done && lane.queue.length > 0) answer(lane, lane.queue.shift()!);
        if (lane.queue.length === 0) break;
        const waiting = Atomics.waitAsync(lane.control, DONE, done);
        if (waiting.async) await waiting.value;
      }
    } finally {
      lane.watching = false;
    }
  };
  const render = (chunk: number) =>
    new Promise<SampleChunk>((resolve, reject) => {
      if (failure !== undefined) return reject(failure);
      const lane = lanes[chunk % workerCount]!;
      const slot = lane.requested % slotCount;
      const start = chunk * plan.chunkImages;
      lane.fields[slot * SLOT_FIELDS] = (options.firstImage ?? 0) + start;
      lane.fields[slot * SLOT_FIELDS + 1] = Math.min(plan.chunkImages, plan.numImages - start);
      lane.queue.push({ chunk, resolve, reject });
      lane.requested++;
      Atomics.store(lane.control, REQUESTED, lane.requested);
      Atomics.notify(lane.control, REQUESTED);
      if (!lane.watching) watch(lane);
    });
  const onAbort = () => failAll(options.signal?.reason ?? new Error("Aborted"));
  options.signal?.addEventListener("abort", onAbort);
  let finished = false;
  try {
    yield* inOrder(chunkCount, { ahead, start: render, signal: options.signal });
    finished = true;
  } finally {
    closed = true;
    options.signal?.removeEventListener("abort", onAbort);
    // Threads with requests under way would go on filling this archive's slots: end them.
    const reusable = !own && finished && failure === undefined &&
      lanes.every((lane) => lane.queue.length === 0);
    for (const lane of lanes) {
      lane.worker.onmessage = null;
      lane.worker.onerror = null;
      // Back to its event loop: for the next archive's setup, or to be terminated.
      Atomics.store(lane.control, REQUESTED, -1);
      Atomics.notify(lane.control, REQUESTED);
      Atomics.notify(lane.control, DONE);
    }
    threads.giveBack(lanes.map((lane) => lane.worker), reusable);
  }
}
