/**
 * Generated hosts.allow / hosts.deny pairs for the tcpdmatch oracle: address patterns of every
 * kind libwrap reads (exact, `prefix.`, `net/len`, `net/mask`, `[v6]`, `[v6]/len`, wildcards),
 * keywords, name patterns that an address-only client (name `unknown`) meets, `user@host` and
 * `daemon@host` items, `EXCEPT` nesting in both lists, options, continuation lines, comments,
 * lines libwrap skips, CRLF endings and a missing final newline.
 */
import fc from 'fast-check';
import type { TcpdCase, TcpdQuery } from './oracle.js';

export const CLIENT_ADDRESSES = ['10.0.0.1', '10.0.0.2', '10.1.2.3', '192.0.2.7', '192.0.2.200', '203.0.113.5', '127.0.0.1', '2001:db8::1', '2001:db8::7', '2001:db8:1::5', '::1', 'fe80::1'];

export const CLIENT_PATTERNS = [
  ...CLIENT_ADDRESSES.filter((a) => !a.includes(':')),
  '[2001:db8::1]', '[2001:db8::7]', '[2001:DB8:0::1]', '[::1]', '[2001:db8::]/32', '[2001:db8:1::]/48', '[2001:db8::]/64', '[::]/0',
  '[2001:db8::1]/128', '[fe80::]/10', '[2001:db8::5]/126', '[2001:db8::]/abc', '[2001:db8::]/129',
  '10.', '10.0.', '10.0.0.', '192.0.2.', '203.0.113.', '19.', '127.',
  '10.0.0.0/8', '10.0.0.0/16', '10.1.0.0/16', '10.1.2.0/24', '192.0.2.0/25', '192.0.2.128/25', '0.0.0.0/0', '0.0.0.0/1', '10.1.0.0/8',
  '192.0.2.7/32', '10.0.0.0/255.0.0.0', '192.0.2.0/255.255.255.0', '10.1.2.3/255.255.255.255', '0.0.0.0/0.0.0.0', '010.0.0.0/8',
  '10.0.0.0/8x', '10.0.0.0/33', '0x0a.0.0.0/8', '10.0.0.0/8.0', '10.0.0.1/24', '192.0.2.7/31', '10.0.0.0/-8',
  '10.0.0.*', '192.0.2.?', '*', '10.*.3', '2001*', '*.7', '1?.0.0.1',
  'ALL', 'all', 'KNOWN', 'UNKNOWN', 'unknown', 'LOCAL', 'PARANOID', 'Known',
  '.example.com', '.1', '.0.1', '.3', 'host.example.com', 'localhost', '.',
  'ALL@10.0.0.1', 'root@ALL', 'unknown@192.0.2.7', 'KNOWN@ALL', 'ALL@[2001:db8::1]',
  '2001:db8::1',
];

const DAEMON_PATTERNS = ['sshd', 'sshd', 'ALL', 'SSHD', 'ssh*', 'telnetd', 'in.telnetd', 'sshd@ALL', 'sshd@unknown', 'sshd@10.0.0.1', '.d', 'sshd@KNOWN', '?shd'];

const OPTIONS = [
  '', '', '', '', ' DENY', ' ALLOW', ' deny', ' allow', ' spawn /bin/true', ' severity auth.info', ' severity auth.info : DENY',
  ' spawn /bin/true : allow', ' bogus', ' allow : deny', ' ', ' twist /bin/echo hi', ' deny x', ' keepalive', ' severity nope.info',
  'deny', ' spawn echo \\: deny', ' Allow',
];

/** Named clients of the names oracle: the private /etc/hosts, and what tcpdmatch gives the evaluator. */
export const NAMED_HOSTS = '127.0.0.1 localhost\n192.0.2.7 ws.example.com\n10.0.0.1 localbox\n10.1.2.3 db.internal.example.org\n2001:db8::7 v6host.example.com\n203.0.113.5 Mixed.Example.NET\n';

export const NAMED_CLIENTS: readonly { client: string; address: string; name: string }[] = [
  { client: 'ws.example.com', address: '192.0.2.7', name: 'ws.example.com' },
  { client: 'localbox', address: '10.0.0.1', name: 'localbox' },
  { client: 'db.internal.example.org', address: '10.1.2.3', name: 'db.internal.example.org' },
  { client: 'v6host.example.com', address: '2001:db8::7', name: 'v6host.example.com' },
  { client: 'Mixed.Example.NET', address: '203.0.113.5', name: 'Mixed.Example.NET' },
  { client: 'paranoid', address: 'unknown', name: 'paranoid' },
  { client: 'unknown', address: 'unknown', name: 'unknown' },
];

