/**
 * `sshfix plan` end to end: the built CLI against a lab of differently seeded real sshd hosts plus
 * an address where nothing listens. Lab address block 127.77.20.x.
 */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { countLogins, fingerprint, labInventory } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string; diagnosis?: string };
  changes: { task: string; path: string; action: string; before_sha256?: string; diff: string }[];
  checks: { task: string; passed: boolean; message: string }[];
  notes: { task: string; message: string }[];
  warnings: string[];
}
interface JsonReport {
  format_version: number;
  command: string;
  summary: Record<string, number>;
  hosts: JsonHost[];
}

const GHOST = '127.77.20.250';
const PLAYBOOKS = ['playbooks/max-startups.yaml', 'playbooks/server-keepalive.yaml'];

/** Lines each host's changes add and remove, per file: what the diff means, whatever its context. */
function changedLines(host: JsonHost): Record<string, { added: string[]; removed: string[] }> {
  const out: Record<string, { added: string[]; removed: string[] }> = {};
  for (const change of host.changes) {
    const entry = (out[change.path] ??= { added: [], removed: [] });
    for (const line of change.diff.split('\n')) {
      if (line.startsWith('+++') || line.startsWith('---')) continue;
      if (line.startsWith('+')) entry.added.push(line.slice(1));
      if (line.startsWith('-')) entry.removed.push(line.slice(1));
    }
  }
  return out;
}

