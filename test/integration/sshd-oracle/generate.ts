/**
 * fast-check generators of sshd config trees: random keywords and values (mostly valid, a few
 * broken on purpose), repeats, drop-ins, Match blocks, Include inside Match, keyword case and
 * `=` separators. The `10.0` profile adds what 9.2 does not know: the 9.8-10.0 keywords and the
 * `Invalid-User` and `Version` criteria.
 */
import fc from 'fast-check';

const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

/** Value generators per keyword (canonical spelling). */
const VALUES: Record<string, fc.Arbitrary<string>> = {
  ClientAliveInterval: pick('0', '60', '1m', '1m30s', '2h', '90S', '15'),
  ClientAliveCountMax: pick('0', '3', '10', '007'),
  TCPKeepAlive: pick('yes', 'no', 'YES', 'No'),
  PasswordAuthentication: pick('yes', 'no'),
  KbdInteractiveAuthentication: pick('yes', 'no'),
  PubkeyAuthentication: pick('yes', 'no'),
  PermitRootLogin: pick('yes', 'no', 'prohibit-password', 'without-password', 'forced-commands-only'),
  LoginGraceTime: pick('30', '2m', '1h'),
  UseDNS: pick('yes', 'no'),
  MaxAuthTries: pick('3', '6', '10'),
  MaxSessions: pick('1', '10'),
  X11Forwarding: pick('yes', 'no'),
  AllowTcpForwarding: pick('yes', 'no', 'all', 'local', 'remote'),
  AllowAgentForwarding: pick('yes', 'no'),
  Compression: pick('yes', 'no', 'delayed'),
  GatewayPorts: pick('yes', 'no', 'clientspecified'),
  PermitTunnel: pick('yes', 'no', 'point-to-point', 'ethernet'),
  PermitTTY: pick('yes', 'no'),
  LogLevel: pick('INFO', 'verbose', 'DEBUG2', 'debug', 'ERROR'),
  SyslogFacility: pick('AUTH', 'authpriv', 'LOCAL0'),
  MaxStartups: pick('10:30:100', '100:30:500', '5', '20:50:20', '1:100:2'),
  PerSourceMaxStartups: pick('none', '3', '10'),
  PerSourceNetBlockSize: pick('24:64', '32:128', '16:48'),
  IPQoS: pick('lowdelay throughput', 'af21 cs1', 'ef', 'none', '0x10'),
  RekeyLimit: pick('1G 1h', 'default none', '512M', '64K 30m'),
  StreamLocalBindMask: pick('0177', '077', '0'),
  FingerprintHash: pick('md5', 'sha256', 'SHA256'),
  Port: pick('22', '2222', '2200'),
  ListenAddress: pick('127.0.0.1', '127.0.0.2:2200', '0.0.0.0'),
  AddressFamily: pick('any', 'inet'),
  AllowUsers: pick('alice', 'root bob', 'deploy@192.0.2.0/24', 'carol dave'),
  DenyUsers: pick('guest', 'nobody mallory'),
  AllowGroups: pick('root', 'sshusers admins'),
  DenyGroups: pick('nogroup'),
  AcceptEnv: pick('LANG LC_*', 'TZ', 'COLORTERM NO_COLOR'),
  SetEnv: pick('FOO=bar', 'A=1 B=2', 'FOO=baz A=3'),
  AuthorizedKeysFile: pick('.ssh/authorized_keys', '.ssh/authorized_keys /etc/ssh/keys/%u', 'none'),
  AuthenticationMethods: pick('any', 'publickey', 'publickey,password publickey,keyboard-interactive'),
  PermitOpen: pick('any', 'none', 'localhost:80 127.0.0.1:443'),
  PermitListen: pick('any', '8080', 'localhost:9000'),
  ChannelTimeout: pick('session=5m', 'agent-connection=1h global=2h', 'none'),
  KexAlgorithms: pick('+diffie-hellman-group14-sha1', '-sntrup761x25519-sha512@openssh.com', '^curve25519-sha256', 'curve25519-sha256,diffie-hellman-group16-sha512'),
  Ciphers: pick('+aes128-cbc', '-*cbc', 'aes256-gcm@openssh.com,aes128-ctr', '^aes256-ctr'),
  MACs: pick('+hmac-sha1-96', 'hmac-sha2-256,hmac-sha2-512', '-hmac-sha1*'),
  HostKeyAlgorithms: pick('+ssh-rsa', '^ssh-ed25519', 'ssh-ed25519,rsa-sha2-512'),
  PubkeyAcceptedAlgorithms: pick('+ssh-rsa', 'ssh-ed25519*,rsa-sha2-*', '-ssh-rsa*'),
  CASignatureAlgorithms: pick('+ssh-rsa', '-rsa-sha2-256'),
  Banner: pick('none', '/etc/issue.net'),
  ChrootDirectory: pick('none', '/srv/chroot/%u'),
  ForceCommand: pick('internal-sftp', '/usr/bin/logger -t "x y"', 'none'),
  VersionAddendum: pick('none', 'sshfix lab'),
  PermitUserEnvironment: pick('yes', 'no', 'LANG,LC_*'),
  PubkeyAuthOptions: pick('none', 'touch-required', 'verify-required touch-required'),
  UnusedConnectionTimeout: pick('none', '0', '10m'),
  RequiredRSASize: pick('1024', '2048'),
  Subsystem: pick('sftp /usr/lib/openssh/sftp-server', 'sftp internal-sftp', 'backup /usr/bin/backup -v'),
};

