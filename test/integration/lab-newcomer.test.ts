/**
 * `lab up` as a newcomer meets it (lab address block 127.77.92.x): a host whose sshd cannot bind
 * its address (another lab holds it) fails with its boot log instead of being reported started;
 * `lab up` with no --hosts keeps a running lab's size; `lab status --format json` is a versioned
 * snake_case document like every other report.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { nonSnakeKeys } from '../helpers/json-keys.js';

describe('lab up and lab status', { timeout: 180_000 }, () => {
  let lab: TestLab;
  before(() => {
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.92.1', scenarios: ['debian-cloud'] });
  });
  after(() => lab?.down());

  it('fails with the boot log when another lab already holds the address, and never says "started"', () => {
    const other = mkdtempSync(join('/var/tmp', 'sshfix-test-lab-'));
    try {
      const up = runCli(['lab', 'up', '--hosts', '1', '--dir', other, '--first-address', '127.77.92.2']);
      assert.equal(up.status, 1, up.stderr);
      assert.doesNotMatch(up.stderr, /lab-01 127\.77\.92\.2 started/);
      assert.doesNotMatch(up.stdout, /lab up: /);
      assert.match(up.stderr, /lab-01: sshd exited \(code \d+\) while starting \(boot log \S+boot\.log/);
      assert.match(up.stderr, /Bind to port 22 on 127\.77\.92\.2 failed: Address already in use/);
      assert.match(up.stderr, /Something else already listens on 127\.77\.92\.2:22: another lab/);
    } finally {
      runCli(['lab', 'down', '--dir', other]);
      rmSync(other, { recursive: true, force: true });
    }
    // The lab that held the address is untouched.
    const status = runCli(['lab', 'status', '--dir', lab.dir]);
    assert.equal(status.status, 0, status.stdout + status.stderr);
  });

  it('lab up with no --hosts or --first-address keeps the running lab as it is', () => {
    const again = runCli(['lab', 'up', '--dir', lab.dir]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^lab up: 2 host\(s\) \(0 started, 2 already running\)$/m);
  });

  it('prints a plan command that works as written: the remediation playbooks, run the way sshfix was run', () => {
    const again = runCli(['lab', 'up', '--dir', lab.dir]);
    const hint = /^try: (.*)$/m.exec(again.stdout)?.[1] ?? '';
    assert.match(hint, /^node \S+main\.js plan /);
    assert.doesNotMatch(hint, /\*|compliance/);
    const [, script, ...args] = hint.split(' ');
    const plan = runCli([...args], { env: { CI: '1' } });
    assert.ok(script?.endsWith('main.js'));
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /^Plan: 2 host\(s\): /m, plan.stderr);
  });

  it('lab status --format json carries format_version and command, with snake_case keys', () => {
    const status = runCli(['lab', 'status', '--dir', lab.dir, '--format', 'json']);
    assert.equal(status.status, 0, status.stderr);
    const report = JSON.parse(status.stdout) as Record<string, unknown>;
    assert.equal(report['format_version'], 1);
    assert.equal(report['command'], 'lab status');
    assert.deepEqual(nonSnakeKeys(report), []);
    assert.equal((report['hosts'] as unknown[]).length, 2);
  });
});
