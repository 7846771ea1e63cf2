/**
 * Planner of `sshd` tasks: the engine's minimal edits (src/config/sshd/edit.ts) applied to the
 * host's gathered config tree, plus the values apply must find in `sshd -T` afterwards, plus
 * warnings where the change widens access more than a scoped fix would.
 */
import { connectionForCriteria, formatConnectionSpec } from '../../config/sshd/connection-spec.js';
import { editSshdConfigAll, type SshdEdit } from '../../config/sshd/edit.js';
import { parseMatchCriteria, type MatchConnection } from '../../config/sshd/match.js';
import { buildSshdConfigTree } from '../../config/sshd/tree.js';
import type { YamlNode } from '../../lang/yaml-tree.js';
import { hostSshdDefaults } from '../../services/sshd/host-defaults.js';
import { emptyOutcome, type PlanInput, type PlanOutcome } from '../planner.js';
import { checkSshdEdit } from './check-edit.js';
import { requestedExpectations } from './expectations.js';
import { predictLockout } from './lockout.js';
import type { SshdTaskParams } from './schema.js';

/** Algorithms kept only for old peers: SHA-1 key exchange and signatures, CBC and RC4 ciphers, MD5/SHA-1 MACs. */
const LEGACY_ALGORITHM = /(sha1|^ssh-rsa$|^ssh-dss$|-cbc|^3des|arcfour|md5|-96$|^hmac-sha1)/;
const ALGORITHM_KEYWORDS = new Set(['kexalgorithms', 'ciphers', 'macs', 'hostkeyalgorithms', 'pubkeyacceptedalgorithms', 'casignaturealgorithms']);
const EVERY_ADDRESS = /(^|,)\s*(\*|0\.0\.0\.0\/0|::\/0)\s*(,|$)/;

function widenWarnings(params: SshdTaskParams): string[] {
  const warnings: string[] = [];
  const criteria = params.match?.criteria ?? [];
  for (const criterion of criteria) {
    if (criterion.name.toLowerCase() === 'all') warnings.push('"Match All" applies to every connection: the change is not scoped');
    if (['address', 'host', 'user'].includes(criterion.name.toLowerCase()) && EVERY_ADDRESS.test(criterion.value ?? '')) {
      warnings.push(`"Match ${criterion.name} ${criterion.value}" matches everyone: the change is not scoped`);
    }
  }
  const scope = params.match ? `for "Match ${params.match.text}"` : 'for every client (global)';
  const algorithmValues = [
    ...params.set.filter((s) => ALGORITHM_KEYWORDS.has(s.keyword.toLowerCase())).map((s) => ({ keyword: s.keyword, values: s.value.replace(/^[+^]/, '').split(',') })),
    ...params.add.filter((a) => ALGORITHM_KEYWORDS.has(a.keyword.toLowerCase())),
  ];
  for (const { keyword, values } of algorithmValues) {
    const legacy = values.filter((v) => LEGACY_ALGORITHM.test(v));
    if (legacy.length > 0) warnings.push(`${keyword} enables legacy ${legacy.join(', ')} ${scope}`);
  }
  for (const entry of params.add) {
    if (/^(allow|deny)(users|groups)$/i.test(entry.keyword) && entry.values.some((v) => v === '*' || v.startsWith('*@'))) {
      warnings.push(`${entry.keyword} ${entry.values.join(' ')} admits every account`);
    }
  }
  return warnings;
}

/** The edit engine's requests for a task's parameters. */
export function editsOf(params: SshdTaskParams): SshdEdit[] {
  const match = params.match ? { match: params.match.text } : {};
  return [
    ...params.set.map((s): SshdEdit => ({ op: 'set', keyword: s.keyword, value: s.value, ...match })),
    ...params.unset.map((keyword): SshdEdit => ({ op: 'unset', keyword, ...match })),
    ...params.add.map((a): SshdEdit => ({ op: 'add', keyword: a.keyword, values: a.values, ...match })),
    ...params.remove.map((r): SshdEdit => ({ op: 'remove', keyword: r.keyword, values: r.values, ...match })),
  ];
}

/** Keywords that move where sshd listens: sshd may fail to bind, and socket activation ignores them. */
const LISTEN_KEYWORDS = new Set(['port', 'listenaddress', 'addressfamily']);

