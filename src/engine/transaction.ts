/**
 * The per-host apply transaction (DESIGN.md, issue 6): commit (stale check, backup, atomic write,
 * each touched service's validation, dead-man switch, reload) in one round trip, then prove a
 * brand-new login works and that each service shows every requested value, then confirm;
 * otherwise roll back through the session that is still open, reload, prove the old config lets a
 * fresh login in, and disarm.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeTransportError, TransportError, type Connection } from '../transport/index.js';
import type { AnyService, ServiceExpectation } from '../services/registry.js';
import type { ServiceScripts, VerifiedValue } from '../services/service.js';
import { buildActionScript, buildCommitScript, buildConfirmScript, buildRollbackScript, COMMIT_EXIT, parseSteps, type CommitFile, type StepRecord } from './apply-script.js';
import { sha256Hex } from './facts.js';
import type { PlannedFile } from './plan-model.js';
import { renderManifest } from './transaction-manifest.js';

export const DEFAULT_BACKUP_ROOT = '/var/backups/sshfix';
export const DEFAULT_KEEP_BACKUPS = 10;

export interface TransactionOptions {
  /** Seconds after which the host restores itself unless confirmed. */
  deadmanSeconds: number;
  /** Milliseconds to wait after the reload before the fresh login. */
  settleMs: number;
  backupRoot: string;
  keepBackups: number;
  /** Opens a brand-new connection with the same credentials (the login proof). */
  freshLogin: () => Promise<Connection>;
  /** Progress for the host ("writing", "reloading", ...). */
  stage: (text: string) => void;
  now: () => Date;
}

export interface TransactionInput {
  connection: Connection;
  files: readonly PlannedFile[];
  /** sha256 each file must have right now (null: must not exist). */
  expected: ReadonlyMap<string, string | null>;
  expectations: readonly ServiceExpectation[];
  /** The services the change touches, in order, each with its facts and its part of the plan. */
  services: readonly TouchedService[];
}

export interface TouchedService {
  service: AnyService;
  facts: unknown;
  plan: unknown;
}

export type { VerifiedValue };

/** What happened, for the report (JSON `apply` object). */
export interface TransactionRecord {
  transaction: string;
  backupDir?: string;
  steps: StepRecord[];
  validated: boolean;
  reload?: string;
  deadman?: string;
  loginProof?: 'ok' | string;
  verification: VerifiedValue[];
  rolledBack: boolean;
  /** After a rollback: did a fresh login work with the restored config? */
  restoredLoginProof?: 'ok' | string;
  /** `unproven`: actions that write no file ran, but their effect was not shown (nothing to roll back). */
  outcome: 'applied' | 'refused' | 'rolled-back' | 'rollback-failed' | 'left-to-deadman' | 'unproven';
  /** Error code and message when the outcome is not `applied`. */
  error?: { code: string; message: string; diagnosis?: string };
}

/** UTC timestamp first, so backup directories sort by age. */
export function newTransactionId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

const REFUSAL_CODES: Record<number, { code: string; diagnosis: string }> = {
  [COMMIT_EXIT.stale]: { code: 'stale', diagnosis: 'A file changed between reading the facts and writing; nothing was written. Plan again.' },
  [COMMIT_EXIT.backup]: { code: 'backup-failed', diagnosis: 'Nothing was written. Check free space and permissions of the backup directory.' },
  [COMMIT_EXIT.write]: { code: 'write-failed', diagnosis: 'The files were restored from the backup; the host is as before.' },
  [COMMIT_EXIT.arm]: { code: 'deadman-failed', diagnosis: 'The dead-man switch could not be armed, so nothing was written.' },
  [COMMIT_EXIT.prerequisites]: { code: 'missing-tools', diagnosis: 'The host lacks a command the transaction needs; nothing was written.' },
  [COMMIT_EXIT.locked]: { code: 'transaction-in-progress', diagnosis: 'Nothing was written. The message says whether the earlier transaction is still in flight (wait) or was abandoned (restore it).' },
};

