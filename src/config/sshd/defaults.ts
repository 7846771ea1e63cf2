/**
 * What sshd uses when the config says nothing, and the algorithm names it knows.
 *
 * The built-in table is OpenSSH 9.2p1 as Debian 12 builds it (PAM, Kerberos/GSSAPI with the key
 * exchange patch, no routing domains), checked by a test against `sshd -T` of an empty config.
 * Other builds differ (RHEL's crypto policies, Alpine without PAM or GSSAPI): a caller that has
 * the host's own `sshd -T` of an empty config, and `ssh -Q` lists, builds its defaults with
 * `sshdDefaultsFromDump` and passes them to `evaluateSshdConfig` / `effectiveValue`.
 */
import type { SshdAlgorithmFamily } from './keyword-types.js';
import { compareVersions } from './version-compare.js';

/** Algorithm lists for one family: what `+`/`-`/`^` apply to, and every name the build knows. */
export interface AlgorithmLists {
  /** The default list, in preference order (what `sshd -T` prints when nothing is configured). */
  default: readonly string[];
  /** Every name the build supports, in OpenSSH's internal order (what patterns expand against). */
  all: readonly string[];
}

/**
 * Defaults for one sshd build.
 * - `values`: dump name -> the value part of each line `sshd -T` prints for an empty config
 *   (keywords that an empty config does not print, such as `allowusers`, are absent).
 * - `algorithms`: per family, used to expand `+x`, `-x`, `^x` and wildcard lists exactly as sshd does.
 * - `hostKeys`: the keys sshd falls back to when no HostKey line is given.
 */
export interface SshdDefaults {
  version: string;
  /** The build's release string (`sshd -V` before the comma, e.g. `OpenSSH_10.0p2`), for `Match Version`. */
  release?: string;
  values: ReadonlyMap<string, readonly string[]>;
  algorithms: Readonly<Record<SshdAlgorithmFamily, AlgorithmLists>>;
  hostKeys: readonly string[];
}

const list = (s: string): string[] => s.split(',');

const CIPHERS_ALL = list(
  '3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com',
);
const MACS_ALL = list(
  'hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com',
);
const KEX_ALL = list(
  'diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com',
);
/** `ssh -Q key-sig`: plain and certificate key types plus signature-only names. */
const KEY_SIG_ALL = list(
  'ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-dss-cert-v01@openssh.com,ssh-rsa,ssh-rsa-cert-v01@openssh.com,rsa-sha2-256,rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-512,rsa-sha2-512-cert-v01@openssh.com',
);
/** `ssh -Q sig`: what CASignatureAlgorithms may name. */
const SIG_ALL = list(
  'ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512',
);
const GSS_KEX_DEFAULT = list(
  'gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-',
);

const CIPHERS_DEFAULT = list(
  'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com',
);
const MACS_DEFAULT = list(
  'umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1',
);
const KEX_DEFAULT = list(
  'sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256',
);
const KEY_DEFAULT = list(
  'ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256',
);
const SIG_DEFAULT = list(
  'ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256',
);

/**
 * `sshd -T` of an empty config on Debian 12 (OpenSSH 9.2p1), minus `hostkey` (which depends on
 * the keys present) and `listenaddress` (derived from Port and AddressFamily).
 */
const DEBIAN_12_DUMP = `port 22
addressfamily any
usepam no
logingracetime 120
x11displayoffset 10
maxauthtries 6
maxsessions 10
clientaliveinterval 0
clientalivecountmax 3
requiredrsasize 1024
streamlocalbindmask 0177
unusedconnectiontimeout none
permitrootlogin without-password
ignorerhosts yes
ignoreuserknownhosts no
hostbasedauthentication no
hostbasedusesnamefrompacketonly no
pubkeyauthentication yes
kerberosauthentication no
kerberosorlocalpasswd yes
kerberosticketcleanup yes
gssapiauthentication no
gssapicleanupcredentials yes
gssapikeyexchange no
gssapistrictacceptorcheck yes
gssapistorecredentialsonrekey no
gssapikexalgorithms ${GSS_KEX_DEFAULT.join(',')}
passwordauthentication yes
kbdinteractiveauthentication yes
printmotd yes
printlastlog yes
x11forwarding no
x11uselocalhost yes
permittty yes
permituserrc yes
strictmodes yes
tcpkeepalive yes
permitemptypasswords no
compression yes
gatewayports no
usedns no
allowtcpforwarding yes
allowagentforwarding yes
disableforwarding no
allowstreamlocalforwarding yes
streamlocalbindunlink no
fingerprinthash SHA256
exposeauthinfo no
pidfile /run/sshd.pid
modulifile /etc/ssh/moduli
xauthlocation /usr/bin/xauth
ciphers ${CIPHERS_DEFAULT.join(',')}
macs ${MACS_DEFAULT.join(',')}
banner none
forcecommand none
chrootdirectory none
trustedusercakeys none
revokedkeys none
securitykeyprovider internal
authorizedprincipalsfile none
versionaddendum none
authorizedkeyscommand none
authorizedkeyscommanduser none
authorizedprincipalscommand none
authorizedprincipalscommanduser none
hostkeyagent none
kexalgorithms ${KEX_DEFAULT.join(',')}
casignaturealgorithms ${SIG_DEFAULT.join(',')}
hostbasedacceptedalgorithms ${KEY_DEFAULT.join(',')}
hostkeyalgorithms ${KEY_DEFAULT.join(',')}
pubkeyacceptedalgorithms ${KEY_DEFAULT.join(',')}
loglevel INFO
syslogfacility AUTH
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
authenticationmethods any
maxstartups 10:30:100
persourcemaxstartups none
persourcenetblocksize 32:128
permittunnel no
ipqos lowdelay throughput
rekeylimit 0 0
permitopen any
permitlisten any
permituserenvironment no
pubkeyauthoptions none
`;

