import { posix } from 'node:path';
import { hasErrors, type Diagnostic, type SourceRange } from '../util/diagnostics.js';
import { parseIpv4, parseIpv6 } from '../config/sshd/values.js';
import { durationTooLong, parseDuration } from './duration.js';
import { expandHostRange, hasHostRange } from './host-range.js';
import { matchTerm, parseHostPattern, selectHosts, type PatternUniverse } from './host-pattern.js';
import { connectionProperties, inventorySpec } from './inventory-spec.js';
import { checkShape, ownEntry, type Spec } from '../lang/spec.js';
import { closestMatch, didYouMean } from '../lang/suggest.js';
import { checkVarsNode, varOriginsOf, type VariableOrigin } from './variables.js';
import { getPair, getValue, parseYaml, toPlainValue, type PlainValue, type YamlMap, type YamlNode, type YamlPair } from '../lang/yaml-tree.js';

/** strict: the key must be in known_hosts; accept-new: record unknown keys, refuse changed ones; off: no check. */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';
/** How reads and edits gain root: none (log in as root) or sudo. */
export type BecomeMethod = 'none' | 'sudo';
/** How sshfix reaches a host: over SSH, or on the machine it runs on (no SSH at all). */
export type ConnectionKind = 'ssh' | 'local';

/** The algorithm categories, named as ssh2 and the transport name them. */
export type AlgorithmCategory = 'kex' | 'cipher' | 'serverHostKey' | 'hmac';

/**
 * Per-host algorithm overrides, as in an ssh_config Host block: per category either a plain list
 * (use exactly these) or only `+name` (append), `-name` (remove), `^name` (move to the front)
 * entries that modify the client's defaults; never both kinds in one list. A category set on a
 * host replaces the same category from its groups and defaults whole.
 */
export type AlgorithmSettings = Partial<Record<AlgorithmCategory, string[]>>;

/**
 * Where a host's connection goes through first (ProxyJump). `host` names another inventory host
 * (connected with that host's own settings, including its own jump); `address` is a machine
 * outside the inventory, reached with the settings of the host it leads to and `user` (when
 * given) instead of that host's user.
 */
export type JumpSpec =
  | { kind: 'host'; name: string }
  | { kind: 'address'; address: string; port: number; user?: string };

/**
 * Everything the transport needs to open one SSH connection. Paths are absolute (or as written
 * when no base directory was given); secrets are named environment variables, never values.
 */
export interface ConnectionSettings {
  address: string;
  /** 1..65535 */
  port: number;
  user: string;
  identityFile?: string;
  /** Use the agent at $SSH_AUTH_SOCK. */
  agent: boolean;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  become: BecomeMethod;
  /** Connect and authenticate within this many milliseconds (> 0). */
  connectTimeoutMs: number;
  /** The local address to connect from (OpenSSH's BindAddress). */
  bindAddress?: string;
  /** Seconds between keepalives inside the channel (OpenSSH's ServerAliveInterval); 0 or absent: none. */
  keepaliveIntervalS?: number;
  algorithms?: AlgorithmSettings;
  passwordEnv?: string;
  passphraseEnv?: string;
  becomePasswordEnv?: string;
  /**
   * Set (to `local`) only for a host that is the machine running sshfix: commands run there as
   * the user running sshfix, without SSH, and only `become` and its password apply.
   */
  connection?: 'local';
}

/** The settings the runner user's ssh_config may give a host (where the inventory does not). */
export type SshConfigurable = 'address' | 'user' | 'port' | 'identityFile' | 'knownHosts' | 'hostKeyPolicy' | 'connectTimeoutMs' | 'bindAddress' | 'keepaliveIntervalS' | 'algorithms' | 'jump';

