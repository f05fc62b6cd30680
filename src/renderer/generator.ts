/**
 * An external renderer seen as a family: the description its handshake declared, in the shape
 * of an {@linkcode ImageGenerator}, so that the archive layout, metadata.json and the plan treat
 * it like any other family. Its arrays come from the process (`process.ts`), never from
 * `sample`, `render` or `fillChunk`, which refuse.
 *
 * A version 1 renderer is a classic family (`images`, `labels`, `latents`); a version 2
 * renderer's schema is the arrays it declared, with its image stored as uint8 (float pixels
 * quantized, as version 1's are by default) and every other array as declared.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import { checkSampleSchema, type SampleSchema } from "../generators/sample_schema.ts";
import type { RendererDescription } from "./protocol.ts";

/**
 * The arrays a version 2 renderer's run stores: those it declared, the image as uint8.
 *
 * @param description What the renderer declared.
 * @returns The schema; undefined for version 1 (a classic family's arrays).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedSchema } from "./generator.ts";
 * import { parseDescription } from "./protocol.ts";
 * const schema = storedSchema(parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 2, capabilities: ["render"], name: "blobs",
 *   renderer_version: "2.0", arrays: [
 *     { name: "images", dtype: "float32", shape: [16, 16, 3], role: "image" },
 *     { name: "count", dtype: "int32", shape: [], role: "other" },
 *   ],
 * })));
 * assert.deepEqual(schema?.arrays.map((spec) => spec.dtype), ["uint8", "int32"]);
 * ```
 */
export function storedSchema(description: RendererDescription): SampleSchema | undefined {
  if (description.protocolVersion === 1) return undefined;
  return checkSampleSchema(
    description.arrays.map((spec) => spec.role === "image" ? { ...spec, dtype: "uint8" } : spec),
  );
}

/**
 * The generator standing for a renderer's description.
 *
 * @param description What the renderer declared.
 * @returns A generator with its name, version, size, classes and latents; no ranges are
 * declared for the latents.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { externalGenerator } from "./generator.ts";
 * import { parseDescription } from "./protocol.ts";
 * const generator = externalGenerator(parseDescription(JSON.stringify({
 *   protocol: "dsgen-renderer", version: 1, capabilities: ["render"], name: "blobs",
 *   renderer_version: "1.0", image_size: 16, dtype: "float32", classes: ["blob"], latents: ["x"],
 * })));
 * assert.equal(generator.latents[0]!.name, "x");
 * assert.throws(() => generator.sample(1, 0, new Float32Array(1), 0));
 * ```
 */
export function externalGenerator(description: RendererDescription): ImageGenerator {
  const refuse = (): never => {
    throw new TypeError(
      `Cannot draw images of "${description.name}" here: an external renderer draws them`,
    );
  };
  const schema = storedSchema(description);
  return {
    name: description.name,
    version: description.version,
    imageSize: description.imageSize,
    classes: description.classes,
    latents: description.latents.map((name) => ({
      name,
      unit: "as the renderer defines it",
      min: -Infinity,
      max: Infinity,
    })),
    parameters: description.parameters,
    sample: refuse,
    render: refuse,
    ...(schema === undefined ? {} : { schema, fillChunk: refuse }),
  };
}
