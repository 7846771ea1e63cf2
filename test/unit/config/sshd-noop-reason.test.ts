/** No-op reasons stay one readable line: a long algorithm list is cut to its first entries and a count. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reasonValue } from '../../../src/config/sshd/edit.js';

describe('no-op reason values', () => {
  it('shortens a long comma list with a count', () => {
    const list = Array.from({ length: 27 }, (_, i) => `algorithm-number-${i}@openssh.com`).join(',');
    assert.equal(reasonValue([list]), 'algorithm-number-0@openssh.com,algorithm-number-1@openssh.com,... (27 in all)');
  });

  it('keeps short values and lists whole', () => {
    assert.equal(reasonValue(['100:30:500']), '100:30:500');
    assert.equal(reasonValue(['root', 'deploy']), 'root deploy');
    assert.equal(reasonValue(['curve25519-sha256,diffie-hellman-group14-sha1']), 'curve25519-sha256,diffie-hellman-group14-sha1');
  });
});