/** A host after ranges, groups and precedence (defaults < groups in file order < host). */
export interface ResolvedHost extends ConnectionSettings {
  /** Inventory name, unique; what patterns match and reports show. */
  name: string;
  jump?: JumpSpec;
  /** Groups the host belongs to, in file order (`all` is implicit and not listed). */
  groups: string[];
  /** Inventory vars < group vars < host vars, merged (playbook vars and --var come later). */
  vars: Record<string, PlainValue>;
  /** Where each of `vars` is written (the level that wins). */
  varOrigins?: Record<string, VariableOrigin>;
  /** Where the host entry is written (the key; for a range, the whole range's key). */
  declaredAt: SourceRange;
  /** The runner user's ssh_config to honour for this host (absolute path); absent: none. */
  sshConfig?: string;
  /** The settings the inventory writes for the host (at any level): ssh_config never overrides them. */
  explicit?: SshConfigurable[];
  /**
   * The implicit `localhost` (implicit-localhost.ts): not in the inventory, added because a play
   * names it; only its exact name selects it (`all` and globs never do).
   */
  implicit?: true;
}

/** A group after membership is resolved; `all` is implicit and never listed. */
export interface InventoryGroup {
  name: string;
  /** Member host names, in inventory order. */
  hosts: string[];
  vars: Record<string, PlainValue>;
  declaredAt: SourceRange;
}

/** A loaded inventory: every host resolved, plain data (JSON-serialisable). */
export interface Inventory {
  file: string;
  /** In file order (ranges expanded in place). */
  hosts: ResolvedHost[];
  groups: InventoryGroup[];
  /** The top-level `vars`. */
  vars: Record<string, PlainValue>;
}

/** What the pure loader needs from the environment. */
export interface LoadInventoryOptions {
  /** The file name as the user gave it (for diagnostics). */
  file: string;
  /** Expands `~` in paths. */
  homeDir: string;
  /** The default `user`. */
  localUser: string;
  /** Relative paths in the inventory are resolved against this directory (the file's own). */
  baseDir?: string;
}

/** The inventory and every problem found in it. */
export interface InventoryLoadResult {
  /** Always present; with errors it holds what could be resolved and must not be acted on. */
  inventory: Inventory;
  diagnostics: Diagnostic[];
}

const DEFAULT_PORT = 22;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const RESERVED_GROUP_NAMES = ['all'];

/** Connection settings as written on one level (defaults, a group, a host), before precedence. */
interface ConnectionLayer {
  user?: string;
  port?: number;
  identityFile?: string;
  agent?: boolean;
  knownHosts?: string;
  hostKeyPolicy?: HostKeyPolicy;
  become?: BecomeMethod;
  jump?: { text: string; node: YamlNode };
  connectTimeoutMs?: number;
  bindAddress?: string;
  algorithms?: AlgorithmSettings;
  passwordEnv?: string;
  passphraseEnv?: string;
  becomePasswordEnv?: string;
  sshConfig?: string;
  connection?: ConnectionKind;
  /** Where each key of this level is written, for diagnostics. */
  keyRanges?: Map<string, SourceRange>;
}

/** Layer fields that ssh_config could otherwise supply. */
const CONFIGURABLE_FIELDS: readonly (keyof ConnectionLayer & SshConfigurable)[] = ['user', 'port', 'identityFile', 'knownHosts', 'hostKeyPolicy', 'connectTimeoutMs', 'bindAddress', 'algorithms', 'jump'];

interface HostEntry {
  names: string[];
  pair: YamlPair;
  layer: ConnectionLayer;
  address?: string;
  vars: Record<string, PlainValue>;
  varOrigins: Record<string, VariableOrigin>;
}

interface GroupEntry {
  name: string;
  pair: YamlPair;
  layer: ConnectionLayer;
  members: string[];
  vars: Record<string, PlainValue>;
  varOrigins: Record<string, VariableOrigin>;
}

/**
 * Loads, validates and resolves an inventory. Pure: the caller reads the file and passes the
 * home directory, the local user name and the file's directory.
 */
