import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureIgnoreIp, setJailKeys } from '../../../src/config/fail2ban/edit.js';
import { getFail2banOption } from '../../../src/config/fail2ban/effective.js';
import { F2B, layersOf } from './fail2ban-helpers.js';

const JAIL_CONF = '# package file\n[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\nmaxretry = 5\n\n[sshd]\nport = ssh\n';

/** Applies the edits to the files and returns the new file set. */
function apply(files: Record<string, string>, edits: { path: string; after: string }[]): Record<string, string> {
  const out = { ...files };
  for (const e of edits) out[e.path.slice(F2B.length + 1)] = e.after;
  return out;
}

const ignoreip = (files: Record<string, string>, jail = 'sshd'): string => {
  const r = getFail2banOption(layersOf(files), jail, 'ignoreip');
  return r.status === 'ok' ? r.value : r.status;
};

describe('ensureIgnoreIp placement', () => {
  it('extends the winning line of a jail section in jail.d/sshd.local, keeping its comment', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.d/sshd.local': '[sshd]\r\nignoreip = 10.0.0.1 ; office\r\nenabled = true\r\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.deepEqual(r.edits.map((e) => e.path), [`${F2B}/jail.d/sshd.local`]);
    assert.equal(r.edits[0]!.after, '[sshd]\r\nignoreip = 10.0.0.1 192.0.2.7 ; office\r\nenabled = true\r\n');
  });

  it('extends [DEFAULT] in jail.local when that is where the value wins', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.local': '[DEFAULT]\nignoreip = 127.0.0.1/8\n           10.0.0.0/8\nbantime = 1h\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.equal(r.edits[0]!.after, '[DEFAULT]\nignoreip = 127.0.0.1/8\n           10.0.0.0/8\n           192.0.2.7\nbantime = 1h\n');
  });

  it('writes a jail.local override keeping the inherited entries when the value wins in jail.conf, never editing jail.conf', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.d/defaults-debian.conf': '[sshd]\nenabled = true\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7', '2001:db8::/56']);
    assert.deepEqual(r.edits, [{ path: `${F2B}/jail.local`, after: '[sshd]\nignoreip = %(known/ignoreip)s 192.0.2.7 2001:db8::/56\n' }]);
    assert.equal(ignoreip(apply(files, r.edits)), '127.0.0.1/8 ::1 192.0.2.7 2001:db8::/56');
  });

  it('adds the key to an existing [sshd] of jail.local, after its last option', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.local': '[sshd]\nenabled = true\n# trailing comment\n\n[dropbear]\nenabled = false' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.equal(r.edits[0]!.after, '[sshd]\nenabled = true\nignoreip = %(known/ignoreip)s 192.0.2.7\n# trailing comment\n\n[dropbear]\nenabled = false');
  });

  it('never writes fail2ban.local, and warns about # words that fail2ban reads as entries', () => {
    const files = { 'jail.conf': JAIL_CONF, 'fail2ban.local': '[Definition]\nloglevel = INFO\n', 'jail.local': '[sshd]\nignoreip = 10.0.0.1 # office\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.deepEqual(r.edits.map((e) => e.path), [`${F2B}/jail.local`]);
    assert.equal(r.edits[0]!.after, '[sshd]\nignoreip = 10.0.0.1 192.0.2.7 # office\n');
    assert.ok(r.warnings.some((w) => w.code === 'fail2ban-hash-in-value' && w.range?.start.line === 2 && w.range.start.column === 21));
  });

  it('warns that an ignoreip in fail2ban.local has no effect, and writes the jail files instead', () => {
    const files = { 'jail.conf': JAIL_CONF, 'fail2ban.local': '[Definition]\nignoreip = 192.0.2.7\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.deepEqual(r.edits.map((e) => e.path), [`${F2B}/jail.local`]);
    assert.ok(r.warnings.some((w) => w.code === 'fail2ban-ignoreip-ignored-here' && w.file === `${F2B}/fail2ban.local` && w.range?.start.line === 2));
  });

  it('is a no-op with a reason when a listed network already covers the address', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.local': '[DEFAULT]\nignoreip = 192.0.2.0/24\n' };
    const r = ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']);
    assert.deepEqual(r.edits, []);
    assert.match(r.note ?? '', /192\.0\.2\.7 \(by 192\.0\.2\.0\/24\) at \/etc\/fail2ban\/jail\.local:2/);
  });

  it('refuses a malformed entry and a broken configuration', () => {
    assert.equal(ensureIgnoreIp(layersOf({ 'jail.conf': JAIL_CONF }), 'sshd', ['1.2.3.4/x']).warnings[0]?.code, 'fail2ban-bad-ignoreip');
    assert.equal(ensureIgnoreIp(layersOf({ 'jail.conf': JAIL_CONF, 'jail.local': '[sshd]\na = 1\na = 2\n' }), 'sshd', ['1.2.3.4']).warnings[0]?.code, 'fail2ban-duplicate-option');
  });

  it('running the edit twice changes nothing the second time', () => {
    const files = { 'jail.conf': JAIL_CONF };
    const once = apply(files, ensureIgnoreIp(layersOf(files), 'sshd', ['192.0.2.7']).edits);
    assert.deepEqual(ensureIgnoreIp(layersOf(once), 'sshd', ['192.0.2.7']).edits, []);
  });
});

describe('setJailKeys', () => {
  it('writes a jail override into jail.local when the value comes from jail.conf [DEFAULT]', () => {
    const files = { 'jail.conf': JAIL_CONF };
    const r = setJailKeys(layersOf(files), 'sshd', { maxretry: '10', findtime: '10m' });
    assert.deepEqual(r.edits, [{ path: `${F2B}/jail.local`, after: '[sshd]\nmaxretry = 10\nfindtime = 10m\n' }]);
  });

  it('changes the winning value in place in a .local jail section, keeping the rest of the line', () => {
    const files = { 'jail.conf': JAIL_CONF, 'jail.d/sshd.local': '[sshd]\nmaxretry  =  3   ; strict\n' };
    const r = setJailKeys(layersOf(files), 'sshd', { maxretry: '6' });
    assert.equal(r.edits[0]!.after, '[sshd]\nmaxretry  =  6   ; strict\n');
  });

  it('refuses values fail2ban would fail on at start, and says why nothing changes', () => {
    const layers = layersOf({ 'jail.conf': JAIL_CONF });
    for (const [k, v] of [['bantime', 'forever-ish'], ['maxretry', 'x5'], ['enabled', 'yess'], ['mode', 'paranoid'], ['findtime', '0'], ['ignorecommand', 'x']] as const) {
      assert.equal(setJailKeys(layers, 'sshd', { [k]: v }).warnings[0]?.code, 'fail2ban-bad-value', `${k} = ${v}`);
    }
    assert.match(setJailKeys(layers, 'sshd', { maxretry: '5' }).note ?? '', /maxretry is already 5 at \/etc\/fail2ban\/jail\.conf:4/);
  });
});
