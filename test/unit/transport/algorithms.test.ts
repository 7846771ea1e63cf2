import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  commonAlgorithms,
  realAlgorithms,
  resolveAlgorithmList,
  resolveAlgorithms,
  SSH2_ALGORITHMS,
  SSH2_ALGORITHMS_FROM_SSH2,
  suggestAlgorithm,
  type AlgorithmCatalog,
} from '../../../src/transport/algorithms.js';

const DEFAULTS = ['a', 'b', 'c'];
const SUPPORTED = ['a', 'b', 'c', 'x-sha1', 'y-sha1', 'z'];

describe('algorithm lists', () => {
  it('reads ssh2\'s own lists (they depend on the OpenSSL build)', () => {
    assert.ok(SSH2_ALGORITHMS_FROM_SSH2, 'ssh2/lib/protocol/constants.js moved: update algorithms.ts');
    assert.ok(SSH2_ALGORITHMS.supported.kex.includes('diffie-hellman-group14-sha1'));
    assert.ok(!SSH2_ALGORITHMS.defaults.kex.includes('diffie-hellman-group14-sha1'));
  });

  it('uses plain names as the exact list, in order, without duplicates', () => {
    assert.deepEqual(resolveAlgorithmList(['z', 'a', 'z'], DEFAULTS, SUPPORTED), { ok: true, list: ['z', 'a'] });
  });

  it('appends with +, removes with -, moves to the front with ^, in the order written', () => {
    assert.deepEqual(resolveAlgorithmList(['+x-sha1'], DEFAULTS, SUPPORTED), { ok: true, list: ['a', 'b', 'c', 'x-sha1'] });
    assert.deepEqual(resolveAlgorithmList(['+a'], DEFAULTS, SUPPORTED), { ok: true, list: ['a', 'b', 'c'] });
    assert.deepEqual(resolveAlgorithmList(['-b'], DEFAULTS, SUPPORTED), { ok: true, list: ['a', 'c'] });
    assert.deepEqual(resolveAlgorithmList(['^z'], DEFAULTS, SUPPORTED), { ok: true, list: ['z', 'a', 'b', 'c'] });
    assert.deepEqual(resolveAlgorithmList(['^c'], DEFAULTS, SUPPORTED), { ok: true, list: ['c', 'a', 'b'] });
    assert.deepEqual(resolveAlgorithmList(['+z', '-a'], DEFAULTS, SUPPORTED), { ok: true, list: ['b', 'c', 'z'] });
  });

  it('expands wildcards among supported names (+, ^) or the current list (-)', () => {
    assert.deepEqual(resolveAlgorithmList(['+*-sha1'], DEFAULTS, SUPPORTED), { ok: true, list: ['a', 'b', 'c', 'x-sha1', 'y-sha1'] });
    assert.deepEqual(resolveAlgorithmList(['-?'], DEFAULTS, SUPPORTED), { ok: false, problem: 'removes every algorithm (-?)' });
  });

  it('rejects unknown names, mixed kinds and empty results', () => {
    const unknown = resolveAlgorithmList(['+sntrup761x25519-sha512@openssh.com'], DEFAULTS, SUPPORTED);
    assert.equal(unknown.ok, false);
    assert.match(!unknown.ok ? unknown.problem : '', /does not implement/);
    assert.equal(resolveAlgorithmList(['a', '+z'], DEFAULTS, SUPPORTED).ok, false);
    assert.equal(resolveAlgorithmList(['-a', '-b', '-c'], DEFAULTS, SUPPORTED).ok, false);
  });

  it('resolves a host\'s settings against ssh2\'s lists and names the inventory key in problems', () => {
    const resolved = resolveAlgorithms({ kex: ['+diffie-hellman-group14-sha1'] });
    assert.ok(resolved.ok);
    if (!resolved.ok) return;
    assert.equal(resolved.lists.kex.at(-1), 'diffie-hellman-group14-sha1');
    assert.deepEqual(resolved.lists.cipher, [...SSH2_ALGORITHMS.defaults.cipher]);
    const bad = resolveAlgorithms({ serverHostKey: ['+nope'] });
    assert.deepEqual(!bad.ok && bad.problems.map((p) => p.split(' ')[0]), ['algorithms.hostkey']);
  });

  it('puts host key algorithms of known key types first, unless the list is exact', () => {
    const preferred = resolveAlgorithms(undefined, ['ecdsa-sha2-nistp256']);
    assert.equal(preferred.ok && preferred.lists.serverHostKey[0], 'ecdsa-sha2-nistp256');
    const rsa = resolveAlgorithms(undefined, ['ssh-rsa']);
    assert.deepEqual(rsa.ok && rsa.lists.serverHostKey.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    const exact = resolveAlgorithms({ serverHostKey: ['ssh-ed25519'] }, ['ecdsa-sha2-nistp256']);
    assert.deepEqual(exact.ok && exact.lists.serverHostKey, ['ssh-ed25519']);
  });
});

describe('algorithm suggestions', () => {
  const catalog: AlgorithmCatalog = {
    defaults: { kex: ['curve25519-sha256'], cipher: ['aes128-ctr'], serverHostKey: ['ssh-ed25519'], hmac: ['hmac-sha2-256'] },
    supported: {
      kex: ['curve25519-sha256', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'],
      cipher: ['aes128-ctr', 'aes256-cbc', '3des-cbc'],
      serverHostKey: ['ssh-ed25519', 'ssh-dss'],
      hmac: ['hmac-sha2-256', 'hmac-md5'],
    },
  };

  it('prefers the fixed 2048-bit group over group exchange and group1', () => {
    const offer = ['diffie-hellman-group1-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group14-sha1', 'kex-strict-s-v00@openssh.com'];
    assert.equal(suggestAlgorithm('kex', offer, catalog), 'diffie-hellman-group14-sha1');
    assert.deepEqual(commonAlgorithms('kex', offer, catalog), ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1']);
  });

  it('prefers stronger legacy ciphers and says when nothing is common', () => {
    assert.equal(suggestAlgorithm('cipher', ['3des-cbc', 'aes256-cbc'], catalog), 'aes256-cbc');
    assert.equal(suggestAlgorithm('kex', ['sntrup761x25519-sha512@openssh.com'], catalog), undefined);
  });

  it('drops extension markers from offers', () => {
    assert.deepEqual(realAlgorithms(['a', 'ext-info-s', 'kex-strict-s-v00@openssh.com', 'ext-info-c']), ['a']);
  });
});
