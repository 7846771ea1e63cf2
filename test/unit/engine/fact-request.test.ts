/**
 * What a host's fact script reads follows the services its tasks declare: a playbook without an
 * sshd task runs no sshd at all (no `sshd -T`, no build facts), one with sshd tasks does.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildFactScript } from '../../../src/engine/facts-script.js';
import { factRequestFor } from '../../../src/engine/run-plan.js';
import { loadPlaybook } from '../../../src/model/playbook.js';

const PLAYBOOKS = join(process.cwd(), 'playbooks');

function scriptFor(file: string): { services: string[]; script: string } {
  const { playbook } = loadPlaybook(readFileSync(join(PLAYBOOKS, file), 'utf8'), file);
  assert.ok(playbook, `${file} loads`);
  const request = factRequestFor(playbook.plays);
  return { services: Object.keys(request.services), script: buildFactScript(request) };
}

/** sshd's own commands: its config dump, and the build facts read with sshd or ssh. */
const RUNS_SSHD = /"\$sshd_bin" -[TV]\b|\bssh -Q\b|\bsshd_dump\b/;

describe('the fact script a playbook needs', () => {
  it('runs no sshd for a playbook without sshd tasks', () => {
    const withoutSshd = readdirSync(PLAYBOOKS).filter((f) => f.endsWith('.yaml') && !scriptFor(f).services.includes('sshd'));
    assert.ok(withoutSshd.length >= 4, `playbooks without sshd tasks: ${withoutSshd.join(', ')}`);
    for (const file of withoutSshd) {
      const { services, script } = scriptFor(file);
      assert.ok(services.length > 0, `${file} reads its own service`);
      assert.doesNotMatch(script, RUNS_SSHD, `${file} (${services.join(', ')}) runs no sshd`);
    }
  });

  it("reads the login's groups up front only for a task that may write something that depends on them", () => {
    const groupsFor = (tasks: string): boolean | undefined => {
      const { playbook, diagnostics } = loadPlaybook(`- hosts: all\n  tasks:\n${tasks}`, 'groups.yaml');
      assert.ok(playbook, JSON.stringify(diagnostics));
      return factRequestFor(playbook.plays).groups;
    };
    // The shipped playbooks name no group keyword (a diffie-hellman-group KexAlgorithms does not count).
    for (const file of readdirSync(PLAYBOOKS).filter((f) => f.endsWith('.yaml'))) {
      const { playbook } = loadPlaybook(readFileSync(join(PLAYBOOKS, file), 'utf8'), file);
      assert.equal(playbook && factRequestFor(playbook.plays).groups, undefined, file);
    }
    assert.equal(groupsFor('    - sshd:\n        set: { MaxStartups: "10:30:100" }\n'), undefined);
    assert.equal(groupsFor('    - sshd:\n        match: "User deploy"\n        set: { X11Forwarding: "no" }\n'), undefined);
    assert.equal(groupsFor('    - sshd:\n        match: "Address {{ net }}"\n        set: { X11Forwarding: "no" }\n'), undefined);
    for (const task of [
      '    - sshd:\n        add: { AllowGroups: [admins] }\n',
      '    - sshd:\n        set: { denygroups: wheel }\n',
      '    - sshd:\n        unset: [AllowGroups]\n',
      '    - sshd:\n        match: "Group sftponly"\n        set: { X11Forwarding: "no" }\n',
    ]) {
      assert.equal(groupsFor(task), true, task);
    }
  });

  it('runs sshd -T once for a playbook with sshd tasks', () => {
    const { services, script } = scriptFor('max-startups.yaml');
    assert.deepEqual(services, ['sshd']);
    assert.equal(script.match(/"\$sshd_bin" -T$/gm)?.length, 1);
  });
});
