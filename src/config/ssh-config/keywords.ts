/**
 * ssh_config (client) keywords that sshfix reads or writes, with how `ssh -G` prints them. The
 * client keeps the first value it obtains for each keyword (IdentityFile and similar accumulate),
 * so a specific `Host` block must come before `Host *`.
 */
import type { SshdAlgorithmFamily, SshdKeyword, SshdValueProblem } from '../sshd/keywords.js';
import { parseSshdValue, type SshdValueContext } from '../sshd/values.js';

export type SshValueType = 'flag' | 'integer' | 'time' | 'time-or-none' | 'algorithms' | 'string' | 'port' | 'choice' | 'path';

/** One client keyword. `dumpName` is the lowercase name `ssh -G` prints. */
export interface SshKeyword {
  name: string;
  dumpName: string;
  value: SshValueType;
  combine: 'first' | 'accumulate';
  choices?: readonly string[];
  algorithmFamily?: SshdAlgorithmFamily;
  /** True for algorithm keywords: sshfix never widens them in `Host *`. */
  legacyRisk?: boolean;
}

const K = (name: string, value: SshValueType, extra: Partial<SshKeyword> = {}): SshKeyword => ({
  name,
  dumpName: name.toLowerCase(),
  value,
  combine: 'first',
  ...extra,
});

export const SSH_KEYWORDS: readonly SshKeyword[] = [
  K('HostName', 'string'),
  K('User', 'string'),
  K('Port', 'port'),
  K('IdentityFile', 'path', { combine: 'accumulate' }),
  K('IdentitiesOnly', 'flag'),
  K('BatchMode', 'flag'),
  K('Compression', 'flag'),
  K('TCPKeepAlive', 'flag'),
  K('ServerAliveInterval', 'time'),
  K('ServerAliveCountMax', 'integer'),
  K('ConnectTimeout', 'time-or-none'),
  K('StrictHostKeyChecking', 'choice', { choices: ['yes', 'no', 'ask', 'accept-new', 'off'] }),
  K('UserKnownHostsFile', 'path'),
  K('ProxyJump', 'string'),
  K('BindAddress', 'string'),
  K('LogLevel', 'choice', { choices: ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3'] }),
  K('KexAlgorithms', 'algorithms', { algorithmFamily: 'kex', legacyRisk: true }),
  K('HostKeyAlgorithms', 'algorithms', { algorithmFamily: 'hostkey', legacyRisk: true }),
  K('PubkeyAcceptedAlgorithms', 'algorithms', { algorithmFamily: 'pubkey', legacyRisk: true }),
  K('Ciphers', 'algorithms', { algorithmFamily: 'cipher', legacyRisk: true }),
  K('MACs', 'algorithms', { algorithmFamily: 'mac', legacyRisk: true }),
];

const ALIASES: Readonly<Record<string, string>> = { pubkeyacceptedkeytypes: 'PubkeyAcceptedAlgorithms' };
const BY_NAME = new Map(SSH_KEYWORDS.map((k) => [k.name.toLowerCase(), k]));

/** Case-insensitive lookup, aliases included. Undefined for keywords outside this table. */
export function lookupSshKeyword(name: string): SshKeyword | undefined {
  const lower = name.toLowerCase();
  return BY_NAME.get(lower) ?? (ALIASES[lower] ? BY_NAME.get(ALIASES[lower]!.toLowerCase()) : undefined);
}

/** The same value parsers as sshd_config, through an sshd-shaped view of the client keyword. */
function asSshd(k: SshKeyword): SshdKeyword {
  const value = k.value === 'time-or-none' ? 'time-or-none' : k.value === 'choice' && k.dumpName === 'loglevel' ? 'log-level' : k.value;
  return { name: k.name, dumpName: k.dumpName, value, combine: 'first', matchAllowed: true, printed: true, ...(k.choices ? { choices: k.choices.map((c) => c.toLowerCase()) } : {}), ...(k.algorithmFamily ? { algorithmFamily: k.algorithmFamily } : {}) } as SshdKeyword;
}

/** Normalised value as `ssh -G` prints it, or a problem. */
export function parseSshValue(k: SshKeyword, value: string, ctx: SshdValueContext = {}): { items: string[] } | { problem: SshdValueProblem } {
  if (k.value === 'path') {
    const v = value.trim();
    return v === '' ? { problem: { code: 'missing-value', message: `${k.name} needs a value` } } : { items: [v] };
  }
  const r = parseSshdValue(asSshd(k), value, ctx);
  if ('problem' in r) return r;
  if (k.dumpName === 'connecttimeout' && r.items[0] === 'none') return { items: ['none'] };
  return r;
}

/** Algorithms kept only for old peers: SHA-1 key exchange and signatures, DSA, CBC/3DES/RC4 ciphers, MD5/SHA-1 MACs. */
const LEGACY_ALGORITHM = /(sha1|^ssh-rsa$|^ssh-dss$|-cbc|^3des|arcfour|md5|-96$)/;

/** The legacy algorithm names an algorithm-list value enables (a `-` list removes, so enables none). */
export function legacyAlgorithmsIn(value: string): string[] {
  const v = value.trim();
  if (v.startsWith('-')) return [];
  return v.replace(/^[+^]/, '').split(',').map((a) => a.trim()).filter((a) => LEGACY_ALGORITHM.test(a));
}

/** Whether a Host line's patterns select every destination (`*` among them, not negated). */
export function patternsMatchEveryHost(patterns: readonly string[]): boolean {
  return patterns.some((p) => /^\*+$/.test(p));
}
