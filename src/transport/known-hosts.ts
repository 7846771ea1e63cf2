/**
 * known_hosts as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): pure parsing, host
 * matching and lookup. No I/O here; known-hosts-file.ts reads and appends the file.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { keyTypeOfBlob } from './host-key.js';

/** One usable line of a known_hosts file. */
export interface KnownHostsEntry {
  /** 1-based line number, for messages (`ssh-keygen -R` works by host, the line helps a human). */
  line: number;
  marker?: 'cert-authority' | 'revoked';
  /** The host field as written: a comma-separated pattern list or one `|1|salt|hash` entry. */
  hosts: string;
  /** Decoded `|1|` entry; absent for plain pattern lists. */
  hashed?: { salt: Buffer; hash: Buffer };
  /** The key type the line names (e.g. `ssh-ed25519`). */
  keyType: string;
  /** The public key blob (base64-decoded third field). */
  blob: Buffer;
}

export interface KnownHostsFile {
  entries: KnownHostsEntry[];
  /** Lines that are neither comments nor valid entries; OpenSSH skips them too. */
  invalidLines: number[];
}

/** Parses the text of a known_hosts file; never throws. */
export function parseKnownHosts(text: string): KnownHostsFile {
  const entries: KnownHostsEntry[] = [];
  const invalidLines: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const entry = parseEntry(raw, i + 1);
    if (entry) entries.push(entry);
    else invalidLines.push(i + 1);
  }
  return { entries, invalidLines };
}

function parseEntry(raw: string, line: number): KnownHostsEntry | undefined {
  const fields = raw.split(/[ \t]+/);
  let marker: KnownHostsEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name === '@cert-authority') marker = 'cert-authority';
    else if (name === '@revoked') marker = 'revoked';
    else return undefined;
  }
  const [hosts, keyType, base64] = fields;
  if (!hosts || !keyType || !base64) return undefined;
  // SSH-1 RSA lines ("host bits exponent modulus") have a number where the key type goes.
  if (/^\d+$/.test(keyType)) return undefined;
  if (!/^[A-Za-z0-9+/]+=*$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  if (keyTypeOfBlob(blob) === undefined) return undefined;
  const entry: KnownHostsEntry = { line, hosts, keyType, blob };
  if (marker) entry.marker = marker;
  if (hosts.startsWith('|')) {
    const hashed = parseHashedHost(hosts);
    if (!hashed) return undefined;
    entry.hashed = hashed;
  }
  return entry;
}

function parseHashedHost(field: string): { salt: Buffer; hash: Buffer } | undefined {
  const match = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
  if (!match) return undefined;
  const salt = Buffer.from(match[1] as string, 'base64');
  const hash = Buffer.from(match[2] as string, 'base64');
  // OpenSSH's hashed entries use a SHA-1 HMAC keyed by a 20-byte salt.
  if (salt.length !== 20 || hash.length !== 20) return undefined;
  return { salt, hash };
}

/**
 * The name a host is filed under: the address for port 22, `[address]:port` otherwise, lowercased
 * as OpenSSH does before any comparison.
 */
export function knownHostsName(address: string, port: number): string {
  const host = address.toLowerCase();
  return port === 22 ? host : `[${host}]:${port}`;
}

/** HMAC-SHA1 of the host name keyed by the salt: the `|1|salt|hash` form (`HashKnownHosts yes`). */
export function hashKnownHostsName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** Renders a hashed host field for `name` with a fresh (or the given) 20-byte salt. */
export function formatHashedHost(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${hashKnownHostsName(name, salt).toString('base64')}`;
}

/**
 * Whether a known_hosts host field applies to `name` (as from knownHostsName). Pattern lists use
 * `*` and `?` wildcards; a matching `!pattern` excludes the line whatever else matches.
 */
export function entryMatchesHost(entry: Pick<KnownHostsEntry, 'hosts' | 'hashed'>, name: string): boolean {
  if (entry.hashed) {
    const computed = hashKnownHostsName(name, entry.hashed.salt);
    return timingSafeEqual(computed, entry.hashed.hash);
  }
  let positive = false;
  for (const pattern of entry.hosts.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const body = (negated ? pattern.slice(1) : pattern).toLowerCase();
    if (wildcardMatch(body, name)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character, everything else literal. */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '*') {
      starP = p++;
      starT = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * What known_hosts says about the key a server presented.
 * - `match`: a plain entry for this host holds exactly this key.
 * - `revoked`: a `@revoked` entry for this host holds this key (refused under every policy).
 * - `changed`: entries for this host hold a different key of the same type (and none this key).
 * - `other-types`: the host is known, but only by keys of other types: OpenSSH calls this "no
 *   <type> host key is known", and so do we; sshfix never records it automatically (see policy).
 * - `unknown`: no entry for this host at all.
 */
export type HostKeyLookup =
  | { status: 'match'; entry: KnownHostsEntry }
  | { status: 'revoked'; entry: KnownHostsEntry }
  | { status: 'changed'; entries: KnownHostsEntry[] }
  | { status: 'other-types'; knownTypes: string[]; entries: KnownHostsEntry[] }
  | { status: 'unknown'; certAuthorityOnly: boolean };

/** Looks up the presented key blob for the host filed as `name` (see knownHostsName). */
export function lookupHostKey(file: KnownHostsFile, name: string, blob: Buffer): HostKeyLookup {
  const type = keyTypeOfBlob(blob);
  const forHost = file.entries.filter((e) => entryMatchesHost(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.blob.equals(blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === undefined);
  const exact = plain.find((e) => e.blob.equals(blob));
  if (exact) return { status: 'match', entry: exact };
  const sameType = plain.filter((e) => keyTypeOfBlob(e.blob) === type);
  if (sameType.length > 0) return { status: 'changed', entries: sameType };
  if (plain.length > 0) {
    const knownTypes = [...new Set(plain.map((e) => keyTypeOfBlob(e.blob) as string))];
    return { status: 'other-types', knownTypes, entries: plain };
  }
  return { status: 'unknown', certAuthorityOnly: forHost.some((e) => e.marker === 'cert-authority') };
}

/** The key types known_hosts holds for a host (plain entries only), in file order. */
export function knownKeyTypes(file: KnownHostsFile, name: string): string[] {
  const types = file.entries
    .filter((e) => e.marker === undefined && entryMatchesHost(e, name))
    .map((e) => keyTypeOfBlob(e.blob) as string);
  return [...new Set(types)];
}

/** One known_hosts line (without newline) recording `blob` for the host filed as `name`. */
export function formatKnownHostsLine(name: string, blob: Buffer, options: { hash?: boolean } = {}): string {
  const host = options.hash ? formatHashedHost(name) : name;
  return `${host} ${keyTypeOfBlob(blob) ?? 'unknown'} ${blob.toString('base64')}`;
}
