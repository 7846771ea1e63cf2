/**
 * The sshd engine against both builds the lab runs: Debian 12's 9.2 (/usr/sbin/sshd) and 10.0
 * (scripts/build-openssh.sh 10.0p1, which .ci/run builds first; missing, these tests fail).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { parseSshdDump, sshdDefaultsFromDump } from '../../../src/config/sshd/defaults.js';
import { evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import { lookupSshdKeyword, SSHD_KEYWORDS } from '../../../src/config/sshd/keywords.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { requireOpensshBuild } from '../../helpers/openssh-build.js';
import { assertOracleAvailable, runSshdOracle, SSHD } from './oracle.js';

interface Build {
  label: string;
  sshd: string;
  /** The rules the engine applies for it. */
  version: string;
}

/** Lists that an empty config leaves empty, which sshd -T then does not print at all. */
const PRINTED_ONLY_WHEN_SET = new Set(['hostcertificate', 'allowusers', 'denyusers', 'allowgroups', 'denygroups', 'acceptenv', 'setenv', 'logverbose', 'channeltimeout', 'subsystem']);
/**
 * What Debian's own 10.x package prints and the lab's build does not: scripts/build-openssh.sh
 * configures no Kerberos, so the build has no GSSAPI (asserted below, so the day it has, this goes).
 */
const WITHOUT_GSSAPI = new Set([
  'kerberosauthentication', 'kerberosorlocalpasswd', 'kerberosticketcleanup', 'gssapiauthentication', 'gssapicleanupcredentials',
  'gssapikeyexchange', 'gssapistrictacceptorcheck', 'gssapistorecredentialsonrekey', 'gssapikexalgorithms',
]);

/**
 * Printed by 10.0 but not modelled: sshd prints PerSourcePenalties normalised to every field
 * (`crash:90 authfail:5 ...`), which the engine does not compute yet; the table marks it unprinted.
 */
const NOT_MODELLED = new Set(['persourcepenalties']);

const treeOf = (main: string) => buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', main]]), listedDirs: new Set(['/etc/ssh']) }).tree;

function emptyDump(build: Build): string {
  const [[out]] = runSshdOracle([{ files: new Map([['/etc/ssh/sshd_config', '']]), runs: [{ mode: 'T' }] }], build.sshd) as [[{ exitCode: number; stdout: string; stderr: string }]];
  assert.equal(out.exitCode, 0, out.stderr);
  return out.stdout;
}

