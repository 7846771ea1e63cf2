/**
 * Command-line overrides of connection settings for every selected host, as Ansible's `-u USER`
 * and `--private-key FILE`: they win over the inventory. Pure.
 */
import type { Inventory, ResolvedHost } from './inventory.js';

export interface ConnectionOverrides {
  user?: string;
  /** Absolute path of a private key. */
  identityFile?: string;
}

export function applyConnectionOverrides(inventory: Inventory, overrides: ConnectionOverrides): Inventory {
  if (overrides.user === undefined && overrides.identityFile === undefined) return inventory;
  // A local connection runs as the user running sshfix, with no key: nothing to override.
  const hosts = inventory.hosts.map((host): ResolvedHost => host.connection === 'local' ? host : ({
    ...host,
    ...(overrides.user !== undefined ? { user: overrides.user } : {}),
    ...(overrides.identityFile !== undefined ? { identityFile: overrides.identityFile } : {}),
  }));
  return { ...inventory, hosts };
}
