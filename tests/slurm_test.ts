/**
 * A sharded run through a real Slurm cluster (one node, started for the test): a 4-task job
 * array makes one version byte-identical to one machine's; `scancel` of one task of a second
 * array leaves no version and the other slices intact, and a rerun of that index completes
 * it; a recipe with splits as a 3-task array gives one machine's split archives. Skipped with a
 * printed reason where Slurm is not installed or we are not root; under
 * `CI=true` a missing Slurm fails instead (.ci/run installs it as root; the GitHub workflow
 * installs it and runs this test again as root).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { generateDataset } from "../src/run/generate_dataset.ts";
import { listVersions } from "../src/store/versions.ts";
import { readMetadata } from "../src/store/metadata.ts";
import { runFolder } from "../src/cluster/run_folder.ts";
import { entriesOf, REPO_ROOT, runCli } from "./support/cli.ts";
import { runPythonJson } from "./support/python.ts";
import { slurmUnavailable, startSlurm } from "./support/slurm.ts";

const unavailable = await slurmUnavailable();
if (unavailable !== undefined) {
  if (unavailable.failInCi && Deno.env.get("CI") === "true") {
    throw new Error(`slurm_test must run in CI: ${unavailable.reason}`);
  }
  console.log(`slurm_test: skipping: ${unavailable.reason}`);
}

// Each slice must still be writing when its scancel lands (the test waits for its first bytes,
// then cancels): with 100,000 images a slice, slice 2 once finished first on a clean CI clone
// (its job CANCELLED, the version published); 400,000 keep it writing four times as long.
const NUM_IMAGES = 1_600_000;
const SEED = 42;

/** The words of `deno task generate` up to main.ts, so jobs run what users run. */
async function taskWords(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const words = String(config.tasks.generate).split(/\s+/);
  return words.slice(1, words.indexOf("main.ts"));
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

Deno.test({
  name: "a Slurm job array makes one version byte-identical to one machine; scancel and rerun",
  ignore: unavailable !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const folder = await Deno.makeTempDir({ prefix: "dsgen_slurm_test_" });
    await using cluster = await startSlurm();
    try {
      const spec = {
        family: { name: "shapes", options: {} },
        seed: SEED,
        numImages: NUM_IMAGES,
        imageSize: 16,
        dtype: "uint8" as const,
      };
      const one = await generateDataset(spec, join(folder, "one"));
      const expected = await sha256(join(one.path, "dataset.npz"));

      // The job scripts of examples/slurm, as users submit them, with dsgen run from this
      // checkout the way `deno task dsgen` runs it.
      const examples = join(REPO_ROOT, "examples", "slurm");
      const words = await taskWords();
      const environment = (out: string, runId?: string): Record<string, string> => ({
        DSGEN: `${Deno.execPath()} ${words.join(" ")} main.ts`,
        OUT: out,
        NUM_IMAGES: String(NUM_IMAGES),
        SEED: String(SEED),
        SHARDS: "4",
        ...(runId === undefined ? {} : { RUN_ID: runId }),
      });
      const submit = async (out: string, options: { array?: string; runId?: string } = {}) =>
        (await cluster.run("sbatch", [
          "--parsable",
          `--array=${options.array ?? "0-3"}`,
          "--cpus-per-task=1",
          "--mem=2G",
          `--chdir=${REPO_ROOT}`,
          `--output=${folder}/slurm-%A_%a.out`,
          join(examples, "generate.sbatch"),
        ], environment(out, options.runId))).trim();
      const logs = async (jobId: string) => {
        const texts = [];
        for (const name of await entriesOf(folder)) {
          if (name.startsWith(`slurm-${jobId}`)) {
            texts.push(`${name}: ${await Deno.readTextFile(join(folder, name))}`);
          }
        }
        return texts.join("\n");
      };

      // 1. The whole array, and the optional afterok merge job: one version, identical to
      // one machine's. The last slice merged it already, so the merge job says so.
      const first = join(folder, "first");
      const datasetDir = join(first, "shapes16");
      const jobId = await submit(first);
      const mergeId = (await cluster.run("sbatch", [
        "--parsable",
        `--dependency=afterok:${jobId}`,
        `--chdir=${REPO_ROOT}`,
        `--output=${folder}/slurm-${jobId}-merge.out`,
        join(examples, "merge.sbatch"),
      ], { ...environment(first, jobId), DATASET_DIR: datasetDir })).trim();
      await cluster.waitForJobs([jobId, mergeId]);
      const states = [...await cluster.jobStates(jobId), ...await cluster.jobStates(mergeId)];
      assert.deepEqual(states, Array(5).fill("COMPLETED"), await logs(jobId));
      assert.match(await logs(jobId), /merge\.out: Run "\d+" was already merged/);
      const versions = await listVersions(datasetDir);
      assert.equal(versions.length, 1, await logs(jobId));
      assert.deepEqual(await entriesOf(datasetDir), [versions[0]!.id]);
      const version = versions[0]!.path;
      assert.equal(await sha256(join(version, "dataset.npz")), expected);
      const metadata = await readMetadata(version);
      assert.equal(metadata.sharded_run?.run_id, jobId);
      assert.deepEqual(metadata.sharded_run?.slices.map((slice) => slice.index), [0, 1, 2, 3]);
      // Each task used the one CPU it was given (SLURM_CPUS_PER_TASK), not the node's.
      assert.deepEqual(metadata.sharded_run?.slices.map((slice) => slice.workers), [1, 1, 1, 1]);
      const verify = await runCli(["verify", version]);
      assert.equal(verify.code, 0, verify.stderr);
      const loaded = await runPythonJson<{ shape: number[]; labels: number }>(
        `import json, sys, numpy as np
with np.load(sys.argv[1], allow_pickle=False) as data:
    print(json.dumps({"shape": list(data["images"].shape), "labels": len(data["labels"])}))`,
        [join(version, "dataset.npz")],
      );
      assert.deepEqual(loaded, { shape: [NUM_IMAGES, 16, 16], labels: NUM_IMAGES });

      // 2. A second array; one task is cancelled while it writes.
      const second = join(folder, "second");
      const secondId = await submit(second);
      const runDir = runFolder(join(second, "shapes16"), secondId);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const partial = (await entriesOf(runDir)).find((name) =>
          name.startsWith(".slice-00002-of-00004.bin.")
        );
        const size = partial === undefined
          ? 0
          : await Deno.stat(join(runDir, partial)).then((info) => info.size, () => 0);
        if (size > 0) break;
        assert.ok(Date.now() < deadline, `slice 2 never started writing: ${await logs(secondId)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await cluster.run("scancel", [`${secondId}_2`]);
      await cluster.waitForJobs([secondId]);
      const secondStates = await cluster.jobStates(secondId);
      const count = (state: string) => secondStates.filter((each) => each === state).length;
      assert.equal(count("CANCELLED"), 1, String(secondStates));
      assert.equal(count("COMPLETED"), 3, String(secondStates));
      assert.equal((await listVersions(join(second, "shapes16"))).length, 0);
      // The other slices are intact; slice 2 left nothing, not even a partial file.
      assert.deepEqual(
        await entriesOf(runDir),
        [
          "plan.json",
          ...[0, 1, 3].flatMap((index) =>
            ["bin", "crc32", "json", "labels.bin", "latents.bin"].map((suffix) =>
              `slice-0000${index}-of-00004.${suffix}`
            )
          ),
        ],
        await logs(secondId),
      );
      for (const index of [0, 1, 3]) {
        const size = (await Deno.stat(join(runDir, `slice-0000${index}-of-00004.bin`))).size;
        assert.equal(size, (NUM_IMAGES / 4) * 256);
      }

      // 3. A rerun of that index completes the run: identical again.
      const rerunId = await submit(second, { array: "2", runId: secondId });
      await cluster.waitForJobs([rerunId]);
      assert.deepEqual(await cluster.jobStates(rerunId), ["COMPLETED"], await logs(rerunId));
      const merged = await listVersions(join(second, "shapes16"));
      assert.equal(merged.length, 1, await logs(rerunId));
      assert.equal(await sha256(join(merged[0]!.path, "dataset.npz")), expected);
      assert.deepEqual(await entriesOf(join(second, "shapes16")), [merged[0]!.id]);

      // 4. A recipe with splits (train and test, drawn from dSprites' grid), as a 3-task array:
      // each split archive is one machine's.
      const recipe = join(folder, "splits.json");
      await Deno.writeTextFile(
        recipe,
        JSON.stringify({
          family: "dsprites",
          image_size: 16,
          seed: SEED,
          name: "splits",
          splits: [
            {
              name: "train",
              where: { not: { preset: "montero_extrapolation" } },
              num_images: 20_000,
              correlations: [{ factors: ["orientation", "posX"], sigma: 0.2 }],
            },
            { name: "test", where: "rest", num_images: 5_000 },
          ],
        }),
      );
      const whole = await runCli([
        "generate",
        "--recipe",
        recipe,
        "--output-dir",
        join(folder, "whole"),
        "-y",
        "-q",
      ]);
      assert.equal(whole.code, 0, whole.stderr);
      const third = join(folder, "third");
      const splitsId = (await cluster.run("sbatch", [
        "--parsable",
        "--array=0-2",
        "--cpus-per-task=1",
        "--mem=2G",
        `--chdir=${REPO_ROOT}`,
        `--output=${folder}/slurm-%A_%a.out`,
        `--wrap=${Deno.execPath()} ${words.join(" ")} main.ts generate --recipe ${recipe} ` +
        `--output-dir ${third} --shards 3 --yes --quiet`,
      ])).trim();
      await cluster.waitForJobs([splitsId]);
      assert.deepEqual(
        await cluster.jobStates(splitsId),
        Array(3).fill("COMPLETED"),
        await logs(splitsId),
      );
      const [splitVersion] = await listVersions(join(third, "splits"));
      assert.ok(splitVersion !== undefined, await logs(splitsId));
      assert.deepEqual(await entriesOf(join(third, "splits")), [splitVersion.id]);
      for (const name of ["test.npz", "train.npz"]) {
        assert.equal(
          await sha256(join(splitVersion.path, name)),
          await sha256(join(whole.stdout.trim(), name)),
          name,
        );
      }
      assert.equal((await readMetadata(splitVersion.path)).sharded_run?.run_id, splitsId);
    } finally {
      await cluster.stop();
      await Deno.remove(folder, { recursive: true });
    }
  },
});
