/**
 * `dsgen render`: images from factor values the user chooses, byte-identical to what
 * `generate` stores for the same values.
 *
 * {@linkcode parseRenderArgs} turns the words into a typed {@linkcode RenderCommandOptions};
 * {@linkcode runRender} reads an (N, K) float32 or float64 `.npy`, checks every value (a bad
 * one is a usage error naming its row and column, and nothing is written), renders and writes
 * an (N, S, S) uint8 `.npy` through a temporary file and a rename.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { decodeNpyHeader, encodeNpyHeader, type NpyHeader } from "../format/npy.ts";
import { generators } from "../generators/registry.ts";
import { createGenerator } from "../generators/spec.ts";
import { checkLatentRows, latentColumns, renderLatentRows } from "../pipeline/render_latents.ts";
import type { Console } from "./console.ts";
import { runSchemaRender } from "./render_schema.ts";
import { RunError, UsageError } from "./errors.ts";
import {
  type FlagSpec,
  parseChoice,
  parseFlags,
  parseIntegerFlag,
  quote,
  requireValue,
} from "./flags.ts";
import { type CallerFolder, callerPath } from "./paths.ts";

/** A render run, as the flags describe it. */
export interface RenderCommandOptions {
  /** The family's registry name (`--generator`, required). */
  generator: string;
  /** The `.npy` of factor values (`--latents`). */
  latents: string;
  /** The `.npy` to write (`--output`); replaced if it exists. */
  output: string;
  /** Side of the images (`--image-size`; default 64 for dsprites, 16 otherwise). */
  imageSize: number;
}

const FLAGS: Record<string, FlagSpec> = {
  generator: { type: "string", accepts: `one of ${generators.names().join(", ")}` },
  latents: {
    type: "string",
    accepts: "a .npy file of float32 or float64 rows (scenes: an .npz of factor arrays)",
  },
  output: { type: "string", accepts: "a .npy file path" },
  "image-size": { type: "string", accepts: "an integer from 4 to 256" },
  help: { type: "boolean", short: "h" },
};

/** The help text of `dsgen render`. */
export const RENDER_HELP =
  `Usage: dsgen render --generator G --latents IN.npy --output OUT.npy [options]

Renders one image per row of IN.npy, an (N, K) float32 or float64 array whose columns are the
family's latent_names (dsprites: color, shape, scale, orientation, posX, posY), preceded by the
class index for families whose latents do not hold the class (shapes: label, scale, orientation,
pos_x, pos_y). Writes OUT.npy, (N, S, S) uint8, the same bytes generate stores for the same
values. A categorical factor takes one of its values; a grid factor any value in its range.
A bad value exits 2 naming its row and column, and writes nothing.

For scenes, IN is an .npz holding the factor arrays shape, scale, orientation, x, y, color
and depth_order (a dataset.npz works as it is; K and the colour channels are read from
them), and OUT.npz receives every array generate stores, masks included, byte-identical.

Options:
  --generator G     dataset family: ${generators.names().join(", ")} (required)
  --latents FILE    the factor values (required)
  --output FILE     the images to write, replaced if it exists (required)
  --image-size S    image side in pixels (default 64 for dsprites and scenes, 16
                    otherwise)
  -h, --help        show this help
`;

/**
 * Turns the words after `render` into options, or throws a {@linkcode UsageError}.
 *
 * @param args The command-line words.
 * @param caller The folder relative paths mean (see `paths.ts`).
 * @returns The options, or `"help"` when `--help` was given.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRenderArgs } from "./render.ts";
 * const options = parseRenderArgs(["--generator", "dsprites", "--latents", "a.npy", "--output", "b.npy"]);
 * assert.ok(options !== "help" && options.imageSize === 64);
 * ```
 */
export function parseRenderArgs(
  args: readonly string[],
  caller: CallerFolder = {},
): RenderCommandOptions | "help" {
  const { values } = parseFlags(args, { command: "render", flags: FLAGS });
  if (values.help === true) return "help";
  const text = (flag: string) =>
    requireValue(`--${flag}`, values[flag], FLAGS[flag]?.accepts ?? "a value");
  const generator = parseChoice("--generator", text("generator"), generators.names());
  const minSize = generators.get(generator).minImageSize ?? 4;
  return {
    generator,
    latents: callerPath(text("latents"), caller),
    output: callerPath(text("output"), caller),
    imageSize: values["image-size"] === undefined
      ? (generators.get(generator).defaultImageSize ?? 16)
      : parseIntegerFlag(values, "image-size", { min: minSize, max: 256 }),
  };
}

