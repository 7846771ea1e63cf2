/**
 * A finished host's plan reduced to what the reports show: each change's diff instead of the
 * file's texts before and after, and nothing of what only apply and saved plans need (planned
 * contents, digests of the files read, expectations, per-service plan data). A run keeps this of
 * every host it is done with, so its memory follows the hosts in flight, not the fleet. Pure.
 *
 * The result is a copy through JSON: V8 keeps a substring or a concatenation pointing into the
 * string it came from, so a message quoting one value of a config file would otherwise keep the
 * host's whole file (and its facts) alive.
 */
import type { HostPlan } from '../engine/plan-model.js';
import { changeDiff } from './diff.js';

export function reportOnly(plan: HostPlan): HostPlan {
  return JSON.parse(JSON.stringify(reduce(plan))) as HostPlan;
}

/**
 * reportOnly for the hosts of one run, keeping each distinct text once: hosts built alike get the
 * same diffs, task names, notes, warnings and facts (a host's name and address are its own), which would otherwise be held once per host
 * (about 2.5 KB a host, most of a 10,000-host run's memory). The reports are the same.
 */
export function sharedReportOnly(): (plan: HostPlan) => HostPlan {
  const texts = new Map<string, string>();
  const share = (key: string, value: unknown): unknown => {
    if (typeof value !== 'string' || key === 'name' || key === 'address') return value;
    const known = texts.get(value);
    if (known !== undefined) return known;
    texts.set(value, value);
    return value;
  };
  return (plan) => JSON.parse(JSON.stringify(reduce(plan)), share) as HostPlan;
}

function reduce(plan: HostPlan): HostPlan {
  return {
    ...plan,
    changes: plan.changes.map((c) => ({
      task: c.task,
      path: c.path,
      action: c.action,
      ...(c.beforeSha256 !== undefined ? { beforeSha256: c.beforeSha256 } : {}),
      diff: changeDiff(c),
    })),
    filesRead: {},
    files: [],
    expectations: [],
    services: {},
  };
}
