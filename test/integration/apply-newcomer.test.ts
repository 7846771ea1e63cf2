/**
 * What a first apply shows a person, against the lab (address block 127.77.91.x): the interactive
 * path reports hosts that could not be planned with their real status and error, counted as
 * `--yes` counts them; plan progress says "would change"; human output names each changed host's
 * transaction and backups; Ctrl-C says what happens to the hosts in flight, and a second one names
 * the hosts it leaves to their dead-man switch, which then restores them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT, runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { labInventory, sshdDumpValue } from '../helpers/lab-host.js';
import { nonSnakeKeys } from '../helpers/json-keys.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string };
  apply?: { transaction: string; backup_dir?: string };
}

describe('apply as a newcomer meets it', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  let playbook: string;
  const scenarios = ['debian-cloud', 'legacy-kex', 'broken-dropin', 'hardened-match'];
  const host = (scenario: string): { name: string; address: string } => {
    const found = lab.hosts.find((h) => h.scenario === scenario);
    assert.ok(found, scenario);
    return found;
  };

  before(() => {
    lab = startTestLab({ hosts: scenarios.length, firstAddress: '127.77.91.1', scenarios });
    inventory = join(lab.dir, 'newcomer-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
    playbook = join(lab.dir, 'max-sessions.yaml');
  });
  after(() => lab?.down());

  const setMaxSessions = (value: number): void => {
    writeFileSync(playbook, `name: sessions\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxSessions: ${value} }\n`);
  };

  it('plan progress says "would change", never "changed"', () => {
    setMaxSessions(6);
    const result = runCli(['plan', playbook, '-i', inventory, '-l', host('debian-cloud').name], { env: { CI: '1' } });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`${host('debian-cloud').name}: would change \\(1 change\\(s\\)\\)`));
    assert.doesNotMatch(result.stderr, /: changed/);
  });

  it('interactive apply reports unreachable and refused hosts with their real status and error, counted as --yes counts them', () => {
    setMaxSessions(7);
    const targets = ['debian-cloud', 'legacy-kex', 'broken-dropin'].map((s) => host(s).name).join(',');
    const command = `${process.execPath} ${CLI} apply ${playbook} -i ${inventory} -l ${targets}`;
    // `script` gives the CLI a terminal; what we pipe in is what the user types.
    const accepted = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { input: 'yes\n', encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    const out = accepted.stdout.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    assert.equal(accepted.status, 1, out);
    assert.doesNotMatch(out, /not-in-plan/);
    assert.match(out, new RegExp(`${host('legacy-kex').name} \\(${host('legacy-kex').address}\\)\\s+unreachable\\s+kex-mismatch: `));
    assert.match(out, new RegExp(`${host('broken-dropin').name} \\(${host('broken-dropin').address}\\)\\s+failed\\s+config-invalid: `));
    assert.match(out, /Apply: 3 host\(s\): 1 changed, 0 ok, 1 failed, 1 unreachable\./);
    const transaction = new RegExp(`${host('debian-cloud').name} [^\\n]*changed[^\\n]*\\n  transaction (\\S+), backups in /var/backups/sshfix/(\\S+)\\n`).exec(out);
    assert.ok(transaction, out);
    assert.equal(transaction[1], transaction[2]);

    // The same hosts through --yes: the same statuses and error codes, and snake_case JSON.
    setMaxSessions(9);
    const yes = runCli(['apply', playbook, '-i', inventory, '-l', targets, '--yes', '--format', 'json']);
    assert.equal(yes.status, 1, yes.stderr);
    const report = JSON.parse(yes.stdout) as { summary: Record<string, number>; hosts: JsonHost[] };
    assert.deepEqual(nonSnakeKeys(report), []);
    assert.deepEqual(
      report.hosts.map((h) => [h.name, h.status, h.error?.code]),
      [
        [host('debian-cloud').name, 'changed', undefined],
        [host('legacy-kex').name, 'unreachable', 'kex-mismatch'],
        [host('broken-dropin').name, 'failed', 'config-invalid'],
      ],
    );
    assert.deepEqual([report.summary['changed'], report.summary['failed'], report.summary['unreachable']], [1, 1, 1]);
  });

  it('Ctrl-C says the hosts in flight finish or roll back; a second one names the host left to its dead-man switch, which restores it', async () => {
    const target = host('hardened-match');
    const before = sshdDumpValue(lab, target, 'maxsessions');
    const value = before[0] === '3' ? 2 : 3;
    setMaxSessions(value);
    const child = spawn(process.execPath, [CLI, 'apply', playbook, '-i', inventory, '-l', target.name, '--yes', '--settle', '5s', '--confirm-timeout', '16s'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CI: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!stderr.includes(`${target.name}: writing, validating, reloading`) && Date.now() < deadline) await sleep(20);
    // The commit runs to its end on the host whatever happens here; give it time to reload.
    await sleep(1500);
    child.kill('SIGINT');
    while (!stderr.includes('no more hosts start') && Date.now() < deadline) await sleep(20);
    assert.match(stderr, /SIGINT: the hosts in flight finish their transaction or roll back; no more hosts start/);
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(stderr, /Left to their dead-man switch/);
    assert.match(stderr, new RegExp(`  ${target.name}: its dead-man switch restores the previous config at about \\d\\d:\\d\\d:\\d\\d \\(in \\d+ s\\)`));
    assert.deepEqual(sshdDumpValue(lab, target, 'maxsessions'), [String(value)], 'the change is live, unconfirmed');
    const restoredBy = Date.now() + 40_000;
    while (sshdDumpValue(lab, target, 'maxsessions')[0] !== before[0] && Date.now() < restoredBy) await sleep(1000);
    assert.deepEqual(sshdDumpValue(lab, target, 'maxsessions'), before, 'the dead-man switch restored the host');
  });
});
