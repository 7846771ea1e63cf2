import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseOpensshRelease } from '../../../src/config/openssh/version.js';
import { parseSshdDump, sshdDefaultsFromDump, type SshdDefaults } from '../../../src/config/sshd/defaults.js';
import { evaluateSshdConfig, type EvaluateSshdOptions } from '../../../src/config/sshd/effective.js';
import type { MatchConnection } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { opensshBuildPrefix, requireOpensshBuild } from '../../helpers/openssh-build.js';
import { GENERATED_CONNECTIONS, GENERATED_CONNECTIONS_10, sshdTree, type GeneratedTree } from './generate.js';
import { assertOracleAvailable, connectionSpec, lineDiff, runSshdOracle, runSshdOracleParallel, SSHD, type OracleCase } from './oracle.js';

const COUNT = 1200;
/** Fewer for the 10.0 build: the same generator, run a second time with the newer vocabulary. */
const COUNT_10 = 600;

/**
 * Runs every tree through sshd -T (plain and with one connection each) and the engine, and
 * returns what differs. `comparable` drops lines the engine is not asked about.
 */
async function differences(
  trees: readonly GeneratedTree[],
  connections: readonly MatchConnection[],
  sshd: string,
  options: Omit<EvaluateSshdOptions, 'connection'>,
  comparable: (lines: readonly string[]) => string[] = (l) => [...l],
): Promise<{ failures: string[]; failing: number }> {
  const cases: OracleCase[] = trees.map((t, i) => ({
    files: t.files,
    runs: [{ mode: 'T' }, { mode: 'T', spec: connectionSpec(connections[i % connections.length]!) }],
  }));
  const results = await runSshdOracleParallel(cases, 2, sshd);
  const failures: string[] = [];
  let failing = 0;
  trees.forEach((t, i) => {
    const { tree } = buildSshdConfigTree(t);
    const connection = connections[i % connections.length]!;
    [undefined, connection].forEach((conn, j) => {
      const outcome = results[i]![j]!;
      const engine = evaluateSshdConfig(tree, conn ? { ...options, connection: conn } : options);
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
      const diff = lineDiff(comparable(engine.dump), comparable(outcome.stdout.split('\n').filter((l) => l !== '')));
      if (diff) failures.push(`${show()}\n${diff}`);
    });
  });
  return { failures, failing };
}

/** The 10.0 build's defaults and algorithm lists, read as the fact script reads a host's. */
function buildDefaults(sshd: string): SshdDefaults {
  const [[empty]] = runSshdOracle([{ files: new Map([['/etc/ssh/sshd_config', '']]), runs: [{ mode: 'T' }] }], sshd) as [[{ exitCode: number; stdout: string; stderr: string }]];
  assert.equal(empty.exitCode, 0, empty.stderr);
  const ssh = join(opensshBuildPrefix('10.0p1'), 'bin', 'ssh');
  const query = (what: string): string[] => {
    const r = spawnSync(ssh, ['-Q', what], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${ssh} -Q ${what}: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  };
  const release = parseOpensshRelease(spawnSync(sshd, ['-V'], { encoding: 'utf8' }).stderr);
  return sshdDefaultsFromDump({
    emptyConfigDump: empty.stdout,
    supported: { kex: query('kex'), cipher: query('cipher'), mac: query('mac'), hostkey: query('key-sig'), pubkey: query('key-sig'), sig: query('sig') },
    version: '10.0',
    ...(release ? { release } : {}),
  });
}

describe('sshd -T oracle on generated configs', () => {
  let ten: string;
  before(() => {
    assertOracleAvailable();
    ten = requireOpensshBuild('10.0p1');
  });

  it(`engine equals sshd on ${COUNT} generated trees (errors, and every printed keyword)`, async () => {
    const trees = fc.sample(sshdTree(0.12), { numRuns: COUNT, seed: 20240611 });
    const { failures, failing } = await differences(trees, GENERATED_CONNECTIONS, SSHD, {});
    assert.ok(failing > 20 && failing < COUNT * 2 * 0.5, `expected some broken configs among the generated ones, got ${failing}`);
    assert.equal(failures.length, 0, failures.slice(0, 3).join('\n\n'));
  });

  it(`10.0 build: engine equals sshd on ${COUNT_10} generated trees with the 9.8-10.0 keywords and Match criteria`, async () => {
    const defaults = buildDefaults(ten);
    // The build has no GSSAPI (scripts/build-openssh.sh configures no Kerberos), which the engine's base defaults print.
    const gssapi = [...parseSshdDump(evaluateSshdConfig(buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', '']]), listedDirs: new Set(['/etc/ssh']) }).tree, { defaults }).dump.join('\n')).keys()].filter(
      (k) => /^(gssapi|kerberos)/.test(k),
    );
    const comparable = (lines: readonly string[]) => lines.filter((l) => !gssapi.includes(l.split(' ')[0]!));
    const trees = fc.sample(sshdTree(0.12, '10.0'), { numRuns: COUNT_10, seed: 20261130 });
    const { failures, failing } = await differences(trees, GENERATED_CONNECTIONS_10, ten, { defaults, version: '10.0' }, comparable);
    assert.ok(failing > 10 && failing < COUNT_10 * 2 * 0.5, `expected some broken configs among the generated ones, got ${failing}`);
    assert.equal(failures.length, 0, failures.slice(0, 3).join('\n\n'));
    // The newer vocabulary was exercised, not just generated.
    const texts = trees.flatMap((t) => [...t.files.values()]).join('\n');
    for (const word of ['PerSourcePenalties', 'invalid-user', 'Version OpenSSH_10*']) assert.ok(texts.toLowerCase().includes(word.toLowerCase()), word);
  });
});
