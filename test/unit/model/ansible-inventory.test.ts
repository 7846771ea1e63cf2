import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectInventoryFormat,
  loadAnsibleInventory,
  parseAnsibleIni,
  readSshArgs,
  resolveHostVars,
  shellSplit,
  type AnsibleLoadOptions,
} from '../../../src/model/ansible-inventory.js';

const INI = `# web tier
bastion ansible_host=203.0.113.10 ansible_user=ops

[web]
web[01:03].example.com ansible_user=deploy
db-[a:b] ansible_port=2222

[web:vars]
max_startups="100:30:500"
tier=front

[prod:children]
web

[prod:vars]
tier=prod
ansible_become=true
ansible_become_password=s3cr3t
ansible_ssh_common_args='-o ProxyJump=bastion -o ServerAliveInterval=30'

[all:vars]
region=eu
`;

const options = (format: AnsibleLoadOptions['format'], side: AnsibleLoadOptions['side'] = { groupVars: new Map(), hostVars: new Map() }): AnsibleLoadOptions => ({
  file: 'hosts.ini',
  format,
  homeDir: '/home/op',
  localUser: 'op',
  baseDir: '/srv/inv',
  side,
  agentAvailable: false,
});

describe('Ansible inventories', () => {
  it('recognises each format by its content', () => {
    assert.equal(detectInventoryFormat(INI), 'ansible-ini');
    assert.equal(detectInventoryFormat('web1\nweb2 ansible_port=22\n'), 'ansible-ini');
    assert.equal(detectInventoryFormat('all:\n  hosts:\n    a: {}\n'), 'ansible-yaml');
    assert.equal(detectInventoryFormat('web:\n  hosts:\n    a:\n'), 'ansible-yaml');
    assert.equal(detectInventoryFormat('{"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped"]}}'), 'ansible-json');
    assert.equal(detectInventoryFormat('defaults:\n  user: root\nhosts:\n  a: {}\n'), 'sshfix');
    assert.equal(detectInventoryFormat('hosts:\n  a: {}\ngroups:\n  web:\n    hosts: [a]\n'), 'sshfix');
    // A broken sshfix inventory stays one: its YAML errors are reported, not INI ones.
    assert.equal(detectInventoryFormat('defaults:\n  user: root\nhosts:\n  a: {address: [\n'), 'sshfix');
    assert.equal(detectInventoryFormat('hosts:\n'), 'sshfix');
  });

  it('INI: sections, ranges, host:port, :vars, :children, ungrouped hosts, strings kept as written', () => {
    const loaded = loadAnsibleInventory(INI, options('ansible-ini'));
    assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
    const names = loaded.inventory.hosts.map((h) => h.name);
    assert.deepEqual(names, ['bastion', 'web01.example.com', 'web02.example.com', 'web03.example.com', 'db-a', 'db-b']);
    const web = loaded.inventory.hosts[1];
    assert.equal(web?.user, 'deploy');
    assert.equal(web?.become, 'sudo');
    assert.deepEqual(web?.jump, { kind: 'host', name: 'bastion' });
    assert.equal(web?.vars.tier, 'front', 'web is a child of prod: the deeper group wins');
    assert.equal(web?.vars.max_startups, '100:30:500');
    assert.equal(web?.vars.region, 'eu');
    assert.equal(loaded.inventory.hosts[4]?.port, 2222);
    const bastion = loaded.inventory.hosts[0];
    assert.equal(bastion?.address, '203.0.113.10');
    assert.equal(bastion?.user, 'ops');
    assert.deepEqual(bastion?.groups, ['ungrouped']);
    assert.deepEqual(loaded.inventory.groups.find((g) => g.name === 'prod')?.hosts, names.slice(1));
  });

  it('a secret is used through an environment name and never shown; unknown ansible_ variables and ssh options are warned about', () => {
    const loaded = loadAnsibleInventory(INI, options('ansible-ini'));
    const web = loaded.inventory.hosts[1];
    assert.ok(web?.becomePasswordEnv?.startsWith('SSHFIX_INVENTORY_SECRET_'));
    assert.equal(loaded.secrets[web?.becomePasswordEnv as string], 's3cr3t');
    assert.ok(loaded.mappings.get('web01.example.com')?.some((m) => m.variable === 'ansible_become_password' && m.shown === '<from inventory>'));
    assert.equal(JSON.stringify(loaded.mappings).includes('s3cr3t'), false);
    assert.equal(JSON.stringify(loaded.diagnostics).includes('s3cr3t'), false);
    assert.ok(loaded.diagnostics.some((d) => d.code === 'inventory-secret' && d.severity === 'warning'));
    assert.ok(loaded.diagnostics.some((d) => d.code === 'ssh-args-unsupported' && /ServerAliveInterval/.test(d.message)));
  });

  it('precedence: group depth, then group_vars files, then host vars, then host_vars files', () => {
    const { model } = parseAnsibleIni(INI, 'hosts.ini');
    const side = {
      groupVars: new Map([
        ['all', [{ region: 'us', tier: 'from-all-file' }]],
        ['web', [{ from_web_file: true }]],
      ]),
      hostVars: new Map([['web01.example.com', [{ tier: 'host-file' }]]]),
    };
    const vars = resolveHostVars(model, 'web02.example.com', side);
    assert.equal(vars.region, 'us', 'group_vars/all beats the inventory file\'s [all:vars]');
    assert.equal(vars.tier, 'from-all-file', 'group_vars files come after every group var of the inventory file, even a deeper group\'s');
    assert.equal(vars.from_web_file, true);
    assert.equal(resolveHostVars(model, 'web01.example.com', side).tier, 'host-file');
  });

  it('YAML: nested children, host vars keep their YAML types', () => {
    const yaml = `all:
  vars: { ntp: pool }
  children:
    web:
      hosts:
        w1: { ansible_host: 192.0.2.10, ansible_port: 2200, weight: 3 }
      children:
        canary:
          hosts:
            w2:
          vars: { stage: canary }
`;
    const loaded = loadAnsibleInventory(yaml, { ...options('ansible-yaml'), file: 'inv.yml' });
    assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
    const [w1, w2] = loaded.inventory.hosts;
    assert.equal(w1?.address, '192.0.2.10');
    assert.equal(w1?.port, 2200);
    assert.equal(w1?.vars.weight, 3);
    assert.deepEqual(w2?.groups.sort(), ['canary', 'web']);
    assert.equal(w2?.vars.stage, 'canary');
    assert.equal(w2?.vars.ntp, 'pool');
  });

  it('ansible-inventory --list JSON with _meta.hostvars', () => {
    const json = JSON.stringify({
      _meta: { hostvars: { a: { ansible_host: '198.51.100.1', role: 'db' }, b: {} } },
      all: { children: ['ungrouped', 'db'] },
      db: { hosts: ['a'] },
      ungrouped: { hosts: ['b'] },
    });
    const loaded = loadAnsibleInventory(json, { ...options('ansible-json'), file: 'fleet.json' });
    assert.deepEqual(loaded.inventory.hosts.map((h) => [h.name, h.address, h.groups]), [
      ['a', '198.51.100.1', ['db']],
      ['b', 'b', ['ungrouped']],
    ]);
    assert.equal(loaded.inventory.hosts[0]?.vars.role, 'db');
  });

  it('reports positions for broken INI lines and a :vars section of an undeclared group', () => {
    const { diagnostics } = parseAnsibleIni('[web]\nw1 novalue\n[ghost:vars]\nx=1\n', 'bad.ini');
    assert.deepEqual(diagnostics.map((d) => [d.code, d.range?.start.line, d.range?.start.column]), [
      ['ini-host', 2, 4],
      ['unknown-group', 3, 2],
    ]);
  });

  it('ansible_connection=local maps to connection: local, keeping become and ignoring SSH settings with a warning', () => {
    const loaded = loadAnsibleInventory(
      'localhost ansible_connection=local ansible_become=true ansible_user=ops ansible_port=2222 ansible_ssh_common_args="-J bastion"\nweb1 ansible_user=deploy\nbastion\n',
      options('ansible-ini'),
    );
    const [local, web1] = loaded.inventory.hosts;
    assert.deepEqual(loaded.inventory.hosts.map((h) => h.name), ['localhost', 'web1', 'bastion']);
    assert.equal(local?.connection, 'local');
    assert.equal(local?.become, 'sudo');
    assert.equal(local?.user, 'op', 'a local connection runs as the user running sshfix');
    assert.equal(local?.port, 22);
    assert.equal(local?.jump, undefined);
    assert.equal(local?.identityFile, undefined);
    assert.equal(web1?.connection, undefined);
    assert.equal(web1?.user, 'deploy');
    const warning = loaded.diagnostics.find((d) => d.code === 'ansible-local-ignored');
    assert.match(warning?.message ?? '', /host "localhost" has ansible_connection=local: ansible_port, ansible_user, ansible_ssh_common_args ignored/);
    assert.deepEqual(warning?.range?.start, { line: 1, column: 1 });
    assert.deepEqual(loaded.mappings.get('localhost')?.map((m) => `${m.variable}=${m.setting}`), ['ansible_become=become', 'ansible_connection=connection']);
  });

  it('an Ansible YAML inventory maps ansible_connection: local too', () => {
    const loaded = loadAnsibleInventory('all:\n  hosts:\n    workstation:\n      ansible_connection: local\n    web1: {}\n', options('ansible-yaml'));
    assert.deepEqual(loaded.inventory.hosts.map((h) => [h.name, h.connection ?? 'ssh']), [['workstation', 'local'], ['web1', 'ssh']]);
    assert.equal(loaded.diagnostics.filter((d) => d.severity === 'error').length, 0);
  });

  it('reads ProxyJump from -J, -o ProxyJump= and -oProxyJump, and flags ProxyCommand', () => {
    assert.equal(readSshArgs('-J ops@bastion:2222').jump, 'ops@bastion:2222');
    assert.equal(readSshArgs('-o ProxyJump=jump1').jump, 'jump1');
    assert.equal(readSshArgs('-oProxyJump=jump2 -o StrictHostKeyChecking=no').hostKeyPolicy, 'off');
    assert.deepEqual(readSshArgs('-o ProxyCommand="ssh -W %h:%p bastion"').unsupported, ['-o ProxyCommand=ssh -W %h:%p bastion']);
    assert.deepEqual(shellSplit(`a 'b c' "d \\"e\\"" f\\ g`).words.map((w) => w.text), ['a', 'b c', 'd "e"', 'f g']);
  });
});
