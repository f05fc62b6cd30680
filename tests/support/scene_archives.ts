/**
 * Scene archives for tests without the pipeline: a chunk of the scenes family's arrays written
 * as an `.npz`, in schema order, as the writer stores them.
 *
 * @module
 */

import { NpzWriter } from "../../src/format/npz.ts";
import type { NpyDtype } from "../../src/format/npy.ts";
import { type ChunkLayout, npyDescr, npyShape } from "../../src/generators/sample_schema.ts";

/**
 * Writes a chunk's arrays as an `.npz`, in schema order.
 *
 * @param path The file to create (it must not exist).
 * @param chunk The chunk.
 */
export async function writeChunkNpz(path: string, chunk: ChunkLayout): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  const npz = new NpzWriter(file.writable);
  for (const array of chunk.arrays) {
    await npz.addArray(
      array.spec.name,
      {
        descr: npyDescr(array.spec) as NpyDtype,
        fortranOrder: false,
        shape: npyShape(array.spec, chunk.numSamples),
      },
      [new Uint8Array(array.view.buffer)],
    );
  }
  await npz.close();
}
