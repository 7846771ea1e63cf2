/**
 * Ansible inventories read as Ansible reads them (INI, YAML, and the JSON that
 * `ansible-inventory --list` prints), with `group_vars/` and `host_vars/` beside them, resolved
 * into sshfix's Inventory. Pure: the caller reads the files and passes their texts.
 *
 * Variable precedence, lowest first, as Ansible orders it: the inventory file's group vars (by
 * group depth: `all`, then parents before children, then by name), then `group_vars/all`, then the
 * other `group_vars/<group>` files in the same order, then the inventory file's host vars, then
 * `host_vars/<host>`. Connection variables (`ansible_host`, `ansible_port`, ...) become sshfix's
 * connection settings; every other variable becomes a playbook variable.
 */
import type { Diagnostic, SourceRange } from '../util/diagnostics.js';
import { expandHostRange, hasHostRange } from './host-range.js';
import { expandUserPath, parseJumpAddress, type Inventory, type InventoryLoadResult, type JumpSpec, type ResolvedHost } from './inventory.js';
import { parseYaml, toPlainValue, type PlainValue, type YamlMap, type YamlNode } from '../lang/yaml-tree.js';

export type InventoryFormat = 'sshfix' | 'ansible-ini' | 'ansible-yaml' | 'ansible-json';

/**
 * Tells an sshfix inventory from an Ansible one by its content: JSON with `_meta` or `all` is
 * `ansible-inventory --list` output; a YAML mapping with `all:` (or only group-shaped entries) is
 * an Ansible YAML inventory; a mapping of sshfix's own keys is sshfix's; text that is not a YAML
 * mapping but has `[group]` sections or host lines is an INI inventory.
 */
export function detectInventoryFormat(text: string): InventoryFormat {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const doc = JSON.parse(trimmed) as unknown;
      if (doc !== null && typeof doc === 'object' && ('_meta' in doc || 'all' in doc)) return 'ansible-json';
    } catch {
      // Not JSON after all: YAML flow style, read below.
    }
  }
  const parsed = parseYaml(text, 'inventory');
  const root = parsed.root;
  if (root?.type === 'map' && !parsed.diagnostics.some((d) => d.severity === 'error' && d.code !== 'duplicate-key')) {
    const keys = root.pairs.map((p) => p.key);
    if (keys.includes('all')) return 'ansible-yaml';
    const own = new Set(['defaults', 'vars', 'hosts', 'groups']);
    const groupShaped = root.pairs.every((p) => p.value.type === 'map' && p.value.pairs.every((q) => ['hosts', 'vars', 'children'].includes(q.key)));
    return !keys.every((k) => own.has(k)) && groupShaped ? 'ansible-yaml' : 'sshfix';
  }
  const meaningful = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
  // A YAML key (`hosts:`, `user: root`) or list item means a broken YAML file, not an INI one.
  const yamlLike = meaningful.some((l) => /^[\w.-]+:(\s|$)/.test(l) || l.startsWith('- '));
  const iniLike = !yamlLike && meaningful.length > 0 && meaningful.every((l) => /^\[[^\]]+\]/.test(l) || /^[^\s=]+(\s+\S+=.*)*$/.test(l) || /^[^\s=]+\s*=/.test(l));
  return iniLike ? 'ansible-ini' : 'sshfix';
}

/** A group as the inventory declares it. */
interface AnsibleGroup {
  name: string;
  vars: Record<string, PlainValue>;
  children: string[];
  hosts: string[];
  declaredAt?: SourceRange;
}

interface AnsibleHost {
  name: string;
  vars: Record<string, PlainValue>;
  declaredAt: SourceRange;
}

/** An Ansible inventory before variables are resolved. */
export interface AnsibleModel {
  groups: Map<string, AnsibleGroup>;
  /** In declaration order. */
  hosts: Map<string, AnsibleHost>;
}

const at = (line: number, column: number, length = 1): SourceRange => ({ start: { line, column }, end: { line, column: column + Math.max(1, length) } });

