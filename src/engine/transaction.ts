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
import { DEFAULT_SSHD_CONFIG } from './facts-script.js';
import { shellCommand } from '../util/shell-quote.js';
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
  /** Main configs the change touches (validated with sshd -t -f). */
  configs: readonly string[];
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
  [COMMIT_EXIT.arm]: { code: 'deadman-failed', diagnosis: 'The dead-man switch could not be armed, so nothing was written.' },
  [COMMIT_EXIT.reload]: { code: 'reload-failed', diagnosis: 'The reload command failed; the files were restored and sshd keeps running its old config.' },
  [COMMIT_EXIT.prerequisites]: { code: 'missing-tools', diagnosis: 'The host lacks a command the transaction needs; nothing was written.' },
  [COMMIT_EXIT.locked]: { code: 'transaction-in-progress', diagnosis: 'Nothing was written. The message says whether the earlier transaction is still in flight (wait) or was abandoned (restore it).' },
  [COMMIT_EXIT.stopped]: {
    code: 'sshd-stopped',
    diagnosis: 'sshd accepted the config (sshd -t) but exited when it loaded it (e.g. an address it cannot bind); the previous config was restored and sshd started again.',
  },
};

/** The PATH the transaction scripts use, so verification runs the same sshd binary they validated with. */
const SCRIPT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH';

/** Runs `sshd -T` (and `-T -C` per connection, `-f` per config) over `connection` and compares with the expectations. */
async function verifyValues(connection: Connection, expectations: readonly SshdExpectation[]): Promise<VerifiedValue[]> {
  const key = (e: SshdExpectation): string => `${e.config ?? ''}\n${e.connection ?? ''}`;
  const dumps = new Map<string, Map<string, string[]>>();
  for (const e of expectations) {
    if (dumps.has(key(e))) continue;
    const args = ['-T', ...(e.config ? ['-f', e.config] : []), ...(e.connection ? ['-C', e.connection] : [])];
    const result = await connection.exec(`${SCRIPT_PATH} ${shellCommand('sshd', ...args)}`, { timeoutMs: 30_000 });
    dumps.set(key(e), result.exitCode === 0 ? parseSshdDump(result.stdout.toString('utf8')) : new Map());
  }
  return expectations.map((e) => {
    const actual = dumps.get(key(e))?.get(e.keyword) ?? [];
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
  }));
  const finishing = { backupRoot: options.backupRoot, txid, reload: input.reload };
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
        configs: input.configs.length > 0 ? input.configs : [DEFAULT_SSHD_CONFIG],
        matchSpecs: input.validationSpecs,
        reload: input.reload,
        deadmanSeconds: options.deadmanSeconds,
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
    const known = REFUSAL_CODES[commit.exitCode ?? -1];
    record.outcome = commit.exitCode === COMMIT_EXIT.stopped ? 'rolled-back' : 'refused';
    record.rolledBack = commit.exitCode === COMMIT_EXIT.stopped;
    record.error = {
      code: known?.code ?? 'commit-failed',
      message: failedStep ? `${failedStep.step}: ${failedStep.message}` : `the commit script exited ${commit.exitCode ?? commit.signal}: ${commit.stderr.toString('utf8').trim()}`,
      diagnosis: known?.diagnosis ?? `The commit stopped before reloading. Check ${options.backupRoot}/${txid} on the host.`,
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
    } catch (error) {
      failure = `reading sshd -T over the fresh login failed (${describeTransportError(error).message})`;
    } finally {
      await proof.connection.close().catch(() => undefined);
    }
  } else {
    record.loginProof = proof.error ?? 'failed';
    failure = `a fresh login failed after the reload (${record.loginProof})`;
  }

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
      diagnosis: 'The previous files are back and sshd was reloaded (or started) with them. Check the host from the console or an open session.',
    };
  }
  return record;
}
