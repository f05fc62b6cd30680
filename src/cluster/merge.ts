/**
 * Merging a sharded run: the slices' image files, in order, streamed through the normal
 * archive writer, so that `dataset.npz` (or, for a recipe's splits, each `<split>.npz` from
 * its slices' shares) is byte for byte what one machine writes for the same spec, and
 * metadata.json records what one machine's does; then published as a normal version with one
 * rename, and the run folder removed.
 *
 * Exactly one process merges: the one whose `mkdir merge.lock` succeeds (atomic on every file
 * system, NFS included). The merger keeps `merge.lock/owner.json` locked while it lives, so a
 * merge on the same host can take over the lock of a merger that was killed; another host's
 * lock is never judged. A merge that fails removes its staging folder and `merge.lock`, so a
 * later `dsgen merge` can try again; the slices are kept until a version is published.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { hostname } from "node:os";
import type { DataChunk } from "../format/npz.ts";
import { type DatasetPlan, drawnClassicArray } from "../pipeline/dataset.ts";
import { schemaOf } from "../generators/family_schema.ts";
import { bytesPerSample, type SampleSchema } from "../generators/sample_schema.ts";
import { createGenerator, type DatasetSpec } from "../generators/spec.ts";
import type { ImageGenerator, JsonValue } from "../generators/generator.ts";
import { externalGenerator } from "../renderer/generator.ts";
import { parseDescription } from "../renderer/protocol.ts";
import { readMetadata } from "../store/metadata.ts";
import { listVersions } from "../store/versions.ts";
import { claimOwnerFile, tryLockOwnerFile } from "../store/owner_lock.ts";
import { RunError } from "../exit/errors.ts";
import { type GenerateResult, runDataset, type RunOutput } from "../run/generate_dataset.ts";
import { interruption } from "../exit/interrupt.ts";
import {
  MERGE_LOCK,
  planParts,
  readPlan,
  readSliceRecord,
  runFolder,
  runFolderRead,
  runProgress,
  type SliceShare,
  sliceShares,
} from "./run_folder.ts";
import type { RunPart } from "../run/parts.ts";
import { readChunkChecksums } from "./checksums.ts";
import { crc32Combine } from "../format/crc32.ts";
import { checkTrusted, TRUSTED_FOLDER_MODE, untrustedReason } from "../store/trusted_file.ts";

/**
 * Bytes read from a slice file at a time: large pieces, since every piece costs the main
 * thread a read, a write and a message to the hashing thread. 10,000,000 16x16 images merged
 * to this machine's disk in 3.96 s with 4 MiB, 4.07-4.45 s with 2 MiB and 4.70-5.63 s with
 * 8 MiB (and 104 MB, 96 MB, 121 MB peak).
 */
const PIECE_BYTES = 4 << 20;

/** Options of {@linkcode mergeRun}. */
export interface MergeOptions {
  /** Stops the merge; an `InterruptedError` reason gives its exit code. */
  signal?: AbortSignal;
  /** Where to print; none: silent. */
  output?: RunOutput;
  /** The command line to record. */
  commandLine?: string[];
}

/** What {@linkcode mergeRun} did. */
export type MergeResult =
  | { status: "merged"; version: GenerateResult }
  | { status: "merging elsewhere"; lock: string }
  | { status: "already merged"; path: string };

/**
 * The version of a dataset that a run was merged into, if any.
 *
 * @param datasetDir The dataset folder.
 * @param runId The run's id.
 * @returns The version folder, or undefined.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergedVersion } from "./merge.ts";
 * assert.equal(await mergedVersion("/nonexistent", "1"), undefined);
 * ```
 */
export async function mergedVersion(
  datasetDir: string,
  runId: string,
): Promise<string | undefined> {
  for (const version of (await listVersions(datasetDir)).reverse()) {
    const metadata = await readMetadata(version.path).catch(() => undefined);
    if (metadata?.sharded_run?.run_id === runId) return version.path;
  }
  return undefined;
}

