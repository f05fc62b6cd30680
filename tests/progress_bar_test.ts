import assert from "node:assert/strict";
import {
  formatDuration,
  formatRate,
  ProgressReporter,
  type ProgressReporterOptions,
  type ProgressState,
  renderProgressBar,
} from "../src/report/progress_bar.ts";

/** A 1000-image run at `done`, with the description and unit `dsgen generate` uses. */
function state(done: number, elapsedSeconds: number, extra: Partial<ProgressState> = {}) {
  return { description: "Generating", done, total: 1000, elapsedSeconds, unit: "img", ...extra };
}

/** A reporter collecting its writes, on a clock the test moves by hand. */
function fakeReporter(options: Partial<ProgressReporterOptions> = {}) {
  const writes: string[] = [];
  const clock = { ms: 0 };
  const reporter = new ProgressReporter({
    total: 1000,
    write: (text) => writes.push(text),
    isTerminal: true,
    columns: () => 80,
    now: () => clock.ms,
    ...options,
  });
  return { reporter, writes, clock };
}

Deno.test("formatDuration() prints MM:SS below an hour, truncating fractions", () => {
  assert.equal(formatDuration(0), "00:00");
  assert.equal(formatDuration(59.999), "00:59");
  assert.equal(formatDuration(83), "01:23");
  assert.equal(formatDuration(3599.9), "59:59");
});

Deno.test("formatDuration() prints H:MM:SS from one hour on", () => {
  assert.equal(formatDuration(3600), "1:00:00");
  assert.equal(formatDuration(3723.5), "1:02:03");
  assert.equal(formatDuration(100 * 3600 + 61), "100:01:01");
});

Deno.test("formatDuration() rejects negative and non-finite durations", () => {
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(Number.NaN), RangeError);
  assert.throws(() => formatDuration(Infinity), RangeError);
});

Deno.test("formatRate() uses two decimals below 1000 units per second", () => {
  assert.equal(formatRate(1, "img"), "1.00img/s");
  assert.equal(formatRate(6.598, "img"), "6.60img/s");
  assert.equal(formatRate(66, "img"), "66.00img/s");
  assert.equal(formatRate(999.99, "img"), "999.99img/s");
});

Deno.test("formatRate() switches to one decimal with k, M and G prefixes from 1000", () => {
  assert.equal(formatRate(999.996, "img"), "1.0kimg/s");
  assert.equal(formatRate(231_500, "img"), "231.5kimg/s");
  assert.equal(formatRate(999_960, "img"), "1.0Mimg/s");
  assert.equal(formatRate(1_500_000, "img"), "1.5Mimg/s");
  assert.equal(formatRate(2.25e9, "img"), "2.3Gimg/s");
});

Deno.test("formatRate() inverts rates below 1 to seconds per unit", () => {
  assert.equal(formatRate(0.25, "img"), "4.00s/img");
  assert.equal(formatRate(1 / 90, "img"), "90.00s/img");
  assert.equal(formatRate(1 / 1500, "img"), "1.5ks/img");
});

Deno.test("formatRate() shows ? for an unknown rate and rejects bad ones", () => {
  assert.equal(formatRate(undefined, "img"), "?img/s");
  assert.equal(formatRate(0, "img"), "?img/s");
  assert.throws(() => formatRate(-1, "img"), RangeError);
  assert.throws(() => formatRate(Number.NaN, "img"), RangeError);
});

Deno.test("renderProgressBar() reproduces the issue's 55% line at width 62", () => {
  // The issue's `01:23` elapsed with a `6.60img/s` rate needs a smoothed rate: 547 / 83 s is 6.59.
  // The issue drew `█████▌`; tqdm truncates 547/1000 of 10 columns (43.76 eighths) to `█████▍`.
  const line = renderProgressBar(state(547, 83, { rate: 6.6 }), 62);
  assert.equal(line, "Generating:  55%|█████▍    | 547/1000 [01:23<01:08, 6.60img/s]");
});

Deno.test("renderProgressBar() computes the average rate when none is given", () => {
  const line = renderProgressBar(state(547, 82.9), 62);
  assert.equal(line, "Generating:  55%|█████▍    | 547/1000 [01:22<01:08, 6.60img/s]");
});

