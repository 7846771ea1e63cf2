/**
 * Lockout prediction at plan time: a change that would make sshd refuse sshfix's own login (its
 * account, from its address, with its method, Match blocks applied) fails the host with
 * `would-lock-out` and the responsible line, before apply writes anything.
 */
import assert from 'node:assert/strict';
import { changeDiff } from '../../../src/report/diff.js';
import { describe, it } from 'node:test';
import { planHost } from '../../../src/engine/plan-host.js';
import type { HostFacts } from '../../../src/engine/facts.js';
import { factsWithConfig, playsOf } from './sshd-facts.js';

const KEY_RUNNER = { name: 'web-01', address: '192.0.2.10', vars: {}, user: 'deploy', port: 22, identityFile: '/home/me/.ssh/id_ed25519', agent: false };
const PASSWORD_RUNNER = { name: 'web-01', address: '192.0.2.10', vars: {}, user: 'deploy', port: 22, agent: false, passwordEnv: 'SSHFIX_PW' };
const FROM = '198.51.100.7';
const BASE = 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nKbdInteractiveAuthentication no\n';

const task = (body: string) => `name: x\nhosts: all\ntasks:\n  - sshd:\n${body}`;
function plan(main: string, body: string, host: typeof KEY_RUNNER | typeof PASSWORD_RUNNER = KEY_RUNNER, facts: Partial<HostFacts> = {}) {
  return planHost({ host, plays: playsOf(task(body)), cliVars: {}, facts: factsWithConfig(main, { runnerAddress: FROM, ...facts }) }).plan;
}
function assertLockout(p: ReturnType<typeof plan>, line: string, reason: RegExp): void {
  assert.equal(p.status, 'failed', JSON.stringify(p.changes.map((c) => changeDiff(c))));
  assert.equal(p.error?.code, 'would-lock-out');
  assert.match(p.error?.message ?? '', reason);
  assert.ok(p.error?.message.endsWith(`; responsible: ${line}`), `${p.error?.message ?? ''} names ${line}`);
  assert.deepEqual(p.files, [], 'nothing is written');
}