/**
 * Merges a complete run into a new version, if no other process does.
 *
 * @param datasetDir The dataset folder (`<output-dir>/<name>`).
 * @param runId The run's id.
 * @param options Signal, output, command line.
 * @returns Merged, merging elsewhere, or already merged.
 * @throws {RunError} Exit 1 when the run is unknown or slices are missing (named).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeRun } from "./merge.ts";
 * await assert.rejects(mergeRun("/nonexistent/shapes16", "7"), /Cannot find run "7"/);
 * ```
 */
export async function mergeRun(
  datasetDir: string,
  runId: string,
  options: MergeOptions = {},
): Promise<MergeResult> {
  const folder = runFolder(datasetDir, runId);
  const plan = await runFolderRead(() => readPlan(folder, runId));
  if (plan === undefined) {
    const merged = await mergedVersion(datasetDir, runId);
    if (merged !== undefined) return { status: "already merged", path: merged };
    throw new RunError(
      `Cannot find run "${runId}" in ${datasetDir}: it has no ${folder}/plan.json`,
    );
  }
  const { shards, spec } = plan;
  const { missing } = await runProgress(folder, shards);
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).join(", ") + (missing.length > 20 ? ", ..." : "");
    throw new RunError(
      `Cannot merge run "${runId}": ${missing.length} of ${shards} slices are not done ` +
        `(missing ${shown}); rerun them with --shard-index`,
    );
  }
  // The archives: dataset.npz, or one per split, each from its shares of the slices.
  const parts = planParts(plan);
  const generators: ImageGenerator[] = [];
  for (const part of parts) {
    generators.push(
      await familyOf(part.spec, plan.renderer?.declared).catch((error) => {
        throw new RunError(
          `Cannot use ${join(folder, "plan.json")}: ${(error as Error).message}`,
          { cause: error },
        );
      }),
    );
  }
  // Each family's arrays: the first in the slices' `.bin` files, the others in side files.
  const schemas = generators.map((generator) => schemaOf(generator, spec.dtype));
  const partFiles: SliceShare[][] = parts.map(() => []);
  // The records, and every file the merge copies, are checked before the lock is taken, so
  // that a bad or untrusted one leaves the run folder as it was (records read again below).
  for (let index = 0; index < shards; index++) {
    await runFolderRead(() =>
      readSliceRecord(folder, { index, shards, numImages: spec.numImages })
    );
    for (const share of sliceShares(parts, shards, index)) {
      partFiles[share.partIndex]!.push(share);
      const later = schemas[share.partIndex]!.arrays.slice(1).map((array) => array.name);
      for (const suffix of [".bin", ".crc32", ...later.map((array) => `.${array}.bin`)]) {
        await runFolderRead(() => checkTrusted(join(folder, share.stem + suffix)));
      }
    }
  }
  const lock = join(folder, MERGE_LOCK);
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.mkdir(lock, { mode: TRUSTED_FOLDER_MODE });
      break;
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        // One takeover at most: a merger that died on this host leaves its lock free.
        if (attempt === 0 && await removeDeadMergeLock(lock)) continue;
        return { status: "merging elsewhere", lock };
      }
      if (error instanceof Deno.errors.NotFound) {
        // The run folder is gone: another process merged it and cleaned up meanwhile.
        const merged = await mergedVersion(datasetDir, runId);
        if (merged !== undefined) return { status: "already merged", path: merged };
      }
      throw error;
    }
  }
  const ownerFile = await claimMergeLock(lock);
  try {
    // A merge that published and then died before removing the run folder.
    const merged = await mergedVersion(datasetDir, runId);
    if (merged !== undefined) {
      await Deno.remove(folder, { recursive: true });
      return { status: "already merged", path: merged };
    }
    const slices = [];
    for (let index = 0; index < shards; index++) {
      const record = await runFolderRead(() =>
        readSliceRecord(folder, { index, shards, numImages: spec.numImages })
      );
      if (record === undefined) throw new RunError(`Cannot read slice ${index}'s record`);
      slices.push(record);
    }
    // The later arrays, kept in a file per array per slice: an external renderer's always,
    // our families' since slices keep them (a classic run sliced by an older dsgen draws its
    // labels and latents again).
    const sideFiles: boolean[] = [];
    for (const [at, files] of partFiles.entries()) {
      sideFiles.push(
        spec.family.command !== undefined ||
          await hasSideFiles(folder, { files, schema: schemas[at]! }),
      );
    }
    const copy = (part: RunPart) => {
      const at = parts.findIndex((each) => each.file === part.file);
      const files = partFiles[at]!;
      const schema = schemas[at]!;
      const imageBytes = bytesPerSample(schema.arrays[0]!);
      const dataset = { ...parts[at]!.spec, generator: generators[at]!, chunkImages: 1 };
      return {
        sampleChunks: async function* (_plan: DatasetPlan, signal?: AbortSignal) {
          for await (const chunk of sliceChunks(folder, { files, imageBytes, signal })) {
            const bytes = chunk instanceof Uint8Array ? chunk : chunk.bytes;
            yield { numSamples: bytes.length / imageBytes, arrays: [chunk] };
          }
        },
        laterArrays: () =>
          new Map(
            schema.arrays.slice(1).map(({ name: array }) => [
              array,
              sideFiles[at]
                ? sideChunks(folder, { files, suffix: array, signal: options.signal })
                : drawnClassicArray(dataset, array as "labels" | "latents"),
            ]),
          ),
      };
    };
    const version = await runDataset(spec, dirname(datasetDir), {
      name: basename(datasetDir),
      // An external renderer's family, from its handshake as the plan keeps it: no program
      // named in the run folder is started.
      rendererDeclared: plan.renderer?.declared,
      workers: 1,
      seedSource: "flag",
      copy,
      // A recipe's splits, and the recipe the version records, as the slices recorded them.
      ...(plan.splits === undefined ? {} : {
        splits: plan.splits.map((split) => ({ numImages: split.num_images, split: split.split })),
      }),
      ...(plan.recipe === undefined ? {} : { recipe: plan.recipe }),
      // A run of `--recipe metadata.json`: the merged archives against that version's record.
      ...(plan.remake === undefined ? {} : { remake: plan.remake }),
      shardedRun: { run_id: runId, shards, slices },
      signal: options.signal,
      output: options.output,
      commandLine: options.commandLine,
    });
    await Deno.remove(folder, { recursive: true }).catch(() => {});
    return { status: "merged", version };
  } catch (error) {
    // Let a later merge try again; the slices stay.
    await Deno.remove(lock, { recursive: true }).catch(() => {});
    throw interruption(options.signal, "no version was published, the slices are kept") ?? error;
  } finally {
    ownerFile.close();
  }
}

