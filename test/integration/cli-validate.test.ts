import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TASK_KIND_NAMES } from '../../src/tasks/registry.js';

/** Runs the built CLI the way a user does. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'build/src/cli/main.js');
const { SSHFIX_INVENTORY: _ignored, ...baseEnv } = process.env;

function sshfix(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...baseEnv, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'sshfix-cli-validate-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};

const shippedPlaybooks = ['allow-users', 'compliance', 'legacy-kex-scoped', 'max-startups', 'server-keepalive'].map((n) => `playbooks/${n}.yaml`);

describe('sshfix validate', () => {
  it('accepts the shipped playbooks and example inventory (exit 0)', () => {
    const run = sshfix(['validate', '-i', 'inventory.example.yaml', ...shippedPlaybooks]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^valid: inventory\.example\.yaml \(25 hosts, 2 groups\), playbooks\/allow-users\.yaml \(1 play, 2 tasks\)/);
    assert.equal(run.stderr, '');
  });

  it('reports every problem with file:line:column, the source line and a caret; exit 1, no stack trace', () => {
    const playbook = write('bad.yaml', 'hosts: web,webz\ntasks:\n  - sshd:\n      set: { ClientAlievInterval: 60, MaxStartups: "100:30:50" }\n');
    const run = sshfix(['validate', '-i', 'test/fixtures/good-inputs/inventory.yaml', playbook]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.includes(`${playbook}:1:12: warning[pattern-no-match]: hosts: "webz" matches no host or group`), run.stderr);
    assert.ok(run.stderr.includes(`${playbook}:4:14: error[unknown-sshd-keyword]: "ClientAlievInterval" is not an sshd keyword`));
    assert.ok(run.stderr.includes(' 4 |       set: { ClientAlievInterval: 60, MaxStartups: "100:30:50" }\n   |              ^^^^^^^^^^^^^^^^^^^\n'));
    assert.ok(run.stderr.includes('  hint: did you mean ClientAliveInterval?'));
    assert.ok(run.stderr.includes(`${playbook}:4:52: error[invalid-maxstartups]`));
    assert.ok(run.stderr.trimEnd().endsWith('2 errors, 1 warning'));
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });

  it('prints only one JSON document with diagnostics as objects under --format json', () => {
    const playbook = write('bad-json.yaml', 'tasks:\n  - sshdd: {}\n');
    const run = sshfix(['validate', '--format', 'json', '-i', 'test/fixtures/good-inputs/inventory.yaml', playbook]);
    assert.equal(run.code, 1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(report.format_version, 1);
    assert.equal(report.command, 'validate');
    assert.equal(report.valid, false);
    assert.deepEqual(report.summary, { errors: 1, warnings: 0 });
    assert.deepEqual(report.diagnostics, [{
      severity: 'error',
      code: 'unknown-task-kind',
      message: 'unknown task kind "sshdd"',
      hint: `did you mean "sshd"? (task kinds: ${TASK_KIND_NAMES.join(', ')})`,
      file: playbook,
      range: { start: { line: 2, column: 5 }, end: { line: 2, column: 10 } },
    }]);
    assert.equal(run.stderr, '');
  });

  it('passes with warnings (exit 0) and shows them', () => {
    const playbook = write('warn.yaml', 'hosts: nosuchhost\ntasks: []\n');
    const run = sshfix(['validate', '-i', 'test/fixtures/good-inputs/inventory.yaml', playbook]);
    assert.equal(run.code, 0);
    assert.match(run.stderr, /warning\[pattern-no-match\]/);
    assert.match(run.stderr, /warning\[empty-play\]/);
  });

  it('takes --var into account', () => {
    const playbook = write('needs-var.yaml', 'tasks:\n  - sshd: { set: { ClientAliveInterval: "{{ interval }}" } }\n');
    const inventory = 'test/fixtures/good-inputs/inventory.yaml';
    assert.equal(sshfix(['validate', '-i', inventory, playbook]).code, 1);
    assert.equal(sshfix(['validate', '-i', inventory, playbook, '--var', 'interval=30']).code, 0);
    assert.match(sshfix(['validate', '-i', inventory, playbook, '--var', 'interval=soon']).stderr, /error\[invalid-time\]/);
    assert.match(sshfix(['validate', '-i', inventory, playbook, '--var', 'oops']).stderr, /error\[bad-cli-var\]/);
  });

  it('finds ./inventory.yaml, then $SSHFIX_INVENTORY; with neither, validating nothing is an error', () => {
    const dir = mkdtempSync(join(scratch, 'cwd-'));
    const none = sshfix(['validate'], { cwd: dir });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /error\[no-inventory\]/);
    const fromEnv = sshfix(['validate'], { cwd: dir, env: { SSHFIX_INVENTORY: join(ROOT, 'inventory.example.yaml') } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    writeFileSync(join(dir, 'inventory.yaml'), 'defaults: { agent: true }\nhosts: { here: {} }\n');
    const fromCwd = sshfix(['validate'], { cwd: dir, env: { SSHFIX_INVENTORY: join(ROOT, 'inventory.example.yaml') } });
    assert.equal(fromCwd.code, 0);
    assert.match(fromCwd.stdout, /^valid: inventory\.yaml \(1 hosts, 0 groups\)/);
  });

  it('validates playbooks without an inventory, with a warning', () => {
    const dir = mkdtempSync(join(scratch, 'noinv-'));
    const run = sshfix(['validate', join(ROOT, 'playbooks/max-startups.yaml')], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning\[no-inventory\]/);
  });

  it('reports a missing file as a diagnostic', () => {
    const run = sshfix(['validate', '-i', 'inventory.example.yaml', 'playbooks/nope.yaml']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^playbooks\/nope\.yaml: error\[file-not-found\]: playbooks\/nope\.yaml: no such file$/m);
  });
});

describe('sshfix inventory', () => {
  const inventory = write('inventory.yaml', [
    'defaults: { user: root, identity_file: ~/.ssh/id, jump: bastion }',
    'hosts:',
    '  bastion: { address: 203.0.113.10 }',
    '  web-[01:03]: {}',
    'groups:',
    '  web: { hosts: "web-*", user: deploy, become: sudo, become_password_env: WEB_SUDO, vars: { role: web } }',
    '',
  ].join('\n'));

  it('shows resolved hosts as JSON, secrets as where they come from', () => {
    const run = sshfix(['inventory', '-i', inventory, '--format', 'json', '-l', 'web,!web-02'], { env: { HOME: '/home/ops' } });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { hosts: Record<string, unknown>[]; groups: unknown[]; diagnostics: unknown[] };
    assert.deepEqual(report.hosts.map((h) => h.name), ['web-01', 'web-03']);
    assert.deepEqual(report.hosts[0], {
      name: 'web-01',
      address: 'web-01',
      port: 22,
      user: 'deploy',
      groups: ['web'],
      identity_file: '/home/ops/.ssh/id',
      agent: false,
      known_hosts: '/home/ops/.ssh/known_hosts',
      host_key_policy: 'strict',
      become: 'sudo',
      jump: 'bastion',
      connect_timeout: '10s',
      become_password: '<from $WEB_SUDO>',
      vars: { role: 'web' },
    });
    assert.deepEqual(report.groups, [{ name: 'web', hosts: ['web-01', 'web-02', 'web-03'], vars: { role: 'web' } }]);
    assert.deepEqual(report.diagnostics, []);
  });

  it('shows hosts as YAML-like text for people', () => {
    const run = sshfix(['inventory', '-i', inventory, '-l', 'bastion']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^bastion:\n  address: 203\.0\.113\.10\n  port: 22\n  user: root\n/);
    assert.doesNotMatch(run.stdout, /jump:/);
    assert.match(run.stdout, /# 1 host matching bastion in /);
  });

  it('warns about a -l term that matches nothing, and fails on a malformed one', () => {
    const warn = sshfix(['inventory', '-i', inventory, '-l', 'web,wbe']);
    assert.equal(warn.code, 0);
    assert.match(warn.stderr, /warning\[pattern-no-match\]: -l "wbe" matches no host/);
    const bad = sshfix(['inventory', '-i', inventory, '-l', 'web db', '--format', 'json']);
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.stdout) as { hosts: unknown[]; diagnostics: { code: string }[] };
    assert.deepEqual(report.hosts, []);
    assert.deepEqual(report.diagnostics.map((d) => d.code), ['bad-host-pattern']);
  });

  it('fails with positions on a broken inventory', () => {
    const broken = write('broken.yaml', 'hosts:\n  web-01: { port: 0 }\n');
    const run = sshfix(['inventory', '-i', broken]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.startsWith(`${broken}:2:19: error[bad-port]:`), run.stderr);
  });
});
