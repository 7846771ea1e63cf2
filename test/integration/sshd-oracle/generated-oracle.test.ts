import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { GENERATED_CONNECTIONS, sshdTree } from './generate.js';
import { assertOracleAvailable, connectionSpec, lineDiff, runSshdOracleParallel, type OracleCase } from './oracle.js';

const COUNT = 1200;

describe('sshd -T oracle on generated configs', () => {
  before(() => assertOracleAvailable());

  it(`engine equals sshd on ${COUNT} generated trees (errors, and every printed keyword)`, async () => {
    const trees = fc.sample(sshdTree(0.12), { numRuns: COUNT, seed: 20240611 });
    const cases: OracleCase[] = trees.map((t, i) => ({
      files: t.files,
      runs: [{ mode: 'T' }, { mode: 'T', spec: connectionSpec(GENERATED_CONNECTIONS[i % GENERATED_CONNECTIONS.length]!) }],
    }));
    const results = await runSshdOracleParallel(cases, 2);
    const failures: string[] = [];
    let failing = 0;
    trees.forEach((t, i) => {
      const { tree } = buildSshdConfigTree(t);
      const connection = GENERATED_CONNECTIONS[i % GENERATED_CONNECTIONS.length]!;
      [undefined, connection].forEach((conn, j) => {
        const outcome = results[i]![j]!;
        const engine = evaluateSshdConfig(tree, conn ? { connection: conn } : {});
        const engineError = engine.diagnostics.some((d) => d.severity === 'error');
        const lportFatal = outcome.stderr.includes("'Match LocalPort' in configuration but 'lport' not in connection");
        const show = (): string => `--- case ${i} ${conn ? connectionSpec(conn) : '(no -C)'}\n${[...t.files].map(([p, x]) => `== ${p}\n${x}`).join('\n')}\n-- sshd stderr: ${outcome.stderr}`;
        if (outcome.exitCode !== 0) failing++;
        if (lportFatal) {
          if (!engine.diagnostics.some((d) => d.code === 'match-test-incomplete')) failures.push(`${show()}\nengine did not warn about Match LocalPort`);
          return;
        }
        if ((outcome.exitCode !== 0) !== engineError) {
          failures.push(`${show()}\nsshd exit ${outcome.exitCode}, engine errors: ${JSON.stringify(engine.diagnostics.filter((d) => d.severity === 'error'))}`);
          return;
        }
        if (outcome.exitCode !== 0) return;
        const diff = lineDiff(engine.dump, outcome.stdout.split('\n').filter((l) => l !== ''));
        if (diff) failures.push(`${show()}\n${diff}`);
      });
    });
    assert.ok(failing > 20 && failing < COUNT * 2 * 0.5, `expected some broken configs among the generated ones, got ${failing}`);
    assert.equal(failures.length, 0, failures.slice(0, 3).join('\n\n'));
  });
});