export const NAME_PATTERNS = [
  'KNOWN', 'LOCAL', 'UNKNOWN', 'PARANOID', 'paranoid', 'ALL', 'local', '.example.com', '.example.org', '.internal.example.org', '.EXAMPLE.net',
  'ws.example.com', 'WS.EXAMPLE.COM', 'localbox', 'localbox.', 'ws.', 'db.', '*.example.com', 'ws.*', 'db.internal.*', '*box', '?s.example.com',
  '.com', '.', 'unknown', 'mixed.', 'MIXED.EXAMPLE.', 'Ws.', '*.net', 'LOCALBOX', '192.0.2.7', '10.', '10.0.0.0/8', '[2001:db8::]/32', 'ALL@ws.example.com', 'KNOWN@KNOWN',
];

const SEPARATORS = [' ', ' ', ', ', ',', '\t', ' ,'];

/** A list with optional `EXCEPT` nesting to the right. */
function list(items: readonly string[]): fc.Arbitrary<string[]> {
  const part = fc.array(fc.constantFrom(...items), { minLength: 1, maxLength: 3 });
  return fc.tuple(part, fc.option(part, { freq: 2 }), fc.option(part, { freq: 3 }), fc.boolean()).map(([a, b, c, lower]) => {
    const except = lower ? 'except' : 'EXCEPT';
    const out = [...a];
    if (b) {
      out.push(except, ...b);
      if (c) out.push('EXCEPT', ...c);
    }
    return out;
  });
}

function joinList(items: readonly string[], seps: readonly string[], cont: number): string {
  let out = items[0]!;
  for (let i = 1; i < items.length; i++) out += (i === cont ? ' \\\n  ' : seps[i % seps.length]!) + items[i]!;
  return out;
}

const rule = (clientPatterns: readonly string[]): fc.Arbitrary<string> => fc
  .tuple(
    list(DAEMON_PATTERNS),
    list(clientPatterns),
    fc.constantFrom(...OPTIONS),
    fc.array(fc.constantFrom(...SEPARATORS), { minLength: 1, maxLength: 3 }),
    fc.integer({ min: -2, max: 4 }),
    fc.constantFrom(':', ' : ', ': ', ' :'),
  )
  .map(([daemons, clients, options, seps, cont, colon]) => {
    const d = joinList(daemons, seps, -1);
    const c = joinList(clients, seps, cont);
    const head = cont === 0 ? `${d}${colon}\\\n${c}` : `${d}${colon}${c}`;
    return options === '' ? head : `${head}:${options}`;
  });

const entry = (clientPatterns: readonly string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: 10, arbitrary: rule(clientPatterns) },
  { weight: 1, arbitrary: fc.constantFrom('# sshd: ALL', '', '   ', '  # ALL: ALL', 'sshd 10.0.0.1', '#sshd: 10.0.0.1 \\', 'ALL: ALL # note') },
);

const table = (clientPatterns: readonly string[]): fc.Arbitrary<string> => fc
  .tuple(fc.array(entry(clientPatterns), { maxLength: 6 }), fc.constantFrom('\n', '\n', '\n', '\r\n'), fc.boolean(), fc.nat(9))
  .map(([entries, eol, trailing, r]) => {
    if (entries.length === 0) return r === 0 ? '\n' : '';
    const body = entries.map((e) => e.replace(/\n/g, eol)).join(eol);
    return trailing || r > 1 ? body + eol : body;
  });

export interface GeneratedCase extends TcpdCase {}

export const tcpdCase: fc.Arbitrary<GeneratedCase> = fc
  .tuple(table(CLIENT_PATTERNS), table(CLIENT_PATTERNS), fc.shuffledSubarray(CLIENT_ADDRESSES, { minLength: 4, maxLength: 4 }), fc.constantFrom(...CLIENT_ADDRESSES))
  .map(([allow, deny, clients, other]) => {
    const queries: TcpdQuery[] = [...clients.map((client) => ({ daemon: 'sshd', client })), { daemon: 'telnetd', client: other }];
    return { allow, deny, queries };
  });

/** Rule sets over name patterns, asked about the named clients. */
export const tcpdNamedCase: fc.Arbitrary<GeneratedCase> = fc
  .tuple(table(NAME_PATTERNS), table(NAME_PATTERNS), fc.shuffledSubarray([...NAMED_CLIENTS], { minLength: 4, maxLength: 4 }))
  .map(([allow, deny, clients]) => ({ allow, deny, queries: clients.map((c) => ({ daemon: 'sshd', client: c.client })) }));
