/**
 * The per-host apply transaction (DESIGN.md, issue 6): commit (stale check, backup, atomic write,
 * sshd -t, dead-man switch, reload) in one round trip, then prove a brand-new login works and
 * that sshd -T shows every requested value, then confirm; otherwise roll back through the session
 * that is still open, reload, prove the old config lets a fresh login in, and disarm.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeTransportError, TransportError, type Connection } from '../transport/index.js';
import { buildCommitScript, buildConfirmScript, buildRollbackScript, COMMIT_EXIT, parseSteps, type CommitFile, type StepRecord } from './apply-script.js';
import { parseSshdDump, sha256Hex, type ReloadMethod } from './facts.js';
import type { PlannedFile, SshdExpectation } from './plan-model.js';

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
  expectations: readonly SshdExpectation[];
  validationSpecs: readonly string[];
  reload: ReloadMethod;
}

export interface VerifiedValue {
  keyword: string;
  connection?: string;
  expected: string[];
  actual: string[];
  ok: boolean;
}

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
  outcome: 'applied' | 'refused' | 'rolled-back' | 'rollback-failed' | 'left-to-deadman';
  /** Error code and message when the outcome is not `applied`. */
  error?: { code: string; message: string; diagnosis?: string };
}

/** UTC timestamp first, so backup directories sort by age. */
export function newTransactionId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

function describeReload(method: ReloadMethod): string {
  switch (method.kind) {
    case 'systemctl':
      return `systemctl reload ${method.unit}`;
    case 'rc-service':
      return `rc-service ${method.service} reload`;
    case 'signal':
      return `kill -HUP $(cat ${method.pidFile})`;
    case 'unknown':
      return `none (${method.reason})`;
  }
}

const REFUSAL_CODES: Record<number, { code: string; diagnosis: string }> = {
  [COMMIT_EXIT.stale]: { code: 'stale', diagnosis: 'A file changed between reading the facts and writing; nothing was written. Plan again.' },
  [COMMIT_EXIT.backup]: { code: 'backup-failed', diagnosis: 'Nothing was written. Check free space and permissions of the backup directory.' },
  [COMMIT_EXIT.write]: { code: 'write-failed', diagnosis: 'The files were restored from the backup; the host is as before.' },
  [COMMIT_EXIT.validate]: { code: 'validation-failed', diagnosis: 'sshd -t rejected the new config, so it was never loaded; the files were restored and the host is byte-identical to before.' },
  [COMMIT_EXIT.arm]: { code: 'deadman-failed', diagnosis: 'The dead-man switch could not be started, so sshfix did not reload; the files were restored.' },
  [COMMIT_EXIT.reload]: { code: 'reload-failed', diagnosis: 'The reload command failed; the files were restored and sshd keeps running its old config.' },
  [COMMIT_EXIT.prerequisites]: { code: 'missing-tools', diagnosis: 'The host lacks a command the transaction needs; nothing was written.' },
};