/** The merger's record in merge.lock, held locked for as long as the merger lives. */
interface MergeOwner {
  host: string;
  pid: number;
  started_at: string;
}

/**
 * Writes `owner.json` into the lock folder and keeps it locked: the kernel drops the lock when
 * the process ends, however it ends, so a later merge on this host can tell a dead merger.
 * Synchronous calls only while the lock is held (see `store/versions.ts`: on NFS an
 * asynchronous call would drop it).
 */
function claimMergeLock(lock: string): Promise<Deno.FsFile> {
  const owner: MergeOwner = {
    host: hostname(),
    pid: Deno.pid,
    started_at: new Date().toISOString(),
  };
  // A file system without locks: the owner is still recorded, for the message.
  return claimOwnerFile(join(lock, "owner.json"), owner, { lockRequired: false });
}

/**
 * Removes the merge.lock of a merger that died on this host (its owner.json is unlocked);
 * another host's lock, or one without an owner yet, is never judged.
 *
 * @returns Whether the lock was removed.
 */
async function removeDeadMergeLock(lock: string): Promise<boolean> {
  const path = join(lock, "owner.json");
  // A lock someone else could have written is never judged, nor removed.
  if (
    await untrustedReason(lock).catch(() => "unreadable") !== undefined ||
    await untrustedReason(path).catch(() => "unreadable") !== undefined
  ) {
    return false;
  }
  let owner: MergeOwner;
  try {
    owner = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return false;
  }
  if (typeof owner?.host !== "string" || owner.host !== hostname()) return false;
  let file: Deno.FsFile | undefined;
  try {
    file = await tryLockOwnerFile(path);
  } catch {
    return false;
  }
  if (file === undefined) return false;
  try {
    // Still the same file: another process may have removed the dead lock and made its own.
    const same = file.statSync().ino === (await Deno.stat(path).catch(() => undefined))?.ino;
    if (!same) {
      file.close();
      return false;
    }
  } catch {
    file.close();
    return false;
  }
  try {
    await Deno.remove(lock, { recursive: true });
    return true;
  } catch {
    return false;
  } finally {
    file.close();
  }
}