Deno.test("renderProgressBar() shows ? for remaining time and rate at 0%", () => {
  assert.equal(
    renderProgressBar(state(0, 0), 53),
    "Generating:   0%|          | 0/1000 [00:00<?, ?img/s]",
  );
  assert.equal(
    renderProgressBar(state(0, 5), 53),
    "Generating:   0%|          | 0/1000 [00:05<?, ?img/s]",
  );
});

Deno.test("renderProgressBar() fills the bar exactly at 100%", () => {
  assert.equal(
    renderProgressBar(state(1000, 151.5), 63),
    "Generating: 100%|██████████| 1000/1000 [02:31<00:00, 6.60img/s]",
  );
  // 999/1000 rounds to 100% but the truncated bar is not full yet.
  assert.equal(
    renderProgressBar(state(999, 151.5), 62),
    "Generating: 100%|█████████▉| 999/1000 [02:31<00:00, 6.59img/s]",
  );
});

Deno.test("renderProgressBar() uses every partial block", () => {
  // Over 80 images a 10-column bar moves one eighth of a column per image.
  const bars = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((done) => {
    const stats = renderProgressBar(state(done, 1, { total: 80 }), 0);
    const line = renderProgressBar(state(done, 1, { total: 80 }), Array.from(stats).length + 12);
    return line.slice(line.indexOf("|") + 1, line.lastIndexOf("|"));
  });
  assert.deepEqual(bars, [
    "          ",
    "▏         ",
    "▎         ",
    "▍         ",
    "▌         ",
    "▋         ",
    "▊         ",
    "▉         ",
    "█         ",
    "█▏        ",
  ]);
});

Deno.test("renderProgressBar() rounds the percentage half to even like Python", () => {
  const percentOf = (done: number, total: number) =>
    renderProgressBar({ description: "", done, total, elapsedSeconds: 0, unit: "img" }, 0)
      .slice(0, 4);
  assert.equal(percentOf(1, 200), "  0%"); // 0.5 -> 0
  assert.equal(percentOf(3, 200), "  2%"); // 1.5 -> 2
  assert.equal(percentOf(5, 200), "  2%"); // 2.5 -> 2
  assert.equal(percentOf(2, 3), " 67%");
});

Deno.test("renderProgressBar() prints hours in elapsed and remaining time", () => {
  assert.equal(
    renderProgressBar(state(250, 3723, { total: 1000 }), 80),
    "Generating:  25%|█████▊                 | 250/1000 [1:02:03<3:06:09, 14.89s/img]",
  );
});

Deno.test("renderProgressBar() prints k and M rates", () => {
  assert.equal(
    renderProgressBar(state(463_000, 2, { total: 1_000_000 }), 80),
    "Generating:  46%|█████████▎          | 463000/1000000 [00:02<00:02, 231.5kimg/s]",
  );
  assert.equal(
    renderProgressBar(state(3_000_000, 2, { total: 4_000_000 }), 80),
    "Generating:  75%|███████████████▊     | 3000000/4000000 [00:02<00:00, 1.5Mimg/s]",
  );
});

Deno.test("renderProgressBar() shows seconds per image below 1 img/s", () => {
  assert.equal(
    renderProgressBar(state(10, 40), 64),
    "Generating:   1%|           | 10/1000 [00:40<1:06:00, 4.00s/img]",
  );
});

Deno.test("renderProgressBar() sizes the bar to the width", () => {
  for (const width of [50, 62, 80, 120, 200]) {
    const line = renderProgressBar(state(547, 83, { rate: 6.6 }), width);
    assert.equal(Array.from(line).length, width, `width ${width}`);
  }
  const wide = renderProgressBar(state(547, 83, { rate: 6.6 }), 72);
  assert.equal(wide, "Generating:  55%|██████████▉         | 547/1000 [01:23<01:08, 6.60img/s]");
});

