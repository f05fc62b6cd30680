/**
 * The `scenes` family's flags of `dsgen generate` (`--preset`, `--objects`, `--max-k`,
 * `--shapes`, `--no-overlap`): from words to the family's options, each bad value a
 * {@linkcode UsageError} naming the flag, the value and what is accepted, before anything is
 * created.
 *
 * @module
 */

import type { JsonValue } from "../generators/generator.ts";
import {
  MAX_OBJECTS_WITHOUT_OVERLAP,
  MAX_SCENE_OBJECTS,
  resolveScenesOptions,
  SCENE_PRESETS,
  SCENE_SHAPES,
} from "../generators/scenes.ts";
import { UsageError } from "./errors.ts";
import { parseChoice, quote, requireValue } from "./flags.ts";

/** The flags, as `parseFlags` declares them, with what each accepts. */
export const SCENE_FLAGS: Record<string, { type: "string" | "boolean"; accepts?: string }> = {
  preset: { type: "string", accepts: `one of ${Object.keys(SCENE_PRESETS).join(", ")}` },
  objects: {
    type: "string",
    accepts: `N or MIN-MAX, objects per scene, 0 <= MIN <= MAX <= ${MAX_SCENE_OBJECTS}, MAX >= 1`,
  },
  "max-k": { type: "string", accepts: `an integer from the most objects to ${MAX_SCENE_OBJECTS}` },
  shapes: { type: "string", accepts: `a comma-separated list of ${SCENE_SHAPES.join(", ")}` },
  "no-overlap": { type: "boolean" },
};

/** The help lines of the flags, for `dsgen generate --help`. */
export const SCENE_FLAGS_HELP =
  `  --preset P        scenes: binarized, colored_on_grayscale or colored_on_colored
                    (default), DeepMind's Multi-dSprites variants (docs/scenes.md)
  --objects N|MIN-MAX
                    scenes: objects per scene, 0 to ${MAX_SCENE_OBJECTS} (default: the preset's)
  --max-k K         scenes: object slots of the per-object arrays, the most objects
                    to ${MAX_SCENE_OBJECTS} (default: the most objects)
  --shapes LIST     scenes: shapes drawn from, e.g. square,heart (default all three)
  --no-overlap      scenes: objects touch no common pixel (at most ${MAX_OBJECTS_WITHOUT_OVERLAP} objects)
`;

/**
 * The family options the scene flags describe; `{}` when none is given. Throws a
 * {@linkcode UsageError} for a bad value, or for a scene flag with another generator.
 *
 * @param values The parsed flags (`preset`, `objects`, `max-k`, `shapes`, `no-overlap`, ...).
 * @param context The generator and image size the other flags chose.
 * @returns The options for the `scenes` family.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sceneOptionsOfFlags } from "./scene_flags.ts";
 * const options = sceneOptionsOfFlags({ objects: "2-3", "no-overlap": true }, {
 *   generator: "scenes",
 *   imageSize: 64,
 * });
 * assert.deepEqual(options, { minObjects: 2, maxObjects: 3, overlap: false });
 * assert.throws(() => sceneOptionsOfFlags({ "max-k": "11" }, { generator: "scenes", imageSize: 64 }));
 * ```
 */
export function sceneOptionsOfFlags(
  values: Record<string, string | boolean | undefined>,
  context: { generator: string; imageSize: number },
): { [key: string]: JsonValue } {
  const given = Object.keys(SCENE_FLAGS).filter((flag) => values[flag] !== undefined);
  if (context.generator !== "scenes") {
    if (given.length > 0) {
      throw new UsageError(
        `Cannot use "--${given[0]}" with generator "${context.generator}": expected it only ` +
          "with --generator scenes",
      );
    }
    return {};
  }
  const text = (flag: string) =>
    requireValue(`--${flag}`, values[flag], SCENE_FLAGS[flag]!.accepts!);
  const options: { [key: string]: JsonValue } = {};
  const presetName = values.preset === undefined
    ? "colored_on_colored"
    : parseChoice("--preset", text("preset"), Object.keys(SCENE_PRESETS));
  if (values.preset !== undefined) options.preset = presetName;
  const preset = SCENE_PRESETS[presetName]!;
  let maxObjects = preset.maxObjects;
  if (values.objects !== undefined) {
    const word = text("objects");
    const match = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(word);
    const low = match === null ? NaN : Number(match[1]);
    const high = match === null ? NaN : Number(match[2] ?? match[1]);
    if (!(low <= high && high >= 1 && high <= MAX_SCENE_OBJECTS)) {
      throw new UsageError(
        `Cannot use "--objects" value ${quote(word)}: expected ${SCENE_FLAGS.objects!.accepts}`,
      );
    }
    options.minObjects = low;
    options.maxObjects = high;
    maxObjects = high;
  }
  if (values["max-k"] !== undefined) {
    const word = text("max-k");
    const slots = /^\d{1,3}$/.test(word) ? Number(word) : NaN;
    if (!(slots >= maxObjects && slots <= MAX_SCENE_OBJECTS)) {
      throw new UsageError(
        `Cannot use "--max-k" value ${quote(word)}: expected an integer from ${maxObjects} ` +
          `(the most objects${values.objects === undefined ? ` of preset ${presetName}` : ""}) ` +
          `to ${MAX_SCENE_OBJECTS}`,
      );
    }
    options.maxK = slots;
  }
  if (values.shapes !== undefined) {
    const word = text("shapes");
    const names = word.split(",");
    const bad = names.find((name, index) =>
      !(SCENE_SHAPES as readonly string[]).includes(name) || names.indexOf(name) !== index
    );
    if (bad !== undefined) {
      throw new UsageError(
        `Cannot use "--shapes" value ${quote(word)}: expected a comma-separated list of ` +
          `${SCENE_SHAPES.join(", ")}, each at most once`,
      );
    }
    options.shapes = names;
  }
  if (values["no-overlap"] === true) {
    if (maxObjects > MAX_OBJECTS_WITHOUT_OVERLAP) {
      const [flag, word] = values.objects === undefined
        ? ["--preset", presetName]
        : ["--objects", String(values.objects)];
      throw new UsageError(
        `Cannot use "${flag}" value ${quote(word)} with "--no-overlap": up to ${maxObjects} ` +
          `objects, expected at most ${MAX_OBJECTS_WITHOUT_OVERLAP} objects without overlap`,
      );
    }
    options.overlap = false;
  }
  try {
    resolveScenesOptions({ ...options, imageSize: context.imageSize });
  } catch (error) {
    // Every value was checked above; this is a backstop, still a usage error.
    throw new UsageError((error as Error).message);
  }
  return options;
}
