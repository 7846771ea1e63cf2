/**
 * Pattern matching of hosts_access(5) as Debian's libwrap 7.6.q does it. Comparisons are
 * case-insensitive (keywords, names, wildcards alike). For a host pattern libwrap tries, in order:
 * `@netgroup` (NIS), `/file` (its words are patterns), `KNOWN`, `LOCAL`, `net/mask` (split at a
 * `/` outside brackets), then the pattern as a string against the address and, unless the pattern
 * is a dotted quad, against the name. As a string a pattern is a wildcard (`*`, `?`), a `.suffix`,
 * `ALL`, `KNOWN`, a `prefix.`, a `[v6]` address, or else compared whole: this is how `UNKNOWN`
 * matches a client whose name lookup failed (its name is the string `unknown`) and `PARANOID`
 * one whose forward and reverse lookups disagree (its name is the string `paranoid`).
 */
import { formatIpv6, parseIpv4, parseIpv6 } from '../sshd/values.js';
import { splitOutsideBrackets } from './parse.js';

/** libwrap's name for what it could not look up. */
export const UNKNOWN_HOST = 'unknown';
/** libwrap's name for a client whose address and name lookups disagree. */
export const PARANOID_HOST = 'paranoid';

/** An endpoint as libwrap sees it: `address` and `name` are `unknown` when not known. */
export interface HostInfo {
  address: string;
  name: string;
}

export interface MatchContext {
  daemon: string;
  client: HostInfo;
  server: HostInfo;
  user: string;
  /** Contents of `/file` patterns, by absolute path; a path not in it matches nothing. */
  patternFiles: ReadonlyMap<string, string>;
  /** Patterns the evaluation could not decide with certainty (netgroups, ungathered files). */
  uncertain: string[];
}

const lower = (s: string): string => s.toLowerCase();
const same = (a: string, b: string): boolean => lower(a) === lower(b);

/** Canonical text of an address as libwrap receives it from the kernel (IPv4-mapped as IPv4). */
export function canonicalAddress(address: string): string | undefined {
  const v4 = parseIpv4(address);
  if (v4) return v4.join('.');
  const v6 = parseIpv6(address);
  if (!v6) return undefined;
  const text = formatIpv6(v6);
  return text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text;
}

/** One part of a dotted quad as inet_aton reads it (decimal, 0-prefixed octal, 0x hex). */
function inetPart(s: string): number | undefined {
  let value: number;
  if (/^0x[0-9a-f]*$/i.test(s)) value = s.length === 2 ? 0 : Number.parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) value = Number.parseInt(s, 8);
  else if (/^[1-9]\d*$/.test(s)) value = Number(s);
  else return undefined;
  return value <= 255 ? value : undefined;
}

/**
 * libwrap's `dot_quad_addr`: four dot-separated parts read by inet_addr, as an unsigned 32-bit
 * number; undefined when it is not one, and for 255.255.255.255 (INADDR_NONE, which libwrap
 * cannot tell from an error).
 */
export function dotQuad(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = inetPart(p);
    if (v === undefined) return undefined;
    n = n * 256 + v;
  }
  return n === 0xffffffff ? undefined : n;
}

/** C's atoi: optional blanks and sign, then digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function mask4(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** The IPv4 mask of a `net/mask` item: a dotted quad, else a prefix length from 1 to 32 read by atoi. */
export function ipv4Mask(mask: string): number | undefined {
  const m = dotQuad(mask);
  if (m !== undefined) return m;
  const bits = atoi(mask);
  return bits < 1 || bits > 32 ? undefined : mask4(bits);
}

function maskedMatch4(net: string, mask: string, address: string): boolean {
  const addr = dotQuad(address);
  const n = dotQuad(net);
  const m = ipv4Mask(mask);
  if (addr === undefined || n === undefined || m === undefined) return false;
  return ((addr & m) >>> 0) === n;
}

function v6Bits(groups: readonly number[], bits: number): number[] {
  return groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
}

function maskedMatch6(net: string, mask: string, address: string): boolean {
  const addr = address.includes(':') ? parseIpv6(address) : undefined;
  if (!addr || !net.startsWith('[') || !net.endsWith(']')) return false;
  const n = parseIpv6(net.slice(1, -1));
  if (!n) return false;
  const bits = atoi(mask);
  if (bits < 0 || bits > 128) return false;
  const a = v6Bits(addr, bits);
  const b = v6Bits(n, bits);
  return a.every((g, i) => g === b[i]);
}