describe('lockout prediction', () => {
  it('taking the runner off AllowUsers', () => {
    const p = plan(`${BASE}AllowUsers deploy alice\n`, '      remove: { AllowUsers: [deploy] }\n');
    assertLockout(p, '/etc/ssh/sshd_config:4', /deploy from 198\.51\.100\.7.*AllowUsers does not list deploy/);
  });

  it('putting the runner on DenyUsers, with the line that lists it', () => {
    const p = plan(`${BASE}DenyUsers mallory\nDenyUsers eve\n`, '      add: { DenyUsers: [deploy] }\n');
    assertLockout(p, '/etc/ssh/sshd_config:4', /DenyUsers lists deploy/);
    const pattern = plan(BASE, '      add: { DenyUsers: ["deploy@198.51.100.0/24"] }\n');
    assertLockout(pattern, '/etc/ssh/sshd_config:4', /DenyUsers lists deploy@198\.51\.100\.0\/24/);
    const elsewhere = plan(BASE, '      add: { DenyUsers: ["deploy@203.0.113.0/24"] }\n');
    assert.equal(elsewhere.status, 'changed', 'a pattern for another address does not lock the runner out');
  });

  it('PubkeyAuthentication no while the runner logs in with a key', () => {
    assertLockout(plan(BASE, '      set: { PubkeyAuthentication: "no" }\n'), '/etc/ssh/sshd_config:4', /PubkeyAuthentication no at \/etc\/ssh\/sshd_config:4/);
    const withPassword = plan(BASE, '      set: { PubkeyAuthentication: "no" }\n', PASSWORD_RUNNER);
    assert.equal(withPassword.status, 'changed', 'a password runner still gets in (the drop-in enables passwords)');
  });

  it('PasswordAuthentication no while the runner logs in with a password', () => {
    assertLockout(plan(BASE, '      set: { PasswordAuthentication: "no" }\n', PASSWORD_RUNNER), '/etc/ssh/sshd_config.d/50-cloud-init.conf:1', /password \(PasswordAuthentication no at \/etc\/ssh\/sshd_config\.d\/50-cloud-init\.conf:1\)/);
  });

  it('inside a Match Address block that covers the runner address, and not one that does not', () => {
    const inside = plan(BASE, '      match: "Address 198.51.100.0/24"\n      set: { PubkeyAuthentication: "no" }\n');
    assertLockout(inside, '/etc/ssh/sshd_config:6', /PubkeyAuthentication no at \/etc\/ssh\/sshd_config:6/);
    const outside = plan(BASE, '      match: "Address 203.0.113.0/24"\n      set: { PubkeyAuthentication: "no" }\n');
    assert.equal(outside.status, 'changed', JSON.stringify(outside.error));
  });

  it('PermitRootLogin for a root runner: no refuses, prohibit-password keeps a key runner in', () => {
    const root = { ...KEY_RUNNER, user: 'root' };
    assertLockout(plan(BASE, '      set: { PermitRootLogin: "no" }\n', root), '/etc/ssh/sshd_config:4', /PermitRootLogin no refuses root/);
    const permitted = `${BASE}PermitRootLogin yes\n`;
    assert.equal(plan(permitted, '      set: { PermitRootLogin: "prohibit-password" }\n', root).status, 'changed');
    const rootPassword = { ...PASSWORD_RUNNER, user: 'root' };
    assertLockout(plan(permitted, '      set: { PermitRootLogin: "prohibit-password" }\n', rootPassword), '/etc/ssh/sshd_config:4', /PermitRootLogin without-password at \/etc\/ssh\/sshd_config:4/);
  });

  it('AllowGroups with the runner groups known, and a warning when they are not', () => {
    const p = plan(`${BASE}AllowGroups deploy admins\n`, '      remove: { AllowGroups: [deploy] }\n', KEY_RUNNER, { loginGroups: ['deploy', 'users'] });
    assertLockout(p, '/etc/ssh/sshd_config:4', /AllowGroups lists none of deploy's groups/);
    const unknown = plan(`${BASE}AllowGroups deploy admins\n`, '      remove: { AllowGroups: [deploy] }\n');
    assert.equal(unknown.status, 'changed');
    assert.match(unknown.warnings.join('\n'), /cannot tell whether the change locks out sshfix's own login \(deploy from 198\.51\.100\.7\): AllowGroups admins applies, and deploy's groups on the host are not known/);
  });

  it('inside a Match Group block: judged with the runner groups known, and a warning when they are not (never taken as not matching)', () => {
    const body = '      match: "Group {{ group }}"\n      set: { PubkeyAuthentication: "no" }\n';
    const known = planHost({ host: { ...KEY_RUNNER, vars: { group: 'ops' } }, plays: playsOf(task(body)), cliVars: {}, facts: factsWithConfig(BASE, { runnerAddress: FROM, loginGroups: ['deploy', 'ops'] }) }).plan;
    assertLockout(known, '/etc/ssh/sshd_config:6', /PubkeyAuthentication no at \/etc\/ssh\/sshd_config:6/);
    const unknown = planHost({ host: { ...KEY_RUNNER, vars: { group: 'ops' } }, plays: playsOf(task(body)), cliVars: {}, facts: factsWithConfig(BASE, { runnerAddress: FROM }) }).plan;
    assert.equal(unknown.status, 'changed');
    assert.match(
      unknown.warnings.join('\n'),
      /cannot tell whether the change locks out sshfix's own login \(deploy from 198\.51\.100\.7\): no method the runner logs in with is enabled: publickey \(PubkeyAuthentication no at \/etc\/ssh\/sshd_config:6\) if deploy is inside the groups of a Match Group block, and deploy's groups on the host are not known \(\/etc\/ssh\/sshd_config:5\)/,
    );
  });

  it('a Match Group block with the groups not known does not hide a lockout elsewhere in the config', () => {
    // A Match Group that a variable brought in, then a global change that locks the runner out whatever its groups.
    const templated = planHost({
      host: { ...KEY_RUNNER, vars: { m: 'Group sftp' } },
      plays: playsOf(task('      match: "{{ m }}"\n      set: { X11Forwarding: "no" }\n  - sshd:\n      set: { PubkeyAuthentication: "no" }\n')),
      cliVars: {},
      facts: factsWithConfig(BASE, { runnerAddress: FROM }),
    }).plan;
    assertLockout(templated, '/etc/ssh/sshd_config:5', /PubkeyAuthentication no/);
    // The host's own Match Group block, its groups not read (id -Gn failed).
    const own = plan(`${BASE}Match Group sftp\n  ForceCommand internal-sftp\n`, '      set: { PubkeyAuthentication: "no" }\n');
    assertLockout(own, '/etc/ssh/sshd_config:4', /PubkeyAuthentication no/);
    // AllowGroups that cannot be judged does not hide it either.
    const allowGroups = plan(`${BASE}AllowGroups deploy admins\n`, '      set: { PubkeyAuthentication: "no" }\n');
    assertLockout(allowGroups, '/etc/ssh/sshd_config:5', /PubkeyAuthentication no/);
  });

  it('AuthenticationMethods that needs a method the runner lacks', () => {
    assertLockout(plan(BASE, '      set: { AuthenticationMethods: "publickey,password" }\n'), '/etc/ssh/sshd_config:4', /AuthenticationMethods publickey,password needs a method/);
  });

  it('does not blame a change for a login the config already refuses by this model', () => {
    const p = plan(`${BASE}AllowUsers alice\n`, '      set: { PubkeyAuthentication: "no" }\n');
    assert.equal(p.status, 'changed');
  });
});
