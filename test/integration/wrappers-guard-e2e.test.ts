/**
 * The tcp_wrappers task end to end on the lab, as a user runs the shipped playbook: a client that
 * libwrap refuses gets in after apply, through one narrow hosts.allow line placed before the line
 * that refused it, with comments and every other line kept; apply verifies the files as written
 * over the fresh login; a second plan is a no-op. Lab address block 127.77.88.x; client
 * addresses 127.0.0.9 and 127.0.0.12.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { readHostFile } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string };
  changes: { path: string; diff?: string }[];
  warnings: string[];
  notes: { task: string; message: string }[];
  apply?: { outcome: string; reload?: string; verification: { service?: string; keyword: string; expected: string[]; actual: string[]; ok: boolean }[] };
}

const report = (stdout: string): { hosts: JsonHost[] } => JSON.parse(stdout) as { hosts: JsonHost[] };

/** OpenSSH's client from a chosen source address, with the lab's key and known_hosts. */
function sshFrom(lab: TestLab, source: string, target: string): { status: number | null; stderr: string; stdout: string } {
  const args = ['-b', source, '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];
  const result = spawnSync('ssh', [...args, target, 'echo in'], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

const PLAYBOOK = 'playbooks/tcp-wrappers-allow.yaml';

describe('tcp_wrappers task on the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let host: { name: string; address: string };

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.88.1', scenarios: ['tcp-wrappers'] });
    host = lab.hosts[0]!;
  });

  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  it('lets a refused client in with one narrow line before the refusing one; the second plan is a no-op', () => {
    const allowBefore = readHostFile(lab, host.name, '/etc/hosts.allow') ?? '';
    const denyBefore = readHostFile(lab, host.name, '/etc/hosts.deny') ?? '';
    const refused = sshFrom(lab, '127.0.0.9', `root@${host.address}`);
    assert.notEqual(refused.status, 0, 'libwrap refuses 127.0.0.9 before the change');
    assert.match(refused.stderr, /kex_exchange_identification|Connection closed|reset by peer/);

    const planned = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '-l', host.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    const plannedHost = report(planned.stdout).hosts[0]!;
    assert.equal(plannedHost.status, 'changed', planned.stderr + planned.stdout);
    assert.equal(readHostFile(lab, host.name, '/etc/hosts.allow'), allowBefore, 'plan writes nothing');

    const applied = runCli(['apply', PLAYBOOK, '-i', lab.inventory, '-l', host.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    assert.equal(applied.status, 0, applied.stderr + applied.stdout);
    const appliedHost = report(applied.stdout).hosts[0]!;
    assert.equal(appliedHost.apply?.outcome, 'applied');
    assert.deepEqual(
      appliedHost.apply?.verification.map((v) => [v.keyword, v.actual, v.ok]),
      [['sshd: 127.0.0.9', ['granted'], true]],
      'verified by the evaluator over the files read again',
    );
    assert.deepEqual(appliedHost.warnings, []);

    // Narrow, and right before the line that refused it; comments and every other line kept.
    assert.equal(readHostFile(lab, host.name, '/etc/hosts.allow'), allowBefore.replace('sshd: 127.0.0.0/24 : DENY\n', 'sshd: 127.0.0.9\nsshd: 127.0.0.0/24 : DENY\n'));
    assert.equal(readHostFile(lab, host.name, '/etc/hosts.deny'), denyBefore);

    const admitted = sshFrom(lab, '127.0.0.9', `root@${host.address}`);
    assert.equal(admitted.status, 0, admitted.stderr);
    assert.equal(admitted.stdout.trim(), 'in');
    const neighbour = sshFrom(lab, '127.0.0.12', `root@${host.address}`);
    assert.notEqual(neighbour.status, 0, 'the line admits 127.0.0.9 alone, not its neighbours');

    const again = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '-l', host.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    assert.equal(again.status, 0, again.stderr + again.stdout);
    const againHost = report(again.stdout).hosts[0]!;
    assert.equal(againHost.status, 'ok');
    assert.deepEqual(againHost.changes, []);
    assert.match(againHost.notes.map((n) => n.message).join('\n'), /127\.0\.0\.9 already gets through to sshd: granted by \/etc\/hosts\.allow:\d+/);
  });
});
