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
import { createHash } from 'node:crypto';
import type { FileChange, HostPlan } from '../engine/plan-model.js';
import { LruMap } from '../util/lru-map.js';
import { changeDiff } from './diff.js';

type DiffOf = (change: FileChange) => string;

export function reportOnly(plan: HostPlan): HostPlan {
  return JSON.parse(JSON.stringify(reduce(plan, changeDiff))) as HostPlan;
}

/** How many diffs a run keeps for hosts whose change is the same: one per distinct change of a large fleet, bounded. */
const DIFF_MEMO_LIMIT = 256;

/**
 * changeDiff for the hosts of one run: hosts built alike make the same change, and computing a
 * diff costs far more than a digest of its texts, so each distinct change (path, before, after)
 * is diffed once; the least recently used is dropped past the limit.
 */
function memoizedDiff(): DiffOf {
  const diffs = new LruMap<string, string>(DIFF_MEMO_LIMIT);
  return (change) => {
    if (change.diff !== undefined) return change.diff;
    const hash = createHash('sha256').update(`${change.path.length}:${change.path}`);
    if (change.before !== undefined) hash.update(`b${change.before.length}:`).update(change.before);
    const key = hash.update(`a${(change.after ?? '').length}:`).update(change.after ?? '').digest('hex');
    const known = diffs.get(key);
    if (known !== undefined) return known;
    const diff = changeDiff(change);
    diffs.set(key, diff);
    return diff;
  };
}

/**
 * reportOnly for the hosts of one run, keeping what hosts share once: hosts built alike get the
 * same diffs, task names, notes, warnings and facts (a host's name and address are its own),
 * which would otherwise be held once per host (about 4.5 KB a host of the simulated fleet, most
 * of a 10,000-host run's memory). Equal texts become one string, and equal parts (a change, a
 * note, the facts, a list of them) one frozen object, found by what they hold: the JSON parse
 * revives bottom-up, so a part's children are already shared and it is known by their ids. The
 * reports read these plans and never change them; frozen, a shared part cannot be changed
 * through one host for another. The reports are the same.
 */
export function sharedReportOnly(): (plan: HostPlan) => HostPlan {
  const texts = new Map<string, { text: string; id: number }>();
  const parts = new Map<string, object>();
  const partIds = new WeakMap<object, number>();
  let nextId = 0;
  const idOf = (value: unknown): string => {
    if (typeof value === 'string') return `s${texts.get(value)?.id ?? JSON.stringify(value)}`;
    if (typeof value === 'object' && value !== null) return `p${partIds.get(value) ?? 'x'}`;
    return `v${String(value)}`;
  };
  const share = (key: string, value: unknown): unknown => {
    if (typeof value === 'string') {
      if (key === 'name' || key === 'address') return value;
      const known = texts.get(value);
      if (known) return known.text;
      texts.set(value, { text: value, id: nextId++ });
      return value;
    }
    // The root (key '') is the host itself.
    if (typeof value !== 'object' || value === null || key === '') return value;
    const shape = Array.isArray(value)
      ? `[${value.map(idOf).join(',')}]`
      : `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${idOf(v)}`).join(',')}}`;
    const known = parts.get(shape);
    if (known) return known;
    parts.set(shape, Object.freeze(value));
    partIds.set(value, nextId++);
    return value;
  };
  const diffOf = memoizedDiff();
  return (plan) => JSON.parse(JSON.stringify(reduce(plan, diffOf)), share) as HostPlan;
}

function reduce(plan: HostPlan, diffOf: DiffOf): HostPlan {
  return {
    ...plan,
    changes: plan.changes.map((c) => ({
      task: c.task,
      path: c.path,
      action: c.action,
      ...(c.beforeSha256 !== undefined ? { beforeSha256: c.beforeSha256 } : {}),
      diff: diffOf(c),
    })),
    filesRead: {},
    files: [],
    expectations: [],
    services: {},
  };
}