/** Images rendered and written per step. */
const BATCH_IMAGES = 1024;

/**
 * Runs `dsgen render` with parsed options.
 *
 * @param options The parsed flags.
 * @param io Where to print.
 * @returns The number of images written.
 * @throws {UsageError} Exit 2 for an unreadable input or a bad value (naming row and column).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runRender } from "./render.ts";
 * import { encodeNpyHeader } from "../format/npy.ts";
 * const dir = await Deno.makeTempDir();
 * const header = encodeNpyHeader({ descr: "<f8", fortranOrder: false, shape: [1, 6] });
 * const data = new Uint8Array(new Float64Array([1, 3, 1, 0, 0.5, 0.5]).buffer);
 * await Deno.writeFile(`${dir}/in.npy`, new Uint8Array([...header, ...data]));
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * await runRender({ generator: "dsprites", latents: `${dir}/in.npy`, output: `${dir}/out.npy`,
 *   imageSize: 16 }, io);
 * assert.equal((await Deno.stat(`${dir}/out.npy`)).size, 128 + 256);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runRender(options: RenderCommandOptions, io: Console): Promise<number> {
  if (generators.get(options.generator).create({ imageSize: options.imageSize }).schema) {
    return await runSchemaRender(options, io);
  }
  const refuse = (problem: string) =>
    new UsageError(`Cannot use "--latents" value ${quote(options.latents)}: ${problem}`);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(options.latents);
  } catch (error) {
    throw refuse(`cannot read it (${(error as Error).message.replace(/ \(os error.*$/s, "")})`);
  }
  let header: NpyHeader, dataOffset: number;
  try {
    ({ header, dataOffset } = decodeNpyHeader(bytes));
  } catch (error) {
    throw refuse(`${(error as Error).message}, expected a .npy file`);
  }
  const generator = await createGenerator({
    family: { name: options.generator, options: {} },
    imageSize: options.imageSize,
  });
  const columns = latentColumns(generator);
  const [rows, width] = header.shape;
  if (header.descr !== "<f4" && header.descr !== "<f8") {
    throw refuse(`its dtype is ${header.descr}, expected float32 (<f4) or float64 (<f8)`);
  }
  if (
    header.fortranOrder || header.shape.length !== 2 || rows === undefined || rows < 1 ||
    width !== columns.length
  ) {
    throw refuse(
      `its shape is (${header.shape.join(", ")})${header.fortranOrder ? " in Fortran order" : ""}` +
        `, expected (N, ${columns.length}) in C order with N >= 1: columns ${columns.join(", ")}`,
    );
  }
  const itemBytes = header.descr === "<f4" ? 4 : 8;
  if (bytes.length - dataOffset !== rows * width * itemBytes) {
    throw refuse(
      `it holds ${bytes.length - dataOffset} data bytes, expected ${
        rows * width * itemBytes
      } for its shape`,
    );
  }
  // Copied so that the values are aligned whatever the header's length.
  const data = bytes.slice(dataOffset);
  const values = header.descr === "<f4"
    ? new Float32Array(data.buffer)
    : new Float64Array(data.buffer);
  let checked;
  try {
    checked = checkLatentRows(generator, values);
  } catch (error) {
    throw refuse((error as Error).message);
  }

  const size = options.imageSize;
  const folder = dirname(options.output);
  const temporary = join(folder, `.${basename(options.output)}.${Deno.pid}.tmp`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(temporary, { write: true, createNew: true });
  } catch (error) {
    throw new UsageError(
      `Cannot use "--output" value ${quote(options.output)}: cannot create a file in ` +
        `${quote(folder)} (${(error as Error).message.replace(/ \(os error.*$/s, "")})`,
    );
  }
  try {
    const write = async (chunk: Uint8Array) => {
      for (let offset = 0; offset < chunk.length;) {
        offset += await file.write(chunk.subarray(offset));
      }
    };
    await write(encodeNpyHeader({ descr: "|u1", fortranOrder: false, shape: [rows, size, size] }));
    for (let start = 0; start < rows; start += BATCH_IMAGES) {
      await write(
        renderLatentRows(generator, checked, {
          start,
          count: Math.min(BATCH_IMAGES, rows - start),
        }),
      );
    }
    file.close();
    await Deno.rename(temporary, options.output);
  } catch (error) {
    try {
      file.close();
    } catch {
      // Already closed.
    }
    await Deno.remove(temporary).catch(() => undefined);
    throw new RunError(`Cannot write ${options.output}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  io.stderr(`Rendered ${rows} images of ${size}x${size} to ${options.output}\n`);
  return rows;
}
