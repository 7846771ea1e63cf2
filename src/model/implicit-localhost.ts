/**
 * The implicit `localhost`, as Ansible has it: a pattern that names `localhost` (or `127.0.0.1`)
 * exactly, in an inventory that defines no host or group by that name, selects the machine
 * running sshfix over a local connection. It is not in the inventory: `all`, `*`, globs and
 * groups never select it, and a pattern of exclusions only does not either, so a playbook for the
 * fleet never touches the machine it runs on by accident. One implicit host at most, named by the
 * first pattern term that asks for it; the other name selects it too. It gets the inventory's
 * top-level `vars` and no connection settings: declare `localhost` in the inventory (with
 * `connection: local`) to give it `become: sudo` or variables of its own. Pure.
 */
import { LOCALHOST_NAMES, type HostPattern } from './host-pattern.js';
import type { Inventory, ResolvedHost } from './inventory.js';


export interface ImplicitLocalhostOptions {
  /** The user running sshfix (a local connection runs as this user). */
  localUser: string;
  /** The runner's known_hosts path (unused by a local connection; the settings need a value). */
  knownHosts: string;
}

/** `inventory` with the implicit localhost added when one of `patterns` names it and the inventory does not define it. */
export function withImplicitLocalhost(inventory: Inventory, patterns: readonly HostPattern[], options: ImplicitLocalhostOptions): Inventory {
  if (inventory.hosts.some((h) => h.implicit)) return inventory;
  const defined = new Set([...inventory.hosts.map((h) => h.name), ...inventory.groups.map((g) => g.name)]);
  const term = patterns.flatMap((p) => p.terms).find((t) => !t.exclude && LOCALHOST_NAMES.includes(t.text) && !defined.has(t.text));
  if (term === undefined) return inventory;
  const host: ResolvedHost = {
    name: term.text,
    address: term.text,
    port: 22,
    user: options.localUser,
    agent: false,
    knownHosts: options.knownHosts,
    hostKeyPolicy: 'strict',
    become: 'none',
    connectTimeoutMs: 10_000,
    connection: 'local',
    implicit: true,
    groups: [],
    vars: { ...inventory.vars },
    declaredAt: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
    explicit: [],
  };
  return { ...inventory, hosts: [...inventory.hosts, host] };
}
