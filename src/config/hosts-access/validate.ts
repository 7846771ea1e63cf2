/**
 * Validation of the `daemon` and `client` values of a tcp_wrappers task, and the pattern each
 * becomes in hosts.allow. Values come from playbooks and inventory variables: anything libwrap
 * would read as something else (a second field after a colon, a list, a keyword, a comment, a
 * continuation, a second line) is refused rather than written.
 *
 * A client is an address, a network (`net/len`, `net/mask`, `[v6]/len`), a host name, or `ALL`.
 * IPv6 is written in brackets in the file (`[2001:db8::7]`): a bare IPv6 value that parses as an
 * address or network is accepted and bracketed, since a bare one would be cut at its first colon
 * by libwrap; any other value with a colon is refused.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { parseIpv4, parseIpv6, formatIpv6 } from '../sshd/values.js';
import { canonicalAddress } from './match.js';

export type ClientKind = 'address' | 'network' | 'hostname' | 'all';

export interface ValidClient {
  /** The pattern to write in hosts.allow. */
  pattern: string;
  kind: ClientKind;
  /** For an address, its canonical text (what libwrap compares). */
  address?: string;
  /** For a network, its family and prefix length. */
  network?: { family: 4 | 6; groups: number[]; bits: number };
}

export type Validation<T> = { ok: true; value: T; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

/** libwrap wildcards and the list keyword: as a client or daemon value they would mean something else. */
const RESERVED = ['EXCEPT', 'KNOWN', 'UNKNOWN', 'LOCAL', 'PARANOID'];

const error = (code: string, message: string, hint?: string): Diagnostic => (hint ? { severity: 'error', code, message, hint } : { severity: 'error', code, message });
const warning = (code: string, message: string): Diagnostic => ({ severity: 'warning', code, message });

const CONTROL = /[\u0000-\u001f\u007f]/;

function commonRefusal(kind: 'client' | 'daemon', value: string): Diagnostic | undefined {
  if (value === '') return error(`hosts-access-empty-${kind}`, `the ${kind} is empty`);
  if (CONTROL.test(value)) return error('hosts-access-control-character', `the ${kind} ${JSON.stringify(value)} holds a control character (it would end the line or continue it)`);
  if (/[\s,]/.test(value)) return error(`hosts-access-list-${kind}`, `the ${kind} ${JSON.stringify(value)} holds a blank or a comma: libwrap would read a list`, 'give one value per entry');
  if (value.includes('#')) return error(`hosts-access-bad-${kind}`, `the ${kind} ${JSON.stringify(value)} holds "#"`);
  if (value.includes('\\')) return error(`hosts-access-bad-${kind}`, `the ${kind} ${JSON.stringify(value)} holds a backslash (a line continuation in hosts.allow)`);
  if (RESERVED.includes(value.toUpperCase())) return error(`hosts-access-reserved-${kind}`, `the ${kind} ${JSON.stringify(value)} is a libwrap keyword, not a ${kind}`);
  return undefined;
}

/** Host name: dot-separated labels of letters, digits and hyphens, not all numeric. */
function validHostname(value: string): boolean {
  if (value.length > 253 || value.startsWith('.') || value.endsWith('.')) return false;
  const labels = value.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^[0-9.]+$/.test(value);
}

function hostBitsClear(groups: readonly number[], width: number, bits: number): boolean {
  return groups.every((g, i) => {
    const keep = Math.max(0, Math.min(width, bits - i * width));
    return keep === width || (g & ((1 << (width - keep)) - 1)) === 0;
  });
}

function maskBits(mask: readonly number[]): number | undefined {
  const n = ((mask[0]! << 24) | (mask[1]! << 16) | (mask[2]! << 8) | mask[3]!) >>> 0;
  for (let bits = 0; bits <= 32; bits++) if ((bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0) === n) return bits;
  return undefined;
}

function validateNetwork(value: string, net: string, maskText: string): Validation<ValidClient> {
  const bracketed = net.startsWith('[') && net.endsWith(']');
  const v4 = bracketed ? undefined : parseIpv4(net);
  const v6 = v4 ? undefined : parseIpv6(bracketed ? net.slice(1, -1) : net);
  if (!v4 && !v6) return { ok: false, diagnostics: [error('hosts-access-bad-network', `${JSON.stringify(value)} is not a network: ${JSON.stringify(net)} is not an address`)] };
  let bits: number | undefined;
  if (/^\d{1,3}$/.test(maskText)) bits = Number(maskText);
  else if (v4 && parseIpv4(maskText)) bits = maskBits(parseIpv4(maskText)!);
  const max = v4 ? 32 : 128;
  if (bits === undefined || bits > max) {
    return { ok: false, diagnostics: [error('hosts-access-bad-network', `${JSON.stringify(value)}: bad prefix length or mask ${JSON.stringify(maskText)}`, `use ${v4 ? 'a length from 1 to 32 (10.0.0.0/8)' : 'a length from 0 to 128 ([2001:db8::]/32)'}`)] };
  }
  if (v4 && bits === 0) {
    // libwrap refuses net/0 for IPv4 (it matches nothing); the whole space is ALL.
    return { ok: false, diagnostics: [error('hosts-access-bad-network', `${JSON.stringify(value)}: libwrap matches nothing with an IPv4 /0`, 'write ALL to mean every client')] };
  }
  const groups = v4 ?? v6!;
  if (!hostBitsClear(groups, v4 ? 8 : 16, bits)) {
    return { ok: false, diagnostics: [error('hosts-access-host-bits', `${JSON.stringify(value)} has host bits set after /${bits}`, v4 ? 'libwrap compares the masked client with the network as written: such a line matches nobody' : 'write the network address')] };
  }
  if (bits === max) {
    const address = v4 ? v4.join('.') : formatIpv6(v6!);
    return { ok: true, value: { pattern: v4 ? address : `[${address}]`, kind: 'address', address: canonicalAddress(address)! }, warnings: [] };
  }
  const text = v4 ? `${v4.join('.')}/${bits}` : `[${formatIpv6(v6!)}]/${bits}`;
  const warnings = (v4 ? bits <= 8 : bits <= 32) ? [warning('hosts-access-wide-client', `${text} lets a whole /${bits} network through TCP wrappers`)] : [];
  return { ok: true, value: { pattern: text, kind: 'network', network: { family: v4 ? 4 : 6, groups, bits } }, warnings };
}

/** Validates a client value and gives the pattern to write. */
export function validateHostsClient(value: string): Validation<ValidClient> {
  const refused = commonRefusal('client', value);
  if (refused) return { ok: false, diagnostics: [refused] };
  if (value.toUpperCase() === 'ALL') {
    return { ok: true, value: { pattern: 'ALL', kind: 'all' }, warnings: [warning('hosts-access-wide-client', 'client ALL lets every client through TCP wrappers for this daemon')] };
  }
  const slash = value.lastIndexOf('/');
  if (slash !== -1) return validateNetwork(value, value.slice(0, slash), value.slice(slash + 1));
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : undefined;
  if (inner !== undefined || value.includes(':')) {
    const v6 = parseIpv6(inner ?? value);
    if (!v6) {
      return { ok: false, diagnostics: [error('hosts-access-colon', `the client ${JSON.stringify(value)} holds a colon but is not an IPv6 address: libwrap would cut the line there`, 'write IPv6 addresses as [2001:db8::7]')] };
    }
    const address = canonicalAddress(inner ?? value)!;
    if (!address.includes(':')) return { ok: true, value: { pattern: address, kind: 'address', address }, warnings: [] };
    return { ok: true, value: { pattern: `[${address}]`, kind: 'address', address }, warnings: [] };
  }
  const v4 = parseIpv4(value);
  if (v4) {
    if (value === '255.255.255.255') return { ok: false, diagnostics: [error('hosts-access-bad-address', 'libwrap cannot match 255.255.255.255')] };
    return { ok: true, value: { pattern: v4.join('.'), kind: 'address', address: v4.join('.') }, warnings: [] };
  }
  if (/^[0-9.]+$/.test(value)) {
    return { ok: false, diagnostics: [error('hosts-access-bad-address', `${JSON.stringify(value)} is not an IPv4 address`, 'write four numbers 0-255 (prefixes like 10.1. widen access: use 10.1.0.0/16)')] };
  }
  if (value.includes('*') || value.includes('?') || value.startsWith('@') || value.startsWith('/') || value.startsWith('.') || value.endsWith('.') || value.includes('@')) {
    return { ok: false, diagnostics: [error('hosts-access-pattern-client', `${JSON.stringify(value)} is a libwrap pattern, not a client`, 'give an address, a network or a host name')] };
  }
  if (!validHostname(value)) return { ok: false, diagnostics: [error('hosts-access-bad-hostname', `${JSON.stringify(value)} is not a host name`)] };
  return {
    ok: true,
    value: { pattern: value, kind: 'hostname' },
    warnings: [
      warning(
        'hosts-access-name-client',
        `${value} is matched by name: libwrap must find it by a reverse lookup of the client's address and confirm it by a forward lookup, or the line does not apply`,
      ),
    ],
  };
}

/** Validates a daemon value (a process name such as `sshd`, or `ALL`). */
export function validateHostsDaemon(value: string): Validation<string> {
  const refused = commonRefusal('daemon', value);
  if (refused) return { ok: false, diagnostics: [refused] };
  if (value.toUpperCase() === 'ALL') return { ok: true, value: 'ALL', warnings: [warning('hosts-access-wide-daemon', 'daemon ALL lets the client through to every wrapped service, not only sshd')] };
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(value) || value.endsWith('.')) {
    return { ok: false, diagnostics: [error('hosts-access-bad-daemon', `${JSON.stringify(value)} is not a daemon process name`, 'give the name libwrap sees, e.g. sshd')] };
  }
  return { ok: true, value, warnings: [] };
}
