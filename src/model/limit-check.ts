/**
 * `-l PATTERN` against the inventory. A limit that selects no host at all is an error, as in
 * Ansible: running "0 hosts" and exiting 0 hides a typo. A term that matches nothing while others
 * do is only a warning.
 */
import type { Diagnostic } from '../util/diagnostics.js';
import { selectHosts, type HostPattern } from './host-pattern.js';
import { inventoryUniverse, type Inventory } from './inventory.js';
import { nearestNames } from '../lang/suggest.js';

export function checkLimit(inventory: Inventory, limit: HostPattern): Diagnostic[] {
  const universe = inventoryUniverse(inventory);
  const selection = selectHosts(limit, universe);
  const names = [...universe.groups.keys(), ...universe.hosts];
  const nearest = (text: string): string => {
    const found = nearestNames(text, names);
    return found.length > 0 ? `nearest host or group names: ${found.join(', ')}` : `the inventory ${inventory.file} has no hosts`;
  };
  if (selection.hosts.length === 0) {
    const unmatched = selection.unmatched.filter((t) => !t.exclude);
    const hints = (unmatched.length > 0 ? unmatched : limit.terms).map((t) => (unmatched.length > 1 ? `${t.text}: ${nearest(t.text)}` : nearest(t.text)));
    return [
      {
        severity: 'error',
        code: 'limit-no-match',
        message: `-l ${limit.source}: matches no host in ${inventory.file}`,
        hint: hints.join('; '),
      },
    ];
  }
  return selection.unmatched.map((term) => ({
    severity: 'warning',
    code: 'pattern-no-match',
    message: `-l "${term.text}" matches no host or group in ${inventory.file}`,
    hint: nearest(term.text),
  }));
}
