/**
 * Config injection end to end (issue 14, section 2): a value holding a newline never reaches a
 * host, and a change that moves a keyword the plan did not name (here, a saved plan edited by
 * hand to carry a second directive) fails verification and is rolled back. Lab address block
 * 127.77.84.x.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, labInventory, sshdDumpValue } from '../helpers/lab-host.js';

interface SavedPlanFile {
  hosts: { files: { path: string; after_base64: string }[] }[];
}

describe('config injection against the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  let playbook: string;
  const target = (): { name: string; address: string } => lab.hosts[0]!;

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.84.1', scenarios: ['debian-cloud'] });
    inventory = join(lab.dir, 'injection-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
    playbook = join(lab.dir, 'login-grace.yaml');
    writeFileSync(playbook, 'hosts: all\ntasks:\n  - sshd:\n      set: { LoginGraceTime: "{{ grace }}" }\n');
  });
  after(() => lab?.down());

  it('apply refuses a --var holding a newline before touching the host (exit 1)', () => {
    const files = fingerprint(lab, target().name);
    const result = runCli(['apply', playbook, '-i', inventory, '--var', 'grace=45\nPermitEmptyPasswords yes', '--yes', '--format', 'json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /error\[control-character\]/);
    assert.deepEqual(fingerprint(lab, target().name), files);
    assert.deepEqual(sshdDumpValue(lab, target(), 'permitemptypasswords'), ['no']);
  });

  it('a change that moves an unplanned keyword fails verification and is rolled back', () => {
    const planFile = join(lab.dir, 'tampered.plan.json');
    const planned = runCli(['plan', playbook, '-i', inventory, '--var', 'grace=45', '--out', planFile]);
    assert.equal(planned.status, 0, planned.stderr);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as SavedPlanFile;
    const file = saved.hosts[0]!.files.find((f) => /\nLoginGraceTime 45\n/.test(Buffer.from(f.after_base64, 'base64').toString('utf8')));
    assert.ok(file, 'the plan sets LoginGraceTime 45 in some file');
    const text = Buffer.from(file.after_base64, 'base64').toString('utf8').replace('\nLoginGraceTime 45\n', '\nLoginGraceTime 45\nPermitEmptyPasswords yes\n');
    file.after_base64 = Buffer.from(text).toString('base64');
    writeFileSync(planFile, JSON.stringify(saved));

    const files = fingerprint(lab, target().name);
    const result = runCli(['apply', '--plan', planFile, '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    const host = (JSON.parse(result.stdout) as { hosts: { error?: { code: string; message: string }; apply?: { rolled_back: boolean; outcome: string } }[] }).hosts[0]!;
    assert.equal(host.error?.code, 'verification-failed', host.error?.message);
    assert.match(host.error?.message ?? '', /permitemptypasswords was no, is now yes/);
    assert.equal(host.apply?.rolled_back, true);
    assert.equal(host.apply?.outcome, 'rolled-back');
    assert.deepEqual(fingerprint(lab, target().name), files);
    assert.deepEqual(sshdDumpValue(lab, target(), 'permitemptypasswords'), ['no']);
    assert.notDeepEqual(sshdDumpValue(lab, target(), 'logingracetime'), ['45']);
  });
});
