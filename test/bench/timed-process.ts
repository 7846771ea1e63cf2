/**
 * Runs one contender as a child process under GNU time, so its CPU and peak memory are the
 * kernel's own accounting (rusage of the process and every child it waited for), and its wall
 * time is measured here from spawn to exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

/** What the kernel and the clock say about one run. */
export interface ProcessCost {
  wallSeconds: number;
  /** User + system CPU of the process and the children it waited for. */
  cpuSeconds: number;
  /** Largest resident set of the process or of any one waited-for child (GNU time's %M). */
  peakRssMb: number;
  /**
   * CPU the whole machine spent while the command ran (/proc/stat, all processes): the runner,
   * the lab's sshd sessions and whatever else runs on the machine.
   */
  machineCpuSeconds: number;
  exitCode: number | null;
  signal: string | null;
}

export interface TimedCommand {
  command: string;
  args: readonly string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Files that receive the child's stdout and stderr. */
  stdoutFile: string;
  stderrFile: string;
  /** Where GNU time writes its figures (removed after reading). */
  timeFile: string;
}

/** Busy CPU seconds of the whole machine since boot: every "cpu" column but idle and iowait. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  // USER_HZ is 100 on every Linux architecture the lab runs on.
  return (total - idle) / 100;
}

/** Process groups of the children running now, so an interrupt can stop them. */
const running = new Set<number>();

/** How long a stopped contender may take to finish on its own before it is killed. */
const STOP_GRACE_MS = 3000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops every contender that runs now: its whole process group (it was started detached). */
export function stopRunningChildren(): void {
  for (const pid of running) {
    signalGroup(pid, 'SIGTERM');
    setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS).unref();
  }
}

export function requireGnuTime(): void {
  if (!existsSync(GNU_TIME) || spawnSync(GNU_TIME, ['-f', '%e', 'true']).status !== 0) {
    throw new Error(`${GNU_TIME} (GNU time) is needed to measure CPU and peak memory: apt-get install -y time`);
  }
}

function parseTimeFile(text: string): { cpuSeconds: number; peakRssMb: number } {
  // GNU time writes "Command exited with non-zero status N" before the format line when N != 0.
  const line = text.trim().split('\n').pop() ?? '';
  const [user, system, maxRssKb] = line.trim().split(/\s+/).map(Number);
  if (user === undefined || system === undefined || maxRssKb === undefined || [user, system, maxRssKb].some(Number.isNaN)) {
    throw new Error(`cannot read GNU time's output: ${JSON.stringify(text)}`);
  }
  return { cpuSeconds: user + system, peakRssMb: maxRssKb / 1024 };
}

export async function runTimed(cmd: TimedCommand): Promise<ProcessCost> {
  const stdout = openSync(cmd.stdoutFile, 'w');
  const stderr = openSync(cmd.stderrFile, 'w');
  const started = process.hrtime.bigint();
  const busyBefore = machineBusySeconds();
  const child = spawn(GNU_TIME, ['-o', cmd.timeFile, '-f', '%U %S %M', cmd.command, ...cmd.args], {
    cwd: cmd.cwd,
    env: cmd.env ?? process.env,
    stdio: ['ignore', stdout, stderr],
    detached: true,
  });
  closeSync(stdout);
  closeSync(stderr);
  if (child.pid !== undefined) running.add(child.pid);
  const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  }).finally(() => {
    if (child.pid !== undefined) running.delete(child.pid);
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const machineCpuSeconds = machineBusySeconds() - busyBefore;
  if (signal !== null) return { wallSeconds, cpuSeconds: Number.NaN, peakRssMb: Number.NaN, machineCpuSeconds, exitCode: null, signal };
  const figures = parseTimeFile(readFileSync(cmd.timeFile, 'utf8'));
  rmSync(cmd.timeFile, { force: true });
  return { wallSeconds, ...figures, machineCpuSeconds, exitCode: code, signal: null };
}
