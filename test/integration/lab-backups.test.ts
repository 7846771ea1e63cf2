/**
 * A lab host starts with no sshfix backups whatever the machine holds: an unfinished transaction
 * left in the machine's own /var/backups/sshfix (by any earlier use of sshfix there) would
 * otherwise appear on every host and make apply refuse it as "never confirmed nor restored".
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { hostRoot, sshdDumpValue, sshRoot } from '../helpers/lab-host.js';

const MACHINE_BACKUPS = '/var/backups/sshfix';
const LEFTOVER = join(MACHINE_BACKUPS, '20200101T000000Z-0badc0de');

describe('lab hosts and the machine\'s own sshfix backups', { timeout: 180_000 }, () => {
  let lab: TestLab;
  let createdRoot = false;

  before(() => {
    createdRoot = !existsSync(MACHINE_BACKUPS);
    mkdirSync(join(LEFTOVER, 'files'), { recursive: true });
    writeFileSync(join(LEFTOVER, 'armed'), '');
    writeFileSync(join(LEFTOVER, 'restore.sh'), '#!/bin/sh\nexit 0\n');
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.80.1', scenarios: ['tight-maxstartups'] });
  });

  after(() => {
    lab?.down();
    rmSync(createdRoot ? MACHINE_BACKUPS : LEFTOVER, { recursive: true, force: true });
  });

  it('does not show the machine\'s unfinished transaction on a host', () => {
    const host = lab.hosts[0] as { name: string; address: string };
    assert.equal(existsSync(join(hostRoot(lab, host.name), LEFTOVER)), false);
    const listed = sshRoot(lab, host, `ls -A ${MACHINE_BACKUPS} 2>/dev/null; echo end`);
    assert.equal(listed.stdout.trim(), 'end', 'the host sees no sshfix backups');
  });

  it('lets apply run a transaction on that host', () => {
    const host = lab.hosts[0] as { name: string; address: string };
    const playbook = join(lab.dir, 'backups.yaml');
    writeFileSync(playbook, 'name: backups\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxAuthTries: 4 }\n');
    const applied = runCli(['apply', playbook, '-i', lab.inventory, '--yes']);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    assert.deepEqual(sshdDumpValue(lab, host, 'maxauthtries'), ['4']);
    assert.ok(existsSync(LEFTOVER), 'the machine\'s own directory is untouched');
  });
});
