/**
 * The servers under test run as child processes, so that the load generator (this process) never
 * shares an event loop with them. Every child started here is stopped by its own PID, also when the
 * runner fails or is interrupted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';

const children = new Set<ChildProcess>();

// Last resort: a runner that crashes must not leave a gateway listening.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the child to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last lines the child wrote to stderr and stdout, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  children.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child));
  return {
    process: child,
    pid: child.pid,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM first: the gateway closes its database (and --cpu-prof writes its profile) on the way out.
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitReady(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`process ${child.pid} exited (${child.process.exitCode ?? child.process.signalCode}) before it was ready:\n${child.output()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${child.output()}`);
}

// ---- memory --------------------------------------------------------------------------------------

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const rssBytes = (pid: number) => statusField(pid, 'VmRSS');

/**
 * Peak RSS of a process over an interval: VmHWM after resetting it (writing 5 to
 * /proc/<pid>/clear_refs), and, where the reset is not allowed, the highest VmRSS polled every 100 ms.
 */
export function rssPeakTracker(pid: number): { stop(): number | undefined } {
  let hwmReset = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    hwmReset = true;
  } catch {
    // not permitted here: polling alone
  }
  const polled = peakTracker(() => rssBytes(pid));
  return {
    stop() {
      const hwm = hwmReset ? statusField(pid, 'VmHWM') : undefined;
      const peak = Math.max(polled.stop() ?? 0, hwm ?? 0);
      return peak > 0 ? peak : undefined;
    },
  };
}

/** The highest value `read` gives while tracked (polled every 100 ms, and at start and stop). */
function peakTracker(read: () => number | undefined): { stop(): number | undefined } {
  let peak: number | undefined;
  const poll = () => {
    const now = read();
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  };
  poll();
  const timer = setInterval(poll, 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      poll();
      return peak;
    },
  };
}

/** A file's size in bytes, or undefined if it does not exist. */
export function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** The largest size a file reaches while tracked; undefined if it never exists. */
export const fileSizePeakTracker = (path: string) => peakTracker(() => fileSize(path));

// ---- CPU -----------------------------------------------------------------------------------------

/**
 * Gives `serverPid` the last core and `generatorPid` the others (every thread of each, with taskset),
 * until `release()` gives the generator every core back. Undefined, and nothing changed, on one core
 * or without taskset.
 */
export function pinCores(serverPid: number, generatorPid: number): { release(): void } | undefined {
  const count = cpus().length;
  if (count < 2) return undefined;
  const taskset = (cores: string, pid: number) => execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(pid)], { stdio: 'ignore' });
  const all = `0-${count - 1}`;
  try {
    taskset(String(count - 1), serverPid);
    taskset(`0-${count - 2}`, generatorPid);
  } catch {
    try {
      taskset(all, generatorPid);
    } catch {
      // no taskset: nothing was pinned
    }
    return undefined;
  }
  return { release: () => taskset(all, generatorPid) };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux/x86-64 and arm64

/**
 * A /proc/<pid>/stat line: the command name, the process's own user + system CPU seconds, and those of
 * its children that ended and were waited for (cutime + cstime: the Postgres server's backends that
 * closed, once its postmaster reaped them).
 */
export function parseProcessStat(stat: string): { command: string; cpuSeconds: number; endedChildrenCpuSeconds: number } {
  // Fields after the command name, which is in parentheses and may contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const seconds = (...indexes: number[]) => indexes.reduce((sum, i) => sum + Number(fields[i]), 0) / CLOCK_TICKS_PER_SECOND;
  return { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuSeconds: seconds(11, 12), endedChildrenCpuSeconds: seconds(13, 14) };
}

const processStat = (pid: number | string) => parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat), or undefined. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    return processStat(pid).cpuSeconds;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by every process named `command` (`postgres`: the Postgres server's
 * backends and helpers), or undefined where there is none (a server on another machine) or no /proc.
 * Counts the children they waited for too: a backend whose connection closed takes its CPU with it,
 * into its postmaster's count of ended children, so that the total never goes down.
 */
export function cpuSecondsOfAll(command: string): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let total: number | undefined;
  for (const pid of pids) {
    try {
      const stat = processStat(pid);
      if (stat.command === command) total = (total ?? 0) + stat.cpuSeconds + stat.endedChildrenCpuSeconds;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The machine's CPU time so far, all cores, in /proc/stat's ticks; undefined where there is no /proc. */
function machineCpuTicks(): { idle: number; steal: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …
    return { idle: (cpu[3] ?? 0) + (cpu[4] ?? 0), steal: cpu[7] ?? 0, total: cpu.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/** The machine's busy share over `ms` (all cores, 0–1), from /proc/stat: shows whether others are using it. */
export async function machineBusy(ms = 1000): Promise<number | undefined> {
  const a = machineCpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineCpuTicks();
  if (!a || !b || b.total === a.total) return undefined;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Starts counting the CPU time the hypervisor gave to other guests while this VM wanted it (steal);
 * `stop` returns it in cores over the time counted (0.3 = a third of a core taken away on average).
 */
export function stolenCpu(): { stop: () => number | undefined } {
  const a = machineCpuTicks();
  const started = performance.now();
  return {
    stop() {
      const b = machineCpuTicks();
      const seconds = (performance.now() - started) / 1000;
      // Kernel ticks are USER_HZ = 100 per second on Linux.
      return a && b && seconds > 0 ? Math.round(((b.steal - a.steal) / 100 / seconds) * 100) / 100 : undefined;
    },
  };
}
