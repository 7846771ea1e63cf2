/**
 * `rollback` across hosts: per host, list its transactions (one round trip), read the files the
 * chosen one wrote with their backups and the touched services' facts (a second), plan the
 * rollback (rollback-plan.ts), then run it as a transaction of its own (transaction.ts): backup,
 * dead-man switch, validation, reload, fresh login, verification, confirmation. So a rollback can
 * itself be rolled back.
 */
import { toConnectTarget } from '../model/connect-target.js';
import type { Inventory, ResolvedHost } from '../model/inventory.js';
import type { Connection, Transport } from '../transport/index.js';
import { localHostRefusal } from './local-host.js';
import { emptyHostPlan } from './plan-model.js';
import type { ProgressReporter } from './progress.js';
import { chooseTransaction, parseTransactionList, planRollback, rollbackFactRequest, buildTransactionListScript, type RollbackPlan } from './rollback-plan.js';
import type { AppliedHost } from './run-apply.js';
import { factsFor } from './gather-facts.js';
import { hostFailure, runPool } from './run-plan.js';
import { runTransaction, type TransactionOptions } from './transaction.js';

export interface RollbackOptions {
  transport: Transport;
  inventory: Inventory;
  progress: ProgressReporter;
  forks: number;
  /** The transaction to undo; else each host's newest confirmed one. */
  transactionId?: string;
  transaction: Pick<TransactionOptions, 'deadmanSeconds' | 'settleMs' | 'backupRoot' | 'keepBackups' | 'now'>;
  signal?: AbortSignal;
}

/** A host's rollback, planned on a connection kept open to run it. */
export interface PreparedRollback {
  host: ResolvedHost;
  plan: AppliedHost;
  ready?: RollbackPlan & { connection: Connection };
}

/** Connects and plans the rollback of one host. Never throws: a refusal is the plan's error. */
async function prepare(host: ResolvedHost, options: RollbackOptions): Promise<PreparedRollback> {
  let connection: Connection | undefined;
  const failed = (error: NonNullable<AppliedHost['error']>): PreparedRollback => {
    const plan: AppliedHost = emptyHostPlan(host.name, host.address, 'failed');
    plan.error = error;
    return { host, plan };
  };
  try {
    options.progress.stage(host.name, 'connecting');
    connection = await options.transport.connect(toConnectTarget(options.inventory, host));
    options.progress.stage(host.name, 'reading transactions');
    const listing = await connection.exec('exec sh -s', { stdin: buildTransactionListScript(options.transaction.backupRoot), timeoutMs: 60_000 });
    if (listing.exitCode !== 0) return failed({ code: 'facts-failed', message: `listing ${options.transaction.backupRoot} failed (exit ${listing.exitCode ?? listing.signal}): ${listing.stderr.toString('utf8').trim()}` });
    const chosen = chooseTransaction(parseTransactionList(listing.stdout.toString('utf8')), options.transaction.backupRoot, options.transactionId);
    if ('error' in chosen) return failed(chosen.error);
    options.progress.stage(host.name, `reading transaction ${chosen.id}`);
    const facts = await factsFor(connection, host, rollbackFactRequest(chosen, options.transaction.backupRoot));
    const planned = planRollback({ host, chosen, facts, backupRoot: options.transaction.backupRoot });
    if ('error' in planned) return failed(planned.error);
    const refusal = localHostRefusal(host, planned.services.map((s) => s.service.id));
    if (refusal) return failed(refusal);
    const ready = { ...planned, connection };
    connection = undefined;
    return { host, plan: planned.plan, ready };
  } catch (error) {
    return { host, plan: hostFailure(emptyHostPlan(host.name, host.address, 'failed'), error, connection !== undefined) };
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Plans the rollback of every host (connections of those ready stay open: pass them to `commitRollbacks` or `closeRollbacks`). */
export async function prepareRollbacks(hosts: readonly ResolvedHost[], options: RollbackOptions): Promise<PreparedRollback[]> {
  return runPool(hosts, options.forks, async (host) => {
    const prepared = await prepare(host, options);
    options.progress.done(host.name, prepared.plan.status, prepared.plan.error?.code ?? `${prepared.plan.changes.length} file(s) to put back`);
    return prepared;
  });
}

/** Runs each ready rollback as a transaction; the others keep their refusal. Closes every connection. */
export async function commitRollbacks(prepared: readonly PreparedRollback[], options: RollbackOptions): Promise<AppliedHost[]> {
  return runPool(prepared, options.forks, async ({ host, plan, ready }) => {
    if (!ready) {
      options.progress.done(host.name, plan.status, plan.error?.code);
      return plan;
    }
    try {
      if (options.signal?.aborted) {
        const skipped: AppliedHost = emptyHostPlan(host.name, host.address, 'skipped');
        skipped.notes.push({ task: 'rollback', message: 'not started: interrupted' });
        options.progress.done(host.name, 'skipped', 'interrupted');
        return skipped;
      }
      const target = toConnectTarget(options.inventory, host);
      const record = await runTransaction(
        { connection: ready.connection, files: ready.files, expected: ready.expected, expectations: ready.expectations, services: ready.services },
        { ...options.transaction, freshLogin: () => options.transport.connect(target), stage: (text) => options.progress.stage(host.name, text) },
      );
      plan.apply = record;
      if (record.outcome === 'applied') plan.status = 'changed';
      else {
        plan.status = 'failed';
        if (record.error) plan.error = record.error;
      }
      options.progress.done(host.name, plan.status, plan.error?.code ?? (plan.status === 'changed' ? 'rolled back' : undefined));
      return plan;
    } finally {
      await ready.connection.close().catch(() => undefined);
    }
  });
}

/** Closes the connections of rollbacks that will not run (the operator said no). */
export async function closeRollbacks(prepared: readonly PreparedRollback[]): Promise<void> {
  await Promise.all(prepared.map((p) => p.ready?.connection.close().catch(() => undefined)));
}
