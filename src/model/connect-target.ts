import type { ConnectTarget } from '../transport/types.js';
import type { ConnectionSettings, Inventory, ResolvedHost } from './inventory.js';
import type { LoginMethod } from '../tasks/planner.js';

/**
 * What the transport needs to reach `host`: its settings plus the jump chain, outermost first
 * (ProxyJump a,b => [a, b]). A jump through an inventory host uses that host's own settings and,
 * in turn, its own jump; an outside jump (`user@host:port`) borrows the credentials of the host
 * it leads to. The loader removed jump cycles, and a visited set guards against them anyway.
 */
export function toConnectTarget(inventory: Inventory, host: ResolvedHost): ConnectTarget {
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  if (host.connection === 'local') return { ...targetFrom(host.name, host), local: true };
  const chain: ConnectTarget[] = [];
  const visited = new Set([host.name]);
  let current: ResolvedHost = host;
  while (current.jump) {
    const jump = current.jump;
    if (jump.kind === 'address') {
      const user = jump.user ?? current.user;
      chain.unshift(targetFrom(jump.address, { ...current, address: jump.address, port: jump.port, user }));
      break;
    }
    const next = byName.get(jump.name);
    // A jump through the machine running sshfix is no jump: the connection starts here anyway.
    if (!next || visited.has(next.name) || next.connection === 'local') break;
    visited.add(next.name);
    chain.unshift(targetFrom(next.name, next));
    current = next;
  }
  return { ...targetFrom(host.name, host), jump: chain };
}

function targetFrom(name: string, settings: ConnectionSettings): ConnectTarget {
  const target: ConnectTarget = {
    name,
    address: settings.address,
    port: settings.port,
    user: settings.user,
    agent: settings.agent,
    knownHosts: settings.knownHosts,
    hostKeyPolicy: settings.hostKeyPolicy,
    become: settings.become,
    jump: [],
    connectTimeoutMs: settings.connectTimeoutMs,
  };
  if (settings.identityFile !== undefined) target.identityFile = settings.identityFile;
  if (settings.passwordEnv !== undefined) target.passwordEnv = settings.passwordEnv;
  if (settings.passphraseEnv !== undefined) target.passphraseEnv = settings.passphraseEnv;
  if (settings.becomePasswordEnv !== undefined) target.becomePasswordEnv = settings.becomePasswordEnv;
  if (settings.algorithms !== undefined) target.algorithms = settings.algorithms;
  if (settings.bindAddress !== undefined) target.localAddress = settings.bindAddress;
  if (settings.keepaliveIntervalS !== undefined) target.keepaliveIntervalS = settings.keepaliveIntervalS;
  return target;
}

/** sshd's names of the authentication methods sshfix may log in with. */
export type { LoginMethod };

/**
 * The methods the transport tries with these settings: a key file or the agent authenticate as
 * publickey; a password goes as password, or as keyboard-interactive on PAM-only servers.
 */
export function loginMethods(settings: Partial<Pick<ConnectionSettings, 'identityFile' | 'agent' | 'passwordEnv'>>): LoginMethod[] {
  const methods: LoginMethod[] = [];
  if (settings.identityFile !== undefined || settings.agent) methods.push('publickey');
  if (settings.passwordEnv !== undefined) methods.push('password', 'keyboard-interactive');
  return methods;
}
