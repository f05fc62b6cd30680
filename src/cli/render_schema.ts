/**
 * `dsgen render` for a family that declares its own sample schema (`scenes`): reads the
 * factor arrays (role `factor`) from an `.npz`, such as a dataset's own `dataset.npz`, renders
 * every other array from them with the family's `renderFromFactors`, and writes every array of
 * the schema to an `.npz`: the bytes `generate` stores for the same factors, masks included.
 *
 * The family's options that shape the arrays come from the input: for `scenes`, K is the
 * second dimension of `shape` and the colour channels the last of `color` (1 makes the image
 * (S, S), as the `binarized` preset stores it). Arrays are rendered a batch at a time; each
 * output array goes to a temporary file beside the output and is then streamed into the
 * archive, so memory does not grow with N. A bad input is a usage error naming the array, and
 * nothing is written.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { ImageGenerator, JsonValue } from "../generators/generator.ts";
import { allocateChunk, npyDescr, npyShape } from "../generators/sample_schema.ts";
import { createGenerator } from "../generators/spec.ts";
import { NpzWriter } from "../format/npz.ts";
import { NpzReader } from "../format/npz_reader.ts";
import type { NpyDtype } from "../format/npy.ts";
import type { Console } from "./console.ts";
import { RunError, UsageError } from "./errors.ts";
import { quote } from "./flags.ts";

/** Samples rendered per batch. */
const BATCH_SAMPLES = 512;

/**
 * The options of a schema family that the input's factor arrays imply.
 *
 * @param family The family's registry name.
 * @param shapes The shape of each array of the input, by name.
 * @returns The family's options.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionsOfFactors } from "./render_schema.ts";
 * const options = optionsOfFactors("scenes", new Map([["shape", [7, 4]], ["color", [7, 5, 3]]]));
 * assert.deepEqual(options, { preset: "colored_on_colored", minObjects: 0, maxObjects: 4, maxK: 4 });
 * ```
 */
export function optionsOfFactors(
  family: string,
  shapes: ReadonlyMap<string, readonly number[]>,
): { [key: string]: JsonValue } {
  if (family !== "scenes") return {};
  const slots = shapes.get("shape")?.[1];
  const channels = shapes.get("color")?.at(-1);
  if (slots === undefined || channels === undefined) return {};
  return {
    preset: channels === 1 ? "binarized" : "colored_on_colored",
    minObjects: 0,
    maxObjects: slots,
    maxK: slots,
  };
}

