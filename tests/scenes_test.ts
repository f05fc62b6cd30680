import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dspritesFamily } from "../src/generators/dsprites.ts";
import {
  createSceneFactors,
  MAX_OBJECTS_WITHOUT_OVERLAP,
  resolveScenesOptions,
  type SceneFactors,
  SceneRenderer,
  type ScenesOptions,
} from "../src/generators/scenes.ts";
import { allocateChunk, type ChunkLayout } from "../src/generators/sample_schema.ts";

/** One sample's elements of one array of a chunk. */
function sampleOf(chunk: ChunkLayout, name: string, sample: number): number[] {
  const array = chunk.byName.get(name)!;
  const per = array.elementsPerSample;
  return Array.from(array.view.subarray(sample * per, (sample + 1) * per));
}

/** The bytes of every array of one sample, concatenated in schema order. */
function sampleBytes(chunk: ChunkLayout, sample: number): Uint8Array {
  const parts = chunk.arrays.map((array) => {
    const bytesPer = array.elementsPerSample * array.view.BYTES_PER_ELEMENT;
    return new Uint8Array(array.view.buffer, sample * bytesPer, bytesPer);
  });
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function render(options: ScenesOptions, seed: number, start: number, count: number): ChunkLayout {
  const renderer = new SceneRenderer(options);
  const chunk = allocateChunk(renderer.schema, count);
  renderer.renderChunk(seed, start, chunk);
  return chunk;
}

/**
 * An independent reference: each object's coverage over the whole frame from the dsprites
 * renderer, blended and assigned pixel by pixel without boxes, from the stored factors.
 */
function reference(chunk: ChunkLayout, sample: number, size: number) {
  const slots = chunk.byName.get("shape")!.elementsPerSample;
  const channels = chunk.byName.get("color")!.elementsPerSample / (slots + 1);
  const numObjects = sampleOf(chunk, "num_objects", sample)[0]!;
  const shape = sampleOf(chunk, "shape", sample), depth = sampleOf(chunk, "depth_order", sample);
  const color = sampleOf(chunk, "color", sample).map((value) => Math.round(value * 255));
  const factors = ["scale", "orientation", "x", "y"].map((name) => sampleOf(chunk, name, sample));
  const shapes = dspritesFamily.create({ imageSize: size });
  const coverage = Array.from({ length: numObjects }, (_, slot) => {
    const out = new Float64Array(size * size);
    const latents = Float32Array.from([1, shape[slot]!, ...factors.map((f) => f[slot]!)]);
    shapes.render(shape[slot]! - 1, latents, 0, out, 0);
    return out;
  });
  const order = Array.from({ length: numObjects }, (_, slot) => slot)
    .sort((a, b) => depth[a]! - depth[b]!);
  const image: number[] = [], owners: number[] = [], coverages = coverage;
  for (let pixel = 0; pixel < size * size; pixel++) {
    const value = color.slice(0, channels);
    for (const slot of order) {
      const alpha = coverage[slot]![pixel]!;
      for (let channel = 0; channel < channels; channel++) {
        const level = color[(slot + 1) * channels + channel]!;
        value[channel] = alpha === 1 ? level : value[channel]! + alpha * (level - value[channel]!);
      }
    }
    image.push(...value.map((v) => {
      const clamped = new Uint8ClampedArray([v]);
      return clamped[0]!;
    }));
    let left = 1, best = 0, owner = 0;
    for (const slot of [...order].reverse()) {
      const alpha = coverage[slot]![pixel]!;
      if (alpha * left > best) {
        best = alpha * left;
        owner = slot + 1;
      }
      left *= 1 - alpha;
    }
    owners.push(best >= left && owner !== 0 ? owner : 0);
  }
  return { image, owners, coverages, order, color, channels };
}

const PRESETS = ["binarized", "colored_on_grayscale", "colored_on_colored"] as const;

Deno.test("scenes obey their rules: masks partition, colours, amodal, occlusion, padding", () => {
  const cases: ScenesOptions[] = [
    ...PRESETS.map((preset) => ({ preset, imageSize: 32 })),
    { preset: "colored_on_colored", imageSize: 64 },
    { preset: "colored_on_grayscale", imageSize: 16, minObjects: 0, maxObjects: 6, maxK: 8 },
    { imageSize: 48, minObjects: 3, maxObjects: 3, shapes: ["heart", "ellipse"] },
  ];
  for (const options of cases) {
    const config = resolveScenesOptions(options);
    const size = config.imageSize, pixels = size * size, slots = config.maxK;
    const count = 60;
    const chunk = render(options, 11, 1000, count);
    let fullyCovered = 0, partlyOwned = 0;
    for (let sample = 0; sample < count; sample++) {
      const label = `${JSON.stringify(options)} scene ${1000 + sample}`;
      const numObjects = sampleOf(chunk, "num_objects", sample)[0]!;
      assert.ok(numObjects >= config.minObjects && numObjects <= config.maxObjects, label);
      const masks = sampleOf(chunk, "masks", sample);
      const amodal = sampleOf(chunk, "amodal_masks", sample);
      const image = sampleOf(chunk, "image", sample);
      const shape = sampleOf(chunk, "shape", sample);
      const visibility = sampleOf(chunk, "visibility", sample);
      const occlusion = sampleOf(chunk, "occlusion", sample);
      const depth = sampleOf(chunk, "depth_order", sample);
      const ref = reference(chunk, sample, size);
      // The image and the masks equal the independent reference, byte for byte.
      assert.deepEqual(image, ref.image, `${label}: image`);
      const visible = new Array(slots + 1).fill(0), area = new Array(slots).fill(0);
      for (let pixel = 0; pixel < pixels; pixel++) {
        const on: number[] = [];
        for (let entity = 0; entity <= slots; entity++) {
          const value = masks[entity * pixels + pixel]!;
          assert.ok(value === 0 || value === 255, `${label}: mask value ${value}`);
          if (value === 255) on.push(entity);
        }
        assert.equal(on.length, 1, `${label}: pixel ${pixel} has masks ${on}`);
        const owner = on[0]!;
        assert.equal(owner, ref.owners[pixel], `${label}: owner of pixel ${pixel}`);
        assert.ok(owner <= numObjects, `${label}: padding entity ${owner} owns a pixel`);
        visible[owner]++;
        for (let slot = 0; slot < slots; slot++) {
          const value = amodal[slot * pixels + pixel]!;
          assert.ok(value === 0 || value === 255);
          if (value === 255) area[slot]++;
          if (slot >= numObjects) assert.equal(value, 0, `${label}: padding amodal`);
          else {
            // Where it would win alone (coverage at least 1/2), or where it wins.
            const alone = ref.coverages[slot]![pixel]! >= 0.5 || ref.owners[pixel] === slot + 1;
            assert.equal(value, alone ? 255 : 0, `${label}: amodal of slot ${slot} at ${pixel}`);
          }
        }
        // Amodal contains visible.
        if (owner > 0) assert.equal(amodal[(owner - 1) * pixels + pixel], 255, `${label}: amodal`);
        // A pixel its owner covers fully, with nothing in front touching it, has its colour.
        if (owner > 0) {
          const rank = ref.order.indexOf(owner - 1);
          const inFront = ref.order.slice(rank + 1);
          if (
            ref.coverages[owner - 1]![pixel] === 1 &&
            inFront.every((slot) => ref.coverages[slot]![pixel] === 0)
          ) {
            fullyCovered++;
            for (let channel = 0; channel < ref.channels; channel++) {
              assert.equal(
                image[pixel * ref.channels + channel],
                ref.color[owner * ref.channels + channel],
                `${label}: colour of pixel ${pixel}`,
              );
            }
          } else partlyOwned++;
        }
      }
      for (let slot = 0; slot < slots; slot++) {
        const expected = slot >= numObjects
          ? 0
          : area[slot] === 0
          ? 1
          : Math.fround(1 - visible[slot + 1] / area[slot]);
        assert.equal(occlusion[slot], expected, `${label}: occlusion of slot ${slot}`);
        assert.ok(occlusion[slot]! >= 0 && occlusion[slot]! <= 1);
        assert.equal(visibility[slot + 1], slot < numObjects ? 1 : 0);
        if (slot >= numObjects) {
          assert.equal(shape[slot], 0);
          assert.equal(depth[slot], 0);
          for (const name of ["scale", "orientation", "x", "y"]) {
            assert.equal(sampleOf(chunk, name, sample)[slot], 0, `${label}: padding ${name}`);
          }
        } else {
          assert.ok(config.shapes.includes(shape[slot]!), `${label}: shape ${shape[slot]}`);
        }
      }
      assert.equal(visibility[0], 1);
      assert.deepEqual(
        depth.slice(0, numObjects).sort((a, b) => a - b),
        Array.from({ length: numObjects }, (_, rank) => rank + 1),
      );
      const color = sampleOf(chunk, "color", sample);
      for (let entity = numObjects + 1; entity <= slots; entity++) {
        for (let channel = 0; channel < config.channels; channel++) {
          assert.equal(color[entity * config.channels + channel], 0);
        }
      }
      if (config.colors === "white_on_black") {
        assert.deepEqual(color.slice(0, numObjects + 1), [0, ...new Array(numObjects).fill(1)]);
      }
    }
    assert.ok(fullyCovered > 0 && partlyOwned > 0, JSON.stringify(options));
  }
});

Deno.test("objects are occluded in some scenes and the occluded share is what is hidden", () => {
  const chunk = render({ preset: "colored_on_grayscale", imageSize: 64 }, 3, 0, 200);
  const occlusion = chunk.byName.get("occlusion")!.view as Float32Array;
  const partly = occlusion.filter((value) => value > 0 && value < 1).length;
  assert.ok(partly > 20, `only ${partly} partly occluded objects`);
});

Deno.test("a scene depends only on (seed, index): twice, any chunking, any K", () => {
  for (const preset of PRESETS) {
    const whole = render({ preset, imageSize: 32 }, 5, 40, 12);
    const again = render({ preset, imageSize: 32 }, 5, 40, 12);
    // One renderer, scenes in another order and at other positions of a reused chunk.
    const renderer = new SceneRenderer({ preset, imageSize: 32 });
    const small = allocateChunk(renderer.schema, 3);
    for (let index = 51; index >= 40; index--) {
      renderer.renderScene(5, index, { chunk: small, sample: index % 3 });
      assert.deepEqual(
        sampleBytes(small, index % 3),
        sampleBytes(whole, index - 40),
        `${preset} scene ${index}`,
      );
      assert.deepEqual(sampleBytes(again, index - 40), sampleBytes(whole, index - 40));
    }
    // More padding slots change no image and no object.
    const padded = render({ preset, imageSize: 32, maxK: 7 }, 5, 40, 12);
    for (let sample = 0; sample < 12; sample++) {
      assert.deepEqual(sampleOf(padded, "image", sample), sampleOf(whole, "image", sample));
      const numObjects = sampleOf(whole, "num_objects", sample)[0]!;
      for (const name of ["shape", "x", "y", "scale", "orientation", "depth_order", "occlusion"]) {
        assert.deepEqual(
          sampleOf(padded, name, sample).slice(0, numObjects),
          sampleOf(whole, name, sample).slice(0, numObjects),
        );
      }
    }
    const otherSeed = render({ preset, imageSize: 32 }, 6, 40, 12);
    assert.notDeepEqual(sampleOf(otherSeed, "image", 0), sampleOf(whole, "image", 0));
  }
});

Deno.test("render writes every byte of its sample: stale chunk contents change nothing", () => {
  for (const preset of PRESETS) {
    const fresh = render({ preset, imageSize: 32 }, 2, 70, 6);
    const renderer = new SceneRenderer({ preset, imageSize: 32 });
    const stale = allocateChunk(renderer.schema, 6);
    for (const array of stale.arrays) new Uint8Array(array.view.buffer).fill(0xab);
    renderer.renderChunk(2, 70, stale);
    for (let sample = 0; sample < 6; sample++) {
      assert.deepEqual(sampleBytes(stale, sample), sampleBytes(fresh, sample), preset);
    }
  }
});

Deno.test("without overlap, no pixel is touched by two objects", () => {
  const options = { preset: "colored_on_colored", imageSize: 32, overlap: false };
  const count = 80;
  const chunk = render(options, 9, 0, count);
  const size = 32, pixels = size * size;
  let objects = 0;
  for (let sample = 0; sample < count; sample++) {
    const numObjects = sampleOf(chunk, "num_objects", sample)[0]!;
    objects += numObjects;
    const amodal = sampleOf(chunk, "amodal_masks", sample);
    const ref = reference(chunk, sample, size);
    for (let pixel = 0; pixel < pixels; pixel++) {
      let owners = 0, touching = 0;
      for (let slot = 0; slot < numObjects; slot++) {
        if (amodal[slot * pixels + pixel] === 255) owners++;
        if (ref.coverages[slot]![pixel]! > 0) touching++;
      }
      assert.ok(owners <= 1, `scene ${sample} pixel ${pixel}: ${owners} amodal masks`);
      assert.ok(touching <= 1, `scene ${sample} pixel ${pixel}: ${touching} objects`);
    }
    const occlusion = sampleOf(chunk, "occlusion", sample);
    assert.deepEqual(occlusion, new Array(4).fill(0), `scene ${sample}: occlusion`);
  }
  assert.ok(objects > 150);
});

Deno.test("without overlap, more objects than the documented limit are refused up front", () => {
  assert.throws(
    () => resolveScenesOptions({ maxObjects: MAX_OBJECTS_WITHOUT_OVERLAP + 1, overlap: false }),
    new RangeError(
      `Cannot use maxObjects ${MAX_OBJECTS_WITHOUT_OVERLAP + 1} for scenes without overlap: ` +
        `expected an integer from 1 to ${MAX_OBJECTS_WITHOUT_OVERLAP} when overlap is false`,
    ),
  );
  // At the limit, with the largest shape at the smallest size, every scene is placed.
  const options = {
    imageSize: 16,
    minObjects: MAX_OBJECTS_WITHOUT_OVERLAP,
    maxObjects: MAX_OBJECTS_WITHOUT_OVERLAP,
    shapes: ["square"],
    overlap: false,
  };
  const chunk = render(options, 3, 0, 300);
  const counts = chunk.byName.get("num_objects")!.view;
  assert.ok(counts.every((count) => count === MAX_OBJECTS_WITHOUT_OVERLAP));
});

Deno.test("without overlap, a scene that fails one arrangement is drawn again, keeping its colours", () => {
  // About a third of these scenes have an object that fails all its attempts in the first
  // arrangement (before arrangements, drawing them threw); all are drawn, with the count and
  // colours of the first arrangement's draws.
  const options = {
    imageSize: 16,
    minObjects: 6,
    maxObjects: 6,
    shapes: ["square"],
    overlap: false,
  };
  const renderer = new SceneRenderer(options);
  const withOverlap = new SceneRenderer({ ...options, overlap: true });
  let retried = 0;
  for (let index = 0; index < 200; index++) {
    const apart = renderer.draw(0, index, createSceneFactors(6, 3));
    const together = withOverlap.draw(0, index, createSceneFactors(6, 3));
    assert.deepEqual(apart.level, together.level, `scene ${index}: colours`);
    if (apart.x.some((x, slot) => x !== together.x[slot])) retried++;
  }
  assert.ok(retried > 0);
});

Deno.test("bad options give one precise error each", () => {
  const cases: [unknown, typeof TypeError, string][] = [
    [null, TypeError, "Cannot configure scenes with null: expected an object of options"],
    [
      { objects: 3 },
      TypeError,
      'Cannot configure scenes with option "objects": expected preset, imageSize, minObjects, ' +
      "maxObjects, maxK, shapes, overlap",
    ],
    [
      { preset: "clevr" },
      RangeError,
      'Cannot use scenes preset "clevr": expected binarized, colored_on_grayscale or ' +
      "colored_on_colored",
    ],
    [
      { preset: "toString" },
      RangeError,
      'Cannot use scenes preset "toString": expected binarized, colored_on_grayscale or ' +
      "colored_on_colored",
    ],
    [
      { imageSize: 8 },
      RangeError,
      "Cannot use imageSize 8 for scenes: expected an integer from 16 to 256",
    ],
    [
      { imageSize: 64.5 },
      RangeError,
      "Cannot use imageSize 64.5 for scenes: expected an integer from 16 to 256",
    ],
    [
      { maxObjects: 11 },
      RangeError,
      "Cannot use maxObjects 11 for scenes: expected an integer from 1 to 10",
    ],
    [
      { maxObjects: 0 },
      RangeError,
      "Cannot use maxObjects 0 for scenes: expected an integer from 1 to 10",
    ],
    [
      { minObjects: 5 },
      RangeError,
      "Cannot use minObjects 5 for scenes: expected an integer from 0 to 4",
    ],
    [
      { minObjects: 4, maxObjects: 3 },
      RangeError,
      "Cannot use minObjects 4 for scenes: expected an integer from 0 to maxObjects (3), so " +
      "from 0 to 3",
    ],
    [
      { minObjects: -1 },
      RangeError,
      "Cannot use minObjects -1 for scenes: expected an integer from 0 to 4",
    ],
    [
      { maxK: 11 },
      RangeError,
      "Cannot use maxK 11 for scenes: expected an integer from maxObjects (4) to 10",
    ],
    [
      { maxObjects: 5, maxK: 4 },
      RangeError,
      "Cannot use maxK 4 for scenes: expected an integer from maxObjects (5) to 10",
    ],
    [
      { shapes: [] },
      TypeError,
      "Cannot use shapes [] for scenes: expected a non-empty list of square, ellipse, heart",
    ],
    [
      { shapes: "heart" },
      TypeError,
      'Cannot use shapes "heart" for scenes: expected a non-empty list of square, ellipse, heart',
    ],
    [
      { shapes: ["heart", "star"] },
      RangeError,
      'Cannot use shape "star" for scenes: expected square, ellipse, heart',
    ],
    [
      { shapes: ["heart", "heart"] },
      RangeError,
      'Cannot use shape "heart" twice for scenes: expected each shape at most once',
    ],
    [
      { overlap: "no" },
      TypeError,
      'Cannot use overlap "no" for scenes: expected true or false',
    ],
  ];
  for (const [options, kind, message] of cases) {
    assert.throws(
      () => new SceneRenderer(options as ScenesOptions),
      (error: unknown) => {
        assert.ok(error instanceof kind, `${JSON.stringify(options)}: ${error}`);
        assert.equal((error as Error).message, message);
        return true;
      },
    );
  }
});

Deno.test("render rejects factors it cannot draw, naming the field", () => {
  const renderer = new SceneRenderer({ imageSize: 16 });
  const chunk = allocateChunk(renderer.schema, 1);
  const good = () => renderer.draw(1, 2, createSceneFactors(4, 3));
  /** Keeps only the first object: a valid scene of 1 object. */
  const oneObject = (f: SceneFactors) => {
    f.numObjects = 1;
    for (const values of [f.shape, f.depthOrder, f.scale, f.orientation, f.x, f.y]) {
      values.fill(0, 1);
    }
    f.depthOrder[0] = 1;
    f.level.fill(0, 6);
  };
  const cases: [(factors: SceneFactors) => void, string | RegExp][] = [
    [
      (f) => f.numObjects = 5,
      "Cannot render a scene of 5 objects: expected an integer from 0 to 4",
    ],
    [(f) => {
      f.numObjects = 1;
      f.shape.set([4, 0, 0, 0]);
      f.depthOrder.set([1, 0, 0, 0]);
    }, "Cannot render shape 4 in slot 0 of a scene of 1 objects: expected 1 to 3"],
    [(f) => {
      f.numObjects = 1;
      f.shape.set([1, 2, 0, 0]);
      f.depthOrder.set([1, 0, 0, 0]);
    }, "Cannot render shape 2 in slot 1 of a scene of 1 objects: expected 0 for padding"],
    [
      (f) => {
        f.numObjects = 2;
        f.shape.set([1, 2, 0, 0]);
        f.depthOrder.set([1, 1, 0, 0]);
      },
      "Cannot render depth_order 1 in slot 1 of a scene of 2 objects: expected each of 1 to 2 once",
    ],
    [
      (f) => f.scale[0] = 0.25,
      /^Cannot render scale 0.25 in slot 0 of a scene of \d objects: expected 0.5 to 1$/,
    ],
    [
      (f) => f.orientation[0] = 2 * Math.PI,
      /^Cannot render orientation 6.2831854820251465 in slot 0 of a scene of \d objects: expected 0 to 2π \(open\)$/,
    ],
    [
      (f) => f.x[0] = NaN,
      /^Cannot render x NaN in slot 0 of a scene of \d objects: expected 0 to 1$/,
    ],
    [
      (f) => {
        oneObject(f);
        f.y[3] = 0.5;
      },
      /^Cannot render y 0.5 in slot 3 of a scene of \d objects: expected 0 for padding$/,
    ],
    [(f) => {
      oneObject(f);
      f.level[14] = 9;
    }, "Cannot render colour level 9 of padding entity 4: expected 0"],
  ];
  for (const [spoil, message] of cases) {
    const factors = good();
    spoil(factors);
    assert.throws(
      () => renderer.render(factors, chunk, 0),
      (error: unknown) => {
        assert.ok(error instanceof RangeError, String(error));
        if (typeof message === "string") assert.equal(error.message, message);
        else assert.match(error.message, message);
        return true;
      },
    );
  }
  assert.throws(
    () => renderer.render(good(), chunk, 1),
    new RangeError("Cannot render sample 1 of a chunk of 1: expected 0 to 0"),
  );
  const other = allocateChunk(new SceneRenderer({ imageSize: 32 }).schema, 1);
  assert.throws(
    () => renderer.render(good(), other, 0),
    new TypeError(
      'Cannot render scenes into a chunk whose array "image" is uint8 [32, 32, 3]: expected ' +
        "uint8 [16, 16, 3]",
    ),
  );
});

/** SHA-256 over every array of scenes `start` to `start + count - 1`, in schema order. */
function digest(options: ScenesOptions, seed: number, start: number, count: number): string {
  const chunk = render(options, seed, start, count);
  const hash = createHash("sha256");
  for (const array of chunk.arrays) {
    hash.update(new Uint8Array(array.view.buffer, array.view.byteOffset, array.view.byteLength));
  }
  return hash.digest("hex");
}

Deno.test("golden: the bytes of a few scenes of each preset never change", () => {
  const golden: [ScenesOptions, string][] = [
    [{ preset: "binarized" }, "5ed2dbf19180d3ffee0c16b8647dc6c3ef53ff17480cf9f7f70fd1c7d4f6d249"],
    [
      { preset: "colored_on_grayscale" },
      "c1cc208f1143ea9b2dc7d02d7adbd182ec4ac308e16960273b83e5579486b70b",
    ],
    [
      { preset: "colored_on_colored" },
      "a71b0812b59811aec71b32c84f7c0542adcf2f1461fce90d47c718ba12607d1d",
    ],
    [
      { preset: "colored_on_colored", imageSize: 32, overlap: false, maxK: 6 },
      "242964934e2b512508c6b8ac925040ba32c8dfbbabf9fe831544667982182788",
    ],
  ];
  for (const [options, expected] of golden) {
    assert.equal(digest(options, 42, 123456, 8), expected, JSON.stringify(options));
  }
});
