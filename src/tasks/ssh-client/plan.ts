/**
 * Planner of `ssh_client` tasks: the ssh_config engine's Host-block edit (src/config/ssh-config/)
 * applied to the chosen file, and the values the real `ssh -G` must show for a destination the
 * patterns select once the file is written.
 */
import { ensureSshHostBlock } from '../../config/ssh-config/edit.js';
import { hostPatternsMatch, sshBlocks } from '../../config/ssh-config/effective.js';
import { lookupSshKeyword, parseSshValue } from '../../config/ssh-config/keywords.js';
import { parseSshConfig } from '../../config/ssh-config/parse.js';
import type { YamlNode } from '../../lang/yaml-tree.js';
import { mainConfigOf, SYSTEM_DROP_IN_DIR, SYSTEM_SSH_CONFIG, UNRELATED_HOST } from '../../services/ssh-client/facts.js';
import type { SshClientExpectation } from '../../services/ssh-client/verify.js';
import { emptyOutcome, type FileOwner, type PlanInput, type PlanOutcome } from '../planner.js';
import { DEFAULT_SSH_CLIENT_PATH, type SshClientSetting, type SshClientTaskParams } from './schema.js';

/** Whether the system config includes the drop-in directory before any Host/Match block (where a drop-in still wins). */
export function includesDropIns(systemConfig: string | undefined): boolean {
  if (systemConfig === undefined) return false;
  const [global] = sshBlocks(parseSshConfig(systemConfig, SYSTEM_SSH_CONFIG));
  return global!.lines.some(
    (l) => l.kind === 'directive' && l.keyword?.toLowerCase() === 'include' && (l.args ?? []).some((a) => [`${SYSTEM_DROP_IN_DIR}/*.conf`, 'ssh_config.d/*.conf'].includes(a.value)),
  );
}

/** A destination name the patterns select, to ask `ssh -G` about: wildcards filled in. */
export function probeHost(patterns: readonly string[]): string | undefined {
  for (const p of patterns) {
    if (p.startsWith('!')) continue;
    const name = p.replace(/[*?]/g, 'x').replace(/^\.+/, '').toLowerCase();
    if (/^[a-z0-9_.:-]+$/.test(name) && hostPatternsMatch(patterns, name)) return name;
  }
  return undefined;
}

type Expected = Omit<SshClientExpectation, 'task' | 'config' | 'connection'>;

/** What `ssh -G` prints once `setting` is the first value obtained; undefined where it cannot be known here (`~`, `%` tokens). */
export function expectedValue(setting: SshClientSetting): Expected | undefined {
  const kw = lookupSshKeyword(setting.keyword)!;
  const parsed = parseSshValue(kw, setting.value);
  if ('problem' in parsed) return undefined;
  if (/[~%$]/.test(setting.value)) return undefined;
  const keyword = kw.dumpName;
  if (kw.value === 'algorithms') {
    const v = setting.value.trim();
    const items = v.replace(/^[-+^]/, '').split(',');
    if (v.startsWith('+')) return { keyword, values: items, match: 'contains' };
    if (v.startsWith('-')) return { keyword, values: items, match: 'excludes' };
    if (v.startsWith('^')) return { keyword, values: items, match: 'starts' };
    return { keyword, values: [v], match: 'equals' };
  }
  if (kw.combine === 'accumulate') return { keyword, values: parsed.items, match: 'contains' };
  // ssh prints the destination's name lowercased.
  if (keyword === 'hostname') return { keyword, values: parsed.items.map((i) => i.toLowerCase()), match: 'equals' };
  return { keyword, values: parsed.items, match: 'equals' };
}

export function planSshClientTask(input: PlanInput<SshClientTaskParams>): PlanOutcome {
  const { params, facts, files } = input;
  const outcome = emptyOutcome();
  const client = facts.services.ssh_client;
  let path = params.path ?? (includesDropIns(files.read(SYSTEM_SSH_CONFIG)) ? DEFAULT_SSH_CLIENT_PATH : SYSTEM_SSH_CONFIG);
  let owner: FileOwner | undefined;
  if (path.startsWith('~/')) {
    if (!client?.account) {
      outcome.refusal = { code: 'no-home', message: `cannot tell whose ${path} to edit: the login account is not in the host's passwd database`, hint: 'give an absolute path:' };
      return outcome;
    }
    path = `${client.account.home.replace(/\/$/, '')}/${path.slice(2)}`;
    // Created through sudo, the user's own config (and ~/.ssh) must still be the user's: ssh
    // wants it writable by its owner only, and the user must be able to edit it.
    owner = { uid: client.account.uid, gid: client.account.gid, mode: 0o600 };
  }
  const file = parseSshConfig(files.read(path) ?? '', path);
  const result = ensureSshHostBlock(file, {
    hosts: params.hosts,
    settings: Object.fromEntries(params.set.map((s) => [s.keyword, s.value])),
    unset: params.unset,
  });
  const failure = result.diagnostics.find((d) => d.severity === 'error');
  if (failure) {
    outcome.refusal = { code: failure.code, message: `${path}: ${failure.message}`, ...(failure.hint ? { hint: failure.hint } : {}) };
    return outcome;
  }
  outcome.warnings.push(...result.diagnostics.map((d) => d.message));
  for (const change of result.changes) outcome.edits.push({ path: change.path, after: change.after, service: 'ssh_client', ...(owner ? { owner } : {}) });
  if (result.changes.length === 0) outcome.note = `${path}: ${result.reason ?? 'nothing to change'}`;
  const config = mainConfigOf(path);
  const probe = probeHost(params.hosts);
  if (probe) {
    for (const setting of params.set) {
      const expected = expectedValue(setting);
      if (expected) outcome.expectations.push({ service: 'ssh_client', config, connection: probe, ...expected });
    }
  }
  outcome.contributions.push({ service: 'ssh_client', config, coversUnrelated: hostPatternsMatch(params.hosts, UNRELATED_HOST) });
  return outcome;
}

/** The file the task names (the default drop-in when none), read with the facts. */
export function sshClientTaskFactPaths(params: YamlNode): { ssh_client: string[] } {
  const pathNode = params.type === 'map' ? params.pairs.find((p) => p.key === 'path')?.value : undefined;
  const path = pathNode?.type === 'scalar' && typeof pathNode.value === 'string' && /^(\/|~\/)/.test(pathNode.value) && !pathNode.value.includes('{{') ? pathNode.value : DEFAULT_SSH_CLIENT_PATH;
  return { ssh_client: [path] };
}
