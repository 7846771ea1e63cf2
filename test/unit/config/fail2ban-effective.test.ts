import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateFail2banJails, getFail2banOption } from '../../../src/config/fail2ban/effective.js';
import { F2B, layersOf } from './fail2ban-helpers.js';

const value = (files: Record<string, string>, jail: string, key: string): string | undefined => {
  const r = getFail2banOption(layersOf(files), jail, key);
  return r.status === 'ok' ? r.value : r.status;
};

describe('fail2ban layering', () => {
  it('reads jail.conf, jail.d/*.conf, jail.local, jail.d/*.local in that order, later wins', () => {
    const files = {
      'jail.conf': '[sshd]\nmaxretry = 1\nbantime = 1\nfindtime = 1\nport = 1\n',
      'jail.d/b.conf': '[sshd]\nmaxretry = 2\nbantime = 2\nfindtime = 2\n',
      'jail.d/a.conf': '[sshd]\nmaxretry = 3\nbantime = 3\nfindtime = 3\n',
      'jail.local': '[sshd]\nmaxretry = 4\nbantime = 4\n',
      'jail.d/z.local': '[sshd]\nmaxretry = 5\n',
    };
    assert.equal(value(files, 'sshd', 'maxretry'), '5');
    assert.equal(value(files, 'sshd', 'bantime'), '4');
    assert.equal(value(files, 'sshd', 'findtime'), '2');
    assert.equal(value(files, 'sshd', 'port'), '1');
    const r = getFail2banOption(layersOf(files), 'sshd', 'bantime');
    assert.ok(r.status === 'ok' && r.lookup?.entry.path === `${F2B}/jail.local` && r.lookup.entry.line === 3);
  });

  it('a key in the jail section beats [DEFAULT], even a DEFAULT read later', () => {
    const files = { 'jail.conf': '[sshd]\nignoreip = 10.0.0.1\n', 'jail.local': '[DEFAULT]\nignoreip = 192.0.2.1\n' };
    assert.equal(value(files, 'sshd', 'ignoreip'), '10.0.0.1');
    assert.equal(value(files, 'dropbear', 'ignoreip'), '192.0.2.1');
    const r = getFail2banOption(layersOf({ ...files, 'jail.conf': '[sshd]\nport = 1\n' }), 'sshd', 'ignoreip');
    assert.ok(r.status === 'ok' && r.lookup?.scope === 'default' && r.value === '192.0.2.1');
  });

  it('follows [INCLUDES] before/after and an included file\'s .local', () => {
    const files = {
      'jail.conf': '[INCLUDES]\nbefore = paths.conf\n[DEFAULT]\nlog = %(base_log)s\n[sshd]\nlogpath = %(log)s\n',
      'paths.conf': '[DEFAULT]\nbase_log = /var/log/auth.log\n',
      'paths.local': '[DEFAULT]\nbase_log = /var/log/secure\n',
    };
    assert.equal(value(files, 'sshd', 'logpath'), '/var/log/secure');
    assert.deepEqual(layersOf(files).order, [`${F2B}/paths.conf`, `${F2B}/paths.local`, `${F2B}/jail.conf`]);
  });
});

describe('fail2ban interpolation', () => {
  it('%(known/ignoreip)s in a jail section extends the earlier jail value, else the defaults', () => {
    const base = { 'jail.conf': '[DEFAULT]\nignoreip = 127.0.0.1/8\n[sshd]\nport = ssh\n' };
    assert.equal(value({ ...base, 'jail.local': '[sshd]\nignoreip = %(known/ignoreip)s 192.0.2.7\n' }, 'sshd', 'ignoreip'), '127.0.0.1/8 192.0.2.7');
    const earlier = { 'jail.conf': '[sshd]\nignoreip = 10.0.0.1\n', 'jail.local': '[sshd]\nignoreip = %(known/ignoreip)s 192.0.2.7\n' };
    assert.equal(value(earlier, 'sshd', 'ignoreip'), '10.0.0.1 192.0.2.7');
  });

  it('%(known/ignoreip)s in [DEFAULT] refers to itself: fail2ban refuses the configuration', () => {
    const r = getFail2banOption(layersOf({ 'jail.conf': '[DEFAULT]\nignoreip = 127.0.0.1\n[sshd]\nport = 1\n', 'jail.local': '[DEFAULT]\nignoreip = %(known/ignoreip)s 1.2.3.4\n' }), 'sshd', 'ignoreip');
    assert.equal(r.status, 'error');
    assert.ok(r.status === 'error' && r.diagnostic.code === 'fail2ban-interpolation' && r.diagnostic.file === `${F2B}/jail.local`);
  });

  it('reads %(__name__)s, %(default/key)s, %(section/key)s and %% ', () => {
    const files = { 'jail.conf': '[DEFAULT]\nbackend = auto\nb = %(default/backend)s\nf = %(__name__)s[mode=x]\np = 100%%\n[other]\nk = v\n[sshd]\nx = %(other/k)s\n' };
    assert.equal(value(files, 'sshd', 'b'), 'auto');
    assert.equal(value(files, 'sshd', 'f'), 'sshd[mode=x]');
    assert.equal(value(files, 'sshd', 'p'), '100%');
    assert.equal(value(files, 'sshd', 'x'), 'v');
    assert.equal(getFail2banOption(layersOf({ 'jail.conf': '[sshd]\nx = %(nope)s\n' }), 'sshd', 'x').status, 'error');
  });
});

describe('fail2ban jails as fail2ban-client reads them', () => {
  it('keeps # words as ignoreip entries, converts maxretry and enabled as fail2ban does', () => {
    const ev = evaluateFail2banJails(layersOf({ 'jail.conf': '[DEFAULT]\nmaxretry = x5\n[sshd]\nenabled = yes\nignoreip = 10.0.0.1 # office\n[dropbear]\nenabled = yess\n' }));
    const sshd = ev.jails.find((j) => j.name === 'sshd')!;
    assert.equal(sshd.enabled, true);
    assert.equal(sshd.values.get('ignoreip'), '10.0.0.1 # office');
    assert.equal(sshd.values.get('maxretry'), null);
    assert.ok(ev.diagnostics.some((d) => d.code === 'fail2ban-wrong-value'));
    assert.equal(ev.jails.find((j) => j.name === 'dropbear')!.enabled, false);
  });
});
