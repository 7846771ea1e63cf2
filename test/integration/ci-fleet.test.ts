/**
 * What CI fleets and Ansible users rely on, through the built CLI against the lab: --shard slices
 * that cover every host once and merge back into one report with one exit code, the GitHub step
 * summary, -e, apply --check, -v/-vv, -u and --private-key. Lab address block 127.77.83.x.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint } from '../helpers/lab-host.js';

interface Report {
  command: string;
  summary: Record<string, number>;
  hosts: { name: string; status: string; error?: { code: string }; changes: { diff: string }[] }[];
}

const PLAYBOOK = 'playbooks/max-startups.yaml';

describe('CI fleets and Ansible habits', { timeout: 300_000 }, () => {
  let lab: TestLab;
  const names = (): string[] => lab.hosts.map((h) => h.name).sort();

  before(() => {
    lab = startTestLab({ hosts: 3, firstAddress: '127.77.83.1', scenarios: ['tight-maxstartups', 'debian-cloud', 'allowusers'] });
  });
  after(() => lab?.down());

  it('--shard K/N: disjoint slices that cover every host, merged into one report with the worst exit code', () => {
    const files: string[] = [];
    for (const k of [1, 2]) {
      const run = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '--shard', `${k}/2`, '--format', 'json']);
      assert.equal(run.status, 0, run.stderr);
      const file = join(lab.dir, `shard-${k}.json`);
      writeFileSync(file, run.stdout);
      files.push(file);
    }
    const slices = files.map((f) => (JSON.parse(readFileSync(f, 'utf8')) as Report).hosts.map((h) => h.name));
    assert.deepEqual([...(slices[0] ?? []), ...(slices[1] ?? [])].sort(), names(), 'every host exactly once');
    const merged = runCli(['report', 'merge', ...files, '--format', 'json', '--detailed-exitcode']);
    assert.equal(merged.status, 2, `changes found: exit 2 (${merged.stderr})`);
    const report = JSON.parse(merged.stdout) as Report;
    assert.deepEqual(report.hosts.map((h) => h.name).sort(), names());
    assert.equal(report.summary.hosts, 3);
    const again = runCli(['report', 'merge', files[0] as string, files[0] as string]);
    assert.equal(again.status, 1, 'overlapping shards are refused');
    assert.match(again.stderr, /shards must not overlap/);
  });

  it('an empty shard succeeds with a note', () => {
    // Seven shards over three hosts: at least four are empty.
    const empties = [1, 2, 3, 4, 5, 6, 7].map((k) => runCli(['plan', PLAYBOOK, '-i', lab.inventory, '--shard', `${k}/7`, '--format', 'json'])).filter((r) => (JSON.parse(r.stdout) as Report).hosts.length === 0);
    assert.ok(empties.length >= 4);
    for (const r of empties) {
      assert.equal(r.status, 0);
      assert.match(r.stderr, /none of the 3 selected host\(s\) falls in this shard/);
    }
  });

  it('--format github appends a Markdown summary to $GITHUB_STEP_SUMMARY', () => {
    const summary = join(lab.dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const run = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '--format', 'github'], { env: { GITHUB_STEP_SUMMARY: summary } });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^::notice /m);
    const text = readFileSync(summary, 'utf8');
    assert.match(text, /^# earlier step\n/, 'appended, not overwritten');
    assert.match(text, /^## sshfix plan$/m);
    assert.match(text, /<details><summary>1 change\(s\): /);
  });

  it('-e K=V is --var; apply --check plans and writes nothing; --diff is accepted', () => {
    const target = lab.hosts[0] as { name: string };
    const before = fingerprint(lab, target.name);
    const run = runCli(['apply', PLAYBOOK, '-i', lab.inventory, '--check', '--diff', '-e', 'max_startups=55:30:99', '--format', 'json']);
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.command, 'plan');
    for (const h of report.hosts) assert.match(h.changes.map((c) => c.diff).join(''), /^\+MaxStartups 55:30:99$/m);
    assert.deepEqual(fingerprint(lab, target.name), before, 'nothing written');
  });

  it('-v prints each command with its duration, -vv what each fact was', () => {
    const one = lab.hosts[0] as { name: string };
    const v = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '-l', one.name, '-v']);
    assert.match(v.stderr, new RegExp(`^${one.name}: sh -s \\(a [0-9.]+ KiB script on stdin\\)(?: \\(sudo\\))?: exit 0, \\d+ ms$`, 'm'));
    assert.doesNotMatch(v.stderr, /fact sshd_/);
    const vv = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '-l', one.name, '-vv']);
    assert.match(vv.stderr, new RegExp(`^${one.name}:   fact sshd_dump: exit 0, `, 'm'));
    assert.match(vv.stderr, /file \/etc\/ssh\/sshd_config: [0-9.]+ KiB, mode 644/);
  });

  it('-u and --private-key override every host\'s inventory settings', () => {
    const asBackup = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '-u', 'backup', '--format', 'json']);
    const report = JSON.parse(asBackup.stdout) as Report;
    // Logged in as backup, not root (and the allowusers host refuses backup altogether).
    const expected = lab.hosts.map((h) => (h.scenario === 'allowusers' ? 'auth-failed' : 'needs-root'));
    assert.deepEqual(report.hosts.map((h) => h.error?.code), expected);
    const badKey = runCli(['plan', PLAYBOOK, '-i', lab.inventory, '--private-key', join(lab.dir, 'no-such-key'), '--format', 'json']);
    assert.deepEqual((JSON.parse(badKey.stdout) as Report).hosts.map((h) => h.error?.code), ['key-unreadable', 'key-unreadable', 'key-unreadable']);
  });
});
