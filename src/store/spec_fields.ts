/**
 * Checking a recorded dataset spec (metadata.json's `spec`, plan.json's `spec`) field by field
 * before it is used: every field's type and range, the family's name, version and options, and
 * an external renderer's command and folder as plain strings.
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import type { DatasetSpec, FamilyRef } from "../generators/spec.ts";
import { FieldError, fields } from "./json_fields.ts";

/** The most images a recorded spec may hold (as `--num-images` accepts). */
export const MAX_RECORDED_IMAGES = 1_000_000_000;
/** The largest seed: an unsigned 32-bit integer. */
export const MAX_RECORDED_SEED = 4_294_967_295;
/** What a family or renderer name may be. */
export const FAMILY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Checks a recorded spec.
 *
 * @param value The parsed JSON.
 * @param path Its JSON path, e.g. `spec`, for messages.
 * @returns The spec, typed.
 * @throws {FieldError} Naming the first field that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSpecFields } from "./spec_fields.ts";
 * const spec = { family: { name: "shapes", options: {} }, seed: 1, numImages: 10,
 *   imageSize: 16, dtype: "uint8" };
 * assert.equal(checkSpecFields(spec, "spec").seed, 1);
 * assert.throws(() => checkSpecFields({ ...spec, dtype: "int8" }, "spec"),
 *   /spec.dtype is "int8", expected one of uint8, float64/);
 * ```
 */
export function checkSpecFields(value: unknown, path: string): DatasetSpec {
  const spec = fields.object(value, path);
  const family = fields.object(spec.family, `${path}.family`);
  const ref: FamilyRef = {
    name: fields.matching(family.name, `${path}.family.name`, FAMILY_NAME, "a family name"),
    options: fields.object(family.options, `${path}.family.options`) as {
      [key: string]: JsonValue;
    },
  };
  if (family.version !== undefined) {
    ref.version = fields.string(family.version, `${path}.family.version`, 200);
  }
  if (family.module !== undefined) {
    ref.module = fields.string(family.module, `${path}.family.module`);
  }
  if (family.command !== undefined) {
    const words = fields.array(family.command, `${path}.family.command`, 1, 1000);
    ref.command = words.map((word, index) =>
      typeof word === "string" && word !== "" && !word.includes("\0")
        ? word
        : fields.string(word, `${path}.family.command[${index}]`)
    );
    if (family.module !== undefined) {
      throw new FieldError(`${path}.family.module`, family.module, "none with a command");
    }
  }
  if (family.cwd !== undefined) ref.cwd = fields.string(family.cwd, `${path}.family.cwd`);
  return {
    family: ref,
    seed: fields.integer(spec.seed, `${path}.seed`, 0, MAX_RECORDED_SEED),
    numImages: fields.integer(spec.numImages, `${path}.numImages`, 1, MAX_RECORDED_IMAGES),
    imageSize: fields.integer(spec.imageSize, `${path}.imageSize`, 4, 256),
    dtype: fields.choice(spec.dtype, `${path}.dtype`, ["uint8", "float64"] as const),
  };
}
