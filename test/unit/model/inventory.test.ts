import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toConnectTarget } from '../../../src/model/connect-target.js';
import { durationTooLong, formatDuration, MAX_DURATION_MS, parseDuration } from '../../../src/model/duration.js';
import { expandHostRange } from '../../../src/model/host-range.js';
import { findHost, parseJumpAddress, selectInventoryHosts, type ResolvedHost } from '../../../src/model/inventory.js';
import { chooseInventoryPath } from '../../../src/model/inventory-path.js';
import { errorsOf, inventoryOf, where, yaml } from './helpers.js';

const host = (text: string, name: string): ResolvedHost => {
  const { inventory, diagnostics } = inventoryOf(text);
  assert.deepEqual(errorsOf(diagnostics), []);
  const found = findHost(inventory, name);
  assert.ok(found, `no host ${name}`);
  return found;
};

describe('host ranges', () => {
  it('expands numbers keeping zero padding', () => {
    assert.deepEqual(expandHostRange('web-[01:03].example.com'), { names: ['web-01.example.com', 'web-02.example.com', 'web-03.example.com'] });
    assert.deepEqual(expandHostRange('web-[8:10]'), { names: ['web-8', 'web-9', 'web-10'] });
    assert.deepEqual(expandHostRange('web-[098:100]'), { names: ['web-098', 'web-099', 'web-100'] });
  });
  it('expands letters, steps and several ranges', () => {
    assert.deepEqual(expandHostRange('db-[a:c]'), { names: ['db-a', 'db-b', 'db-c'] });
    assert.deepEqual(expandHostRange('n[0:20:10]'), { names: ['n0', 'n10', 'n20'] });
    assert.deepEqual(expandHostRange('r[1:2]-[a:b]'), { names: ['r1-a', 'r1-b', 'r2-a', 'r2-b'] });
    assert.deepEqual(expandHostRange('plain.example.com'), { names: ['plain.example.com'] });
  });
  it('reports bad ranges with their span', () => {
    assert.deepEqual(expandHostRange('web-[20:01]'), { error: { message: 'range start 20 is after its end 01', from: 4, to: 11 } });
    assert.ok('error' in expandHostRange('web-[01:c]'));
    assert.ok('error' in expandHostRange('web-[01:05'));
    assert.ok('error' in expandHostRange('web-[1:99999]'));
    assert.ok('error' in expandHostRange('x[0:9]y[0:9]z[0:9]w[0:9]v[0:9]'));
  });
});

describe('durations', () => {
  it('parses units and plain seconds', () => {
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m500ms'), 60_500);
    assert.equal(parseDuration(15), 15_000);
    assert.equal(parseDuration('2.5'), 2_500);
  });
  it('refuses anything else', () => {
    for (const bad of ['', '10 s', '10sec', 's', '1s1m', '-1', 'ms', '1d']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(parseDuration(-1), undefined);
  });
  it('formats back', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(0), '0s');
  });
  it('bounds every duration at the longest timer Node can set (2^31-1 ms)', () => {
    assert.equal(MAX_DURATION_MS, 2_147_483_647);
    assert.equal(durationTooLong(MAX_DURATION_MS), undefined);
    assert.match(durationTooLong(MAX_DURATION_MS + 1) ?? '', /596h31m23s647ms/);
    assert.notEqual(durationTooLong(parseDuration('99999999999999999999h')!), undefined);
    assert.notEqual(durationTooLong(parseDuration(1e300)!), undefined);
  });
});