describe('sshd engine oracle on 9.2 and 10.0', () => {
  const builds: Build[] = [];

  before(() => {
    assertOracleAvailable();
    const ten = requireOpensshBuild('10.0p1');
    const nine = /OpenSSH_(\d+\.\d+)/.exec(spawnSync(SSHD, ['-V'], { encoding: 'utf8' }).stderr)?.[1] ?? '9.2';
    builds.push({ label: `Debian's ${nine}`, sshd: SSHD, version: nine }, { label: '10.0p1 build', sshd: ten, version: '10.0' });
  });

  it('keyword table: what each build prints is exactly what the table says it prints', () => {
    for (const build of builds) {
      const dump = parseSshdDump(emptyDump(build));
      const known = SSHD_KEYWORDS.map((k) => lookupSshdKeyword(k.name, build.version)).filter((k) => k !== undefined);
      const printed = new Set(known.filter((k) => k.printed && !k.ignored).map((k) => k.dumpName));
      for (const k of NOT_MODELLED) assert.equal(known.find((kw) => kw.dumpName === k)?.printed ?? false, false, k);
      const missing = [...dump.keys()].filter((k) => !printed.has(k) && !NOT_MODELLED.has(k));
      const extra = [...printed].filter((k) => !dump.has(k) && !PRINTED_ONLY_WHEN_SET.has(k) && !(build.sshd !== SSHD && WITHOUT_GSSAPI.has(k)));
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${build.label}: table vs sshd -T of an empty config`);
    }
  });

  it('defaults per build: the engine with the build\'s own defaults prints what the build prints', () => {
    for (const build of builds) {
      const text = emptyDump(build);
      const defaults = sshdDefaultsFromDump({ emptyConfigDump: text, version: build.version });
      const engine = evaluateSshdConfig(treeOf(''), { defaults, version: build.version });
      const sshd = text.split('\n').filter((l) => l !== '' && !/^(hostkey|listenaddress) /.test(l) && !NOT_MODELLED.has(l.split(' ')[0]!));
      const withoutGssapi = build.sshd !== SSHD;
      if (withoutGssapi) assert.deepEqual(sshd.filter((l) => WITHOUT_GSSAPI.has(l.split(' ')[0]!)), [], 'the 10.0 build now has GSSAPI: drop WITHOUT_GSSAPI');
      const ours = engine.dump.filter((l) => !/^(hostkey|listenaddress) /.test(l) && !(withoutGssapi && WITHOUT_GSSAPI.has(l.split(' ')[0]!)));
      assert.deepEqual(ours.filter((l) => !sshd.includes(l)), [], `${build.label}: lines only the engine prints`);
      assert.deepEqual(sshd.filter((l) => !ours.includes(l)), [], `${build.label}: lines only sshd prints`);
    }
  });

  it('which repeated line wins, per version (MaxStartups and PerSourceNetBlockSize: last before 10.1)', () => {
    const configs = [
      'MaxStartups 10:30:60\nMaxStartups 20:30:80\n',
      'PerSourceNetBlockSize 24:64\nPerSourceNetBlockSize 16:48\n',
      'PerSourceMaxStartups 5\nPerSourceMaxStartups 7\n',
      'ClientAliveInterval 30\nClientAliveInterval 60\n',
    ];
    for (const build of builds) {
      const defaults = sshdDefaultsFromDump({ emptyConfigDump: emptyDump(build), version: build.version });
      const results = runSshdOracle(configs.map((text) => ({ files: new Map([['/etc/ssh/sshd_config', text]]), runs: [{ mode: 'T' as const }] })), build.sshd);
      configs.forEach((text, i) => {
        const keyword = text.split(' ')[0]!.toLowerCase();
        const sshd = results[i]![0]!.stdout.split('\n').filter((l) => l.startsWith(`${keyword} `));
        const engine = evaluateSshdConfig(treeOf(text), { defaults, version: build.version }).dump.filter((l) => l.startsWith(`${keyword} `));
        assert.deepEqual(engine, sshd, `${build.label}: ${JSON.stringify(text)}`);
      });
    }
  });

  it('keywords refused inside Match: every keyword each build knows, as the table says', () => {
    for (const build of builds) {
      const keywords = SSHD_KEYWORDS.map((k) => lookupSshdKeyword(k.name, build.version)).filter(
        (k): k is NonNullable<typeof k> => k !== undefined && !k.ignored && k.value !== 'match' && k.value !== 'include' && (k.vendor === undefined || build.sshd === SSHD),
      );
      const results = runSshdOracle(
        keywords.map((k) => ({ files: new Map([['/etc/ssh/sshd_config', `Match User nobody\n${k.name} zz\n`]]), runs: [{ mode: 't' as const }] })),
        build.sshd,
      );
      const wrong = keywords.filter((k, i) => /is not allowed within a Match block/.test(results[i]![0]!.stderr) === k.matchAllowed).map((k) => `${k.name} (table: ${k.matchAllowed ? 'allowed' : 'refused'})`);
      assert.deepEqual(wrong, [], build.label);
    }
  });

  it('PerSourcePenaltyExemptList: 10.0 accepts the list and refuses host bits, as the engine does; 9.2 does not know it', () => {
    const [ten, nine] = [builds[1]!, builds[0]!];
    const cases = ['PerSourcePenaltyExemptList 192.0.2.0/24,127.0.0.9\n', 'PerSourcePenaltyExemptList 192.0.2.7/24\n'];
    const out = runSshdOracle(cases.map((text) => ({ files: new Map([['/etc/ssh/sshd_config', text]]), runs: [{ mode: 'T' as const }] })), ten.sshd);
    assert.equal(out[0]![0]!.exitCode, 0, out[0]![0]!.stderr);
    assert.match(out[0]![0]!.stdout, /^persourcepenaltyexemptlist 192\.0\.2\.0\/24,127\.0\.0\.9$/m);
    assert.notEqual(out[1]![0]!.exitCode, 0);
    const engine = cases.map((text) => evaluateSshdConfig(treeOf(text), { version: ten.version }));
    assert.ok(engine[0]!.dump.includes('persourcepenaltyexemptlist 192.0.2.0/24,127.0.0.9'));
    assert.ok(engine[1]!.diagnostics.some((d) => d.severity === 'error' && d.code === 'invalid-address-list'));
    const old = runSshdOracle([{ files: new Map([['/etc/ssh/sshd_config', cases[0]!]]), runs: [{ mode: 't' }] }], nine.sshd);
    assert.notEqual(old[0]![0]!.exitCode, 0);
    assert.ok(evaluateSshdConfig(treeOf(cases[0]!), { version: nine.version }).diagnostics.some((d) => d.severity === 'error'));
  });
});