Deno.test("renderProgressBar() keeps a 1-column bar, then cuts the line, when narrow", () => {
  assert.equal(
    renderProgressBar(state(547, 83, { rate: 6.6 }), 53),
    "Generating:  55%|▌| 547/1000 [01:23<01:08, 6.60img/s]",
  );
  assert.equal(
    renderProgressBar(state(547, 83, { rate: 6.6 }), 30),
    "Generating:  55%|▌| 547/1000 [",
  );
  assert.equal(renderProgressBar(state(547, 83, { rate: 6.6 }), 1), "G");
});

Deno.test("renderProgressBar() leaves out the bar at width 0 and the colon without description", () => {
  assert.equal(
    renderProgressBar(state(547, 83, { rate: 6.6 }), 0),
    "Generating:  55% 547/1000 [01:23<01:08, 6.60img/s]",
  );
  assert.equal(
    renderProgressBar(state(547, 83, { rate: 6.6, description: "" }), 50),
    " 55%|█████▍    | 547/1000 [01:23<01:08, 6.60img/s]",
  );
});

Deno.test("renderProgressBar() rejects impossible states", () => {
  assert.throws(() => renderProgressBar(state(1001, 1), 80), RangeError);
  assert.throws(() => renderProgressBar(state(-1, 1), 80), RangeError);
  assert.throws(() => renderProgressBar(state(1, 1, { total: 0 }), 80), RangeError);
  assert.throws(() => renderProgressBar(state(1, -1), 80), RangeError);
  assert.throws(() => renderProgressBar(state(1, 1, { rate: -2 }), 80), RangeError);
  assert.throws(() => renderProgressBar(state(1, 1), -1), /width -1 is not an integer from 0/);
});

Deno.test("ProgressReporter redraws a terminal at most once per 100 ms", () => {
  const { reporter, writes, clock } = fakeReporter();
  for (let done = 1; done <= 99; done++) {
    clock.ms = done; // 99 updates between 1 ms and 99 ms
    reporter.update(done);
  }
  assert.equal(writes.length, 1);
  assert.ok(writes[0]?.startsWith("\rGenerating:   0%|"));
  clock.ms = 101; // 100 ms after the first redraw
  reporter.update(100);
  assert.equal(writes.length, 2);
  assert.ok(writes[1]?.startsWith("\rGenerating:  10%|"));
});

Deno.test("ProgressReporter sizes each terminal line to columns() at draw time", () => {
  let columns = 100;
  const { reporter, writes, clock } = fakeReporter({ columns: () => columns });
  clock.ms = 1000;
  reporter.update(10);
  assert.equal(writes[0], "\r" + renderProgressBar(state(10, 1), 100));
  columns = 70;
  clock.ms = 2000;
  reporter.update(20);
  assert.equal(writes[1], "\r" + renderProgressBar(state(20, 2), 70));
  // A broken size (Deno.consoleSize() failing, say) falls back to 80 columns.
  columns = Number.NaN;
  clock.ms = 3000;
  reporter.update(30);
  assert.equal(writes[2], "\r" + renderProgressBar(state(30, 3), 80));
});

Deno.test("ProgressReporter.clear() blanks the line and lets the next update redraw", () => {
  const { reporter, writes, clock } = fakeReporter({ columns: () => 70 });
  reporter.clear(); // nothing shown yet: nothing to blank
  assert.equal(writes.length, 0);
  clock.ms = 1000;
  reporter.update(5);
  reporter.clear();
  assert.equal(writes[1], "\r" + " ".repeat(70) + "\r");
  clock.ms = 1001; // 1 ms later: throttled without the clear
  reporter.update(6);
  assert.equal(writes[2], "\r" + renderProgressBar(state(6, 1.001), 70));
});

Deno.test("ProgressReporter.clear() writes nothing in a log", () => {
  const { reporter, writes } = fakeReporter({ isTerminal: false });
  reporter.update(0);
  reporter.clear();
  assert.equal(writes.length, 1);
  assert.ok(!writes.join("").includes("\r"));
});

