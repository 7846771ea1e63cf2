/**
 * The sshd_config keyword table: every keyword OpenSSH's sshd reads (upstream 7.4 to 10.x, plus
 * the Debian/Ubuntu GSSAPI key exchange and DebianBanner patches), with how `sshd -T` prints it,
 * whether it may stand inside `Match`, what its value looks like, and how repeated lines combine.
 *
 * Facts come from servconf.c of each release (keyword flags and the "already set?" checks) and
 * were checked against the real `sshd -T` of OpenSSH 9.2p1 (Debian 12); the oracle tests keep
 * them honest.
 */
import { parseSshdValue } from './values.js';
import type { SshdAlgorithmFamily, SshdKeyword, SshdValueProblem } from './keyword-types.js';

export type { SshdAlgorithmFamily, SshdCombine, SshdKeyword, SshdKeywordChange, SshdValueProblem, SshdValueType } from './keyword-types.js';

import { compareVersions, DEFAULT_OPENSSH_VERSION } from './version-compare.js';

export { compareVersions, DEFAULT_OPENSSH_VERSION } from './version-compare.js';

type Row = Omit<SshdKeyword, 'dumpName' | 'printed'> & { dumpName?: string; printed?: boolean };

const flag = (name: string, matchAllowed: boolean, extra: Partial<Row> = {}): Row => ({
  name,
  matchAllowed,
  value: 'flag',
  combine: 'first',
  ...extra,
});
const ignored = (name: string, matchAllowed = false, extra: Partial<Row> = {}): Row => ({
  name,
  matchAllowed,
  value: 'ignored',
  combine: 'first',
  ignored: true,
  printed: false,
  ...extra,
});

const TCP_FORWARDING = ['yes', 'all', 'no', 'remote', 'local'] as const;

