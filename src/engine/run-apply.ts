/**
 * `apply` across a fleet: rolling batches, each host a transaction (transaction.ts). A host is
 * planned from fresh facts on the connection that then commits (one connection plus the fresh
 * login), or, from a saved plan, its files are checked against the plan's digests and exactly the
 * planned contents are written.
 */
import { toConnectTarget } from '../model/connect-target.js';
import type { Inventory, ResolvedHost } from '../model/inventory.js';
import type { PlainValue } from '../lang/yaml-tree.js';
import type { Connection, Transport } from '../transport/index.js';
import { batchSizes, exceedsFailPercent, type SerialStep } from './batches.js';
import { lookupService } from '../services/registry.js';
import { fileDigests, sha256Hex, type HostFacts } from './facts.js';
import { savedFiles, staleFiles, type SavedHostPlan } from './plan-file.js';
import { emptyHostPlan, type HostPlan } from './plan-model.js';
import type { ProgressReporter } from './progress.js';
import { BuildCache } from './build-cache.js';
import { localHostRefusal } from './local-host.js';
import { factsFor } from './gather-facts.js';
import { hostFailure, planOneHost, runPool, type HostWork } from './run-plan.js';
import { runActions, runTransaction, type TouchedService, type TransactionInput, type TransactionOptions, type TransactionRecord } from './transaction.js';

/** A host's plan with what its apply transaction did (the report renders the record). */
export type AppliedHost = HostPlan & { apply?: TransactionRecord };

/**
 * One host to apply: from fresh facts (`work`), a saved plan's host (`saved`), or a host whose plan
 * in this same run left nothing to apply (`settled`: ok, failed or unreachable), reported as planned
 * and counted in its batch like any other.
 */
export type ApplyItem =
  | { host: ResolvedHost; work: HostWork; saved?: undefined; settled?: undefined }
  | { host: ResolvedHost; saved: SavedHostPlan; work?: undefined; settled?: undefined }
  | { host: ResolvedHost; settled: HostPlan; work?: undefined; saved?: undefined };

export interface RunApplyOptions {
  items: readonly ApplyItem[];
  serial: readonly SerialStep[];
  maxFailPercent?: number;
  forks: number;
  transport: Transport;
  inventory: Inventory;
  cliVars: Readonly<Record<string, PlainValue>>;
  progress: ProgressReporter;
  signal?: AbortSignal;
  transaction: Pick<TransactionOptions, 'deadmanSeconds' | 'settleMs' | 'backupRoot' | 'keepBackups' | 'now'>;
}

/** The services a change touches, with their facts and their part of the plan. */
function touchedServices(facts: HostFacts, plans: Readonly<Record<string, unknown>>): TouchedService[] {
  const serviceFacts: Readonly<Record<string, unknown>> = facts.services;
  return Object.entries(plans).flatMap(([id, plan]) => {
    const service = lookupService(id);
    return service ? [{ service, facts: serviceFacts[id], plan }] : [];
  });
}

/** Why the live facts forbid any change (a service's pre-check), or undefined. */
function precheckFailure(facts: HostFacts): { code: string; message: string; diagnosis?: string } | undefined {
  for (const [id, serviceFacts] of Object.entries(facts.services)) {
    const refusal = lookupService(id)?.precheck(serviceFacts);
    if (refusal) return refusal;
  }
  return undefined;
}

interface CommitRequest extends TransactionInput {
  plan: AppliedHost;
}

async function commit(request: CommitRequest, host: ResolvedHost, options: RunApplyOptions): Promise<AppliedHost> {
  const { plan, ...input } = request;
  const target = toConnectTarget(options.inventory, host);
  const settings = {
    ...options.transaction,
    freshLogin: () => options.transport.connect(target),
    stage: (text: string) => options.progress.stage(host.name, text),
  };
  // A change that writes no file is only actions on running services: nothing to back up or restore.
  const record = input.files.length > 0 ? await runTransaction(input, settings) : await runActions(input, settings);
  plan.apply = record;
  if (record.outcome === 'applied') {
    plan.status = 'changed';
  } else {
    plan.status = 'failed';
    if (record.error) plan.error = record.error;
  }
  return plan;
}

