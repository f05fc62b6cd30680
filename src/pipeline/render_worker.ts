/**
 * A rendering thread: fills chunks into shared memory, signalled with `Atomics`, not messages.
 *
 * One message starts an archive: a {@linkcode RenderSetup} (the family, seed and dtype, a
 * control block and a ring of slots, each one `SharedArrayBuffer` per array of the family's
 * schema, sized for a whole chunk). Then the thread waits on the control block: the main
 * thread writes a request (its first sample and count) into the next slot's fields and raises
 * the request count; this thread fills the slot's arrays (`fillSamples`), stores the first
 * array's CRC-32 (computed here so the writer, which streams that array, needs not) and raises
 * the done count. Requests are taken in order, slot `i % slots` for the i-th. A request count
 * below zero stops the archive: the thread goes back to its event loop, for the next archive's
 * setup or to be terminated. Out: `{ error }` only, when a request cannot be filled (then the
 * thread stops taking requests). The family is a {@linkcode FamilyRef}, so a family loaded from
 * the user's module renders here too.
 *
 * Messages per chunk made Deno 2.9.6 keep 600 to 870 bytes resident for good, per chunk, outside
 * V8's heaps (bench:memory: 125 MB at 100,000,000 16x16 images against 112 MB at 1,000,000); a
 * million round trips through the control block keep it flat.
 *
 * @module
 */

import { crc32 } from "../format/crc32.ts";
import type { ImageGenerator } from "../generators/generator.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { allocateChunk, type ChunkLayout } from "../generators/sample_schema.ts";
import {
  adoptFamilyTables,
  createGenerator,
  type FamilyRef,
  type FamilyTables,
} from "../generators/spec.ts";
import type { ImageDtype } from "./render.ts";
import { fillSamples, viewBytes } from "./sample_chunk.ts";

/** Index in {@linkcode RenderSetup.control}'s `Int32Array` of the number of requests made. */
export const REQUESTED = 0;
/** Index in {@linkcode RenderSetup.control}'s `Int32Array` of the number of requests filled. */
export const DONE = 1;
/** Bytes of the control block before the slots' fields. */
export const CONTROL_HEADER_BYTES = 8;
/** Float64 fields per slot after the header: first sample, count, CRC-32 of the first array. */
export const SLOT_FIELDS = 3;

/** Starts an archive on a thread. */
export interface RenderSetup {
  /** The dataset's family; the thread imports and configures its own copy. */
  family: FamilyRef;
  /** Side of every (square) image in pixels. */
  imageSize: number;
  /** The dataset seed; sample i depends only on it and i, not on the chunking. */
  seed: number;
  /** The images' dtype (a classic family's). */
  dtype: ImageDtype;
  /** Samples of a whole chunk: each slot's arrays hold this many. */
  chunkImages: number;
  /**
   * `Int32Array` [{@linkcode REQUESTED}, {@linkcode DONE}], then per slot
   * {@linkcode SLOT_FIELDS} `Float64Array` fields.
   */
  control: SharedArrayBuffer;
  /** Per slot, one buffer per array of the schema, in schema order. */
  slots: SharedArrayBuffer[][];
  /** What the main thread computed configuring families. */
  tables?: FamilyTables;
}

/** A failure, sent back; the thread takes no more requests of this archive. */
export interface RenderFailure {
  /** What went wrong. */
  error: string;
}

/** How long an idle thread blocks before a turn of its event loop, where it can be ended. */
const IDLE_WAIT_MS = 100;

/** Families configured by this thread, the latest last: a few, not one per archive. */
const configured = new Map<string, Promise<ImageGenerator>>();
const CONFIGURED_KEPT = 2;

function generatorFor(setup: RenderSetup): Promise<ImageGenerator> {
  const key = JSON.stringify([setup.family, setup.imageSize]);
  let generator = configured.get(key);
  if (generator === undefined) {
    generator = createGenerator({ family: setup.family, imageSize: setup.imageSize });
    if (configured.size >= CONFIGURED_KEPT) configured.delete(configured.keys().next().value!);
    configured.set(key, generator);
  }
  return generator;
}

async function serve(setup: RenderSetup): Promise<void> {
  if (setup.tables !== undefined) adoptFamilyTables(setup.tables);
  const generator = await generatorFor(setup);
  const schema = schemaOf(generator, setup.dtype);
  const control = new Int32Array(setup.control, 0, CONTROL_HEADER_BYTES / 4);
  const fields = new Float64Array(setup.control, CONTROL_HEADER_BYTES);
  const layouts: (ChunkLayout | undefined)[] = [];
  const plan = { generator, seed: setup.seed, dtype: setup.dtype };
  let done = Atomics.load(control, DONE);
  for (;;) {
    const requested = Atomics.load(control, REQUESTED);
    if (requested < 0) return;
    if (requested === done) {
      // Blocks without a turn of the event loop; a terminate() waits for one, so wake now and
      // then, in case this archive's owner stopped without saying so.
      if (Atomics.wait(control, REQUESTED, done, IDLE_WAIT_MS) === "timed-out") {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      continue;
    }
    const slot = done % setup.slots.length;
    const start = fields[slot * SLOT_FIELDS]!;
    const count = fields[slot * SLOT_FIELDS + 1]!;
    const buffers = setup.slots[slot]!;
    let first: Uint8Array;
    if (count === setup.chunkImages) {
      const layout = layouts[slot] ??= allocateChunk(schema, count, { buffers });
      fillSamples(plan, start, layout);
      first = viewBytes(layout.arrays[0]!.view);
    } else {
      // A shorter chunk (the last): filled apart, copied to the front of the slot's buffers.
      const layout = allocateChunk(schema, count);
      fillSamples(plan, start, layout);
      layout.arrays.forEach((array, index) => {
        const bytes = viewBytes(array.view);
        new Uint8Array(buffers[index]!, 0, bytes.length).set(bytes);
      });
      first = new Uint8Array(buffers[0]!, 0, viewBytes(layout.arrays[0]!.view).length);
    }
    fields[slot * SLOT_FIELDS + 2] = crc32(first);
    done++;
    Atomics.store(control, DONE, done);
    Atomics.notify(control, DONE);
  }
}

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = async (event: MessageEvent<RenderSetup>) => {
  try {
    await serve(event.data);
  } catch (error) {
    const failure: RenderFailure = { error: String((error as Error)?.message ?? error) };
    scope.postMessage(failure);
  }
};