/* The order follows `sshd -T` output, so that a dump can be produced in sshd's own order. */
const ROWS: readonly Row[] = [
  { name: 'Port', matchAllowed: false, value: 'port', combine: 'accumulate' },
  { name: 'AddressFamily', matchAllowed: false, value: 'choice', combine: 'first', choices: ['inet', 'inet6', 'any'] },
  { name: 'ListenAddress', matchAllowed: false, value: 'listen-address', combine: 'accumulate' },
  flag('UsePAM', false),
  // Printed from 9.8 on (servconf.c dump_config; checked against 10.0p2's sshd -T), defaults from the host's own dump.
  { name: 'PAMServiceName', matchAllowed: true, value: 'string', combine: 'first', since: '9.8' },
  { name: 'LoginGraceTime', matchAllowed: false, value: 'time', combine: 'first' },
  { name: 'X11DisplayOffset', matchAllowed: true, value: 'integer', combine: 'first' },
  { name: 'MaxAuthTries', matchAllowed: true, value: 'integer', combine: 'first' },
  { name: 'MaxSessions', matchAllowed: true, value: 'integer', combine: 'first' },
  { name: 'ClientAliveInterval', matchAllowed: true, value: 'time', combine: 'first' },
  { name: 'ClientAliveCountMax', matchAllowed: true, value: 'integer', combine: 'first' },
  { name: 'RequiredRSASize', matchAllowed: true, value: 'integer', combine: 'first', since: '9.1' },
  { name: 'StreamLocalBindMask', matchAllowed: true, value: 'octal-mask', combine: 'last' },
  { name: 'UnusedConnectionTimeout', matchAllowed: true, value: 'time-or-none', combine: 'first', since: '9.2' },
  {
    name: 'PermitRootLogin',
    matchAllowed: true,
    value: 'choice',
    combine: 'first',
    choices: ['without-password', 'prohibit-password', 'forced-commands-only', 'yes', 'no'],
  },
  {
    name: 'IgnoreRhosts',
    matchAllowed: true,
    value: 'choice',
    combine: 'first',
    choices: ['yes', 'no', 'shosts-only'],
    changes: [{ since: '8.3', matchAllowed: true }],
  },
  flag('IgnoreUserKnownHosts', false),
  flag('HostbasedAuthentication', true),
  flag('HostbasedUsesNameFromPacketOnly', true),
  flag('PubkeyAuthentication', true, { aliases: ['dsaauthentication'] }),
  flag('KerberosAuthentication', true),
  flag('KerberosOrLocalPasswd', false),
  flag('KerberosTicketCleanup', false),
  flag('GSSAPIAuthentication', true),
  flag('GSSAPICleanupCredentials', false, { aliases: ['gssapicleanupcreds'] }),
  flag('GSSAPIKeyExchange', false, { vendor: 'debian' }),
  flag('GSSAPIStrictAcceptorCheck', false),
  flag('GSSAPIStoreCredentialsOnRekey', false, { vendor: 'debian' }),
  {
    name: 'GSSAPIKexAlgorithms',
    matchAllowed: false,
    value: 'algorithms',
    combine: 'first',
    algorithmFamily: 'gss-kex',
    vendor: 'debian',
  },
  flag('PasswordAuthentication', true),
  flag('KbdInteractiveAuthentication', true, {
    aliases: ['challengeresponseauthentication', 'skeyauthentication'],
  }),
  flag('PrintMotd', false),
  flag('PrintLastLog', false),
  flag('X11Forwarding', true),
  flag('X11UseLocalhost', true),
  flag('PermitTTY', true),
  flag('PermitUserRC', true),
  flag('StrictModes', false),
  flag('TCPKeepAlive', false, { aliases: ['keepalive'] }),
  flag('PermitEmptyPasswords', true),
  { name: 'Compression', matchAllowed: false, value: 'choice', combine: 'first', choices: ['yes', 'delayed', 'no'] },
  {
    name: 'GatewayPorts',
    matchAllowed: true,
    value: 'choice',
    combine: 'first',
    choices: ['clientspecified', 'yes', 'no'],
  },
  flag('UseDNS', false),
  { name: 'AllowTcpForwarding', matchAllowed: true, value: 'choice', combine: 'first', choices: TCP_FORWARDING },
  flag('AllowAgentForwarding', true),
  flag('DisableForwarding', true),
  {
    name: 'AllowStreamLocalForwarding',
    matchAllowed: true,
    value: 'choice',
    combine: 'first',
    choices: TCP_FORWARDING,
  },
  flag('StreamLocalBindUnlink', true),
  {
    name: 'FingerprintHash',
    matchAllowed: false,
    value: 'fingerprint-hash',
    combine: 'last',
  },
  flag('ExposeAuthInfo', true, { since: '7.6' }),
  flag('RefuseConnection', true, { since: '9.9' }),
  // Debian's 9.2 does not print it, its 10.0 does (checked with both builds' sshd -T).
  flag('DebianBanner', false, { vendor: 'debian', printed: false, changes: [{ since: '10.0', printed: true }] }),
  { name: 'PidFile', matchAllowed: false, value: 'path', combine: 'first' },
  { name: 'ModuliFile', matchAllowed: false, value: 'path', combine: 'first', since: '8.6' },
  { name: 'XAuthLocation', matchAllowed: false, value: 'path', combine: 'first' },
  { name: 'Ciphers', matchAllowed: false, value: 'algorithms', combine: 'first', algorithmFamily: 'cipher' },
  { name: 'MACs', matchAllowed: false, value: 'algorithms', combine: 'first', algorithmFamily: 'mac' },
  { name: 'Banner', matchAllowed: true, value: 'path', combine: 'first' },
  { name: 'ForceCommand', matchAllowed: true, value: 'command', combine: 'first' },
  { name: 'ChrootDirectory', matchAllowed: true, value: 'string', combine: 'first' },
  { name: 'TrustedUserCAKeys', matchAllowed: true, value: 'path', combine: 'first' },
  { name: 'RevokedKeys', matchAllowed: true, value: 'path', combine: 'first' },
  { name: 'SecurityKeyProvider', matchAllowed: false, value: 'path', combine: 'first', since: '8.2' },
  { name: 'AuthorizedPrincipalsFile', matchAllowed: true, value: 'path', combine: 'first' },
  { name: 'VersionAddendum', matchAllowed: false, value: 'version-addendum', combine: 'first' },
  { name: 'AuthorizedKeysCommand', matchAllowed: true, value: 'command', combine: 'first' },
  { name: 'AuthorizedKeysCommandUser', matchAllowed: true, value: 'string', combine: 'first' },
  { name: 'AuthorizedPrincipalsCommand', matchAllowed: true, value: 'command', combine: 'first' },
  { name: 'AuthorizedPrincipalsCommandUser', matchAllowed: true, value: 'string', combine: 'first' },
  { name: 'HostKeyAgent', matchAllowed: false, value: 'path', combine: 'first' },
  { name: 'KexAlgorithms', matchAllowed: false, value: 'algorithms', combine: 'first', algorithmFamily: 'kex' },
  {
    name: 'CASignatureAlgorithms',
    matchAllowed: true,
    value: 'algorithms',
    combine: 'first',
    algorithmFamily: 'sig',
    since: '7.9',
  },
  {
    name: 'HostbasedAcceptedAlgorithms',
    matchAllowed: true,
    value: 'algorithms',
    combine: 'first',
    algorithmFamily: 'pubkey',
    since: '8.5',
    aliases: ['hostbasedacceptedkeytypes'],
  },
  {
    name: 'HostKeyAlgorithms',
    matchAllowed: false,
    value: 'algorithms',
    combine: 'first',
    algorithmFamily: 'hostkey',
  },
  {
    name: 'PubkeyAcceptedAlgorithms',
    matchAllowed: true,
    value: 'algorithms',
    combine: 'first',
    algorithmFamily: 'pubkey',
    since: '8.5',
    aliases: ['pubkeyacceptedkeytypes'],
  },
  // Printed from 9.8 on (10.0 adds SshdAuthPath); their defaults come from the host's own empty-config dump.
  { name: 'SshdSessionPath', matchAllowed: false, value: 'path', combine: 'first', since: '9.8' },
  { name: 'SshdAuthPath', matchAllowed: false, value: 'path', combine: 'first', since: '10.0' },
  // Printed by 9.8+ (`none` when unset, checked against 10.0p2's sshd -T); `add`/`remove` edit the comma list.
  { name: 'PerSourcePenaltyExemptList', matchAllowed: false, value: 'address-list', combine: 'first', list: true, since: '9.8' },
  // Debian's build has no routing-domain support: sshd refuses the keyword and never prints it.
  { name: 'RDomain', matchAllowed: true, value: 'rdomain', combine: 'first', since: '7.7', printed: false },
  {
    name: 'LogLevel',
    matchAllowed: true,
    value: 'log-level',
    combine: 'first',
    changes: [{ since: '7.6', matchAllowed: true }],
  },
  { name: 'SyslogFacility', matchAllowed: false, value: 'log-facility', combine: 'first' },
  { name: 'AuthorizedKeysFile', matchAllowed: true, value: 'path-list', combine: 'first-line', list: true },
  { name: 'HostKey', matchAllowed: false, value: 'path', combine: 'accumulate', aliases: ['hostdsakey'] },
  { name: 'HostCertificate', matchAllowed: false, value: 'path', combine: 'accumulate' },
  { name: 'AllowUsers', matchAllowed: true, value: 'user-patterns', combine: 'accumulate', list: true },
  { name: 'DenyUsers', matchAllowed: true, value: 'user-patterns', combine: 'accumulate', list: true },
  { name: 'AllowGroups', matchAllowed: true, value: 'group-patterns', combine: 'accumulate', list: true },
  { name: 'DenyGroups', matchAllowed: true, value: 'group-patterns', combine: 'accumulate', list: true },
  { name: 'AcceptEnv', matchAllowed: true, value: 'env-names', combine: 'accumulate', list: true },
  { name: 'SetEnv', matchAllowed: true, value: 'env-assignments', combine: 'first-line', list: true, since: '7.8' },
  { name: 'AuthenticationMethods', matchAllowed: true, value: 'auth-methods', combine: 'first-line', list: true },
  { name: 'LogVerbose', matchAllowed: true, value: 'log-verbose', combine: 'first-line', list: true, since: '8.5' },
  {
    name: 'ChannelTimeout',
    matchAllowed: true,
    value: 'channel-timeout',
    combine: 'first-line',
    list: true,
    since: '9.2',
  },
  {
    name: 'Subsystem',
    matchAllowed: false,
    value: 'subsystem',
    combine: 'accumulate',
    changes: [{ since: '9.5', matchAllowed: true }],
  },
  {
    name: 'MaxStartups',
    matchAllowed: false,
    value: 'maxstartups',
    combine: 'last',
    changes: [{ since: '10.1', combine: 'first' }],
  },
  // sshd -T: 9.2 keeps the last line, 10.0p2 the first (the releases between are not checked).
  { name: 'PerSourceMaxStartups', matchAllowed: false, value: 'persource-limit', combine: 'last', since: '8.5', changes: [{ since: '10.0', combine: 'first' }] },
  {
    name: 'PerSourceNetBlockSize',
    matchAllowed: false,
    value: 'netblock-size',
    combine: 'last',
    since: '8.5',
    changes: [{ since: '10.1', combine: 'first' }],
  },
  {
    name: 'PermitTunnel',
    matchAllowed: true,
    value: 'choice',
    combine: 'first',
    choices: ['no', 'point-to-point', 'ethernet', 'yes'],
  },
  { name: 'IPQoS', matchAllowed: true, value: 'ipqos', combine: 'last' },
  { name: 'RekeyLimit', matchAllowed: true, value: 'rekey-limit', combine: 'first' },
  { name: 'PermitOpen', matchAllowed: true, value: 'permit-open', combine: 'first-line', list: true },
  { name: 'PermitListen', matchAllowed: true, value: 'permit-open', combine: 'first-line', list: true, since: '7.8' },
  { name: 'PermitUserEnvironment', matchAllowed: false, value: 'permit-user-environment', combine: 'first' },
  { name: 'PubkeyAuthOptions', matchAllowed: true, value: 'pubkey-auth-options', combine: 'first', since: '8.2' },
  // Printed last by 9.8+, every field filled in (`crash:90 authfail:5 ...`) or `no`; each field's first value wins.
  { name: 'PerSourcePenalties', matchAllowed: false, value: 'persource-penalties', combine: 'first', since: '9.8' },
  // Read but never printed by `sshd -T`.
  flag('KerberosGetAFSToken', false, { printed: false }),
  { name: 'Include', matchAllowed: true, value: 'include', combine: 'accumulate', since: '8.2', printed: false },
  { name: 'Match', matchAllowed: true, value: 'match', combine: 'accumulate', printed: false },
  flag('GSSAPIDelegateCredentials', false, { since: '10.3', printed: false }),
  // Deprecated or unsupported: sshd logs them and goes on.
  ignored('UsePrivilegeSeparation'),
  ignored('Protocol'),
  ignored('RSAAuthentication', true),
  ignored('RhostsRSAAuthentication', true),
  ignored('RhostsAuthentication'),
  ignored('ServerKeyBits'),
  ignored('KeyRegenerationInterval'),
  ignored('UseLogin'),
  ignored('CheckMail'),
  ignored('VerifyReverseMapping'),
  ignored('ReverseMappingCheck'),
  ignored('AuthorizedKeysFile2', true),
  ignored('PAMAuthenticationViaKbdInt'),
  ignored('KerberosTgtPassing'),
  ignored('AFSTokenPassing'),
  ignored('GSSUseSessionCCache', false, { vendor: 'debian' }),
  ignored('GSSAPIUseSessionCredCache', false, { vendor: 'debian' }),
];

