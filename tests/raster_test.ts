import assert from "node:assert/strict";
import {
  coverageBytes,
  type Ellipse,
  hypot,
  polygon,
  Rasterizer,
  sampleOffsets,
  type Shape,
} from "../src/generators/raster.ts";
import { generators } from "../src/generators/registry.ts";
import { sampleChunk } from "../src/pipeline/render.ts";
import { quantize } from "../src/pipeline/quantize.ts";
import { randomSource } from "./support/random.ts";

const SIZES = [4, 16, 64];
const SAMPLES = [1, 2, 3, 4, 5];

function ellipse(cx: number, cy: number, a: number, b: number, angle: number): Ellipse {
  return { kind: "ellipse", cx, cy, a, b, cos: Math.cos(angle), sin: Math.sin(angle) };
}

/** A regular polygon of `corners` corners with circumradius `radius`, as shapes.ts builds it. */
function regular(cx: number, cy: number, radius: number, angle: number, corners: number): number[] {
  const vertices: number[] = [];
  for (let corner = 0; corner < corners; corner++) {
    const theta = angle + (corner * 2 * Math.PI) / corners;
    vertices.push(cx + radius * Math.cos(theta), cy + radius * Math.sin(theta));
  }
  return vertices;
}

interface Case {
  label: string;
  shape: Shape;
  /** The vertices, for polygons (for the full-pixel check). */
  vertices?: number[];
}

/**
 * Shapes of every kind: random ellipses, squares and triangles (thin ones too), rotated, some
 * partly or wholly outside the frame, and some placed on the sample grid, where a sample lies
 * exactly on an edge and the fast path's margins matter most.
 */
function shapesFor(size: number, samples: number, count: number): Case[] {
  const random = randomSource(size * 1000 + samples);
  const coordinate = () => -0.3 * size + 1.6 * size * random();
  // A position on the grid of sample rows/columns, or on a pixel border, or half-way between.
  const onGrid = () => {
    const pixel = Math.floor(random() * size);
    const steps = [0, 0.5, ...sampleOffsets(samples)];
    return pixel + steps[Math.floor(random() * steps.length)]!;
  };
  const cases: Case[] = [];
  for (let index = 0; index < count; index++) {
    const kind = index % 8;
    const radius = (0.02 + 0.6 * random()) * size;
    const angle = 2 * Math.PI * random();
    if (kind === 0) {
      const b = radius * (0.05 + 0.95 * random());
      cases.push({
        label: "ellipse",
        shape: ellipse(coordinate(), coordinate(), radius, b, angle),
      });
    } else if (kind === 1) {
      // Axis-aligned, centre and semi-axes on the sample grid: samples lie exactly on the curve.
      const a = Math.max(1, Math.round(radius * samples)) / samples;
      const b = Math.max(1, Math.round(radius * random() * samples)) / samples;
      const quarter = Math.floor(random() * 4) * (Math.PI / 2);
      cases.push({ label: "ellipse on grid", shape: ellipse(onGrid(), onGrid(), a, b, quarter) });
    } else if (kind === 2) {
      const vertices = regular(coordinate(), coordinate(), radius, angle, 4);
      cases.push({ label: "square", shape: polygon(vertices), vertices });
    } else if (kind === 3) {
      // Axis-aligned square with its corners on the sample grid or pixel borders.
      const x0 = onGrid(), y0 = onGrid(), x1 = onGrid(), y1 = onGrid();
      const [left, right] = x0 < x1 ? [x0, x1] : [x1, x0 + 1 / samples];
      const [top, bottom] = y0 < y1 ? [y0, y1] : [y1, y0 + 1 / samples];
      const vertices = [left, top, right, top, right, bottom, left, bottom];
      cases.push({ label: "square on grid", shape: polygon(vertices), vertices });
    } else if (kind === 4) {
      const vertices = regular(coordinate(), coordinate(), radius, angle, 3);
      cases.push({ label: "triangle", shape: polygon(vertices), vertices });
    } else if (kind === 5) {
      // Thin triangle: the third vertex close to the line through the first two.
      const x0 = coordinate(), y0 = coordinate(), x1 = coordinate(), y1 = coordinate();
      const t = random(), offset = (random() - 0.5) * 0.3;
      const length = Math.hypot(x1 - x0, y1 - y0) || 1;
      const vertices = [
        x0,
        y0,
        x1,
        y1,
        x0 + t * (x1 - x0) - (offset * (y1 - y0)) / length,
        y0 + t * (y1 - y0) + (offset * (x1 - x0)) / length,
      ];
      cases.push({ label: "thin triangle", shape: polygon(vertices), vertices });
    } else if (kind === 6) {
      // Triangle with vertices on the sample grid, in either winding.
      const vertices = [onGrid(), onGrid(), onGrid(), onGrid(), onGrid(), onGrid()];
      if (
        Math.abs(
          (vertices[2]! - vertices[0]!) * (vertices[5]! - vertices[1]!) -
            (vertices[4]! - vertices[0]!) * (vertices[3]! - vertices[1]!),
        ) < 1e-6
      ) {
        index--;
        continue;
      }
      cases.push({ label: "triangle on grid", shape: polygon(vertices), vertices });
    } else {
      // Random convex triangle of any size, anywhere, counter-clockwise or clockwise.
      const vertices = [
        coordinate(),
        coordinate(),
        coordinate(),
        coordinate(),
        coordinate(),
        coordinate(),
      ];
      cases.push({ label: "random triangle", shape: polygon(vertices), vertices });
    }
  }
  return cases;
}

