/**
 * Two files beside a run's archive that the labels and latents of each image chunk are
 * appended to as the images stream, and read back for the `labels` and `latents` entries:
 * an external renderer's (only the program knows them), and our families' (the render pass
 * samples them already; drawing them again, once for each array, cost the writing thread
 * 189-226 ms per 1,000,000 16x16 images, after the images). The files keep memory flat
 * whatever the number of images.
 *
 * @module
 */

import { join } from "node:path";

/** Bytes read back per piece from a spill file. */
const SPILL_READ_BYTES = 1024 * 1024;

/** Two files the labels and latents of each answered chunk are appended to, in order. */
export class SpilledArrays {
  /** The labels file. */
  readonly labelsPath: string;
  /** The latents file. */
  readonly latentsPath: string;
  #labels: Deno.FsFile;
  #latents: Deno.FsFile;
  #images = 0;

  private constructor(folder: string, names: { labels: string; latents: string }) {
    this.labelsPath = join(folder, names.labels);
    this.latentsPath = join(folder, names.latents);
    this.#labels = Deno.openSync(this.labelsPath, { write: true, createNew: true, mode: 0o644 });
    this.#latents = Deno.openSync(this.latentsPath, { write: true, createNew: true, mode: 0o644 });
  }

  /**
   * Creates the two (hidden) files in a folder, e.g. the run's staging folder.
   *
   * @param folder Where to put them.
   * @param names The files' names (default `.labels.spill` and `.latents.spill`).
   * @returns The spill.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SpilledArrays } from "./spill.ts";
   * const dir = await Deno.makeTempDir();
   * const spill = SpilledArrays.create(dir);
   * spill.append(new Uint8Array([1, 2]), new Uint8Array(8));
   * let labels = 0;
   * for await (const chunk of spill.labels()) labels += chunk.length;
   * assert.equal(labels, 2);
   * spill.remove();
   * await Deno.remove(dir);
   * ```
   */
  static create(
    folder: string,
    names: { labels: string; latents: string } = {
      labels: ".labels.spill",
      latents: ".latents.spill",
    },
  ): SpilledArrays {
    return new SpilledArrays(folder, names);
  }

  /**
   * Closes both files and gives them their final names, e.g. a slice's, to keep them.
   *
   * @param names The final paths.
   * @returns When both are renamed.
   */
  async keep(names: { labels: string; latents: string }): Promise<void> {
    for (const file of [this.#labels, this.#latents]) {
      file.syncSync();
      file.close();
    }
    await Deno.rename(this.labelsPath, names.labels);
    await Deno.rename(this.latentsPath, names.latents);
  }

  /**
   * Appends one chunk's labels and latents.
   *
   * @param labels The labels' bytes.
   * @param latents The latents' bytes.
   */
  append(labels: Uint8Array, latents: Uint8Array): void {
    writeAll(this.#labels, labels);
    writeAll(this.#latents, latents);
    this.#images += labels.length;
  }

  /** The number of images whose labels were appended (one byte each). */
  get images(): number {
    return this.#images;
  }

  /**
   * The labels written so far, read back in pieces.
   *
   * @returns The bytes, in order; a piece is valid until the next one is requested.
   */
  labels(): AsyncGenerator<Uint8Array> {
    return readBack(this.labelsPath);
  }

  /**
   * The latents written so far, read back in pieces.
   *
   * @returns The bytes, in order; a piece is valid until the next one is requested.
   */
  latents(): AsyncGenerator<Uint8Array> {
    return readBack(this.latentsPath);
  }

  /** Closes and deletes both files; safe to call twice. */
  remove(): void {
    for (const file of [this.#labels, this.#latents]) {
      try {
        file.close();
      } catch {
        // Closed already.
      }
    }
    for (const path of [this.labelsPath, this.latentsPath]) {
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