export function loadInventory(text: string, options: LoadInventoryOptions): InventoryLoadResult {
  const { file } = options;
  const parsed = parseYaml(text, file);
  const diagnostics = [...parsed.diagnostics];
  const empty: Inventory = { file, hosts: [], groups: [], vars: {} };
  const root = parsed.root;
  if (!root) {
    if (!hasErrors(diagnostics)) {
      diagnostics.push({ severity: 'error', code: 'empty-file', message: 'the inventory is empty', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }, hint: 'see inventory.example.yaml', file });
    }
    return { inventory: empty, diagnostics };
  }
  if (!checkShape(root, inventorySpec, { file, diagnostics }, 'the inventory') || root.type !== 'map') {
    return { inventory: empty, diagnostics };
  }
  const report = (d: Omit<Diagnostic, 'file'>): void => {
    diagnostics.push({ ...d, file });
  };
  const expandPath = (value: string): string => expandUserPath(value, options.homeDir, options.baseDir);

  const vars = readVars(getValue(root, 'vars'), file, diagnostics);
  const varOrigins = varOriginsOf(getValue(root, 'vars'), file, 'inventory vars');
  const defaults = readConnectionLayer(getValue(root, 'defaults'), report);

  const hostEntries = readHostEntries(getValue(root, 'hosts'), file, diagnostics, report);
  const hostNames = hostEntries.flatMap((h) => h.names);
  const groups = readGroupEntries(getValue(root, 'groups'), hostNames, file, diagnostics, report);
  const hostNameSet = new Set(hostNames);
  for (const group of groups) {
    if (hostNameSet.has(group.name)) {
      report({
        severity: 'error',
        code: 'group-host-clash',
        message: `group "${group.name}" has the same name as a host`,
        hint: 'patterns could not tell them apart; rename one',
        range: group.pair.keyRange,
      });
    }
  }
  if (hostNames.length === 0 && !hasErrors(diagnostics)) {
    report({ severity: 'warning', code: 'no-hosts', message: 'the inventory has no hosts', range: root.range });
  }

  // Each host's groups in file order, found once: searching every group's member list for each
  // host is quadratic in a large inventory.
  const groupsOf = new Map<string, GroupEntry[]>();
  for (const group of groups) {
    for (const member of group.members) {
      const list = groupsOf.get(member);
      if (list === undefined) groupsOf.set(member, [group]);
      else if (list.at(-1) !== group) list.push(group);
    }
  }
  const hosts: ResolvedHost[] = [];
  const refusedRanges = new Set<string>();
  const jumpNodes = new Map<string, { text: string; node: YamlNode }>();
  for (const entry of hostEntries) {
    for (const name of entry.names) {
      const memberOf = groupsOf.get(name) ?? [];
      const layers = [defaults, ...memberOf.map((g) => g.layer), entry.layer];
      const merged = mergeLayers(layers);
      const common = {
        name,
        address: entry.address ?? name,
        groups: memberOf.map((g) => g.name),
        vars: [vars, ...memberOf.map((g) => g.vars), entry.vars].reduce((all, layer) => ({ ...all, ...layer }), {}),
        varOrigins: [varOrigins, ...memberOf.map((g) => g.varOrigins), entry.varOrigins].reduce((all, layer) => ({ ...all, ...layer }), {}),
        declaredAt: entry.pair.keyRange,
      };
      if (merged.connection === 'local') {
        refuseRemoteKeys(layers, entry.layer, refusedRanges, report);
        hosts.push(localHost(common, merged, { localUser: options.localUser, knownHosts: expandPath('~/.ssh/known_hosts') }));
        continue;
      }
      const host: ResolvedHost = {
        ...common,
        port: merged.port ?? DEFAULT_PORT,
        user: merged.user ?? options.localUser,
        agent: merged.agent ?? false,
        knownHosts: expandPath(merged.knownHosts ?? '~/.ssh/known_hosts'),
        hostKeyPolicy: merged.hostKeyPolicy ?? 'strict',
        become: merged.become ?? 'none',
        connectTimeoutMs: merged.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      };
      if (merged.identityFile !== undefined) host.identityFile = expandPath(merged.identityFile);
      if (merged.algorithms !== undefined) host.algorithms = merged.algorithms;
      if (merged.bindAddress !== undefined) host.bindAddress = merged.bindAddress;
      if (merged.passwordEnv !== undefined) host.passwordEnv = merged.passwordEnv;
      if (merged.passphraseEnv !== undefined) host.passphraseEnv = merged.passphraseEnv;
      if (merged.becomePasswordEnv !== undefined) host.becomePasswordEnv = merged.becomePasswordEnv;
      const sshConfig = merged.sshConfig ?? '~/.ssh/config';
      if (sshConfig !== 'none') host.sshConfig = expandPath(sshConfig);
      host.explicit = [...(entry.address !== undefined ? ['address' as const] : []), ...CONFIGURABLE_FIELDS.filter((f) => merged[f] !== undefined)];
      // A host never jumps through itself: a jump inherited from defaults or a group that names
      // the host (the bastion in `defaults: { jump: bastion-1 }`) means it is reached directly.
      const inheritedSelfJump = merged.jump?.text === name && merged.jump !== entry.layer.jump;
      if (merged.jump !== undefined && merged.jump.text !== 'none' && !inheritedSelfJump) jumpNodes.set(name, merged.jump);
      hosts.push(host);
    }
  }

  resolveJumps(hosts, jumpNodes, hostNameSet, report);
  // With errors the settings are incomplete, and "no credentials" would only add noise.
  if (!hasErrors(diagnostics)) reportMissingCredentials(hosts, report);

  const inventory: Inventory = {
    file,
    hosts,
    groups: groups.map((g) => ({ name: g.name, hosts: g.members, vars: g.vars, declaredAt: g.pair.keyRange })),
    vars,
  };
  return { inventory, diagnostics };
}

