/**
 * SHA-256 of a file being written, on a thread of its own: the writer reports how far it has
 * written, a hashing thread (`hash_worker.ts`) reads those bytes back from the page cache and
 * hashes them. The writing thread then only writes: SHA-256 (about 1.8 GB/s with the CPU's
 * SHA instructions) was its largest cost after the copy into the file.
 *
 * Small files are hashed in place ({@linkcode InlineHasher}): starting a thread costs about
 * 25 ms, more than hashing {@linkcode MIN_BYTES_FOR_HASH_THREAD}.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { HashReply, HashRequest } from "./hash_worker.ts";

/**
 * Files smaller than this are hashed on the writing thread: a thread's start (about 25 ms,
 * Deno 2.9.6 on this project's 2-core machine) costs more than hashing them (1.8 GB/s).
 */
export const MIN_BYTES_FOR_HASH_THREAD = 64 * 1024 * 1024;

/**
 * How far the hashing thread may fall behind the writer, in bytes: then the writer waits. Keeps
 * the bytes to read back in the page cache, and the end of the run from waiting for the hash.
 */
const MAX_LAG_BYTES = 256 * 1024 * 1024;

/** Hashes a file as it is written. */
export interface FileHasher {
  /**
   * Called after bytes were written (before the next write), with the bytes they came from.
   *
   * @param chunk The bytes just written.
   * @returns Resolves when the writer may go on.
   */
  wrote(chunk: Uint8Array): Promise<void> | void;
  /**
   * The SHA-256 of everything written, once it is all written.
   *
   * @returns 64 lowercase hex digits.
   */
  digest(): Promise<string>;
  /** Stops the hashing thread, if any; the digest is then lost. */
  close(): void;
}

/** Hashes on the writing thread, as the bytes pass. */
export class InlineHasher implements FileHasher {
  #hash = createHash("sha256");

  /**
   * Hashes the bytes just written.
   *
   * @param chunk The bytes.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { InlineHasher } from "./file_hasher.ts";
   * const hasher = new InlineHasher();
   * hasher.wrote(new TextEncoder().encode("abc"));
   * assert.ok((await hasher.digest()).startsWith("ba7816bf"));
   * ```
   */
  wrote(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  /**
   * The SHA-256 of the bytes so far.
   *
   * @returns 64 lowercase hex digits.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { InlineHasher } from "./file_hasher.ts";
   * assert.equal((await new InlineHasher().digest()).length, 64);
   * ```
   */
  digest(): Promise<string> {
    return Promise.resolve(this.#hash.digest("hex"));
  }

  /**
   * Nothing to stop.
   *
   * @example
   * ```ts
   * import { InlineHasher } from "./file_hasher.ts";
   * new InlineHasher().close();
   * ```
   */
  close(): void {}
}

/** Hashes on a thread of its own, which reads the file back as it is written. */
export class ThreadHasher implements FileHasher {
  #worker: Worker;
  #written = 0;
  #hashed = 0;
  #failure: Error | undefined;
  #digest: string | undefined;
  #waiting: (() => void) | undefined;

  /**
   * Starts the hashing thread on a file that exists (it may still be empty).
   *
   * @param path The file being written.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ThreadHasher } from "./file_hasher.ts";
   * const path = await Deno.makeTempFile();
   * const bytes = new TextEncoder().encode("abc");
   * const hasher = new ThreadHasher(path);
   * await Deno.writeFile(path, bytes);
   * await hasher.wrote(bytes);
   * assert.ok((await hasher.digest()).startsWith("ba7816bf"));
   * await Deno.remove(path);
   * ```
   */
  constructor(path: string) {
    this.#worker = new Worker(new URL("./hash_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<HashReply>) => {
      const reply = event.data;
      if ("hashed" in reply) this.#hashed = reply.hashed;
      else if ("digest" in reply) this.#digest = reply.digest;
      else this.#failure ??= new Error(`Cannot hash ${path}: ${reply.error}`);
      this.#wake();
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failure ??= new Error(`Cannot hash ${path}: the hashing thread failed`);
      this.#wake();
    };
    this.#post({ path });
  }

  #post(request: HashRequest): void {
    this.#worker.postMessage(request);
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  async #waitUntil(done: () => boolean): Promise<void> {
    while (!done()) {
      if (this.#failure !== undefined) throw this.#failure;
      await new Promise<void>((resolve) => this.#waiting = resolve);
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Tells the thread that more of the file is written; waits while it lags too far behind.
   * Bytes in a `SharedArrayBuffer` are hashed in place instead of read back: then this waits
   * until every byte before them is hashed, so their producer may write again into the memory
   * of the chunk before this one (not into this chunk's) once this returns.
   *
   * @param chunk The bytes just written (only their length is used, unless they are shared).
   * @returns Resolves when the writer may go on.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ThreadHasher } from "./file_hasher.ts";
   * const path = await Deno.makeTempFile();
   * const hasher = new ThreadHasher(path);
   * await Deno.writeFile(path, new Uint8Array(10));
   * await hasher.wrote(new Uint8Array(10));
   * assert.equal((await hasher.digest()).length, 64);
   * await Deno.remove(path);
   * ```
   */
  async wrote(chunk: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const position = this.#written;
    this.#written += chunk.length;
    if (chunk.buffer instanceof SharedArrayBuffer) {
      // Hashed in place, not read back. The caller may reuse the memory of the chunk before
      // this one once this returns: so wait until everything before this chunk is hashed.
      this.#post({
        shared: chunk.buffer,
        offset: chunk.byteOffset,
        length: chunk.length,
        position,
      });
      await this.#waitUntil(() => this.#hashed >= position);
      return;
    }
    this.#post({ written: this.#written });
    if (this.#written - this.#hashed > MAX_LAG_BYTES) {
      await this.#waitUntil(() => this.#written - this.#hashed <= MAX_LAG_BYTES / 2);
    }
  }

  /**
   * The SHA-256 of everything written, once the thread has read it all; then the thread ends.
   *
   * @returns 64 lowercase hex digits.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ThreadHasher } from "./file_hasher.ts";
   * const path = await Deno.makeTempFile();
   * const hasher = new ThreadHasher(path);
   * assert.ok((await hasher.digest()).startsWith("e3b0c442"));
   * await Deno.remove(path);
   * ```
   */
  async digest(): Promise<string> {
    this.#post({ written: this.#written, finish: true });
    try {
      await this.#waitUntil(() => this.#digest !== undefined);
      return this.#digest!;
    } finally {
      this.close();
    }
  }

  /**
   * Stops the thread (a no-op once it has ended).
   *
   * @example
   * ```ts
   * import { ThreadHasher } from "./file_hasher.ts";
   * const path = await Deno.makeTempFile();
   * new ThreadHasher(path).close();
   * await Deno.remove(path);
   * ```
   */
  close(): void {
    this.#worker.terminate();
  }
}

/**
 * Whether a file of this size is hashed on a thread of its own (the memory estimate counts
 * the thread).
 *
 * @param expectedBytes The file's size.
 * @returns True from {@linkcode MIN_BYTES_FOR_HASH_THREAD} up.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usesHashThread } from "./file_hasher.ts";
 * assert.equal(usesHashThread(1e9), true);
 * ```
 */
export function usesHashThread(expectedBytes: number): boolean {
  return expectedBytes >= MIN_BYTES_FOR_HASH_THREAD;
}