function newModel(): AnsibleModel {
  const model: AnsibleModel = { groups: new Map(), hosts: new Map() };
  group(model, 'all');
  group(model, 'ungrouped');
  return model;
}

function group(model: AnsibleModel, name: string, declaredAt?: SourceRange): AnsibleGroup {
  let g = model.groups.get(name);
  if (!g) {
    g = { name, vars: {}, children: [], hosts: [], ...(declaredAt ? { declaredAt } : {}) };
    model.groups.set(name, g);
  } else if (declaredAt && !g.declaredAt) {
    g.declaredAt = declaredAt;
  }
  return g;
}

function addHost(model: AnsibleModel, groupName: string, name: string, vars: Record<string, PlainValue>, declaredAt: SourceRange): void {
  const existing = model.hosts.get(name);
  if (existing) Object.assign(existing.vars, vars);
  else model.hosts.set(name, { name, vars: { ...vars }, declaredAt });
  const g = group(model, groupName);
  if (!g.hosts.includes(name)) g.hosts.push(name);
}

/** Splits a line shell-style (quotes group words, backslash escapes), as Ansible's INI reader does. */
export function shellSplit(text: string): { words: { text: string; column: number }[]; error?: string } {
  const words: { text: string; column: number }[] = [];
  let current: string | undefined;
  let start = 0;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i] as string;
      else current += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (current !== undefined) words.push({ text: current, column: start + 1 });
      current = undefined;
      continue;
    }
    if (current === undefined) {
      current = '';
      start = i;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < text.length) current += text[++i] as string;
    else current += c;
  }
  if (quote) return { words, error: `unterminated ${quote} quote` };
  if (current !== undefined) words.push({ text: current, column: start + 1 });
  return { words };
}

/** Reads an INI inventory. Values stay the strings the file holds. */
export function parseAnsibleIni(text: string, file: string): { model: AnsibleModel; diagnostics: Diagnostic[] } {
  const model = newModel();
  const diagnostics: Diagnostic[] = [];
  const problem = (code: string, message: string, range: SourceRange, hint?: string): void => {
    diagnostics.push({ severity: 'error', code, message, range, file, ...(hint ? { hint } : {}) });
  };
  let section: { name: string; kind: 'hosts' | 'vars' | 'children'; range: SourceRange } = { name: 'ungrouped', kind: 'hosts', range: at(1, 1) };
  const varsSections: { name: string; range: SourceRange }[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] as string).replace(/\r$/, '');
    const lineNo = index + 1;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]\s*(?:[#;].*)?$/.exec(line);
    if (header) {
      const [name, kind = 'hosts'] = (header[1] as string).split(':') as [string, string | undefined];
      const range = at(lineNo, indent + 2, name.length);
      if (!['hosts', 'vars', 'children'].includes(kind) || !/^[\w-]+$/.test(name)) {
        problem('ini-section', `"[${header[1]}]" is not a group section`, at(lineNo, indent + 1, line.length), 'sections are [group], [group:vars] or [group:children]');
        section = { name: '', kind: 'hosts', range };
        continue;
      }
      section = { name, kind: kind as 'hosts' | 'vars' | 'children', range };
      if (kind === 'vars') varsSections.push({ name, range });
      else group(model, name, range);
      continue;
    }
    if (section.name === '') continue;
    if (section.kind === 'children') {
      const child = line.split(/\s+/)[0] as string;
      group(model, child);
      const parent = group(model, section.name);
      if (!parent.children.includes(child)) parent.children.push(child);
      continue;
    }
    if (section.kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) {
        problem('ini-vars', `expected key=value in [${section.name}:vars]`, at(lineNo, indent + 1, line.length));
        continue;
      }
      group(model, section.name).vars[line.slice(0, eq).trim()] = unquote(line.slice(eq + 1).trim());
      continue;
    }
    const split = shellSplit(raw);
    if (split.error) {
      problem('ini-host', split.error, at(lineNo, indent + 1, line.length));
      continue;
    }
    const [first, ...rest] = split.words;
    if (!first) continue;
    const vars: Record<string, PlainValue> = {};
    let bad = false;
    for (const word of rest) {
      const eq = word.text.indexOf('=');
      if (eq <= 0) {
        problem('ini-host', `"${word.text}" is not key=value`, at(lineNo, word.column, word.text.length), 'a host line is `name[:port] key=value ...`');
        bad = true;
        continue;
      }
      vars[word.text.slice(0, eq)] = word.text.slice(eq + 1);
    }
    if (bad) continue;
    // name:port (not for IPv6 addresses, which have several colons and no port here).
    let hostText = first.text;
    const portMatch = /^([^:]+):(\d+)$/.exec(hostText);
    if (portMatch) {
      hostText = portMatch[1] as string;
      if (vars.ansible_port === undefined) vars.ansible_port = portMatch[2] as string;
    }
    const range = at(lineNo, first.column, first.text.length);
    let names = [hostText];
    if (hasHostRange(hostText)) {
      const expanded = expandHostRange(hostText);
      if ('error' in expanded) {
        problem('host-range', expanded.error.message, at(lineNo, first.column + expanded.error.from, expanded.error.to - expanded.error.from));
        continue;
      }
      names = expanded.names;
    }
    for (const name of names) addHost(model, section.name, name, vars, range);
  }
  for (const v of varsSections) {
    if (!model.groups.get(v.name)?.declaredAt && v.name !== 'all' && v.name !== 'ungrouped') {
      problem('unknown-group', `[${v.name}:vars] names a group that is declared nowhere`, v.range, `declare it with [${v.name}] or [${v.name}:children], as Ansible requires`);
    }
  }
  return { model, diagnostics };
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/.exec(value);
  return m ? (m[2] as string) : value;
}