/** The code and diagnosis of a failed commit, in the words of the service it failed at. */
function commitRefusal(exitCode: number | null, failedStep: StepRecord | undefined, services: readonly TouchedService[], scripts: readonly ServiceScripts[]): { code: string; diagnosis: string } | undefined {
  const known = REFUSAL_CODES[exitCode ?? -1];
  if (known) return known;
  const words = (pick: (service: AnyService) => string): string => [...new Set(services.map((s) => pick(s.service)))].join(' ');
  switch (exitCode) {
    case COMMIT_EXIT.validate:
      return { code: 'validation-failed', diagnosis: words((s) => s.commitDiagnoses.rejected) };
    case COMMIT_EXIT.reload:
      return { code: 'reload-failed', diagnosis: words((s) => s.commitDiagnoses.reloadFailed) };
    case COMMIT_EXIT.stopped: {
      const index = scripts.findIndex((s) => failedStep?.message.startsWith(`${s.label} stopped`));
      const stopped = services[Math.max(0, index)];
      return { code: `${scripts[Math.max(0, index)]?.id ?? 'service'}-stopped`, diagnosis: stopped?.service.commitDiagnoses.stopped ?? 'The previous config was restored and the service started again.' };
    }
    case COMMIT_EXIT.lost: {
      const index = Math.max(0, scripts.findIndex((s) => failedStep?.message.startsWith(`${s.label}: `)));
      const lost = services[index]?.service.commitDiagnoses.lost;
      return lost ?? { code: `${scripts[index]?.id ?? 'service'}-check-failed`, diagnosis: 'The previous config was restored and the service reloaded again.' };
    }
    default:
      return undefined;
  }
}

/** Each touched service verifies its expectations over `connection`; returns the values and what is wrong. */
async function verifyServices(connection: Connection, input: Pick<TransactionInput, 'services' | 'expectations'>, stage: (text: string) => void): Promise<{ values: VerifiedValue[]; failure?: string }> {
  const values: VerifiedValue[] = [];
  for (const { service, plan, facts } of input.services) {
    stage(`verifying ${service.checkName}`);
    let verified: VerifiedValue[];
    let unplanned: string | undefined;
    try {
      ({ values: verified, unplanned } = await service.verify(connection, plan, input.expectations.filter((e) => e.service === service.id), facts));
    } catch (error) {
      return { values, failure: `reading ${service.checkName} over the fresh login failed (${describeTransportError(error).message})` };
    }
    values.push(...verified);
    const wrong = verified.filter((v) => !v.ok);
    if (wrong.length > 0) {
      const detail = wrong.map((v) => `${v.keyword}${v.connection ? ` (${v.connection})` : ''} is ${v.actual.join(', ') || '(unset)'}, expected ${v.expected.join(', ') || '(unset)'}`).join('; ');
      return { values, failure: `${service.checkName} does not show the requested values: ${detail}` };
    }
    if (unplanned) return { values, failure: unplanned };
  }
  return { values };
}

/** A fresh login, retried briefly while sshd re-executes after the reload (connection refused). */
async function proveLogin(open: () => Promise<Connection>, attempts = 5): Promise<{ connection?: Connection; error?: string }> {
  let last = '';
  for (let i = 0; i < attempts; i++) {
    try {
      const connection = await open();
      const result = await connection.exec('true', { timeoutMs: 30_000 });
      if (result.exitCode === 0) return { connection };
      await connection.close();
      last = `a command on the fresh login exited ${result.exitCode ?? result.signal}`;
    } catch (error) {
      const described = describeTransportError(error);
      last = `${described.code}: ${described.message}`;
      // Only a refused or lost connection can be sshd re-executing; anything else is the answer.
      if (!(error instanceof TransportError) || !['refused', 'connection-lost', 'closed-before-banner'].includes(error.code)) break;
    }
    await sleep(300 * (i + 1));
  }
  return { error: last };
}

/**
 * Proves a change that is live: a brand-new login works, and each service shows what the plan
 * expects. Records the proof and the values in `record`; returns what is wrong, or undefined.
 */
