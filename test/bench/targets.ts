/**
 * DESIGN.md's performance targets, judged from one fleet size's runs. A missed target is a
 * finding for the report, never a reason for the bench to fail.
 */
import { median, type ContenderId, type RunRecord } from './run-record.js';

export type Verdict = 'PASS' | 'FAIL' | 'NOT MEASURED';

export interface TargetResult {
  target: string;
  verdict: Verdict;
  /** The measured value, in the target's terms. */
  measured: string;
}

/** Medians of one contender's runs at one fleet size. */
export interface ContenderSummary {
  runs: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuMsPerHost: number;
  machineCpuSeconds: number;
  peakRssMb: number;
  hostsDone: number;
  hosts: number;
  loginsMean: number;
  loginsMax: number;
  execsMean?: number;
  execsMax?: number;
  connectsMax?: number;
  /** CPU the hosts spent, per host (median of the runs). */
  hostCpuMsPerHost?: number;
}

export const PEAK_MEMORY_FLEET = 500;
/** The large fleet of issue 13: memory that follows --forks, and the runner's CPU per host. */
export const LARGE_FLEET = 10_000;
export const LARGE_FLEET_RUNNER_CPU_MS = 10;
/** What sshfix may cost each host above a bare login (issue 13). */
export const HOST_COST_ABOVE_LOGIN_MS = 10;

export function summarise(runs: readonly RunRecord[]): ContenderSummary | undefined {
  const first = runs[0];
  if (!first) return undefined;
  const wallSeconds = median(runs.map((r) => r.cost.wallSeconds));
  const cpuSeconds = median(runs.map((r) => r.cost.cpuSeconds));
  const summary: ContenderSummary = {
    runs: runs.length,
    wallSeconds,
    cpuSeconds,
    cpuMsPerHost: (cpuSeconds * 1000) / first.hosts,
    machineCpuSeconds: median(runs.map((r) => r.cost.machineCpuSeconds)),
    peakRssMb: Math.max(...runs.map((r) => r.cost.peakRssMb)),
    hostsDone: Math.min(...runs.map((r) => r.hostsDone)),
    hosts: first.hosts,
    loginsMean: median(runs.map((r) => r.logins.mean)),
    loginsMax: Math.max(...runs.map((r) => r.logins.max)),
  };
  if (runs.every((r) => r.execs)) {
    summary.execsMean = median(runs.map((r) => r.execs?.mean ?? 0));
    summary.execsMax = Math.max(...runs.map((r) => r.execs?.max ?? 0));
  }
  if (runs.every((r) => r.hostCpuMsPerHost !== undefined)) summary.hostCpuMsPerHost = median(runs.map((r) => r.hostCpuMsPerHost ?? 0));
  if (runs.every((r) => r.connects)) summary.connectsMax = Math.max(...runs.map((r) => r.connects?.max ?? 0));
  return summary;
}

const judge = (target: string, ok: boolean | undefined, measured: string): TargetResult => ({
  target,
  verdict: ok === undefined ? 'NOT MEASURED' : ok ? 'PASS' : 'FAIL',
  measured,
});

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** The targets a simulated fleet is judged on: sshfix's own (no other contender runs there). */
export function judgeLargeFleet(hosts: number, forks: number, s: Partial<Record<ContenderId, ContenderSummary>>): TargetResult[] {
  const { sshfix } = s;
  const all = judgeTargets(hosts, s).filter((t) => /^plan (opens|needs)|^runner CPU/.test(t.target));
  if (hosts < LARGE_FLEET) return all;
  return [
    ...all,
    judge(`peak memory under 150 MB at ${hosts} hosts, forks ${forks}`, sshfix ? sshfix.peakRssMb < 150 : undefined, sshfix ? `${fixed(sshfix.peakRssMb, 1)} MB` : 'not measured'),
    judge(
      `runner CPU under ${LARGE_FLEET_RUNNER_CPU_MS} ms per host at ${hosts} hosts`,
      sshfix ? sshfix.cpuMsPerHost < LARGE_FLEET_RUNNER_CPU_MS : undefined,
      sshfix ? `${fixed(sshfix.cpuMsPerHost, 1)} ms per host` : 'not measured',
    ),
  ];
}

