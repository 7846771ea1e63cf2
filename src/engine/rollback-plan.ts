/**
 * Planning a rollback (DESIGN.md, issue 12), pure: the script that lists a host's transactions and
 * the parser of what it prints, the choice of the transaction to undo, and the plan that puts its
 * files back. The plan is an ordinary transaction: the files' contents become the backed-up ones
 * (or the file goes, when the transaction created it), each guarded by compare-and-swap against
 * what that transaction wrote, so a file changed since is never overwritten.
 */
import { lookupService, type ServiceExpectation, type ServicePlans } from '../services/registry.js';
import { quoteShellArg } from '../util/shell-quote.js';
import { SAFE_TXID, TXID_GLOB } from './apply-script.js';
import type { FactRequest } from './facts-script.js';
import { sha256Hex, type HostFacts } from './facts.js';
import { decodeText } from '../util/text-encoding.js';
import { emptyHostPlan, type FileChange, type HostError, type HostPlan, type PlannedFile } from './plan-model.js';
import { parseManifest, type TransactionManifest } from './transaction-manifest.js';
import type { TouchedService } from './transaction.js';

const q = quoteShellArg;

/** One transaction directory on a host: its id, how it ended, and its manifest when it has one. */
export interface ListedTransaction {
  id: string;
  /** The marker it holds: confirmed, armed, rolling-back, deadman-fired, aborted, or unknown. */
  state: string;
  manifest?: string;
}

/**
 * Lists every transaction under `backupRoot` in one round trip: `T <id> <state> <manifest b64 | ->`
 * per line. Reads only; needs root like the transaction itself.
 */
export function buildTransactionListScript(backupRoot: string): string {
  if (!backupRoot.startsWith('/') || /[\0-\x1f\x7f]/.test(backupRoot)) throw new RangeError(`unsafe path ${JSON.stringify(backupRoot)}`);
  return [
    'set -u',
    'LC_ALL=C; export LC_ALL',
    "b64() { base64 -w0 2>/dev/null || { base64 | tr -d '\\n'; }; }",
    `for d in ${q(backupRoot.replace(/\/+$/, ''))}/${TXID_GLOB}; do`,
    '  [ -d "$d" ] && [ ! -L "$d" ] || continue',
    '  s=unknown',
    '  for m in aborted deadman-fired rolling-back armed confirmed; do [ -e "$d/$m" ] && s=$m; done',
    '  printf "T %s %s " "${d##*/}" "$s"',
    '  if [ -f "$d/manifest" ]; then b64 < "$d/manifest"; else printf -; fi',
    '  printf "\\n"',
    'done',
    'exit 0',
  ].join('\n') + '\n';
}

