import { legacyAlgorithmsIn, lookupSshKeyword, parseSshValue, patternsMatchEveryHost, SSH_KEYWORDS, type SshKeyword } from '../../config/ssh-config/keywords.js';
import { errorCount, type SourceRange } from '../../util/diagnostics.js';
import type { ObjectSpec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import type { YamlNode, YamlPair } from '../../lang/yaml-tree.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';
import { sshdValueText } from '../sshd/schema.js';

/**
 * The `ssh_client` task: settings for some destinations in the OpenSSH client's config, inside the
 * `Host` block whose patterns are `host:` (created before any `Host *`, since ssh keeps the first
 * value it obtains).
 *
 *     - ssh_client:
 *         host: legacy-box                              # or a list of patterns
 *         set: { KexAlgorithms: "+diffie-hellman-group14-sha1", ServerAliveInterval: 60 }
 *         unset: [Ciphers]
 *         path: ~/.ssh/config                           # default: the system drop-in (see DEFAULT_SSH_CLIENT_PATH)
 */

/** The default file: this drop-in where /etc/ssh/ssh_config includes ssh_config.d, else /etc/ssh/ssh_config itself. */
export const DEFAULT_SSH_CLIENT_PATH = '/etc/ssh/ssh_config.d/50-sshfix.conf';

export interface SshClientSetting {
  /** Canonical spelling, e.g. `ServerAliveInterval`. */
  keyword: string;
  value: string;
}

export interface SshClientTaskParams {
  /** Absolute, or `~/...` (the login account's home); undefined: the default. */
  path?: string;
  /** The `Host` line's patterns. */
  hosts: string[];
  set: SshClientSetting[];
  unset: string[];
}

const KEYWORD_KEY = { pattern: '^[A-Za-z][A-Za-z0-9-]*$', invalid: { code: 'unknown-ssh-keyword', expected: 'an ssh_config keyword' } };
const PATTERN = /^!?[A-Za-z0-9_.*?:%@\[\]-]+$/;

export const sshClientParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'an ssh_client task',
  description: 'Settings for some destinations in the OpenSSH client config, inside the Host block of exactly these patterns.',
  required: ['host'],
  properties: {
    host: { type: 'array', single: true, minItems: 1, items: { type: 'string' }, description: 'The Host line\'s patterns, e.g. legacy-box or ["*.lab" , "!gw.lab"]. `*` is refused for legacy algorithms.' },
    set: {
      type: 'object',
      title: 'ssh_config keywords to set',
      description: 'ssh_config keywords to set: Keyword: value',
      properties: {},
      additional: { type: 'scalar', description: 'The value as written in ssh_config; true/false become yes/no.' },
      keys: KEYWORD_KEY,
    },
    unset: { type: 'array', single: true, minItems: 1, description: 'Keywords whose lines are removed from that Host block.', items: { type: 'string', ...KEYWORD_KEY } },
    path: {
      type: 'string',
      pattern: '^(/|~/)',
      invalid: { code: 'bad-path', expected: 'an absolute path or ~/...' },
      description: `The file to edit. Default: ${DEFAULT_SSH_CLIENT_PATH} where /etc/ssh/ssh_config includes ssh_config.d, else /etc/ssh/ssh_config; ~/.ssh/config is the login account's.`,
    },
  },
};

