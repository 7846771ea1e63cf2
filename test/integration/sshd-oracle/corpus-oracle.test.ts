import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import type { MatchConnection } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { listFixtures, loadSnapshot, SSHD_FIXTURES } from '../../unit/config/fixtures.js';
import { assertOracleAvailable, connectionSpec, lineDiff, runSshdOracle, type OracleCase } from './oracle.js';

/** Connections to ask about: none (plain -T), and ones that hit the corpus's Match blocks. */
const CONNECTIONS: (MatchConnection | undefined)[] = [
  undefined,
  { user: 'root', groups: ['root'], host: 'client.example.com', addr: '192.0.2.10', laddr: '198.51.100.1', lport: 22 },
  { user: 'deploy', host: 'ci.example.com', addr: '192.0.2.77', laddr: '198.51.100.1', lport: 2222 },
  { user: 'admin', host: 'ws.example.com', addr: '203.0.113.5', laddr: '198.51.100.1', lport: 22 },
  { user: 'nagios', host: 'mon', addr: '10.1.2.3', laddr: '10.0.0.1', lport: 22 },
  { user: 'backup', host: 'b', addr: '2001:db8::5', laddr: '2001:db8::1', lport: 22 },
];

/** sshd's host key line depends on the oracle's key files; everything else must match. */
const comparable = (lines: string[]): string[] => lines.filter((l) => l !== '');

describe('sshd -T oracle on the corpus', () => {
  before(() => assertOracleAvailable());

  it('engine dump equals sshd -T for every corpus tree and connection', () => {
    const fixtures = listFixtures(SSHD_FIXTURES);
    const cases: OracleCase[] = fixtures.map((name) => {
      const snap = loadSnapshot(join(SSHD_FIXTURES, name));
      return {
        files: snap.files,
        runs: CONNECTIONS.map((c) => (c ? { mode: 'T' as const, spec: connectionSpec(c) } : { mode: 'T' as const })),
      };
    });
    const results = runSshdOracle(cases);
    const failures: string[] = [];
    fixtures.forEach((name, i) => {
      const { tree, unresolved } = buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, name)));
      assert.deepEqual(unresolved, [], name);
      CONNECTIONS.forEach((connection, j) => {
        const outcome = results[i]![j]!;
        const engine = evaluateSshdConfig(tree, connection ? { connection } : {});
        if (outcome.stderr.includes("'Match LocalPort' in configuration but 'lport' not in connection")) {
          assert.ok(engine.diagnostics.some((d) => d.code === 'match-test-incomplete'), `${name}: engine should warn about Match LocalPort`);
          return;
        }
        assert.equal(outcome.exitCode, 0, `${name} ${JSON.stringify(connection)}: sshd failed: ${outcome.stderr}`);
        assert.deepEqual(engine.diagnostics.filter((d) => d.severity === 'error'), [], name);
        const diff = lineDiff(comparable(engine.dump), comparable(outcome.stdout.split('\n')));
        if (diff) failures.push(`${name} with ${JSON.stringify(connection)}:\n${diff}`);
      });
    });
    assert.deepEqual(failures, []);
  });
});
