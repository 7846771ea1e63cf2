import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCoveringEntry, ignoreIpCovers, parseIgnoreIpEntry, parseIgnoreIpList } from '../../../src/config/fail2ban/ignoreip.js';
import { checkFail2banBool, checkFail2banMaxretry, checkFail2banTime, checkSshdFilterMode, fail2banTimeSeconds } from '../../../src/config/fail2ban/values.js';

describe('ignoreip entries', () => {
  it('normalise as fail2ban prints them', () => {
    const f = (s: string): string => {
      const e = parseIgnoreIpEntry(s);
      return e.kind === 'invalid' ? `invalid` : `${e.kind} ${e.formatted}`;
    };
    assert.equal(f('127.0.0.1/8'), 'ip 127.0.0.0/8');
    assert.equal(f('10.1.2.3/255.255.0.0'), 'ip 10.1.0.0/16');
    assert.equal(f('::ffff:192.0.2.1'), 'ip 192.0.2.1');
    assert.equal(f('[2001:DB8:0:0::1]'), 'ip 2001:db8::1');
    assert.equal(f('2001:db8:1:2::/56'), 'ip 2001:db8:1::/56');
    assert.equal(f('0.0.0.0/0'), 'ip 0.0.0.0');
    assert.equal(f('office.example'), 'hostname office.example');
    assert.equal(f('10.0.0.01'), 'hostname 10.0.0.01');
    assert.equal(f('1.2.3.4/x'), 'invalid');
  });

  it('decides containment for no-op detection', () => {
    const list = parseIgnoreIpList('127.0.0.1/8, ::1 192.0.2.0/24\n2001:db8::/32 office.example');
    assert.equal(ignoreIpCovers(list, '192.0.2.7'), true);
    assert.equal(ignoreIpCovers(list, '192.0.3.7'), false);
    assert.equal(ignoreIpCovers(list, '192.0.2.0/25'), true);
    assert.equal(ignoreIpCovers(list, '192.0.0.0/16'), false);
    assert.equal(ignoreIpCovers(list, '2001:db8:5::1'), true);
    assert.equal(ignoreIpCovers(list, '::ffff:127.0.0.9'), true);
    assert.equal(ignoreIpCovers(list, 'OFFICE.example'), true);
    assert.equal(findCoveringEntry(list, parseIgnoreIpEntry('198.51.100.1')), undefined);
  });
});

describe('jail value checks', () => {
  it('reads fail2ban times', () => {
    assert.equal(fail2banTimeSeconds('10m'), 600);
    assert.equal(fail2banTimeSeconds('1d12h'), 129600);
    assert.equal(fail2banTimeSeconds('1h 30m'), 5400);
    assert.equal(fail2banTimeSeconds('1 2 3'), undefined);
    assert.equal(fail2banTimeSeconds('05m'), undefined);
    assert.equal(fail2banTimeSeconds('forever-ish'), undefined);
    assert.equal(checkFail2banTime('bantime', '-1').ok && checkFail2banTime('bantime', '-1').ok, true);
    assert.equal(checkFail2banTime('findtime', '-1').ok, false);
  });

  it('checks maxretry, booleans and the sshd filter mode', () => {
    assert.equal(checkFail2banMaxretry('5').ok, true);
    assert.equal(checkFail2banMaxretry('0').ok, false);
    assert.equal(checkFail2banMaxretry('five').ok, false);
    for (const w of ['true', 'Yes', 'on', '1', 'false', 'no', 'OFF', '0']) assert.equal(checkFail2banBool('enabled', w).ok, true, w);
    assert.equal(checkFail2banBool('enabled', 'yess').ok, false);
    for (const m of ['normal', 'ddos', 'extra', 'aggressive']) assert.equal(checkSshdFilterMode(m).ok, true);
    assert.equal(checkSshdFilterMode('Aggressive').ok, false);
  });
});