async function proveChange(
  input: Pick<TransactionInput, 'services' | 'expectations'>,
  options: Pick<TransactionOptions, 'freshLogin' | 'stage'>,
  record: TransactionRecord,
  after: string,
): Promise<string | undefined> {
  options.stage('proving a fresh login');
  const proof = await proveLogin(options.freshLogin);
  if (!proof.connection) {
    record.loginProof = proof.error ?? 'failed';
    return `a fresh login failed after ${after} (${record.loginProof})`;
  }
  record.loginProof = 'ok';
  try {
    const verified = await verifyServices(proof.connection, input, options.stage);
    record.verification = verified.values;
    return verified.failure;
  } finally {
    await proof.connection.close().catch(() => undefined);
  }
}

/** Runs a finishing script over `connection`, or over a fresh login when that one is gone. */
async function runFinisher(
  connection: Connection,
  freshLogin: () => Promise<Connection>,
  script: string,
): Promise<{ exitCode: number | null; steps: StepRecord[] } | { lost: string }> {
  const attempt = async (c: Connection): Promise<{ exitCode: number | null; steps: StepRecord[] }> => {
    const result = await c.exec('exec sh -s', { stdin: script, timeoutMs: 120_000 });
    return { exitCode: result.timedOut ? null : result.exitCode, steps: parseSteps(result.stdout.toString('utf8')) };
  };
  try {
    return await attempt(connection);
  } catch (first) {
    const fresh = await proveLogin(freshLogin, 2);
    if (!fresh.connection) return { lost: `${describeTransportError(first).message}; a new login failed too (${fresh.error ?? ''})` };
    try {
      return await attempt(fresh.connection);
    } catch (second) {
      return { lost: describeTransportError(second).message };
    } finally {
      await fresh.connection.close().catch(() => undefined);
    }
  }
}

/** What a later rollback of this transaction needs (transaction-manifest.ts). */
function transactionManifest(input: TransactionInput, files: readonly CommitFile[]): string {
  return renderManifest({
    files: files.map((f, i) => ({
      path: f.path,
      writePath: f.writePath,
      service: input.files[i]?.service ?? 'none',
      before: f.expectSha256,
      written: f.remove ? null : sha256Hex(f.content),
    })),
    services: Object.fromEntries(input.services.map((s) => [s.service.id, s.plan])),
    restore: input.services.flatMap(({ service, facts }) =>
      (service.restoreExpectations?.(facts, input.expectations.filter((e) => e.service === service.id)) ?? []).map((e) => ({ ...(e as Record<string, unknown>), service: service.id })),
    ),
  });
}

/** Runs the transaction on one host. Never throws: the record says what happened. */
export async function runTransaction(input: TransactionInput, options: TransactionOptions): Promise<TransactionRecord> {
  const txid = newTransactionId(options.now());
  const record: TransactionRecord = { transaction: txid, steps: [], validated: false, verification: [], rolledBack: false, outcome: 'refused' };
  try {
    return await transact(input, options, record);
  } catch (error) {
    record.outcome = 'left-to-deadman';
    record.error = {
      code: 'transaction-interrupted',
      message: `the transaction stopped unexpectedly: ${describeTransportError(error).message}`,
      diagnosis: `If it got as far as reloading, the host's dead-man switch restores the previous config within ${options.deadmanSeconds} s; check ${options.backupRoot}/${txid} on the host.`,
    };
    return record;
  }
}

/**
 * A change that writes no file, only actions on running services (a ban lifted): no backup, no
 * dead-man switch, nothing to restore. The actions run in one round trip; then, as for any change,
 * a fresh login must work and each service must show their effect. Never throws.
 */
