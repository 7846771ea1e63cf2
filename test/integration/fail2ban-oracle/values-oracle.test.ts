import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { findCoveringEntry, parseIgnoreIpEntry } from '../../../src/config/fail2ban/ignoreip.js';
import { checkFail2banTime, fail2banTimeSeconds } from '../../../src/config/fail2ban/values.js';
import { assertFail2banAvailable, runFail2banPython } from './oracle.js';

const TIME_PY = `
import sys
from fail2ban.server.mytime import MyTime
for line in sys.stdin.read().split('\\n')[:-1]:
    try:
        v = MyTime.str2seconds(line)
        print(repr(float(v)) if isinstance(v, (int, float)) else 'ERR')
    except Exception:
        print('ERR')
`;

const IP_PY = `
import sys
from fail2ban.server.ipdns import IPAddr
for line in sys.stdin.read().split('\\n')[:-1]:
    try:
        parts = line.split(' ')
        ip = IPAddr(parts[0])
        out = ('ip' if ip.isValid else 'name') + ' ' + str(ip)
        # contains() on a host name resolves it through DNS: only addresses are compared.
        if len(parts) > 1 and ip.isValid:
            out += ' ' + ('in' if ip.contains(IPAddr(parts[1])) else 'out')
        print(out)
    except Exception:
        print('ERR')
`;

const number = fc.oneof(fc.constantFrom('0', '1', '5', '10', '30', '05', '1.5', '0.5', '100'), fc.integer({ min: 0, max: 9999 }).map(String));
const unit = fc.constantFrom('', 's', 'sec', 'second', 'seconds', 'm', 'min', 'mi', 'mm', 'minute', 'minutes', 'h', 'hour', 'hours', 'hh', 'ho', 'd', 'day', 'days', 'dd', 'da', 'w', 'week', 'weeks', 'wee', 'ww', 'mo', 'mon', 'month', 'months', 'y', 'year', 'years', 'yy', 'ye', 'M', 'H', 'D', 'x', 'forever', 'ish');
const term = fc.tuple(fc.constantFrom('', ' ', '-', '+'), number, fc.constantFrom('', '', ' '), unit).map((t) => t.join(''));
const timeValue = fc.oneof(
  fc.array(fc.tuple(term, fc.constantFrom('', ' ', '  ', '+', '-', ' + ', '*')), { minLength: 1, maxLength: 3 }).map((ts) => ts.map(([a, b], i) => (i < ts.length - 1 ? a + b : a)).join('')),
  fc.constantFrom('forever-ish', '-1', 'forever', '1 2 3', '1h 2 3', '', ' ', '1d12h', '1h30', '10m ', 'abc', '1e3', '1_000'),
);

const octet = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 255 }).map(String), weight: 12 }, { arbitrary: fc.constantFrom('01', '256', '00'), weight: 1 });
const v4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const hex = fc.oneof(fc.constantFrom('0', '0', 'db8', '2001', 'ffff', 'FFFF', '1', 'abcd', '00000'), fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)));
const v6 = fc.oneof(
  fc.array(hex, { minLength: 8, maxLength: 8 }).map((g) => g.join(':')),
  fc.tuple(fc.array(hex, { maxLength: 3 }), fc.array(hex, { maxLength: 3 })).map(([a, b]) => `${a.join(':')}::${b.join(':')}`),
  v4.map((a) => `::ffff:${a}`),
  v4.map((a) => `::${a}`),
);
const prefix = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 130 }).map((n) => `/${n}`), fc.constantFrom('/255.255.255.0', '/255.0.255.0', '/ffff:ffff::', '/x'));
const entry = fc.oneof(
  fc.tuple(v4, prefix).map(([a, p]) => a + p),
  fc.tuple(v6, prefix, fc.boolean()).map(([a, p, b]) => (b ? `[${a}]${p}` : a + p)),
  fc.constantFrom('office.example', 'localhost', '#', 'office', 'a_b', '1.2.3', '::1::'),
);

describe('fail2ban value and address oracles (fail2ban\'s own MyTime and IPAddr)', () => {
  before(() => assertFail2banAvailable());

  it('every time the engine accepts is read by str2seconds with the same seconds; forever-ish is refused', () => {
    const values = [...new Set(fc.sample(timeValue, { numRuns: 4000, seed: 7 }))].filter((v) => !v.includes('\n'));
    const py = runFail2banPython(TIME_PY, values.map((v) => `${v}\n`).join('')).split('\n');
    const failures: string[] = [];
    let accepted = 0;
    values.forEach((v, i) => {
      const mine = fail2banTimeSeconds(v);
      if (mine === undefined) return;
      accepted++;
      const theirs = py[i] === 'ERR' ? undefined : Number(py[i]);
      if (theirs === undefined || Math.abs(theirs - mine) > 1e-6 * Math.max(1, Math.abs(mine))) failures.push(`${JSON.stringify(v)}: engine ${mine}, fail2ban ${py[i]}`);
    });
    assert.equal(failures.length, 0, failures.slice(0, 10).join('\n'));
    assert.ok(accepted > values.length / 4, `too few accepted: ${accepted}/${values.length}`);
    assert.equal(checkFail2banTime('bantime', 'forever-ish').ok, false);
    assert.deepEqual(checkFail2banTime('bantime', '-1'), { ok: true, normalized: '-1', seconds: -1, permanent: true });
  });

  it('ignoreip entries normalise as IPAddr prints them, and single addresses are covered as IPAddr.contains says', () => {
    const entries = [...new Set(fc.sample(entry, { numRuns: 4000, seed: 11 }))];
    const singles = fc.sample(fc.oneof(v4, v6), { numRuns: entries.length, seed: 13 });
    const lines = entries.map((e, i) => `${e} ${singles[i]}`);
    const py = runFail2banPython(IP_PY, lines.map((l) => `${l}\n`).join('')).split('\n');
    const failures: string[] = [];
    let ips = 0;
    entries.forEach((e, i) => {
      const mine = parseIgnoreIpEntry(e);
      const theirs = py[i]!;
      if (mine.kind === 'ip') {
        ips++;
        if (!theirs.startsWith(`ip ${mine.formatted} `)) failures.push(`${e}: engine ${mine.formatted}, fail2ban ${theirs}`);
        const single = parseIgnoreIpEntry(singles[i]!);
        if (single.kind === 'ip' && !theirs.startsWith('ERR')) {
          const covered = findCoveringEntry([mine], single) !== undefined;
          if (covered !== theirs.endsWith(' in')) failures.push(`${e} covers ${singles[i]}: engine ${covered}, fail2ban ${theirs}`);
        }
      } else if (mine.kind === 'hostname') {
        if (!theirs.startsWith('name ')) failures.push(`${e}: engine hostname, fail2ban ${theirs}`);
      } else if (theirs.startsWith('ip ')) {
        failures.push(`${e}: engine invalid (${mine.reason}), fail2ban ${theirs}`);
      }
    });
    assert.equal(failures.length, 0, failures.slice(0, 10).join('\n'));
    assert.ok(ips > entries.length / 4, `too few addresses: ${ips}`);
  });
});
