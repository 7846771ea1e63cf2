import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { withReusableSigner } from '../../../src/transport/ssh2-login-cost.js';

function parsed(text: string): ParsedKey {
  const key = ssh2.utils.parseKey(text);
  assert.ok(!(key instanceof Error), String(key));
  return Array.isArray(key) ? (key[0] as ParsedKey) : key;
}

const KEYS = {
  ed25519: () => ssh2.utils.generateKeyPairSync('ed25519'),
  'ecdsa-256': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }),
  'ecdsa-384': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 384 }),
  'ecdsa-521': () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 521 }),
  rsa: () => ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }),
} as const;

/** The private key's PEM text, in the slot ssh2's own sign reads it from. */
function pemSlot(key: ParsedKey): symbol {
  const pem = key.getPrivatePEM();
  const slot = Object.getOwnPropertySymbols(key).find((s) => (key as unknown as Record<symbol, unknown>)[s] === pem);
  assert.ok(slot, 'ssh2 keeps the PEM text in a symbol property');
  return slot;
}

describe('a login key that signs through one KeyObject', () => {
  const data = Buffer.from('session id and userauth request, as ssh2 signs them');

  for (const [name, generate] of Object.entries(KEYS)) {
    it(`${name}: signs as ssh2 does, for every hash ssh2 may ask for`, () => {
      const original = parsed(generate().private);
      const reusable = withReusableSigner(original);
      assert.notEqual(reusable, original);
      const hashes: (string | undefined)[] = name === 'rsa' ? [undefined, 'sha1', 'sha256', 'sha512'] : [undefined];
      for (const hash of hashes) {
        const ours = reusable.sign(data, hash);
        const theirs = original.sign(data, hash);
        assert.ok(Buffer.isBuffer(ours), String(ours));
        assert.ok(Buffer.isBuffer(theirs), String(theirs));
        // ed25519 and RSA PKCS#1 signatures are deterministic; ECDSA ones are checked by verifying.
        if (!name.startsWith('ecdsa')) assert.deepEqual(ours, theirs, `hash ${hash ?? 'default'}`);
        assert.equal(original.verify(data, ours, hash), true, `hash ${hash ?? 'default'}`);
      }
    });
  }

  it('signs without reading the PEM text again', () => {
    const original = parsed(KEYS.ed25519().private);
    const reusable = withReusableSigner(original);
    (original as unknown as Record<symbol, unknown>)[pemSlot(original)] = '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n';
    assert.ok(original.sign(data) instanceof Error, 'ssh2 parses the PEM text on every signature');
    const signature = reusable.sign(data);
    assert.ok(Buffer.isBuffer(signature), String(signature));
    assert.equal(original.verify(data, signature), true);
  });

  it('is still the key to ssh2: its type, public blob and parsed-key check', () => {
    const original = parsed(KEYS['ecdsa-256']().private);
    const reusable = withReusableSigner(original);
    assert.equal(ssh2.utils.parseKey(reusable as unknown as Buffer), reusable);
    assert.equal(reusable.type, original.type);
    assert.deepEqual(reusable.getPublicSSH(), original.getPublicSSH());
    assert.equal(reusable.isPrivateKey(), true);
    assert.equal(reusable.getPrivatePEM(), original.getPrivatePEM());
  });

  it('leaves a key without a private part as it is', () => {
    const publicOnly = parsed(KEYS.ed25519().public);
    assert.equal(withReusableSigner(publicOnly), publicOnly);
  });
});
