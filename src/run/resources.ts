/**
 * What a run may use: rendering threads and memory, inside a scheduler's allocation or not.
 *
 * A Slurm task sees the whole node but owns only part of it, so the defaults come from what
 * the task was given, never from the node's totals:
 *
 * - threads: `--workers` when given; else `SLURM_CPUS_PER_TASK`; else the CPUs the process may
 *   run on (its affinity mask, which `navigator.hardwareConcurrency` reads through
 *   `sched_getaffinity`, so `taskset` and cpusets count), at most 64.
 * - memory: `SLURM_MEM_PER_NODE`, else `SLURM_MEM_PER_CPU` times the task's CPUs, else the
 *   cgroup's `memory.max` where it can be read, else the machine's available memory.
 *
 * Each figure carries its source, which the plan line prints.
 *
 * @module
 */

import { cpus } from "node:os";
import type { MemoryLimit } from "./preflight.ts";

/** The largest `--workers`. */
export const MAX_WORKERS = 64;

/** A thread count and where it came from. */
export interface WorkerCount {
  /** Threads, 1 to {@linkcode MAX_WORKERS}. */
  count: number;
  /** `--workers`, `SLURM_CPUS_PER_TASK`, `CPU affinity` or `cores`. */
  source: string;
}

/** What the process can learn about itself; tests inject their own. */
export interface ResourceProbe {
  /** Environment variables (default: the process's, where readable). */
  env?: Record<string, string | undefined>;
  /** CPUs the process may run on (default `navigator.hardwareConcurrency`). */
  usableCpus?: number;
  /** CPUs of the machine (default `os.cpus().length`). */
  machineCpus?: number;
  /** Memory available on the machine in bytes (default `Deno.systemMemoryInfo().available`). */
  availableBytes?: number;
  /** The cgroup's `memory.max` text, or undefined where unreadable (default: read it). */
  cgroupMemoryMax?: string;
}

function environment(probe: ResourceProbe): Record<string, string | undefined> {
  if (probe.env !== undefined) return probe.env;
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value > 0 ? value : undefined;
}

/**
 * The default number of rendering threads, or the requested one.
 *
 * @param requested `--workers`, if given.
 * @param probe Injected environment and CPU counts (tests).
 * @returns The count and its source.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocatedWorkers } from "./resources.ts";
 * const env = { SLURM_CPUS_PER_TASK: "4" };
 * assert.deepEqual(allocatedWorkers(undefined, { env, usableCpus: 128 }),
 *   { count: 4, source: "SLURM_CPUS_PER_TASK" });
 * assert.equal(allocatedWorkers(2, { env }).source, "--workers");
 * ```
 */
export function allocatedWorkers(
  requested: number | undefined,
  probe: ResourceProbe = {},
): WorkerCount {
  const clamp = (count: number) => Math.max(1, Math.min(MAX_WORKERS, count));
  if (requested !== undefined) return { count: clamp(requested), source: "--workers" };
  const perTask = positiveInteger(environment(probe).SLURM_CPUS_PER_TASK);
  if (perTask !== undefined) return { count: clamp(perTask), source: "SLURM_CPUS_PER_TASK" };
  const usable = probe.usableCpus ?? navigator.hardwareConcurrency ?? 1;
  let machine = probe.machineCpus;
  if (machine === undefined) {
    try {
      machine = cpus().length;
    } catch {
      machine = usable;
    }
  }
  return { count: clamp(usable), source: usable < machine ? "CPU affinity" : "cores" };
}

function readCgroupMemoryMax(): string | undefined {
  try {
    // Readable only with --allow-all (Deno guards /sys and /proc); otherwise the limit is
    // unknown here and Slurm's variables or the machine's memory decide.
    return Deno.readTextFileSync("/sys/fs/cgroup/memory.max");
  } catch {
    return undefined;
  }
}

/**
 * The memory a run may use, and where that figure came from.
 *
 * @param probe Injected environment, CPUs and memory figures (tests).
 * @param workers The task's CPUs, for `SLURM_MEM_PER_CPU`.
 * @returns The limit in bytes and its source.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryLimit } from "./resources.ts";
 * const limit = memoryLimit({ env: { SLURM_MEM_PER_NODE: "2048" }, availableBytes: 1e12 });
 * assert.deepEqual(limit, { bytes: 2048 * 2 ** 20, source: "allowed by SLURM_MEM_PER_NODE" });
 * ```
 */
export function memoryLimit(probe: ResourceProbe = {}, workers?: WorkerCount): MemoryLimit {
  const env = environment(probe);
  const mebibytes = 2 ** 20;
  const perNode = positiveInteger(env.SLURM_MEM_PER_NODE);
  if (perNode !== undefined) {
    return { bytes: perNode * mebibytes, source: "allowed by SLURM_MEM_PER_NODE" };
  }
  const perCpu = positiveInteger(env.SLURM_MEM_PER_CPU);
  if (perCpu !== undefined) {
    const cpusOfTask = positiveInteger(env.SLURM_CPUS_PER_TASK) ?? workers?.count ?? 1;
    return {
      bytes: perCpu * cpusOfTask * mebibytes,
      source: `allowed by SLURM_MEM_PER_CPU x ${cpusOfTask} CPU${cpusOfTask === 1 ? "" : "s"}`,
    };
  }
  const cgroup = positiveInteger(
    "cgroupMemoryMax" in probe ? probe.cgroupMemoryMax : readCgroupMemoryMax(),
  );
  if (cgroup !== undefined) return { bytes: cgroup, source: "allowed by the cgroup's memory.max" };
  const available = probe.availableBytes ?? Deno.systemMemoryInfo().available;
  return { bytes: available, source: "available" };
}
