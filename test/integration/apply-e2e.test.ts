/**
 * `sshfix apply` end to end: the built CLI against real sshd hosts. Each change either ends verified
 * (read back with the real sshd -T) or is undone, and the runner never locks itself out. Lab
 * address block 127.77.40.x.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import { killTrackedChildren, trackChild } from '../helpers/children.js';
import { CLI, REPO_ROOT, runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, hostRoot, labInventory, readHostFile, sshdDumpValue, sshRoot } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string; diagnosis?: string };
  notes: { task: string; message: string }[];
  apply?: {
    outcome: string;
    backup_dir?: string;
    validated: boolean;
    login_proof?: string;
    rolled_back: boolean;
    restored_login_proof?: string;
    verification: { keyword: string; expected: string[]; actual: string[]; ok: boolean }[];
  };
}
interface JsonReport {
  command: string;
  summary: Record<string, number>;
  hosts: JsonHost[];
}

const REMEDIATION = ['playbooks/max-startups.yaml', 'playbooks/server-keepalive.yaml'];

describe('sshfix apply against the lab', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  let lockout: string;
  const scenarios = ['debian-cloud', 'hardened-match', 'rhel-layout', 'tight-maxstartups', 'allowusers', 'broken-dropin'];
  const host = (scenario: string): { name: string; address: string } => {
    const found = lab.hosts.find((h) => h.scenario === scenario);
    assert.ok(found, scenario);
    return found;
  };
  const report = (stdout: string): JsonReport => JSON.parse(stdout) as JsonReport;

  before(() => {
    lab = startTestLab({ hosts: scenarios.length, firstAddress: '127.77.40.1', scenarios });
    inventory = join(lab.dir, 'apply-test-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
    lockout = join(lab.dir, 'lockout.yaml');
    // Passes sshd -t, but no key file exists: every public-key login is refused after the reload.
    writeFileSync(lockout, 'name: lock the runner out\nhosts: all\ntasks:\n  - name: keys from nowhere\n    sshd:\n      set: { AuthorizedKeysFile: /nonexistent/%u }\n');
  });
  // Children first: a stopped runner left by a failed assertion would otherwise keep this file alive.
  afterEach(() => killTrackedChildren());
  after(() => {
    killTrackedChildren();
    lab?.down();
  });

  it('refuses to change anything without --yes when there is no terminal to ask on', () => {
    const before = fingerprint(lab, host('debian-cloud').name);
    const result = runCli(['apply', ...REMEDIATION, '-i', inventory]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /refusing to change hosts without confirmation: pass --yes/);
    assert.deepEqual(fingerprint(lab, host('debian-cloud').name), before);
  });

  it('(a) applies across differently seeded hosts, verified with sshd -T; a second plan has nothing to do', () => {
    const targets = ['debian-cloud', 'hardened-match', 'rhel-layout', 'tight-maxstartups', 'allowusers'].map((s) => host(s).name);
    const result = runCli(['apply', ...REMEDIATION, '-i', inventory, '-l', targets.join(','), '--yes', '--format', 'json']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const applied = report(result.stdout);
    assert.equal(applied.command, 'apply');
    assert.equal(applied.summary['changed'], 5);
    for (const h of applied.hosts) {
      assert.equal(h.status, 'changed', `${h.name}: ${h.error?.message ?? ''}`);
      assert.equal(h.apply?.outcome, 'applied');
      assert.equal(h.apply?.validated, true);
      assert.equal(h.apply?.login_proof, 'ok');
      assert.equal(h.apply?.rolled_back, false);
      assert.match(h.apply?.backup_dir ?? '', /^\/var\/backups\/sshfix\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
      assert.ok(h.apply?.verification.some((v) => v.keyword === 'maxstartups' && v.ok));
      assert.ok(h.apply?.verification.every((v) => v.ok));
    }
    // The real sshd agrees, read back independently.
    for (const name of targets) {
      const h = lab.hosts.find((x) => x.name === name);
      assert.ok(h);
      assert.deepEqual(sshdDumpValue(lab, h, 'maxstartups'), ['100:30:500'], name);
      assert.deepEqual(sshdDumpValue(lab, h, 'clientaliveinterval'), ['60'], name);
      assert.deepEqual(sshdDumpValue(lab, h, 'clientalivecountmax'), ['3'], name);
      // The daemon itself reloaded: its listener title shows the new MaxStartups.
      assert.match(readFileSync(`/proc/${readFileSync(`${hostRoot(lab, name)}/run/sshd.pid`, 'utf8').trim()}/cmdline`, 'utf8'), /100-500 startups/);
    }
    const again = runCli(['plan', ...REMEDIATION, '-i', inventory, '-l', targets.join(','), '--detailed-exitcode']);
    assert.equal(again.status, 0, again.stdout);
    assert.match(again.stdout, /Plan: 5 host\(s\): 0 to change, 5 ok\./);
  });

  it('(b) rolls back a change that passes sshd -t but locks the runner out; the host ends byte-identical', () => {
    const target = host('debian-cloud');
    const before = fingerprint(lab, target.name);
    const result = runCli(['apply', lockout, '-i', inventory, '-l', target.name, '--yes', '--format', 'json']);
    assert.equal(result.status, 1);
    const h = report(result.stdout).hosts[0];
    assert.equal(h?.status, 'failed');
    assert.equal(h?.error?.code, 'lockout-prevented');
    assert.match(h?.error?.message ?? '', /rolled back: a fresh login failed after the reload \(auth-failed/);
    assert.equal(h?.apply?.validated, true, 'the change did pass sshd -t');
    assert.equal(h?.apply?.rolled_back, true);
    assert.equal(h?.apply?.restored_login_proof, 'ok');
    assert.deepEqual(fingerprint(lab, target.name), before);
    assert.equal(sshRoot(lab, target, 'echo in').stdout.trim(), 'in', 'a fresh login works');
    assert.deepEqual(sshdDumpValue(lab, target, 'authorizedkeysfile'), ['.ssh/authorized_keys .ssh/authorized_keys2']);
  });

  it('(c) refuses a host whose existing drop-in is already broken, changing nothing', () => {
    const target = host('broken-dropin');
    const before = fingerprint(lab, target.name);
    const result = runCli(['apply', ...REMEDIATION, '-i', inventory, '-l', target.name, '--yes', '--format', 'json']);
    assert.equal(result.status, 1);
    const h = report(result.stdout).hosts[0];
    assert.equal(h?.error?.code, 'config-invalid');
    assert.match(h?.error?.message ?? '', /40-broken\.conf line 3/);
    assert.equal(h?.apply, undefined, 'no transaction started');
    assert.deepEqual(fingerprint(lab, target.name), before);
    assert.equal(existsSync(`${hostRoot(lab, target.name)}/var/backups/sshfix`), false);
  });

  it('(d) the host restores itself when the runner is killed right after a locking-out reload', async () => {
    const target = host('rhel-layout');
    const before = fingerprint(lab, target.name);
    const root = hostRoot(lab, target.name);
    const armed = (): boolean =>
      existsSync(`${root}/var/backups/sshfix`) && readdirSync(`${root}/var/backups/sshfix`).some((d) => existsSync(`${root}/var/backups/sshfix/${d}/armed`));
    const hups = (): number => (readHostFile(lab, target.name, '/var/log/auth.log') ?? '').split('Received SIGHUP').length - 1;
    const hupsBefore = hups();
    const child = trackChild(spawn(process.execPath, [CLI, 'apply', lockout, '-i', inventory, '-l', target.name, '--yes', '--confirm-timeout', '10s', '--settle', '0s'], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    }));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Freeze the runner as soon as the host has armed its switch: the commit, which no longer needs
    // the runner, goes on to write and reload; then the runner dies without confirming.
    const deadline = Date.now() + 30_000;
    while (!armed() && Date.now() < deadline) await sleep(5);
    assert.ok(armed(), 'the transaction armed its dead-man switch');
    child.kill('SIGSTOP');
    while (hups() === hupsBefore && Date.now() < deadline) await sleep(20);
    assert.ok(hups() > hupsBefore, 'the host reloaded sshd without waiting for the runner');
    child.kill('SIGKILL');
    await exited;
    assert.notDeepEqual(fingerprint(lab, target.name), before, 'the locking-out config is live once the runner is gone');
    assert.notEqual(sshRoot(lab, target, 'true').status, 0, 'and it does lock key logins out');
    const restoreDeadline = Date.now() + 25_000;
    while (JSON.stringify(fingerprint(lab, target.name)) !== JSON.stringify(before) && Date.now() < restoreDeadline) await sleep(200);
    assert.deepEqual(fingerprint(lab, target.name), before, 'the dead-man switch restored the files');
    // ...and reloaded sshd with them: a fresh login works again.
    let login = sshRoot(lab, target, 'echo back');
    for (let i = 0; i < 10 && login.status !== 0; i++) {
      await sleep(300);
      login = sshRoot(lab, target, 'echo back');
    }
    assert.equal(login.stdout.trim(), 'back', login.stderr);
    const backups = readdirSync(`${root}/var/backups/sshfix`);
    assert.ok(backups.some((b) => existsSync(`${root}/var/backups/sshfix/${b}/deadman-fired`)), 'the switch recorded that it fired');
  });

  it('(e) refuses a stale saved plan, and applies exactly the planned contents otherwise', () => {
    const target = host('tight-maxstartups');
    const planFile = join(lab.dir, 'stale.plan.json');
    const playbook = join(lab.dir, 'login-grace.yaml');
    writeFileSync(playbook, 'name: more time to log in\nhosts: all\ntasks:\n  - sshd:\n      set: { LoginGraceTime: 45 }\n');
    const planned = runCli(['plan', playbook, '-i', inventory, '-l', target.name, '--out', planFile]);
    assert.equal(planned.status, 0, planned.stderr);
    // Someone edits the host after the plan was made.
    appendFileSync(`${hostRoot(lab, target.name)}/etc/ssh/sshd_config.d/10-hardening.conf`, '# edited by hand\n');
    const before = fingerprint(lab, target.name);
    const stale = runCli(['apply', '--plan', planFile, '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(stale.status, 1);
    const h = report(stale.stdout).hosts[0];
    assert.equal(h?.error?.code, 'stale-plan');
    assert.match(h?.error?.message ?? '', /\/etc\/ssh\/sshd_config\.d\/10-hardening\.conf/);
    assert.deepEqual(fingerprint(lab, target.name), before);

    const fresh = runCli(['plan', playbook, '-i', inventory, '-l', target.name, '--out', planFile]);
    assert.equal(fresh.status, 0, fresh.stderr);
    const saved = JSON.parse(readFileSync(planFile, 'utf8')) as { hosts: { files: { path: string; after_base64: string }[] }[] };
    const applied = runCli(['apply', '--plan', planFile, '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    for (const file of saved.hosts[0]?.files ?? []) {
      assert.equal(readHostFile(lab, target.name, file.path), Buffer.from(file.after_base64, 'base64').toString('utf8'), file.path);
    }
    assert.deepEqual(sshdDumpValue(lab, target, 'logingracetime'), ['45']);
  });

  it('(f) a canary failure with --serial 1,100% --max-fail-percent 0 stops the rollout', () => {
    const canary = host('broken-dropin');
    const rest = [host('allowusers'), host('hardened-match')];
    const ordered = join(lab.dir, 'canary-inventory.yaml');
    writeFileSync(ordered, labInventory(lab, { order: [canary.name, ...rest.map((r) => r.name)] }));
    const playbook = join(lab.dir, 'canary.yaml');
    writeFileSync(playbook, 'name: canary change\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxAuthTries: 5 }\n');
    const before = Object.fromEntries(rest.map((r) => [r.name, fingerprint(lab, r.name)]));
    const result = runCli(['apply', playbook, '-i', ordered, '--yes', '--serial', '1,100%', '--max-fail-percent', '0', '--format', 'json']);
    assert.equal(result.status, 1);
    const hosts = report(result.stdout).hosts;
    assert.deepEqual(
      hosts.map((h) => [h.name, h.status]),
      [[canary.name, 'failed'], ...rest.map((r) => [r.name, 'skipped'])],
    );
    assert.match(hosts[1]?.notes[0]?.message ?? '', /not started: rollout stopped after batch 1: 1 of 1 host\(s\) failed, more than --max-fail-percent 0/);
    for (const r of rest) assert.deepEqual(fingerprint(lab, r.name), before[r.name], `${r.name} must be untouched`);
  });

  it('(g) asks on a terminal, applies only after "yes", and exactly what it showed', () => {
    const target = host('allowusers');
    const playbook = join(lab.dir, 'interactive.yaml');
    writeFileSync(playbook, 'name: interactive\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxSessions: 7 }\n');
    const command = `${process.execPath} ${CLI} apply ${playbook} -i ${inventory} -l ${target.name}`;
    const before = fingerprint(lab, target.name);
    // `script` gives the CLI a terminal; what we pipe in is what the user types.
    const declined = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { input: 'no\n', encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
    assert.equal(declined.status, 1);
    assert.match(declined.stdout, /Apply these changes to 1 host\(s\)\?/);
    assert.match(declined.stdout, /\+MaxSessions 7/);
    assert.match(declined.stdout, /Apply cancelled\./);
    assert.deepEqual(fingerprint(lab, target.name), before);
    const accepted = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { input: 'yes\n', encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
    assert.equal(accepted.status, 0, accepted.stdout);
    assert.match(accepted.stdout, /Apply: 1 host\(s\): 1 changed, 0 ok\./);
    assert.deepEqual(sshdDumpValue(lab, target, 'maxsessions'), ['7']);
  });

  it('(h) SIGINT lets the host in flight finish and starts no more', async () => {
    const targets = [host('hardened-match'), host('allowusers'), host('debian-cloud')];
    const playbook = join(lab.dir, 'interrupt.yaml');
    writeFileSync(playbook, 'name: interrupt\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxAuthTries: 5 }\n');
    const ordered = join(lab.dir, 'interrupt-inventory.yaml');
    writeFileSync(ordered, labInventory(lab, { order: targets.map((t) => t.name) }));
    const first = targets[0] as { name: string; address: string };
    const hups = (): number => (readHostFile(lab, first.name, '/var/log/auth.log') ?? '').split('Received SIGHUP').length - 1;
    const hupsBefore = hups();
    const child = trackChild(spawn(process.execPath, [CLI, 'apply', playbook, '-i', ordered, '--yes', '--forks', '1', '--settle', '2s', '--format', 'json'], { cwd: REPO_ROOT }));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (hups() === hupsBefore && Date.now() < deadline) await sleep(20);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 1);
    const hosts = report(stdout).hosts;
    assert.deepEqual(hosts.map((h) => [h.name, h.status]), [[first.name, 'changed'], [targets[1]?.name, 'skipped'], [targets[2]?.name, 'skipped']]);
    assert.equal(hosts[0]?.apply?.outcome, 'applied', 'the host in flight finished its transaction');
    assert.match(hosts[1]?.notes[0]?.message ?? '', /not started: interrupted/);
    assert.deepEqual(sshdDumpValue(lab, first, 'maxauthtries'), ['5']);
  });
});