function insideConvex(vertices: number[], x: number, y: number, margin: number): boolean {
  const count = vertices.length / 2;
  let sign = 0;
  for (let index = 0; index < count; index++) {
    const next = (index + 1) % count;
    const x0 = vertices[2 * index]!, y0 = vertices[2 * index + 1]!;
    const x1 = vertices[2 * next]!, y1 = vertices[2 * next + 1]!;
    const length = Math.hypot(x1 - x0, y1 - y0);
    const cross = ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) / length;
    if (Math.abs(cross) <= margin) return false;
    if (sign === 0) sign = Math.sign(cross);
    else if (Math.sign(cross) !== sign) return false;
  }
  return true;
}

function insideEllipse(shape: Ellipse, x: number, y: number, margin: number): boolean {
  const dx = x - shape.cx, dy = y - shape.cy;
  const u = (shape.cos * dx + shape.sin * dy) / shape.a;
  const v = (shape.cos * dy - shape.sin * dx) / shape.b;
  return u * u + v * v < 1 - margin;
}

Deno.test("Rasterizer.fill equals fillReference byte for byte on many shapes", () => {
  let compared = 0, partial = 0, full = 0;
  for (const size of SIZES) {
    for (const samples of SAMPLES) {
      const rasterizer = new Rasterizer({ imageSize: size, samples });
      const area = size * size;
      // Images sit at an offset inside a larger buffer, with sentinels either side.
      const offset = 7;
      for (const { label, shape } of shapesFor(size, samples, size === 64 ? 48 : 160)) {
        const fast = new Float64Array(area + 2 * offset).fill(-1);
        const reference = new Float64Array(area + 2 * offset).fill(-1);
        fast.fill(0, offset, offset + area);
        reference.fill(0, offset, offset + area);
        rasterizer.fill(shape, fast, offset);
        rasterizer.fillReference(shape, reference, offset);
        if (!fast.every((value, index) => Object.is(value, reference[index]))) {
          const index = fast.findIndex((value, index) => !Object.is(value, reference[index]));
          const pixel = index - offset;
          assert.fail(
            `${label} at size ${size}, samples ${samples}: pixel (${pixel % size}, ` +
              `${Math.floor(pixel / size)}) is ${fast[index]} but the reference says ` +
              `${reference[index]}; shape ${JSON.stringify({ ...shape, edges: undefined })}`,
          );
        }
        compared++;
        for (let index = offset; index < offset + area; index++) {
          if (reference[index] === 1) full++;
          else if (reference[index]! > 0) partial++;
        }
      }
    }
  }
  // The shapes must exercise both the sampled boundary and the filled interior.
  assert.ok(compared > 1500 && partial > 10000 && full > 10000, `${compared} ${partial} ${full}`);
});