/** The listing's transactions, newest first (ids start with their UTC time). */
export function parseTransactionList(stdout: string): ListedTransaction[] {
  const listed: ListedTransaction[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^T (\S+) ([a-z-]+) (\S+)$/.exec(line.trim());
    if (!match || !SAFE_TXID.test(match[1] as string)) continue;
    const manifest = match[3] === '-' ? undefined : Buffer.from(match[3] as string, 'base64').toString('utf8');
    listed.push({ id: match[1] as string, state: match[2] as string, ...(manifest !== undefined ? { manifest } : {}) });
  }
  return listed.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export interface ChosenTransaction {
  id: string;
  manifest: TransactionManifest;
}

/** The transaction to undo: `wanted`, or the newest finished one. A refusal says why not. */
export function chooseTransaction(listed: readonly ListedTransaction[], backupRoot: string, wanted?: string): ChosenTransaction | { error: HostError } {
  const root = backupRoot.replace(/\/+$/, '');
  const entry = wanted !== undefined ? listed.find((t) => t.id === wanted) : listed.find((t) => t.state === 'confirmed');
  if (!entry) {
    return {
      error:
        wanted !== undefined
          ? { code: 'no-such-transaction', message: `no transaction ${wanted} in ${root} on this host`, diagnosis: `Transactions kept here: ${listed.map((t) => `${t.id} (${t.state})`).join(', ') || 'none'}.` }
          : { code: 'nothing-to-roll-back', message: `no finished transaction in ${root} on this host`, diagnosis: 'Only a transaction that sshfix apply confirmed can be rolled back; nothing was changed.' },
    };
  }
  if (entry.state !== 'confirmed') {
    return {
      error: {
        code: 'transaction-not-finished',
        message: `transaction ${entry.id} is ${entry.state}, not confirmed`,
        diagnosis: 'Only a confirmed transaction is live on the host; one that was rolled back, restored by its dead-man switch or aborted left nothing to undo.',
      },
    };
  }
  if (entry.manifest === undefined) {
    return {
      error: {
        code: 'no-manifest',
        message: `transaction ${entry.id} has no manifest (an older sshfix made it)`,
        diagnosis: `sshfix cannot tell what it wrote, so it does not roll it back. Its own restore script puts back each file that still holds what it wrote: sh ${root}/${entry.id}/restore.sh`,
      },
    };
  }
  const manifest = parseManifest(entry.manifest);
  if ('error' in manifest) return { error: { code: 'bad-manifest', message: `transaction ${entry.id}: ${manifest.error}`, diagnosis: 'Nothing was changed.' } };
  return { id: entry.id, manifest };
}

const backupPath = (root: string, id: string, index: number): string => `${root.replace(/\/+$/, '')}/${id}/files/${index}`;

/** What the rollback reads: each touched service's facts, every file the transaction wrote, and its backups. */
export function rollbackFactRequest(chosen: ChosenTransaction, backupRoot: string): FactRequest {
  const services: Record<string, string[]> = {};
  for (const file of chosen.manifest.files) {
    const service = lookupService(file.service);
    if (service) services[service.id] = [...service.defaultPaths];
  }
  return {
    services,
    files: chosen.manifest.files.flatMap((f, i) => [f.writePath, ...(f.before !== null ? [backupPath(backupRoot, chosen.id, i)] : [])]),
    dirs: [],
  };
}

/** A rollback ready to run as a transaction. */
export interface RollbackPlan {
  plan: HostPlan;
  files: PlannedFile[];
  /** What each file must hold right now: what the transaction wrote (compare-and-swap). */
  expected: Map<string, string | null>;
  services: TouchedService[];
  expectations: ServiceExpectation[];
}

const text = (content: Buffer): string => decodeText(content).text;

/** The plan that puts back the files of `chosen`, or why it must not. */
export function planRollback(input: { host: { name: string; address: string }; chosen: ChosenTransaction; facts: HostFacts; backupRoot: string }): RollbackPlan | { error: HostError } {
  const { chosen, facts } = input;
  const task = `rollback ${chosen.id}`;
  const changed: string[] = [];
  const files: PlannedFile[] = [];
  const changes: FileChange[] = [];
  const notes: HostPlan['notes'] = [];
  for (const [index, file] of chosen.manifest.files.entries()) {
    const current = facts.files.get(file.writePath);
    if (!current && !facts.missing.has(file.writePath)) {
      return { error: { code: 'unreadable', message: `cannot read ${file.writePath} on the host`, diagnosis: 'Nothing was changed.' } };
    }
    if ((current ? sha256Hex(current.content) : null) !== file.written) changed.push(file.path);
    let after: Buffer;
    let owner: { mode: number; uid: number; gid: number };
    if (file.before !== null) {
      const backup = facts.files.get(backupPath(input.backupRoot, chosen.id, index));
      if (!backup || sha256Hex(backup.content) !== file.before) {
        return {
          error: {
            code: 'backup-damaged',
            message: `the backup of ${file.path} in transaction ${chosen.id} is ${backup ? 'not what was backed up' : 'missing'}`,
            diagnosis: 'Nothing was changed. Restore the file by hand.',
          },
        };
      }
      after = backup.content;
      owner = { mode: backup.mode, uid: backup.uid, gid: backup.gid };
    } else {
      after = Buffer.alloc(0);
      owner = current ?? { mode: 0o644, uid: 0, gid: 0 };
      notes.push({ task, message: `removes ${file.path}: transaction ${chosen.id} created it` });
    }
    files.push({
      path: file.path,
      writePath: file.writePath,
      ...(current ? { before: current.content } : {}),
      after,
      ...owner,
      service: file.service,
      ...(file.before === null ? { remove: true } : {}),
    });
    changes.push({
      task,
      path: file.path,
      action: current ? 'update' : 'create',
      ...(current ? { beforeSha256: sha256Hex(current.content), before: text(current.content) } : {}),
      after: text(after),
    });
  }
  if (changed.length > 0) {
    return {
      error: {
        code: 'changed-since',
        message: `${changed.join(', ')} changed since transaction ${chosen.id} wrote ${changed.length === 1 ? 'it' : 'them'}`,
        diagnosis: 'Nothing was changed: a rollback never overwrites a change sshfix did not make. Review the file(s), or roll back the newer transaction that changed them first.',
      },
    };
  }
  const services: TouchedService[] = [];
  for (const id of [...new Set(chosen.manifest.files.map((f) => f.service))]) {
    const service = lookupService(id);
    if (!service) continue;
    if (!Object.hasOwn(chosen.manifest.services, id)) {
      return { error: { code: 'bad-manifest', message: `transaction ${chosen.id}: the manifest has no plan for ${id}, which loads its files`, diagnosis: 'Nothing was changed.' } };
    }
    const serviceFacts = (facts.services as Record<string, unknown>)[id];
    const refusal = service.applyCheck(serviceFacts);
    if (refusal) return { error: refusal };
    const plan = chosen.manifest.services[id];
    services.push({ service, facts: serviceFacts, plan: service.rollbackPlan ? service.rollbackPlan(plan) : plan });
  }
  const touched = new Set(services.map((s) => s.service.id));
  const expectations = chosen.manifest.restore.filter((e) => touched.has(e.service)) as unknown as ServiceExpectation[];
  const plan = emptyHostPlan(input.host.name, input.host.address, 'changed');
  plan.changes = changes;
  plan.notes = [{ task, message: `puts back the files of transaction ${chosen.id}` }, ...notes];
  plan.files = files;
  plan.expectations = expectations;
  plan.services = Object.fromEntries(services.map((s) => [s.service.id, s.plan])) as ServicePlans;
  plan.filesRead = Object.fromEntries(files.map((f) => [f.path, f.before ? sha256Hex(f.before) : null]));
  return {
    plan,
    files,
    expected: new Map(chosen.manifest.files.map((f) => [f.path, f.written])),
    services,
    expectations,
  };
}
