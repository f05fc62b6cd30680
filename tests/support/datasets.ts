/**
 * Small datasets for the validation tests: generating one, copying it, and damaging it the way
 * disks, people and bugs do (flipped bytes, truncation, edited arrays with or without a fixed
 * metadata.json).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import type { Console } from "../../src/cli/console.ts";
import { runGenerate } from "../../src/cli/generate.ts";
import type { NpyHeader } from "../../src/format/npy.ts";
import { NpzWriter } from "../../src/format/npz.ts";
import { NpzReader } from "../../src/format/npz_reader.ts";
import type { VersionMetadata } from "../../src/store/metadata.ts";

const temporaryFolders: string[] = [];

/** Removes the test's temporary folders when the test module ends. */
globalThis.addEventListener("unload", () => {
  for (const folder of temporaryFolders) {
    try {
      Deno.removeSync(folder, { recursive: true });
    } catch {
      // Already gone.
    }
  }
});

/**
 * A new temporary folder, removed when the test module ends.
 *
 * @returns The folder's path.
 */
export async function temporaryFolder(): Promise<string> {
  const folder = await Deno.makeTempDir({ prefix: "dsgen_validate_test_" });
  temporaryFolders.push(folder);
  return folder;
}

/** A console that records what a command prints and answers no questions. */
export interface RecordingConsole extends Console {
  out: string;
  err: string;
}

/**
 * A console for in-process runs: output is kept, stdin is empty.
 *
 * @returns The console; read `out` and `err` after the run.
 */
export function recordingConsole(): RecordingConsole {
  const io: RecordingConsole = {
    out: "",
    err: "",
    stdout: (text) => void (io.out += text),
    stderr: (text) => void (io.err += text),
    stderrIsTerminal: false,
    columns: () => 100,
    noColor: true,
    readLine: () => Promise.resolve(null),
  };
  return io;
}

/**
 * Generates a version in a new temporary output folder, in-process.
 *
 * @param options Number of images (default 1000), seed (default 42), image size (16), dtype,
 * and the output folder (default: a new temporary one).
 * @returns The version folder and the output folder.
 */
export async function makeVersion(
  options: {
    numImages?: number;
    seed?: number;
    imageSize?: number;
    dtype?: "uint8" | "float64";
    outputDir?: string;
  } = {},
): Promise<{ version: string; outputDir: string }> {
  const outputDir = options.outputDir ?? await temporaryFolder();
  const imageSize = options.imageSize ?? 16;
  const { path } = await runGenerate({
    numImages: options.numImages ?? 1000,
    outputDir,
    name: `shapes${imageSize}`,
    imageSize,
    generator: "shapes",
    dtype: options.dtype ?? "uint8",
    workers: 1,
    seed: options.seed ?? 42,
    yes: true,
    quiet: true,
  }, recordingConsole());
  return { version: path, outputDir };
}

/**
 * Copies a version folder into a new output folder (same dataset and version names), so a test
 * can damage the copy.
 *
 * @param version The version folder.
 * @returns The copy's version folder.
 */
export async function copyVersion(version: string): Promise<string> {
  const outputDir = await temporaryFolder();
  const datasetName = basename(join(version, ".."));
  const copy = join(outputDir, datasetName, basename(version));
  await Deno.mkdir(copy, { recursive: true });
  for await (const entry of Deno.readDir(version)) {
    if (entry.isFile) await Deno.copyFile(join(version, entry.name), join(copy, entry.name));
  }
  return copy;
}

/**
 * Reads metadata.json, lets `edit` change it, and writes it back.
 *
 * @param version The version folder.
 * @param edit Changes the record in place.
 */
export async function editMetadata(
  version: string,
  edit: (metadata: VersionMetadata) => void,
): Promise<void> {
  const path = join(version, "metadata.json");
  const metadata = JSON.parse(await Deno.readTextFile(path)) as VersionMetadata;
  edit(metadata);
  await Deno.writeTextFile(path, JSON.stringify(metadata, null, 2) + "\n");
}

/**
 * Records dataset.npz's current size and SHA-256 in metadata.json, as if it had been written so.
 *
 * @param version The version folder.
 */
export async function fixChecksum(version: string): Promise<void> {
  const bytes = await Deno.readFile(join(version, "dataset.npz"));
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  await editMetadata(version, (metadata) => {
    metadata.files = metadata.files.map((file) =>
      file.name === "dataset.npz" ? { ...file, bytes: bytes.length, sha256 } : file
    );
  });
}

/**
 * The offset in dataset.npz of an array's first data byte.
 *
 * @param version The version folder.
 * @param name The array's name.
 * @returns The byte offset.
 */
export async function dataOffset(version: string, name: string): Promise<number> {
  const reader = await NpzReader.open(join(version, "dataset.npz"));
  try {
    return reader.entry(name).dataOffset;
  } finally {
    reader.close();
  }
}

/**
 * Changes one byte of a file (adds 1, modulo 256).
 *
 * @param path The file.
 * @param offset The byte's position.
 */
export async function flipByte(path: string, offset: number): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const byte = new Uint8Array(1);
    await file.seek(offset, Deno.SeekMode.Start);
    await file.read(byte);
    byte[0] = (byte[0]! + 1) & 0xff;
    await file.seek(offset, Deno.SeekMode.Start);
    await file.write(byte);
  } finally {
    file.close();
  }
}

/** The arrays of a dataset.npz, whole, to edit (small datasets only). */
export type ArchiveArrays = Map<string, { header: NpyHeader; data: Uint8Array }>;

/**
 * Rewrites dataset.npz after `edit` changed its arrays, as a valid archive (with correct
 * CRCs), and records the new size and SHA-256 in metadata.json unless `fixMetadata` is false.
 *
 * @param version The version folder.
 * @param edit Changes the arrays in place (or replaces entries).
 * @param options `fixMetadata` (default true).
 */
export async function rewriteArchive(
  version: string,
  edit: (arrays: ArchiveArrays) => void,
  options: { fixMetadata?: boolean } = {},
): Promise<void> {
  const path = join(version, "dataset.npz");
  const arrays: ArchiveArrays = new Map();
  const reader = await NpzReader.open(path);
  try {
    for (const entry of reader.entries) {
      arrays.set(entry.name, { header: entry.header, data: await reader.readAll(entry.name) });
    }
  } finally {
    reader.close();
  }
  edit(arrays);
  const file = await Deno.open(path, { write: true, truncate: true });
  const npz = new NpzWriter(file.writable, {
    arrays: [...arrays].map(([name, { header }]) => ({ name, header })),
  });
  for (const [name, { header, data }] of arrays) await npz.addArray(name, header, [data]);
  await npz.close();
  if (options.fixMetadata ?? true) await fixChecksum(version);
}
