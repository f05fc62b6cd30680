/**
 * The latent factors a version's metadata.json records (`generator.parameters.latents`), for
 * a family that cannot be loaded where the version is read (a module of one's own, an external
 * renderer): their names, ranges, per-class ranges and grid values, typed as the family
 * contract declares them ({@linkcode LatentSpec}).
 *
 * @module
 */

import type { JsonValue, LatentSpec } from "../generators/generator.ts";

/** What metadata.json records of a latent: a {@linkcode LatentSpec} less its unit and kind. */
export type RecordedLatent = Pick<LatentSpec, "name" | "min" | "max" | "perClass" | "values">;

/**
 * The declared latent ranges recorded in metadata.json (`generator.parameters.latents`),
 * keeping the well-formed entries.
 *
 * @param parameters The generator's recorded parameters.
 * @returns The declared ranges.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordedLatents } from "./recorded_latents.ts";
 *
 * const declared = recordedLatents({ latents: [{ name: "scale", min: 0.5, max: 1 }, "junk"] });
 * assert.deepEqual(declared, [{ name: "scale", min: 0.5, max: 1 }]);
 * ```
 */
export function recordedLatents(parameters: { [key: string]: JsonValue }): RecordedLatent[] {
  const latents = parameters.latents;
  if (!Array.isArray(latents)) return [];
  const isRange = (value: unknown): value is { min: number; max: number } =>
    typeof value === "object" && value !== null &&
    typeof (value as { min?: unknown }).min === "number" &&
    typeof (value as { max?: unknown }).max === "number";
  const declared: RecordedLatent[] = [];
  for (const latent of latents) {
    if (!isRange(latent) || typeof (latent as { name?: unknown }).name !== "string") continue;
    const entry: RecordedLatent = {
      name: (latent as unknown as { name: string }).name,
      min: latent.min,
      max: latent.max,
    };
    const values = (latent as { values?: unknown }).values;
    if (Array.isArray(values) && values.every((value) => typeof value === "number")) {
      entry.values = values;
    }
    const perClass = (latent as { perClass?: unknown }).perClass;
    if (typeof perClass === "object" && perClass !== null) {
      entry.perClass = Object.fromEntries(
        Object.entries(perClass).filter(([, range]) => isRange(range))
          .map(([name, range]) => [name, { min: range.min, max: range.max }]),
      );
    }
    declared.push(entry);
  }
  return declared;
}
