/**
 * Plans run end to end on the lab from Ansible inventories as operators have them: an INI file with
 * group_vars/, a YAML file, and the JSON of `ansible-inventory --list`. Lab address block 127.77.81.x.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';

interface JsonReport {
  hosts: { name: string; status: string; changes: { diff: string }[]; error?: { code: string; message: string } }[];
}

describe('plan from Ansible inventories', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let dir: string;

  before(() => {
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.81.1', scenarios: ['debian-cloud', 'tight-maxstartups'] });
    dir = join(lab.dir, 'ansible');
    mkdirSync(join(dir, 'group_vars'), { recursive: true });
  });
  after(() => lab?.down());

  const hostLines = (): string =>
    lab.hosts.map((h, i) => `node${i + 1} ansible_host=${h.address}`).join('\n');
  const common = (): string =>
    `ansible_user=root\nansible_ssh_private_key_file=${lab.identityFile}\nansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`;

  const plan = (inventory: string, playbook = 'playbooks/max-startups.yaml'): { report: JsonReport; stderr: string; status: number | null } => {
    const run = runCli(['plan', playbook, '-i', inventory, '--format', 'json']);
    return { report: JSON.parse(run.stdout) as JsonReport, stderr: run.stderr, status: run.status };
  };

  it('INI with [group:vars] and group_vars/: the value from group_vars reaches the plan', () => {
    const ini = join(dir, 'hosts.ini');
    writeFileSync(ini, `[fleet]\n${hostLines()}\n\n[fleet:vars]\n${common()}max_startups=30:30:90\n`);
    writeFileSync(join(dir, 'group_vars', 'fleet.yml'), 'max_startups: "40:30:120"\n');
    const shown = runCli(['inventory', '-i', ini]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /read as an Ansible INI inventory/);
    const { report, status, stderr } = plan(ini);
    assert.equal(status, 0, stderr);
    assert.deepEqual(report.hosts.map((h) => h.status), ['changed', 'changed'], JSON.stringify(report.hosts.map((h) => h.error)));
    for (const host of report.hosts) assert.match(host.changes.map((c) => c.diff).join('\n'), /^\+MaxStartups 40:30:120$/m, 'group_vars/ beats the inventory file\'s group vars, as in Ansible');
  });

  it('YAML inventory, and the same fleet through ansible-inventory --list JSON', () => {
    // Its own directory: the INI test's group_vars/fleet.yml would apply here too, as in Ansible.
    const yamlDir = join(lab.dir, 'ansible-yaml');
    mkdirSync(yamlDir, { recursive: true });
    const yml = join(yamlDir, 'fleet.yml');
    const hosts = lab.hosts.map((h, i) => `        node${i + 1}:\n          ansible_host: ${h.address}`).join('\n');
    writeFileSync(
      yml,
      `all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: ${lab.identityFile}\n    ansible_ssh_common_args: "-o UserKnownHostsFile=${lab.knownHosts}"\n    max_startups: "50:30:150"\n  children:\n    fleet:\n      hosts:\n${hosts}\n`,
    );
    const fromYaml = plan(yml);
    assert.equal(fromYaml.status, 0, fromYaml.stderr);
    for (const host of fromYaml.report.hosts) assert.match(host.changes.map((c) => c.diff).join('\n'), /^\+MaxStartups 50:30:150$/m);

    const listed = spawnSync('ansible-inventory', ['-i', yml, '--list'], { encoding: 'utf8', env: { ...process.env, HOME: lab.dir }, timeout: 120_000 });
    assert.equal(listed.status, 0, `ansible-inventory (apt-get install ansible-core) must run: ${listed.stderr}`);
    const json = join(yamlDir, 'fleet.json');
    writeFileSync(json, listed.stdout);
    const fromJson = plan(json);
    assert.equal(fromJson.status, 0, fromJson.stderr);
    assert.deepEqual(
      fromJson.report.hosts.map((h) => [h.name, h.status]),
      fromYaml.report.hosts.map((h) => [h.name, h.status]),
    );
  });
});
