/**
 * What a local host (the machine running sshfix, `connection: local`) may have changed. The
 * transaction proves a change with a fresh login before confirming it; on a local host that login
 * is a fresh local process, which proves nothing about SSH logins from elsewhere. A change to a
 * service that decides who may log in (the service does not declare itself `provableLocally`)
 * could lock out every remote login unseen, so it is refused before anything is written.
 */
import type { ResolvedHost } from '../model/inventory.js';
import { lookupService } from '../services/registry.js';

export interface LocalRefusal {
  code: string;
  message: string;
  diagnosis: string;
}

/** Why `host` must not get changes to `serviceIds`, or undefined when it may (or is not local). */
export function localHostRefusal(host: Pick<ResolvedHost, 'name' | 'connection'>, serviceIds: Iterable<string>): LocalRefusal | undefined {
  if (host.connection !== 'local') return undefined;
  const unprovable = [...new Set(serviceIds)].filter((id) => lookupService(id)?.provableLocally !== true);
  if (unprovable.length === 0) return undefined;
  const names = unprovable.join(', ');
  return {
    code: 'local-login-unproven',
    message: `${host.name} has connection: local, and a change to ${names} cannot be proven there: each change is proven with a fresh SSH login before it is kept, and nothing logs in to a local host`,
    diagnosis:
      `Nothing was changed. To change ${names} on this machine, list it as an SSH host with its address ` +
      '(e.g. address: 127.0.0.1, without connection: local), so that a fresh SSH login proves the change and a failed proof rolls it back.',
  };
}
