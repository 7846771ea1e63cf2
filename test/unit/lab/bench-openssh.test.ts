import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchUsageError, parseBenchOptions } from '../../bench/bench-options.js';

describe('bench on an OpenSSH build', () => {
  it('--openssh names the build the lab runs; absent, the machine\'s sshd', () => {
    const on10 = parseBenchOptions(['--sizes', '50', '--openssh', '10.0p1']);
    assert.ok(on10 !== 'help');
    assert.equal(on10.openssh, '10.0p1');
    const plain = parseBenchOptions(['--sizes', '50']);
    assert.ok(plain !== 'help');
    assert.equal(plain.openssh, undefined);
    assert.throws(() => parseBenchOptions(['--openssh', '10.0']), BenchUsageError);
  });
});
