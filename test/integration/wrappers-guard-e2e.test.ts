/**
 * The tcp_wrappers and sshguard tasks end to end on the lab, as a user runs the shipped
 * playbooks. tcp_wrappers: a client that libwrap refuses gets in after apply, through one narrow
 * hosts.allow line placed before the line that refused it, with comments and every other line
 * kept; apply verifies the files as written over the fresh login. sshguard: a client its hosts
 * backend blocks is whitelisted and unblocked, sshguard is restarted (no init system in the lab:
 * its process group, started again detached) and runs again, blocking what its blacklist still
 * lists. A second plan is a no-op for both. Lab address block 127.77.88.x; client addresses
 * 127.0.0.9, 127.0.0.10 and 127.0.0.12.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { processesInHost, readHostFile, sshguardInstances } from '../helpers/lab-host.js';
import { setTimeout as sleep } from 'node:timers/promises';

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

describe('tcp_wrappers and sshguard tasks on the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let host: { name: string; address: string };
  let guarded: { name: string; address: string };

  before(() => {
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.88.1', scenarios: ['tcp-wrappers', 'sshguard'] });
    [host, guarded] = lab.hosts as unknown as [{ name: string; address: string }, { name: string; address: string }];
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

  it('sshguard: whitelists and unblocks a blocked client, restarts sshguard, and the second plan is a no-op', async () => {
    const before = sshguardInstances(lab, guarded);
    assert.equal(before.length, 1, 'sshguard runs in the host');
    // The scenario's whitelist does not hold 127.0.0.0/8, so sshguard blocks what its blacklist lists at start.
    const hostsAllow = (): string => readHostFile(lab, guarded.name, '/etc/hosts.allow') ?? '';
    const waitForBlock = async (pattern: RegExp): Promise<string> => {
      for (let i = 0; i < 60 && !pattern.test(hostsAllow()); i++) await sleep(250);
      return hostsAllow();
    };
    assert.match(await waitForBlock(/^###sshguard###\nALL : 127\.0\.0\.9 127\.0\.0\.10 : DENY\n###sshguard###\n/), /^###sshguard###\nALL : 127\.0\.0\.9 127\.0\.0\.10 : DENY\n###sshguard###\n# \/etc\/hosts\.allow/);
    assert.notEqual(sshFrom(lab, '127.0.0.9', `root@${guarded.address}`).status, 0, 'blocked before the change');
    const whitelistBefore = readHostFile(lab, guarded.name, '/etc/sshguard/whitelist') ?? '';

    const playbook = 'playbooks/sshguard-unblock.yaml';
    const planned = runCli(['plan', playbook, '-i', lab.inventory, '-l', guarded.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    const plannedHost = report(planned.stdout).hosts[0]!;
    assert.equal(plannedHost.status, 'changed', planned.stderr + planned.stdout);
    assert.match(plannedHost.warnings.join('\n'), /sshguard has no reload: applying restarts it, which drops every block its hosts backend holds \(2 address\(es\) now\)/);

    const applied = runCli(['apply', playbook, '-i', lab.inventory, '-l', guarded.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    assert.equal(applied.status, 0, applied.stderr + applied.stdout);
    const appliedHost = report(applied.stdout).hosts[0]!;
    assert.equal(appliedHost.apply?.outcome, 'applied');
    assert.deepEqual(
      appliedHost.apply?.verification.map((v) => [v.keyword, v.ok]),
      [['unblocked 127.0.0.9', true], ['whitelisted 127.0.0.9', true], ['running', true]],
    );
    assert.match(appliedHost.apply?.reload ?? '', /restarted sshguard's process group and started it again with: .*sshguard/);

    assert.equal(readHostFile(lab, guarded.name, '/etc/sshguard/whitelist'), `${whitelistBefore}127.0.0.9\n`, 'comments and entries kept');
    assert.equal(readHostFile(lab, guarded.name, '/var/lib/sshguard/enemies'), '1764500100|100|4|127.0.0.10\n', 'only its blacklist line goes');
    let after: string[] = [];
    for (let i = 0; i < 40 && after.length === 0; i++) {
      after = sshguardInstances(lab, guarded);
      if (after.length === 0) await sleep(250);
    }
    assert.equal(after.length, 1, 'sshguard runs again');
    assert.notDeepEqual(after, before, 'a new instance');
    // The old instance's whole pipeline is gone: its backend left running would keep writing its block.
    assert.deepEqual(['sshg-blocker', 'sshg-fw-hosts', 'sshg-parser'].map((comm) => processesInHost(lab, guarded, comm).length), [1, 1, 1]);
    // Started again, it blocks what the blacklist still lists, and no longer 127.0.0.9.
    assert.match(await waitForBlock(/^###sshguard###\nALL : 127\.0\.0\.10 : DENY\n###sshguard###\n/), /^###sshguard###\nALL : 127\.0\.0\.10 : DENY\n###sshguard###\n# \/etc\/hosts\.allow/);
    const admitted = sshFrom(lab, '127.0.0.9', `root@${guarded.address}`);
    assert.equal(admitted.status, 0, admitted.stderr);
    assert.notEqual(sshFrom(lab, '127.0.0.10', `root@${guarded.address}`).status, 0, 'the other block stays');

    const again = runCli(['plan', playbook, '-i', lab.inventory, '-l', guarded.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    assert.equal(again.status, 0, again.stderr + again.stdout);
    const againHost = report(again.stdout).hosts[0]!;
    assert.equal(againHost.status, 'ok');
    assert.deepEqual(againHost.changes, []);
    assert.match(againHost.notes.map((n) => n.message).join('\n'), /127\.0\.0\.9 is already in \/etc\/sshguard\/whitelist; sshguard does not block 127\.0\.0\.9/);
  });
});