describe('inventory resolution', () => {
  const fleet = yaml`
    defaults:
      user: root
      identity_file: ~/.ssh/id_ed25519
      connect_timeout: 10s
      jump: bastion-1
      algorithms: { kex: ["+diffie-hellman-group14-sha1"], cipher: [aes128-ctr] }
    vars: { max_startups: "100:30:500", level: inventory }
    hosts:
      bastion-1: { address: 203.0.113.10 }
      web-[01:03].example.com:
        vars: { level: host }
      web-02.example.com.bak: {}
      db-[a:b]:
        port: 2222
        user: dba
        identity_file: keys/db
    groups:
      web:
        hosts: ["web-*.example.com"]
        user: deploy
        become: sudo
        password_env: WEB_PW
        algorithms: { kex: [curve25519-sha256] }
        vars: { level: group, client_alive_interval: 60 }
      late:
        hosts: [web-01.example.com]
        user: late
        vars: { level: late-group }
  `;

  it('applies defaults < groups in file order < host', () => {
    const web1 = host(fleet, 'web-01.example.com');
    assert.equal(web1.user, 'late');
    assert.equal(web1.become, 'sudo');
    assert.deepEqual(web1.groups, ['web', 'late']);
    const db = host(fleet, 'db-a');
    assert.equal(db.user, 'dba');
    assert.equal(db.port, 2222);
    assert.equal(db.become, 'none');
  });

  it('merges variables inventory < group < host', () => {
    assert.deepEqual(host(fleet, 'web-01.example.com').vars, { max_startups: '100:30:500', level: 'host', client_alive_interval: 60 });
    assert.deepEqual(host(fleet, 'db-b').vars, { max_startups: '100:30:500', level: 'inventory' });
  });

  it('replaces each algorithm category whole, keeping the others', () => {
    assert.deepEqual(host(fleet, 'web-02.example.com').algorithms, { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'] });
    assert.deepEqual(host(fleet, 'db-a').algorithms, { kex: ['+diffie-hellman-group14-sha1'], cipher: ['aes128-ctr'] });
  });

  it('expands ~ under the home directory and relative paths under the inventory directory', () => {
    assert.equal(host(fleet, 'web-03.example.com').identityFile, '/home/ops/.ssh/id_ed25519');
    assert.equal(host(fleet, 'db-a').identityFile, '/srv/fleet/keys/db');
    assert.equal(host(fleet, 'db-a').knownHosts, '/home/ops/.ssh/known_hosts');
  });

  it('fills defaults: address = name, port 22, local user, strict, 10s', () => {
    const h = host('hosts: { solo: {} }\ndefaults: { agent: true }', 'solo');
    assert.equal(h.address, 'solo');
    assert.equal(h.port, 22);
    assert.equal(h.user, 'ops');
    assert.equal(h.hostKeyPolicy, 'strict');
    assert.equal(h.become, 'none');
    assert.equal(h.connectTimeoutMs, 10_000);
    assert.equal(h.agent, true);
  });

  it('keeps hosts in file order with ranges in place, and a glob only matches what it says', () => {
    const { inventory } = inventoryOf(fleet);
    assert.deepEqual(inventory.hosts.map((h) => h.name), [
      'bastion-1', 'web-01.example.com', 'web-02.example.com', 'web-03.example.com', 'web-02.example.com.bak', 'db-a', 'db-b',
    ]);
    assert.deepEqual(inventory.groups.find((g) => g.name === 'web')?.hosts, ['web-01.example.com', 'web-02.example.com', 'web-03.example.com']);
  });

  it('resolves jumps: an inventory host, an address, and never the host through itself', () => {
    assert.deepEqual(host(fleet, 'db-a').jump, { kind: 'host', name: 'bastion-1' });
    assert.equal(host(fleet, 'bastion-1').jump, undefined);
    const text = 'defaults: { agent: true }\nhosts:\n  a: { jump: "ops@gw.example.com:2222" }\n  b: { jump: "[2001:db8::1]" }\n  c: { jump: none }';
    assert.deepEqual(host(text, 'a').jump, { kind: 'address', address: 'gw.example.com', port: 2222, user: 'ops' });
    assert.deepEqual(host(text, 'b').jump, { kind: 'address', address: '2001:db8::1', port: 22 });
    assert.equal(host(text, 'c').jump, undefined);
  });

  it('parses jump addresses', () => {
    assert.deepEqual(parseJumpAddress('gw'), { address: 'gw', port: 22 });
    assert.deepEqual(parseJumpAddress('u@[::1]:2'), { address: '::1', port: 2, user: 'u' });
    assert.equal(parseJumpAddress('u@@gw'), undefined);
    assert.equal(parseJumpAddress('gw:99999'), undefined);
  });

  it('reports jump cycles once, and drops the cyclic jumps', () => {
    const { inventory, diagnostics } = inventoryOf('defaults: { agent: true }\nhosts:\n  a: { jump: b }\n  b: { jump: c }\n  c: { jump: a }\n  d: { jump: a }');
    assert.deepEqual(where(diagnostics), ['jump-cycle@3:14']);
    assert.equal(findHost(inventory, 'a')?.jump, undefined);
  });

  it('builds the transport target with the jump chain outermost first', () => {
    const { inventory } = inventoryOf(yaml`
      defaults: { agent: true, user: root }
      hosts:
        outer: { address: 198.51.100.1 }
        inner: { jump: outer, user: hop }
        target: { jump: inner, port: 2200 }
        external: { jump: "ops@gw:2222", identity_file: /k }
    `);
    const target = toConnectTarget(inventory, findHost(inventory, 'target')!);
    assert.deepEqual(target.jump.map((j) => `${j.user}@${j.address}:${j.port}`), ['root@198.51.100.1:22', 'hop@inner:22']);
    assert.equal(target.port, 2200);
    assert.deepEqual(target.jump.map((j) => j.jump.length), [0, 0]);
    const external = toConnectTarget(inventory, findHost(inventory, 'external')!);
    assert.deepEqual(external.jump.map((j) => [j.name, j.user, j.port, j.identityFile]), [['gw', 'ops', 2222, '/k']]);
  });

  it('reports every problem at once', () => {
    const { diagnostics } = inventoryOf(yaml`
      defaults:
        port: 0
        usr: root
      hosts:
        web-01: { connect_timeout: soon, password: x }
    `);
    assert.deepEqual(where(diagnostics), ['bad-port@2:9', 'unknown-key@3:3', 'bad-duration@5:30', 'secret-in-inventory@5:36']);
  });

  it('connects from bind_address, a host overriding its defaults, and passes it to the transport', () => {
    const { inventory, diagnostics } = inventoryOf(yaml`
      defaults: { agent: true, bind_address: 127.0.0.9 }
      hosts:
        plain: {}
        own: { bind_address: "2001:db8::5" }
        behind: { jump: plain }
    `);
    assert.deepEqual(errorsOf(diagnostics), []);
    assert.equal(toConnectTarget(inventory, findHost(inventory, 'plain')!).localAddress, '127.0.0.9');
    assert.equal(toConnectTarget(inventory, findHost(inventory, 'own')!).localAddress, '2001:db8::5');
    // The first hop's socket is the one opened from this machine.
    assert.equal(toConnectTarget(inventory, findHost(inventory, 'behind')!).jump[0]?.localAddress, '127.0.0.9');
    const none = inventoryOf('defaults: { agent: true }\nhosts: { x: {} }').inventory;
    assert.equal(toConnectTarget(none, none.hosts[0]!).localAddress, undefined);
  });

  it('refuses a bind_address that is not an IP address', () => {
    const { diagnostics } = inventoryOf(yaml`
      defaults: { agent: true }
      hosts:
        a: { bind_address: 127.0.0.300 }
        b: { bind_address: office-nat }
        c: { bind_address: "1:2:3" }
    `);
    // office-nat fails the shape check, the others the address check that follows it.
    assert.deepEqual(where(diagnostics).sort(), ['bad-bind-address@3:22', 'bad-bind-address@4:22', 'bad-bind-address@5:22']);
  });

  it('never holds a secret value, only where to find it', () => {
    const h = host('defaults: { agent: true, password_env: PW, passphrase_env: PP, become_password_env: BP }\nhosts: { x: {} }', 'x');
    assert.equal(h.passwordEnv, 'PW');
    assert.equal(h.passphraseEnv, 'PP');
    assert.equal(h.becomePasswordEnv, 'BP');
  });
});

describe('selecting inventory hosts with -l', () => {
  const { inventory } = inventoryOf('defaults: { agent: true }\nhosts:\n  web-[01:03]: {}\n  db-01: {}\ngroups:\n  web: { hosts: "web-*" }');
  it('selects and warns about terms that match nothing', () => {
    const result = selectInventoryHosts(inventory, 'web,!web-02,dbb-01', { label: '-l' });
    assert.deepEqual(result.hosts.map((h) => h.name), ['web-01', 'web-03']);
    assert.deepEqual(where(result.diagnostics), ['warning pattern-no-match@0:0']);
    assert.equal(result.diagnostics[0]?.hint, 'did you mean "db-01"?');
  });
  it('refuses malformed patterns', () => {
    assert.deepEqual(where(selectInventoryHosts(inventory, 'web db').diagnostics), ['bad-host-pattern@0:0']);
  });
});

describe('choosing the inventory file', () => {
  const exists = (set: string[]) => (p: string) => set.includes(p);
  it('prefers -i, then ./inventory.yaml, then $SSHFIX_INVENTORY', () => {
    assert.deepEqual(chooseInventoryPath({ option: 'x.yaml', env: 'e.yaml', exists: exists(['inventory.yaml']) }), { path: 'x.yaml', source: 'option' });
    assert.deepEqual(chooseInventoryPath({ env: 'e.yaml', exists: exists(['inventory.yaml']) }), { path: 'inventory.yaml', source: 'cwd' });
    assert.deepEqual(chooseInventoryPath({ env: 'e.yaml', exists: exists([]) }), { path: 'e.yaml', source: 'env' });
    assert.deepEqual(chooseInventoryPath({ exists: exists([]) }), { source: 'none' });
  });
});

describe('keys that name Object.prototype members', () => {
  it('are ordinary keys: unknown where unknown, plain variables where variables', () => {
    const { inventory, diagnostics } = inventoryOf('constructor: {}\ndefaults: { agent: true, toString: 1 }\nvars: { __proto__: { polluted: true } }\nhosts: { h: {} }');
    assert.deepEqual(where(diagnostics), ['unknown-key@1:1', 'unknown-key@2:26']);
    assert.deepEqual(Object.keys(inventory.hosts[0]!.vars), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
