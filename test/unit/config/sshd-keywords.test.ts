import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookupSshdKeyword, suggestSshdKeyword, validateSshdValue, SSHD_KEYWORDS } from '../../../src/config/sshd/keywords.js';

const kw = (name: string) => {
  const k = lookupSshdKeyword(name);
  assert.ok(k, name);
  return k;
};

describe('sshd keyword table', () => {
  it('looks keywords up in any case and through aliases', () => {
    assert.equal(kw('clientaliveinterval').name, 'ClientAliveInterval');
    assert.equal(kw('CHALLENGERESPONSEAUTHENTICATION').name, 'KbdInteractiveAuthentication');
    assert.equal(kw('PubkeyAcceptedKeyTypes').dumpName, 'pubkeyacceptedalgorithms');
    assert.equal(kw('DSAAuthentication').matchAllowed, false);
    assert.equal(kw('PubkeyAuthentication').matchAllowed, true);
    assert.equal(lookupSshdKeyword('NoSuchThing'), undefined);
  });

  it('knows which value wins, and what changed between versions', () => {
    assert.equal(kw('MaxStartups').combine, 'last');
    assert.equal(lookupSshdKeyword('MaxStartups', '10.1')!.combine, 'first');
    assert.equal(kw('ClientAliveInterval').combine, 'first');
    assert.equal(kw('AllowUsers').combine, 'accumulate');
    assert.equal(kw('SetEnv').combine, 'first-line');
    assert.equal(kw('Subsystem').matchAllowed, false);
    assert.equal(lookupSshdKeyword('Subsystem', '9.5')!.matchAllowed, true);
    assert.equal(lookupSshdKeyword('ChannelTimeout', '9.1'), undefined);
    assert.equal(lookupSshdKeyword('PerSourcePenalties'), undefined);
    assert.ok(lookupSshdKeyword('PerSourcePenalties', '9.8'));
  });

  it('refuses global-only keywords in Match', () => {
    for (const name of ['MaxStartups', 'TCPKeepAlive', 'KexAlgorithms', 'Ciphers', 'MACs', 'Port', 'ListenAddress', 'HostKey', 'LoginGraceTime', 'UseDNS', 'Compression']) {
      assert.equal(kw(name).matchAllowed, false, name);
    }
    for (const name of ['ClientAliveInterval', 'PasswordAuthentication', 'AllowUsers', 'PubkeyAcceptedAlgorithms', 'LogLevel']) {
      assert.equal(kw(name).matchAllowed, true, name);
    }
  });

  it('suggests the nearest keyword', () => {
    assert.equal(suggestSshdKeyword('ClientAliveIntervl'), 'ClientAliveInterval');
    assert.equal(suggestSshdKeyword('maxstartup'), 'MaxStartups');
    assert.equal(suggestSshdKeyword('zzzzzzzzzzzzzzzzzz'), undefined);
  });

  it('validates values with stable codes', () => {
    const code = (name: string, value: string, o = {}) => validateSshdValue(kw(name), value, o)?.code;
    assert.equal(code('MaxStartups', '10:30:100'), undefined);
    assert.equal(code('MaxStartups', '100'), undefined);
    assert.equal(code('MaxStartups', '50:30:10'), 'invalid-maxstartups');
    assert.equal(code('MaxStartups', '10:0:100'), 'invalid-maxstartups');
    assert.equal(code('MaxStartups', '10:101:100'), 'invalid-maxstartups');
    assert.equal(code('MaxStartups', '0:30:100'), 'invalid-maxstartups');
    assert.equal(code('MaxStartups', '10:30'), 'invalid-maxstartups');
    assert.equal(code('ClientAliveInterval', '1m30s'), undefined);
    assert.equal(code('ClientAliveInterval', '5q'), 'invalid-time');
    assert.equal(code('ClientAliveInterval', '-1'), 'invalid-time');
    assert.equal(code('TCPKeepAlive', 'YES'), undefined);
    assert.equal(code('TCPKeepAlive', 'true'), 'invalid-flag');
    assert.equal(code('KexAlgorithms', '+diffie-hellman-group14-sha1'), undefined);
    assert.equal(code('KexAlgorithms', '+no-such-kex'), 'unknown-algorithm');
    assert.equal(code('KexAlgorithms', '+diffie-hellman-group14-sha1', { knownAlgorithms: { kex: ['curve25519-sha256'] } }), 'unknown-algorithm');
    assert.equal(code('KexAlgorithms', '-anything*'), undefined);
    assert.equal(code('Ciphers', 'aes*'), 'unknown-algorithm');
    assert.equal(code('PubkeyAcceptedAlgorithms', 'ssh-ed25519*'), undefined);
    assert.equal(code('ClientAliveCountMax', '3 4'), 'extra-arguments');
    assert.equal(code('PermitRootLogin', 'prohibit-password'), undefined);
    assert.equal(code('PermitRootLogin', 'maybe'), 'invalid-choice');
    assert.equal(code('AllowUsers', 'bob@10.0.0.1/8'), 'invalid-pattern');
  });

  it('has one row per dump name and lowercase dump names', () => {
    const seen = new Set<string>();
    for (const k of SSHD_KEYWORDS) {
      assert.equal(k.dumpName, k.dumpName.toLowerCase());
      assert.ok(!seen.has(k.dumpName), k.dumpName);
      seen.add(k.dumpName);
    }
  });
});
