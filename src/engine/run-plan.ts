/**
 * `plan` across a fleet: select hosts, then per host (at most `forks` at a time) connect once and
 * open one shell (see HostSession), read the facts over it, plan the tasks (pure), and have each
 * touched service validate its changed files on the host over the same shell. Nothing on any host
 * changes.
 */
import { setFlagsFromString } from 'node:v8';
import { toConnectTarget } from '../model/connect-target.js';
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';
import type { HostPattern } from '../model/host-pattern.js';
import type { Inventory, ResolvedHost } from '../model/inventory.js';
import type { Play, Playbook } from '../model/playbook.js';
import { selectPlayHosts } from '../model/validate-project.js';
import type { PlainValue } from '../lang/yaml-tree.js';
import { describeTransportError, TransportError, type Connection, type Transport } from '../transport/index.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { lookupService, type ServiceId } from '../services/registry.js';
import type { CandidateCheck } from '../services/service.js';
import { TASK_NEEDS } from '../tasks/planners.js';
import { isTaskKindName } from '../tasks/registry.js';
import { BuildCache } from './build-cache.js';
import type { FactRequest } from './facts-script.js';
import type { HostFacts } from './facts.js';
import { createRunCaches, FactError, HostSession, type RunCaches } from './gather-facts.js';
import { localHostRefusal } from './local-host.js';
import { describeWork, emptyHostPlan, type HostPlan } from './plan-model.js';
import type { HostFiles } from './host-files.js';
import { planHost } from './plan-host.js';
import type { HostPlanning } from './planning-memo.js';
import type { ProgressReporter } from './progress.js';

/** One host and the plays that target it, in run order. */
export interface HostWork {
  host: ResolvedHost;
  plays: Play[];
}

