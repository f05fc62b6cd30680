/**
 * A hashing thread: reads a file back as it is written and hashes it with SHA-256, so the
 * thread that writes never touches the bytes again.
 *
 * Messages in: `{ path }` first, then `{ written }` (the file now holds at least this many
 * bytes), `{ shared, offset, length, position }` (the bytes at `position` of the file are also
 * in this shared memory: hashed from there, not read back) and at last
 * `{ written, finish: true }`. Out: `{ hashed }` as it goes (for the writer's backpressure),
 * `{ digest }` (64 lowercase hex digits) once the finished length is hashed, or `{ error }`.
 * The bytes were just written, so they are read back from the page cache.
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";

/** A message to the hashing thread. */
export type HashRequest =
  | { path: string }
  | { written: number; finish?: boolean }
  | { shared: SharedArrayBuffer; offset: number; length: number; position: number };

/** A message from the hashing thread. */
export type HashReply = { hashed: number } | { digest: string } | { error: string };

/** Bytes read and hashed at a time. */
const PIECE_BYTES = 4 * 1024 * 1024;

let file: Deno.FsFile | undefined;
let hash: Hash | undefined;
let hashed = 0;
let target = 0;
let finishing = false;
const piece = new Uint8Array(PIECE_BYTES);

// deno-lint-ignore no-explicit-any
const scope = self as any;
const reply = (message: HashReply) => scope.postMessage(message);

function catchUp(): void {
  if (file === undefined || hash === undefined) throw new Error("The hashing thread has no file");
  // Bytes hashed from shared memory were not read: read on from the first byte not hashed.
  if (hashed < target) file.seekSync(hashed, Deno.SeekMode.Start);
  while (hashed < target) {
    const read = file.readSync(piece.subarray(0, Math.min(PIECE_BYTES, target - hashed)));
    if (read === null || read === 0) {
      throw new Error(`The file ended at ${hashed} bytes, before the ${target} written`);
    }
    hash.update(piece.subarray(0, read));
    hashed += read;
    reply({ hashed });
  }
  if (finishing) {
    reply({ digest: hash.digest("hex") });
    file.close();
    file = undefined;
  }
}

scope.onmessage = (event: MessageEvent<HashRequest>) => {
  try {
    const request = event.data;
    if ("path" in request) {
      file = Deno.openSync(request.path, { read: true });
      hash = createHash("sha256");
      return;
    }
    if ("shared" in request) {
      target = Math.max(target, request.position);
      catchUp();
      if (hashed !== request.position) {
        throw new Error(`Shared bytes at ${request.position} came after ${hashed} were hashed`);
      }
      hash!.update(new Uint8Array(request.shared, request.offset, request.length));
      hashed += request.length;
      target = Math.max(target, hashed);
      reply({ hashed });
      return;
    }
    target = Math.max(target, request.written);
    finishing ||= request.finish === true;
    catchUp();
  } catch (error) {
    reply({ error: error instanceof Error ? error.message : String(error) });
  }
};
