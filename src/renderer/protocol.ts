/**
 * The renderer protocol, versions 1 and 2: the bytes between dsgen and an external renderer.
 *
 * The full description, for renderer authors, is docs/own-renderer.md. In short:
 *
 * 1. dsgen writes a JSON line `{"protocol":"dsgen-renderer","versions":[1,2],...}`; the program
 *    chooses a version and answers with one JSON line describing itself
 *    ({@linkcode RendererDescription}). In version 1 it declares an image size, a pixel dtype,
 *    classes and latents; in version 2 it declares its arrays as a sample schema (`arrays`:
 *    name, dtype, per-sample shape, role), as a family does.
 * 2. dsgen writes `render <seed> <first> <count>\n`; the program answers with a 16-byte header
 *    (`DSRA`, uint32 status, uint64 payload length, little-endian) and the payload. Version 1:
 *    the images in the declared dtype, then `count` uint8 labels, then `count × K` float32
 *    latents. Version 2: for each declared array in order, its byte length as a uint64, then
 *    its `count` samples in C order.
 * 3. dsgen closes stdin; the program exits with 0.
 *
 * Both versions are described by their wire arrays ({@linkcode RendererDescription.arrays}): a
 * version 1 renderer's are `images`, `labels` and `latents`, so that everything after the
 * handshake reads one list of arrays.
 *
 * This module holds the pure parts: parsing the command and the handshake, encoding requests,
 * decoding answer headers. The process itself is in `process.ts`.
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import { type ArraySpec, bytesPerSample, checkSampleSchema } from "../generators/sample_schema.ts";

/** The protocol's name, in both handshake lines. */
export const PROTOCOL_NAME = "dsgen-renderer";
/** The protocol versions this dsgen speaks. */
export const PROTOCOL_VERSIONS: readonly number[] = [1, 2];
/** The first four bytes of every answer. */
export const ANSWER_MAGIC = "DSRA";
/** The length of an answer's header in bytes. */
export const ANSWER_HEADER_BYTES = 16;

/** The pixel types a renderer may answer in. */
export type RendererDtype = "uint8" | "float32" | "float64";

/** The image array's dtypes a version 2 renderer may declare (float pixels are in [0, 1]). */
export const IMAGE_DTYPES: readonly RendererDtype[] = ["uint8", "float32", "float64"];

/** The most channels of a version 2 image array `[S, S, C]`. */
export const MAX_CHANNELS = 4;

/**
 * Array names a version 2 renderer may not declare: the archive's own arrays of names.
 */
export const RESERVED_ARRAY_NAMES: readonly string[] = ["class_names", "latent_names"];

/** What a renderer declares about itself in the handshake. */
export interface RendererDescription {
  /** The renderer's name, recorded as the generator's name. */
  name: string;
  /** The renderer's version: bumped whenever the pixels of any (seed, i) change. */
  version: string;
  /** The protocol version it chose. */
  protocolVersion: number;
  /** The capabilities it declared (it must declare `render`). */
  capabilities: string[];
  /** Side of its square images in pixels (version 2: the image array's first dimension). */
  imageSize: number;
  /** The pixel type of its answers' images. */
  dtype: RendererDtype;
  /**
   * Class names; a label is an index into this list (version 2: of every array of role
   * `label`; empty when it declares none).
   */
  classes: string[];
  /** Latent factor names, the columns of `latents.npy` (version 2: none). */
  latents: string[];
  /**
   * The arrays of each answer, per sample, in their order on the wire: version 1's `images`
   * `[S, S]`, `labels` `[]` uint8 and `latents` `[K]` float32; version 2's as declared.
   */
  arrays: readonly ArraySpec[];
  /** Whatever else it declared to record in metadata.json. */
  parameters: { [key: string]: JsonValue };
}

/**
 * Splits a command into words the way a POSIX shell does for plain words: whitespace separates,
 * single quotes keep everything, double quotes keep all but `\"` and `\\`, a backslash outside
 * quotes escapes the next character. No variables, globs, pipes or redirections.
 *
 * @param command The command as typed, e.g. `python3 "my renderer.py" --size 16`.
 * @returns The words; an error names what is unbalanced.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCommand } from "./protocol.ts";
 * assert.deepEqual(splitCommand(`python3 'a b.py' -x "c\\"d"`), ["python3", "a b.py", "-x", 'c"d']);
 * ```
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let index = 0; index < command.length; index++) {
    const char = command[index]!;
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = command.indexOf("'", index + 1);
      if (end < 0) throw new SyntaxError("a single quote is not closed");
      word = (word ?? "") + command.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      word ??= "";
      for (index++;; index++) {
        if (index >= command.length) throw new SyntaxError("a double quote is not closed");
        const inner = command[index]!;
        if (inner === '"') break;
        if (inner === "\\" && (command[index + 1] === '"' || command[index + 1] === "\\")) {
          word += command[++index];
        } else {
          word += inner;
        }
      }
    } else if (char === "\\") {
      if (index + 1 >= command.length) throw new SyntaxError("it ends with a backslash");
      word = (word ?? "") + command[++index];
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The handshake line dsgen sends first.
 *
 * @param imageSize The image size the user asked for, or undefined.
 * @returns The line, newline included.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helloLine } from "./protocol.ts";
 * assert.ok(helloLine(16).endsWith(`"image_size":16}\n`));
 * ```
 */