/** A piece of a slice file to read: its bytes and, where the slice recorded it, their CRC-32. */
interface Piece {
  path: string;
  length: number;
  crc32: number | undefined;
  /** The last piece of its file. */
  last: boolean;
}

/**
 * The pieces of every slice file of one archive, in order, of about {@linkcode PIECE_BYTES}:
 * whole recorded chunks, their CRCs combined, or plain pieces for a slice without checksums.
 * Checks each file's size first.
 */
async function* slicePieces(
  folder: string,
  layout: { files: readonly SliceShare[]; imageBytes: number },
): AsyncGenerator<Piece> {
  for (const share of layout.files) {
    const path = join(folder, `${share.stem}.bin`);
    const expected = share.count * layout.imageBytes;
    const size = (await Deno.stat(path)).size;
    if (size !== expected) {
      throw new RunError(
        `Cannot merge ${path}: it holds ${size} bytes, expected ${expected}; rerun slice ` +
          `${share.index} after removing it and its .json record`,
      );
    }
    const checksums = await readChunkChecksums(join(folder, `${share.stem}.crc32`), size);
    if (checksums === undefined) {
      for (let offset = 0; offset < size; offset += PIECE_BYTES) {
        const length = Math.min(PIECE_BYTES, size - offset);
        yield { path, length, crc32: undefined, last: offset + length === size };
      }
      continue;
    }
    // Whole chunks per piece, as many as fit in PIECE_BYTES (at least one).
    let offset = 0;
    for (let first = 0; first < checksums.length;) {
      let length = 0;
      let crc32 = 0;
      let end = first;
      while (
        end < checksums.length && (end === first || length + checksums[end]!.length <= PIECE_BYTES)
      ) {
        const chunk = checksums[end]!;
        crc32 = end === first ? chunk.crc32 : crc32Combine(crc32, chunk.crc32, chunk.length);
        length += chunk.length;
        end++;
      }
      offset += length;
      yield { path, length, crc32, last: offset === size };
      first = end;
    }
  }
}

/**
 * The images of one archive from every slice, in order, in pieces of about
 * {@linkcode PIECE_BYTES}, each with the
 * CRC-32 its slice recorded (so the writer only combines CRCs), or plain bytes for a slice
 * without checksums. Each piece is read when asked for, into one of three buffers used in turn:
 * a piece's bytes are valid until the one after next is requested.
 *
 * @param folder The run folder.
 * @param layout The archive's slice files (their shares), the bytes per image, the signal.
 * @returns The image chunks, in image order.
 */
