/**
 * A real single-node Slurm cluster for tests: munged, slurmctld and slurmd started from the
 * Debian packages with a configuration in a temporary folder, following
 * /work/shared/SLURM.md (each setting there was a real failure first). Stopped by pid.
 *
 * @module
 */

import { join } from "node:path";

/** A running cluster. */
export interface SlurmCluster extends AsyncDisposable {
  /** The environment for sbatch, squeue, scancel and scontrol (`SLURM_CONF`). */
  env: Record<string, string>;
  /** The cluster's folder (configuration, state, logs). */
  folder: string;
  /** Runs a Slurm client command, with more environment; returns stdout, throws on failure. */
  run(command: string, args: string[], env?: Record<string, string>): Promise<string>;
  /** Waits until none of the jobs is queued or running (polls squeue every 0.2 s). */
  waitForJobs(jobIds: string[]): Promise<void>;
  /** `JobState` of each task of a job (`scontrol show job`), e.g. `COMPLETED`. */
  jobStates(jobId: string): Promise<string[]>;
  /** Stops every job and the daemons this cluster started. */
  stop(): Promise<void>;
}

const BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel"];

/**
 * Why a cluster cannot start here, or undefined when it can. `installable` says whether CI
 * should have made it possible (Slurm missing) rather than skipping (not root: CI runs the test
 * again as root in its own step).
 *
 * @returns A reason to print when skipping, and whether CI must fail on it.
 */
export async function slurmUnavailable(): Promise<
  { reason: string; failInCi: boolean } | undefined
> {
  if (Deno.build.os !== "linux") return { reason: "Slurm runs on Linux only", failInCi: false };
  for (const binary of BINARIES) {
    const found = await new Deno.Command("sh", {
      args: ["-c", `command -v ${binary} || test -x /usr/sbin/${binary}`],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!found.success) {
      return {
        reason: `${binary} is not installed (.ci/run installs slurmctld slurmd slurm-client ` +
          "munge from Debian when run as root)",
        failInCi: true,
      };
    }
  }
  if (Deno.uid() !== 0) return { reason: "Slurm's daemons need root", failInCi: false };
  return undefined;
}

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const output = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${output.code}): ${text.decode(output.stderr)}`,
    );
  }
  return text.decode(output.stdout);
}

/** Whether a process is alive: `ps`, since `deno test` without -A may not read /proc. */
function alive(pid: number): boolean {
  const output = new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] })
    .outputSync();
  const state = new TextDecoder().decode(output.stdout).trim();
  // A stopped daemon lingers as a zombie for a while: that is gone.
  return output.success && state !== "" && !state.startsWith("Z");
}

async function readPid(path: string): Promise<number | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const pid = Number((await Deno.readTextFile(path)).trim());
      if (pid > 0) return pid;
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

async function stopPid(pid: number | undefined): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (alive(pid)) Deno.kill(pid, "SIGKILL");
}

/**
 * Starts a cluster of one node with 8 CPUs.
 *
 * @returns The running cluster; stop it (or `await using` it) when done.
 */
export async function startSlurm(): Promise<SlurmCluster> {
  const folder = await Deno.makeTempDir({ prefix: "dsgen_slurm_" });
  const host = (await run("hostname", ["-s"])).trim();
  // Less than the machine has, or the node registers as invalid.
  const realMemory = Math.max(1024, Math.floor(Deno.systemMemoryInfo().total / 2 ** 20) - 1024);
  const state = join(folder, "state");
  await Deno.mkdir(state);
  // Kept across starts, so that a new slurmd finds and kills job steps left by a crash.
  const spool = "/var/spool/slurmd-dsgen-test";
  await Deno.mkdir(spool, { recursive: true });
  const conf = join(folder, "slurm.conf");
  await Deno.writeTextFile(
    conf,
    [
      "ClusterName=dsgentest",
      `SlurmctldHost=${host}(127.0.0.1)`,
      "SlurmctldPort=16817",
      "SlurmdPort=16818",
      "SlurmUser=root",
      "AuthType=auth/munge",
      `StateSaveLocation=${state}`,
      `SlurmdSpoolDir=${spool}`,
      `SlurmctldPidFile=${folder}/slurmctld.pid`,
      `SlurmdPidFile=${folder}/slurmd.pid`,
      `SlurmctldLogFile=${folder}/slurmctld.log`,
      `SlurmdLogFile=${folder}/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "MpiDefault=none",
      "MailProg=/bin/true",
      "ReturnToService=2",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "SchedulerParameters=batch_sched_delay=0,bf_interval=1",
      "DependencyParameters=kill_invalid_depend",
      "SlurmdParameters=config_overrides",
      "KillWait=10",
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=8 RealMemory=${realMemory} State=UNKNOWN`,
      "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const started: { munged?: number; slurmctld?: number; slurmd?: number } = {};
  let stopped = false;
  const stop = async () => {
    // Once only: with the controller down, squeue would retry for a minute.
    if (stopped) return;
    stopped = true;
    try {
      const jobs = (await run("squeue", ["-h", "-o", "%A"], env)).split("\n").filter(Boolean);
      if (jobs.length > 0) await run("scancel", jobs, env).catch(() => "");
    } catch {
      // The controller is not up.
    }
    await stopPid(started.slurmd);
    await stopPid(started.slurmctld);
    await stopPid(started.munged);
    await Deno.remove(folder, { recursive: true }).catch(() => {});
  };
  try {
    const mungePid = await Deno.readTextFile("/run/munge/munged.pid").then(Number, () => 0);
    if (!(mungePid > 0 && alive(mungePid))) {
      await run("install", ["-d", "-o", "munge", "-g", "munge", "/run/munge"]);
      await run("runuser", ["-u", "munge", "--", "munged", "--origin=127.0.0.1", "--force"]);
      started.munged = await readPid("/run/munge/munged.pid");
    }
    await run("slurmctld", ["-f", conf], env);
    started.slurmctld = await readPid(`${folder}/slurmctld.pid`);
    await run("slurmd", ["-f", conf], env);
    started.slurmd = await readPid(`${folder}/slurmd.pid`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const node = await run("sinfo", ["-h", "-o", "%t"], env).catch(() => "");
      if (/^idle/m.test(node)) break;
      if (Date.now() > deadline) {
        throw new Error(
          `The node never became idle (${node.trim()}):\n` +
            (await Deno.readTextFile(`${folder}/slurmctld.log`).catch(() => "")),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const cluster: SlurmCluster = {
    env,
    folder,
    run: (command, args, more = {}) => run(command, args, { ...env, ...more }),
    async waitForJobs(jobIds) {
      const deadline = Date.now() + 300_000;
      for (;;) {
        const queued = await run("squeue", ["-h", "-j", jobIds.join(","), "-o", "%i"], env)
          .catch(() => "");
        if (queued.trim() === "") return;
        if (Date.now() > deadline) throw new Error(`Jobs ${jobIds} never finished: ${queued}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async jobStates(jobId) {
      const shown = await run("scontrol", ["show", "job", jobId], env);
      return [...shown.matchAll(/JobState=(\S+)/g)].map((match) => match[1]!);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  return cluster;
}
