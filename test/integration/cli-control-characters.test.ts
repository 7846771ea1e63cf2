import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runSshfix } from '../helpers/run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'sshfix-cli-control-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};

// Port 1 on loopback: were sshfix to connect at all, it would fail with "connection refused".
const inventory = write('inventory.yaml', 'defaults: { agent: true, port: 1 }\nhosts:\n  web-01: { address: 127.0.0.1 }\n');
const playbook = write('banner.yaml', 'tasks:\n  - sshd:\n      set: { Banner: "{{ banner }}" }\n');

describe('control characters on the command line', () => {
  it('validate refuses a --var that would inject a directive, at the reference (exit 1)', () => {
    const run = runSshfix(['validate', '-i', inventory, '--var', 'banner=x\nPermitEmptyPasswords yes', playbook]);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(`${playbook}:3:23: error[control-character]`), run.stderr);
    assert.match(run.stderr, /--var banner/);
  });
  it('validate accepts the same playbook with a clean --var (exit 0)', () => {
    const run = runSshfix(['validate', '-i', inventory, '--var', 'banner=/etc/issue.net', playbook]);
    assert.equal(run.code, 0, run.stderr);
  });
  it('apply refuses a --backup-dir with a newline or a relative one before connecting (exit 1)', () => {
    for (const dir of ['/var/backups/sshfix\nx', 'backups']) {
      const run = runSshfix(['apply', '--yes', '-i', inventory, '--var', 'banner=/etc/issue.net', '--backup-dir', dir, playbook]);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /--backup-dir/);
      assert.doesNotMatch(run.stderr + run.stdout, /refused|commit-interrupted|connection/i);
    }
  });
});