/**
 * Connection keys that only mean something for an SSH login, with why: on a local host they are
 * refused where they are written beside `connection: local` (or on the host itself); inherited
 * from `defaults` or a group that does not make the host local, they are simply not used.
 */
const SSH_ONLY_KEYS: Readonly<Record<string, string>> = {
  user: 'a local connection runs as the user running sshfix; set become: sudo to act as root',
  port: 'there is no SSH port to a local host',
  identity_file: 'nothing logs in to a local host',
  agent: 'nothing logs in to a local host',
  password_env: 'nothing logs in to a local host',
  passphrase_env: 'nothing logs in to a local host',
  known_hosts: 'there is no host key to check on a local host',
  host_key_policy: 'there is no host key to check on a local host',
  jump: 'a local host is reached without any jump host',
  bind_address: 'nothing connects to a local host',
  ssh_config: 'no ssh_config is read for a local host',
  connect_timeout: 'nothing connects to a local host',
  algorithms: 'no SSH algorithms are negotiated with a local host',
};

/** Errors for SSH-only keys on the levels that make a host local: its own entry, or a level that says `connection: local`. */
function refuseRemoteKeys(layers: readonly ConnectionLayer[], own: ConnectionLayer, refused: Set<string>, report: (d: Omit<Diagnostic, 'file'>) => void): void {
  for (const layer of layers) {
    if (layer !== own && layer.connection !== 'local') continue;
    for (const [key, range] of layer.keyRanges ?? []) {
      const why = ownEntry(SSH_ONLY_KEYS, key);
      const at = `${range.start.line}:${range.start.column}`;
      if (why === undefined || refused.has(at)) continue;
      refused.add(at);
      report({ severity: 'error', code: 'local-connection-key', message: `"${key}" does not apply to a host with connection: local`, hint: `${why}; remove it`, range });
    }
  }
}

/** A host on the machine running sshfix: only become (and its password) of the connection settings apply. */
function localHost(
  common: Pick<ResolvedHost, 'name' | 'address' | 'groups' | 'vars' | 'varOrigins' | 'declaredAt'>,
  merged: ConnectionLayer,
  base: { localUser: string; knownHosts: string },
): ResolvedHost {
  const host: ResolvedHost = {
    ...common,
    port: DEFAULT_PORT,
    user: base.localUser,
    agent: false,
    knownHosts: base.knownHosts,
    hostKeyPolicy: 'strict',
    become: merged.become ?? 'none',
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    connection: 'local',
    explicit: [],
  };
  if (merged.becomePasswordEnv !== undefined) host.becomePasswordEnv = merged.becomePasswordEnv;
  return host;
}

/** `~` and `~/x` under the home directory; relative paths under `baseDir` when given. */
export function expandUserPath(value: string, homeDir: string, baseDir?: string): string {
  if (value === '~') return homeDir;
  if (value.startsWith('~/')) return posix.join(homeDir, value.slice(2));
  if (!value.startsWith('/') && baseDir !== undefined) return posix.join(baseDir, value);
  return value;
}