async function applyFresh(item: ApplyItem & { work: HostWork }, options: RunApplyOptions & { builds: BuildCache }): Promise<AppliedHost> {
  const planned = await planOneHost(item.work, { ...options, keepOpen: true });
  const plan: AppliedHost = planned.plan;
  const { connection, facts } = planned;
  try {
    if (!connection || !facts || plan.status === 'failed' || plan.status === 'unreachable' || (plan.files.length === 0 && plan.actions.length === 0)) return plan;
    return await commit(
      {
        plan,
        connection,
        files: plan.files,
        expected: new Map(plan.files.map((f) => [f.path, f.before ? sha256Hex(f.before) : null])),
        expectations: plan.expectations,
        services: touchedServices(facts, plan.services),
      },
      item.host,
      options,
    );
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function applySaved(item: ApplyItem & { saved: SavedHostPlan }, options: RunApplyOptions & { builds: BuildCache }): Promise<AppliedHost> {
  const { host, saved } = item;
  const plan: AppliedHost = emptyHostPlan(host.name, host.address, 'ok');
  plan.changes = saved.changes;
  plan.actions = saved.actions ?? [];
  plan.warnings = [...saved.warnings];
  if (saved.status === 'failed' || saved.status === 'unreachable' || saved.status === 'skipped') {
    plan.status = 'failed';
    plan.error = { code: 'not-in-plan', message: `the saved plan has no changes for this host (it was ${saved.status} when planned)`, diagnosis: 'Plan again once the host is fixed.' };
    return plan;
  }
  if (saved.files.length === 0 && plan.actions.length === 0) return plan;
  const refusal = localHostRefusal(host, Object.keys(saved.services));
  if (refusal) {
    plan.status = 'failed';
    plan.error = refusal;
    return plan;
  }
  let connection: Connection | undefined;
  try {
    options.progress.stage(host.name, 'connecting');
    connection = await options.transport.connect(toConnectTarget(options.inventory, host));
    options.progress.stage(host.name, 'checking the plan is current');
    const facts = await factsFor(connection, host, saved.fact_request, options.builds);
    plan.filesRead = fileDigests(facts);
    // Only files the plan read (and that still are what it read, where it read them) are written.
    const moved = saved.files.filter((f) => (facts.symlinks.get(f.path) ?? f.path) !== f.write_path || !(f.path in saved.files_read)).map((f) => f.path);
    const stale = [...new Set([...staleFiles(saved.files_read, plan.filesRead), ...moved])].sort();
    if (stale.length > 0) {
      plan.status = 'failed';
      plan.error = {
        code: 'stale-plan',
        message: `files changed since the plan was made: ${stale.join(', ')}`,
        diagnosis: 'Nothing was changed on this host. Run plan again and review the new diff.',
      };
      return plan;
    }
    const refusal = precheckFailure(facts);
    if (refusal) {
      plan.status = 'failed';
      plan.error = { code: refusal.code, message: refusal.message };
      return plan;
    }
    const files = savedFiles(saved).map((f) => {
      const before = facts.files.get(f.path)?.content;
      return before ? { ...f, before } : f;
    });
    plan.files = files;
    plan.services = saved.services;
    return await commit(
      {
        plan,
        connection,
        files,
        expected: new Map(saved.files.map((f) => [f.path, f.before_sha256])),
        expectations: saved.expectations,
        services: touchedServices(facts, saved.services),
      },
      host,
      options,
    );
  } catch (error) {
    return hostFailure(plan, error, connection !== undefined);
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Applies every item in rolling batches. The result follows the order of `items`. */
export async function runApply(runOptions: RunApplyOptions): Promise<AppliedHost[]> {
  const options = { ...runOptions, builds: new BuildCache() };
  const results: AppliedHost[] = new Array(options.items.length);
  const sizes = batchSizes(options.items.length, options.serial);
  let offset = 0;
  let started = 0;
  let failed = 0;
  let stopReason: string | undefined;
  for (const [batchIndex, size] of sizes.entries()) {
    const batch = options.items.slice(offset, offset + size);
    if (!stopReason && options.signal?.aborted) stopReason = 'interrupted';
    if (stopReason) {
      batch.forEach((item, i) => (results[offset + i] = skippedHost(item.host, stopReason as string, options.progress)));
      offset += size;
      continue;
    }
    const done = await runPool(batch, options.forks, async (item) => {
      if (options.signal?.aborted) return skippedHost(item.host, 'interrupted', options.progress);
      let result: AppliedHost;
      try {
        result = item.settled ?? (item.saved ? await applySaved(item, options) : await applyFresh(item as ApplyItem & { work: HostWork }, options));
      } catch (error) {
        // One host's trouble never reaches the others' transactions.
        result = hostFailure(emptyHostPlan(item.host.name, item.host.address, 'failed'), error, true);
      }
      options.progress.done(item.host.name, result.status, result.error?.code ?? (result.status === 'changed' ? 'applied' : undefined));
      return result;
    });
    done.forEach((r, i) => (results[offset + i] = r));
    offset += size;
    started += done.filter((r) => r.status !== 'skipped').length;
    failed += done.filter((r) => r.status === 'failed' || r.status === 'unreachable').length;
    if (exceedsFailPercent(failed, started, options.maxFailPercent) && batchIndex < sizes.length - 1) {
      stopReason = `rollout stopped after batch ${batchIndex + 1}: ${failed} of ${started} host(s) failed, more than --max-fail-percent ${options.maxFailPercent}`;
    }
  }
  return results;
}

function skippedHost(host: ResolvedHost, reason: string, progress: ProgressReporter): AppliedHost {
  const plan: AppliedHost = emptyHostPlan(host.name, host.address, 'skipped');
  plan.notes.push({ task: 'apply', message: `not started: ${reason}` });
  progress.done(host.name, 'skipped', reason === 'interrupted' ? 'interrupted' : 'rollout stopped');
  return plan;
}
