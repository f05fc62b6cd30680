/**
 * Threads and memory inside an allocation: what the task was given, never the node's total;
 * `--workers` by hand wins; the plan says where each figure came from.
 *
 * @module
 */

import assert from "node:assert/strict";
import { allocatedWorkers, memoryLimit } from "../src/run/resources.ts";
import { describePlan, planRun } from "../src/run/plan.ts";
import { checkMemory } from "../src/run/preflight.ts";
import { UsageError } from "../src/exit/errors.ts";

const NODE = { usableCpus: 128, machineCpus: 128, availableBytes: 500e9 };
const MiB = 2 ** 20;

Deno.test("workers: --workers, else SLURM_CPUS_PER_TASK, else the affinity mask", () => {
  const env = { SLURM_CPUS_PER_TASK: "4", SLURM_CPUS_ON_NODE: "128" };
  assert.deepEqual(allocatedWorkers(undefined, { ...NODE, env }), {
    count: 4,
    source: "SLURM_CPUS_PER_TASK",
  });
  assert.deepEqual(allocatedWorkers(6, { ...NODE, env }), { count: 6, source: "--workers" });
  // A task pinned to 4 of 128 CPUs (taskset, a cpuset) without SLURM_CPUS_PER_TASK.
  assert.deepEqual(allocatedWorkers(undefined, { env: {}, usableCpus: 4, machineCpus: 128 }), {
    count: 4,
    source: "CPU affinity",
  });
  // Outside any allocation: the cores, at most 64.
  assert.deepEqual(allocatedWorkers(undefined, { ...NODE, env: {} }), {
    count: 64,
    source: "cores",
  });
  // Garbage in the variable is ignored, not trusted.
  assert.equal(
    allocatedWorkers(undefined, { env: { SLURM_CPUS_PER_TASK: "x" }, usableCpus: 2 }).count,
    2,
  );
});

Deno.test("memory: SLURM_MEM_PER_NODE, else SLURM_MEM_PER_CPU x CPUs, else memory.max", () => {
  assert.deepEqual(memoryLimit({ ...NODE, env: { SLURM_MEM_PER_NODE: "4000" } }), {
    bytes: 4000 * MiB,
    source: "allowed by SLURM_MEM_PER_NODE",
  });
  assert.deepEqual(
    memoryLimit({ ...NODE, env: { SLURM_MEM_PER_CPU: "1000", SLURM_CPUS_PER_TASK: "3" } }),
    { bytes: 3000 * MiB, source: "allowed by SLURM_MEM_PER_CPU x 3 CPUs" },
  );
  assert.deepEqual(
    memoryLimit({ ...NODE, env: {}, cgroupMemoryMax: "2147483648\n" }),
    { bytes: 2 * 2 ** 30, source: "allowed by the cgroup's memory.max" },
  );
  // "max" is no limit: the machine's available memory decides.
  assert.deepEqual(memoryLimit({ ...NODE, env: {}, cgroupMemoryMax: "max\n" }), {
    bytes: 500e9,
    source: "available",
  });
});

Deno.test("the memory check compares with the task's limit, not the node's free memory", () => {
  const limit = memoryLimit({ ...NODE, env: { SLURM_MEM_PER_NODE: "100" } });
  assert.throws(
    () => checkMemory(200 * MiB, limit),
    (error) =>
      error instanceof UsageError &&
      error.message ===
        "Cannot run: the estimated peak memory 209.7 MB exceeds the 104.9 MB allowed by " +
          "SLURM_MEM_PER_NODE",
  );
});

Deno.test("the plan line says where the threads and the memory limit came from", async () => {
  const spec = {
    family: { name: "shapes", options: {} },
    seed: 1,
    numImages: 1_000_000,
    imageSize: 16,
    dtype: "uint8" as const,
  };
  const probe = { ...NODE, env: { SLURM_CPUS_PER_TASK: "4", SLURM_MEM_PER_NODE: "8000" } };
  const plan = await planRun(spec, { probe });
  assert.equal(plan.workers.count, 4);
  const [line, , , memory] = describePlan(plan, { output: "x" });
  assert.match(line!, /, 4 workers \(SLURM_CPUS_PER_TASK\)$/);
  assert.match(
    memory!,
    /^Estimated memory: .* for 1000000 images \(8388\.6 MB allowed by SLURM_MEM_PER_NODE\)$/,
  );
  const byHand = await planRun(spec, { probe, workers: 2 });
  assert.match(describePlan(byHand, { output: "x" })[0]!, /, 2 workers$/);
});

Deno.test("archives rendered on one set of threads (a recipe's splits) get threads for all their images", async () => {
  const probe = { usableCpus: 2, machineCpus: 2, availableBytes: 20e9, env: {} };
  const part = {
    family: { name: "dsprites", options: {} },
    seed: 1,
    numImages: 100_000,
    imageSize: 16,
    dtype: "uint8" as const,
  };
  // Alone, 100,000 16x16 images are too few for the threads to pay.
  assert.equal((await planRun(part, { probe })).workers.count, 1);
  // One of eight such splits: 800,000 images for the threads.
  const shared = await planRun(part, { probe, threadImages: 800_000 });
  assert.equal(shared.workers.count, 2);
  // Its own images still size its archive and spill files.
  assert.equal(shared.archiveBytes, (await planRun(part, { probe })).archiveBytes);
  assert.equal(shared.dataset.numImages, 100_000);
});