function readVars(node: YamlNode | undefined, file: string, diagnostics: Diagnostic[]): Record<string, PlainValue> {
  if (node?.type !== 'map') return {};
  diagnostics.push(...checkVarsNode(node, file));
  return toPlainValue(node) as Record<string, PlainValue>;
}

/** True when `node` fits `spec` (reported already by the whole-file shape check if not). */
function fits(node: YamlNode, spec: Spec): boolean {
  const scratch: Diagnostic[] = [];
  checkShape(node, spec, { file: '', diagnostics: scratch }, '');
  return scratch.length === 0;
}

/** Inventory keys whose value a layer takes as it is, and the field each one fills. */
const COPIED_FIELDS = {
  user: 'user',
  port: 'port',
  identity_file: 'identityFile',
  agent: 'agent',
  known_hosts: 'knownHosts',
  host_key_policy: 'hostKeyPolicy',
  become: 'become',
  password_env: 'passwordEnv',
  passphrase_env: 'passphraseEnv',
  become_password_env: 'becomePasswordEnv',
  ssh_config: 'sshConfig',
  connection: 'connection',
} as const satisfies Record<string, keyof ConnectionLayer>;

function readConnectionLayer(node: YamlNode | undefined, report: (d: Omit<Diagnostic, 'file'>) => void): ConnectionLayer {
  const layer: ConnectionLayer = {};
  if (node?.type !== 'map') return layer;
  layer.keyRanges = new Map();
  for (const pair of node.pairs) {
    const spec = ownEntry(connectionProperties, pair.key);
    if (!spec || !fits(pair.value, spec)) continue;
    layer.keyRanges.set(pair.key, pair.keyRange);
    const value = pair.value;
    const scalar = value.type === 'scalar' ? value.value : undefined;
    const field = ownEntry(COPIED_FIELDS, pair.key);
    if (field !== undefined) {
      // `fits` vouched for the type; numbers stay numbers only where a number is meant (port).
      (layer as Record<string, unknown>)[field] = typeof scalar === 'number' && field !== 'port' && value.type === 'scalar' ? value.text : scalar;
      continue;
    }
    switch (pair.key) {
      case 'jump':
        layer.jump = { text: value.type === 'scalar' ? value.text : '', node: value };
        break;
      case 'connect_timeout': {
        const ms = parseDuration(scalar as string | number);
        const tooLong = ms === undefined ? undefined : durationTooLong(ms);
        if (ms === undefined || ms <= 0) {
          report({ severity: 'error', code: 'bad-duration', message: '"connect_timeout" must be more than 0', range: value.range });
        } else if (tooLong !== undefined) {
          report({ severity: 'error', code: 'bad-duration', message: `"connect_timeout" must be ${tooLong}, found "${value.type === 'scalar' ? value.text : ''}"`, range: value.range });
        } else layer.connectTimeoutMs = ms;
        break;
      }
      case 'algorithms':
        layer.algorithms = readAlgorithms(value, report);
        break;
      case 'bind_address':
        if (parseIpv4(scalar as string) === undefined && parseIpv6(scalar as string) === undefined) {
          report({ severity: 'error', code: 'bad-bind-address', message: `"${String(scalar)}" is not an IP address`, hint: 'bind_address takes an address of this machine, e.g. 192.0.2.5', range: value.range });
        } else layer.bindAddress = scalar as string;
        break;
    }
  }
  return layer;
}

