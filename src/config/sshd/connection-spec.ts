/**
 * Connections that fall into a Match block, for `sshd -T -C` / `sshd -t -C`: validating a config
 * with Match blocks needs a connection that enters each block (dev-sec ansible-ssh-hardening#188),
 * and checking a Match-scoped value needs one that reaches it.
 */
import { evaluateMatch, type MatchBuild, type MatchConnection, type MatchCriterion } from './match.js';
import type { SshdConfigTree } from './tree.js';
import { listSshdDirectives } from './directives.js';

/** A connection no real client has (TEST-NET addresses, an .invalid name), to fill the fields a block does not test. */
export const NEUTRAL_CONNECTION: Required<Pick<MatchConnection, 'user' | 'host' | 'addr' | 'laddr' | 'lport'>> = {
  user: 'root',
  host: 'sshfix-check.invalid',
  addr: '192.0.2.254',
  laddr: '192.0.2.253',
  lport: 22,
};

/** One concrete value matching a pattern list entry, or undefined when none can be made up. */
function sampleFromPatterns(list: string, kind: 'name' | 'address' | 'port'): string | undefined {
  for (const raw of list.split(',')) {
    const pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('!')) continue;
    if (kind === 'address') {
      const cidr = /^([0-9.]+)\/(\d+)$/.exec(pattern);
      if (cidr) {
        const octets = (cidr[1] as string).split('.').map(Number);
        const bits = Number(cidr[2]);
        if (octets.length !== 4 || bits > 32) continue;
        const base = octets.reduce((n, o) => n * 256 + o, 0);
        const host = bits >= 31 ? base : base + 1;
        return [24, 16, 8, 0].map((s) => Math.floor(host / 2 ** s) % 256).join('.');
      }
      if (/^[0-9.*?]+$/.test(pattern)) return pattern.replace(/\*/g, '1').replace(/\?/g, '1');
      if (pattern.includes(':') && !/[*?]/.test(pattern)) return pattern.split('/')[0];
      continue;
    }
    if (kind === 'port') return /^\d+$/.test(pattern) ? pattern : undefined;
    return pattern.replace(/\*/g, 'x').replace(/\?/g, 'x');
  }
  return undefined;
}

/** Which connection field a Match attribute tests, and what kind of value fills it (none: cannot be made up). */
const FIELD_FOR: Partial<Record<MatchCriterion['attribute'], { key: 'user' | 'host' | 'addr' | 'laddr' | 'lport'; kind: 'name' | 'address' | 'port' }>> = {
  user: { key: 'user', kind: 'name' },
  host: { key: 'host', kind: 'name' },
  address: { key: 'addr', kind: 'address' },
  localaddress: { key: 'laddr', kind: 'address' },
  localport: { key: 'lport', kind: 'port' },
};

/**
 * A connection that satisfies every criterion of one Match line, or undefined when it cannot be
 * made up (Group needs a user known to be in the group; RDomain is Linux VRF-specific) or the
 * line never applies on this build (`Version` is the build's release, which no connection
 * changes; unknown release: undefined too).
 */
export function connectionForCriteria(criteria: readonly MatchCriterion[], build: MatchBuild = {}): MatchConnection | undefined {
  const connection: MatchConnection = { ...NEUTRAL_CONNECTION };
  for (const criterion of criteria) {
    if (criterion.attribute === 'all' || criterion.attribute === 'version') continue;
    if (criterion.attribute === 'invalid-user') {
      connection.invalidUser = true;
      continue;
    }
    const field = FIELD_FOR[criterion.attribute];
    if (!field) return undefined;
    const sample = sampleFromPatterns(criterion.value ?? '', field.kind);
    if (!sample) return undefined;
    if (field.key === 'lport') connection.lport = Number(sample);
    else connection[field.key] = sample;
  }
  return evaluateMatch(criteria, connection, build).matches ? connection : undefined;
}

/** The `-C` argument for a connection: user=..,host=..,addr=..,laddr=..,lport=..[,invalid-user] */
export function formatConnectionSpec(connection: MatchConnection): string {
  const parts: string[] = [];
  if (connection.user !== undefined) parts.push(`user=${connection.user}`);
  if (connection.host !== undefined) parts.push(`host=${connection.host}`);
  if (connection.addr !== undefined) parts.push(`addr=${connection.addr}`);
  if (connection.laddr !== undefined) parts.push(`laddr=${connection.laddr}`);
  if (connection.lport !== undefined) parts.push(`lport=${connection.lport}`);
  if (connection.rdomain !== undefined) parts.push(`rdomain=${connection.rdomain}`);
  // A bare word (OpenSSH 9.9+; older sshd refuses it, and no Match line of theirs needs it).
  if (connection.invalidUser === true) parts.push('invalid-user');
  return parts.join(',');
}

/**
 * One `-C` spec per Match block of the tree that a made-up connection can enter, plus the neutral
 * connection, so validation exercises every block sshd would apply.
 */
export function matchValidationSpecs(tree: SshdConfigTree, version?: string, release?: string): string[] {
  const { blocks } = listSshdDirectives(tree, version, release);
  if (blocks.length === 0) return [];
  const specs = new Set<string>([formatConnectionSpec(NEUTRAL_CONNECTION)]);
  for (const block of blocks) {
    if (!block.criteria) continue;
    const connection = connectionForCriteria(block.criteria, { ...(version !== undefined ? { version } : {}), ...(release !== undefined ? { release } : {}) });
    if (connection) specs.add(formatConnectionSpec(connection));
  }
  return [...specs];
}
