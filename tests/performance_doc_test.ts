/**
 * docs/performance.md's figures are generated from a recorded bench run
 * (scripts/performance_doc.ts), never typed by hand: the page must equal what its recorded run
 * gives, and every table of the run must reach the page.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pipeTables } from "../scripts/markdown.ts";
import {
  expectedPage,
  PERFORMANCE_PAGE,
  performanceTables,
  recordedResults,
} from "../scripts/performance_doc.ts";
import { REPO_ROOT } from "./support/cli.ts";

Deno.test("docs/performance.md is what its recorded bench run gives", async () => {
  const page = await Deno.readTextFile(join(REPO_ROOT, PERFORMANCE_PAGE));
  const results = recordedResults(page);
  assert.ok(results !== undefined, `${PERFORMANCE_PAGE} names no recorded run`);
  assert.equal(
    page,
    await expectedPage(results),
    `${PERFORMANCE_PAGE} differs from ${results}: run deno task docs:performance ${results}`,
  );
});

Deno.test("every table of the recorded run, with every row, is on the page", async () => {
  const page = await Deno.readTextFile(join(REPO_ROOT, PERFORMANCE_PAGE));
  const results = recordedResults(page) ?? "";
  const recorded = pipeTables(await Deno.readTextFile(join(REPO_ROOT, results)));
  const shown = pipeTables(page);
  assert.ok(recorded.length > 0);
  for (const table of recorded) {
    const match = shown.find((candidate) =>
      candidate.header.join("|") === table.header.join("|") &&
      JSON.stringify(candidate.rows) === JSON.stringify(table.rows)
    );
    assert.ok(match !== undefined, `the table "${table.caption}" of ${results} is not on the page`);
  }
});

Deno.test("performanceTables reads a section with or without fences, and names the run", () => {
  const fence = "`".repeat(3);
  const output = "Machine: 2 cores\nDate: 2026-12-01T00:00:00Z\n\nSpeed, 3 rounds:\n" +
    "| images | wall s |\n| --- | --- |\n| 1,000 | 0.1-0.2 |\n\nLargest error: 5%\n";
  const fenced = `# Run\n\nFrom commit 0123abc.\n\n## speed\n\n${fence}\n${output}${fence}\n`;
  const bare = `# Run\n\nFrom commit 0123abc.\n\n## speed\n\n${output}`;
  for (const results of [fenced, bare]) {
    const page = performanceTables(results, "bench/results/x.md");
    assert.match(page, /started 2026-12-01T00:00:00Z, commit `0123abc`, on 2 cores/);
    assert.match(page, /### Speed/);
    assert.match(page, /Speed, 3 rounds:\n\n\| images \| wall s \|/);
    assert.match(page, /\| 1,000 \| 0\.1-0\.2 \|/);
    assert.match(page, /Largest error: 5%/);
    assert.doesNotMatch(page, /Machine:|Date:/);
  }
});