function readAlgorithms(node: YamlNode, report: (d: Omit<Diagnostic, 'file'>) => void): AlgorithmSettings {
  const out: AlgorithmSettings = {};
  if (node.type !== 'map') return out;
  const hostkey = getPair(node, 'hostkey');
  const serverHostKey = getPair(node, 'serverHostKey');
  if (hostkey && serverHostKey) {
    report({
      severity: 'error',
      code: 'conflicting-keys',
      message: 'algorithms has both hostkey and serverHostKey (two names for one list)',
      hint: 'keep one of them',
      range: serverHostKey.keyRange,
    });
  }
  for (const pair of node.pairs) {
    const category: AlgorithmCategory | undefined =
      pair.key === 'hostkey' || pair.key === 'serverHostKey' ? 'serverHostKey'
      : pair.key === 'kex' || pair.key === 'cipher' || pair.key === 'hmac' ? pair.key
      : undefined;
    if (!category) continue;
    const items = pair.value.type === 'seq' ? pair.value.items : [pair.value];
    const entries = items.flatMap((item) => (item.type === 'scalar' ? item.text.split(',') : []));
    const modifiers = entries.filter((e) => /^[+\-^]/.test(e)).length;
    if (modifiers > 0 && modifiers < entries.length) {
      report({
        severity: 'error',
        code: 'bad-algorithm-list',
        message: `algorithms.${pair.key} mixes a plain list with +/-/^ entries`,
        hint: 'either list exactly the algorithms to use, or only modify the defaults with +, - and ^',
        range: pair.value.range,
      });
      continue;
    }
    if (entries.length === 0) {
      report({ severity: 'error', code: 'bad-algorithm-list', message: `algorithms.${pair.key} is empty`, range: pair.value.range });
      continue;
    }
    out[category] = entries;
  }
  return out;
}

function mergeLayers(layers: readonly ConnectionLayer[]): ConnectionLayer {
  const merged: ConnectionLayer = {};
  for (const layer of layers) {
    const { algorithms, keyRanges: _ranges, ...rest } = layer;
    Object.assign(merged, rest);
    if (algorithms) merged.algorithms = { ...merged.algorithms, ...algorithms };
  }
  return merged;
}

/** Where [from, to) of a key's text lies, when the key is written plainly on one line. */
function rangeInKey(pair: YamlPair, from: number, to: number): SourceRange {
  const { start, end } = pair.keyRange;
  const width = end.column - start.column;
  if (start.line !== end.line || (width !== pair.key.length && width !== pair.key.length + 2)) return pair.keyRange;
  const column = start.column + (width === pair.key.length ? 0 : 1);
  return { start: { line: start.line, column: column + from }, end: { line: start.line, column: column + to } };
}

function readHostEntries(
  node: YamlNode | undefined,
  file: string,
  diagnostics: Diagnostic[],
  report: (d: Omit<Diagnostic, 'file'>) => void,
): HostEntry[] {
  const entries: HostEntry[] = [];
  if (node?.type !== 'map') return entries;
  const seen = new Map<string, YamlPair>();
  for (const pair of node.pairs) {
    const expanded = expandHostRange(pair.key);
    if ('error' in expanded) {
      report({
        severity: 'error',
        code: 'bad-host-range',
        message: `host "${pair.key}": ${expanded.error.message}`,
        hint: 'ranges look like web-[01:20].example.com or db-[a:c]',
        range: rangeInKey(pair, expanded.error.from, expanded.error.to),
      });
      continue;
    }
    const body = pair.value.type === 'map' ? pair.value : undefined;
    const addressNode = getValue(body, 'address');
    const address = addressNode?.type === 'scalar' && addressNode.value !== null ? addressNode.text : undefined;
    if (address !== undefined && expanded.names.length > 1) {
      report({
        severity: 'error',
        code: 'range-with-address',
        message: `host range "${pair.key}" gives all its ${expanded.names.length} hosts one address`,
        hint: 'list the hosts one by one with their addresses, or drop address: so each name is its address',
        range: addressNode!.range,
      });
    }
    const names: string[] = [];
    for (const name of expanded.names) {
      const earlier = seen.get(name);
      if (earlier) {
        report({
          severity: 'error',
          code: 'duplicate-host',
          message: `host "${name}" is already declared at line ${earlier.keyRange.start.line}`,
          range: pair.keyRange,
        });
        continue;
      }
      seen.set(name, pair);
      names.push(name);
    }
    entries.push({
      names,
      pair,
      layer: readConnectionLayer(body, report),
      ...(address !== undefined && expanded.names.length === 1 ? { address } : {}),
      vars: readVars(getValue(body, 'vars'), file, diagnostics),
      varOrigins: varOriginsOf(getValue(body, 'vars'), file, `vars of host ${pair.key}`),
    });
  }
  return entries;
}

