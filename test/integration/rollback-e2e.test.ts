/**
 * `sshfix rollback` end to end: the built CLI against real sshd hosts. A rollback puts back the
 * files of a finished apply as a transaction of its own, read back with the real sshd -T, and
 * refuses (changing nothing) when a file changed since that apply. Lab address block 127.77.93.x.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shellCommand } from '../../src/util/shell-quote.js';
import { CLI, runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, hostRoot, labInventory, sshdDumpValue, sshRoot } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string };
  changes: { path: string }[];
  notes: { task: string; message: string }[];
  apply?: { transaction: string; outcome: string; login_proof?: string; verification: { keyword: string; expected: string[]; actual: string[]; ok: boolean }[] };
}

const PLAYBOOK = 'playbooks/max-startups.yaml';
const TXID = /\d{8}T\d{6}Z-[0-9a-f]{8}/;

describe('sshfix rollback against the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  const host = (scenario: string): { name: string; address: string } => {
    const found = lab.hosts.find((h) => h.scenario === scenario);
    assert.ok(found, scenario);
    return found;
  };
  const hostOf = (stdout: string): JsonHost => {
    const report = JSON.parse(stdout) as { hosts: JsonHost[] };
    assert.equal(report.hosts.length, 1);
    return report.hosts[0] as JsonHost;
  };
  const transactions = (name: string): string[] => readdirSync(`${hostRoot(lab, name)}/var/backups/sshfix`).filter((d) => TXID.test(d));
  const applyJson = (name: string, maxStartups: string): JsonHost => {
    const result = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', name, '--yes', '--format', 'json', '--var', `max_startups=${maxStartups}`]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const applied = hostOf(result.stdout);
    assert.equal(applied.apply?.outcome, 'applied');
    return applied;
  };

  before(() => {
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.93.1', scenarios: ['debian-cloud', 'tight-maxstartups'] });
    inventory = join(lab.dir, 'rollback-test-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
  });
  after(() => lab?.down());

  it('refuses to change anything without --yes when there is no terminal to ask on', () => {
    const target = host('debian-cloud');
    const before = fingerprint(lab, target.name);
    const result = runCli(['rollback', '-i', inventory, '-l', target.name]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /refusing to change hosts without confirmation: pass --yes/);
    assert.deepEqual(fingerprint(lab, target.name), before);
  });

  it('restores an applied host byte for byte, refuses a transaction whose file changed since, and --transaction picks an older one', () => {
    const target = host('debian-cloud');
    const original = fingerprint(lab, target.name);
    const originalValue = sshdDumpValue(lab, target, 'maxstartups');
    assert.notDeepEqual(originalValue, ['100:30:500']);

    // The human apply output ends with the command that rolls it back.
    const first = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', target.name, '--yes', '--var', 'max_startups=100:30:500']);
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const line = new RegExp(`sshfix rollback -i ${inventory.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -l ${target.name} --transaction (${TXID.source})\\n$`);
    const firstTx = line.exec(first.stdout)?.[1];
    assert.ok(firstTx, `no rollback command at the end of:\n${first.stdout}`);
    const afterFirst = fingerprint(lab, target.name);
    assert.notDeepEqual(afterFirst, original);

    const second = applyJson(target.name, '200:30:600');
    const changedPath = second.changes[0]?.path;
    assert.ok(changedPath);
    const afterSecond = fingerprint(lab, target.name);

    // The first apply's file was rewritten by the second: refused, naming it, nothing changed.
    const stale = runCli(['rollback', '-i', inventory, '-l', target.name, '--transaction', firstTx, '--yes', '--format', 'json']);
    assert.equal(stale.status, 1, stale.stdout + stale.stderr);
    const refused = hostOf(stale.stdout);
    assert.equal(refused.error?.code, 'changed-since');
    assert.ok(refused.error?.message.includes(changedPath), refused.error?.message);
    assert.equal(refused.apply, undefined, 'no transaction started');
    assert.deepEqual(fingerprint(lab, target.name), afterSecond);

    // Without --transaction: the newest finished one (the second apply).
    const undoSecond = runCli(['rollback', '-i', inventory, '-l', target.name, '--yes', '--format', 'json']);
    assert.equal(undoSecond.status, 0, undoSecond.stdout + undoSecond.stderr);
    assert.equal((JSON.parse(undoSecond.stdout) as { command: string }).command, 'rollback', 'the report names the command that made it');
    const undone = hostOf(undoSecond.stdout);
    assert.equal(undone.status, 'changed');
    assert.equal(undone.apply?.outcome, 'applied');
    assert.equal(undone.apply?.login_proof, 'ok');
    assert.notEqual(undone.apply?.transaction, second.apply?.transaction, 'the rollback is a transaction of its own');
    assert.ok(undone.notes.some((n) => n.message.includes(second.apply?.transaction ?? '?')));
    assert.deepEqual(
      undone.apply?.verification.filter((v) => v.keyword === 'maxstartups').map((v) => [v.expected, v.actual, v.ok]),
      [[['100:30:500'], ['100:30:500'], true]],
    );
    assert.deepEqual(fingerprint(lab, target.name), afterFirst);
    assert.deepEqual(sshdDumpValue(lab, target, 'maxstartups'), ['100:30:500']);

    // Now the file holds what the first apply wrote again: --transaction rolls back that older one.
    const undoFirst = runCli(['rollback', '-i', inventory, '-l', target.name, '--transaction', firstTx, '--yes']);
    assert.equal(undoFirst.status, 0, undoFirst.stdout + undoFirst.stderr);
    assert.match(undoFirst.stdout, /Roll back with:\n {2}sshfix rollback -i \S+ -l \S+ --transaction \S+\n$/);
    assert.deepEqual(fingerprint(lab, target.name), original);
    assert.deepEqual(sshdDumpValue(lab, target, 'maxstartups'), originalValue);
    assert.equal(sshRoot(lab, target, 'echo in').stdout.trim(), 'in', 'a fresh login works');
  });

  it('on a terminal, shows what it would put back and asks: no changes nothing, yes rolls back (here the previous rollback itself)', () => {
    const target = host('debian-cloud');
    const before = fingerprint(lab, target.name);
    const onTerminal = (answer: string): { status: number | null; stdout: string } => {
      const command = shellCommand(process.execPath, CLI, 'rollback', '-i', inventory, '-l', target.name);
      const result = spawnSync('script', ['-qec', command, '/dev/null'], { input: `${answer}\n`, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
      return { status: result.status, stdout: result.stdout };
    };
    const no = onTerminal('no');
    assert.equal(no.status, 1, no.stdout);
    assert.match(no.stdout, new RegExp(`rollback ${TXID.source}`));
    assert.match(no.stdout, /\+MaxStartups 100:30:500/);
    assert.match(no.stdout, /Roll back 1 host\(s\) as shown\?/);
    assert.match(no.stdout, /Rollback cancelled\./);
    assert.deepEqual(fingerprint(lab, target.name), before);
    const yes = onTerminal('yes');
    assert.equal(yes.status, 0, yes.stdout);
    assert.deepEqual(sshdDumpValue(lab, target, 'maxstartups'), ['100:30:500']);
  });

  it('refuses a host whose file was changed by hand after the apply, naming it and changing nothing', () => {
    const target = host('tight-maxstartups');
    const applied = applyJson(target.name, '100:30:500');
    const path = applied.changes[0]?.path;
    assert.ok(path);
    const edit = sshRoot(lab, target, `printf '# edited by hand\\n' >> ${path}`);
    assert.equal(edit.status, 0, edit.stderr);
    const before = fingerprint(lab, target.name);
    const kept = transactions(target.name);
    const result = runCli(['rollback', '-i', inventory, '-l', target.name, '--yes', '--format', 'json']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    const refused = hostOf(result.stdout);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.error?.code, 'changed-since');
    assert.match(refused.error?.message ?? '', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} changed since transaction ${applied.apply?.transaction ?? '?'}`));
    assert.deepEqual(fingerprint(lab, target.name), before);
    assert.deepEqual(transactions(target.name), kept, 'no transaction started');
    assert.deepEqual(sshdDumpValue(lab, target, 'maxstartups'), ['100:30:500']);
  });
});

describe('sshfix rollback of a fail2ban change against a real fail2ban server', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  const ignored = (target: { name: string; address: string }): string => {
    const result = sshRoot(lab, target, 'fail2ban-client get sshd ignoreip');
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.93.11', scenarios: ['fail2ban'] });
    inventory = join(lab.dir, 'rollback-fail2ban-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
  });
  after(() => lab?.down());

  it('puts the jail files back and reloads fail2ban: the exempted address is no longer ignored', () => {
    const target = lab.hosts[0] as { name: string; address: string };
    const before = fingerprint(lab, target.name, ['/etc/fail2ban']);
    // Only written into the config, never contacted.
    const applied = runCli(['apply', 'playbooks/fail2ban-ignore-runner.yaml', '-i', inventory, '--var', 'address=192.0.2.55', '--yes', '--format', 'json']);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    assert.match(ignored(target), /192\.0\.2\.55/);
    assert.notDeepEqual(fingerprint(lab, target.name, ['/etc/fail2ban']), before);

    const result = runCli(['rollback', '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as { hosts: JsonHost[] };
    assert.equal(report.hosts[0]?.apply?.outcome, 'applied');
    assert.deepEqual(fingerprint(lab, target.name, ['/etc/fail2ban']), before);
    assert.doesNotMatch(ignored(target), /192\.0\.2\.55/);
  });
});