/** Wildcard match with `*` and `?`, case-insensitive. */
export function wildcardMatch(text: string, pattern: string): boolean {
  const s = lower(text);
  const p = lower(pattern);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (p.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (j === p.length) result = i === s.length;
    else if (p[j] === '*') result = go(i, j + 1) || (i < s.length && go(i + 1, j));
    else result = i < s.length && (p[j] === '?' || p[j] === s[i]) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** libwrap's `string_match`: a pattern against one string (a daemon, an address, a name, a user). */
export function stringMatch(tok: string, text: string): boolean {
  if (tok.includes('*') || tok.includes('?')) return wildcardMatch(text, tok);
  if (tok.startsWith('.')) {
    const n = text.length - tok.length;
    return n > 0 && same(text.slice(n), tok);
  }
  if (same(tok, 'ALL')) return true;
  if (same(tok, 'KNOWN')) return !same(text, UNKNOWN_HOST);
  if (tok.endsWith('.')) return lower(text).startsWith(lower(tok));
  if (tok.startsWith('[') && tok.endsWith(']') && tok.length > 1) {
    const pat = parseIpv6(tok.slice(1, -1));
    const addr = text.includes(':') ? parseIpv6(text) : undefined;
    return pat !== undefined && addr !== undefined && pat.every((g, i) => g === addr[i]);
  }
  return same(tok, text);
}

const nameKnown = (name: string): boolean => !same(name, UNKNOWN_HOST) && !same(name, PARANOID_HOST);

/** libwrap's `host_match`: a host pattern against an endpoint. */
export function hostMatch(tok: string, host: HostInfo, ctx: MatchContext, depth = 0): boolean {
  if (tok.startsWith('@')) {
    ctx.uncertain.push(`${tok}: netgroup membership is not evaluated (taken as no match)`);
    return false;
  }
  if (tok.startsWith('/')) {
    const text = ctx.patternFiles.get(tok);
    if (text === undefined) {
      ctx.uncertain.push(`${tok}: file not gathered (taken as missing: no match)`);
      return false;
    }
    if (depth > 8) return false;
    return text
      .split(/[ \t\n\v\f\r]+/)
      .filter((w) => w !== '')
      .some((w) => hostMatch(w, host, ctx, depth + 1));
  }
  if (same(tok, 'KNOWN')) return !same(host.address, UNKNOWN_HOST) && nameKnown(host.name);
  if (same(tok, 'LOCAL')) return !host.name.includes('.') && nameKnown(host.name);
  const slash = splitOutsideBrackets(tok, '/');
  if (slash !== -1) {
    const net = tok.slice(0, slash);
    const mask = tok.slice(slash + 1);
    return maskedMatch4(net, mask, host.address) || maskedMatch6(net, mask, host.address);
  }
  return stringMatch(tok, host.address) || (dotQuad(tok) === undefined && stringMatch(tok, host.name));
}

/** `name@host` splits at an `@` after the first character, outside brackets. */
function splitAt(tok: string): [string, string] | undefined {
  const at = splitOutsideBrackets(tok, '@', 1);
  return at === -1 ? undefined : [tok.slice(0, at), tok.slice(at + 1)];
}

export function serverMatch(tok: string, ctx: MatchContext): boolean {
  const parts = splitAt(tok);
  if (!parts) return stringMatch(tok, ctx.daemon);
  return stringMatch(parts[0], ctx.daemon) && hostMatch(parts[1], ctx.server, ctx);
}

export function clientMatch(tok: string, ctx: MatchContext): boolean {
  const parts = splitAt(tok);
  if (!parts) return hostMatch(tok, ctx.client, ctx);
  return hostMatch(parts[1], ctx.client, ctx) && stringMatch(parts[0], ctx.user);
}

/**
 * libwrap's `list_match`: the first item that matches decides, unless an `EXCEPT` follows it,
 * in which case the rest of the list after that `EXCEPT` is matched and reverses the answer
 * (so `a b EXCEPT c EXCEPT d` is `(a or b) and not (c and not d)`). Reaching an `EXCEPT`
 * without a match is no match.
 */
export function listMatch(items: readonly string[], match: (tok: string) => boolean): boolean {
  for (let i = 0; i < items.length; i++) {
    const tok = items[i]!;
    if (same(tok, 'EXCEPT')) return false;
    if (match(tok)) {
      const except = items.findIndex((t, j) => j > i && same(t, 'EXCEPT'));
      return except === -1 || !listMatch(items.slice(except + 1), match);
    }
  }
  return false;
}