/**
 * Renders every array of a schema family's samples from the factor arrays of an `.npz`.
 *
 * @param options The family, the input `.npz`, the output `.npz` (replaced if it exists) and
 *   the image side.
 * @param io Where to print the summary line.
 * @returns The number of samples written.
 * @throws {UsageError} Exit 2 for an unreadable input, a missing or misshapen factor array, or
 *   a value the family cannot draw (naming the array, sample and slot).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NpzWriter } from "../format/npz.ts";
 * import { runSchemaRender } from "./render_schema.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await Deno.open(`${dir}/in.npz`, { write: true, create: true });
 * const npz = new NpzWriter(file.writable);
 * const add = (name: string, descr: "|u1" | "<f4", shape: number[], values: number[]) =>
 *   npz.addArray(name, { descr, fortranOrder: false, shape }, [
 *     new Uint8Array(descr === "|u1" ? Uint8Array.from(values) : Float32Array.from(values).buffer),
 *   ]);
 * await add("shape", "|u1", [1, 1], [1]);
 * await add("scale", "<f4", [1, 1], [1]);
 * await add("orientation", "<f4", [1, 1], [0]);
 * await add("x", "<f4", [1, 1], [0.5]);
 * await add("y", "<f4", [1, 1], [0.5]);
 * await add("color", "<f4", [1, 2, 1], [0, 1]);
 * await add("depth_order", "|u1", [1, 1], [1]);
 * await npz.close();
 * const io = { stdout() {}, stderr() {}, stderrIsTerminal: false, columns: () => 80,
 *   noColor: true, readLine: () => Promise.resolve(null) };
 * const count = await runSchemaRender(
 *   { generator: "scenes", latents: `${dir}/in.npz`, output: `${dir}/out.npz`, imageSize: 16 },
 *   io,
 * );
 * assert.equal(count, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function runSchemaRender(
  options: { generator: string; latents: string; output: string; imageSize: number },
  io: Console,
): Promise<number> {
  const refuse = (problem: string) =>
    new UsageError(`Cannot use "--latents" value ${quote(options.latents)}: ${problem}`);
  let reader: NpzReader;
  try {
    reader = await NpzReader.open(options.latents);
  } catch (error) {
    throw refuse(
      `${(error as Error).message.replace(/ \(os error.*$/s, "")}, expected an .npz of factor ` +
        "arrays, such as a dataset.npz",
    );
  }
  try {
    const shapes = new Map(reader.entries.map((entry) => [entry.name, entry.header.shape]));
    let generator: ImageGenerator;
    try {
      generator = await createGenerator({
        family: { name: options.generator, options: optionsOfFactors(options.generator, shapes) },
        imageSize: options.imageSize,
      });
    } catch (error) {
      throw refuse(`${(error as Error).message}`);
    }
    const schema = generator.schema!;
    const factors = schema.arrays.filter((spec) => spec.role === "factor");
    let numSamples: number | undefined;
    for (const spec of factors) {
      const expected = `${npyDescr(spec)} (${spec.dtype}) of shape (N, ${spec.shape.join(", ")})`;
      if (!shapes.has(spec.name)) {
        throw refuse(`it has no array "${spec.name}", expected ${expected}`);
      }
      const { header } = reader.entry(spec.name);
      const rows = header.shape[0];
      if (
        header.descr !== npyDescr(spec) || header.fortranOrder || rows === undefined ||
        header.shape.slice(1).join(",") !== spec.shape.join(",") ||
        (numSamples !== undefined && rows !== numSamples) || rows < 1
      ) {
        throw refuse(
          `its array "${spec.name}" is ${header.descr} of shape (${header.shape.join(", ")}), ` +
            `expected ${expected}` +
            (numSamples === undefined ? " with N >= 1" : ` with N = ${numSamples}`),
        );
      }
      numSamples = rows;
    }
    const total = numSamples!;
    const folder = dirname(options.output);
    const temporary = join(folder, `.${basename(options.output)}.${Deno.pid}.tmp`);
    const spills = schema.arrays.map((spec) => `${temporary}.${spec.name}`);
    const created: string[] = [];
    const files: Deno.FsFile[] = [];
    try {
      for (const path of spills) {
        try {
          files.push(await Deno.open(path, { write: true, createNew: true }));
        } catch (error) {
          throw new UsageError(
            `Cannot use "--output" value ${quote(options.output)}: cannot create a file in ` +
              `${quote(folder)} (${(error as Error).message.replace(/ \(os error.*$/s, "")})`,
          );
        }
        created.push(path);
      }
      const chunk = allocateChunk(schema, BATCH_SAMPLES);
      for (let start = 0; start < total; start += BATCH_SAMPLES) {
        const count = Math.min(BATCH_SAMPLES, total - start);
        const batch = count === BATCH_SAMPLES ? chunk : allocateChunk(schema, count);
        for (const array of batch.arrays) {
          const bytes = new Uint8Array(array.view.buffer);
          if (array.spec.role === "factor") {
            bytes.set(
              await reader.read(array.spec.name, {
                offset: start * bytes.length / count,
                length: bytes.length,
              }),
            );
          } else bytes.fill(0);
        }
        try {
          generator.renderFromFactors!(batch);
        } catch (error) {
          throw refuse(
            (error as Error).message.replace(
              /\(scene (\d+)\)$/,
              (_, sample) => `(row ${start + Number(sample)})`,
            ),
          );
        }
        for (const [index, array] of batch.arrays.entries()) {
          const bytes = new Uint8Array(array.view.buffer);
          for (let offset = 0; offset < bytes.length;) {
            offset += await files[index]!.write(bytes.subarray(offset));
          }
        }
      }
      for (const file of files.splice(0)) file.close();
      const out = await Deno.open(temporary, { write: true, createNew: true });
      created.push(temporary);
      const arrays = schema.arrays.map((spec) => ({
        name: spec.name,
        header: {
          descr: npyDescr(spec) as NpyDtype,
          fortranOrder: false,
          shape: npyShape(spec, total),
        },
      }));
      const npz = new NpzWriter(out.writable, { arrays });
      for (const [index, array] of arrays.entries()) {
        const spill = await Deno.open(spills[index]!, { read: true });
        await npz.addArray(array.name, array.header, spill.readable);
      }
      await npz.close();
      await Deno.rename(temporary, options.output);
      created.pop();
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new RunError(`Cannot write ${options.output}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      for (const file of files) file.close();
      for (const path of created) await Deno.remove(path).catch(() => undefined);
    }
    io.stderr(
      `Rendered ${total} samples of ${options.imageSize}x${options.imageSize} ` +
        `(${schema.arrays.map((spec) => spec.name).join(", ")}) to ${options.output}\n`,
    );
    return total;
  } finally {
    reader.close();
  }
}
