import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fingerprintSha256, keyTypeOfBlob } from '../../../src/transport/host-key.js';
import {
  entryMatchesHost,
  formatHashedHost,
  formatKnownHostsLine,
  knownHostsName,
  knownKeyTypes,
  lookupHostKey,
  parseKnownHosts,
  wildcardMatch,
} from '../../../src/transport/known-hosts.js';
import { fakeKeyBlob } from './key-blobs.js';

const ED_A = fakeKeyBlob('ssh-ed25519', 1);
const ED_B = fakeKeyBlob('ssh-ed25519', 2);
const EC_A = fakeKeyBlob('ecdsa-sha2-nistp256', 3);
const b64 = (b: Buffer): string => b.toString('base64');

describe('known_hosts parsing', () => {
  it('reads plain, listed, bracketed, marked and hashed entries and skips comments and junk', () => {
    const text = [
      '# comment',
      '',
      `web-01,10.0.0.1 ssh-ed25519 ${b64(ED_A)} root@web-01`,
      `[10.0.0.2]:2222 ssh-ed25519 ${b64(ED_B)}`,
      `   @revoked * ssh-ed25519 ${b64(ED_B)}`,
      `@cert-authority *.example.com ssh-ed25519 ${b64(ED_A)}`,
      `@bogus host ssh-ed25519 ${b64(ED_A)}`,
      'old-host 1024 35 1234567890',
      `${formatHashedHost('10.0.0.3')} ecdsa-sha2-nistp256 ${b64(EC_A)}`,
      'truncated-line ssh-ed25519',
      `bad-base64 ssh-ed25519 !!!`,
    ].join('\n');
    const file = parseKnownHosts(text);
    assert.deepEqual(file.entries.map((e) => e.line), [3, 4, 5, 6, 9]);
    assert.deepEqual(file.invalidLines, [7, 8, 10, 11]);
    assert.equal(file.entries[2]?.marker, 'revoked');
    assert.equal(file.entries[3]?.marker, 'cert-authority');
    assert.ok(file.entries[4]?.hashed);
  });

  it('accepts CRLF line endings', () => {
    const file = parseKnownHosts(`h1 ssh-ed25519 ${b64(ED_A)}\r\nh2 ssh-ed25519 ${b64(ED_B)}\r\n`);
    assert.equal(file.entries.length, 2);
  });
});

describe('known_hosts host matching', () => {
  it('files port 22 under the bare address and other ports as [address]:port, lowercased', () => {
    assert.equal(knownHostsName('Web-01.Example.COM', 22), 'web-01.example.com');
    assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  });

  it('matches wildcards as OpenSSH does', () => {
    assert.ok(wildcardMatch('*.example.com', 'web.example.com'));
    assert.ok(!wildcardMatch('*.example.com', 'example.com'));
    assert.ok(wildcardMatch('10.0.0.?', '10.0.0.7'));
    assert.ok(!wildcardMatch('10.0.0.?', '10.0.0.17'));
    assert.ok(wildcardMatch('[10.0.0.*]:2222', '[10.0.0.9]:2222'));
    assert.ok(wildcardMatch('*', ''));
  });

  it('lets a negated pattern exclude a line whatever else matches', () => {
    assert.ok(entryMatchesHost({ hosts: '*.example.com,!db.example.com' }, 'web.example.com'));
    assert.ok(!entryMatchesHost({ hosts: '*.example.com,!db.example.com' }, 'db.example.com'));
    assert.ok(!entryMatchesHost({ hosts: '!db.example.com' }, 'web.example.com'));
  });

  it('does not match a plain address entry for a non-22 port', () => {
    const file = parseKnownHosts(`10.0.0.1 ssh-ed25519 ${b64(ED_A)}\n`);
    assert.equal(lookupHostKey(file, knownHostsName('10.0.0.1', 2222), ED_A).status, 'unknown');
    assert.equal(lookupHostKey(file, knownHostsName('10.0.0.1', 22), ED_A).status, 'match');
  });

  it('matches hashed entries by HMAC-SHA1 of the name under the entry\'s salt', () => {
    const file = parseKnownHosts(`${formatHashedHost('[10.0.0.1]:2222')} ssh-ed25519 ${b64(ED_A)}\n`);
    assert.equal(lookupHostKey(file, '[10.0.0.1]:2222', ED_A).status, 'match');
    assert.equal(lookupHostKey(file, '10.0.0.1', ED_A).status, 'unknown');
  });
});

