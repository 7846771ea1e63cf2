import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readLogLine, readLogLines, splitLogText, sshdEvent } from '../../../src/diagnose/log-lines.js';

const NOW = Date.UTC(2026, 10, 30, 13, 0, 0);
const read = (text: string) => readLogLine({ source: '/var/log/auth.log', line: 7, text }, NOW);

describe('log lines by OpenSSH version', () => {
  it('9.2: MaxStartups drop and throttling lines, tagged sshd, traditional syslog stamp', () => {
    const r = read('Nov 30 12:50:44 lab-03 sshd[23026]: drop connection #3 from [127.0.0.9]:40312 on [127.77.0.3]:22 past MaxStartups');
    assert.deepEqual(r?.event, { kind: 'maxstartups-drop', client: '127.0.0.9' });
    assert.equal(r?.program, 'sshd');
    assert.equal(r?.time, Date.UTC(2026, 10, 30, 12, 50, 44));
    assert.equal(read('Nov 30 12:50:44 lab-03 sshd[23026]: beginning MaxStartups throttling')?.event.kind, 'maxstartups-throttling');
    assert.equal(read('Nov 30 12:51:44 lab-03 sshd[23026]: exited MaxStartups throttling after 00:01:00, 21 connections dropped')?.event.kind, 'maxstartups-throttling');
  });

  it('9.8/9.9: sshd-session lines, `past Maxstartups` and `penalty:` drops, VERBOSE penalty lines', () => {
    assert.deepEqual(read('Nov 30 12:50:44 h sshd[1]: drop connection #0 from [192.0.2.7]:5000 on [192.0.2.1]:22 past Maxstartups')?.event, { kind: 'maxstartups-drop', client: '192.0.2.7' });
    assert.deepEqual(read('Nov 30 12:50:44 h sshd[1]: drop connection #1 from [192.0.2.7]:5001 on [192.0.2.1]:22 penalty: failed authentication')?.event, {
      kind: 'penalty-drop',
      client: '192.0.2.7',
      reason: 'failed authentication',
    });
    const p = read('Nov 30 12:50:40 h sshd[1]: srclimit_penalise: ipv4: new authfail penalty of 5 seconds for 192.0.2.7/32');
    assert.deepEqual(p?.event, { kind: 'penalty', penalty: 'authfail', seconds: 5, client: '192.0.2.7/32' });
    const denied = read('Nov 30 12:50:40 h sshd-session[99]: User backup from 192.0.2.7 not allowed because not listed in AllowUsers');
    assert.equal(denied?.program, 'sshd-session');
    assert.deepEqual(denied?.event, { kind: 'access-denied', user: 'backup', client: '192.0.2.7', list: 'AllowUsers' });
  });

  it('10.x: sshd-auth lines, RFC 3339 and journal short-iso stamps, rate-limited drop lines', () => {
    const r = read('2026-11-30T12:50:44.123456+00:00 deb13 sshd[812]: drop connection #0 from [2001:db8::7]:40000 on [2001:db8::1]:22 penalty: connections without attempting authentication');
    assert.deepEqual(r?.event, { kind: 'penalty-drop', client: '2001:db8::7', reason: 'connections without attempting authentication' });
    assert.equal(r?.time, Date.UTC(2026, 10, 30, 12, 50, 44, 123));
    const j = read('2026-11-30T13:50:44+0100 deb13 sshd-auth[900]: Unable to negotiate with 192.0.2.7 port 51234: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]');
    assert.equal(j?.program, 'sshd-auth');
    assert.equal(j?.time, Date.UTC(2026, 10, 30, 12, 50, 44));
    assert.deepEqual(j?.event, { kind: 'negotiation-failed', client: '192.0.2.7', algorithm: 'kex', offer: ['diffie-hellman-group1-sha1'] });
    assert.deepEqual(read('2026-11-30T12:50:44+00:00 deb13 sshd[812]: new noauth penalty of 1.000000 seconds for 192.0.2.0/24')?.event, {
      kind: 'penalty',
      penalty: 'noauth',
      seconds: 1,
      client: '192.0.2.0/24',
    });
  });

  it('10.0p2 lines as the lab\'s penalties host logged them (Debian 13 build, rsyslog traditional format)', () => {
    const drop = read('Nov 30 15:51:38 lab-02 sshd[7862]: drop connection #0 from [127.0.0.9]:60257 on [127.77.91.2]:22 penalty: failed authentication');
    assert.deepEqual(drop?.event, { kind: 'penalty-drop', client: '127.0.0.9', reason: 'failed authentication' });
    const deferred = read('Nov 30 15:53:10 lab-02 sshd[7862]: srclimit_penalise: ipv4: new 127.0.0.10/32 deferred penalty of 10 seconds for penalty: failed authentication');
    assert.deepEqual(deferred?.event, { kind: 'penalty', client: '127.0.0.10/32', seconds: 10, penalty: 'authfail' });
    const active = read('Nov 30 15:53:10 lab-02 sshd[7862]: srclimit_penalise: 127.0.0.10/32: activating ipv4 penalty of 19 seconds for penalty: failed authentication');
    assert.deepEqual(active?.event, { kind: 'penalty', client: '127.0.0.10/32', seconds: 19, penalty: 'authfail' });
    const v6 = sshdEvent('srclimit_penalise: 2001:db8::/64: activating ipv6 penalty of 30 seconds for penalty: connections without attempting authentication');
    assert.deepEqual(v6, { kind: 'penalty', client: '2001:db8::/64', seconds: 30, penalty: 'noauth' });
    const failed = read('Nov 30 15:53:10 lab-02 sshd-session[14134]: Failed publickey for root from 127.0.0.10 port 45607 ssh2: ED25519 SHA256:qyHSVZfkCZt7WB7twcKF6JWEsMg/CBVGYuYyYF4fbXk');
    assert.equal(failed?.program, 'sshd-session');
    assert.deepEqual(failed?.event, { kind: 'auth-failed', method: 'publickey', user: 'root', client: '127.0.0.10' });
    assert.equal(read('Nov 30 15:53:08 lab-02 sshd[7862]: Received SIGHUP; restarting.'), undefined);
  });

  it('every access-list refusal wording of auth.c', () => {
    const lists = [
      ['not listed in AllowUsers', 'AllowUsers'],
      ['listed in DenyUsers', 'DenyUsers'],
      ['not in any group', 'AllowGroups'],
      ['a group is listed in DenyGroups', 'DenyGroups'],
      ["none of user's groups are listed in AllowGroups", 'AllowGroups'],
    ] as const;
    for (const [why, list] of lists) assert.deepEqual(sshdEvent(`User u from 192.0.2.7 not allowed because ${why}`), { kind: 'access-denied', user: 'u', client: '192.0.2.7', list }, why);
  });

  it('algorithm families, libwrap refusals, invalid users, failed and accepted logins, grace timeouts (both wordings)', () => {
    assert.equal((sshdEvent('Unable to negotiate with 192.0.2.7 port 1: no matching cipher found. Their offer: 3des-cbc') as { algorithm: string }).algorithm, 'cipher');
    assert.equal((sshdEvent('Unable to negotiate with 192.0.2.7 port 1: no matching MAC found. Their offer: hmac-md5') as { algorithm: string }).algorithm, 'mac');
    assert.equal((sshdEvent('Unable to negotiate with 192.0.2.7 port 1: no matching host key type found. Their offer: ssh-dss [preauth]') as { algorithm: string }).algorithm, 'hostkey');
    assert.deepEqual(read('Nov 30 12:50:44 lab-03 sshd[23026]: refused connect from 127.0.0.9 (127.0.0.9)')?.event, { kind: 'wrappers-refused', client: '127.0.0.9', clientName: '127.0.0.9' });
    assert.deepEqual(sshdEvent('Invalid user nobody from 192.0.2.7 port 4000'), { kind: 'invalid-user', user: 'nobody', client: '192.0.2.7' });
    assert.deepEqual(sshdEvent('Failed password for invalid user x from 192.0.2.7 port 4000 ssh2'), { kind: 'auth-failed', method: 'password', user: 'x', client: '192.0.2.7' });
    assert.deepEqual(sshdEvent('Accepted publickey for root from 127.0.0.1 port 4000 ssh2: ED25519 SHA256:abc'), { kind: 'accepted', method: 'publickey', user: 'root', client: '127.0.0.1' });
    assert.deepEqual(sshdEvent('Timeout before authentication for 192.0.2.7 port 4000'), { kind: 'login-grace-timeout', client: '192.0.2.7' });
    assert.deepEqual(sshdEvent('Timeout before authentication for connection from 192.0.2.7 to 192.0.2.1, pid = 77'), { kind: 'login-grace-timeout', client: '192.0.2.7' });
  });

  it('fail2ban log lines: Ban, Restore Ban, Unban, Found, with their jail', () => {
    assert.deepEqual(read('2026-11-30 12:50:44,123 fail2ban.actions        [412]: NOTICE  [sshd] Ban 127.0.0.9')?.event, { kind: 'fail2ban', action: 'ban', jail: 'sshd', client: '127.0.0.9' });
    assert.equal((read('2026-11-30 12:50:44,123 fail2ban.actions        [412]: NOTICE  [sshd] Restore Ban 127.0.0.9')?.event as { action: string }).action, 'restore-ban');
    assert.equal((read('2026-11-30 12:50:44,123 fail2ban.filter         [412]: INFO    [sshd] Found 127.0.0.9 - 2026-11-30 12:50:43')?.event as { action: string }).action, 'found');
  });

  it('ignores other programs and unrelated lines; a yearless stamp after now belongs to last year', () => {
    assert.equal(read('Nov 30 12:50:44 h cron[1]: User backup from 192.0.2.7 not allowed because not listed in AllowUsers'), undefined);
    assert.equal(read('Nov 30 12:50:44 h sshd[1]: Server listening on 0.0.0.0 port 22.'), undefined);
    assert.equal(read('Dec 31 23:59:59 h sshd[1]: Invalid user x from 192.0.2.7 port 1')?.time, Date.UTC(2025, 11, 31, 23, 59, 59));
  });

  it('keeps lines at or after --since, with their source line numbers', () => {
    const lines = splitLogText('/var/log/auth.log', 'Nov 30 10:00:00 h sshd[1]: Invalid user a from 192.0.2.7 port 1\nnoise\nNov 30 12:00:00 h sshd[1]: Invalid user b from 192.0.2.7 port 1\n');
    const kept = readLogLines(lines, { now: NOW, since: Date.UTC(2026, 10, 30, 11, 0, 0) });
    assert.deepEqual(kept.map((r) => [r.line, (r.event as { user: string }).user]), [[3, 'b']]);
  });
});