describe('sshfix plan against the lab', { timeout: 240_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  const scenarios = ['debian-cloud', 'hardened-match', 'rhel-layout', 'tight-maxstartups', 'allowusers', 'broken-dropin'];

  before(() => {
    lab = startTestLab({ hosts: scenarios.length, firstAddress: '127.77.20.1', scenarios });
    inventory = join(lab.dir, 'plan-test-inventory.yaml');
    writeFileSync(inventory, labInventory(lab, { extraHosts: [`ghost: { address: ${GHOST}, connect_timeout: 5s }`] }));
  });
  after(() => lab?.down());

  const byScenario = (report: JsonReport, scenario: string): JsonHost => {
    const name = lab.hosts.find((h) => h.scenario === scenario)?.name;
    const host = report.hosts.find((h) => h.name === name);
    assert.ok(host, `no host for ${scenario} in the report`);
    return host;
  };

  it('shows the expected diffs per host, classifies failures, changes nothing, and logs in once per host', () => {
    const before = Object.fromEntries(lab.hosts.map((h) => [h.name, fingerprint(lab, h.name)]));
    const logins = Object.fromEntries(lab.hosts.map((h) => [h.name, countLogins(lab, h.name)]));
    const result = runCli(['plan', ...PLAYBOOKS, '-i', inventory, '--format', 'json']);
    assert.equal(result.status, 1, 'an unreachable and a failed host make exit code 1');
    const report = JSON.parse(result.stdout) as JsonReport;
    assert.equal(report.format_version, 1);
    assert.equal(report.command, 'plan');
    assert.deepEqual(report.summary, { hosts: 7, ok: 0, changed: 5, failed: 1, unreachable: 1, skipped: 0, changes: 10, actions: 0, checks_failed: 0 });

    assert.deepEqual(changedLines(byScenario(report, 'debian-cloud')), {
      '/etc/ssh/sshd_config': { added: ['MaxStartups 100:30:500', 'ClientAliveInterval 60'], removed: ['ClientAliveInterval 0'] },
    });
    assert.deepEqual(changedLines(byScenario(report, 'hardened-match')), {
      '/etc/ssh/sshd_config': {
        added: [
          '#MaxStartups 10:30:60 # disabled by sshfix: MaxStartups is set at /etc/ssh/sshd_config:25',
          'MaxStartups 100:30:500',
          'ClientAliveInterval 60',
          'ClientAliveCountMax 3',
        ],
        removed: ['MaxStartups 10:30:60', 'MaxStartups 10:30:100', 'ClientAliveInterval 300', 'ClientAliveCountMax 0'],
      },
    });
    assert.deepEqual(changedLines(byScenario(report, 'rhel-layout')), {
      '/etc/ssh/sshd_config': { added: ['MaxStartups 100:30:500', 'ClientAliveInterval 60'], removed: [] },
    });
    // The drop-in holds the MaxStartups that wins: that is the line to change.
    assert.deepEqual(changedLines(byScenario(report, 'tight-maxstartups')), {
      '/etc/ssh/sshd_config.d/10-hardening.conf': { added: ['MaxStartups 100:30:500'], removed: ['MaxStartups 3:50:6'] },
      '/etc/ssh/sshd_config': { added: ['ClientAliveInterval 60'], removed: [] },
    });

    const broken = byScenario(report, 'broken-dropin');
    assert.equal(broken.status, 'failed');
    assert.equal(broken.error?.code, 'config-invalid');
    assert.match(broken.error?.message ?? '', /40-broken\.conf line 3: Invalid MaxStartups spec/);

    const ghost = report.hosts.find((h) => h.name === 'ghost');
    assert.equal(ghost?.status, 'unreachable');
    assert.equal(ghost?.error?.code, 'refused');
    assert.ok(ghost?.error?.diagnosis, 'an unreachable host says what to check');

    for (const host of lab.hosts) {
      assert.deepEqual(fingerprint(lab, host.name), before[host.name], `plan changed files on ${host.name}`);
      assert.equal(countLogins(lab, host.name) - (logins[host.name] ?? 0), 1, `plan must log in to ${host.name} exactly once`);
    }
  });

  it('exits 0, or 2 with --detailed-exitcode, when the reachable hosts have changes', () => {
    const limit = ['-l', 'all,!ghost,!lab-06'];
    const plain = runCli(['plan', ...PLAYBOOKS, '-i', inventory, ...limit]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /Plan: 5 host\(s\): 5 to change, 0 ok\./);
    const detailed = runCli(['plan', ...PLAYBOOKS, '-i', inventory, ...limit, '--detailed-exitcode']);
    assert.equal(detailed.status, 2);
  });

  it('exits 0 with --detailed-exitcode when there is nothing to change, and says why', () => {
    const result = runCli(['plan', 'playbooks/max-startups.yaml', '-i', inventory, '-l', 'lab-01', '--var', 'max_startups=10:30:100', '--detailed-exitcode']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /lab-01 \(127\.77\.20\.1\)  ok  nothing to change/);
    assert.match(result.stdout, /MaxStartups is already 10:30:100/);
  });

  it('catches with sshd -t on the host what apply would reject (a HostKey that does not exist)', () => {
    const playbook = join(lab.dir, 'bad-hostkey.yaml');
    writeFileSync(playbook, 'name: only a missing host key\nhosts: all\ntasks:\n  - sshd:\n      set: { HostKey: /etc/ssh/no_such_host_key }\n');
    const before = fingerprint(lab, 'lab-01');
    const result = runCli(['plan', playbook, '-i', inventory, '-l', 'lab-01', '--format', 'json']);
    assert.equal(result.status, 1);
    const host = (JSON.parse(result.stdout) as JsonReport).hosts[0];
    assert.equal(host?.status, 'failed');
    assert.equal(host?.error?.code, 'validation-failed');
    assert.match(host?.error?.message ?? '', /no hostkeys available|no_such_host_key/);
    assert.doesNotMatch(host?.error?.message ?? '', /\/tmp\//, 'temporary paths are mapped back');
    assert.deepEqual(fingerprint(lab, 'lab-01'), before);
  });

  it('writes JUnit and GitHub annotations for CI', () => {
    const junit = runCli(['plan', ...PLAYBOOKS, '-i', inventory, '--format', 'junit']);
    assert.equal(junit.status, 1);
    assert.match(junit.stdout, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="sshfix plan" tests="7" failures="2" skipped="0">/);
    assert.match(junit.stdout, /<testcase name="ghost" classname="sshfix\.plan">\n\s+<failure message="unreachable: /);
    const github = runCli(['plan', ...PLAYBOOKS, '-i', inventory, '--format', 'github']);
    assert.match(github.stdout, /^::error title=sshfix plan%3A ghost::unreachable \(refused\)/m);
    assert.match(github.stdout, /^::notice title=sshfix plan%3A lab-04::2 change\(s\) planned to \/etc\/ssh\/sshd_config\.d\/10-hardening\.conf, \/etc\/ssh\/sshd_config$/m);
  });

  it('prints only the JSON document on stdout, progress on stderr, no cursor codes without a terminal', () => {
    const result = runCli(['plan', ...PLAYBOOKS, '-i', inventory, '-l', 'lab-01', '--format', 'json']);
    assert.doesNotThrow(() => JSON.parse(result.stdout));
    assert.match(result.stderr, /^lab-01: connecting$/m);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(result.stdout + result.stderr, /\u001b\[/);
  });

  it('saves a plan with the sha256 of every file it read', () => {
    const out = join(lab.dir, 'saved.plan.json');
    const result = runCli(['plan', ...PLAYBOOKS, '-i', inventory, '-l', 'lab-03', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { format: string; hosts: { name: string; files_read: Record<string, string | null>; files: { path: string }[] }[] };
    assert.equal(saved.format, 'sshfix-plan');
    const host = saved.hosts[0];
    assert.equal(host?.name, 'lab-03');
    assert.deepEqual(Object.keys(host?.files_read ?? {}).sort(), [
      '/etc/crypto-policies/back-ends/opensshserver.config',
      '/etc/ssh/sshd_config',
      '/etc/ssh/sshd_config.d/50-redhat.conf',
    ]);
    for (const digest of Object.values(host?.files_read ?? {})) assert.match(digest ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(host?.files.map((f) => f.path), ['/etc/ssh/sshd_config']);
  });

  it('reads facts through sudo as an unprivileged account, keeping the runner address', () => {
    const sudoInventory = join(lab.dir, 'sudo-inventory.yaml');
    const first = lab.hosts[0] as { name: string; address: string };
    writeFileSync(
      sudoInventory,
      labInventory(lab, { order: [first.name], hostExtras: { [first.name]: 'user: deploy, become: sudo, become_password_env: LAB_SUDO' } }) +
        `  as-deploy-without-sudo: { address: ${first.address}, user: deploy }\n`,
    );
    const playbook = join(lab.dir, 'runner.yaml');
    writeFileSync(
      playbook,
      'name: runner\nhosts: all\ntasks:\n  - name: the runner may log in\n    assert:\n      connection: { user: root, address: "{{ runner.address }}" }\n      sshd:\n        PubkeyAuthentication: "yes"\n',
    );
    const result = runCli(['plan', playbook, '-i', sudoInventory, '--format', 'json'], { env: { LAB_SUDO: lab.becomePassword } });
    const hosts = (JSON.parse(result.stdout) as JsonReport).hosts;
    assert.equal(hosts[0]?.status, 'ok', JSON.stringify(hosts[0]));
    assert.match(hosts[0]?.checks[0]?.message ?? '', /for root from 127\.0\.0\.1/);
    assert.equal(hosts[1]?.error?.code, 'needs-root');
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(lab.becomePassword), 'the sudo password is never printed');
  });
});