function readGroupEntries(
  node: YamlNode | undefined,
  hostNames: readonly string[],
  file: string,
  diagnostics: Diagnostic[],
  report: (d: Omit<Diagnostic, 'file'>) => void,
): GroupEntry[] {
  const groups: GroupEntry[] = [];
  if (node?.type !== 'map') return groups;
  const universe: PatternUniverse = { hosts: hostNames, groups: new Map() };
  for (const pair of node.pairs) {
    if (RESERVED_GROUP_NAMES.includes(pair.key)) {
      report({
        severity: 'error',
        code: 'reserved-group-name',
        message: `"${pair.key}" is the implicit group of every host`,
        hint: 'settings for every host go under defaults: and vars:',
        range: pair.keyRange,
      });
      continue;
    }
    const body: YamlMap | undefined = pair.value.type === 'map' ? pair.value : undefined;
    const members = new Set<string>();
    const hostsNode = getValue(body, 'hosts');
    const items = hostsNode?.type === 'seq' ? hostsNode.items : hostsNode ? [hostsNode] : [];
    for (const item of items) {
      if (item.type !== 'scalar' || item.value === null) continue;
      const text = item.text;
      const parsed = parseHostPattern(text);
      const problem = parsed.errors[0] ?? (parsed.pattern.terms.length !== 1 || parsed.pattern.terms[0]!.exclude
        ? { message: 'a group member is one host name, glob or range (no commas or !)' }
        : undefined);
      if (problem) {
        report({ severity: 'error', code: 'bad-host-pattern', message: `group "${pair.key}": ${problem.message}`, range: item.range });
        continue;
      }
      const matched = matchTerm(text, universe);
      if (matched.length === 0) {
        report({
          severity: 'warning',
          code: 'group-pattern-no-match',
          message: `group "${pair.key}": "${text}" matches no host`,
          ...(hasHostRange(text) || /[*?[]/.test(text) ? {} : { hint: didYouMean(text, hostNames) }),
          range: item.range,
        });
      }
      for (const name of matched) members.add(name);
    }
    groups.push({
      name: pair.key,
      pair,
      layer: readConnectionLayer(body, report),
      members: hostNames.filter((h) => members.has(h)),
      vars: readVars(getValue(body, 'vars'), file, diagnostics),
      varOrigins: varOriginsOf(getValue(body, 'vars'), file, `vars of group ${pair.key}`),
    });
  }
  return groups;
}

/** `[user@]host[:port]`, with IPv6 in brackets: `[2001:db8::1]:2222`. */
export function parseJumpAddress(text: string): { address: string; port: number; user?: string } | undefined {
  const match = /^(?:([^@\s]+)@)?(\[[0-9A-Fa-f:.%]+\]|[^:@\s[\]]+)(?::([0-9]+))?$/.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  const address = match[2]!.replace(/^\[(.*)\]$/, '$1');
  return { address, port, ...(match[1] === undefined ? {} : { user: match[1] }) };
}

function resolveJumps(
  hosts: ResolvedHost[],
  jumpNodes: ReadonlyMap<string, { text: string; node: YamlNode }>,
  hostNames: ReadonlySet<string>,
  report: (d: Omit<Diagnostic, 'file'>) => void,
): void {
  const reported = new Set<YamlNode>();
  const reportOnce = (node: YamlNode, d: Omit<Diagnostic, 'file' | 'range'>): void => {
    if (reported.has(node)) return;
    reported.add(node);
    report({ ...d, range: node.range });
  };
  for (const host of hosts) {
    const jump = jumpNodes.get(host.name);
    if (!jump) continue;
    if (hostNames.has(jump.text)) {
      host.jump = { kind: 'host', name: jump.text };
      continue;
    }
    const parsed = parseJumpAddress(jump.text);
    if (!parsed) {
      reportOnce(jump.node, {
        severity: 'error',
        code: 'bad-jump',
        message: `jump "${jump.text}" is neither an inventory host nor [user@]host[:port]`,
        hint: didYouMean(jump.text, hostNames),
      });
      continue;
    }
    host.jump = { kind: 'address', ...parsed };
    const looksLikeName = !/[@:.]/.test(jump.text);
    const suggestion = closestMatch(jump.text, hostNames);
    if (looksLikeName && suggestion !== undefined) {
      reportOnce(jump.node, {
        severity: 'warning',
        code: 'jump-not-in-inventory',
        message: `jump "${jump.text}" is not an inventory host; it will be used as an address`,
        hint: `did you mean "${suggestion}"?`,
      });
    }
  }

  const byName = new Map(hosts.map((h) => [h.name, h]));
  const cycles = new Set<string>();
  for (const start of hosts) {
    const path: string[] = [];
    let current: ResolvedHost | undefined = start;
    while (current?.jump?.kind === 'host') {
      path.push(current.name);
      const next = current.jump.name;
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = path.slice(at);
        const key = [...cycle].sort().join(' ');
        if (!cycles.has(key)) {
          cycles.add(key);
          const first = cycle[0]!;
          const node = jumpNodes.get(first)!.node;
          report({
            severity: 'error',
            code: 'jump-cycle',
            message: `jump hosts form a cycle: ${[...cycle, first].join(' -> ')}`,
            hint: cycle.length === 1
              ? `"${first}" inherits a jump through itself; set jump: none on ${first}`
              : 'a jump host must be reachable without going through the hosts behind it; set jump: none on one of them',
            range: node.range,
          });
        }
        break;
      }
      current = byName.get(next);
    }
  }
  for (const host of hosts) {
    if (host.jump?.kind === 'host' && [...cycles].some((c) => c.split(' ').includes(host.name))) delete host.jump;
  }
}

