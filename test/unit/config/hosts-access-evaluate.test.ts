import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDecision, evaluateHostsAccess, type AccessRequest } from '../../../src/config/hosts-access/evaluate.js';
import { PARANOID_HOST } from '../../../src/config/hosts-access/match.js';
import { evaluateOptions } from '../../../src/config/hosts-access/options.js';
import { parseHostsAccess } from '../../../src/config/hosts-access/parse.js';

function decide(allow: string, deny: string, request: Partial<AccessRequest> & { clientAddress: string }, patternFiles?: Map<string, string>) {
  return evaluateHostsAccess(
    { allow: parseHostsAccess(allow, '/etc/hosts.allow'), deny: parseHostsAccess(deny, '/etc/hosts.deny'), ...(patternFiles ? { patternFiles } : {}) },
    { daemon: 'sshd', ...request },
  );
}

const access = (allow: string, deny: string, clientAddress: string, extra: Partial<AccessRequest> = {}): string => decide(allow, deny, { clientAddress, ...extra }).access;

describe('evaluateHostsAccess', () => {
  it('reads hosts.allow first, then hosts.deny; first match wins; no match grants', () => {
    const d = decide('# mgmt\nsshd: 192.0.2.10\n', 'ALL: ALL\n', { clientAddress: '192.0.2.10' });
    assert.equal(d.access, 'granted');
    assert.equal(d.decidedBy!.path, '/etc/hosts.allow');
    assert.equal(d.decidedBy!.line, 2);
    const refused = decide('sshd: 192.0.2.10\n', '# all\n\nALL: ALL\n', { clientAddress: '192.0.2.11' });
    assert.equal(refused.access, 'denied');
    assert.equal(refused.decidedBy!.table, 'deny');
    assert.equal(refused.decidedBy!.line, 3);
    assert.equal(describeDecision(refused), 'denied by /etc/hosts.deny:3: ALL: ALL');
    const none = decide('', '', { clientAddress: '192.0.2.11' });
    assert.equal(none.access, 'granted');
    assert.equal(none.decidedBy, undefined);
  });

  it('reports the whole line range of a continued rule', () => {
    const d = decide('', 'sshd: 10.0.0.1 \\\n  192.0.2.7\n', { clientAddress: '192.0.2.7' });
    assert.equal(describeDecision(d), 'denied by /etc/hosts.deny:1-2: sshd: 10.0.0.1   192.0.2.7');
  });

  it('honours options: DENY in hosts.allow refuses, ALLOW in hosts.deny grants, twist delegates, errors refuse', () => {
    assert.equal(access('sshd: 10.0.0.1 : DENY\n', '', '10.0.0.1'), 'denied');
    assert.equal(access('', 'sshd: 10.0.0.1 : allow\n', '10.0.0.1'), 'granted');
    assert.equal(access('sshd: 10.0.0.1 : twist /bin/echo no\n', '', '10.0.0.1'), 'delegated');
    assert.equal(access('sshd: 10.0.0.1 : bogus\n', '', '10.0.0.1'), 'denied');
    assert.equal(access('sshd: 10.0.0.1 : allow : spawn x\n', '', '10.0.0.1'), 'denied');
    assert.equal(access('sshd: 10.0.0.1 :\n', '', '10.0.0.1'), 'denied');
    assert.equal(access('sshd: 10.0.0.1 : spawn echo \\: deny\n', 'ALL: ALL\n', '10.0.0.1'), 'granted');
    const d = decide('sshd: 10.0.0.1 : severity auth.info : DENY\n', '', { clientAddress: '10.0.0.1' });
    assert.equal(d.decidedBy!.via, 'option-deny');
    assert.deepEqual(evaluateOptions(' severity nope.info'), { kind: 'error', message: 'bad syslog facility or severity: "nope.info"' });
  });

  it('nests EXCEPT to the right, in client and daemon lists, case-insensitively', () => {
    const allow = 'sshd: 10.0.0.0/8 EXCEPT 10.1.0.0/16 except 10.1.2.3\n';
    assert.equal(access(allow, 'ALL: ALL\n', '10.9.9.9'), 'granted');
    assert.equal(access(allow, 'ALL: ALL\n', '10.1.9.9'), 'denied');
    assert.equal(access(allow, 'ALL: ALL\n', '10.1.2.3'), 'granted');
    assert.equal(access('sshd, ALL EXCEPT sshd: 10.0.0.1\n', 'ALL: ALL\n', '10.0.0.1'), 'denied');
    assert.equal(access('sshd: EXCEPT 10.0.0.1\n', 'ALL: ALL\n', '10.0.0.1'), 'denied');
    assert.equal(access('SSHD: all\n', 'ALL: ALL\n', '10.0.0.1'), 'granted');
  });

  it('matches addresses as libwrap: prefixes, net/len, net/mask, [v6], [v6]/len, wildcards', () => {
    const granted = (pattern: string, client: string): boolean => access(`sshd: ${pattern}\n`, 'ALL: ALL\n', client) === 'granted';
    assert.ok(granted('10.1.', '10.1.2.3'));
    assert.ok(!granted('10.1', '10.1.2.3'));
    assert.ok(granted('10.0.0.0/8', '10.1.2.3'));
    assert.ok(!granted('10.1.0.0/8', '10.1.2.3'), 'host bits in the network: libwrap compares them as written');
    assert.ok(granted('10.0.0.0/255.0.0.0', '10.1.2.3'));
    assert.ok(granted('012.0.0.0/8', '10.1.2.3'), 'inet_aton reads 012 as octal 10');
    assert.ok(!granted('0.0.0.0/0', '10.1.2.3'), 'libwrap refuses an IPv4 /0');
    assert.ok(!granted('10.1.2.3/255.255.255.255', '10.1.2.3'), 'that mask is INADDR_NONE to libwrap');
    assert.ok(granted('10.1.2.3/32', '10.1.2.3'));
    assert.ok(granted('[2001:db8::1]', '2001:0DB8:0::1'));
    assert.ok(granted('[2001:db8:1::]/32', '2001:db8::5'), 'IPv6 masks both sides');
    assert.ok(granted('[::]/0', '2001:db8::5'));
    assert.ok(!granted('[2001:db8::]/129', '2001:db8::5'));
    assert.ok(!granted('2001:db8::5', '2001:db8::5'), 'a bare IPv6 pattern is cut at its first colon');
    assert.ok(granted('10.1.2.*', '10.1.2.3'));
    assert.ok(granted('1?.1.2.3', '10.1.2.3'));
    assert.ok(granted('.2.3', '10.1.2.3'), 'a .suffix is tried on the address too');
    assert.ok(granted('10.1.2.3', '::ffff:10.1.2.3'), 'an IPv4-mapped client is compared as IPv4');
  });

  it('takes the client name as an input: UNKNOWN, KNOWN, LOCAL, PARANOID, .domain', () => {
    const rules = (p: string): string => `sshd: ${p}\n`;
    const deny = 'ALL: ALL\n';
    assert.equal(access(rules('UNKNOWN'), deny, '192.0.2.7'), 'granted', 'no name given: lookup failed');
    assert.equal(access(rules('UNKNOWN'), deny, '192.0.2.7', { clientName: 'ws.example.com' }), 'denied');
    assert.equal(access(rules('KNOWN'), deny, '192.0.2.7'), 'denied');
    assert.equal(access(rules('KNOWN'), deny, '192.0.2.7', { clientName: 'ws.example.com' }), 'granted');
    assert.equal(access(rules('KNOWN'), deny, '192.0.2.7', { clientName: PARANOID_HOST }), 'denied');
    assert.equal(access(rules('LOCAL'), deny, '192.0.2.7', { clientName: 'ws' }), 'granted');
    assert.equal(access(rules('LOCAL'), deny, '192.0.2.7', { clientName: 'ws.example.com' }), 'denied');
    assert.equal(access(rules('LOCAL'), deny, '192.0.2.7'), 'denied', 'unknown is no local name');
    assert.equal(access('', 'ALL: PARANOID\n', '192.0.2.7', { clientName: PARANOID_HOST }), 'denied');
    assert.equal(access('', 'ALL: PARANOID\n', '192.0.2.7', { clientName: 'ws.example.com' }), 'granted');
    assert.equal(access(rules('.example.com'), deny, '192.0.2.7', { clientName: 'WS.Example.COM' }), 'granted');
    assert.equal(access(rules('.example.com'), deny, '192.0.2.7', { clientName: 'example.com' }), 'denied');
    assert.equal(access(rules('192.0.2.'), deny, '10.0.0.1', { clientName: '192.0.2.evil.example' }), 'granted', 'a prefix is tried on the name too');
    assert.equal(access(rules('10.0.0.1'), deny, '192.0.2.7', { clientName: '10.0.0.1' }), 'denied', 'a dotted quad is never tried on the name');
  });

  it('matches user@host and daemon@host with unknown user and server by default', () => {
    assert.equal(access('sshd: root@192.0.2.7\n', 'ALL: ALL\n', '192.0.2.7'), 'denied');
    assert.equal(access('sshd: root@192.0.2.7\n', 'ALL: ALL\n', '192.0.2.7', { user: 'root' }), 'granted');
    assert.equal(access('sshd@198.51.100.1: ALL\n', 'ALL: ALL\n', '192.0.2.7'), 'denied');
    assert.equal(access('sshd@198.51.100.1: ALL\n', 'ALL: ALL\n', '192.0.2.7', { server: { address: '198.51.100.1' } }), 'granted');
  });

  it('reads /file patterns from the gathered files and flags what it cannot evaluate', () => {
    const files = new Map([['/etc/ssh/admins', '192.0.2.7\n10.0.0.0/8  [2001:db8::1]\n']]);
    assert.equal(decide('sshd: /etc/ssh/admins\n', 'ALL: ALL\n', { clientAddress: '10.2.3.4' }, files).access, 'granted');
    const missing = decide('sshd: /etc/ssh/other\n', 'ALL: ALL\n', { clientAddress: '10.2.3.4' }, files);
    assert.equal(missing.access, 'denied');
    assert.match(missing.uncertain[0]!, /not gathered/);
    const netgroup = decide('sshd: @admins\n', '', { clientAddress: '10.2.3.4' });
    assert.match(netgroup.uncertain[0]!, /netgroup/);
  });

  it('treats a table whose last line lacks its newline as libwrap does', () => {
    assert.equal(access('sshd: 10.0.0.1', '', '10.0.0.1'), 'granted', 'in hosts.allow: no match');
    assert.equal(access('sshd: 10.0.0.1', 'ALL: ALL\n', '10.0.0.1'), 'denied');
    const d = decide('', 'sshd: 10.9.9.9\n# end', { clientAddress: '10.0.0.1' });
    assert.equal(d.access, 'denied', 'in hosts.deny: an error, which refuses');
    assert.equal(d.decidedBy!.via, 'table-error');
    assert.equal(d.decidedBy!.line, 2);
    assert.equal(access('', 'sshd: 10.0.0.1: allow\n# end', '10.0.0.1'), 'granted', 'an earlier match still decides');
  });
});
