/**
 * The bench times the fact script unit by unit, each unit in a `{ ... }` group of its own: every
 * unit scriptUnits cuts from the real script must be a whole shell command, or the breakdown
 * fails on the lab with a syntax error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { factScriptBody } from '../../../src/engine/facts-script.js';
import { lookupService } from '../../../src/services/registry.js';
import { scriptUnits } from '../../bench/fact-breakdown.js';
import { BENCH_FACT_REQUEST } from '../../bench/floor-contender.js';

describe("the bench's fact script breakdown", () => {
  it('cuts the fact script into units that each parse on their own', () => {
    const shared = lookupService('sshd')?.shared?.lines ?? [];
    const builds: Record<string, string[]>[] = [{}, { sshd: ['/usr/sbin/sshd:1:2 key'] }];
    for (const known of builds) {
      const units = scriptUnits([...factScriptBody(BENCH_FACT_REQUEST, known, 'deferred'), ...shared]);
      assert.ok(units.length > 10);
      for (const unit of units) {
        const parsed = spawnSync('sh', ['-n'], { input: `{\n${unit}\n} >/dev/null 2>&1\n`, encoding: 'utf8' });
        assert.equal(parsed.status, 0, `${unit}\n${parsed.stderr}`);
      }
    }
  });
});
