import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DEBIAN_12_DEFAULTS, parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { SSHD_KEYWORDS } from '../../../src/config/sshd/keywords.js';
import { assertOracleAvailable, runSshdOracle } from './oracle.js';

describe('built-in defaults', () => {
  before(() => assertOracleAvailable());

  it('equal sshd -T of an empty config, and every printed keyword is in the table', () => {
    const [[out]] = runSshdOracle([{ files: new Map([['/etc/ssh/sshd_config', '']]), runs: [{ mode: 'T' }] }]) as [[{ exitCode: number; stdout: string; stderr: string }]];
    assert.equal(out.exitCode, 0, out.stderr);
    const dump = parseSshdDump(out.stdout);
    for (const [k, v] of dump) {
      if (k === 'hostkey' || k === 'listenaddress') continue;
      assert.deepEqual(DEBIAN_12_DEFAULTS.values.get(k), v, k);
      assert.ok(SSHD_KEYWORDS.some((kw) => kw.dumpName === k && kw.printed), `${k} missing from the keyword table`);
    }
    assert.deepEqual([...DEBIAN_12_DEFAULTS.values.keys()].filter((k) => !dump.has(k)), []);
    assert.deepEqual(dump.get('hostkey'), [...DEBIAN_12_DEFAULTS.hostKeys]);
  });
});