async function* sliceChunks(
  folder: string,
  layout: { files: readonly SliceShare[]; imageBytes: number; signal?: AbortSignal | undefined },
): AsyncGenerator<DataChunk> {
  // Shared memory, so that a hashing thread hashes the pieces in place instead of reading the
  // archive back (file_hasher.ts): a piece's memory is read into again two pieces later, once
  // the writer has hashed it.
  const buffers = Array.from(
    { length: 3 },
    () => new Uint8Array(new SharedArrayBuffer(PIECE_BYTES)),
  );
  let open: { path: string; file: Deno.FsFile } | undefined;
  let turn = 0;
  try {
    for await (const piece of slicePieces(folder, layout)) {
      layout.signal?.throwIfAborted();
      const slot = turn++ % buffers.length;
      // A recorded chunk larger than a piece is read whole, into a buffer that fits it.
      if (buffers[slot]!.length < piece.length) {
        buffers[slot] = new Uint8Array(new SharedArrayBuffer(piece.length));
      }
      if (open?.path !== piece.path) {
        open?.file.close();
        open = undefined;
        open = { path: piece.path, file: Deno.openSync(piece.path, { read: true }) };
      }
      // Synchronous reads, a piece at a time: an asynchronous read costs a hop to another
      // thread and back, with a duplicated file handle, per call. Merging 3,000,000 16x16
      // images (782 MB) on a tmpfs, runs alternated: 0.74-1.11 s against 0.94-1.67 s with
      // asynchronous 128 KiB reads ahead of the writer.
      const bytes = buffers[slot]!.subarray(0, piece.length);
      for (let filled = 0; filled < piece.length;) {
        const read = open.file.readSync(bytes.subarray(filled));
        if (read === null || read === 0) {
          throw new RunError(`Cannot read ${piece.path}: it ended early`);
        }
        filled += read;
      }
      if (piece.last) {
        open.file.close();
        open = undefined;
      }
      yield piece.crc32 === undefined ? bytes : { bytes, crc32: piece.crc32 };
    }
  } finally {
    open?.file.close();
  }
}

/**
 * The configured family of a run's spec: dsgen's own or a module's, or an external renderer's
 * from the handshake its plan recorded (no process is started).
 */
async function familyOf(
  spec: DatasetSpec,
  declared: { [key: string]: JsonValue } | undefined,
): Promise<ImageGenerator> {
  if (spec.family.command !== undefined && declared !== undefined) {
    return externalGenerator(parseDescription(JSON.stringify(declared)));
  }
  return await createGenerator(spec);
}

/**
 * Whether every slice kept the arrays after the first (each published by rename, before its
 * first array's file, so a file that is there is whole): each file's size is checked.
 */
async function hasSideFiles(
  folder: string,
  layout: { files: readonly SliceShare[]; schema: SampleSchema },
): Promise<boolean> {
  for (const share of layout.files) {
    for (const array of layout.schema.arrays.slice(1)) {
      const path = join(folder, `${share.stem}.${array.name}.bin`);
      const stat = await Deno.stat(path).catch(() => undefined);
      if (stat?.size !== share.count * bytesPerSample(array)) return false;
    }
  }
  return true;
}

/**
 * One later array of every slice, from the slices' side files, in order.
 *
 * @param folder The run folder.
 * @param layout The archive's slice files, the array's name (the files' suffix), the signal.
 * @returns The bytes, in image order.
 */
async function* sideChunks(
  folder: string,
  layout: { files: readonly SliceShare[]; suffix: string; signal?: AbortSignal | undefined },
): AsyncGenerator<Uint8Array> {
  const piece = new Uint8Array(PIECE_BYTES);
  for (const share of layout.files) {
    const path = join(folder, `${share.stem}.${layout.suffix}.bin`);
    using file = Deno.openSync(path, { read: true });
    for (;;) {
      layout.signal?.throwIfAborted();
      // One buffer, read into again once the caller asks for the next piece.
      const read = file.readSync(piece);
      if (read === null) break;
      yield piece.subarray(0, read);
    }
  }
}