function readSshClientParams(node: YamlNode, ctx: TaskParamContext): SshClientTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const error = (code: string, message: string, range: SourceRange, hint?: string): void => {
    ctx.diagnostics.push({ severity: 'error', code, message, file: ctx.file, range, ...(hint ? { hint } : {}) });
  };
  const pending = (value: YamlNode): boolean => ctx.templatesPending && value.type === 'scalar' && typeof value.value === 'string' && hasTemplate(value.value);
  const pairOf = (key: string): YamlPair | undefined => node.pairs.find((p) => p.key === key);
  const params: SshClientTaskParams = { hosts: [], set: [], unset: [] };

  const pathNode = pairOf('path')?.value;
  if (pathNode?.type === 'scalar' && typeof pathNode.value === 'string') params.path = pathNode.value;

  const hostNode = pairOf('host')?.value;
  let hostsPending = false;
  for (const item of hostNode?.type === 'seq' ? hostNode.items : hostNode ? [hostNode] : []) {
    if (item.type !== 'scalar' || item.value === null) continue;
    if (pending(item)) {
      hostsPending = true;
      continue;
    }
    for (const pattern of item.text.split(/[\s,]+/).filter(Boolean)) {
      if (!PATTERN.test(pattern)) error('bad-host-pattern', `"${pattern}" is not a Host pattern`, item.range, 'a host name or glob (* and ?), ! to exclude');
      else params.hosts.push(pattern);
    }
  }
  const everyHost = !hostsPending && patternsMatchEveryHost(params.hosts);

  const seen = new Set<string>();
  const keyword = (name: string, range: SourceRange): SshKeyword | undefined => {
    const kw = lookupSshKeyword(name);
    if (!kw) {
      const near = SSH_KEYWORDS.find((k) => k.name.toLowerCase().startsWith(name.toLowerCase().slice(0, 4)));
      error('unknown-ssh-keyword', `"${name}" is not an ssh_config keyword sshfix manages`, range, near ? `did you mean ${near.name}?` : `one of: ${SSH_KEYWORDS.map((k) => k.name).join(', ')}`);
      return undefined;
    }
    if (seen.has(kw.name)) {
      error('duplicate-ssh-keyword', `${kw.name} appears twice in the task (keywords are case-insensitive)`, range);
      return undefined;
    }
    seen.add(kw.name);
    return kw;
  };

  const setNode = pairOf('set')?.value;
  if (setNode?.type === 'map') {
    for (const pair of setNode.pairs) {
      const kw = keyword(pair.key, pair.keyRange);
      const value = sshdValueText(pair.value);
      if (!kw || value === undefined) continue;
      if (!pending(pair.value)) {
        const parsed = parseSshValue(kw, value, ctx.opensshVersion ? { version: ctx.opensshVersion } : {});
        if ('problem' in parsed) {
          const soft = parsed.problem.code === 'unknown-algorithm' && ctx.opensshVersion === undefined;
          ctx.diagnostics.push({
            severity: soft ? 'warning' : 'error',
            code: parsed.problem.code,
            message: soft ? `${parsed.problem.message} (checked against OpenSSH 9.2)` : parsed.problem.message,
            file: ctx.file,
            range: pair.value.range,
            ...(parsed.problem.hint ? { hint: parsed.problem.hint } : {}),
          });
        }
        const legacy = kw.legacyRisk ? legacyAlgorithmsIn(value) : [];
        if (everyHost && legacy.length > 0) {
          error('legacy-algorithm-for-every-host', `${kw.name} would enable legacy ${legacy.join(', ')} for every destination (Host ${params.hosts.join(' ')})`, pair.value.range,
            'name the hosts that need it in host:, e.g. host: old-switch.example.com; a legacy algorithm is a last resort for one peer, never a default');
        }
      }
      params.set.push({ keyword: kw.name, value });
    }
  }

  const unsetNode = pairOf('unset')?.value;
  for (const item of unsetNode?.type === 'seq' ? unsetNode.items : unsetNode ? [unsetNode] : []) {
    if (item.type !== 'scalar' || typeof item.value !== 'string' || pending(item)) continue;
    const kw = keyword(item.value, item.range);
    if (kw) params.unset.push(kw.name);
  }

  if (params.set.length + params.unset.length === 0 && !pairOf('set') && !pairOf('unset')) {
    error('empty-ssh-client-task', 'the ssh_client task changes nothing', node.range, 'add set: or unset:');
  }
  return errorCount(ctx.diagnostics) === before ? params : undefined;
}

export const sshClientTaskKind: TaskKind<SshClientTaskParams> = {
  name: 'ssh_client',
  summary: 'Set or unset OpenSSH client (ssh_config) keywords in the Host block of given patterns.',
  readOnly: false,
  params: sshClientParamsSpec,
  readParams: readSshClientParams,
};
