/**
 * fail2ban's `ignoreip` entries, read as its server reads them (`IPAddr`): brackets around an
 * address dropped, `addr/len` or `addr/mask`, the address masked to its network
 * (`127.0.0.1/8` is `127.0.0.0/8`), an IPv4-mapped IPv6 address without a prefix taken as IPv4,
 * anything that is not an address taken as a host name (resolved through DNS by fail2ban).
 * `formatted` is what `fail2ban-client get JAIL ignoreip` prints for the entry.
 * Pure.
 */
import { splitFail2banWords } from './effective.js';

export type IgnoreIpEntry =
  | { kind: 'ip'; raw: string; family: 4 | 6; addr: bigint; plen: number; formatted: string }
  | { kind: 'hostname'; raw: string; formatted: string }
  | { kind: 'invalid'; raw: string; reason: string };

const V4_BITS = 32;
const V6_BITS = 128;
const bitsOf = (family: 4 | 6): number => (family === 4 ? V4_BITS : V6_BITS);
const fullMask = (bits: number): bigint => (1n << BigInt(bits)) - 1n;
const netMask = (bits: number, plen: number): bigint => fullMask(bits) ^ (fullMask(bits) >> BigInt(Math.min(plen, bits)));

/** glibc `inet_pton(AF_INET)`: four decimal parts 0-255, no leading zeros. */
export function parseIpv4Strict(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0')) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

/** glibc `inet_pton(AF_INET6)`, trailing dotted IPv4 allowed. */
export function parseIpv6Strict(s: string): bigint | undefined {
  if (s === '' || /[^0-9a-fA-F:.]/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string, allowV4: boolean): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (allowV4 && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4Strict(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  return all.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
}

/** glibc `inet_ntop`: longest run (two or more) of zero groups as `::`, mapped/compatible IPv4 dotted. */
export function formatIpv6(addr: bigint): string {
  const words = Array.from({ length: 8 }, (_, i) => Number((addr >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  words.forEach((w, i) => {
    if (w === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = { ...cur };
    } else cur = { base: -1, len: 0 };
  });
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      out += formatIpv4(addr & 0xffffffffn);
      break;
    }
    out += words[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

export const formatIpv4 = (addr: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 0xffn)).join('.');

const MAPPED_PREFIX = 0xffffn << 32n;

/**
 * Reads one entry as fail2ban's `IPAddr(entry)` does. A prefix longer than the address
 * (`1.2.3.4/40`) is kept as fail2ban keeps it: the address alone, printed without the prefix.
 */
export function parseIgnoreIpEntry(raw: string): IgnoreIpEntry {
  let s = raw;
  if (s.length > 2 && s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  let plen: number | undefined;
  const slash = s.indexOf('/');
  if (slash !== -1) {
    const mask = s.slice(slash + 1);
    s = s.slice(0, slash);
    if (mask.includes('.') || mask.includes(':')) {
      const m = mask.includes(':') ? parseIpv6Strict(mask) : parseIpv4Strict(mask);
      const bits = mask.includes(':') ? V6_BITS : V4_BITS;
      const len = m === undefined ? -1 : [...Array(bits + 1).keys()].find((l) => netMask(bits, l) === m) ?? -1;
      if (len < 0) return { kind: 'invalid', raw, reason: `${mask} is not a network mask` };
      plen = len;
    } else if (/^\d+$/.test(mask)) plen = Number(mask);
    else return { kind: 'invalid', raw, reason: `prefix length ${JSON.stringify(mask)} is not a number` };
  }
  const v4 = parseIpv4Strict(s);
  const v6 = v4 === undefined ? parseIpv6Strict(s) : undefined;
  if (v4 === undefined && v6 === undefined) {
    if (plen !== undefined) return { kind: 'invalid', raw, reason: 'a prefix length after a host name' };
    if (!/^[A-Za-z0-9_.-]+$/.test(s)) return { kind: 'invalid', raw, reason: 'neither an address, a network nor a host name' };
    return { kind: 'hostname', raw, formatted: s };
  }
  let family: 4 | 6 = v4 !== undefined ? 4 : 6;
  let addr = v4 ?? v6!;
  if (family === 6 && plen === undefined && addr >> 32n === MAPPED_PREFIX >> 32n) {
    family = 4;
    addr &= 0xffffffffn;
  }
  const bits = bitsOf(family);
  const len = plen ?? bits;
  addr &= netMask(bits, len);
  const text = family === 4 ? formatIpv4(addr) : formatIpv6(addr);
  return { kind: 'ip', raw, family, addr, plen: len, formatted: len > 0 && len < bits ? `${text}/${len}` : text };
}

/** The entries of an `ignoreip` value, split as fail2ban splits them. */
export const parseIgnoreIpList = (value: string): IgnoreIpEntry[] => splitFail2banWords(value).map(parseIgnoreIpEntry);

/**
 * The listed entry that already covers `wanted` (an address, a network or a host name), if any:
 * a network containing the address or the whole wanted network, or the same host name. A host
 * name never counts as covering an address (that would need DNS).
 */
export function findCoveringEntry(list: readonly IgnoreIpEntry[], wanted: IgnoreIpEntry): IgnoreIpEntry | undefined {
  return list.find((l) => {
    if (wanted.kind === 'hostname') return l.kind === 'hostname' && l.formatted.toLowerCase() === wanted.formatted.toLowerCase();
    if (wanted.kind !== 'ip' || l.kind !== 'ip' || l.family !== wanted.family) return false;
    // fail2ban masks with a prefix longer than the address as with the full length.
    const bits = bitsOf(l.family);
    if (Math.min(l.plen, bits) > Math.min(wanted.plen, bits)) return false;
    return (wanted.addr & netMask(bits, l.plen)) === l.addr;
  });
}

/** True when `address` is ignored by the list (host names in the list are not resolved). */
export const ignoreIpCovers = (list: readonly IgnoreIpEntry[], address: string): boolean => findCoveringEntry(list, parseIgnoreIpEntry(address)) !== undefined;
