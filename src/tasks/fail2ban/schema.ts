import { parseIgnoreIpEntry } from '../../config/fail2ban/ignoreip.js';
import { checkFail2banJailValue } from '../../config/fail2ban/values.js';
import type { ObjectSpec, Spec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import type { YamlNode, YamlPair } from '../../lang/yaml-tree.js';
import { errorCount, type SourceRange } from '../../util/diagnostics.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';

/**
 * The `fail2ban` task: makes a jail ignore addresses, lifts their bans, and sets jail keys, by
 * minimal edits of fail2ban's `.local` files (src/config/fail2ban/EDIT-POLICY.md).
 *
 *     - fail2ban:
 *         jail: sshd                          # default
 *         ignoreip: ["203.0.113.7", "10.0.0.0/8"]   # ensure present, keep the rest
 *         unban: ["203.0.113.7"]              # lifted once the new config is live
 *         set: { maxretry: 5, findtime: 10m, bantime: 1h }
 */

export const DEFAULT_FAIL2BAN_JAIL = 'sshd';

/** Jail keys a task may set. */
export const FAIL2BAN_SETTABLE_KEYS = ['maxretry', 'findtime', 'bantime', 'enabled', 'mode'] as const;

export interface Fail2banTaskParams {
  jail: string;
  /** Addresses, networks (CIDR) or host names the jail must ignore. */
  ignoreip: string[];
  /** Addresses whose ban is lifted after the reload, in this jail. */
  unban: string[];
  /** Jail keys and their values, checked as fail2ban checks them. */
  set: Record<string, string>;
}

const entries = (description: string): Spec => ({ type: 'array', single: true, minItems: 1, description, items: { type: 'scalar' } });

export const fail2banParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'a fail2ban task',
  description: "Make a fail2ban jail ignore addresses, lift their bans, or set jail keys, editing only fail2ban's .local files.",
  properties: {
    jail: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]+$',
      invalid: { code: 'bad-fail2ban-jail', expected: 'a jail name such as sshd' },
      description: `The jail. Default: ${DEFAULT_FAIL2BAN_JAIL}.`,
    },
    ignoreip: entries('Addresses, networks (CIDR) or host names the jail must ignore; the entries already there are kept.'),
    unban: entries('Addresses whose ban is lifted in this jail once the new config is live (a new ignoreip entry lifts no existing ban).'),
    set: {
      type: 'object',
      title: 'fail2ban jail keys',
      description: 'Jail keys: maxretry, findtime, bantime, enabled, mode.',
      properties: Object.fromEntries(FAIL2BAN_SETTABLE_KEYS.map((k) => [k, { type: 'scalar', description: `The jail's ${k}.` } satisfies Spec])),
    },
  },
};

/** A scalar's text, or undefined for null. */
const scalarText = (node: YamlNode): string | undefined => (node.type === 'scalar' && node.value !== null ? node.text : undefined);

function readFail2banParams(node: YamlNode, ctx: TaskParamContext): Fail2banTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const error = (code: string, message: string, range: SourceRange, hint?: string): void => {
    ctx.diagnostics.push({ severity: 'error', code, message, file: ctx.file, range, ...(hint ? { hint } : {}) });
  };
  const pending = (value: YamlNode): boolean => ctx.templatesPending && value.type === 'scalar' && typeof value.value === 'string' && hasTemplate(value.value);
  const pairOf = (key: string): YamlPair | undefined => node.pairs.find((p) => p.key === key);
  const params: Fail2banTaskParams = { jail: DEFAULT_FAIL2BAN_JAIL, ignoreip: [], unban: [], set: {} };

  const jailNode = pairOf('jail')?.value;
  if (jailNode) params.jail = scalarText(jailNode) ?? DEFAULT_FAIL2BAN_JAIL;

  const listOf = (key: string): YamlNode[] => {
    const value = pairOf(key)?.value;
    return value?.type === 'seq' ? value.items : value ? [value] : [];
  };
  for (const item of listOf('ignoreip')) {
    const text = scalarText(item);
    if (text === undefined) continue;
    params.ignoreip.push(text);
    if (pending(item)) continue;
    const entry = parseIgnoreIpEntry(text);
    if (entry.kind === 'invalid') error('fail2ban-bad-ignoreip', `ignoreip entry ${JSON.stringify(text)}: ${entry.reason}`, item.range, 'an IPv4 or IPv6 address, a network such as 10.0.0.0/8, or a host name');
    else if (entry.kind === 'ip' && entry.plen > (entry.family === 4 ? 32 : 128)) error('fail2ban-bad-ignoreip', `ignoreip entry ${JSON.stringify(text)}: the prefix length is longer than the address`, item.range);
    else if (entry.kind === 'hostname') {
      ctx.diagnostics.push({
        severity: 'warning',
        code: 'fail2ban-ignoreip-hostname',
        message: `ignoreip entry ${text} is a host name: fail2ban resolves it through DNS, and ignores nothing when that fails`,
        file: ctx.file,
        range: item.range,
        hint: 'prefer the address or network',
      });
    }
  }
  for (const item of listOf('unban')) {
    const text = scalarText(item);
    if (text === undefined) continue;
    params.unban.push(text);
    if (pending(item)) continue;
    const entry = parseIgnoreIpEntry(text);
    if (entry.kind !== 'ip' || text.includes('/')) error('fail2ban-bad-unban', `unban entry ${JSON.stringify(text)} is not an IP address`, item.range, 'fail2ban bans single addresses; name the address to lift');
  }
  const setNode = pairOf('set')?.value;
  if (setNode?.type === 'map') {
    for (const pair of setNode.pairs) {
      const text = scalarText(pair.value);
      if (text === undefined) continue;
      // YAML true/false become fail2ban's own words.
      const value = pair.value.type === 'scalar' && typeof pair.value.value === 'boolean' ? (pair.value.value ? 'true' : 'false') : text;
      params.set[pair.key] = value;
      if (pending(pair.value)) continue;
      const check = checkFail2banJailValue(pair.key, value);
      if (!check.ok) error('fail2ban-bad-value', check.reason, pair.value.range);
    }
  }
  const unknownKeys = node.pairs.some((p) => !Object.hasOwn(fail2banParamsSpec.properties, p.key));
  if (!unknownKeys && params.ignoreip.length + params.unban.length + Object.keys(params.set).length === 0 && !['ignoreip', 'unban', 'set'].some((k) => pairOf(k))) {
    error('empty-fail2ban-task', 'the fail2ban task changes nothing', node.range, 'add ignoreip:, unban: or set:');
  }
  return errorCount(ctx.diagnostics) === before ? params : undefined;
}

export const fail2banTaskKind: TaskKind<Fail2banTaskParams> = {
  name: 'fail2ban',
  summary: "Make a fail2ban jail ignore addresses, lift their bans, or set jail keys (.local files only).",
  readOnly: false,
  params: fail2banParamsSpec,
  readParams: readFail2banParams,
};
