/**
 * The CPU the lab hosts spent on one run: each host's sshd listener accumulates, in its cutime
 * and cstime, the CPU of every session it reaped (and of everything those sessions waited for),
 * so the difference before and after a run is exact and blind to other load on the machine.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchLabHost } from './bench-lab.js';

/** USER_HZ: 100 on every Linux architecture the lab runs on. */
const TICKS_PER_SECOND = 100;
/** How long to wait for the last sessions of a run to be reaped. */
const REAP_WAIT_MS = 10_000;

/** cutime + cstime of a process, in ticks (fields 16 and 17 of /proc/PID/stat, after the command name). */
function reapedTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): cutime is field 16, cstime field 17.
  return Number(fields[13]) + Number(fields[14]);
}

function hasChildren(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

export type HostCpuMark = Map<number, number>;

export function markHostCpu(hosts: readonly BenchLabHost[]): HostCpuMark {
  return new Map(hosts.map((h) => [h.sshdPid, reapedTicks(h.sshdPid)]));
}

/**
 * CPU ms per host the hosts' sshd sessions spent since `mark`, once every session of the run has
 * ended; per inventory host when `fleetSize` names point at the lab's hosts (a simulated fleet).
 */
export async function hostCpuMsPerHostSince(hosts: readonly BenchLabHost[], mark: HostCpuMark, fleetSize = hosts.length): Promise<number> {
  const deadline = Date.now() + REAP_WAIT_MS;
  while (hosts.some((h) => hasChildren(h.sshdPid)) && Date.now() < deadline) await sleep(50);
  const ticks = hosts.reduce((sum, h) => sum + reapedTicks(h.sshdPid) - (mark.get(h.sshdPid) ?? 0), 0);
  return ((ticks / TICKS_PER_SECOND) * 1000) / fleetSize;
}