Deno.test("Rasterizer.fillBytes equals the reference's counts through the byte table", () => {
  let compared = 0;
  for (const size of SIZES) {
    for (const samples of SAMPLES) {
      const rasterizer = new Rasterizer({ imageSize: size, samples });
      const area = size * size, total = samples * samples;
      // A table that tells every count apart (and an intensity whose bytes do too).
      const identity = Uint8Array.from({ length: total + 1 }, (_, count) => count);
      const bytes = coverageBytes(samples, 1);
      const offset = 5;
      for (const { label, shape } of shapesFor(size, samples, size === 64 ? 48 : 160)) {
        const counts = new Uint8Array(area + 2 * offset).fill(200);
        rasterizer.fillBytes(shape, counts, offset, identity);
        const reference = new Float64Array(area);
        rasterizer.fillReference(shape, reference, 0);
        const quantized = new Uint8Array(area + 2 * offset).fill(200);
        quantize(reference, quantized.subarray(offset, offset + area));
        for (let index = 0; index < area; index++) {
          const expected = Math.round(reference[index]! * total);
          if (counts[offset + index] !== expected) {
            assert.fail(
              `${label} at size ${size}, samples ${samples}: pixel (${index % size}, ` +
                `${Math.floor(index / size)}) has ${counts[offset + index]} samples inside ` +
                `but the reference counts ${expected}; shape ${
                  JSON.stringify({ ...shape, edges: undefined })
                }`,
            );
          }
        }
        // Bytes outside the image are untouched; through the real table, bytes are quantized.
        assert.ok(counts.subarray(0, offset).every((value) => value === 200), label);
        assert.ok(counts.subarray(offset + area).every((value) => value === 200), label);
        const image = new Uint8Array(area + 2 * offset).fill(200);
        rasterizer.fillBytes(shape, image, offset, bytes);
        assert.deepEqual(image, quantized, `${label} at size ${size}, samples ${samples}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 1500, String(compared));
});

Deno.test("Rasterizer.fillBytes equals the reference on 20,000 more shapes of 16x16", () => {
  // fillBytes decides most sample rows from estimates and tests exactly only near a boundary:
  // many shapes, on the sample grid and off it, with one rasterizer (its scratch reused).
  for (const samples of [3, 4]) {
    const rasterizer = new Rasterizer({ imageSize: 16, samples });
    const identity = Uint8Array.from({ length: samples * samples + 1 }, (_, count) => count);
    const counts = new Uint8Array(256), reference = new Float64Array(256);
    for (const { label, shape } of shapesFor(16, samples, 10_000)) {
      rasterizer.fillBytes(shape, counts, 0, identity);
      rasterizer.fillReference(shape, reference, 0);
      const index = counts.findIndex((count, index) =>
        count !== Math.round(reference[index]! * samples * samples)
      );
      assert.equal(
        index,
        -1,
        `${label}, samples ${samples}: pixel ${index}; shape ${
          JSON.stringify({ ...shape, edges: undefined })
        }`,
      );
    }
  }
});

Deno.test("the shapes generator's bytes are its quantized floats, pixel for pixel", () => {
  for (const size of [4, 16, 64, 256]) {
    const generator = generators.get("shapes").create({ imageSize: size });
    const count = size === 256 ? 40 : size === 64 ? 400 : 4000;
    const { labels, latents } = sampleChunk(generator, 7, { start: 0, count });
    const area = size * size;
    const bytes = new Uint8Array(count * area).fill(99);
    const floats = new Float64Array(count * area);
    for (let image = 0; image < count; image++) {
      generator.renderBytes!(labels[image]!, latents, image * 4, bytes, image * area);
      generator.render(labels[image]!, latents, image * 4, floats, image * area);
    }
    assert.deepEqual(bytes, quantize(floats), `size ${size}`);
  }
});

Deno.test("the shapes generator renders what fillReference gives for its own shapes", () => {
  for (const size of [4, 16, 64]) {
    const generator = generators.get("shapes").create({ imageSize: size });
    // The family's geometry, public on its class though not on the ImageGenerator interface.
    const shapeOf = (generator as unknown as {
      shape(label: number, latents: Float32Array, offset: number): Shape;
    }).shape.bind(generator);
    const rasterizer = new Rasterizer({ imageSize: size, samples: 4 });
    const count = size === 64 ? 100 : 400;
    const { labels, latents } = sampleChunk(generator, 42, { start: 0, count });
    for (let image = 0; image < count; image++) {
      const rendered = new Float64Array(size * size);
      generator.render(labels[image]!, latents, image * 4, rendered, 0);
      const reference = new Float64Array(size * size);
      rasterizer.fillReference(shapeOf(labels[image]!, latents, image * 4), reference, 0);
      assert.deepEqual(rendered, reference, `image ${image} at size ${size}`);
      assert.ok(rendered.some((value) => value === 1) || size === 4, `image ${image} has a core`);
    }
  }
});

Deno.test("Rasterizer.fill leaves the buffer outside its image untouched", () => {
  const rasterizer = new Rasterizer({ imageSize: 4, samples: 4 });
  // A shape larger than the frame: every pixel of the image is covered.
  const out = new Float64Array(3 * 16).fill(0.25);
  out.fill(0, 16, 32);
  rasterizer.fill(polygon([-10, -10, 20, -10, 20, 20, -10, 20]), out, 16);
  assert.deepEqual(Array.from(out.subarray(0, 16)), Array(16).fill(0.25));
  assert.deepEqual(Array.from(out.subarray(16, 32)), Array(16).fill(1));
  assert.deepEqual(Array.from(out.subarray(32)), Array(16).fill(0.25));
});

Deno.test("pixel values are multiples of 1/samples² and fully covered pixels are exactly 1", () => {
  for (const size of SIZES) {
    for (const samples of SAMPLES) {
      const rasterizer = new Rasterizer({ imageSize: size, samples });
      const total = samples * samples;
      const allowed = new Set(Array.from({ length: total + 1 }, (_, count) => count / total));
      for (const { label, shape, vertices } of shapesFor(size, samples, 40)) {
        const image = new Float64Array(size * size);
        rasterizer.fill(shape, image, 0);
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const value = image[y * size + x]!;
            assert.ok(allowed.has(value), `${label}: ${value} is no multiple of 1/${total}`);
            // A convex shape holding the pixel's four corners holds the whole pixel.
            const corners = [[x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]] as const;
            const covered = corners.every(([cornerX, cornerY]) =>
              vertices === undefined
                ? insideEllipse(shape as Ellipse, cornerX, cornerY, 1e-9)
                : insideConvex(vertices, cornerX, cornerY, 1e-9)
            );
            if (covered) assert.equal(value, 1, `${label}: pixel (${x}, ${y}) is covered`);
          }
        }
      }
    }
  }
});

Deno.test("pixels on the sample grid: exact coverage of aligned squares", () => {
  // [1, 3) x [1, 3): four full pixels, nothing else.
  for (const samples of SAMPLES) {
    const image = new Float64Array(16);
    new Rasterizer({ imageSize: 4, samples }).fill(polygon([1, 1, 3, 1, 3, 3, 1, 3]), image, 0);
    assert.deepEqual(Array.from(image), [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  }
  // [1, 2.5] x [1, 2]: pixel (2, 1) holds the left half of its sample columns.
  const half = new Float64Array(16);
  new Rasterizer({ imageSize: 4, samples: 4 }).fill(polygon([1, 1, 2.5, 1, 2.5, 2, 1, 2]), half, 0);
  assert.deepEqual(Array.from(half.subarray(4, 8)), [0, 1, 0.5, 0]);
  // With one sample at the centre, an edge through the centre counts it inside (<=).
  const centre = new Float64Array(16);
  new Rasterizer({ imageSize: 4, samples: 1 }).fill(
    polygon([1, 1, 2.5, 1, 2.5, 2, 1, 2]),
    centre,
    0,
  );
  const reference = new Float64Array(16);
  new Rasterizer({ imageSize: 4, samples: 1 }).fillReference(
    polygon([1, 1, 2.5, 1, 2.5, 2, 1, 2]),
    reference,
    0,
  );
  assert.deepEqual(centre, reference);
  assert.deepEqual(Array.from(centre.subarray(4, 8)), [0, 1, 1, 0]);
});

Deno.test("the filled mass approaches the shape's area", () => {
  const size = 64;
  const rasterizer = new Rasterizer({ imageSize: size, samples: 4 });
  const random = randomSource(99);
  for (let index = 0; index < 30; index++) {
    const radius = 4 + 20 * random();
    const cx = 28 + 8 * random(), cy = 28 + 8 * random(), angle = 2 * Math.PI * random();
    const shapes: [string, Shape, number][] = [
      ["ellipse", ellipse(cx, cy, radius, radius / 2, angle), Math.PI * radius * radius / 2],
      ["square", polygon(regular(cx, cy, radius, angle, 4)), 2 * radius * radius],
      [
        "triangle",
        polygon(regular(cx, cy, radius, angle, 3)),
        (3 * Math.sqrt(3) / 4) * radius ** 2,
      ],
    ];
    for (const [label, shape, area] of shapes) {
      const image = new Float64Array(size * size);
      rasterizer.fill(shape, image, 0);
      const mass = image.reduce((sum, value) => sum + value, 0);
      // Each boundary pixel is off by less than one sample row: 1/4 px per px of perimeter.
      const perimeter = 8 * radius;
      assert.ok(
        Math.abs(mass - area) < perimeter / 4,
        `${label} of radius ${radius}: mass ${mass}, area ${area}`,
      );
    }
  }
});

Deno.test("hypot equals Math.hypot bit for bit", () => {
  const random = randomSource(2024);
  const special = [0, -0, 1, -1, 1e-300, 1e300, Infinity, -Infinity, NaN, 5e-324, 3, 4];
  for (const x of special) {
    for (const y of special) assert.ok(Object.is(hypot(x, y), Math.hypot(x, y)), `${x} ${y}`);
  }
  for (let index = 0; index < 2_000_000; index++) {
    const scale = 10 ** Math.floor(random() * 12 - 6);
    const x = (random() - 0.5) * scale, y = (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6);
    if (!Object.is(hypot(x, y), Math.hypot(x, y))) {
      assert.fail(`hypot(${x}, ${y}) = ${hypot(x, y)}, Math.hypot says ${Math.hypot(x, y)}`);
    }
  }
});

Deno.test("Rasterizer rejects sample counts outside 1 to 16", () => {
  for (const samples of [0, -1, 1.5, 17, NaN]) {
    assert.throws(() => new Rasterizer({ imageSize: 16, samples }), RangeError, String(samples));
  }
  assert.throws(() => polygon([0, 0, 1, 1]), RangeError);
  assert.throws(() => polygon([0, 0, 1, 1, 2]), RangeError);
});