export function judgeTargets(hosts: number, s: Partial<Record<ContenderId, ContenderSummary>>): TargetResult[] {
  const { floor, sshfix, ansible, login } = s;
  const results: TargetResult[] = [];
  results.push(
    judge(
      'plan opens at most 1 SSH connection per host',
      sshfix ? sshfix.loginsMax <= 1 && (sshfix.connectsMax ?? 0) <= 1 : undefined,
      sshfix ? `max ${sshfix.loginsMax} login(s) per host in auth.log, max ${sshfix.connectsMax ?? '?'} connection(s) started by ssh2` : 'sshfix did not run',
    ),
  );
  results.push(
    judge(
      'plan needs at most 2 exec round trips per host',
      sshfix?.execsMax !== undefined ? sshfix.execsMax <= 2 : undefined,
      sshfix?.execsMax !== undefined ? `max ${sshfix.execsMax}, mean ${fixed(sshfix.execsMean ?? Number.NaN)} exec requests per host` : 'not counted',
    ),
  );
  const vsFloor = floor && sshfix ? sshfix.wallSeconds / floor.wallSeconds : undefined;
  results.push(
    judge('plan wall time within 1.2x of the OpenSSH floor', vsFloor === undefined ? undefined : vsFloor <= 1.2, vsFloor === undefined ? 'not measured' : `${fixed(vsFloor)}x`),
  );
  results.push(
    judge(
      'plan wall time below the OpenSSH floor\'s',
      floor && sshfix ? sshfix.wallSeconds < floor.wallSeconds : undefined,
      floor && sshfix ? `${fixed(sshfix.wallSeconds)} s against ${fixed(floor.wallSeconds)} s` : 'not measured',
    ),
  );
  const aboveLogin = sshfix?.hostCpuMsPerHost !== undefined && login?.hostCpuMsPerHost !== undefined ? sshfix.hostCpuMsPerHost - login.hostCpuMsPerHost : undefined;
  results.push(
    judge(
      `plan's host-side CPU at most ${HOST_COST_ABOVE_LOGIN_MS} ms per host above a bare login`,
      aboveLogin === undefined ? undefined : aboveLogin <= HOST_COST_ABOVE_LOGIN_MS,
      aboveLogin === undefined ? 'not measured' : `${fixed(aboveLogin, 1)} ms per host above (sshfix ${fixed(sshfix?.hostCpuMsPerHost ?? Number.NaN, 1)}, bare login ${fixed(login?.hostCpuMsPerHost ?? Number.NaN, 1)})`,
    ),
  );
  const vsAnsible = ansible && sshfix ? ansible.wallSeconds / sshfix.wallSeconds : undefined;
  results.push(
    judge(
      'plan at least 5x faster than Ansible',
      vsAnsible === undefined ? undefined : vsAnsible >= 5,
      vsAnsible === undefined ? 'Ansible did not run' : `Ansible takes ${fixed(vsAnsible, 1)}x as long`,
    ),
  );
  results.push(
    judge('runner CPU under 15 ms per host', sshfix ? sshfix.cpuMsPerHost < 15 : undefined, sshfix ? `${fixed(sshfix.cpuMsPerHost, 1)} ms per host` : 'not measured'),
  );
  if (hosts >= PEAK_MEMORY_FLEET) {
    results.push(judge(`peak memory under 150 MB at ${PEAK_MEMORY_FLEET} hosts`, sshfix ? sshfix.peakRssMb < 150 : undefined, sshfix ? `${fixed(sshfix.peakRssMb, 1)} MB` : 'not measured'));
  }
  return results;
}