/** Reads an Ansible YAML inventory (`all:` / `hosts` / `vars` / `children`, nested). */
export function readAnsibleYaml(root: YamlNode, file: string): { model: AnsibleModel; diagnostics: Diagnostic[] } {
  const model = newModel();
  const diagnostics: Diagnostic[] = [];
  const walk = (name: string, node: YamlNode | undefined, range: SourceRange, parent?: string): void => {
    const g = group(model, name, range);
    if (parent !== undefined) {
      const p = group(model, parent);
      if (!p.children.includes(name)) p.children.push(name);
    }
    if (node === undefined || (node.type === 'scalar' && node.value === null)) return;
    if (node.type !== 'map') {
      diagnostics.push({ severity: 'error', code: 'ansible-group', message: `group "${name}" must be a mapping with hosts, vars or children`, range: node.range, file });
      return;
    }
    for (const pair of node.pairs) {
      if (pair.key === 'vars' && pair.value.type === 'map') Object.assign(g.vars, toPlainValue(pair.value));
      else if (pair.key === 'hosts' && pair.value.type === 'map') {
        for (const h of pair.value.pairs) {
          const vars = h.value.type === 'map' ? (toPlainValue(h.value) as Record<string, PlainValue>) : {};
          const names = hasHostRange(h.key) ? expandHostRange(h.key) : { names: [h.key] };
          if ('error' in names) {
            diagnostics.push({ severity: 'error', code: 'host-range', message: names.error.message, range: h.keyRange, file });
            continue;
          }
          for (const n of names.names) addHost(model, name, n, vars, h.keyRange);
        }
      } else if (pair.key === 'children' && pair.value.type === 'map') {
        for (const c of pair.value.pairs) walk(c.key, c.value, c.keyRange, name);
      } else if (!(pair.value.type === 'scalar' && pair.value.value === null)) {
        diagnostics.push({ severity: 'error', code: 'ansible-group', message: `"${pair.key}" in group "${name}": expected hosts, vars or children (each a mapping)`, range: pair.keyRange, file });
      }
    }
  };
  if (root.type !== 'map') {
    diagnostics.push({ severity: 'error', code: 'ansible-group', message: 'an Ansible YAML inventory is a mapping of groups', range: root.range, file });
    return { model, diagnostics };
  }
  for (const pair of root.pairs) walk(pair.key, pair.value, pair.keyRange, pair.key === 'all' ? undefined : 'all');
  return { model, diagnostics };
}

