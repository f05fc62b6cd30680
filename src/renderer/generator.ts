/**
 * An external renderer seen as a family: the description its handshake declared, in the shape
 * of an {@linkcode ImageGenerator}, so that the archive layout, metadata.json and the plan treat
 * it like any other family. Its images, labels and latents come from the process
 * (`process.ts`), never from `sample` or `render`, which refuse.
 *
 * @module
 */

import type { ImageGenerator } from "../generators/generator.ts";
import type { RendererDescription } from "./protocol.ts";

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
  };
}