/** Aliases that sshd flags differently from their canonical keyword. */
const ALIAS_MATCH_ALLOWED: Readonly<Record<string, boolean>> = { dsaauthentication: false };

/** Every keyword, canonical spellings, in `sshd -T` order. */
export const SSHD_KEYWORDS: readonly SshdKeyword[] = ROWS.map((r) => ({
  ...r,
  dumpName: r.dumpName ?? r.name.toLowerCase(),
  printed: r.printed ?? true,
}));

const BY_NAME = new Map<string, SshdKeyword>();
for (const k of SSHD_KEYWORDS) {
  BY_NAME.set(k.name.toLowerCase(), k);
  for (const a of k.aliases ?? []) BY_NAME.set(a, k);
}

/**
 * Finds a keyword by any spelling sshd accepts (case-insensitive, aliases included), as it
 * behaves in `version` (default 9.2): undefined when that version does not know it.
 */
export function lookupSshdKeyword(name: string, version: string = DEFAULT_OPENSSH_VERSION): SshdKeyword | undefined {
  const lower = name.toLowerCase();
  const found = BY_NAME.get(lower);
  if (!found) return undefined;
  if (found.since !== undefined && compareVersions(version, found.since) < 0) return undefined;
  if (found.until !== undefined && compareVersions(version, found.until) >= 0) return undefined;
  let out: SshdKeyword = found;
  for (const c of found.changes ?? []) {
    if (compareVersions(version, c.since) >= 0) {
      out = {
        ...out,
        ...(c.combine ? { combine: c.combine } : {}),
        ...(c.matchAllowed !== undefined ? { matchAllowed: c.matchAllowed } : {}),
        ...(c.printed !== undefined ? { printed: c.printed } : {}),
      };
    }
  }
  if (lower !== found.name.toLowerCase()) {
    out = { ...out, alias: name, matchAllowed: ALIAS_MATCH_ALLOWED[lower] ?? out.matchAllowed };
  }
  return out;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/**
 * The canonical keyword nearest to `name` ("did you mean"), or undefined when nothing is close
 * enough to be a plausible typo.
 */
export function suggestSshdKeyword(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; d: number } | undefined;
  for (const k of SSHD_KEYWORDS) {
    if (k.ignored) continue;
    const d = editDistance(lower, k.name.toLowerCase());
    if (!best || d < best.d) best = { name: k.name, d };
  }
  if (!best) return undefined;
  const limit = Math.max(2, Math.floor(lower.length / 3));
  return best.d <= limit ? best.name : undefined;
}

/** Options for value validation. */
export interface ValidateSshdValueOptions {
  version?: string;
  /** Algorithm names the host's OpenSSH knows (`ssh -Q kex` ...); the 9.2 lists when absent. */
  knownAlgorithms?: Partial<Record<SshdAlgorithmFamily, readonly string[]>>;
}

/**
 * Checks a value as it would be written after the keyword in sshd_config (all of the line after
 * the keyword). Returns undefined when sshd would accept it.
 */
export function validateSshdValue(
  keyword: SshdKeyword,
  value: string,
  options: ValidateSshdValueOptions = {},
): SshdValueProblem | undefined {
  const parsed = parseSshdValue(keyword, value, options);
  return 'problem' in parsed ? parsed.problem : undefined;
}