export async function runActions(input: Omit<TransactionInput, 'files' | 'expected'>, options: Pick<TransactionOptions, 'backupRoot' | 'freshLogin' | 'stage' | 'now'>): Promise<TransactionRecord> {
  const record: TransactionRecord = { transaction: newTransactionId(options.now()), steps: [], validated: false, verification: [], rolledBack: false, outcome: 'refused' };
  const scripts = input.services.map((s) => s.service.scripts(s.facts, s.plan));
  options.stage('running actions');
  let result;
  try {
    result = await input.connection.exec('exec sh -s', { stdin: buildActionScript({ backupRoot: options.backupRoot, services: scripts }), timeoutMs: 120_000 });
  } catch (error) {
    record.outcome = 'unproven';
    record.error = { code: 'actions-interrupted', message: `the connection was lost while the actions ran (${describeTransportError(error).message})`, diagnosis: 'They may or may not have run; plan again to see where the host stands.' };
    return record;
  }
  record.steps = parseSteps(result.stdout.toString('utf8'));
  if (result.timedOut || result.exitCode !== 0) {
    const failedStep = record.steps.find((s) => !s.ok);
    record.error = {
      code: result.exitCode === COMMIT_EXIT.locked ? 'transaction-in-progress' : 'actions-failed',
      message: failedStep ? `${failedStep.step}: ${failedStep.message}` : `the action script exited ${result.exitCode ?? result.signal}: ${result.stderr.toString('utf8').trim()}`,
      diagnosis: 'Nothing was changed on this host.',
    };
    return record;
  }
  const failure = await proveChange(input, options, record, 'the actions');
  if (failure === undefined) {
    record.outcome = 'applied';
    return record;
  }
  record.outcome = 'unproven';
  record.error = {
    code: 'verification-failed',
    message: failure,
    diagnosis: 'The actions wrote no file, so there is nothing to roll back; check the service on the host.',
  };
  return record;
}

