/**
 * The bench's text report: per fleet size a table of the three contenders, the ratios, each
 * run's outcome, and the targets with PASS/FAIL. Pure.
 */
import { CONTENDER_LABELS, type ContenderId, type RunRecord } from './run-record.js';
import type { ContenderSummary, TargetResult } from './targets.js';

export interface SizeResult {
  hosts: number;
  /** A simulated fleet: `hosts` inventory names over this many lab hosts (sshfix alone runs). */
  labHosts?: number;
  /** Milliseconds each way the relays added (0: direct). */
  latencyMs?: number;
  /** Bytes the relays passed on: traffic went through them. */
  relayedBytes?: number;
  /** Set when the lab could not be started: the size was not measured. */
  labError?: string;
  labUpSeconds?: number;
  runs: RunRecord[];
  summaries: Partial<Record<ContenderId, ContenderSummary>>;
  targets: TargetResult[];
  notes: string[];
  /** The fact script's commands timed on one host, rendered. */
  breakdown?: string;
}

const ORDER: readonly ContenderId[] = ['login', 'floor', 'sshfix', 'ansible'];

const num = (n: number | undefined, digits: number): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0))).join('  ').trimEnd());
}

function summaryRow(id: ContenderId, s: ContenderSummary): string[] {
  const execs = id === 'floor' || id === 'login' ? '1 (by design)' : s.execsMax !== undefined ? `${num(s.execsMean, 2)} (max ${s.execsMax})` : 'not counted';
  return [
    CONTENDER_LABELS[id],
    num(s.wallSeconds, 2),
    num(s.cpuSeconds, 2),
    num(s.cpuMsPerHost, 1),
    num(s.machineCpuSeconds, 1),
    num(s.hostCpuMsPerHost, 1),
    num(s.peakRssMb, 1),
    `${s.hostsDone}/${s.hosts}`,
    `${num(s.loginsMean, 2)} (max ${s.loginsMax})`,
    execs,
  ];
}

const outcome = (r: RunRecord): string =>
  Object.entries(r.outcome)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

export function renderSize(result: SizeResult, forks: number): string {
  const simulated = result.labHosts !== undefined ? ` (simulated: ${result.hosts} inventory names over ${result.labHosts} lab hosts)` : '';
  const latency = result.latencyMs ? `, ${result.latencyMs} ms added each way by a relay per host` : '';
  const lines = [`== ${result.hosts} hosts${simulated}, forks ${forks}${latency} ==`];
  if (result.labError) {
    lines.push(`NOT MEASURED: ${result.labError}`);
    return lines.join('\n') + '\n';
  }
  lines.push(`lab up took ${num(result.labUpSeconds, 1)} s${result.relayedBytes !== undefined ? `; the relays passed ${(result.relayedBytes / 2 ** 20).toFixed(1)} MB` : ''}`);
  const rows: string[][] = [['', 'wall s', 'CPU s', 'CPU ms/host', 'machine CPU s', 'host CPU ms/host', 'peak RSS MB', 'hosts read', 'logins/host', 'execs/host']];
  for (const id of ORDER) {
    const s = result.summaries[id];
    if (s) rows.push(summaryRow(id, s));
  }
  lines.push(...table(rows));
  const { floor, sshfix, ansible, login } = result.summaries;
  if (sshfix?.hostCpuMsPerHost !== undefined && login?.hostCpuMsPerHost !== undefined) {
    lines.push(`host-side cost above a bare login: sshfix ${num(sshfix.hostCpuMsPerHost - login.hostCpuMsPerHost, 1)} ms/host` +
      (floor?.hostCpuMsPerHost !== undefined ? `, floor ${num(floor.hostCpuMsPerHost - login.hostCpuMsPerHost, 1)} ms/host` : '') +
      (ansible?.hostCpuMsPerHost !== undefined ? `, ansible ${num(ansible.hostCpuMsPerHost - login.hostCpuMsPerHost, 1)} ms/host` : ''));
  }
  const ratios: string[] = [];
  if (floor && sshfix) ratios.push(`sshfix/floor ${num(sshfix.wallSeconds / floor.wallSeconds, 2)}x`);
  if (ansible && sshfix) ratios.push(`ansible/sshfix ${num(ansible.wallSeconds / sshfix.wallSeconds, 1)}x`);
  if (ratios.length > 0) lines.push(`ratios (median wall): ${ratios.join(', ')}`);
  lines.push('runs:');
  for (const r of result.runs) {
    lines.push(`  ${CONTENDER_LABELS[r.contender].padEnd(16)} ${num(r.cost.wallSeconds, 2).padStart(8)} s  exit ${r.cost.exitCode ?? r.cost.signal}  ${outcome(r)}`);
  }
  if (result.breakdown) lines.push(result.breakdown.trimEnd());
  lines.push('targets (DESIGN.md):');
  for (const t of result.targets) lines.push(`  ${t.verdict.padEnd(12)} ${t.target}: ${t.measured}`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines.join('\n') + '\n';
}

export const METHOD_NOTES = [
  'wall: spawn to exit of the whole command, measured by the bench; median of the runs.',
  'CPU, peak RSS: GNU time (rusage of the command and every child it waited for). sshfix: the one node process.',
  '  floor: xargs + sh + every ssh client; peak RSS is the largest single process. Ansible: ansible-playbook and its',
  '  workers and ssh clients, but not its ControlPersist masters (they detach).',
  'machine CPU: busy CPU of the whole machine during the run (/proc/stat): runner, lab sshd sessions, anything else.',
  'host CPU: what the lab hosts spent on the run, per host: each host\'s sshd listener\'s cutime + cstime (the CPU of',
  '  every session it reaped and all they waited for) before and after, read once the sessions ended; exact, and',
  '  blind to other load on the machine. The bare login (ssh HOST true per host) is the reference.',
  'logins/host: "Accepted publickey" lines each run added to each host\'s /var/log/auth.log.',
  'execs/host (sshfix): exec requests counted inside the sshfix process by a preload hook on ssh2 (node --import);',
  '  sshd logs no exec requests at its default LogLevel and lab hosts have no syslog for PAM\'s session lines.',
  'runs alternate between contenders (rotating order per repetition), on a fresh lab per fleet size.',
  'a simulated fleet (a size above the lab\'s block): that many inventory names spread over the lab\'s hosts in turn, so',
  '  sshfix makes that many connections, fact sets and reports; per-host counts are per inventory name.',
  '--latency MS: a TCP relay per lab host, in the bench\'s process, holds every chunk MS ms in each direction; every',
  '  contender connects through it (inventory, ssh config and known_hosts name the relay addresses, 127.77.98-99.x).',
];
