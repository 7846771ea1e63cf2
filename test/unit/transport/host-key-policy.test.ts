import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprintSha256 } from '../../../src/transport/host-key.js';
import { decideHostKey, type HostKeyPolicy, type HostKeyQuestion } from '../../../src/transport/host-key-policy.js';
import { lookupHostKey, parseKnownHosts } from '../../../src/transport/known-hosts.js';
import { fakeKeyBlob } from './key-blobs.js';

const KNOWN = fakeKeyBlob('ssh-ed25519', 1);
const OTHER = fakeKeyBlob('ssh-ed25519', 2);
const ECDSA = fakeKeyBlob('ecdsa-sha2-nistp256', 3);

function ask(policy: HostKeyPolicy, knownHosts: string, presented: Buffer, port = 22): ReturnType<typeof decideHostKey> {
  const name = port === 22 ? '10.0.0.1' : `[10.0.0.1]:${port}`;
  const question: HostKeyQuestion = {
    policy,
    lookup: lookupHostKey(parseKnownHosts(knownHosts), name, presented),
    knownHostsName: name,
    blob: presented,
    target: { name: 'web-01', address: '10.0.0.1', port },
    knownHostsPath: '/home/op/.ssh/known_hosts',
    knownHostsExists: knownHosts !== '',
  };
  return decideHostKey(question);
}

const line = (host: string, key: Buffer, marker = ''): string => `${marker}${host} ${key.readUInt32BE(0) === 11 ? 'ssh-ed25519' : 'ecdsa-sha2-nistp256'} ${key.toString('base64')}\n`;

describe('host key policy', () => {
  const policies: HostKeyPolicy[] = ['strict', 'accept-new', 'off'];

  it('accepts a known key under every policy', () => {
    for (const policy of policies) assert.deepEqual(ask(policy, line('10.0.0.1', KNOWN), KNOWN), { action: 'accept' });
  });

  it('refuses a revoked key under every policy, even off', () => {
    const text = line('10.0.0.1', KNOWN, '@revoked ') + line('10.0.0.1', KNOWN);
    for (const policy of policies) {
      const d = ask(policy, text, KNOWN);
      assert.equal(d.action === 'refuse' && d.error.code, 'host-key-revoked', policy);
    }
  });

  it('strict refuses an unknown key with the fingerprint and the ssh-keyscan command', () => {
    const d = ask('strict', '', KNOWN, 2222);
    assert.equal(d.action, 'refuse');
    if (d.action !== 'refuse') return;
    assert.equal(d.error.code, 'host-key-unknown');
    assert.match(d.error.message, new RegExp(fingerprintSha256(KNOWN).replace(/[+/]/g, '\\$&')));
    assert.match(d.error.message, /does not exist/);
    assert.match(d.error.diagnosis, /ssh-keyscan -p 2222 -t ed25519 10\.0\.0\.1 >> \/home\/op\/\.ssh\/known_hosts/);
    assert.match(d.error.diagnosis, /accept-new/);
  });

  it('accept-new records an unknown host with a line for its name', () => {
    const d = ask('accept-new', line('10.9.9.9', KNOWN), OTHER, 2222);
    assert.deepEqual(d, { action: 'record', line: `[10.0.0.1]:2222 ssh-ed25519 ${OTHER.toString('base64')}` });
  });

  it('strict and accept-new refuse a changed key with both fingerprints and the ssh-keygen -R command', () => {
    for (const policy of ['strict', 'accept-new'] as const) {
      const d = ask(policy, line('10.0.0.1', KNOWN), OTHER);
      assert.equal(d.action, 'refuse');
      if (d.action !== 'refuse') continue;
      assert.equal(d.error.code, 'host-key-changed');
      assert.ok(d.error.message.includes(fingerprintSha256(KNOWN)) && d.error.message.includes(fingerprintSha256(OTHER)));
      assert.match(d.error.diagnosis, /ssh-keygen -R '10\.0\.0\.1' -f \/home\/op\/\.ssh\/known_hosts/);
    }
  });

  it('treats a key of a type not known for a host as unknown, and does not record it even under accept-new', () => {
    for (const policy of ['strict', 'accept-new'] as const) {
      const d = ask(policy, line('10.0.0.1', ECDSA), KNOWN);
      assert.equal(d.action === 'refuse' && d.error.code, 'host-key-unknown', policy);
      assert.deepEqual(d.action === 'refuse' && d.error.details.knownTypes, ['ecdsa-sha2-nistp256']);
    }
  });

  it('off accepts anything but revoked, with a warning naming the fingerprint and any difference', () => {
    const d = ask('off', line('10.0.0.1', KNOWN), OTHER);
    assert.equal(d.action, 'accept-unverified');
    if (d.action !== 'accept-unverified') return;
    assert.ok(d.warning.includes(fingerprintSha256(OTHER)));
    assert.match(d.warning, /DIFFERS/);
    assert.equal(ask('off', '', KNOWN).action, 'accept-unverified');
  });
});
