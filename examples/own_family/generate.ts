/**
 * Generates a blobs dataset with dsgen as a library:
 *
 *     deno run --allow-read --allow-write --allow-env --allow-sys --allow-run \
 *       examples/own_family/generate.ts OUTPUT_DIR [NUM_IMAGES] [WORKERS]
 *
 * Prints the published version's folder. The family's module is given by URL, so worker
 * threads load it too.
 *
 * @module
 */

import { generateDataset } from "../../mod.ts";

const [outputDir = "data", numImages = "1000", workers = "2"] = Deno.args;
const { path, metadata } = await generateDataset(
  {
    family: { name: "blobs", module: new URL("./blobs.ts", import.meta.url).href, options: {} },
    seed: 42,
    numImages: Number(numImages),
    imageSize: 32,
    dtype: "uint8",
  },
  outputDir,
  { workers: Number(workers) },
);
console.log(path);
console.error(`${metadata.num_images} images, ${metadata.run.workers} workers`);
