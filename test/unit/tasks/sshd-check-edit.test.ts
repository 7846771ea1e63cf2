import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { editSshdConfigAll } from '../../../src/config/sshd/edit.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { checkSshdEdit } from '../../../src/tasks/sshd/check-edit.js';
import { editsOf } from '../../../src/tasks/sshd/plan.js';
import type { SshdTaskParams } from '../../../src/tasks/sshd/schema.js';
import { listFixtures, loadSnapshot, SSHD_FIXTURES } from '../config/fixtures.js';

const VERSION = '9.2p1';
const MAIN = '/etc/ssh/sshd_config';

const paramsOf = (p: Partial<SshdTaskParams>): SshdTaskParams => ({ config: MAIN, set: [], unset: [], add: [], remove: [], ...p });
const check = (params: Partial<SshdTaskParams>, before: string, after: string) =>
  checkSshdEdit(paramsOf(params), [{ path: MAIN, before, after }], VERSION);
const banner = { set: [{ keyword: 'Banner', value: '/etc/issue.net' }] };

describe('checkSshdEdit on crafted files', () => {
  const before = 'Port 22\n#Banner none\nUsePAM yes\n';
  it('accepts one directive for the keyword, a changed line, a policy comment and the task\'s Match block', () => {
    assert.equal(check(banner, before, 'Port 22\n#Banner none\nBanner /etc/issue.net\nUsePAM yes\n'), undefined);
    assert.equal(check(banner, 'banner = /etc/motd # old\n', 'banner = /etc/issue.net # old\n'), undefined);
    assert.equal(check(banner, 'Banner /a\nBanner /b\n', 'Banner /etc/issue.net\n#Banner /b # disabled by sshfix: Banner is set at /etc/ssh/sshd_config:1\n'), undefined);
    assert.equal(
      check({ ...banner, match: { text: 'address 192.0.2.0/24', criteria: [] } }, before, `${before}\nMatch Address 192.0.2.0/24\n\tBanner /etc/issue.net\n`),
      undefined,
    );
    // An alias spelling on an existing line is the same keyword.
    assert.equal(check({ set: [{ keyword: 'KbdInteractiveAuthentication', value: 'no' }] }, 'ChallengeResponseAuthentication yes\n', 'ChallengeResponseAuthentication no\n'), undefined);
  });
  it('refuses a second directive smuggled in after the value', () => {
    const refusal = check(banner, before, 'Port 22\n#Banner none\nBanner x\nPermitEmptyPasswords yes\nUsePAM yes\n');
    assert.equal(refusal?.code, 'unexpected-edit');
    assert.match(refusal!.message, /line 4\b/);
  });
  it('refuses a Match line the task did not ask for, or a different one', () => {
    assert.equal(check(banner, before, `${before}Match all\n`)?.code, 'unexpected-edit');
    const scoped = { ...banner, match: { text: 'User deploy', criteria: [] } };
    assert.equal(check(scoped, before, `${before}Match User deploy,root\n\tBanner /etc/issue.net\n`)?.code, 'unexpected-edit');
  });
  it('refuses a comment the policy does not write and a line sshd cannot read', () => {
    assert.equal(check(banner, before, `${before}# hello\n`)?.code, 'unexpected-edit');
    assert.equal(check(banner, before, `${before}#PermitRootLogin yes # disabled by sshfix: x\n`)?.code, 'unexpected-edit');
    assert.equal(check(banner, before, `${before}Banner "/etc/issue\n`)?.code, 'unexpected-edit');
  });
  it('checks every changed file, drop-ins too', () => {
    const refusal = checkSshdEdit(paramsOf(banner), [
      { path: MAIN, before, after: before },
      { path: '/etc/ssh/sshd_config.d/10-x.conf', before: 'Banner /a\n', after: 'Banner /b\nPermitRootLogin yes\n' },
    ], VERSION);
    assert.match(refusal?.message ?? '', /10-x\.conf/);
  });
});

describe('checkSshdEdit on what the edit engine writes', () => {
  const tasks: Partial<SshdTaskParams>[] = [
    { set: [{ keyword: 'ClientAliveInterval', value: '60' }, { keyword: 'MaxStartups', value: '100:30:500' }] },
    { set: [{ keyword: 'PasswordAuthentication', value: 'no' }, { keyword: 'X11Forwarding', value: 'no' }], match: { text: 'Address 192.0.2.0/24', criteria: [] } },
    { unset: ['X11Forwarding', 'PrintMotd'] },
    { add: [{ keyword: 'AllowUsers', values: ['deploy'] }], remove: [{ keyword: 'AcceptEnv', values: ['LANG'] }] },
    { set: [{ keyword: 'KexAlgorithms', value: '+diffie-hellman-group14-sha1' }, { keyword: 'PubkeyAuthentication', value: 'yes' }] },
    { set: [{ keyword: 'ListenAddress', value: '127.0.0.1' }] },
  ];
  for (const fixture of listFixtures(SSHD_FIXTURES)) {
    it(`accepts every legitimate edit of ${fixture}`, () => {
      const tree = buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, fixture)), MAIN).tree;
      let changed = 0;
      for (const task of tasks) {
        const params = paramsOf(task);
        const result = editSshdConfigAll(tree, editsOf(params), { version: VERSION });
        if (result.diagnostics.some((d) => d.severity === 'error')) continue;
        changed += result.changes.length;
        assert.equal(checkSshdEdit(params, result.changes, VERSION), undefined, JSON.stringify(task));
      }
      assert.ok(changed > 0, 'the tasks changed nothing: the check was not exercised');
    });
  }
  it('refuses what the engine writes for values holding a newline', () => {
    const tree = buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, 'debian-12')), MAIN).tree;
    const injected: Partial<SshdTaskParams>[] = [
      { set: [{ keyword: 'AuthorizedKeysFile', value: '.ssh/authorized_keys\nPermitEmptyPasswords yes' }] },
      { set: [{ keyword: 'ForceCommand', value: 'true\nMatch all' }], match: { text: 'User deploy', criteria: [] } },
      { add: [{ keyword: 'AcceptEnv', values: ['LANG\nPermitRootLogin yes'] }] },
    ];
    for (const task of injected) {
      const params = paramsOf(task);
      const result = editSshdConfigAll(tree, editsOf(params), { version: VERSION });
      assert.equal(result.changes.length, 1, JSON.stringify(task));
      assert.equal(checkSshdEdit(params, result.changes, VERSION)?.code, 'unexpected-edit', JSON.stringify(task));
    }
  });
});