Deno.test("ProgressReporter.finish() prints the N/N line once, ending with a newline", () => {
  const { reporter, writes, clock } = fakeReporter({ columns: () => 63 });
  clock.ms = 500;
  reporter.update(500);
  clock.ms = 151_500;
  reporter.finish();
  reporter.finish();
  reporter.update(1000);
  assert.deepEqual(writes, [
    "\rGenerating:  50%|█████▌     | 500/1000 [00:00<00:00, 1.0kimg/s]",
    "\rGenerating: 100%|██████████| 1000/1000 [02:31<00:00, 6.60img/s]\n",
  ]);
});

Deno.test("ProgressReporter.finish() fits the final line to the current width", () => {
  let columns = 80;
  const { reporter, writes, clock } = fakeReporter({ columns: () => columns });
  clock.ms = 1000;
  reporter.update(1);
  columns = 70;
  reporter.finish();
  const final = writes[1] ?? "";
  assert.equal(final, "\r" + renderProgressBar(state(1000, 1), 70) + "\n");
  assert.equal(writes.join("").split("\n").length, 2);
});

Deno.test("ProgressReporter in a log never writes \\r and prints a line per 10%", () => {
  const { reporter, writes, clock } = fakeReporter({ isTerminal: false });
  for (let done = 0; done <= 1000; done++) {
    clock.ms = done * 10; // 10 s in all: the 30 s rule never fires
    reporter.update(done);
  }
  reporter.finish();
  const output = writes.join("");
  assert.ok(!output.includes("\r"));
  assert.ok(writes.every((line) => line.endsWith("\n") && Array.from(line).length === 81));
  const percentages = writes.map((line) =>
    line.slice("Generating: ".length, "Generating: ".length + 4)
  );
  assert.deepEqual(percentages, [
    "  0%",
    " 10%",
    " 20%",
    " 30%",
    " 40%",
    " 50%",
    " 60%",
    " 70%",
    " 80%",
    " 90%",
    "100%",
  ]);
  assert.equal(writes.filter((line) => line.includes("1000/1000")).length, 1);
});

Deno.test("ProgressReporter in a log prints one line for several 10% steps at once", () => {
  const { reporter, writes } = fakeReporter({ isTerminal: false });
  reporter.update(0);
  reporter.update(350);
  reporter.update(399);
  reporter.update(400);
  assert.equal(writes.length, 3);
  assert.ok(writes[1]?.includes("| 350/1000 ["));
  assert.ok(writes[2]?.includes("| 400/1000 ["));
});

Deno.test("ProgressReporter in a log prints a line after 30 s without a 10% step", () => {
  const { reporter, writes, clock } = fakeReporter({ isTerminal: false });
  reporter.update(0);
  clock.ms = 29_999;
  reporter.update(1);
  assert.equal(writes.length, 1);
  clock.ms = 30_000;
  reporter.update(2);
  assert.equal(writes.length, 2);
  assert.equal(writes[1], renderProgressBar(state(2, 30), 80) + "\n");
  clock.ms = 45_000;
  reporter.update(3);
  assert.equal(writes.length, 2);
});

Deno.test("ProgressReporter in quiet mode writes nothing", () => {
  for (const isTerminal of [true, false]) {
    const { reporter, writes, clock } = fakeReporter({ isTerminal, quiet: true });
    reporter.update(0);
    clock.ms = 60_000;
    reporter.update(500);
    reporter.clear();
    reporter.finish();
    assert.deepEqual(writes, [], `isTerminal ${isTerminal}`);
  }
});

Deno.test("ProgressReporter accepts noColor and still draws the same plain bar", () => {
  const plain = fakeReporter({ isTerminal: false });
  const noColor = fakeReporter({ isTerminal: false, noColor: true });
  plain.reporter.update(300);
  noColor.reporter.update(300);
  assert.deepEqual(noColor.writes, plain.writes);
  assert.ok(!noColor.writes.join("").includes("\x1b"));
});

Deno.test("ProgressReporter rejects a bad total and bad updates", () => {
  assert.throws(() => fakeReporter({ total: 0 }), RangeError);
  assert.throws(() => fakeReporter({ total: 1.5 }), RangeError);
  const { reporter } = fakeReporter();
  assert.throws(() => reporter.update(1001), /Cannot update progress to 1001/);
  assert.throws(() => reporter.update(-1), RangeError);
  assert.throws(() => reporter.update(0.5), RangeError);
});
