import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { checkFirstAddress, isOpensshBuildName, labHostName, layoutLab, renderLabInventory, renderLabKnownHosts, splitScenarioEntry } from '../../../src/lab/layout.js';
import { LAB_SCENARIOS, findLabScenario } from '../../../src/lab/scenarios.js';

describe('lab layout', () => {
  it('numbers hosts with zero padding wide enough for the fleet', () => {
    assert.equal(labHostName(0, 3), 'lab-01');
    assert.equal(labHostName(9, 10), 'lab-10');
    assert.equal(labHostName(4, 500), 'lab-005');
  });

  it('gives consecutive loopback addresses, skipping .0 and .255', () => {
    const hosts = layoutLab({ hosts: 300, firstAddress: '127.77.0.1' });
    assert.equal(hosts[0]?.address, '127.77.0.1');
    assert.equal(hosts[253]?.address, '127.77.0.254');
    assert.equal(hosts[254]?.address, '127.77.1.1');
    assert.ok(hosts.every((h) => !/\.(0|255)$/.test(h.address)));
    assert.equal(new Set(hosts.map((h) => h.address)).size, 300);
  });

  it('seeds scenarios round-robin, in order, or from the list asked for', () => {
    const all = layoutLab({ hosts: LAB_SCENARIOS.length + 1, firstAddress: '127.77.0.1' });
    assert.deepEqual(all.map((h) => h.scenario.name), [...LAB_SCENARIOS.map((s) => s.name), LAB_SCENARIOS[0]?.name]);
    const legacy = findLabScenario('legacy-kex');
    assert.ok(legacy);
    const picked = layoutLab({ hosts: 2, firstAddress: '127.77.0.1', scenarios: [legacy] });
    assert.deepEqual(picked.map((h) => h.scenario.name), ['legacy-kex', 'legacy-kex']);
  });

  it('refuses addresses outside 127.0.0.0/8 and the machine\'s own 127.0.0.1', () => {
    assert.match(checkFirstAddress('10.0.0.1', 3) ?? '', /loopback/);
    assert.match(checkFirstAddress('127.255.255.250', 10) ?? '', /would leave it/);
    assert.match(checkFirstAddress('127.0.0.1', 1) ?? '', /machine's own/);
    assert.match(checkFirstAddress('127.77.0', 1) ?? '', /not an IPv4 address/);
    assert.equal(checkFirstAddress('127.77.0.1', 500), undefined);
    assert.throws(() => layoutLab({ hosts: 1, firstAddress: '192.0.2.1' }), RangeError);
  });

  it('writes an inventory in the DESIGN.md format with a group per scenario', () => {
    const hosts = layoutLab({ hosts: 8, firstAddress: '127.77.3.1' });
    const text = renderLabInventory({ hosts, identityFile: '/var/tmp/lab/id_ed25519', knownHosts: '/var/tmp/lab/known_hosts' });
    const doc = parse(text) as {
      defaults: Record<string, unknown>;
      hosts: Record<string, { address: string }>;
      groups: Record<string, { hosts: string[] }>;
    };
    assert.equal(doc.defaults['identity_file'], '/var/tmp/lab/id_ed25519');
    assert.equal(doc.defaults['host_key_policy'], 'strict');
    assert.equal(doc.hosts['lab-08']?.address, '127.77.3.8');
    assert.deepEqual(doc.groups['debian-cloud']?.hosts, ['lab-01', 'lab-08']);
  });

  it('writes known_hosts lines without the key comment', () => {
    assert.equal(
      renderLabKnownHosts([{ address: '127.77.0.1', publicKey: 'ssh-ed25519 AAAAC3Nza root@lab-01\n' }]),
      '127.77.0.1 ssh-ed25519 AAAAC3Nza\n',
    );
  });
});

describe('hosts on an OpenSSH build', () => {
  it('a scenario entry names the build, else --openssh, else the scenario\'s own; the inventory groups them by build', () => {
    const penalties = findLabScenario('penalties');
    const legacy = findLabScenario('legacy-kex');
    assert.ok(penalties && legacy);
    assert.deepEqual(splitScenarioEntry('legacy-kex@10.0p1'), { name: 'legacy-kex', openssh: '10.0p1' });
    assert.deepEqual(splitScenarioEntry('legacy-kex'), { name: 'legacy-kex' });
    assert.equal(isOpensshBuildName('10.0p1'), true);
    assert.equal(isOpensshBuildName('10.0'), false);
    const mixed = layoutLab({ hosts: 3, firstAddress: '127.77.91.1', scenarios: [legacy, penalties, legacy], scenarioOpenssh: [undefined, undefined, '10.0p1'] });
    assert.deepEqual(mixed.map((h) => h.openssh), [undefined, '10.0p1', '10.0p1']);
    const all = layoutLab({ hosts: 2, firstAddress: '127.77.91.1', scenarios: [legacy], openssh: '10.0p1' });
    assert.deepEqual(all.map((h) => h.openssh), ['10.0p1', '10.0p1']);
    const inventory = renderLabInventory({ hosts: mixed, identityFile: '/k', knownHosts: '/kh' });
    assert.match(inventory, /openssh-10\.0p1:\n {4}hosts: \[lab-02, lab-03\]/);
    assert.match(inventory, /lab-03: \{ address: 127\.77\.91\.3 \} .*\(OpenSSH 10\.0p1\)/);
  });
});