/** What 9.8 to 10.0 added, for the `10.0` profile. */
const VALUES_10: Record<string, fc.Arbitrary<string>> = {
  PerSourcePenalties: pick('no', 'yes', 'crash:30 authfail:10', 'max:1h min:30s', 'overflow:deny-all', 'noauth:5 overflow6:deny-all', 'refuseconnection:20', 'authfail:5m max-sources4:100', 'crash:5 no'),
  PerSourcePenaltyExemptList: pick('127.0.0.9', '192.0.2.0/24,10.0.0.0/8', '198.51.100.*', '2001:db8::/32'),
  RefuseConnection: pick('no', 'yes'),
  PAMServiceName: pick('sshd', 'sshfix'),
};

/** Keywords sshd refuses inside Match (so the generator can put some there on purpose). */
export const GLOBAL_ONLY = new Set([
  'TCPKeepAlive', 'LoginGraceTime', 'UseDNS', 'Compression', 'SyslogFacility', 'MaxStartups', 'PerSourceMaxStartups',
  'PerSourceNetBlockSize', 'FingerprintHash', 'Port', 'ListenAddress', 'AddressFamily', 'KexAlgorithms', 'Ciphers',
  'MACs', 'HostKeyAlgorithms', 'VersionAddendum', 'PermitUserEnvironment', 'Subsystem', 'PerSourcePenalties', 'PerSourcePenaltyExemptList',
]);

/** Which OpenSSH the trees are for: 9.2 (Debian 12) or 10.0 (the lab's build). */
export type GeneratorProfile = '9.2' | '10.0';

const CRITERIA_9 = [
  'User alice',
  'User root',
  'Group root',
  'User=deploy',
  'Address 192.0.2.0/24',
  'Address 10.0.0.0/8,!10.9.0.0/16',
  'Host *.example.com',
  'User deploy Address 10.0.0.0/8',
  'all',
  'LocalPort 2222',
  'LocalAddress 198.51.100.1',
  'User a*,!admin',
];
const CRITERIA_10 = [...CRITERIA_9, 'invalid-user', 'Invalid-User User root', 'Version OpenSSH_10*', 'Version OpenSSH_9*', 'version=OpenSSH_10.0p2', 'user=root Address=192.0.2.0/24'];

/** What one profile draws from. */
interface Vocabulary {
  values: Record<string, fc.Arbitrary<string>>;
  keywords: string[];
  matchable: string[];
  criteria: fc.Arbitrary<string>;
}

function vocabulary(profile: GeneratorProfile): Vocabulary {
  const values = profile === '9.2' ? VALUES : { ...VALUES, ...VALUES_10 };
  const keywords = Object.keys(values);
  return { values, keywords, matchable: keywords.filter((k) => !GLOBAL_ONLY.has(k)), criteria: pick(...(profile === '9.2' ? CRITERIA_9 : CRITERIA_10)) };
}

const spelling = (k: string): fc.Arbitrary<string> => pick(k, k.toLowerCase(), k.toUpperCase());
const separator = pick(' ', ' ', '\t', '=', ' = ', '  ');

/** A directive line: keyword (any case), separator, value; sometimes a trailing comment. */
const directive = (v: Vocabulary, keywords: readonly string[], broken: boolean): fc.Arbitrary<string> =>
  fc
    .record({
      k: fc.constantFrom(...keywords),
      sep: separator,
      comment: fc.boolean().map((b) => (b ? ' # note' : '')),
      indent: pick('', '', '\t', '  '),
      typo: broken ? fc.integer({ min: 0, max: 40 }) : fc.constant(99),
    })
    .chain(({ k, sep, comment, indent, typo }) =>
      fc.tuple(spelling(k), v.values[k]!).map(([name, value]) => {
        if (typo === 0) return `${indent}${name}x${sep}${value}`; // unknown keyword
        if (typo === 1 && k === 'ClientAliveInterval') return `${indent}${name}${sep}5q`; // bad time
        if (typo === 2) return `${indent}MaxStartups 50:30:10`; // start > full
        // ForceCommand and VersionAddendum take the rest of the line, comment included: keep them plain.
        const tail = k === 'ForceCommand' || k === 'VersionAddendum' ? '' : comment;
        return `${indent}${name}${sep}${value}${tail}`;
      }),
    );