/** Reads `ansible-inventory --list` output: groups with `hosts` and `children` lists, host vars under `_meta.hostvars`. */
export function readAnsibleJson(doc: Record<string, unknown>, file: string): { model: AnsibleModel; diagnostics: Diagnostic[] } {
  const model = newModel();
  const diagnostics: Diagnostic[] = [];
  const whole = at(1, 1);
  const meta = (doc._meta as { hostvars?: Record<string, Record<string, PlainValue>> } | undefined)?.hostvars ?? {};
  for (const [name, value] of Object.entries(doc)) {
    if (name === '_meta') continue;
    const g = group(model, name, whole);
    if (Array.isArray(value)) {
      for (const h of value) if (typeof h === 'string') addHost(model, name, h, {}, whole);
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      diagnostics.push({ severity: 'error', code: 'ansible-group', message: `group "${name}" must be an object`, range: whole, file });
      continue;
    }
    const entry = value as { hosts?: unknown; children?: unknown; vars?: unknown };
    if (Array.isArray(entry.hosts)) for (const h of entry.hosts) if (typeof h === 'string') addHost(model, name, h, {}, whole);
    if (Array.isArray(entry.children)) {
      for (const c of entry.children) {
        if (typeof c !== 'string') continue;
        group(model, c, whole);
        if (!g.children.includes(c)) g.children.push(c);
      }
    }
    if (entry.vars && typeof entry.vars === 'object') Object.assign(g.vars, entry.vars);
  }
  for (const [name, vars] of Object.entries(meta)) {
    const host = model.hosts.get(name);
    if (host) Object.assign(host.vars, vars);
    else addHost(model, 'ungrouped', name, vars, whole);
  }
  return { model, diagnostics };
}

/** Variables from group_vars/ and host_vars/ files, already parsed, by group or host name (in file order). */
export interface SideVars {
  groupVars: ReadonlyMap<string, readonly Record<string, PlainValue>[]>;
  hostVars: ReadonlyMap<string, readonly Record<string, PlainValue>[]>;
}

/** Every group a host is in (directly or through children), with its depth: `all` is 0, a child one more than its deepest parent. */
function groupsOfHost(model: AnsibleModel, host: string): { name: string; depth: number }[] {
  const depth = new Map<string, number>([['all', 0]]);
  const visit = (name: string, d: number, seen: Set<string>): void => {
    if (seen.has(name)) return;
    const g = model.groups.get(name);
    if (!g) return;
    seen.add(name);
    depth.set(name, Math.max(depth.get(name) ?? 0, d));
    for (const c of g.children) visit(c, d + 1, seen);
    seen.delete(name);
  };
  visit('all', 0, new Set());
  const parents = new Map<string, string[]>();
  for (const g of model.groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);
  const member = new Set<string>(['all']);
  const stack = [...model.groups.values()].filter((g) => g.hosts.includes(host)).map((g) => g.name);
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (member.has(name)) continue;
    member.add(name);
    stack.push(...(parents.get(name) ?? []));
  }
  // A group never reached from `all` through children still belongs under it.
  return [...member].map((name) => ({ name, depth: depth.get(name) ?? 1 })).sort((a, b) => a.depth - b.depth || (a.name === b.name ? 0 : a.name < b.name ? -1 : 1));
}

/** The merged variables of one host, lowest precedence first as Ansible orders them. */
export function resolveHostVars(model: AnsibleModel, host: string, side: SideVars): Record<string, PlainValue> {
  const groups = groupsOfHost(model, host);
  const merged: Record<string, PlainValue> = {};
  for (const g of groups) Object.assign(merged, model.groups.get(g.name)?.vars);
  for (const g of groups) for (const vars of side.groupVars.get(g.name) ?? []) Object.assign(merged, vars);
  Object.assign(merged, model.hosts.get(host)?.vars);
  for (const vars of side.hostVars.get(host) ?? []) Object.assign(merged, vars);
  return merged;
}