/** The hosts the playbooks select (narrowed by -l), in inventory order, each with its plays. */
export function selectWork(inventory: Inventory, playbooks: readonly Playbook[], limit?: HostPattern): { work: HostWork[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const playsByHost = new Map<string, Play[]>();
  for (const playbook of playbooks) {
    for (const play of playbook.plays) {
      const selected = selectPlayHosts(inventory, play, limit);
      diagnostics.push(...selected.diagnostics);
      for (const host of selected.hosts) {
        const plays = playsByHost.get(host.name) ?? [];
        plays.push(play);
        playsByHost.set(host.name, plays);
      }
    }
  }
  const work = inventory.hosts.filter((h) => playsByHost.has(h.name)).map((host) => ({ host, plays: playsByHost.get(host.name) as Play[] }));
  return { work, diagnostics };
}

/**
 * What the plays' tasks need read: the services their kinds declare, each with its default paths
 * and those the tasks name, and the login's groups when a task may write something that depends on them.
 */
export function factRequestFor(plays: readonly Play[]): FactRequest {
  const services = new Map<string, Set<string>>();
  let groups = false;
  for (const play of plays) {
    for (const task of play.tasks) {
      if (!isTaskKindName(task.kind)) continue;
      const needs = TASK_NEEDS[task.kind];
      if (needs.needsLoginGroups?.(task.params)) groups = true;
      for (const id of needs.services) if (!services.has(id)) services.set(id, new Set(lookupService(id)?.defaultPaths ?? []));
      for (const [id, paths] of Object.entries(needs.factPaths?.(task.params) ?? {}) as [ServiceId, string[]][]) {
        for (const path of paths) services.get(id)?.add(path);
      }
    }
  }
  return { services: Object.fromEntries([...services].map(([id, paths]) => [id, [...paths]])), files: [], dirs: [], ...(groups ? { groups } : {}) };
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the input order in the results. */
export async function runPool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface PlannedHostResult {
  plan: HostPlan;
  facts?: HostFacts;
  /** Left open when the caller asked to keep it (apply goes on with it). */
  connection?: Connection;
  request?: FactRequest;
}

export interface PlanHostOptions {
  transport: Transport;
  cliVars: Readonly<Record<string, PlainValue>>;
  inventory: Inventory;
  progress: ProgressReporter;
  /** Keep the connection open for the caller (apply). */
  keepOpen: boolean;
  /** The run's build facts, shared by its hosts. */
  builds?: BuildCache;
  /** The run's shared fact records and candidate verdicts (plan only: apply reads and checks every host itself). */
  caches?: RunCaches;
}

/** Classifies an error thrown while working on a host into the plan's terms. */
export function hostFailure(plan: HostPlan, error: unknown, connected: boolean): HostPlan {
  if (error instanceof TransportError) {
    const described = describeTransportError(error);
    plan.status = connected ? 'failed' : 'unreachable';
    plan.error = { code: described.code, message: described.message, diagnosis: described.diagnosis };
  } else if (error instanceof FactError) {
    plan.status = 'failed';
    plan.error = { code: error.code, message: error.message, ...(error.diagnosis ? { diagnosis: error.diagnosis } : {}) };
  } else {
    plan.status = 'failed';
    plan.error = {
      code: 'internal',
      message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
      diagnosis: 'This is a bug in sshfix; please report it with the command and this message.',
    };
  }
  return plan;
}

/** Connects, gathers facts, plans and validates one host. Never throws: failures are in the plan. */
export async function planOneHost(work: HostWork, options: PlanHostOptions): Promise<PlannedHostResult> {
  const { host } = work;
  let connection: Connection | undefined;
  const request = factRequestFor(work.plays);
  try {
    options.progress.stage(host.name, 'connecting');
    connection = await options.transport.connect(toConnectTarget(options.inventory, host));
    options.progress.stage(host.name, 'gathering facts');
    // One shell on the host for the facts and the candidate checks.
    const session = await HostSession.open(connection, { name: host.name, address: host.address, ...(options.builds ? { builds: options.builds } : {}), ...(options.caches ? { caches: options.caches } : {}) });
    const facts = await session.facts(request);
    const { plan, state, shared } = planHost({ host, plays: work.plays, cliVars: options.cliVars, facts, ...(options.caches ? { memo: options.caches.planning } : {}) });
    // Read-only tasks are fine anywhere; a change is refused where it could not be proven.
    const refusal = plan.status === 'failed' ? undefined : localHostRefusal(host, Object.keys(plan.services));
    if (refusal) {
      plan.status = 'failed';
      plan.error = refusal;
    }
    if (plan.status !== 'failed') await validateCandidates(session, plan, state, request, shared, (text) => options.progress.stage(host.name, text));
    await session.close();
    if (!options.keepOpen) {
      await connection.close();
      connection = undefined;
    }
    return { plan, facts, request, ...(connection ? { connection } : {}) };
  } catch (error) {
    if (connection) await connection.close().catch(() => undefined);
    return { plan: hostFailure(emptyHostPlan(host.name, host.address, 'failed'), error, connection !== undefined) };
  }
}

/**
 * Each touched service checks its candidate files on the host (one round trip per check); the
 * first rejection fails the plan. The checks are derived from the host's planning: hosts that
 * planned alike share them.
 */
async function validateCandidates(
  session: HostSession,
  plan: HostPlan,
  state: HostFiles,
  request: FactRequest,
  shared: HostPlanning | undefined,
  stage: (text: string) => void,
): Promise<void> {
  let snapshot: FileSnapshot | undefined;
  for (const [id, servicePlan] of Object.entries(plan.services)) {
    const service = lookupService(id);
    if (!service) continue;
    const requested = request.services[id] ?? [];
    const derive = (): readonly CandidateCheck[] => service.candidateChecks({ plan: servicePlan, snapshot: (snapshot ??= state.snapshot()), changed: plan.files, requested });
    const checks = shared ? shared.derive(`candidateChecks ${id}\n${requested.join('\n')}`, derive) : derive();
    if (checks.length > 0) stage(service.validatingStage);
    for (const check of checks) {
      const result = await session.check(id, check);
      const message = result.stdout.replace(/\r/g, '').trim();
      plan.validation = result.exitCode === 0 ? { ok: true } : { ok: false, message: message || result.stderr.trim() };
      if (result.exitCode !== 0) {
        plan.status = 'failed';
        const rejected = service.candidateRejected(plan.validation.message ?? '');
        plan.error = { code: rejected.code, message: rejected.message, ...(rejected.diagnosis ? { diagnosis: rejected.diagnosis } : {}) };
        return;
      }
    }
  }
}

export interface RunPlanOptions extends Omit<PlanHostOptions, 'keepOpen'> {
  work: readonly HostWork[];
  forks: number;
  /** Stop starting hosts (SIGINT): those not started are reported skipped. */
  signal?: AbortSignal;
  /**
   * What to keep of each host once it is done (e.g. only what the report shows), so that memory
   * follows the hosts in flight rather than the fleet. Everything when absent.
   */
  keep?: (result: PlanRunResult) => PlanRunResult;
}

/** What plan keeps of each host: the plan, and what a saved plan needs to be applied later. */
export type PlanRunResult = Pick<PlannedHostResult, 'plan' | 'request'>;

/**
 * A run allocates steadily (handshakes, fact output, planning) while little stays alive: the hosts
 * in flight and what the report keeps of the others. Left to its defaults, V8 lets the young
 * generation grow to 16 MB per semi-space and the old one to several times the live data before
 * collecting, which on a fleet of hundreds of hosts took the runner from about 100 to 180 MB for
 * no gain. These keep the young generation at its starting size and the old one within 1.5x of
 * what is alive (measured on 400 lab hosts at --forks 100: peak RSS 178 -> 101 MB, CPU about 5%
 * more; loading a 10,000-host inventory: 206 -> 135 MB). They take effect at the next collection;
 * the process runs one command.
 */
export function boundHeapGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=50');
}

/** Plans every host of `work`; the order of the result follows `work`. */
export async function runPlan(runOptions: RunPlanOptions): Promise<PlanRunResult[]> {
  boundHeapGrowth();
  const options = { ...runOptions, builds: runOptions.builds ?? new BuildCache(), caches: runOptions.caches ?? createRunCaches() };
  const keep = options.keep ?? ((result: PlanRunResult): PlanRunResult => result);
  return runPool(options.work, options.forks, async (work): Promise<PlanRunResult> => {
    if (options.signal?.aborted) {
      options.progress.done(work.host.name, 'skipped', 'interrupted');
      return keep({ plan: emptyHostPlan(work.host.name, work.host.address, 'skipped') });
    }
    const { plan, request } = await planOneHost(work, { ...options, keepOpen: false });
    options.progress.done(work.host.name, plan.status, plan.error?.code ?? (plan.status === 'changed' ? describeWork(plan.changes.length, plan.actions.length) : undefined));
    return keep({ plan, ...(request ? { request } : {}) });
  });
}
