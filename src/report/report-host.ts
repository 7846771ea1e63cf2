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
  const reduced: HostPlan = {
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
  return JSON.parse(JSON.stringify(reduced)) as HostPlan;
}
