/**
 * One contender's run, as the bench reports it, and the numbers derived from a set of runs.
 */
import type { ProcessCost } from './timed-process.js';

export type ContenderId = 'login' | 'floor' | 'sshfix' | 'ansible';

export const CONTENDER_LABELS: Record<ContenderId, string> = {
  login: 'bare login',
  floor: 'OpenSSH floor',
  sshfix: 'sshfix plan',
  ansible: 'ansible --check',
};

/** Per-host counts over the hosts of one run. */
export interface PerHost {
  mean: number;
  max: number;
}

export interface RunRecord {
  contender: ContenderId;
  cost: ProcessCost;
  /** Hosts whose reads completed (the work the run exists to do). */
  hostsDone: number;
  hosts: number;
  /** Outcome by status, e.g. { changed: 343, "failed config-invalid": 71 }. */
  outcome: Record<string, number>;
  /** Authenticated connections per host, from each host's auth.log. */
  logins: PerHost;
  /** Exec requests per host (sshfix only: counted inside its process). */
  execs?: PerHost;
  /** Connections sshfix started per host, authenticated or not (sshfix only). */
  connects?: PerHost;
  /** CPU the hosts' sshd sessions spent, per host (their listeners' cutime + cstime). */
  hostCpuMsPerHost?: number;
}

export function perHost(values: readonly number[]): PerHost {
  if (values.length === 0) return { mean: 0, max: 0 };
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
