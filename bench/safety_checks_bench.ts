/**
 * What the safety checks cost (docs/safety.md): per call, in this process, the median and range
 * of `--rounds` (default 5) rounds of
 * 1. `readMetadata` of a real metadata.json: parse and check every field;
 * 2. the header check `inspect` adds: `NpzReader.open` of dataset.npz and
 *    `archiveDisagreement` (a version of `--images N`, default 1,000,000, 16x16 uint8);
 * 3. `readSliceRecord` of `--records R` (default 10,000) slice records: two `lstat` trust checks,
 *    a read and the field checks each, as a merge does (twice: before its lock and under it).
 *
 * ```
 * deno run -A bench/safety_checks_bench.ts [--images N] [--records R] [--rounds K]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { readMetadata } from "../src/store/metadata.ts";
import { NpzReader } from "../src/format/npz_reader.ts";
import { archiveDisagreement } from "../src/validate/metadata_agreement.ts";
import { readSliceRecord, writeSliceRecord } from "../src/cluster/run_folder.ts";
import { sliceRange } from "../src/cluster/run_folder.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    images: { type: "string", default: "1000000" },
    records: { type: "string", default: "10000" },
    rounds: { type: "string", default: "5" },
  },
});
const numImages = Number(values.images);
const records = Number(values.records);
const rounds = Number(values.rounds);

/** Milliseconds of `rounds` runs of `body`, sorted. */
async function time(body: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    await body();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

function show(what: string, times: number[], per = 1): void {
  const ms = (value: number) => (value / per).toFixed(per === 1 ? 2 : 4);
  console.log(
    `${what}: median ${ms(times[Math.floor(times.length / 2)]!)} ms, ` +
      `range ${ms(times[0]!)}-${ms(times.at(-1)!)} ms${per === 1 ? "" : " per call"}`,
  );
}

const folder = await Deno.makeTempDir({ prefix: "dsgen_safety_bench_" });
try {
  const { path } = await generateDataset(
    {
      family: { name: "shapes", options: {} },
      seed: 1,
      numImages,
      imageSize: 16,
      dtype: "uint8",
    },
    folder,
    { name: "bench" },
  );
  show(
    "readMetadata (parse and check every field)",
    await time(async () => {
      await readMetadata(path);
    }),
  );
  const metadata = await readMetadata(path);
  show(
    `inspect's header check (${numImages} images)`,
    await time(async () => {
      const reader = await NpzReader.open(join(path, "dataset.npz"));
      try {
        if (archiveDisagreement(metadata, reader) !== undefined) throw new Error("disagrees");
      } finally {
        reader.close();
      }
    }),
  );
  const run = join(folder, "run");
  await Deno.mkdir(run, { mode: 0o755 });
  const total = records * 10;
  for (let index = 0; index < records; index++) {
    const range = sliceRange(total, records, index);
    await writeSliceRecord(run, records, {
      index,
      start_image: range.start,
      num_images: range.count,
      host: "bench",
      started_at: new Date().toISOString(),
      duration_seconds: 1,
      images_per_second: 10,
      peak_memory_bytes: null,
      workers: 1,
    });
  }
  show(
    `readSliceRecord x ${records} (trust checks, read, fields)`,
    await time(async () => {
      for (let index = 0; index < records; index++) {
        await readSliceRecord(run, { index, shards: records, numImages: total });
      }
    }),
  );
} finally {
  await Deno.remove(folder, { recursive: true });
}
