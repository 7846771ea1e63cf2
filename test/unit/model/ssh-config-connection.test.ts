/** The runner's ssh_config onto inventory hosts: the resolver's reading rules and the mapping, from in-memory files. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSshHostConfig, type SshConfigSource } from '../../../src/config/ssh-config/resolve.js';
import { honourSshConfig } from '../../../src/cli/ssh-config-files.js';
import { loadInventory } from '../../../src/model/inventory.js';

const files = (map: Record<string, string>): SshConfigSource => ({
  read: (p) => map[p],
  glob: (pattern) => Object.keys(map).filter((p) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`).test(p)).sort(),
});
const opts = { homeDir: '/home/me', localUser: 'me' };
const load = (text: string) => loadInventory(text, { file: 'inv.yaml', homeDir: '/home/me', localUser: 'me' }).inventory;

describe('resolving ssh_config for one destination', () => {
  it('reads Includes in place (relative to ~/.ssh), and an Include in an inactive block turns nothing on', () => {
    const src = files({
      '/home/me/.ssh/config': 'Host other\n  Include never.conf\nHost *\n  Include conf.d/*.conf\n  User last\n',
      '/home/me/.ssh/never.conf': 'Host *\n  Port 1\n',
      '/home/me/.ssh/conf.d/a.conf': 'Host app\n  Port 2200\nHost *\n  User from-include\n',
    });
    const v = resolveSshHostConfig('/home/me/.ssh/config', 'app', src, opts).values;
    assert.deepEqual(v.get('port'), { values: ['2200'], source: { path: '/home/me/.ssh/conf.d/a.conf', line: 2 } });
    assert.deepEqual(v.get('user')?.values, ['from-include']);
  });

  it('warns for Match criteria it cannot evaluate and takes the block as not matching', () => {
    const r = resolveSshHostConfig('/c', 'app', files({ '/c': 'Match exec "true"\n  Port 1\nMatch originalhost app user me\n  Port 2\n' }), opts);
    assert.deepEqual(r.values.get('port')?.values, ['2']);
    assert.equal(r.diagnostics[0]?.code, 'ssh-config-not-evaluated');
  });
});

describe('ssh_config onto the inventory', () => {
  const config = {
    '/home/me/.ssh/config': [
      'Host db',
      '  HostName %h.internal.example',
      '  ProxyJump bastion',
      '  IdentityFile %d/.ssh/id_%h',
      'Host *',
      '  User ops',
      '  Port 2222',
      '  StrictHostKeyChecking no',
      '  ConnectTimeout 1m',
      '  ServerAliveInterval 15',
      '  KexAlgorithms +diffie-hellman-group14-sha1,diffie-hellman-group1-sha1',
      '  UserKnownHostsFile ~/.ssh/kh other',
      '',
    ].join('\n'),
  };

  it('fills what the inventory leaves open; what it writes, at any level, wins', () => {
    const inventory = load('defaults: { port: 22 }\nhosts:\n  db: {}\n  bastion: { address: 192.0.2.1, user: admin }\n');
    const { inventory: out } = honourSshConfig(inventory, { ...opts, source: files(config) });
    const [db, bastion] = out.hosts;
    assert.equal(db?.address, 'db.internal.example');
    assert.deepEqual(db?.jump, { kind: 'host', name: 'bastion' }, 'a ProxyJump naming an inventory host uses its settings');
    assert.equal(db?.identityFile, '/home/me/.ssh/id_db.internal.example');
    assert.equal(db?.user, 'ops');
    assert.equal(db?.port, 22, 'defaults: port is written explicitly');
    assert.equal(db?.hostKeyPolicy, 'off');
    assert.equal(db?.connectTimeoutMs, 60_000);
    assert.equal(db?.keepaliveIntervalS, 15);
    assert.deepEqual(db?.algorithms, { kex: ['+diffie-hellman-group14-sha1', '+diffie-hellman-group1-sha1'] });
    assert.equal(db?.knownHosts, '/home/me/.ssh/kh');
    assert.equal(bastion?.address, '192.0.2.1');
    assert.equal(bastion?.user, 'admin');
  });

  it('ssh_config: none, or a missing file, leaves the inventory as written', () => {
    const none = load('defaults: { ssh_config: none }\nhosts:\n  db: {}\n');
    assert.equal(none.hosts[0]?.sshConfig, undefined);
    assert.equal(honourSshConfig(none, { ...opts, source: files(config) }).inventory.hosts[0]?.address, 'db');
    const other = load('hosts:\n  db: { ssh_config: ~/elsewhere }\n');
    assert.equal(other.hosts[0]?.sshConfig, '/home/me/elsewhere');
    assert.equal(honourSshConfig(other, { ...opts, source: files(config) }).inventory.hosts[0]?.user, 'me');
  });
});
