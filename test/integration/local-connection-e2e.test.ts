/**
 * The machine running sshfix as an inventory host with a local connection, end to end through
 * the CLI as an operator runs it: the shipped client-keepalive-local.yaml fixes "my own"
 * ~/.ssh/config, with HOME pointed at a temporary directory so this machine's real ~/.ssh/config
 * is never touched. plan shows the diff and writes nothing, apply writes it and proves it with
 * the real `ssh -G`, a second plan is a no-op, rollback restores the file byte for byte. A change
 * to sshd on a local host is refused (no SSH login could prove it), SSH-only inventory keys on a
 * local host are refused with their position, and Ansible's ansible_connection=local maps onto
 * it. No daemon is started (nothing to lock); no traffic leaves the machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, runCli } from '../helpers/lab-fixture.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string; diagnosis?: string };
  changes: { path: string; action: string; diff: string }[];
  apply?: { outcome: string; login_proof?: string; verification: { keyword: string; connection?: string; actual: string[]; ok: boolean }[] };
}
const hostsOf = (stdout: string): JsonHost[] => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts;
const sha = (path: string): string | undefined => (existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined);

/** `ssh -G -F config host`, the way ssh itself resolves it: keyword to value. */
function sshG(config: string, host: string): Map<string, string> {
  const run = spawnSync('ssh', ['-G', '-F', config, host], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return new Map(run.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

const OWN_CONFIG = '# my own settings, kept as they are\nHost *\n    ServerAliveInterval 15\n';

describe('a local host: fixing my own ~/.ssh/config', { timeout: 240_000 }, () => {
  let dir: string;
  let home: string;
  let backups: string;
  let env: NodeJS.ProcessEnv;
  const machineFiles = ['/root/.ssh/config', '/etc/ssh/ssh_config', '/etc/ssh/ssh_config.d/50-sshfix.conf', '/etc/ssh/sshd_config'];
  const machineBefore = new Map<string, string | undefined>();

  before(() => {
    // sshfix needs root on every host, the local one included; the test must not pass without it.
    assert.equal(process.getuid?.(), 0, 'this test runs sshfix as root (the transaction keeps backups and a dead-man switch as root)');
    for (const f of machineFiles) machineBefore.set(f, sha(f));
    dir = mkdtempSync(join(tmpdir(), 'sshfix-local-'));
    home = join(dir, 'home');
    backups = join(dir, 'backups');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'config'), OWN_CONFIG, { mode: 0o600 });
    // A fleet host the playbook never targets: it is never contacted (its address is in this test's block).
    writeFileSync(join(dir, 'inventory.yaml'), 'hosts:\n  web-1: { address: 127.77.97.1, agent: true }\n');
    const { SUDO_USER: _sudo, SSHFIX_INVENTORY: _inventory, ...rest } = process.env;
    env = { ...rest, HOME: home, NO_COLOR: '1' };
  });
  after(() => {
    // Whatever happened, the machine's own files are as they were.
    for (const f of machineFiles) assert.equal(sha(f), machineBefore.get(f), `${f} was changed`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runCli(args, { env, cwd: dir });
  const playbook = join(REPO_ROOT, 'playbooks', 'client-keepalive-local.yaml');
  const config = (): string => join(home, '.ssh', 'config');

  it('plan shows the diff for the implicit localhost and writes nothing', () => {
    const plan = cli(['plan', playbook, '-i', 'inventory.yaml', '--var', 'server=bastion', '--format', 'json']);
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    const hosts = hostsOf(plan.stdout);
    assert.deepEqual(hosts.map((h) => [h.name, h.status]), [['localhost', 'changed']], 'only localhost: the play does not reach web-1');
    assert.equal(hosts[0]?.changes[0]?.path, config());
    assert.match(hosts[0]?.changes[0]?.diff ?? '', /\+Host bastion\n\+ {4}ServerAliveInterval 60\n\+ {4}ServerAliveCountMax 3\n/);
    assert.equal(readFileSync(config(), 'utf8'), OWN_CONFIG);
    assert.equal(existsSync(backups), false);
  });

  it('apply writes the Host block before Host *, proves it with ssh -G, and ssh -G shows it for the named host only', () => {
    const apply = cli(['apply', playbook, '-i', 'inventory.yaml', '--var', 'server=bastion', '--yes', '--backup-dir', backups, '--format', 'json']);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    const [host] = hostsOf(apply.stdout);
    assert.equal(host?.apply?.outcome, 'applied', apply.stdout);
    assert.equal(host?.apply?.login_proof, 'ok');
    assert.deepEqual(
      host?.apply?.verification.map((v) => [v.keyword, v.connection, v.actual, v.ok]),
      [
        ['serveraliveinterval', 'ssh -G bastion', ['60'], true],
        ['serveralivecountmax', 'ssh -G bastion', ['3'], true],
      ],
    );
    assert.equal(readFileSync(config(), 'utf8'), `# my own settings, kept as they are\nHost bastion\n    ServerAliveInterval 60\n    ServerAliveCountMax 3\n\nHost *\n    ServerAliveInterval 15\n`);
    const named = sshG(config(), 'bastion');
    assert.equal(named.get('serveraliveinterval'), '60');
    assert.equal(named.get('serveralivecountmax'), '3');
    const other = sshG(config(), 'other.example.com');
    assert.equal(other.get('serveraliveinterval'), '15', 'other destinations keep what Host * gives them');
    assert.equal(other.get('serveralivecountmax'), '3');
    assert.equal(statSync(config()).mode & 0o777, 0o600, 'the file keeps its mode');
    assert.equal(readdirSync(backups).filter((d) => /^\d{8}T\d{6}Z-/.test(d)).length, 1);
  });

  it('a second plan is a no-op', () => {
    const plan = cli(['plan', playbook, '-i', 'inventory.yaml', '--var', 'server=bastion', '--format', 'json', '--detailed-exitcode']);
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    assert.deepEqual(hostsOf(plan.stdout).map((h) => [h.name, h.status, h.changes.length]), [['localhost', 'ok', 0]]);
  });

  it('rollback -l localhost restores the file byte for byte', () => {
    const rollback = cli(['rollback', '-i', 'inventory.yaml', '-l', 'localhost', '--backup-dir', backups, '--yes', '--format', 'json']);
    assert.equal(rollback.status, 0, rollback.stdout + rollback.stderr);
    assert.equal(hostsOf(rollback.stdout)[0]?.apply?.outcome, 'applied', rollback.stdout);
    assert.equal(readFileSync(config(), 'utf8'), OWN_CONFIG);
    assert.equal(statSync(config()).mode & 0o777, 0o600);
    assert.equal(sshG(config(), 'bastion').get('serveraliveinterval'), '15');
  });

  it('a saved plan for the implicit localhost is applied with apply --plan, and rolled back again', () => {
    const planFile = join(dir, 'saved-plan.json');
    const plan = cli(['plan', playbook, '-i', 'inventory.yaml', '--var', 'server=bastion', '--out', planFile]);
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    const apply = cli(['apply', '--plan', planFile, '--yes', '--backup-dir', backups, '--format', 'json']);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    assert.equal(hostsOf(apply.stdout)[0]?.apply?.outcome, 'applied', apply.stdout);
    assert.match(readFileSync(config(), 'utf8'), /^Host bastion$/m);
    const rollback = cli(['rollback', '-i', 'inventory.yaml', '-l', 'localhost', '--backup-dir', backups, '--yes']);
    assert.equal(rollback.status, 0, rollback.stdout + rollback.stderr);
    assert.equal(readFileSync(config(), 'utf8'), OWN_CONFIG);
  });

  it('a home without ~/.ssh gets one only its owner can enter, and a config only its owner can read', () => {
    const fresh = join(dir, 'fresh-home');
    mkdirSync(fresh);
    const apply = runCli(['apply', playbook, '-i', 'inventory.yaml', '--var', 'server=bastion', '--yes', '--backup-dir', backups, '--format', 'json'], { env: { ...env, HOME: fresh }, cwd: dir });
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    assert.equal(hostsOf(apply.stdout)[0]?.apply?.outcome, 'applied', apply.stdout);
    assert.equal(statSync(join(fresh, '.ssh')).mode & 0o777, 0o700);
    assert.equal(statSync(join(fresh, '.ssh', 'config')).mode & 0o777, 0o600);
    assert.equal(sshG(join(fresh, '.ssh', 'config'), 'bastion').get('serveraliveinterval'), '60');
  });

  it('an inventory host with connection: local, and Ansible\'s ansible_connection=local, are the same machine', () => {
    writeFileSync(join(dir, 'local.yaml'), 'hosts:\n  localhost: { connection: local }\n  web-1: { address: 127.77.97.1, agent: true }\n');
    writeFileSync(join(dir, 'hosts.ini'), 'localhost ansible_connection=local\n[web]\nweb-1 ansible_host=127.77.97.1\n');
    for (const inventory of ['local.yaml', 'hosts.ini']) {
      const plan = cli(['plan', playbook, '-i', inventory, '--var', 'server=bastion', '--format', 'json']);
      assert.equal(plan.status, 0, `${inventory}: ${plan.stdout}${plan.stderr}`);
      assert.deepEqual(hostsOf(plan.stdout).map((h) => [h.name, h.status, h.changes[0]?.path]), [['localhost', 'changed', config()]], inventory);
    }
    const shown = cli(['inventory', '-i', 'hosts.ini', '--format', 'json']);
    assert.equal(shown.status, 0, shown.stderr);
    const described = (JSON.parse(shown.stdout) as { hosts: Record<string, unknown>[] }).hosts.find((h) => h['name'] === 'localhost');
    assert.equal(described?.['connection'], 'local');
    assert.deepEqual(described?.['from_ansible'], { ansible_connection: 'connection: local' });
  });

  it('refuses a change to sshd on a local host at plan and at apply, saying why; nothing is written', () => {
    writeFileSync(join(dir, 'sshd.yaml'), 'name: server keepalive here\nhosts: localhost\ntasks:\n  - name: probe idle clients\n    sshd:\n      set: { ClientAliveInterval: 61 }\n');
    // sshd -T of this machine's config needs /run/sshd, which a fresh machine does not have.
    const privateRun = (args: string[]) => runCli(args, { env, cwd: dir, privateRun: true });
    const plan = privateRun(['plan', 'sshd.yaml', '-i', 'inventory.yaml', '--format', 'json']);
    assert.equal(plan.status, 1, plan.stdout + plan.stderr);
    const [host] = hostsOf(plan.stdout);
    assert.equal(host?.error?.code, 'local-login-unproven', plan.stdout);
    assert.match(host?.error?.message ?? '', /localhost has connection: local, and a change to sshd cannot be proven there/);
    assert.match(host?.error?.diagnosis ?? '', /list it as an SSH host with its address/);
    const transactions = readdirSync(backups).length;
    const apply = privateRun(['apply', 'sshd.yaml', '-i', 'inventory.yaml', '--yes', '--backup-dir', backups, '--format', 'json']);
    assert.equal(apply.status, 1, apply.stdout + apply.stderr);
    assert.equal(hostsOf(apply.stdout)[0]?.error?.code, 'local-login-unproven');
    assert.equal(readdirSync(backups).length, transactions, 'no transaction was started');
  });

  it('refuses SSH-only keys on a local host before connecting, with file, line and column', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'hosts:\n  me:\n    connection: local\n    port: 2222\n');
    const validate = cli(['validate', '-i', 'bad.yaml', playbook]);
    assert.equal(validate.status, 1, validate.stdout + validate.stderr);
    assert.match(validate.stdout + validate.stderr, /bad\.yaml:4:5: error\[local-connection-key\]: "port" does not apply to a host with connection: local/);
  });

  it('diagnose refuses a local host: nothing logs in to it', () => {
    const run = cli(['diagnose', 'localhost', '-i', 'local.yaml']);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /local\.yaml:2:3: error\[diagnose-local-host\]/);
  });
});
