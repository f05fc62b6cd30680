/**
 * A thread that works for the given milliseconds and answers how many rounds it did:
 * `bench/speed_bench.ts` compares one such thread with two at once, to see how much of a
 * second core the machine gives right now. Two kinds of work: integer arithmetic in
 * registers, and rendering 16x16 shapes images (which also leans on the caches and memory,
 * which two cores of a virtual machine may share).
 *
 * @module
 */

import { generators } from "../src/generators/registry.ts";
import { renderImageBytes } from "../src/pipeline/render.ts";

/** The request: how long, and which work. */
export interface SpinRequest {
  /** Milliseconds to work. */
  milliseconds: number;
  /** `integer`: arithmetic in registers; `render`: 256 16x16 images per round. */
  work: "integer" | "render";
}

const plan = {
  generator: generators.get("shapes").create({ imageSize: 16 }),
  seed: 1,
  dtype: "uint8" as const,
};
const out = new Uint8Array(256 * 256);

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (event: MessageEvent<SpinRequest>) => {
  const end = performance.now() + event.data.milliseconds;
  let rounds = 0;
  let x = 1;
  while (performance.now() < end) {
    if (event.data.work === "integer") {
      for (let i = 0; i < 100_000; i++) x = Math.imul(x, 1664525) + 1013904223 | 0;
    } else renderImageBytes(plan, { start: (rounds % 1000) * 256, count: 256, out });
    rounds++;
  }
  scope.postMessage({ rounds, x });
};
