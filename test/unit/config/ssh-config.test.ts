import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureSshHostBlock } from '../../../src/config/ssh-config/edit.js';
import { evaluateSshConfig } from '../../../src/config/ssh-config/effective.js';
import { parseSshConfig, stringifySshConfig } from '../../../src/config/ssh-config/parse.js';
import { SSH_CONFIG_FIXTURES } from './fixtures.js';

const USER = join(SSH_CONFIG_FIXTURES, 'user/config');

describe('ssh_config engine', () => {
  it('round-trips the corpus byte for byte', () => {
    for (const p of [USER, join(SSH_CONFIG_FIXTURES, 'debian-12-ssh_config')]) {
      const text = readFileSync(p, 'utf8');
      assert.equal(stringifySshConfig(parseSshConfig(text, p)), text);
    }
  });

  it('the first obtained value wins: a specific Host block before Host *', () => {
    const file = parseSshConfig(readFileSync(USER, 'utf8'), '/root/.ssh/config');
    const lab = evaluateSshConfig(file, 'db.lab.example.com').values;
    assert.deepEqual(lab.get('serveraliveinterval')?.values, ['30']);
    assert.deepEqual(lab.get('serveraliveinterval')?.source, { path: '/root/.ssh/config', line: 9 });
    assert.deepEqual(evaluateSshConfig(file, 'web').values.get('serveraliveinterval')?.values, ['60']);
  });

  it('adds a Host block before Host *, and is idempotent', () => {
    const file = parseSshConfig('Host *\n    ServerAliveInterval 60\n', '/c');
    const r = ensureSshHostBlock(file, { hosts: ['legacy.example.com'], settings: { KexAlgorithms: '+diffie-hellman-group14-sha1', ServerAliveInterval: '15' } });
    assert.equal(r.changes[0]!.after, 'Host legacy.example.com\n    KexAlgorithms +diffie-hellman-group14-sha1\n    ServerAliveInterval 15\n\nHost *\n    ServerAliveInterval 60\n');
    const again = ensureSshHostBlock(parseSshConfig(r.changes[0]!.after, '/c'), { hosts: ['legacy.example.com'], settings: { KexAlgorithms: '+diffie-hellman-group14-sha1', ServerAliveInterval: '15s' } });
    assert.deepEqual(again.changes, []);
    assert.ok(again.reason);
  });

  it('updates an existing block in place', () => {
    const file = parseSshConfig(readFileSync(USER, 'utf8'), '/c');
    const r = ensureSshHostBlock(file, { hosts: ['old-switch'], settings: { KexAlgorithms: '+diffie-hellman-group1-sha1', ServerAliveCountMax: '5' } });
    const after = r.changes[0]!.after;
    assert.match(after, /Host old-switch\n {4}KexAlgorithms \+diffie-hellman-group1-sha1\n {4}HostKeyAlgorithms \+ssh-rsa\n {4}ServerAliveCountMax 5\n/);
  });

  it('refuses legacy algorithms for Host *', () => {
    const file = parseSshConfig('Host *\n', '/c');
    const r = ensureSshHostBlock(file, { hosts: ['*'], settings: { KexAlgorithms: '+diffie-hellman-group1-sha1' } });
    assert.equal(r.diagnostics[0]?.code, 'algorithms-in-host-star');
    assert.deepEqual(r.changes, []);
    assert.equal(ensureSshHostBlock(file, { hosts: ['x'], settings: { ServerAliveIntervl: '1' } }).diagnostics[0]?.code, 'unknown-keyword');
  });
});
