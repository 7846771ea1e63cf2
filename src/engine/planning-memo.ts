/**
 * Planning shared between a run's hosts (plan only). A task planner is a pure function of the
 * task, the host's facts, its files as the earlier tasks left them and sshfix's own login; a fleet
 * managed by configuration management has many hosts for which all of these are the same, and
 * planning (the sshd config engine above all) is the largest part of the runner's CPU per host.
 *
 * So a host's planning is keyed by a digest of everything a planner can read, chained through its
 * tasks (the files a task sees are the facts' files with the earlier tasks' edits applied, so the
 * earlier tasks are part of its key), and a host whose key was planned before gets that outcome.
 * What a host alone has (its inventory name, address and hostname) is left out of the digest; a
 * planner that reads one of them anyway is seen doing so, and its outcome is kept for that host
 * only. Outcomes are frozen, so that nothing can change one host's plan through another's.
 *
 * Pure: in memory, no I/O.
 */
import { createHash } from 'node:crypto';
import type { HostFacts } from './facts.js';
import type { PlanOutcome, RunnerLogin } from '../tasks/planner.js';
import { deepFreeze } from '../util/deep-freeze.js';
import { LruMap } from '../util/lru-map.js';

/** The facts only one host has: never digested, watched when a planner runs. */
const HOST_IDENTITY: ReadonlySet<PropertyKey> = new Set(['name', 'address', 'hostname']);

/** How many outcomes a run keeps: enough for the distinct configurations of a large fleet, bounded so memory follows --forks. */
const DEFAULT_LIMIT = 512;

class Undigestible extends Error {}

/**
 * Appends an unambiguous encoding of `value` to `parts`: every item is tagged and strings carry
 * their length. Maps and objects are taken in their own order (the same inputs built the same way
 * give the same digest; another order only costs a miss). Throws Undigestible on what has no value
 * semantics (functions, symbols, cycles).
 */
function encode(value: unknown, parts: string[], open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      parts.push(`s${value.length}:`, value);
      return;
    case 'number':
    case 'boolean':
    case 'bigint':
      parts.push(`${typeof value}:${String(value)};`);
      return;
    case 'undefined':
      parts.push('u;');
      return;
    case 'object':
      break;
    default:
      throw new Undigestible(typeof value);
  }
  if (value === null) {
    parts.push('n;');
    return;
  }
  if (Buffer.isBuffer(value)) {
    parts.push(`b${value.length}:`, value.toString('latin1'));
    return;
  }
  if (open.has(value)) throw new Undigestible('cycle');
  open.add(value);
  if (Array.isArray(value)) {
    parts.push(`a${value.length}[`);
    for (const item of value) encode(item, parts, open);
  } else if (value instanceof Map) {
    parts.push(`m${value.size}[`);
    for (const [key, item] of value) {
      encode(key, parts, open);
      encode(item, parts, open);
    }
  } else if (value instanceof Set) {
    parts.push(`S${value.size}[`);
    for (const item of value) encode(item, parts, open);
  } else {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) throw new Undigestible('class instance');
    const keys = Object.keys(value);
    parts.push(`o${keys.length}[`);
    for (const key of keys) {
      parts.push(`k${key.length}:`, key);
      encode((value as Record<string, unknown>)[key], parts, open);
    }
  }
  parts.push(']');
  open.delete(value);
}

/** sha256 of `values`' encoding, or undefined when one cannot be digested. */
export function digestValues(...values: unknown[]): string | undefined {
  const parts: string[] = [];
  try {
    for (const value of values) encode(value, parts, new Set());
  } catch (error) {
    if (error instanceof Undigestible) return undefined;
    throw error;
  }
  // UTF-16 code units as they are: every JS string, lone surrogates included, encodes differently.
  return createHash('sha256').update(parts.join(''), 'utf16le').digest('hex');
}

/** Everything of the facts a planner may read but the host's identity. */
function factsWithoutIdentity(facts: HostFacts): Record<string, unknown> {
  return Object.fromEntries(Object.entries(facts).filter(([key]) => !HOST_IDENTITY.has(key)));
}

/** The run's shared planning: outcomes (and what is derived from them) by chained key, least recently used dropped first. */
export class PlanningMemo {
  private readonly outcomes: LruMap<string, unknown>;
  private hitCount = 0;

  constructor(limit = DEFAULT_LIMIT) {
    this.outcomes = new LruMap(limit);
  }

  /** A host's chain of keys, or undefined when its facts cannot be digested (it plans alone). */
  forHost(facts: HostFacts, login: RunnerLogin | undefined): HostPlanning | undefined {
    const start = digestValues(factsWithoutIdentity(facts), login ?? null);
    return start === undefined ? undefined : new HostPlanning(this, facts, start);
  }

  /** How many task outcomes were taken from another host (for tests and the bench). */
  get hits(): number {
    return this.hitCount;
  }

  /** @internal */
  lookup(key: string): unknown {
    const outcome = this.outcomes.get(key);
    if (outcome !== undefined) this.hitCount++;
    return outcome;
  }

  /** @internal */
  store(key: string, outcome: unknown): void {
    this.outcomes.set(key, outcome);
  }
}

/** One host's tasks, in order, against the memo. */
export class HostPlanning {
  constructor(
    private readonly memo: PlanningMemo,
    private readonly facts: HostFacts,
    private chain: string | undefined,
  ) {}

  /**
   * The outcome of a task: another host's when the chain so far and the task are the same, else
   * `run`'s, given facts that tell when the planner reads the host's identity. After a task whose
   * outcome belongs to this host alone, the later tasks plan alone too (their files differ).
   */
  plan(task: { kind: string; name: string; params: unknown }, run: (facts: HostFacts) => PlanOutcome): PlanOutcome {
    const key = this.chain === undefined ? undefined : digestValues(this.chain, task.kind, task.name, task.params);
    const { value, own } = this.share(key, run);
    this.chain = own ? undefined : key;
    return value;
  }

  /**
   * What a pure function of the host's tasks so far (their outcomes and the files they leave) and
   * its facts makes of them, e.g. a service's plan or its candidate checks: another host's when
   * the chain and `label` (which names the function and any further input) are the same.
   */
  derive<T>(label: string, run: (facts: HostFacts) => T): T {
    return this.share(this.chain === undefined ? undefined : digestValues(this.chain, 'derived', label), run).value;
  }

  /** `run`'s value under `key`, or the stored one; `own` when it read the host's identity (then not stored). */
  private share<T>(key: string | undefined, run: (facts: HostFacts) => T): { value: T; own: boolean } {
    if (key === undefined) return { value: run(this.facts), own: true };
    const known = this.memo.lookup(key);
    if (known !== undefined) return { value: known as T, own: false };
    let identityRead = false;
    const watched = new Proxy(this.facts, {
      get(target, property, receiver) {
        if (HOST_IDENTITY.has(property)) identityRead = true;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const value = run(watched);
    if (!identityRead) this.memo.store(key, deepFreeze(value));
    return { value, own: identityRead };
  }
}
