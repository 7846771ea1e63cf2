/**
 * The runner user's ssh_config, as `ssh HOST` would read it, onto an inventory host's connection
 * settings: what the inventory writes explicitly wins, the rest comes from the Host/Match blocks
 * that select the host's name. Pure: the files come from the caller.
 */
import type { ObtainedValue } from '../config/ssh-config/resolve.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { parseJumpAddress, type AlgorithmCategory, type ResolvedHost, type SshConfigurable } from './inventory.js';

const ALGORITHMS: Readonly<Record<string, AlgorithmCategory>> = { kexalgorithms: 'kex', ciphers: 'cipher', hostkeyalgorithms: 'serverHostKey', macs: 'hmac' };

export interface SshConfigContext {
  homeDir: string;
  localUser: string;
  /** Inventory host names: a ProxyJump naming one connects with that host's settings. */
  hostNames: ReadonlySet<string>;
}

/** `%h`, `%d`, `%u`, `%r`, `%%` and a leading `~`, as ssh expands them in paths and names. */
function expandTokens(value: string, tokens: Readonly<Record<string, string>>, homeDir: string): string {
  const expanded = value.replace(/%([%a-zA-Z])/g, (all, t: string) => (t === '%' ? '%' : tokens[t] ?? all));
  return expanded === '~' ? homeDir : expanded.startsWith('~/') ? `${homeDir}/${expanded.slice(2)}` : expanded;
}

/** The host with the settings ssh_config gives it where the inventory did not write one. */
export function applySshConfig(host: ResolvedHost, values: ReadonlyMap<string, ObtainedValue>, ctx: SshConfigContext): { host: ResolvedHost; diagnostics: Diagnostic[] } {
  const explicit = new Set<SshConfigurable>(host.explicit ?? []);
  const out: ResolvedHost = { ...host };
  const diagnostics: Diagnostic[] = [];
  const first = (keyword: string): ObtainedValue | undefined => values.get(keyword);
  const take = (key: SshConfigurable, keyword: string, set: (value: string, all: string[]) => void): void => {
    const v = first(keyword);
    if (v && !explicit.has(key)) set(v.values[0]!, v.values);
  };
  take('address', 'hostname', (v) => (out.address = expandTokens(v, { h: host.name }, ctx.homeDir).toLowerCase()));
  take('user', 'user', (v) => (out.user = v));
  take('port', 'port', (v) => (out.port = Number(v)));
  const tokens = { h: out.address, d: ctx.homeDir, u: ctx.localUser, r: out.user, n: host.name };
  take('identityFile', 'identityfile', (v) => {
    if (v.toLowerCase() !== 'none') out.identityFile = expandTokens(v, tokens, ctx.homeDir);
  });
  take('knownHosts', 'userknownhostsfile', (v) => (out.knownHosts = expandTokens(v.split(/\s+/)[0]!, tokens, ctx.homeDir)));
  take('hostKeyPolicy', 'stricthostkeychecking', (v) => (out.hostKeyPolicy = v === 'accept-new' ? 'accept-new' : v === 'no' || v === 'off' ? 'off' : 'strict'));
  take('connectTimeoutMs', 'connecttimeout', (v) => {
    if (v !== 'none') out.connectTimeoutMs = Number(v) * 1000;
  });
  take('bindAddress', 'bindaddress', (v) => (out.bindAddress = v));
  take('keepaliveIntervalS', 'serveraliveinterval', (v) => (out.keepaliveIntervalS = Number(v)));
  if (!explicit.has('algorithms')) {
    for (const [keyword, category] of Object.entries(ALGORITHMS)) {
      const v = first(keyword)?.values[0];
      if (v === undefined) continue;
      const prefix = /^[+\-^]/.test(v) ? v[0]! : '';
      out.algorithms = { ...out.algorithms, [category]: v.slice(prefix.length).split(',').map((name) => `${prefix}${name}`) };
    }
  }
  take('jump', 'proxyjump', (v) => {
    if (v.toLowerCase() === 'none') {
      delete out.jump;
      return;
    }
    const hop = v.split(',')[0]!;
    const parsed = parseJumpAddress(hop);
    const source = first('proxyjump')!.source;
    if (v.includes(',')) diagnostics.push({ severity: 'warning', code: 'ssh-config-jump-chain', message: `ProxyJump ${v}: only the first hop is used; put the others in the inventory as hosts with their own jump`, file: source.path, range: { start: { line: source.line, column: 1 }, end: { line: source.line, column: 1 } } });
    if (ctx.hostNames.has(hop) && hop !== host.name) out.jump = { kind: 'host', name: hop };
    else if (parsed) out.jump = { kind: 'address', ...parsed };
  });
  return { host: out, diagnostics };
}