describe('known_hosts lookup', () => {
  const file = parseKnownHosts(
    [
      `a ssh-ed25519 ${b64(ED_A)}`,
      `b ssh-ed25519 ${b64(ED_A)}`,
      `b ecdsa-sha2-nistp256 ${b64(EC_A)}`,
      `c ecdsa-sha2-nistp256 ${b64(EC_A)}`,
      `@revoked d ssh-ed25519 ${b64(ED_B)}`,
      `d ssh-ed25519 ${b64(ED_B)}`,
      `@cert-authority e ssh-ed25519 ${b64(ED_A)}`,
    ].join('\n'),
  );

  it('accepts any of several keys for a host', () => {
    assert.equal(lookupHostKey(file, 'b', ED_A).status, 'match');
    assert.equal(lookupHostKey(file, 'b', EC_A).status, 'match');
  });

  it('reports a different key of a known type as changed, with the lines', () => {
    const result = lookupHostKey(file, 'a', ED_B);
    assert.equal(result.status, 'changed');
    assert.deepEqual(result.status === 'changed' && result.entries.map((e) => e.line), [1]);
  });

  it('reports a key of a type not held for the host as other-types, naming the known ones', () => {
    const result = lookupHostKey(file, 'c', ED_A);
    assert.deepEqual(result, { status: 'other-types', knownTypes: ['ecdsa-sha2-nistp256'], entries: result.status === 'other-types' ? result.entries : [] });
  });

  it('puts @revoked before any plain entry for the same key', () => {
    assert.equal(lookupHostKey(file, 'd', ED_B).status, 'revoked');
  });

  it('never accepts a key through a @cert-authority line, but says it was there', () => {
    assert.deepEqual(lookupHostKey(file, 'e', ED_A), { status: 'unknown', certAuthorityOnly: true });
    assert.deepEqual(lookupHostKey(file, 'zzz', ED_A), { status: 'unknown', certAuthorityOnly: false });
  });

  it('lists the known key types of a host for negotiation', () => {
    assert.deepEqual(knownKeyTypes(file, 'b'), ['ssh-ed25519', 'ecdsa-sha2-nistp256']);
    assert.deepEqual(knownKeyTypes(file, 'e'), []);
  });

  it('formats a line that reads back as a match, plain or hashed', () => {
    for (const hash of [false, true]) {
      const line = formatKnownHostsLine('[h]:2200', EC_A, { hash });
      assert.equal(lookupHostKey(parseKnownHosts(line), '[h]:2200', EC_A).status, 'match');
    }
  });
});

describe('known_hosts written by OpenSSH tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sshfix-kh-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches entries hashed by ssh-keygen -H, and real key blobs keep their type and fingerprint', () => {
    const key = join(dir, 'k');
    const gen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    assert.equal(gen.status, 0, String(gen.stderr));
    const pub = readFileSync(`${key}.pub`, 'utf8').split(' ');
    const real = Buffer.from(pub[1] as string, 'base64');
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `web-01.example.com,10.1.2.3 ${pub[0]} ${pub[1]}\n[10.1.2.3]:2222 ${pub[0]} ${pub[1]}\n`);
    const hashed = spawnSync('ssh-keygen', ['-H', '-f', kh]);
    assert.equal(hashed.status, 0, String(hashed.stderr));
    const file = parseKnownHosts(readFileSync(kh, 'utf8'));
    assert.ok(file.entries.length >= 3 && file.entries.every((e) => e.hashed !== undefined));
    for (const name of ['web-01.example.com', '10.1.2.3', '[10.1.2.3]:2222']) {
      assert.equal(lookupHostKey(file, name, real).status, 'match', name);
    }
    assert.equal(lookupHostKey(file, '10.1.2.4', real).status, 'unknown');
    assert.equal(keyTypeOfBlob(real), 'ssh-ed25519');
    const printed = spawnSync('ssh-keygen', ['-l', '-f', `${key}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1];
    assert.equal(fingerprintSha256(real), printed);
  });
});
