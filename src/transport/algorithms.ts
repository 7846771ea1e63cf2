/**
 * Per-host algorithm settings (`algorithms: { kex: ["+diffie-hellman-group14-sha1"] }`) mapped onto
 * the exact lists ssh2 offers, with OpenSSH's `+` / `-` / `^` semantics, and the suggestions a
 * mismatch diagnosis makes. Pure apart from reading ssh2's own lists once at load.
 */
import { createRequire } from 'node:module';
import { hostKeyAlgorithmsForKeyType } from './host-key.js';
import { wildcardMatch } from './known-hosts.js';

export type AlgorithmCategory = 'kex' | 'cipher' | 'serverHostKey' | 'hmac';

export const ALGORITHM_CATEGORIES: readonly AlgorithmCategory[] = ['kex', 'cipher', 'serverHostKey', 'hmac'];

/** What a client offers by default and what it can be told to offer, per category. */
export interface AlgorithmCatalog {
  defaults: Readonly<Record<AlgorithmCategory, readonly string[]>>;
  supported: Readonly<Record<AlgorithmCategory, readonly string[]>>;
}

/** The inventory key and the ssh_config keyword for each category, for fix instructions. */
export const ALGORITHM_SETTING_NAMES: Readonly<Record<AlgorithmCategory, { inventory: string; sshConfig: string; what: string }>> = {
  kex: { inventory: 'kex', sshConfig: 'KexAlgorithms', what: 'key exchange algorithm' },
  cipher: { inventory: 'cipher', sshConfig: 'Ciphers', what: 'cipher' },
  serverHostKey: { inventory: 'hostkey', sshConfig: 'HostKeyAlgorithms', what: 'host key algorithm' },
  hmac: { inventory: 'hmac', sshConfig: 'MACs', what: 'MAC algorithm' },
};

/**
 * ssh2 1.17's lists as of writing, used only if its internal constants module ever moves: the
 * real lists depend on the OpenSSL build and CPU (chacha20, curve25519), so they are read from
 * ssh2 whenever possible.
 */
const FALLBACK_DEFAULTS: Record<AlgorithmCategory, readonly string[]> = {
  kex: [
    'curve25519-sha256@libssh.org', 'curve25519-sha256', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group15-sha512',
    'diffie-hellman-group16-sha512', 'diffie-hellman-group17-sha512', 'diffie-hellman-group18-sha512',
  ],
  serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha1-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'],
};
const FALLBACK_EXTRAS: Record<AlgorithmCategory, readonly string[]> = {
  kex: ['diffie-hellman-group-exchange-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'],
  serverHostKey: ['ssh-dss'],
  cipher: ['aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc'],
  hmac: ['hmac-md5', 'hmac-sha2-256-96', 'hmac-sha2-512-96', 'hmac-ripemd160', 'hmac-sha1-96', 'hmac-md5-96'],
};
const FALLBACK_CATALOG: AlgorithmCatalog = {
  defaults: FALLBACK_DEFAULTS,
  supported: {
    kex: [...FALLBACK_DEFAULTS.kex, ...FALLBACK_EXTRAS.kex],
    serverHostKey: [...FALLBACK_DEFAULTS.serverHostKey, ...FALLBACK_EXTRAS.serverHostKey],
    cipher: [...FALLBACK_DEFAULTS.cipher, ...FALLBACK_EXTRAS.cipher],
    hmac: [...FALLBACK_DEFAULTS.hmac, ...FALLBACK_EXTRAS.hmac],
  },
};

function loadSsh2Catalog(): { catalog: AlgorithmCatalog; fromSsh2: boolean } {
  try {
    const c = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, unknown>;
    const list = (name: string): string[] => {
      const value = c[name];
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) throw new Error(name);
      return value as string[];
    };
    return {
      fromSsh2: true,
      catalog: {
        defaults: { kex: list('DEFAULT_KEX'), serverHostKey: list('DEFAULT_SERVER_HOST_KEY'), cipher: list('DEFAULT_CIPHER'), hmac: list('DEFAULT_MAC') },
        supported: {
          kex: list('SUPPORTED_KEX'),
          serverHostKey: list('SUPPORTED_SERVER_HOST_KEY'),
          cipher: list('SUPPORTED_CIPHER'),
          hmac: list('SUPPORTED_MAC'),
        },
      },
    };
  } catch {
    return { catalog: FALLBACK_CATALOG, fromSsh2: false };
  }
}

const loaded = loadSsh2Catalog();
/** ssh2's lists on this machine. */
export const SSH2_ALGORITHMS: AlgorithmCatalog = loaded.catalog;
/** False when ssh2's internal lists could not be read and the built-in snapshot is in use. */
export const SSH2_ALGORITHMS_FROM_SSH2: boolean = loaded.fromSsh2;

/**
 * Legacy algorithms from strongest to weakest, for suggesting the least bad bridge. ssh2's own
 * order puts diffie-hellman-group-exchange-sha1 first, but group exchange is slow in ssh2 (it
 * blocks the event loop) and no stronger, so the fixed 2048-bit group comes first.
 */
const LEGACY_PREFERENCE: Readonly<Record<AlgorithmCategory, readonly string[]>> = {
  kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'],
  cipher: ['aes256-gcm', 'aes128-gcm', 'aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc', 'blowfish-cbc', 'cast128-cbc', 'arcfour256', 'arcfour128', 'arcfour'],
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  hmac: ['hmac-sha2-512-96', 'hmac-sha2-256-96', 'hmac-ripemd160', 'hmac-sha1-96', 'hmac-md5', 'hmac-md5-96'],
};

/** Names in a KEXINIT that announce extensions, not algorithms. */
const PSEUDO_ALGORITHM = /^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com)$/;