async function transact(input: TransactionInput, options: TransactionOptions, record: TransactionRecord): Promise<TransactionRecord> {
  const txid = record.transaction;
  const files: CommitFile[] = input.files.map((f) => ({
    path: f.path,
    writePath: f.writePath,
    content: f.after,
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    expectSha256: input.expected.has(f.path) ? (input.expected.get(f.path) ?? null) : f.before ? sha256Hex(f.before) : null,
    ...(f.remove ? { remove: true } : {}),
  }));
  const finishing = { backupRoot: options.backupRoot, txid };
  const scripts = input.services.map((s) => s.service.scripts(s.facts, s.plan));
  const lostDuringCommit = (why: string): TransactionRecord => {
    record.outcome = 'left-to-deadman';
    record.error = {
      code: 'commit-interrupted',
      message: `the connection was lost during the commit (${why})`,
      diagnosis: `The host finishes the commit on its own. If it reloaded, its dead-man switch restores the previous config within ${options.deadmanSeconds} s because sshfix cannot confirm; plan again afterwards.`,
    };
    return record;
  };

  options.stage('writing, validating, reloading');
  let commit;
  try {
    commit = await input.connection.exec('exec sh -s', {
      stdin: buildCommitScript({
        txid,
        backupRoot: options.backupRoot,
        files,
        services: scripts,
        deadmanSeconds: options.deadmanSeconds,
        manifest: transactionManifest(input, files),
      }),
      timeoutMs: 180_000,
    });
  } catch (error) {
    return lostDuringCommit(describeTransportError(error).message);
  }
  if (commit.timedOut) return lostDuringCommit('it took longer than 180 s');
  record.steps = parseSteps(commit.stdout.toString('utf8'));
  record.backupDir = record.steps.find((s) => s.step === 'backup' && s.ok)?.message;
  record.validated = record.steps.some((s) => s.step === 'validate' && s.ok);
  record.deadman = record.steps.find((s) => s.step === 'arm' && s.ok)?.message;
  if (commit.exitCode !== 0) {
    const failedStep = record.steps.find((s) => !s.ok);
    const known = commitRefusal(commit.exitCode, failedStep, input.services, scripts);
    const restored = commit.exitCode === COMMIT_EXIT.stopped || commit.exitCode === COMMIT_EXIT.lost;
    record.outcome = restored ? 'rolled-back' : 'refused';
    record.rolledBack = restored;
    record.error = {
      code: known?.code ?? 'commit-failed',
      message: failedStep ? `${failedStep.step}: ${failedStep.message}` : `the commit script exited ${commit.exitCode ?? commit.signal}: ${commit.stderr.toString('utf8').trim()}`,
      diagnosis: known?.diagnosis ?? `The commit stopped before reloading. Check ${options.backupRoot}/${txid} on the host.`,
    };
    return record;
  }
  record.reload = scripts.map((s) => s.reloadDescription).join('; ');

  // From here the services run the new config: prove it, or undo it.
  if (options.settleMs > 0) await sleep(options.settleMs);
  const failure = await proveChange(input, options, record, 'the reload');

  if (failure === undefined) {
    options.stage('confirming');
    const confirm = await runFinisher(input.connection, options.freshLogin, buildConfirmScript({ ...finishing, keep: options.keepBackups }));
    if ('lost' in confirm) {
      record.outcome = 'left-to-deadman';
      record.error = {
        code: 'confirm-unknown',
        message: `the change works, but confirming it failed (${confirm.lost})`,
        diagnosis: `Unless confirmed, the host's dead-man switch restores the previous config within ${options.deadmanSeconds} s of the reload. Plan again to see where it stands.`,
      };
      return record;
    }
    record.steps.push(...confirm.steps);
    if (confirm.exitCode === 0) {
      record.outcome = 'applied';
      return record;
    }
    const said = confirm.steps.find((s) => s.step === 'confirm' && !s.ok)?.message ?? '';
    record.rolledBack = /dead-man switch already restored/.test(said);
    record.outcome = record.rolledBack ? 'rolled-back' : 'left-to-deadman';
    record.error = record.rolledBack
      ? {
          code: 'deadman-fired',
          message: `the dead-man switch restored the previous config before sshfix could confirm (after ${options.deadmanSeconds} s)`,
          diagnosis: 'Nothing of this change remains. Raise --confirm-timeout if the host needs longer to prove the change.',
        }
      : { code: 'confirm-failed', message: `confirming failed: ${said || `exit ${confirm.exitCode}`}`, diagnosis: `Check ${options.backupRoot}/${txid} on the host.` };
    return record;
  }

  options.stage('rolling back');
  record.rolledBack = true;
  const rollback = await runFinisher(input.connection, options.freshLogin, buildRollbackScript(finishing));
  if ('lost' in rollback || (rollback.exitCode !== 0 && rollback.exitCode !== 2)) {
    if (!('lost' in rollback)) record.steps.push(...rollback.steps);
    record.outcome = 'left-to-deadman';
    record.error = {
      code: 'rollback-failed',
      message: `${failure}; rolling back failed too (${'lost' in rollback ? rollback.lost : rollback.steps.find((s) => !s.ok)?.message ?? `exit ${rollback.exitCode}`})`,
      diagnosis: `The host's dead-man switch restores the previous config within ${options.deadmanSeconds} s of the reload (${record.backupDir ?? 'backup directory'}).`,
    };
    return record;
  }
  record.steps.push(...rollback.steps);
  const restored = await proveLogin(options.freshLogin);
  if (restored.connection) {
    await restored.connection.close().catch(() => undefined);
    record.restoredLoginProof = 'ok';
    record.outcome = 'rolled-back';
    record.error = {
      code: record.loginProof === 'ok' ? 'verification-failed' : 'lockout-prevented',
      message: `rolled back: ${failure}`,
      diagnosis: 'The previous config is back in effect and a fresh login works again. Nothing of this change remains on the host.',
    };
  } else {
    record.restoredLoginProof = restored.error ?? 'failed';
    record.outcome = 'rollback-failed';
    record.error = {
      code: 'rollback-unproven',
      message: `rolled back, but a fresh login still fails (${record.restoredLoginProof}); ${failure}`,
      diagnosis: 'The previous files are back and their services were reloaded (or started) with them. Check the host from the console or an open session.',
    };
  }
  return record;
}