/**
 * Reads `sshd -T` output into dump name -> values (one entry per printed line, in order).
 * Lines that are not `keyword value` are skipped.
 */
export function parseSshdDump(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^([a-z0-9]+)(?: (.*))?$/.exec(line);
    if (!m) continue;
    const key = m[1]!;
    const values = out.get(key) ?? [];
    values.push(m[2] ?? '');
    out.set(key, values);
  }
  return out;
}

/** OpenSSH 9.2p1 as built by Debian 12 (bookworm). */
export const DEBIAN_12_DEFAULTS: SshdDefaults = {
  version: '9.2',
  values: parseSshdDump(DEBIAN_12_DUMP),
  algorithms: {
    cipher: { default: CIPHERS_DEFAULT, all: CIPHERS_ALL },
    mac: { default: MACS_DEFAULT, all: MACS_ALL },
    kex: { default: KEX_DEFAULT, all: KEX_ALL },
    hostkey: { default: KEY_DEFAULT, all: KEY_SIG_ALL },
    pubkey: { default: KEY_DEFAULT, all: KEY_SIG_ALL },
    sig: { default: SIG_DEFAULT, all: SIG_ALL },
    'gss-kex': { default: GSS_KEX_DEFAULT, all: GSS_KEX_DEFAULT },
  },
  hostKeys: ['/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_ecdsa_key', '/etc/ssh/ssh_host_ed25519_key'],
};

/** Which dump name holds the default list of each algorithm family. */
const FAMILY_DUMP: Readonly<Record<SshdAlgorithmFamily, string>> = {
  cipher: 'ciphers',
  mac: 'macs',
  kex: 'kexalgorithms',
  hostkey: 'hostkeyalgorithms',
  pubkey: 'pubkeyacceptedalgorithms',
  sig: 'casignaturealgorithms',
  'gss-kex': 'gssapikexalgorithms',
};

/** Input for `sshdDefaultsFromDump`: what a fact gatherer can read from the host. */
export interface HostSshdFacts {
  /** `sshd -T` output for an empty config (e.g. `sshd -T -f /dev/null -h <a host key>`). */
  emptyConfigDump: string;
  /** `ssh -Q cipher|mac|kex|key-sig|sig` output per family (one name a line or comma lists). */
  supported?: Partial<Record<SshdAlgorithmFamily, string | readonly string[]>>;
  version?: string;
  /** The build's release string, as `parseOpensshRelease` reads it from `sshd -V`. */
  release?: string;
}

/**
 * Builds defaults from the host's own output, falling back to `base` (Debian 12) for whatever
 * the host did not tell. The dump's `hostkey` and `listenaddress` lines are ignored: they
 * describe the command line used, not the defaults.
 */
export function sshdDefaultsFromDump(facts: HostSshdFacts, base: SshdDefaults = DEBIAN_12_DEFAULTS): SshdDefaults {
  const dump = parseSshdDump(facts.emptyConfigDump);
  const values = new Map(base.values);
  for (const [k, v] of dump) {
    if (k === 'hostkey' || k === 'listenaddress') continue;
    values.set(k, v);
  }
  const algorithms = { ...base.algorithms };
  for (const family of Object.keys(FAMILY_DUMP) as SshdAlgorithmFamily[]) {
    const printed = dump.get(FAMILY_DUMP[family])?.[0];
    const raw = facts.supported?.[family];
    const all = raw === undefined ? undefined : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : raw;
    algorithms[family] = {
      default: printed !== undefined ? printed.split(',') : base.algorithms[family].default,
      all: all ?? base.algorithms[family].all,
    };
  }
  const release = facts.release ?? (facts.version === undefined ? base.release : undefined);
  return { version: facts.version ?? base.version, ...(release !== undefined ? { release } : {}), values, algorithms, hostKeys: base.hostKeys };
}

/**
 * Whether the build ignores the IPv4 ToS names of IPQoS (lowdelay, throughput, reliability read
 * as none): upstream from 10.1 (commit "Deprecate support for IPv4 type-of-service (TOS) IPQoS
 * keywords"), which came with the new default `ef cs1` for interactive sessions. Debian 13
 * backported both to its 10.0p1 package, so a build whose empty-config dump prints `ipqos ef cs1`
 * is taken to have both (checked against the lab's 10.0p1 build: `IPQoS lowdelay` prints none).
 */
export function legacyTosIgnored(defaults: SshdDefaults, version: string): boolean {
  return compareVersions(version, '10.1') >= 0 || defaults.values.get('ipqos')?.[0] === 'ef cs1';
}
