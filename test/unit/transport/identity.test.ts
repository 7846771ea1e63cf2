import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IdentityStore } from '../../../src/transport/identity.js';

describe('identity files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sshfix-identity-'));
  const plain = join(dir, 'plain');
  const encrypted = join(dir, 'encrypted');
  const pkcs8 = join(dir, 'pkcs8');
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(() => {
    const run = (...args: string[]): void => {
      const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    run('-q', '-t', 'ed25519', '-N', '', '-f', plain);
    copyFileSync(plain, encrypted);
    run('-q', '-p', '-P', '', '-N', 'correct horse', '-f', encrypted);
    run('-q', '-t', 'ecdsa', '-N', '', '-m', 'PKCS8', '-f', pkcs8);
  });

  it('reads an unencrypted OpenSSH key and labels it with its fingerprint', async () => {
    const result = await new IdentityStore({}, undefined).load(plain, undefined);
    assert.ok(result.ok);
    const printed = spawnSync('ssh-keygen', ['-l', '-f', plain], { encoding: 'utf8' }).stdout.split(' ')[1];
    assert.equal(result.ok && result.identity.label, `ED25519 ${printed}`);
  });

  it('decrypts an encrypted key with the passphrase from the named variable', async () => {
    const result = await new IdentityStore({ KEY_PASS: 'correct horse' }, undefined).load(encrypted, 'KEY_PASS');
    assert.ok(result.ok);
  });

  it('says the variable holds the wrong passphrase, without the passphrase', async () => {
    const result = await new IdentityStore({ KEY_PASS: 'battery staple' }, undefined).load(encrypted, 'KEY_PASS');
    assert.equal(!result.ok && result.error.code, 'key-unreadable');
    assert.match(!result.ok ? result.error.message : '', /passphrase in \$KEY_PASS does not decrypt/);
    assert.ok(!JSON.stringify(!result.ok && [result.error.message, result.error.diagnosis]).includes('battery'));
  });

  it('explains what to set when an encrypted key has no passphrase and there is no terminal', async () => {
    const unset = await new IdentityStore({}, undefined).load(encrypted, 'KEY_PASS');
    assert.match(!unset.ok ? unset.error.diagnosis : '', /\$KEY_PASS .* is not set/);
    const unnamed = await new IdentityStore({}, undefined).load(encrypted, undefined);
    assert.match(!unnamed.ok ? unnamed.error.diagnosis : '', /passphrase_env/);
  });

  it('asks the prompt, retries a wrong answer, and asks once for many connections', async () => {
    const answers = ['wrong', 'correct horse'];
    const questions: string[] = [];
    const store = new IdentityStore({}, async (q) => {
      questions.push(q);
      return answers.shift();
    });
    const results = await Promise.all([store.load(encrypted, undefined), store.load(encrypted, undefined), store.load(encrypted, undefined)]);
    assert.ok(results.every((r) => r.ok));
    assert.equal(questions.length, 2);
    assert.match(questions[0] as string, /Enter passphrase for key/);
    assert.equal(results[0]?.ok && results[1]?.ok && results[0].identity.key === results[1].identity.key, true);
  });

  it('names PKCS#8 and public keys as such, with the conversion command', async () => {
    const store = new IdentityStore({}, undefined);
    const p8 = await store.load(pkcs8, undefined);
    assert.ok(readFileSync(pkcs8, 'utf8').startsWith('-----BEGIN PRIVATE KEY-----'));
    assert.match(!p8.ok ? p8.error.message : '', /PKCS#8/);
    assert.match(!p8.ok ? p8.error.diagnosis : '', /ssh-keygen -p -f/);
    const pub = await store.load(`${plain}.pub`, undefined);
    assert.match(!pub.ok ? pub.error.message : '', /public key/);
  });

  it('marks a missing file as missing, so other methods may still be tried', async () => {
    const result = await new IdentityStore({}, undefined).load(join(dir, 'nope'), undefined);
    assert.equal(!result.ok && result.missing, true);
    writeFileSync(join(dir, 'garbage'), 'not a key\n');
    const garbage = await new IdentityStore({}, undefined).load(join(dir, 'garbage'), undefined);
    assert.equal(!garbage.ok && garbage.missing, false);
    assert.equal(!garbage.ok && garbage.error.code, 'key-unreadable');
  });
});