export function helloLine(imageSize: number | undefined): string {
  return JSON.stringify({
    protocol: PROTOCOL_NAME,
    versions: PROTOCOL_VERSIONS,
    capabilities: ["render"],
    image_size: imageSize ?? null,
  }) + "\n";
}

/**
 * Parses and checks the renderer's handshake line, of either version.
 *
 * @param line The line, without its newline.
 * @returns The description; a `TypeError` names the first field that is wrong, what it holds
 * and what is accepted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDescription } from "./protocol.ts";
 * const description = parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 1, capabilities: ["render"], name: "blobs",
 *   renderer_version: "1.0", image_size: 16, dtype: "float32", classes: ["a"], latents: ["x"],
 * }));
 * assert.equal(description.imageSize, 16);
 * const v2 = parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 2, capabilities: ["render"], name: "blobs",
 *   renderer_version: "2.0", arrays: [
 *     { name: "images", dtype: "uint8", shape: [16, 16, 3], role: "image" },
 *     { name: "masks", dtype: "uint8", shape: [2, 16, 16], role: "mask" },
 *   ],
 * }));
 * assert.deepEqual([v2.imageSize, v2.arrays.length], [16, 2]);
 * ```
 */
export function parseDescription(line: string): RendererDescription {
  let value: { [key: string]: unknown };
  try {
    value = JSON.parse(line);
  } catch {
    throw new TypeError(`expected one line of JSON, got ${preview(line)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`expected a JSON object, got ${preview(line)}`);
  }
  const bad = (field: string, expected: string) =>
    new TypeError(`"${field}" is ${preview(value[field])}, expected ${expected}`);
  if (value.protocol !== PROTOCOL_NAME) throw bad("protocol", `"${PROTOCOL_NAME}"`);
  if (!PROTOCOL_VERSIONS.includes(value.version as number)) {
    throw bad("version", `one of ${PROTOCOL_VERSIONS.join(", ")}`);
  }
  const strings = (field: string, min: number, max: number): string[] => {
    const list = value[field];
    if (
      !Array.isArray(list) || list.length < min || list.length > max ||
      !list.every((item) => typeof item === "string" && item !== "")
    ) {
      throw bad(field, `a list of ${min} to ${max} non-empty strings`);
    }
    return list as string[];
  };
  const capabilities = strings("capabilities", 1, 100);
  if (!capabilities.includes("render")) throw bad("capabilities", `a list that holds "render"`);
  if (typeof value.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(value.name)) {
    throw bad(
      "name",
      "1 to 100 letters, digits, '-', '_' and '.', starting with a letter or digit",
    );
  }
  if (typeof value.renderer_version !== "string" || value.renderer_version === "") {
    throw bad("renderer_version", "a non-empty string");
  }
  const parameters = value.parameters ?? {};
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    throw bad("parameters", "a JSON object");
  }
  const common = {
    name: value.name,
    version: value.renderer_version,
    protocolVersion: value.version as number,
    capabilities,
    parameters: parameters as { [key: string]: JsonValue },
  };
  if (value.version === 2) return { ...common, ...parseArrays(value, bad, strings) };
  const size = value.image_size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 4 || size > 256) {
    throw bad("image_size", "an integer from 4 to 256");
  }
  if (value.dtype !== "uint8" && value.dtype !== "float32" && value.dtype !== "float64") {
    throw bad("dtype", "one of uint8, float32, float64");
  }
  const latents = strings("latents", 0, 1000);
  return {
    ...common,
    imageSize: size,
    dtype: value.dtype,
    classes: strings("classes", 1, 256),
    latents,
    arrays: versionOneArrays(size, value.dtype, latents.length),
  };
}

/** A version 1 renderer's answer as arrays: images, labels, latents. */
function versionOneArrays(size: number, dtype: RendererDtype, latents: number): ArraySpec[] {
  return [
    { name: "images", dtype, shape: [size, size], role: "image" },
    { name: "labels", dtype: "uint8", shape: [], role: "label" },
    { name: "latents", dtype: "float32", shape: [latents], role: "factor" },
  ];
}

/** The fields only a version 2 handshake has: its arrays, and the classes of its labels. */
function parseArrays(
  value: { [key: string]: unknown },
  bad: (field: string, expected: string) => TypeError,
  strings: (field: string, min: number, max: number) => string[],
): Pick<RendererDescription, "imageSize" | "dtype" | "classes" | "latents" | "arrays"> {
  for (const field of ["image_size", "dtype", "latents"]) {
    if (value[field] !== undefined) {
      throw bad(field, `no "${field}" in version 2 (each array declares its own in "arrays")`);
    }
  }
  let arrays: readonly ArraySpec[];
  try {
    arrays = checkSampleSchema(value.arrays as ArraySpec[]).arrays;
  } catch (error) {
    const message = (error as Error).message.replace(/^Cannot use /, "");
    throw new TypeError(`"arrays": cannot use ${message}`);
  }
  const reserved = arrays.find((spec) => RESERVED_ARRAY_NAMES.includes(spec.name));
  if (reserved !== undefined) {
    throw new TypeError(
      `"arrays" declares an array named "${reserved.name}", expected other names than ` +
        `${RESERVED_ARRAY_NAMES.join(" and ")} (the archive's own)`,
    );
  }
  const image = arrays.find((spec) => spec.role === "image")!;
  const [side, width, channels] = image.shape;
  if (
    side === undefined || width !== side || side < 4 || side > 256 || image.shape.length > 3 ||
    (channels !== undefined && channels > MAX_CHANNELS)
  ) {
    throw new TypeError(
      `"arrays" declares image "${image.name}" of shape ${preview(image.shape)}, expected ` +
        `[S, S] or [S, S, C] with S from 4 to 256 and C from 1 to ${MAX_CHANNELS}`,
    );
  }
  if (!(IMAGE_DTYPES as readonly string[]).includes(image.dtype)) {
    throw new TypeError(
      `"arrays" declares image "${image.name}" of dtype "${image.dtype}", expected one of ` +
        IMAGE_DTYPES.join(", "),
    );
  }
  const labels = arrays.filter((spec) => spec.role === "label");
  const floatLabel = labels.find((spec) => spec.dtype.startsWith("float"));
  if (floatLabel !== undefined) {
    throw new TypeError(
      `"arrays" declares label "${floatLabel.name}" of dtype "${floatLabel.dtype}", expected ` +
        'an integer dtype (a label is an index into "classes")',
    );
  }
  const classes = value.classes === undefined ? [] : strings("classes", 1, 65536);
  if (labels.length > 0 && classes.length === 0) {
    throw bad(
      "classes",
      `a list of 1 to 65536 non-empty strings: the values of "${labels[0]!.name}"`,
    );
  }
  return {
    imageSize: side,
    dtype: image.dtype as RendererDtype,
    classes,
    latents: [],
    arrays,
  };
}

/**
 * The handshake as metadata.json records it: the program's own field names.
 *
 * @param description The parsed description.
 * @returns A JSON object, itself a handshake line that {@linkcode parseDescription} accepts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describedAsJson, parseDescription } from "./protocol.ts";
 * const line = JSON.stringify({
 *   protocol: "dsgen-renderer", version: 1, capabilities: ["render"], name: "blobs",
 *   renderer_version: "1.0", image_size: 16, dtype: "uint8", classes: ["a"], latents: [],
 * });
 * assert.equal(describedAsJson(parseDescription(line)).renderer_version, "1.0");
 * ```
 */
export function describedAsJson(description: RendererDescription): { [key: string]: JsonValue } {
  const common = {
    protocol: PROTOCOL_NAME,
    version: description.protocolVersion,
    capabilities: description.capabilities,
    name: description.name,
    renderer_version: description.version,
  };
  if (description.protocolVersion === 2) {
    return {
      ...common,
      arrays: description.arrays.map((spec) => ({
        name: spec.name,
        dtype: spec.dtype,
        shape: [...spec.shape],
        role: spec.role,
      })),
      ...(description.classes.length > 0 ? { classes: description.classes } : {}),
      parameters: description.parameters,
    };
  }
  return {
    ...common,
    image_size: description.imageSize,
    dtype: description.dtype,
    classes: description.classes,
    latents: description.latents,
    parameters: description.parameters,
  };
}

/**
 * Bytes per pixel of a renderer dtype.
 *
 * @param dtype The declared dtype.
 * @returns 1, 4 or 8.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendererItemSize } from "./protocol.ts";
 * assert.equal(rendererItemSize("float32"), 4);
 * ```
 */
export function rendererItemSize(dtype: RendererDtype): number {
  return dtype === "uint8" ? 1 : dtype === "float32" ? 4 : 8;
}

/**
 * The bytes an answer holds per pixel of its images, for the memory estimate: the pixel's size
 * for version 1 (as the estimate was measured); for version 2, every declared array's bytes of
 * one sample over S², so that the estimate counts every array.
 *
 * @param description The renderer's description.
 * @returns Bytes per pixel; not a whole number for version 2.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerBytesPerPixel, parseDescription } from "./protocol.ts";
 * const v2 = parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 2, capabilities: ["render"], name: "blobs",
 *   renderer_version: "2.0", arrays: [
 *     { name: "images", dtype: "float32", shape: [4, 4], role: "image" },
 *     { name: "mask", dtype: "uint8", shape: [4, 4], role: "mask" },
 *   ],
 * }));
 * assert.equal(answerBytesPerPixel(v2), 5);
 * ```
 */
export function answerBytesPerPixel(
  description: Pick<RendererDescription, "protocolVersion" | "dtype" | "arrays" | "imageSize">,
): number {
  if (description.protocolVersion === 1) return rendererItemSize(description.dtype);
  const perSample = description.arrays.reduce((total, spec) => total + bytesPerSample(spec), 0);
  return perSample / description.imageSize ** 2;
}

/** The length of the byte-length field before each array of a version 2 answer. */
export const ARRAY_LENGTH_BYTES = 8;

/**
 * The payload length of an ok answer to a request for `count` samples.
 *
 * @param description The renderer's description: its version and wire arrays.
 * @param count The number of samples asked for.
 * @returns Bytes: version 1, the arrays back to back; version 2, each array after its
 * 8-byte length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerBytes, parseDescription } from "./protocol.ts";
 * const description = parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 1, capabilities: ["render"], name: "blobs",
 *   renderer_version: "1.0", image_size: 16, dtype: "uint8", classes: ["a"], latents: ["x", "y"],
 * }));
 * assert.equal(answerBytes(description, 10), 10 * (256 + 1 + 8));
 * ```
 */
export function answerBytes(
  description: Pick<RendererDescription, "protocolVersion" | "arrays">,
  count: number,
): number {
  const framing = description.protocolVersion === 2 ? ARRAY_LENGTH_BYTES : 0;
  return description.arrays.reduce(
    (total, spec) => total + framing + count * bytesPerSample(spec),
    0,
  );
}

/**
 * What a sample of an array is, as messages say it: `uint8 [2, 16, 16]`.
 *
 * @param spec The array.
 * @returns Its dtype and per-sample shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeArray } from "./protocol.ts";
 * assert.equal(describeArray({ name: "n", dtype: "int32", shape: [], role: "other" }), "int32 []");
 * ```
 */
export function describeArray(spec: ArraySpec): string {
  return `${spec.dtype} [${spec.shape.join(", ")}]`;
}

/**
 * A request line.
 *
 * @param seed The dataset seed.
 * @param start The first image's index.
 * @param count The number of images.
 * @returns `render <seed> <start> <count>\n`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestLine } from "./protocol.ts";
 * assert.equal(requestLine(7, 256, 128), "render 7 256 128\n");
 * ```
 */
export function requestLine(seed: number, start: number, count: number): string {
  return `render ${seed} ${start} ${count}\n`;
}

/** A decoded answer header. */
export interface AnswerHeader {
  /** 0 for ok, 1 for an error. */
  status: number;
  /** The payload's length in bytes. */
  payloadBytes: number;
}

/**
 * Decodes an answer's 16-byte header.
 *
 * @param bytes The header's bytes.
 * @returns The status and payload length; a `TypeError` describes a bad header.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAnswerHeader } from "./protocol.ts";
 * const bytes = new Uint8Array(16);
 * bytes.set(new TextEncoder().encode("DSRA"));
 * bytes[8] = 42;
 * assert.deepEqual(decodeAnswerHeader(bytes), { status: 0, payloadBytes: 42 });
 * ```
 */
export function decodeAnswerHeader(bytes: Uint8Array): AnswerHeader {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== ANSWER_MAGIC) {
    throw new TypeError(
      `the answer starts with ${preview(magic)} (bytes ${hex(bytes.subarray(0, 4))}), ` +
        `expected "${ANSWER_MAGIC}"`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, ANSWER_HEADER_BYTES);
  const status = view.getUint32(4, true);
  if (status !== 0 && status !== 1) {
    throw new TypeError(`the answer's status is ${status}, expected 0 (ok) or 1 (error)`);
  }
  const payloadBytes = Number(view.getBigUint64(8, true));
  return { status, payloadBytes };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
}

/** A value shown in a message: as JSON, cut to 60 characters. */
function preview(value: unknown): string {
  const shown = JSON.stringify(value) ?? "missing";
  return shown.length > 60 ? shown.slice(0, 57) + "..." : shown;
}