/** Runs `sshd -T` (and `-T -C` per connection) over `connection` and compares with the expectations. */
async function verifyValues(connection: Connection, expectations: readonly SshdExpectation[]): Promise<VerifiedValue[]> {
  const specs = [...new Set(expectations.map((e) => e.connection ?? ''))];
  const dumps = new Map<string, Map<string, string[]>>();
  for (const spec of specs) {
    const command = spec === '' ? 'sshd -T' : `sshd -T -C '${spec.replace(/'/g, `'\\''`)}'`;
    const result = await connection.exec(`PATH=/usr/sbin:/sbin:$PATH ${command}`, { timeoutMs: 30_000 });
    dumps.set(spec, result.exitCode === 0 ? parseSshdDump(result.stdout.toString('utf8')) : new Map());
  }
  return expectations.map((e) => {
    const actual = dumps.get(e.connection ?? '')?.get(e.keyword) ?? [];
    return {
      keyword: e.keyword,
      ...(e.connection ? { connection: e.connection } : {}),
      expected: e.values,
      actual,
      ok: actual.join('\n') === e.values.join('\n'),
    };
  });
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

/** Runs the transaction on one host. Never throws for host problems: the record says what happened. */
export async function runTransaction(input: TransactionInput, options: TransactionOptions): Promise<TransactionRecord> {
  const txid = newTransactionId(options.now());
  const record: TransactionRecord = {
    transaction: txid,
    steps: [],
    validated: false,
    verification: [],
    rolledBack: false,
    outcome: 'refused',
  };
  const files: CommitFile[] = input.files.map((f) => ({
    path: f.path,
    content: f.after,
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    expectSha256: input.expected.get(f.path) ?? (f.before ? sha256Hex(f.before) : null),
  }));

  options.stage('writing, validating, reloading');
  const commit = await input.connection.exec('exec sh -s', {
    stdin: buildCommitScript({
      txid,
      backupRoot: options.backupRoot,
      files,
      matchSpecs: input.validationSpecs,
      reload: input.reload,
      deadmanSeconds: options.deadmanSeconds,
    }),
    timeoutMs: 120_000,
  });
  record.steps = parseSteps(commit.stdout.toString('utf8'));
  record.backupDir = record.steps.find((s) => s.step === 'backup' && s.ok)?.message;
  record.validated = record.steps.some((s) => s.step === 'validate' && s.ok);
  record.deadman = record.steps.find((s) => s.step === 'arm' && s.ok)?.message;
  if (commit.exitCode !== 0) {
    const failedStep = record.steps.find((s) => !s.ok);
    const known = REFUSAL_CODES[commit.exitCode ?? -1];
    record.error = {
      code: known?.code ?? 'commit-failed',
      message: failedStep ? `${failedStep.step}: ${failedStep.message}` : `the commit script exited ${commit.exitCode ?? commit.signal}: ${commit.stderr.toString('utf8').trim()}`,
      diagnosis: known?.diagnosis ?? 'The transaction stopped before reloading; its restore step ran. Check the host.',
    };
    return record;
  }
  record.reload = describeReload(input.reload);

  // From here sshd runs the new config: prove it, or undo it.
  if (options.settleMs > 0) await sleep(options.settleMs);
  options.stage('proving a fresh login');
  const proof = await proveLogin(options.freshLogin);
  let failure: string | undefined;
  if (proof.connection) {
    record.loginProof = 'ok';
    options.stage('verifying sshd -T');
    try {
      record.verification = await verifyValues(proof.connection, input.expectations);
      const wrong = record.verification.filter((v) => !v.ok);
      if (wrong.length > 0) {
        failure = `sshd -T does not show the requested values: ${wrong
          .map((v) => `${v.keyword}${v.connection ? ` (${v.connection})` : ''} is ${v.actual.join(', ') || '(unset)'}, expected ${v.expected.join(', ') || '(unset)'}`)
          .join('; ')}`;
      }
    } finally {
      await proof.connection.close().catch(() => undefined);
    }
  } else {
    record.loginProof = proof.error ?? 'failed';
    failure = `a fresh login failed after the reload (${record.loginProof})`;
  }

  if (failure === undefined) {
    options.stage('confirming');
    const confirm = await input.connection.exec('exec sh -s', {
      stdin: buildConfirmScript({ backupRoot: options.backupRoot, txid, keep: options.keepBackups }),
      timeoutMs: 60_000,
    });
    record.steps.push(...parseSteps(confirm.stdout.toString('utf8')));
    if (confirm.exitCode === 0) {
      record.outcome = 'applied';
      return record;
    }
    record.rolledBack = true;
    record.outcome = 'rolled-back';
    record.error = {
      code: 'deadman-fired',
      message: `the dead-man switch restored the previous config before sshfix could confirm (after ${options.deadmanSeconds} s)`,
      diagnosis: 'Nothing of this change remains. Raise --confirm-timeout if the host needs longer to prove the change.',
    };
    return record;
  }

  options.stage('rolling back');
  record.rolledBack = true;
  let rollbackError: string | undefined;
  try {
    const rollback = await input.connection.exec('exec sh -s', {
      stdin: buildRollbackScript({ backupRoot: options.backupRoot, txid }),
      timeoutMs: 120_000,
    });
    record.steps.push(...parseSteps(rollback.stdout.toString('utf8')));
    if (rollback.exitCode !== 0) rollbackError = `the restore script exited ${rollback.exitCode ?? rollback.signal}`;
  } catch (error) {
    rollbackError = describeTransportError(error).message;
  }
  if (rollbackError !== undefined) {
    record.outcome = 'left-to-deadman';
    record.error = {
      code: 'rollback-failed',
      message: `${failure}; rolling back over the open session failed too (${rollbackError})`,
      diagnosis: `The host's dead-man switch restores the previous config within ${options.deadmanSeconds} s of the reload (${record.backupDir ?? 'backup directory'}).`,
    };
    return record;
  }
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
      diagnosis: 'The previous files are back and sshd was reloaded with them. Check the host from the console or an open session.',
    };
  }
  return record;
}
