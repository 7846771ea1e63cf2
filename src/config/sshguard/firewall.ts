/**
 * The blocks sshguard's firewall backends hold, as their listing commands print them, and the
 * command that lifts exactly one. sshguard blocks an attacker as `ADDRESS/IPV4_SUBNET` (or
 * IPV6_SUBNET), which the kernel keeps as that network: with IPV4_SUBNET=24, a block of
 * 198.51.100.9 is the element 198.51.100.0/24. The commands mirror what each backend script
 * (sshg-fw-nft-sets, sshg-fw-ipset, sshg-fw-iptables) runs to release a block. Pure.
 */
import { findCoveringEntry, parseIgnoreIpEntry } from '../fail2ban/ignoreip.js';

export type FirewallBackend = 'nft-sets' | 'ipset' | 'iptables';

export const FIREWALL_BACKENDS: readonly FirewallBackend[] = ['nft-sets', 'ipset', 'iptables'];

/** The backend sshguard.conf's BACKEND names; `other` for a program sshfix does not know. */
export type SshguardBackend = 'hosts' | FirewallBackend | 'other';

/** The backend a BACKEND path names, by its program's name (`sshg-fw-<backend>`). */
export function sshguardBackendOf(path: string | undefined): SshguardBackend {
  const name = path?.slice(path.lastIndexOf('/') + 1) ?? '';
  if (name === 'sshg-fw-hosts') return 'hosts';
  if (name === 'sshg-fw-nft-sets') return 'nft-sets';
  if (name === 'sshg-fw-iptables') return 'iptables';
  if (name === 'sshg-fw-ipset') return 'ipset';
  return 'other';
}

/** A block as a network with its prefix length, always written with it: `203.0.113.7/32`. */
export type BlockedElement = string;

/** The shell command (no user input in it) that lists a backend's blocks, IPv4 and IPv6. */
export const FIREWALL_LISTING: Record<FirewallBackend, string> = {
  'nft-sets': 'nft list set ip sshguard attackers 2>/dev/null; nft list set ip6 sshguard attackers 2>/dev/null; true',
  ipset: 'ipset list sshguard4 2>/dev/null; ipset list sshguard6 2>/dev/null; true',
  iptables: 'iptables -S sshguard 2>/dev/null; ip6tables -S sshguard 2>/dev/null; true',
};

const ADDRESS_TOKEN = /(?<![\w.:/])((?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]*:[0-9a-f:.]+)(\/\d{1,3})?(?![\w.:/])/gi;

/** The parts of a listing that hold blocks (not headers such as ipset's `Header:` line). */
function blockText(backend: FirewallBackend, listing: string): string {
  switch (backend) {
    case 'nft-sets':
      // `elements = { a, b/24,\n c }`, once per set.
      return [...listing.matchAll(/elements\s*=\s*\{([^}]*)\}/g)].map((m) => m[1]).join(' ');
    case 'ipset':
      return listing
        .split(/^Name:/m)
        .map((set) => set.split(/^Members:\s*$/m)[1] ?? '')
        .join('\n');
    case 'iptables':
      return listing
        .split('\n')
        .filter((l) => /^-A sshguard\b/.test(l))
        .map((l) => /\s-s\s+(\S+)/.exec(l)?.[1] ?? '')
        .join('\n');
  }
}

/** The blocks a listing shows, each as `network/prefix`, in the order listed. */
export function parseFirewallBlocks(backend: FirewallBackend, listing: string): BlockedElement[] {
  const out: BlockedElement[] = [];
  for (const match of blockText(backend, listing).matchAll(ADDRESS_TOKEN)) {
    const entry = parseIgnoreIpEntry(`${match[1]}${match[2] ?? ''}`);
    if (entry.kind !== 'ip') continue;
    const element = `${entry.formatted.split('/')[0]}/${entry.plen}`;
    if (!out.includes(element)) out.push(element);
  }
  return out;
}

/** The blocks that cover `address` (the address itself, or a network holding it). */
export function blocksCovering(blocks: readonly BlockedElement[], address: string): BlockedElement[] {
  const wanted = parseIgnoreIpEntry(address);
  if (wanted.kind !== 'ip') return [];
  return blocks.filter((b) => findCoveringEntry([parseIgnoreIpEntry(b)], wanted) !== undefined);
}

/** Whether a saved plan's element is one this module wrote (nothing else may reach a command). */
export const isBlockedElement = (v: unknown): v is BlockedElement => typeof v === 'string' && /^[0-9A-Fa-f:.]{2,45}\/\d{1,3}$/.test(v) && parseIgnoreIpEntry(v).kind === 'ip';

const familyOf = (element: BlockedElement): 4 | 6 => (element.includes(':') ? 6 : 4);

/** The command that lifts exactly `element`, as the backend's own release does. */
export function releaseCommand(backend: FirewallBackend, element: BlockedElement): string {
  if (!isBlockedElement(element)) throw new RangeError(`not a blocked element: ${JSON.stringify(element)}`);
  const family = familyOf(element);
  switch (backend) {
    case 'nft-sets':
      return `nft delete element ${family === 6 ? 'ip6' : 'ip'} sshguard attackers '{ ${element} }'`;
    case 'ipset':
      return `ipset -quiet del sshguard${family} ${element}`;
    case 'iptables':
      return `${family === 6 ? 'ip6tables' : 'iptables'} -w -D sshguard -s ${element} -j DROP`;
  }
}

/** Where a backend keeps its blocks, for messages. */
export function describeFirewallSet(backend: FirewallBackend, element: BlockedElement): string {
  const family = familyOf(element);
  switch (backend) {
    case 'nft-sets':
      return `nft set ${family === 6 ? 'ip6' : 'ip'} sshguard attackers`;
    case 'ipset':
      return `ipset sshguard${family}`;
    case 'iptables':
      return `${family === 6 ? 'ip6tables' : 'iptables'} chain sshguard`;
  }
}
