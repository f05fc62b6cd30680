/**
 * A thread that spins for the given milliseconds and answers how many rounds of integer work it
 * did: `bench/speed_bench.ts` compares one such thread with two at once, to see how much of a
 * second core the machine gives right now.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (event: MessageEvent<number>) => {
  const end = performance.now() + event.data;
  let rounds = 0;
  let x = 1;
  while (performance.now() < end) {
    for (let i = 0; i < 100_000; i++) x = Math.imul(x, 1664525) + 1013904223 | 0;
    rounds++;
  }
  scope.postMessage({ rounds, x });
};