const lines = (v: Vocabulary, keywords: readonly string[], broken: boolean, max: number): fc.Arbitrary<string[]> =>
  fc.array(fc.oneof({ weight: 8, arbitrary: directive(v, keywords, broken) }, { weight: 1, arbitrary: pick('', '# comment', '#Match User x') }), { maxLength: max });

/** A Match block; its body mostly uses keywords allowed in Match, sometimes a global-only one. */
const matchBlock = (v: Vocabulary, broken: boolean, includeTarget: string | undefined): fc.Arbitrary<string[]> =>
  fc
    .record({
      criteria: v.criteria,
      kw: pick('Match', 'match', 'MATCH'),
      body: lines(v, broken ? v.keywords : v.matchable, broken, 4),
      include: includeTarget ? fc.boolean() : fc.constant(false),
    })
    .map(({ criteria, kw, body, include }) => [`${kw} ${criteria}`, ...body.map((l) => (l.startsWith('\t') || l === '' ? l : `\t${l}`)), ...(include ? [`\tInclude ${includeTarget}`] : [])]);

const fileText = (parts: string[][], crlf: boolean, finalNewline: boolean): string => {
  const eol = crlf ? '\r\n' : '\n';
  const text = parts.flat().join(eol);
  return finalNewline ? `${text}${eol}` : text;
};

export interface GeneratedTree {
  files: Map<string, string>;
  listedDirs: Set<string>;
}

/** A whole tree: main file with an Include of drop-ins somewhere, drop-ins, Match blocks. */
export const sshdTree = (brokenRate = 0.1, profile: GeneratorProfile = '9.2'): fc.Arbitrary<GeneratedTree> => {
  const v = vocabulary(profile);
  return fc
    .record({
      broken: fc.integer({ min: 0, max: 99 }).map((x) => x < brokenRate * 100),
      includePos: fc.integer({ min: 0, max: 2 }),
      includeForm: pick('Include /etc/ssh/sshd_config.d/*.conf', 'Include sshd_config.d/*.conf', 'include = sshd_config.d/*.conf /etc/ssh/none/*.conf'),
      dropinNames: fc.uniqueArray(pick('00-first.conf', '10-a.conf', '50-cloud-init.conf', '99-z.conf', 'ignored.conf.bak'), { maxLength: 3 }),
      crlf: fc.boolean(),
      finalNewline: fc.boolean(),
    })
    .chain(({ broken, includePos, includeForm, dropinNames, crlf, finalNewline }) =>
      fc
        .record({
          head: lines(v, v.keywords, broken, 5),
          mid: lines(v, v.keywords, broken, 5),
          blocks: fc.array(matchBlock(v, broken, 'extra/*.conf'), { maxLength: 3 }),
          dropins: fc.array(fc.tuple(lines(v, v.keywords, broken, 4), fc.array(matchBlock(v, broken, undefined), { maxLength: 1 })), {
            minLength: dropinNames.length,
            maxLength: dropinNames.length,
          }),
          extra: lines(v, v.matchable, broken, 3),
        })
        .map(({ head, mid, blocks, dropins, extra }) => {
          const main: string[][] = [];
          if (includePos === 0) main.push([includeForm]);
          main.push(head);
          if (includePos === 1) main.push([includeForm]);
          main.push(mid);
          if (includePos === 2) main.push([includeForm]);
          main.push(...blocks);
          const files = new Map<string, string>();
          files.set('/etc/ssh/sshd_config', fileText(main, crlf, finalNewline));
          dropinNames.forEach((name, i) => {
            const [body, dblocks] = dropins[i]!;
            files.set(`/etc/ssh/sshd_config.d/${name}`, fileText([body, ...dblocks], false, true));
          });
          files.set('/etc/ssh/extra/10-extra.conf', fileText([extra], false, true));
          return { files, listedDirs: new Set(['/etc/ssh', '/etc/ssh/sshd_config.d', '/etc/ssh/extra', '/etc', '/']) };
        }),
    );
};

/** The connections each generated tree is asked about (besides plain `sshd -T`). */
export const GENERATED_CONNECTIONS = [
  { user: 'root', groups: ['root'], host: 'client.example.com', addr: '192.0.2.10', laddr: '198.51.100.1', lport: 22 },
  { user: 'deploy', groups: [], host: 'build.example.com', addr: '10.1.2.3', laddr: '198.51.100.2', lport: 2222 },
  { user: 'alice', groups: [], host: 'Laptop.Example.COM', addr: '10.9.1.1', laddr: '198.51.100.1', lport: 22 },
] as const;

/** 10.0 also tests a user that does not exist (`-C ...,invalid-user`), which 9.2 refuses. */
export const GENERATED_CONNECTIONS_10 = [
  ...GENERATED_CONNECTIONS,
  { user: 'ghost', groups: [], host: 'client.example.com', addr: '192.0.2.10', laddr: '198.51.100.1', lport: 22, invalidUser: true },
] as const;
