/**
 * Runs a command and measures the peak memory of its whole process tree from outside: every
 * 0.1 s it walks `/proc/PID/task/TID/children` from the command down and reads each process's
 * `VmHWM` (its own peak resident set size so far) from `/proc/PID/status`. The tree's peak is
 * the largest sum, over one sample, of the peaks of the processes alive then: dsgen and its
 * renderer processes peak together, while the archive is written, but a pilot renderer that
 * ended before the run started is not added to them.
 *
 * The command runs under `/usr/bin/time`, whose "maximum resident set size" (the kernel's
 * ru_maxrss of the largest process) covers the last 0.1 s before the main process exits,
 * which sampling can miss. Linux only; reading another process's `/proc` files needs
 * `--allow-all` in Deno 2.
 *
 * @module
 */

/** A process of the tree and its peak. */
export interface ProcessPeak {
  /** Its pid. */
  pid: number;
  /** Its name (`Name:` in `/proc/PID/status`), e.g. `deno` or `python3`. */
  name: string;
  /** Its `VmHWM`, in bytes. */
  peakBytes: number;
}

/** What one measured run gives. */
export interface TreeMeasurement {
  /** The tree's peak, in bytes (`/usr/bin/time` itself excluded): see the module's doc. */
  peakBytes: number;
  /** Each process's peak. */
  processes: ProcessPeak[];
  /** Wall time in seconds. */
  seconds: number;
  /** User + system CPU seconds of the tree (from `/usr/bin/time`). */
  cpuSeconds: number;
  /** The command's standard output. */
  stdout: string;
  /** The command's standard error, without `/usr/bin/time`'s last line. */
  stderr: string;
}

const SAMPLE_MS = 100;

function readStatus(pid: number): { name: string; hwm: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    const name = /^Name:\s+(.+)$/m.exec(status)?.[1] ?? "?";
    return hwm === undefined ? undefined : { name, hwm: Number(hwm) * 1024 };
  } catch {
    return undefined; // Gone, or a zombie.
  }
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)].map((entry) => entry.name);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      const children = Deno.readTextFileSync(`/proc/${pid}/task/${task}/children`).trim();
      for (const child of children === "" ? [] : children.split(" ").map(Number)) {
        found.push(child, ...descendants(child));
      }
    } catch {
      // The thread ended meanwhile.
    }
  }
  return found;
}

/**
 * Runs a command and measures its process tree.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param options Extra environment variables.
 * @returns The peak, the processes, time and output; throws when the command fails.
 */
export async function measureTree(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<TreeMeasurement> {
  const started = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M %U %S", command, ...args],
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: options.env }),
  }).spawn();
  const peaks = new Map<number, { name: string; hwm: number }>();
  let treePeak = 0;
  let lastAlive: number[] = [];
  let running = true;
  const output = child.output().finally(() => running = false);
  while (running) {
    const alive: number[] = [];
    let sum = 0;
    for (const pid of descendants(child.pid)) {
      const status = readStatus(pid);
      if (status === undefined) continue;
      alive.push(pid);
      sum += status.hwm;
      const known = peaks.get(pid);
      if (known === undefined || known.hwm < status.hwm) peaks.set(pid, status);
    }
    if (alive.length > 0) lastAlive = alive;
    treePeak = Math.max(treePeak, sum);
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  }
  const result = await output;
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(result.stdout);
  const lines = new TextDecoder().decode(result.stderr).trimEnd().split("\n");
  const timeLine = lines.pop() ?? "";
  const stderr = lines.join("\n");
  if (!result.success) throw new Error(`${command} ${args.join(" ")} failed: ${stderr}`);
  const [maxRssKilobytes, user, system] = timeLine.split(" ").map(Number);
  const processes = [...peaks].map(([pid, { name, hwm }]) => ({ pid, name, peakBytes: hwm }));
  // The largest process's last 0.1 s, which /usr/bin/time saw: with the others alive at the
  // last sample.
  const timePeak = maxRssKilobytes! * 1024;
  const largest = processes.reduce<ProcessPeak | undefined>(
    (best, next) => best === undefined || next.peakBytes > best.peakBytes ? next : best,
    undefined,
  );
  if (largest === undefined) processes.push({ pid: child.pid, name: "?", peakBytes: timePeak });
  else if (timePeak > largest.peakBytes) {
    largest.peakBytes = timePeak;
    const others = lastAlive.filter((pid) => pid !== largest.pid)
      .reduce((sum, pid) => sum + peaks.get(pid)!.hwm, 0);
    treePeak = Math.max(treePeak, timePeak + others);
  }
  treePeak = Math.max(treePeak, timePeak);
  return {
    peakBytes: treePeak,
    processes,
    seconds,
    cpuSeconds: user! + system!,
    stdout,
    stderr,
  };
}
