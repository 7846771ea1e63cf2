/**
 * Shadowed Match blocks checked by the real sshd: where sshfix places a Match-scoped setting that
 * an earlier block would shadow, `sshd -T -C` shows the requested value for a connection inside
 * the criteria and the very same configuration as before for connections outside them; where it
 * refuses, sshd confirms that the naive placement (a block appended at the end) would not apply.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { editSshdConfig, type SshdEdit } from '../../../src/config/sshd/edit.js';
import { evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import type { MatchConnection } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree, type SshdConfigTree } from '../../../src/config/sshd/tree.js';
import { assertOracleAvailable, connectionSpec, lineDiff, runSshdOracle, type OracleCase } from './oracle.js';

const MAIN = '/etc/ssh/sshd_config';
const DROPIN = '/etc/ssh/sshd_config.d/50-lab.conf';
const conn = (addr: string, user = 'root'): MatchConnection => ({ user, host: 'client.example.org', addr, laddr: '192.0.2.253', lport: 22 });
/** Inside the requested /24; inside the broader /16 only; outside both; and another user inside the /24. */
const INSIDE = conn('198.51.100.7');
const OUTSIDE = [conn('198.51.7.1'), conn('203.0.113.5'), conn('203.0.113.5', 'deploy')];
const REQUEST: SshdEdit = { op: 'set', keyword: 'PasswordAuthentication', value: 'no', match: 'Address 198.51.100.0/24' };

const treeOf = (files: Record<string, string>): SshdConfigTree =>
  buildSshdConfigTree({ files: new Map(Object.entries(files)), listedDirs: new Set(['/etc/ssh', '/etc/ssh/sshd_config.d']) }).tree;

/** The three situations of issue 14 §6, each placed by sshfix. */
const PLACED: { name: string; files: Record<string, string> }[] = [
  { name: 'earlier broader block', files: { [MAIN]: 'KbdInteractiveAuthentication no\nUsePAM yes\n\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n' } },
  {
    name: 'existing narrower block after a broader one',
    files: {
      [MAIN]: 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nMatch Address 198.51.100.0/24\n\tX11Forwarding no\n\tPasswordAuthentication yes\n',
      [DROPIN]: 'Match Address 198.51.0.0/16\n\tPasswordAuthentication yes\n\tMaxAuthTries 3\n',
    },
  },
  { name: 'Match all that sets the keyword', files: { [MAIN]: 'UsePAM yes\nPasswordAuthentication no\nMatch all\n\tPasswordAuthentication yes\n' } },
];

/** Situations sshfix refuses, with the naive edit (a block appended to the main file) sshd then judges. */
const REFUSED: { name: string; files: Record<string, string> }[] = [
  { name: 'earlier block covering only root', files: { [MAIN]: 'UsePAM yes\nMatch Address 198.51.0.0/16 User root\n\tPasswordAuthentication yes\n' } },
  { name: 'broader wildcard block before an existing narrower block', files: { [MAIN]: 'Match Address 198.51.*\n\tPasswordAuthentication yes\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication yes\n' } },
  {
    name: 'Match all read through an Include inside a Match block',
    files: { [MAIN]: 'UsePAM yes\nMatch User *\n\tInclude /etc/ssh/sshd_config.d/*.conf\n', [DROPIN]: 'Match all\n\tPasswordAuthentication yes\n' },
  },
];

const dumpRuns = (connections: readonly MatchConnection[]) => [{ mode: 't' as const }, { mode: 'T' as const }, ...connections.map((c) => ({ mode: 'T' as const, spec: connectionSpec(c) }))];

describe('shadowed Match blocks, checked by the real sshd', () => {
  before(() => assertOracleAvailable());

  it('placed settings apply inside the criteria and change nothing outside them', () => {
    const connections = [INSIDE, ...OUTSIDE];
    const planned = PLACED.map((p) => {
      const tree = treeOf(p.files);
      const r = editSshdConfig(tree, REQUEST);
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], p.name);
      assert.ok(r.changes.length > 0, `${p.name}: an edit`);
      return { ...p, tree, after: r.tree };
    });
    const cases: OracleCase[] = planned.flatMap((p) => [
      { files: p.tree.snapshot.files, runs: dumpRuns(connections) },
      { files: p.after.snapshot.files, runs: dumpRuns(connections) },
    ]);
    const results = runSshdOracle(cases);
    planned.forEach((p, i) => {
      const [beforeRuns, afterRuns] = [results[2 * i]!, results[2 * i + 1]!];
      assert.equal(afterRuns[0]!.exitCode, 0, `${p.name}: sshd -t: ${afterRuns[0]!.stderr}`);
      assert.equal(afterRuns[1]!.stdout, beforeRuns[1]!.stdout, `${p.name}: plain sshd -T unchanged`);
      const inside = parseSshdDump(afterRuns[2]!.stdout);
      assert.deepEqual(parseSshdDump(beforeRuns[2]!.stdout).get('passwordauthentication'), ['yes'], `${p.name}: the situation shadows before the edit`);
      assert.deepEqual(inside.get('passwordauthentication'), ['no'], `${p.name}: requested value inside the criteria`);
      OUTSIDE.forEach((c, j) => {
        assert.equal(afterRuns[3 + j]!.exitCode, 0, p.name);
        assert.equal(afterRuns[3 + j]!.stdout, beforeRuns[3 + j]!.stdout, `${p.name}: ${connectionSpec(c)} sees the same configuration`);
      });
      connections.forEach((c, j) => {
        const engine = evaluateSshdConfig(p.after, { connection: c }).dump;
        const sshd = afterRuns[2 + j]!.stdout.split('\n').filter(Boolean);
        assert.equal(lineDiff(engine, sshd), '', `${p.name}: engine and sshd agree for ${connectionSpec(c)}`);
      });
      // Inside the /24, only PasswordAuthentication changes (the narrower block's other settings stay).
      const beforeInside = parseSshdDump(beforeRuns[2]!.stdout);
      const changed = [...inside.keys()].filter((k) => JSON.stringify(inside.get(k)) !== JSON.stringify(beforeInside.get(k)));
      assert.deepEqual(changed, ['passwordauthentication'], p.name);
    });
  });

  it('refused settings name the block that sshd really lets win over an appended block', () => {
    const naive = REFUSED.map((p) => {
      const r = editSshdConfig(treeOf(p.files), REQUEST);
      const refusal = r.diagnostics.find((d) => d.severity === 'error');
      assert.equal(refusal?.code, 'match-shadowed', p.name);
      assert.deepEqual(r.changes, [], p.name);
      const files = new Map(Object.entries(p.files));
      files.set(MAIN, `${files.get(MAIN)!}Match Address 198.51.100.0/24\n\tPasswordAuthentication no\n`);
      return { ...p, files, refusal: refusal!.message };
    });
    const results = runSshdOracle(naive.map((n) => ({ files: n.files, runs: [{ mode: 't' }, { mode: 'T', spec: connectionSpec(INSIDE) }] })));
    naive.forEach((n, i) => {
      assert.equal(results[i]![0]!.exitCode, 0, `${n.name}: sshd -t: ${results[i]![0]!.stderr}`);
      assert.deepEqual(parseSshdDump(results[i]![1]!.stdout).get('passwordauthentication'), ['yes'], `${n.name}: sshd keeps the earlier block's value`);
      const engine = evaluateSshdConfig(treeOf(Object.fromEntries(n.files)), { connection: INSIDE }).values.get('passwordauthentication')?.values;
      assert.deepEqual(engine, ['yes'], `${n.name}: the engine agrees`);
    });
  });
});
