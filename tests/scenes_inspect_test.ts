/**
 * The scenes inspection: on a real scene archive every check passes and the distributions add
 * up; each check fails on an archive broken the way it looks for; the grid shows images and
 * masks in colour.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allocateChunk, type ChunkLayout } from "../src/generators/sample_schema.ts";
import { scenesFamily } from "../src/generators/scenes_family.ts";
import { ENTITY_COLORS, renderSceneGridPng } from "../src/report/scene_grid.ts";
import { inspectScenes } from "../src/validate/inspect_scenes.ts";
import { writeChunkNpz } from "./support/scene_archives.ts";

const PARAMETERS = { min_objects: 1, max_objects: 4, shapes: ["square", "ellipse", "heart"] };

async function inspectChunk(chunk: ChunkLayout, parameters: Record<string, unknown> = PARAMETERS) {
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-inspect-" });
  try {
    await writeChunkNpz(join(dir, "dataset.npz"), chunk);
    return await inspectScenes(join(dir, "dataset.npz"), { parameters, samples: 9, seed: 2 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function scenes(count: number, options = {}): ChunkLayout {
  const generator = scenesFamily.create({ imageSize: 32, options });
  const chunk = allocateChunk(generator.schema!, count);
  generator.fillChunk!(4, 0, chunk);
  return chunk;
}

Deno.test("inspect of real scenes: every check passes, distributions add up", async () => {
  const chunk = scenes(3000);
  const inspection = await inspectChunk(chunk);
  const { report } = inspection;
  assert.equal(report.numScenes, 3000);
  assert.deepEqual(
    report.checks.map((check) => [check.name, check.verdict]),
    [
      ["objects", "pass"],
      ["classes", "pass"],
      ["partition", "pass"],
      ["amodal", "pass"],
      ["occlusion", "pass"],
      ["padding", "pass"],
    ],
  );
  assert.equal(report.objectCounts.reduce((a, b) => a + b, 0), 3000);
  assert.equal(report.objectCounts[0], 0);
  const objects = Object.values(report.shapeCounts).reduce((a, b) => a + b, 0);
  assert.equal(
    objects,
    report.objectCounts.reduce((sum, count, objects) => sum + count * objects, 0),
  );
  assert.equal(
    report.occlusion.visible + report.occlusion.partly + report.occlusion.hidden,
    objects,
  );
  assert.ok(report.occlusion.partly > 0 && report.occlusion.mean! > 0);
  assert.equal(inspection.cells.length, 9);
  assert.equal(inspection.cells[0]!.masks.length, 5 * 32 * 32);
});

Deno.test("inspect fails each check on scenes broken the way it looks for", async () => {
  const pixels = 32 * 32;
  const breakers: [string, (chunk: ChunkLayout) => void, Record<string, unknown>?][] = [
    ["partition", (chunk) => {
      chunk.byName.get("masks")!.view[5 * pixels * 7 + 100] = 255 -
        chunk.byName.get("masks")!.view[5 * pixels * 7 + 100]!;
    }],
    ["amodal", (chunk) => {
      // Scene 3: clear the amodal mask of an object where it is visible.
      const masks = chunk.byName.get("masks")!.view,
        amodal = chunk.byName.get("amodal_masks")!.view;
      const pixel = masks.subarray(5 * pixels * 3 + pixels, 5 * pixels * 3 + 2 * pixels).indexOf(
        255,
      );
      amodal[4 * pixels * 3 + pixel] = 0;
    }],
    ["occlusion", (chunk) => {
      chunk.byName.get("occlusion")!.view[4 * 11] = 0.5;
    }],
    ["padding", (chunk) => {
      const counts = chunk.byName.get("num_objects")!.view;
      const scene = counts.findIndex((count) => count < 4);
      chunk.byName.get("visibility")!.view[5 * scene + 4] = 1;
    }],
    ["objects", () => {}, { ...PARAMETERS, min_objects: 2 }],
    ["classes", () => {}, { ...PARAMETERS, shapes: ["square", "heart"] }],
  ];
  for (const [name, breakChunk, parameters] of breakers) {
    const chunk = scenes(400);
    breakChunk(chunk);
    const { report } = await inspectChunk(chunk, parameters);
    const failed: string[] = report.checks.filter((check) => check.verdict === "fail")
      .map((check) => check.name);
    assert.ok(failed.includes(name), `${name}: failed ${JSON.stringify(failed)}`);
    if (name !== "amodal") assert.deepEqual(failed, [name]);
    assert.ok(report.checks.find((check) => check.name === name)!.examples.length > 0, name);
  }
});

Deno.test("the scene grid shows each image beside its masks, in colour", async () => {
  const chunk = scenes(4);
  const size = 32, pixels = size * size;
  const image = chunk.byName.get("image")!.view as Uint8Array;
  const masks = chunk.byName.get("masks")!.view as Uint8Array;
  const cells = [0, 1, 2, 3].map((index) => ({
    index,
    numObjects: chunk.byName.get("num_objects")!.view[index]!,
    image: image.subarray(index * pixels * 3, (index + 1) * pixels * 3),
    masks: masks.subarray(index * 5 * pixels, (index + 1) * 5 * pixels),
  }));
  const png = await renderSceneGridPng(cells, {
    imageSize: size,
    channels: 3,
    scale: 2,
    title: "t",
  });
  const PImage = await import("pureimage");
  const { Readable } = await import("node:stream");
  const bitmap = await PImage.decodePNGFromStream(Readable.from([png]) as never);
  // Every entity colour present in the first scene's masks appears in the picture.
  const colors = new Set<number>();
  for (let at = 0; at < bitmap.data.length; at += 4) {
    colors.add((bitmap.data[at]! << 16) | (bitmap.data[at + 1]! << 8) | bitmap.data[at + 2]!);
  }
  for (let entity = 0; entity <= cells[0]!.numObjects; entity++) {
    const owns = cells[0]!.masks.subarray(entity * pixels, (entity + 1) * pixels).includes(255);
    if (!owns) continue;
    const [r, g, b] = ENTITY_COLORS[entity]!;
    assert.ok(colors.has((r << 16) | (g << 8) | b), `entity ${entity}'s colour`);
  }
  // And the background colour of scene 0's image.
  const [r, g, b] = [image[0]!, image[1]!, image[2]!];
  assert.ok(colors.has((r << 16) | (g << 8) | b));
});

Deno.test("without overlap, a shape imbalance from placement warns instead of failing", async () => {
  const generator = scenesFamily.create({
    imageSize: 16,
    options: { minObjects: 6, maxObjects: 6, overlap: false },
  });
  const chunk = allocateChunk(generator.schema!, 300);
  generator.fillChunk!(2, 0, chunk);
  const dir = await Deno.makeTempDir({ prefix: "dsgen-scenes-inspect-" });
  try {
    await writeChunkNpz(join(dir, "dataset.npz"), chunk);
    const verdict = async (overlap: boolean) => {
      const { report } = await inspectScenes(join(dir, "dataset.npz"), {
        parameters: { ...PARAMETERS, min_objects: 6, max_objects: 6, overlap },
        samples: 1,
        seed: 1,
      });
      return report.checks.find((check) => check.name === "classes")!.verdict;
    };
    // The same arrays: unbalanced (ellipses fit more often), so a run with overlap would fail.
    assert.equal(await verdict(true), "fail");
    assert.equal(await verdict(false), "warn");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
