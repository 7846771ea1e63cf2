import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureAllowed } from '../../../src/config/hosts-access/edit.js';
import { evaluateHostsAccess } from '../../../src/config/hosts-access/evaluate.js';
import { parseHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { validateHostsClient, validateHostsDaemon } from '../../../src/config/hosts-access/validate.js';
import { SSHGUARD_ALLOW } from './hosts-access-corpus.js';

const codes = (ds: readonly { code: string }[]): string[] => ds.map((d) => d.code);

function grants(allow: string, deny: string, address: string): boolean {
  return evaluateHostsAccess({ allow: parseHostsAccess(allow, 'a'), deny: parseHostsAccess(deny, 'd') }, { daemon: 'sshd', clientAddress: address }).access === 'granted';
}

describe('ensureAllowed', () => {
  it('changes nothing when libwrap already grants, and names the deciding line', () => {
    const r = ensureAllowed({ allow: '# mgmt\nsshd: 192.0.2.0/24\n', deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.deepEqual(r.edits, []);
    assert.equal(r.note, '192.0.2.7 already gets through to sshd: granted by /etc/hosts.allow:2: sshd: 192.0.2.0/24');
    const none = ensureAllowed({}, { daemon: 'sshd', client: '192.0.2.7' });
    assert.match(none.note!, /no rule in hosts.allow or hosts.deny matches/);
  });

  it('denied by hosts.deny only: appends to hosts.allow', () => {
    const allow = '# local rules\nin.telnetd: LOCAL\n';
    const r = ensureAllowed({ allow, deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(r.edits.length, 1);
    assert.equal(r.edits[0]!.path, '/etc/hosts.allow');
    assert.equal(r.edits[0]!.action, 'update');
    assert.equal(r.edits[0]!.after, `${allow}sshd: 192.0.2.7\n`);
    assert.equal(r.line, 'sshd: 192.0.2.7');
    assert.ok(grants(r.edits[0]!.after, 'ALL: ALL\n', '192.0.2.7'));
  });

  it('creates hosts.allow when it is missing', () => {
    const r = ensureAllowed({ deny: 'sshd: ALL\n' }, { daemon: 'sshd', client: '2001:db8::7' });
    assert.deepEqual(r.edits, [{ path: '/etc/hosts.allow', action: 'create', before: '', after: 'sshd: [2001:db8::7]\n' }]);
  });

  it('goes right before the hosts.allow line that would refuse first', () => {
    const allow = 'sshd: 10.0.0.0/8\nsshd: 192.0.2.0/24 EXCEPT 192.0.2.7\n# catch-all\nALL: ALL: DENY\n';
    const r = ensureAllowed({ allow }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(r.edits[0]!.after, 'sshd: 10.0.0.0/8\nsshd: 192.0.2.0/24 EXCEPT 192.0.2.7\n# catch-all\nsshd: 192.0.2.7\nALL: ALL: DENY\n');
    const twist = ensureAllowed({ allow: 'sshd: 192.0.2.7: twist /bin/echo go away\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(twist.edits[0]!.after, 'sshd: 192.0.2.7\nsshd: 192.0.2.7: twist /bin/echo go away\n');
  });

  it('stays below the sshguard block, and refuses when the block itself holds the client', () => {
    const r = ensureAllowed({ allow: SSHGUARD_ALLOW }, { daemon: 'sshd', client: '192.0.2.7' });
    const lines = r.edits[0]!.after.split('\n');
    assert.equal(lines.indexOf('sshd: 192.0.2.7'), 6, 'after the block and the 10/8 line, before ALL: ALL: DENY');
    assert.equal(lines[7], 'ALL: ALL: DENY');
    assert.deepEqual(codes(r.warnings), []);
    const blocked = ensureAllowed({ allow: SSHGUARD_ALLOW }, { daemon: 'sshd', client: '198.51.100.4' });
    assert.deepEqual(blocked.edits, []);
    assert.deepEqual(codes(blocked.errors), ['hosts-access-sshguard-blocked']);
    assert.equal(blocked.errors[0]!.range!.start.line, 2);
  });

  it('keeps sshguard block placement for networks, and warns about blocked addresses inside them', () => {
    const r = ensureAllowed({ allow: SSHGUARD_ALLOW }, { daemon: 'sshd', client: '198.51.100.0/24' });
    assert.equal(r.edits[0]!.after.split('\n')[6], 'sshd: 198.51.100.0/24');
    assert.deepEqual(codes(r.warnings), ['hosts-access-sshguard-blocked']);
  });

  it('counts daemon@host lines by their daemon unless the server is known', () => {
    const allow = 'sshd: 10.0.0.0/8\nsshd@198.51.100.1: ALL: DENY\n';
    const net = ensureAllowed({ allow }, { daemon: 'sshd', client: '192.0.2.0/24' });
    assert.equal(net.edits[0]!.after, 'sshd: 10.0.0.0/8\nsshd: 192.0.2.0/24\nsshd@198.51.100.1: ALL: DENY\n');
    const elsewhere = ensureAllowed({ allow }, { daemon: 'sshd', client: '192.0.2.0/24', server: { address: '198.51.100.2' } });
    assert.equal(elsewhere.edits[0]!.after, `${allow}sshd: 192.0.2.0/24\n`);
    const addr = ensureAllowed({ allow }, { daemon: 'sshd', client: '192.0.2.7', server: { address: '198.51.100.1' } });
    assert.equal(addr.edits[0]!.after, 'sshd: 10.0.0.0/8\nsshd: 192.0.2.7\nsshd@198.51.100.1: ALL: DENY\n');
    assert.match(ensureAllowed({ allow }, { daemon: 'sshd', client: '192.0.2.7' }).note!, /no rule/);
  });

  it('refuses to edit around an unclosed sshguard block', () => {
    const r = ensureAllowed({ allow: '###sshguard###\nALL : 1.2.3.4 : DENY\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.deepEqual(codes(r.errors), ['hosts-access-sshguard-unclosed']);
  });

  it('never appends after a last line that has no newline', () => {
    const r = ensureAllowed({ allow: 'in.telnetd: ALL\n# end', deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(r.edits[0]!.after, 'in.telnetd: ALL\nsshd: 192.0.2.7\n# end');
    const cont = ensureAllowed({ allow: 'in.telnetd: ALL \\\n', deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(cont.edits[0]!.after, 'sshd: 192.0.2.7\nin.telnetd: ALL \\\n');
  });

  it('keeps CRLF files CRLF', () => {
    const r = ensureAllowed({ allow: 'ALL: ALL: DENY\r\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.equal(r.edits[0]!.after, 'sshd: 192.0.2.7\r\nALL: ALL: DENY\r\n');
  });

  it('is idempotent for addresses, networks and names', () => {
    for (const client of ['192.0.2.7', '198.51.100.0/24', '[2001:db8::]/48', 'bastion.example.com']) {
      const texts = { allow: 'ALL: ALL: DENY\n', deny: '' };
      const first = ensureAllowed(texts, { daemon: 'sshd', client });
      assert.equal(first.edits.length, 1, client);
      const second = ensureAllowed({ ...texts, allow: first.edits[0]!.after }, { daemon: 'sshd', client });
      assert.deepEqual(second.edits, [], client);
      assert.ok(second.note, client);
    }
  });

  it('warns when the client widens access', () => {
    assert.deepEqual(codes(ensureAllowed({ deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: 'ALL' }).warnings), ['hosts-access-wide-client']);
    assert.deepEqual(codes(ensureAllowed({ deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '10.0.0.0/8' }).warnings), ['hosts-access-wide-client']);
    assert.deepEqual(codes(ensureAllowed({ deny: 'ALL: ALL\n' }, { daemon: 'sshd', client: '10.0.0.0/16' }).warnings), []);
    assert.deepEqual(codes(ensureAllowed({ deny: 'ALL: ALL\n' }, { daemon: 'ALL', client: '192.0.2.7' }).warnings), ['hosts-access-wide-daemon']);
    const paranoid = ensureAllowed({ deny: 'ALL: PARANOID\nsshd: ALL\n' }, { daemon: 'sshd', client: '192.0.2.7' });
    assert.deepEqual(codes(paranoid.warnings), ['hosts-access-paranoid-bypassed']);
    assert.equal(paranoid.warnings[0]!.file, '/etc/hosts.deny');
  });

  it('refuses bad requests with codes and changes nothing', () => {
    const bad = (daemon: string, client: string): string[] => {
      const r = ensureAllowed({ allow: '' }, { daemon, client });
      assert.deepEqual(r.edits, []);
      return codes(r.errors);
    };
    assert.deepEqual(bad('sshd', '192.0.2.7\nALL: ALL'), ['hosts-access-control-character']);
    assert.deepEqual(bad('sshd', '192.0.2.7 10.0.0.1'), ['hosts-access-list-client']);
    assert.deepEqual(bad('sshd', 'host:22'), ['hosts-access-colon']);
    assert.deepEqual(bad('sshd:', '192.0.2.7'), ['hosts-access-bad-daemon']);
    assert.deepEqual(bad('sshd', '10.1.0.0/8'), ['hosts-access-host-bits']);
    assert.deepEqual(bad('sshd', '0.0.0.0/0'), ['hosts-access-bad-network']);
    assert.deepEqual(bad('sshd', 'PARANOID'), ['hosts-access-reserved-client']);
    assert.deepEqual(bad('sshd', '10.1.'), ['hosts-access-bad-address']);
    assert.deepEqual(bad('sshd', '.example.com'), ['hosts-access-pattern-client']);
    assert.deepEqual(bad('EXCEPT', '192.0.2.7'), ['hosts-access-reserved-daemon']);
  });
});

describe('validateHostsClient / validateHostsDaemon', () => {
  it('gives the pattern to write', () => {
    const pattern = (v: string): string => {
      const r = validateHostsClient(v);
      assert.ok(r.ok, v);
      return r.value.pattern;
    };
    assert.equal(pattern('192.0.2.7'), '192.0.2.7');
    assert.equal(pattern('2001:DB8:0::7'), '[2001:db8::7]');
    assert.equal(pattern('[2001:db8::7]'), '[2001:db8::7]');
    assert.equal(pattern('2001:db8::/32'), '[2001:db8::]/32');
    assert.equal(pattern('10.0.0.0/255.255.0.0'), '10.0.0.0/16');
    assert.equal(pattern('192.0.2.7/32'), '192.0.2.7');
    assert.equal(pattern('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(pattern('bastion.example.com'), 'bastion.example.com');
    assert.equal(pattern('all'), 'ALL');
    const name = validateHostsClient('bastion.example.com');
    assert.ok(name.ok);
    assert.deepEqual(codes(name.warnings), ['hosts-access-name-client']);
  });

  it('accepts daemon names and refuses patterns', () => {
    assert.ok(validateHostsDaemon('sshd').ok);
    assert.ok(validateHostsDaemon('in.telnetd').ok);
    for (const d of ['ssh*', 'sshd@host', '.d', 'sshd,ftpd', '', 'a\tb']) assert.equal(validateHostsDaemon(d).ok, false, d);
  });
});
