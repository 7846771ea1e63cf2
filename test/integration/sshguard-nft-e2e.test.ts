/**
 * sshguard with its nftables backend, end to end on the lab as a user runs sshfix. The host
 * (scenario sshguard-nft) has a network namespace of its own, so sshguard's blocks are real
 * (its input hook drops a blocked client, which gets no banner) and the machine's firewall is
 * never touched; a relay brings each client in from its own address. Two ways a block is lifted:
 * - a block only in the nft set (nothing in any file) is lifted alone, as an action: exactly its
 *   element leaves the set, sshguard is not restarted and keeps its other blocks;
 * - a blacklisted address (the shipped playbook: whitelist and unblock) changes sshguard's files,
 *   so sshguard is restarted, and blocks again only what its blacklist still lists.
 * A second plan is a no-op for both. Lab address block 127.77.101.x; clients 127.0.0.9-11.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, scratchDir, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { processesInHost, readHostFile, sshguardInstances, sshRoot } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  changes: { path: string }[];
  actions?: { task: string; service: string; description: string }[];
  warnings: string[];
  notes: { task: string; message: string }[];
  apply?: { outcome: string; reload?: string; steps: { step: string; ok: boolean; message: string }[]; verification: { keyword: string; actual: string[]; ok: boolean }[] };
}

const report = (stdout: string): JsonHost => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts[0]!;

const ONLY_UNBLOCK = `name: Lift sshguard's block of an address
hosts: all
vars:
  address: ""
tasks:
  - name: Lift the block of {{ address }}
    sshguard:
      unblock: ["{{ address }}"]
`;

describe('sshguard with its nft backend on the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let host: { name: string; address: string };
  let unblockOnly: string;

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.101.1', scenarios: ['sshguard-nft'] });
    host = lab.hosts[0] as unknown as { name: string; address: string };
    unblockOnly = join(scratchDir('sshguard-nft'), 'unblock.yaml');
    writeFileSync(unblockOnly, ONLY_UNBLOCK);
  });

  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  /** A login from `source`; a blocked one times out waiting for the banner. */
  const loginFrom = (source: string): { status: number | null; stderr: string } => sshRoot(lab, host, 'true', ['-b', source]);
  /** The set's elements, as root on the host reads them (inside its own network namespace). */
  const attackers = (): string => {
    const r = sshRoot(lab, host, 'nft list set ip sshguard attackers');
    assert.equal(r.status, 0, r.stderr);
    return /elements = \{([^}]*)\}/.exec(r.stdout)?.[1]?.trim() ?? '';
  };
  const cli = (command: 'plan' | 'apply', playbook: string, address: string): { status: number | null; host: JsonHost; output: string } => {
    const result = runCli([command, playbook, '-i', lab.inventory, '--var', `address=${address}`, '--format', 'json', ...(command === 'apply' ? ['--yes'] : [])]);
    return { status: result.status, host: report(result.stdout), output: result.stderr + result.stdout };
  };

  it('blocks for real inside the host only: a blocked client gets no banner, the machine keeps its own firewall', () => {
    assert.equal(attackers(), '127.0.0.9, 127.0.0.10', 'blocked from the blacklist at start');
    const blocked = loginFrom('127.0.0.9');
    assert.notEqual(blocked.status, 0);
    assert.match(blocked.stderr, /timed out/);
    assert.equal(loginFrom('127.0.0.11').status, 0, 'an address not blocked gets in');
    const machine = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    assert.equal(machine.status, 0, machine.stderr);
    assert.doesNotMatch(machine.stdout, /sshguard/, "the machine's firewall has no sshguard table");
  });

  it('lifts a block held only in the nft set as an action: no file, no restart, the other blocks stay', () => {
    // As sshguard's backend blocks an attacker it detected: an element in the set, nothing in a file.
    const added = sshRoot(lab, host, "nft add element ip sshguard attackers '{ 127.0.0.11 }'");
    assert.equal(added.status, 0, added.stderr);
    assert.notEqual(loginFrom('127.0.0.11').status, 0, 'blocked before the change');
    const files = ['/etc/sshguard/whitelist', '/var/lib/sshguard/enemies', '/etc/hosts.allow'].map((p) => readHostFile(lab, host.name, p));
    const instances = sshguardInstances(lab, host);
    assert.equal(instances.length, 1, 'sshguard runs');

    const planned = cli('plan', unblockOnly, '127.0.0.11');
    assert.equal(planned.status, 0, planned.output);
    assert.equal(planned.host.status, 'changed');
    assert.deepEqual(planned.host.changes, []);
    assert.deepEqual(planned.host.actions?.map((a) => [a.service, a.description]), [['sshguard', 'lift the block 127.0.0.11/32 from the nft set ip sshguard attackers']]);

    const applied = cli('apply', unblockOnly, '127.0.0.11');
    assert.equal(applied.status, 0, applied.output);
    assert.equal(applied.host.apply?.outcome, 'applied', applied.output);
    assert.deepEqual(applied.host.apply?.steps.filter((s) => s.step === 'unblock').map((s) => [s.ok, s.message]), [[true, '127.0.0.11/32 from the nft set ip sshguard attackers']]);
    assert.deepEqual(applied.host.apply?.verification.map((v) => [v.keyword, v.actual, v.ok]), [['unblocked 127.0.0.11', ['unblocked'], true]]);

    assert.equal(loginFrom('127.0.0.11').status, 0, 'the client gets in');
    assert.equal(attackers(), '127.0.0.9, 127.0.0.10', 'exactly its element left the set');
    assert.deepEqual(sshguardInstances(lab, host), instances, 'sshguard was not restarted');
    assert.deepEqual(['/etc/sshguard/whitelist', '/var/lib/sshguard/enemies', '/etc/hosts.allow'].map((p) => readHostFile(lab, host.name, p)), files, 'no file written');

    const again = cli('plan', unblockOnly, '127.0.0.11');
    assert.equal(again.status, 0, again.output);
    assert.equal(again.host.status, 'ok');
    assert.deepEqual(again.host.actions ?? [], []);
    assert.match(again.host.notes.map((n) => n.message).join('\n'), /sshguard does not block 127\.0\.0\.11/);
  });

  it('unblocks and whitelists a blacklisted address with the shipped playbook: sshguard restarts and blocks only what its blacklist still lists', async () => {
    const playbook = 'playbooks/sshguard-unblock.yaml';
    const before = sshguardInstances(lab, host);
    const whitelistBefore = readHostFile(lab, host.name, '/etc/sshguard/whitelist') ?? '';
    const planned = cli('plan', playbook, '127.0.0.9');
    assert.equal(planned.host.status, 'changed', planned.output);
    assert.deepEqual(planned.host.changes.map((c) => c.path).sort(), ['/etc/sshguard/whitelist', '/var/lib/sshguard/enemies']);
    assert.deepEqual(planned.host.actions ?? [], [], 'the restart drops the block: no separate release');
    assert.match(planned.host.warnings.join('\n'), /applying restarts it, which drops every block its nft-sets backend holds \(2 address\(es\) now\)/);

    const applied = cli('apply', playbook, '127.0.0.9');
    assert.equal(applied.status, 0, applied.output);
    assert.equal(applied.host.apply?.outcome, 'applied', applied.output);
    assert.deepEqual(applied.host.apply?.verification.map((v) => [v.keyword, v.ok]), [['unblocked 127.0.0.9', true], ['whitelisted 127.0.0.9', true], ['running', true]]);
    assert.equal(readHostFile(lab, host.name, '/etc/sshguard/whitelist'), `${whitelistBefore}127.0.0.9\n`, 'comments and entries kept');
    assert.equal(readHostFile(lab, host.name, '/var/lib/sshguard/enemies'), '1764500100|100|4|127.0.0.10\n', 'only its blacklist line goes');

    let now: string[] = [];
    for (let i = 0; i < 40 && (now.length === 0 || attackers() !== '127.0.0.10'); i++) {
      await sleep(250);
      now = sshguardInstances(lab, host);
    }
    assert.equal(now.length, 1, 'sshguard runs again');
    assert.notDeepEqual(now, before, 'a new instance');
    // The old instance's whole pipeline is gone: a backend left running would keep its blocks.
    assert.deepEqual(['sshg-blocker', 'sshg-fw-nft-set', 'sshg-parser'].map((comm) => processesInHost(lab, host, comm).length), [1, 1, 1]);
    assert.equal(attackers(), '127.0.0.10', 'started again, it blocks what the blacklist still lists');
    assert.equal(loginFrom('127.0.0.9').status, 0, 'the client gets in');
    assert.notEqual(loginFrom('127.0.0.10').status, 0, 'the other block stays');

    const again = cli('plan', playbook, '127.0.0.9');
    assert.equal(again.status, 0, again.output);
    assert.equal(again.host.status, 'ok');
    assert.deepEqual(again.host.changes, []);
  });
});