export function planSshdTask(input: PlanInput<SshdTaskParams>): PlanOutcome {
  const { params, facts } = input;
  const sshd = facts.services.sshd;
  const sshdDefaults = hostSshdDefaults(sshd, facts.opensshVersion);
  const outcome = emptyOutcome();
  const touched = [...params.set.map((s) => s.keyword), ...params.unset, ...params.add.map((a) => a.keyword), ...params.remove.map((r) => r.keyword)];
  const listen = touched.filter((k) => LISTEN_KEYWORDS.has(k.toLowerCase()));
  if (listen.length > 0 && sshd?.socketActivated) {
    outcome.refusal = {
      code: 'socket-activated',
      message: `${listen.join(', ')}: sshd is socket-activated here (ssh.socket), so a reload would not move where it listens`,
      hint: 'change ListenStream in ssh.socket (systemctl edit ssh.socket) instead; sshfix does not restart sockets',
    };
    return outcome;
  }
  if (listen.length > 0) {
    outcome.warnings.push(
      `${listen.join(', ')} changes where sshd listens: sshfix proves the fresh login on the inventory's address and port, and restarts sshd from its previous config if it cannot bind`,
    );
  }
  const version = facts.opensshVersion ?? sshdDefaults.version;
  const built = buildSshdConfigTree(input.files.snapshot(), params.config);
  if (built.unresolved.length > 0) {
    outcome.refusal = {
      code: 'config-incomplete',
      message: `cannot read every file ${params.config} includes (${built.unresolved.join(', ')})`,
      hint: 'an Include argument with quotes or spaces the fact script could not follow; please report it',
    };
    return outcome;
  }
  if (!input.files.read(params.config)) {
    outcome.refusal = { code: 'config-missing', message: `${params.config} does not exist on the host`, hint: 'set config: to the main sshd_config path' };
    return outcome;
  }

  const result = editSshdConfigAll(built.tree, editsOf(params), { version, defaults: sshdDefaults });
  const error = result.diagnostics.find((d) => d.severity === 'error');
  if (error) {
    outcome.refusal = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    return outcome;
  }
  const unexpectedEdit = checkSshdEdit(params, result.changes, version);
  if (unexpectedEdit) return { ...emptyOutcome(), refusal: unexpectedEdit };
  if (input.login && result.changes.length > 0) {
    const lockout = predictLockout({ before: built.tree, after: result.tree, login: input.login, version, defaults: sshdDefaults });
    if (lockout.refusal) return { ...emptyOutcome(), refusal: lockout.refusal };
    if (lockout.warning) outcome.warnings.push(lockout.warning);
  }
  outcome.warnings.push(...widenWarnings(params), ...result.diagnostics.map((d) => d.message));
  outcome.edits = result.changes.map((c) => ({ path: c.path, after: c.after, service: 'sshd' }));
  if (result.changes.length === 0) outcome.note = result.reason ?? 'already as requested';
  const matchSpecs: string[] = [];
  outcome.contributions.push({ service: 'sshd', ...(result.changes.length > 0 ? { config: params.config } : {}), matchSpecs });

  // What `sshd -T` must print once the change is live, for the connection the task targets.
  let connection: MatchConnection | undefined;
  if (params.match) {
    const parsed = parseMatchCriteria(params.match.text, version);
    connection = 'criteria' in parsed ? connectionForCriteria(parsed.criteria, { version, ...(sshdDefaults.release !== undefined ? { release: sshdDefaults.release } : {}) }) : undefined;
    if (!connection) {
      outcome.warnings.push(`no test connection enters "Match ${params.match.text}": apply checks it with sshd -t only, not sshd -T -C`);
      return outcome;
    }
  }
  const spec = connection ? formatConnectionSpec(connection) : undefined;
  const expected = requestedExpectations({ params, tree: result.tree, version, defaults: sshdDefaults, ...(connection && spec ? { connection, spec } : {}) });
  if (expected.refusal) {
    // Only an edit can do nothing; a no-op already says why.
    if (result.changes.length > 0) return { ...emptyOutcome(), refusal: expected.refusal };
  } else {
    outcome.expectations.push(...expected.expectations);
  }
  if (connection) matchSpecs.push(formatConnectionSpec(connection));
  return outcome;
}

/** The main config an sshd task names, when it is a plain string: its Include tree is read too. */
export function sshdTaskFactPaths(params: YamlNode): { sshd?: string[] } {
  if (params.type !== 'map') return {};
  const config = params.pairs.find((p) => p.key === 'config')?.value;
  return config?.type === 'scalar' && typeof config.value === 'string' && !config.value.includes('{{') ? { sshd: [config.value] } : {};
}

const GROUP_KEYWORD = /^(allow|deny)groups$/i;

/**
 * Whether an sshd task writes something that depends on the login's groups (AllowGroups,
 * DenyGroups, a Match block on Group), so the facts must hold them even when the host's files name
 * no group yet. Read from the raw node before templating: a Group that only a variable's value
 * brings into `match:` is not seen here, and the lockout prediction then says it cannot tell.
 */
export function sshdTaskNeedsLoginGroups(params: YamlNode): boolean {
  if (params.type !== 'map') return false;
  return params.pairs.some(({ key, value }) => {
    if (key === 'match') return value.type !== 'scalar' || /group/i.test(String(value.value ?? ''));
    if (key === 'set' || key === 'add' || key === 'remove') return value.type === 'map' && value.pairs.some((p) => GROUP_KEYWORD.test(p.key));
    if (key === 'unset') return value.type === 'seq' ? value.items.some((i) => i.type === 'scalar' && GROUP_KEYWORD.test(String(i.value))) : value.type === 'scalar' && GROUP_KEYWORD.test(String(value.value));
    return false;
  });
}
