/**
 * Tasks started a few ahead and awaited in index order: how render threads and renderer
 * processes keep busy while the writer takes their results one by one.
 *
 * @module
 */

/**
 * The results of tasks `0 .. count - 1`, in index order, with up to `ahead` of them under way.
 * Task `index + ahead` starts when the result of task `index` is taken.
 *
 * @param count The number of tasks.
 * @param options `ahead`: tasks under way at once (at least 1); `start`: starts a task;
 *   `signal`: stops before each result.
 * @returns The results, in order. A failed task fails the iteration when its turn comes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inOrder } from "./in_order.ts";
 * const results: number[] = [];
 * const start = (index: number) => new Promise<number>((resolve) => setTimeout(() => resolve(index), 3 - index));
 * for await (const index of inOrder(3, { ahead: 3, start })) results.push(index);
 * assert.deepEqual(results, [0, 1, 2]);
 * ```
 */
export async function* inOrder<T>(
  count: number,
  options: {
    ahead: number;
    start: (index: number) => Promise<T>;
    signal?: AbortSignal | undefined;
  },
): AsyncGenerator<T> {
  const results = new Map<number, Promise<T>>();
  const begin = (index: number) => {
    const result = options.start(index);
    // A signal may fail every task under way at once, while the caller awaits at most one: the
    // others must not count as unhandled rejections, which end the process before its cleanup
    // runs. The caller still sees the failure of the task it awaits.
    result.catch(() => {});
    results.set(index, result);
  };
  let next = 0;
  for (; next < Math.min(options.ahead, count); next++) begin(next);
  for (let index = 0; index < count; index++) {
    options.signal?.throwIfAborted();
    const result = await results.get(index)!;
    results.delete(index);
    if (next < count) begin(next++);
    yield result;
  }
}
