/**
 * The `ssh_client` task end to end on real hosts: the shipped client playbooks write a Host block
 * into the system drop-in (or a user's ~/.ssh/config), apply proves the values with the host's own
 * `ssh -G` and that an unrelated destination did not move, a second run changes nothing, and a
 * legacy algorithm for every host is refused before connecting. Lab address block 127.77.89.x.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, labInventory, readHostFile } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string };
  apply?: { outcome: string; verification: { keyword: string; connection?: string; expected: string[]; actual: string[]; ok: boolean }[] };
}
const hostsOf = (stdout: string): JsonHost[] => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts;
const playbook = (name: string): string => join(REPO_ROOT, 'playbooks', name);

describe('ssh_client against the lab', { timeout: 240_000 }, () => {
  let lab: TestLab;
  let inventory: string;

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.89.1' });
    inventory = join(lab.dir, 'client-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
  });
  after(() => lab?.down());

  it('client-keepalive.yaml writes a Host block in the drop-in and ssh -G shows it', () => {
    const name = lab.hosts[0]!.name;
    const apply = runCli(['apply', playbook('client-keepalive.yaml'), '-i', inventory, '--var', 'server=bastion.example.com', '--yes', '--format', 'json']);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    const [host] = hostsOf(apply.stdout);
    assert.equal(host?.apply?.outcome, 'applied', apply.stdout);
    assert.deepEqual(
      host?.apply?.verification.map((v) => [v.keyword, v.connection, v.actual, v.ok]),
      [
        ['serveraliveinterval', 'ssh -G bastion.example.com', ['60'], true],
        ['serveralivecountmax', 'ssh -G bastion.example.com', ['3'], true],
      ],
    );
    assert.equal(readHostFile(lab, name, '/etc/ssh/ssh_config.d/50-sshfix.conf'), 'Host bastion.example.com\n    ServerAliveInterval 60\n    ServerAliveCountMax 3\n');

    const again = runCli(['apply', playbook('client-keepalive.yaml'), '-i', inventory, '--var', 'server=bastion.example.com', '--yes', '--format', 'json']);
    assert.equal(again.status, 0, again.stdout);
    assert.equal(hostsOf(again.stdout)[0]?.status, 'ok', 'the second run changes nothing');
  });

  it('client-legacy-host.yaml enables the algorithm for the one host; other names keep their lists', () => {
    const name = lab.hosts[0]!.name;
    const args = ['--var', 'server=old-switch', '--var', 'algorithm=diffie-hellman-group14-sha1'];
    const apply = runCli(['apply', playbook('client-legacy-host.yaml'), '-i', inventory, ...args, '--yes', '--format', 'json']);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    const [host] = hostsOf(apply.stdout);
    assert.equal(host?.apply?.outcome, 'applied', apply.stdout);
    const kex = host?.apply?.verification.find((v) => v.keyword === 'kexalgorithms');
    assert.equal(kex?.ok, true);
    assert.ok(kex?.actual[0]?.split(',').includes('diffie-hellman-group14-sha1'));
    // The new block goes before the first block that decides for the host; bastion's stays as it was.
    assert.equal(
      readHostFile(lab, name, '/etc/ssh/ssh_config.d/50-sshfix.conf'),
      'Host bastion.example.com\n    ServerAliveInterval 60\n    ServerAliveCountMax 3\n\nHost old-switch\n    KexAlgorithms +diffie-hellman-group14-sha1\n',
    );
  });

  it('refuses a legacy algorithm for every host before connecting, with file and line', () => {
    const name = lab.hosts[0]!.name;
    const before = fingerprint(lab, name);
    const plan = runCli(['plan', playbook('client-legacy-host.yaml'), '-i', inventory, '--var', 'server=*', '--var', 'algorithm=ssh-rsa', '--var', 'keyword=HostKeyAlgorithms']);
    assert.equal(plan.status, 1, plan.stdout + plan.stderr);
    assert.match(plan.stderr, /client-legacy-host\.yaml:\d+:\d+: error\[legacy-algorithm-for-every-host\]: HostKeyAlgorithms would enable legacy ssh-rsa for every destination \(Host \*\)/);
    assert.deepEqual(fingerprint(lab, name), before);
  });

  it("edits the login account's ~/.ssh/config when asked, and ssh -G -F reads it", () => {
    const name = lab.hosts[0]!.name;
    const path = join(lab.dir, 'user-config.yaml');
    writeFileSync(path, 'name: user config\nhosts: all\ntasks:\n  - ssh_client:\n      path: ~/.ssh/config\n      host: ["*.internal", "!gw.internal"]\n      set: { User: deploy, Port: 2222, ConnectTimeout: 5 }\n');
    const apply = runCli(['apply', path, '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    const [host] = hostsOf(apply.stdout);
    assert.deepEqual(
      host?.apply?.verification.map((v) => [v.keyword, v.connection, v.actual, v.ok]),
      [
        ['user', 'ssh -G x.internal', ['deploy'], true],
        ['port', 'ssh -G x.internal', ['2222'], true],
        ['connecttimeout', 'ssh -G x.internal', ['5'], true],
      ],
    );
    assert.equal(readHostFile(lab, name, '/root/.ssh/config'), 'Host *.internal !gw.internal\n    User deploy\n    Port 2222\n    ConnectTimeout 5\n');
  });

  it("reaches a Host alias of the runner's ~/.ssh/config with its HostName, User and IdentityFile", () => {
    const home = join(lab.dir, 'runner-home');
    mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
    writeFileSync(
      join(home, '.ssh', 'config'),
      `Host labalias\n    HostName ${lab.hosts[0]!.address}\n    User root\nInclude conf.d/*.conf\nHost *\n    IdentityFile /nonexistent/key\n    User nobody\n`,
    );
    writeFileSync(join(home, '.ssh', 'conf.d', 'lab.conf'), `Host labalias\n    IdentityFile ${lab.identityFile}\n    UserKnownHostsFile ${lab.knownHosts}\n`);
    const aliasInventory = join(lab.dir, 'alias-inventory.yaml');
    writeFileSync(aliasInventory, 'hosts:\n  labalias: {}\n');
    const env = { HOME: home };

    const shown = runCli(['inventory', '-i', aliasInventory], { env });
    assert.equal(shown.status, 0, shown.stdout + shown.stderr);
    assert.match(shown.stdout, new RegExp(`address: ${lab.hosts[0]!.address.replace(/\./g, '\\.')}\\n  port: 22\\n  user: root\\n`));
    assert.match(shown.stdout, new RegExp(`identity_file: ${lab.identityFile}`));
    assert.doesNotMatch(shown.stderr, /no-credentials/, 'the IdentityFile from ssh_config counts as a credential');

    const plan = runCli(['plan', playbook('client-keepalive.yaml'), '-i', aliasInventory, '--var', 'server=bastion.example.com', '--format', 'json'], { env });
    assert.equal(plan.status, 0, plan.stdout + plan.stderr);
    assert.deepEqual(hostsOf(plan.stdout).map((h) => [h.name, h.status]), [['labalias', 'ok']], 'reached, and the block from the first test is already there');

    // Explicit inventory values win over ssh_config; ssh_config: none ignores the file.
    writeFileSync(aliasInventory, 'hosts:\n  labalias: { user: nobody }\n');
    assert.match(runCli(['inventory', '-i', aliasInventory], { env }).stdout, /user: nobody\n/);
    writeFileSync(aliasInventory, 'defaults: { ssh_config: none }\nhosts:\n  labalias: {}\n');
    assert.match(runCli(['inventory', '-i', aliasInventory], { env }).stdout, /address: labalias\n/);
  });
});