/** Drops the extension markers (ext-info-s, kex-strict-s-v00@openssh.com) from an offer. */
export function realAlgorithms(offer: readonly string[]): string[] {
  return offer.filter((name) => !PSEUDO_ALGORITHM.test(name));
}

export type ResolvedAlgorithmList = { ok: true; list: string[] } | { ok: false; problem: string };

/**
 * Applies one category's entries to the default list, as ssh_config does: plain names form the
 * exact list; `+x` appends, `-x` removes and `^x` moves to the front, in order. `*` and `?`
 * wildcards select among the supported names (for `-`, among the current list). Unknown names,
 * mixing plain and prefixed entries, or removing everything are problems.
 */
export function resolveAlgorithmList(entries: readonly string[], defaults: readonly string[], supported: readonly string[]): ResolvedAlgorithmList {
  const prefixed = entries.filter((e) => /^[+\-^]/.test(e));
  if (prefixed.length > 0 && prefixed.length < entries.length) {
    return { ok: false, problem: `mixes exact names with +/-/^ entries (${entries.join(', ')}): use one kind per list` };
  }
  const expand = (pattern: string, pool: readonly string[]): string[] =>
    /[*?]/.test(pattern) ? pool.filter((name) => wildcardMatch(pattern, name)) : pool.includes(pattern) ? [pattern] : [];
  if (prefixed.length === 0) {
    const list: string[] = [];
    for (const entry of entries) {
      const names = expand(entry, supported);
      if (names.length === 0) return { ok: false, problem: unsupported(entry, supported) };
      for (const name of names) if (!list.includes(name)) list.push(name);
    }
    if (list.length === 0) return { ok: false, problem: 'is empty' };
    return { ok: true, list };
  }
  let list = [...defaults];
  for (const entry of entries) {
    const op = entry[0];
    const pattern = entry.slice(1);
    if (op === '-') {
      list = list.filter((name) => !(pattern.includes('*') || pattern.includes('?') ? wildcardMatch(pattern, name) : name === pattern));
      continue;
    }
    const names = expand(pattern, supported);
    if (names.length === 0) return { ok: false, problem: unsupported(pattern, supported) };
    if (op === '+') {
      for (const name of names) if (!list.includes(name)) list.push(name);
    } else {
      list = [...names, ...list.filter((name) => !names.includes(name))];
    }
  }
  if (list.length === 0) return { ok: false, problem: `removes every algorithm (${entries.join(', ')})` };
  return { ok: true, list };
}

function unsupported(name: string, supported: readonly string[]): string {
  return `names "${name}", which ssh2 does not implement (it can use: ${supported.join(', ')})`;
}

/** The exact lists to hand to ssh2's `algorithms` option. */
export type Ssh2AlgorithmLists = Record<AlgorithmCategory, string[]>;

export type ResolvedAlgorithms = { ok: true; lists: Ssh2AlgorithmLists } | { ok: false; problems: string[] };

/**
 * Resolves every category for one host. Host key algorithms are then reordered so the types
 * known_hosts already holds for the host come first (what OpenSSH does when HostKeyAlgorithms is
 * left at its default): a server with ed25519 and ecdsa keys, known by its ecdsa key, then
 * presents the ecdsa key instead of an "unknown" ed25519 one. An exact host key list is kept as
 * written, as in OpenSSH.
 */
export function resolveAlgorithms(
  settings: Partial<Record<AlgorithmCategory, readonly string[]>> | undefined,
  knownHostKeyTypes: readonly string[] = [],
  catalog: AlgorithmCatalog = SSH2_ALGORITHMS,
): ResolvedAlgorithms {
  const lists = {} as Ssh2AlgorithmLists;
  const problems: string[] = [];
  for (const category of ALGORITHM_CATEGORIES) {
    const entries = settings?.[category];
    if (!entries || entries.length === 0) {
      lists[category] = [...catalog.defaults[category]];
      continue;
    }
    const resolved = resolveAlgorithmList(entries, catalog.defaults[category], catalog.supported[category]);
    if (resolved.ok) lists[category] = resolved.list;
    else problems.push(`algorithms.${ALGORITHM_SETTING_NAMES[category].inventory} ${resolved.problem}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const exactHostKeys = settings?.serverHostKey?.some((e) => !/^[+\-^]/.test(e)) ?? false;
  if (!exactHostKeys && knownHostKeyTypes.length > 0) {
    const preferred = knownHostKeyTypes.flatMap(hostKeyAlgorithmsForKeyType);
    const current = lists.serverHostKey;
    lists.serverHostKey = [...current.filter((a) => preferred.includes(a)), ...current.filter((a) => !preferred.includes(a))];
  }
  return { ok: true, lists };
}

/**
 * The algorithm to bridge a mismatch with: the strongest one the server offers that ssh2 can
 * speak, or undefined when ssh2 implements none of them.
 */
export function suggestAlgorithm(category: AlgorithmCategory, serverOffer: readonly string[], catalog: AlgorithmCatalog = SSH2_ALGORITHMS): string | undefined {
  const offered = new Set(realAlgorithms(serverOffer));
  const order = [...catalog.defaults[category], ...LEGACY_PREFERENCE[category], ...catalog.supported[category]];
  return order.find((name) => offered.has(name) && catalog.supported[category].includes(name));
}

/** Every algorithm of the server's offer that ssh2 can speak, in suggestion order. */
export function commonAlgorithms(category: AlgorithmCategory, serverOffer: readonly string[], catalog: AlgorithmCatalog = SSH2_ALGORITHMS): string[] {
  const offered = new Set(realAlgorithms(serverOffer));
  const order = [...new Set([...catalog.defaults[category], ...LEGACY_PREFERENCE[category], ...catalog.supported[category]])];
  return order.filter((name) => offered.has(name) && catalog.supported[category].includes(name));
}
