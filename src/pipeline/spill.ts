/**
 * Files beside a run's archive, one per array of the sample schema after the first, that each
 * chunk's bytes of those arrays are appended to as the first array streams into the archive,
 * and read back for their entries afterwards (an archive's entries are written one after the
 * other). For classic families these are `labels` and `latents`: drawing them again, once for
 * each array, cost the writing thread 189-226 ms per 1,000,000 16x16 images, after the images;
 * an external renderer's are known only to the program. The files keep memory flat whatever
 * the number of samples.
 *
 * @module
 */

import { join } from "node:path";

/** Bytes read back per piece from a spill file. */
const SPILL_READ_BYTES = 1024 * 1024;

/** One file per array that each chunk's bytes are appended to, in order. */
export class SpilledArrays {
  /** The files' paths, one per array, in the order given. */
  readonly paths: readonly string[];
  #files: Deno.FsFile[];
  #samples = 0;

  private constructor(folder: string, names: readonly string[]) {
    this.paths = names.map((name) => join(folder, name));
    this.#files = [];
    try {
      for (const path of this.paths) {
        this.#files.push(Deno.openSync(path, { write: true, createNew: true, mode: 0o644 }));
      }
    } catch (error) {
      this.remove();
      throw error;
    }
  }

  /**
   * Creates one (hidden) file per array in a folder, e.g. the run's staging folder.
   *
   * @param folder Where to put them.
   * @param names The files' names, one per array.
   * @returns The spill.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SpilledArrays } from "./spill.ts";
   * const dir = await Deno.makeTempDir();
   * const spill = SpilledArrays.create(dir, [".labels.spill", ".latents.spill"]);
   * spill.append(2, [new Uint8Array([1, 2]), new Uint8Array(8)]);
   * let labels = 0;
   * for await (const chunk of spill.read(0)) labels += chunk.length;
   * assert.equal(labels, 2);
   * assert.equal(spill.samples, 2);
   * spill.remove();
   * await Deno.remove(dir);
   * ```
   */
  static create(folder: string, names: readonly string[]): SpilledArrays {
    return new SpilledArrays(folder, names);
  }

  /**
   * Closes the files and gives them their final names, e.g. a slice's, to keep them.
   *
   * @param paths The final paths, one per array.
   * @returns When every file is renamed.
   */
  async keep(paths: readonly string[]): Promise<void> {
    for (const file of this.#files) {
      file.syncSync();
      file.close();
    }
    for (const [index, path] of this.paths.entries()) await Deno.rename(path, paths[index]!);
  }

  /**
   * Appends one chunk: the bytes of each array, in the order of the files.
   *
   * @param numSamples The chunk's number of samples.
   * @param arrays Each array's bytes.
   */
  append(numSamples: number, arrays: readonly Uint8Array[]): void {
    for (const [index, file] of this.#files.entries()) writeAll(file, arrays[index]!);
    this.#samples += numSamples;
  }

  /** The number of samples appended. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * One array's bytes written so far, read back in pieces.
   *
   * @param index The array's position in the names given.
   * @returns The bytes, in order; a piece is valid until the next one is requested.
   */
  read(index: number): AsyncGenerator<Uint8Array> {
    return readBack(this.paths[index]!);
  }

  /** Closes and deletes the files; safe to call twice. */
  remove(): void {
    for (const file of this.#files) {
      try {
        file.close();
      } catch {
        // Closed already.
      }
    }
    for (const path of this.paths) {
      try {
        Deno.removeSync(path);
      } catch {
        // Removed already, or the staging folder with it.
      }
    }
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

async function* readBack(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  // One buffer, read into again once the caller asks for the next piece. A fresh buffer per
  // piece left one dead megabyte per read for the collector, which let them pile up with the
  // size of the file: 10,000,000 16x16 images (160 MB of latents) peaked 45 MB above the
  // image phase while they were copied.
  const buffer = new Uint8Array(SPILL_READ_BYTES);
  for (;;) {
    const read = await file.read(buffer);
    if (read === null) return;
    yield buffer.subarray(0, read);
  }
}