function reportMissingCredentials(hosts: readonly ResolvedHost[], report: (d: Omit<Diagnostic, 'file'>) => void): void {
  const without = hosts.filter((h) => h.connection !== 'local' && h.identityFile === undefined && !h.agent && h.passwordEnv === undefined);
  const first = without[0];
  if (!first) return;
  const names = without.slice(0, 5).map((h) => h.name).join(', ') + (without.length > 5 ? `, ... (${without.length} hosts)` : '');
  report({
    severity: 'warning',
    code: 'no-credentials',
    message: `no identity_file, agent or password_env for ${names}`,
    hint: 'set identity_file or agent: true under defaults:',
    range: first.declaredAt,
  });
}

/** The names patterns are matched against. */
export function inventoryUniverse(inventory: Inventory): PatternUniverse {
  const implicit = inventory.hosts.filter((h) => h.implicit).map((h) => h.name);
  return {
    hosts: inventory.hosts.map((h) => h.name),
    groups: new Map(inventory.groups.map((g) => [g.name, g.hosts])),
    ...(implicit.length > 0 ? { implicit: new Set(implicit) } : {}),
  };
}

export function findHost(inventory: Inventory, name: string): ResolvedHost | undefined {
  return inventory.hosts.find((h) => h.name === name);
}

/**
 * Selects hosts with a pattern (`-l`, a play's `hosts:`). Terms matching nothing are warnings;
 * a malformed pattern is an error.
 */
export function selectInventoryHosts(
  inventory: Inventory,
  patternText: string,
  where: { file?: string; range?: SourceRange; label?: string } = {},
): { hosts: ResolvedHost[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const label = where.label ?? 'pattern';
  const at = { ...(where.file ? { file: where.file } : {}), ...(where.range ? { range: where.range } : {}) };
  const { pattern, errors } = parseHostPattern(patternText);
  for (const error of errors) {
    diagnostics.push({ severity: 'error', code: 'bad-host-pattern', message: `${label} "${patternText}": ${error.message}`, ...(error.hint ? { hint: error.hint } : {}), ...at });
  }
  if (errors.length) return { hosts: [], diagnostics };
  const universe = inventoryUniverse(inventory);
  const selection = selectHosts(pattern, universe);
  for (const term of selection.unmatched) {
    diagnostics.push({
      severity: 'warning',
      code: 'pattern-no-match',
      message: `${label} "${term.text}" matches no host in ${inventory.file}`,
      ...hintFor(term.text, universe),
      ...at,
    });
  }
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  return { hosts: selection.hosts.map((n) => byName.get(n)!), diagnostics };
}

function hintFor(text: string, universe: PatternUniverse): { hint?: string } {
  const hint = didYouMean(text, [...universe.groups.keys(), ...universe.hosts]);
  return hint ? { hint } : {};
}