/** How one Ansible variable of a host became an sshfix setting (for `sshfix inventory`). */
export interface VariableMapping {
  variable: string;
  setting: string;
  /** The value as shown: secrets show as `<from inventory>`. */
  shown: string;
}

export interface AnsibleLoadOptions {
  file: string;
  format: Exclude<InventoryFormat, 'sshfix'>;
  homeDir: string;
  localUser: string;
  baseDir?: string;
  side: SideVars;
  /**
   * How a host with no ansible_ssh_private_key_file authenticates, as OpenSSH would: the first of
   * the user's default keys that exists, and the agent when one runs (the caller looks).
   */
  defaultIdentityFile?: string;
  agentAvailable: boolean;
}

export interface AnsibleLoadResult extends InventoryLoadResult {
  /** Secrets the inventory holds (become and login passwords), by the environment name each host's settings use. Never print these. */
  secrets: Record<string, string>;
  mappings: Map<string, VariableMapping[]>;
}

/** Environment names under which inventory secrets are handed to the transport. */
export const INVENTORY_SECRET_PREFIX = 'SSHFIX_INVENTORY_SECRET_';

const truthy = (v: PlainValue | undefined): boolean => v === true || (typeof v === 'string' && /^(true|yes|on|1)$/i.test(v)) || v === 1;
const text = (v: PlainValue | undefined): string | undefined => (v === undefined || v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Connection variables sshfix reads (everything else starting with ansible_ is warned about, once). */
const CONNECTION_VARIABLES = new Set([
  'ansible_host',
  'ansible_ssh_host',
  'ansible_port',
  'ansible_ssh_port',
  'ansible_user',
  'ansible_ssh_user',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_become',
  'ansible_become_method',
  'ansible_become_user',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_connection',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
]);
/** Variables Ansible uses that do not concern how sshfix connects: ignored without a warning. */
const HARMLESS = new Set(['ansible_python_interpreter', 'ansible_group_priority', 'ansible_shell_type', 'ansible_shell_executable']);

/** Reads ProxyJump and host-key options out of an OpenSSH command-line string (`-o ProxyJump=x`, `-J x`). */
export function readSshArgs(args: string): { jump?: string; knownHosts?: string; hostKeyPolicy?: ResolvedHost['hostKeyPolicy']; unsupported: string[] } {
  const words = shellSplit(args).words.map((w) => w.text);
  const out: ReturnType<typeof readSshArgs> = { unsupported: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let option: string | undefined;
    if (w === '-J') out.jump = words[++i];
    else if (w.startsWith('-J')) out.jump = w.slice(2);
    else if (w === '-o') option = words[++i];
    else if (w.startsWith('-o')) option = w.slice(2);
    else out.unsupported.push(w);
    if (option === undefined) continue;
    const m = /^(\w+)\s*[= ]\s*(.*)$/.exec(option);
    if (!m) {
      out.unsupported.push(`-o ${option}`);
      continue;
    }
    const key = (m[1] as string).toLowerCase();
    const value = m[2] as string;
    if (key === 'proxyjump') out.jump = value;
    else if (key === 'userknownhostsfile') out.knownHosts = value;
    else if (key === 'stricthostkeychecking') out.hostKeyPolicy = /^(no|off)$/i.test(value) ? 'off' : /^accept-new$/i.test(value) ? 'accept-new' : 'strict';
    else out.unsupported.push(`-o ${option}`);
  }
  return out;
}

/** Settings an Ansible local connection ignores (it runs as the controller's user, without SSH). */
const LOCAL_IGNORED_SETTINGS: ReadonlySet<string> = new Set(['port', 'user', 'identity_file', 'password', 'jump', 'known_hosts', 'host_key_policy']);

/** `host` as sshfix's local host: only its name, address, groups, variables and become remain. */
function asLocalHost(host: ResolvedHost, localUser: string): ResolvedHost {
  const local: ResolvedHost = {
    name: host.name,
    address: host.address,
    port: 22,
    user: localUser,
    agent: false,
    knownHosts: host.knownHosts,
    hostKeyPolicy: 'strict',
    become: host.become,
    connectTimeoutMs: host.connectTimeoutMs,
    connection: 'local',
    groups: host.groups,
    vars: host.vars,
    declaredAt: host.declaredAt,
  };
  if (host.becomePasswordEnv !== undefined) local.becomePasswordEnv = host.becomePasswordEnv;
  return local;
}

/** As Ansible does: a host in no group but `all` belongs to `ungrouped`. */
function placeUngrouped(model: AnsibleModel): void {
  const grouped = new Set<string>();
  for (const g of model.groups.values()) if (g.name !== 'all') for (const h of g.hosts) grouped.add(h);
  const ungrouped = group(model, 'ungrouped');
  for (const name of model.hosts.keys()) if (!grouped.has(name)) ungrouped.hosts.push(name);
}

/** Resolves an Ansible model into sshfix's Inventory. */
export function resolveAnsibleInventory(model: AnsibleModel, options: AnsibleLoadOptions): AnsibleLoadResult {
  placeUngrouped(model);
  const diagnostics: Diagnostic[] = [];
  const { file } = options;
  const secrets: Record<string, string> = {};
  const mappings = new Map<string, VariableMapping[]>();
  const warnedVariables = new Set<string>();
  const hosts: ResolvedHost[] = [];
  const jumps = new Map<string, string>();
  const hostNames = new Set(model.hosts.keys());
  const warn = (code: string, message: string, range: SourceRange, hint?: string): void => {
    diagnostics.push({ severity: 'warning', code, message, range, file, ...(hint ? { hint } : {}) });
  };
  const error = (code: string, message: string, range: SourceRange, hint?: string): void => {
    diagnostics.push({ severity: 'error', code, message, range, file, ...(hint ? { hint } : {}) });
  };
  let secretIndex = 0;
  for (const entry of model.hosts.values()) {
    const vars = resolveHostVars(model, entry.name, options.side);
    const map: VariableMapping[] = [];
    const note = (variable: string, setting: string, shown: string): void => {
      map.push({ variable, setting, shown });
    };
    const first = (...names: string[]): [string, PlainValue] | undefined => {
      for (const n of names) if (vars[n] !== undefined && vars[n] !== null) return [n, vars[n] as PlainValue];
      return undefined;
    };
    const local = text(vars.ansible_connection) === 'local';
    if (vars.ansible_connection !== undefined && !local && !['ssh', 'paramiko', 'smart'].includes(text(vars.ansible_connection) ?? '')) {
      warn('ansible-connection', `host "${entry.name}": ansible_connection=${text(vars.ansible_connection)} is not SSH; sshfix connects over SSH anyway`, entry.declaredAt);
    }
    const host: ResolvedHost = {
      name: entry.name,
      address: entry.name,
      port: 22,
      user: options.localUser,
      agent: false,
      knownHosts: expandUserPath('~/.ssh/known_hosts', options.homeDir),
      hostKeyPolicy: 'strict',
      become: 'none',
      connectTimeoutMs: 10_000,
      groups: groupsOfHost(model, entry.name).map((g) => g.name).filter((g) => g !== 'all'),
      vars: {},
      declaredAt: entry.declaredAt,
    };
    const address = first('ansible_host', 'ansible_ssh_host');
    if (address) {
      host.address = text(address[1]) as string;
      note(address[0], 'address', host.address);
    }
    const port = first('ansible_port', 'ansible_ssh_port');
    if (port) {
      const n = Number(text(port[1]));
      if (!Number.isInteger(n) || n < 1 || n > 65535) error('bad-port', `host "${entry.name}": ${port[0]} must be a port number 1-65535, found ${JSON.stringify(port[1])}`, entry.declaredAt);
      else {
        host.port = n;
        note(port[0], 'port', String(n));
      }
    }
    const user = first('ansible_user', 'ansible_ssh_user');
    if (user) {
      host.user = text(user[1]) as string;
      note(user[0], 'user', host.user);
    }
    const key = first('ansible_ssh_private_key_file', 'ansible_private_key_file');
    if (key) {
      host.identityFile = expandUserPath(text(key[1]) as string, options.homeDir, options.baseDir);
      note(key[0], 'identity_file', host.identityFile);
    } else {
      if (options.defaultIdentityFile !== undefined) host.identityFile = options.defaultIdentityFile;
      host.agent = options.agentAvailable;
    }
    const become = vars.ansible_become;
    if (become !== undefined && truthy(become)) {
      const method = text(vars.ansible_become_method) ?? 'sudo';
      if (method !== 'sudo') error('become-method', `host "${entry.name}": ansible_become_method=${method} is not supported; sshfix becomes root with sudo only`, entry.declaredAt);
      else {
        host.become = 'sudo';
        note('ansible_become', 'become', 'sudo');
      }
      const becomeUser = text(vars.ansible_become_user);
      if (becomeUser !== undefined && becomeUser !== 'root') error('become-user', `host "${entry.name}": ansible_become_user=${becomeUser}: sshfix needs root`, entry.declaredAt);
    }
    // A password the inventory holds reaches the transport under an environment name only sshfix uses.
    const secret = (names: readonly string[], setting: 'become_password' | 'password', hint: string): string | undefined => {
      const found = first(...names);
      if (!found) return undefined;
      const env = `${INVENTORY_SECRET_PREFIX}${secretIndex++}`;
      secrets[env] = text(found[1]) as string;
      note(found[0], setting, '<from inventory>');
      if (!warnedVariables.has(found[0])) {
        warnedVariables.add(found[0]);
        warn('inventory-secret', `${found[0]} holds a password in the inventory; sshfix uses it but never shows it`, entry.declaredAt, hint);
      }
      return env;
    };
    const becomeEnv = secret(['ansible_become_password', 'ansible_become_pass'], 'become_password', 'secrets belong in the environment: set become_password_env in an sshfix inventory, or use ansible-vault outside sshfix');
    if (becomeEnv) host.becomePasswordEnv = becomeEnv;
    const passwordEnv = secret(['ansible_password', 'ansible_ssh_pass'], 'password', 'secrets belong in the environment (password_env)');
    if (passwordEnv) host.passwordEnv = passwordEnv;
    for (const name of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
      const value = text(vars[name]);
      if (value === undefined) continue;
      const args = readSshArgs(value);
      if (args.jump !== undefined) {
        jumps.set(entry.name, args.jump);
        note(name, 'jump', args.jump);
      }
      if (args.knownHosts !== undefined) {
        host.knownHosts = expandUserPath(args.knownHosts, options.homeDir, options.baseDir);
        note(name, 'known_hosts', host.knownHosts);
      }
      if (args.hostKeyPolicy !== undefined) {
        host.hostKeyPolicy = args.hostKeyPolicy;
        note(name, 'host_key_policy', args.hostKeyPolicy);
      }
      if (args.unsupported.length > 0) {
        warn('ssh-args-unsupported', `host "${entry.name}": ${name} ${args.unsupported.join(' ')} cannot be honoured (sshfix does not run ssh)`, entry.declaredAt, /ProxyCommand/i.test(value) ? 'write the jump as -o ProxyJump=HOST or -J HOST instead of a ProxyCommand' : undefined);
      }
    }
    for (const [name, value] of Object.entries(vars)) {
      if (!name.startsWith('ansible_')) {
        host.vars[name] = value;
        continue;
      }
      if (CONNECTION_VARIABLES.has(name) || HARMLESS.has(name) || warnedVariables.has(name)) continue;
      warnedVariables.add(name);
      warn('ansible-variable-ignored', `${name} is an Ansible setting sshfix cannot honour; it is ignored (first seen on host "${entry.name}")`, entry.declaredAt);
    }
    if (local) {
      const ignored = map.filter((m) => LOCAL_IGNORED_SETTINGS.has(m.setting));
      if (ignored.length > 0) {
        warn('ansible-local-ignored', `host "${entry.name}" has ansible_connection=local: ${ignored.map((m) => m.variable).join(', ')} ignored (nothing logs in to it), as Ansible's local connection does`, entry.declaredAt);
      }
      mappings.set(entry.name, [...map.filter((m) => !LOCAL_IGNORED_SETTINGS.has(m.setting)), { variable: 'ansible_connection', setting: 'connection', shown: 'local' }]);
      jumps.delete(entry.name);
      hosts.push(asLocalHost(host, options.localUser));
      continue;
    }
    mappings.set(entry.name, map);
    hosts.push(host);
  }
  for (const host of hosts) {
    const jump = jumps.get(host.name);
    if (jump === undefined) continue;
    const name = jump.split(',')[0] as string;
    let spec: JumpSpec | undefined;
    if (hostNames.has(name)) spec = { kind: 'host', name };
    else {
      const parsed = parseJumpAddress(name);
      if (parsed) spec = { kind: 'address', address: parsed.address, port: parsed.port, ...(parsed.user ? { user: parsed.user } : {}) };
    }
    if (spec && !(spec.kind === 'host' && spec.name === host.name)) host.jump = spec;
    else if (!spec) error('bad-jump', `host "${host.name}": cannot read the jump host "${jump}"`, host.declaredAt);
  }
  const groups = [...model.groups.values()]
    .filter((g) => g.name !== 'all')
    .map((g) => ({
      name: g.name,
      hosts: hosts.filter((h) => h.groups.includes(g.name)).map((h) => h.name),
      vars: g.vars,
      declaredAt: g.declaredAt ?? at(1, 1),
    }))
    .filter((g) => g.name !== 'ungrouped' || g.hosts.length > 0);
  const inventory: Inventory = { file, hosts, groups, vars: {} };
  return { inventory, diagnostics, secrets, mappings };
}

/** Parses a group_vars/host_vars file (YAML or JSON). */
export function parseSideVarsFile(textContent: string, file: string): { vars: Record<string, PlainValue>; diagnostics: Diagnostic[] } {
  const parsed = parseYaml(textContent, file);
  if (!parsed.root) return { vars: {}, diagnostics: parsed.diagnostics };
  if (parsed.root.type !== 'map') {
    return { vars: {}, diagnostics: [...parsed.diagnostics, { severity: 'error', code: 'vars-file', message: 'a vars file must be a mapping of variables', range: parsed.root.range, file }] };
  }
  return { vars: toPlainValue(parsed.root as YamlMap) as Record<string, PlainValue>, diagnostics: parsed.diagnostics };
}

/** Loads an Ansible inventory text of a known format. */
export function loadAnsibleInventory(textContent: string, options: AnsibleLoadOptions): AnsibleLoadResult & { format: InventoryFormat } {
  let read: { model: AnsibleModel; diagnostics: Diagnostic[] };
  if (options.format === 'ansible-ini') read = parseAnsibleIni(textContent, options.file);
  else if (options.format === 'ansible-json') read = readAnsibleJson(JSON.parse(textContent) as Record<string, unknown>, options.file);
  else {
    const parsed = parseYaml(textContent, options.file);
    if (!parsed.root) return { ...resolveAnsibleInventory(newModel(), options), diagnostics: parsed.diagnostics, format: options.format };
    read = readAnsibleYaml(parsed.root, options.file);
    read.diagnostics.unshift(...parsed.diagnostics);
  }
  const resolved = resolveAnsibleInventory(read.model, options);
  return { ...resolved, diagnostics: [...read.diagnostics, ...resolved.diagnostics], format: options.format };
}
