import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { editSshdConfig, type SshdEdit } from '../../../src/config/sshd/edit.js';
import { evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import type { MatchConnection } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { listFixtures, loadSnapshot, SSHD_FIXTURES } from '../../unit/config/fixtures.js';
import { assertOracleAvailable, connectionSpec, runSshdOracleParallel, type OracleCase } from './oracle.js';

/** A connection no corpus Match block selects, and one in 192.0.2.0/24. */
const OUTSIDER: MatchConnection = { user: 'nobody', host: 'x.example.org', addr: '198.18.0.99', laddr: '198.51.100.9', lport: 22 };
const IN_NET: MatchConnection = { user: 'nobody', host: 'x.example.org', addr: '192.0.2.10', laddr: '198.51.100.9', lport: 22 };

interface EditCase {
  edit: SshdEdit;
  connection: MatchConnection;
  dump: string;
  wanted: (values: readonly string[]) => boolean;
}

export const CORPUS_EDITS: EditCase[] = [
  { edit: { op: 'set', keyword: 'ClientAliveInterval', value: '60' }, connection: OUTSIDER, dump: 'clientaliveinterval', wanted: (v) => v[0] === '60' },
  { edit: { op: 'set', keyword: 'ClientAliveCountMax', value: '3' }, connection: OUTSIDER, dump: 'clientalivecountmax', wanted: (v) => v[0] === '3' },
  { edit: { op: 'set', keyword: 'MaxStartups', value: '100:30:500' }, connection: OUTSIDER, dump: 'maxstartups', wanted: (v) => v[0] === '100:30:500' },
  { edit: { op: 'set', keyword: 'TCPKeepAlive', value: 'yes' }, connection: OUTSIDER, dump: 'tcpkeepalive', wanted: (v) => v[0] === 'yes' },
  { edit: { op: 'set', keyword: 'PasswordAuthentication', value: 'no' }, connection: OUTSIDER, dump: 'passwordauthentication', wanted: (v) => v[0] === 'no' },
  { edit: { op: 'set', keyword: 'PasswordAuthentication', value: 'yes', match: 'Address 192.0.2.0/24' }, connection: IN_NET, dump: 'passwordauthentication', wanted: (v) => v[0] === 'yes' },
  { edit: { op: 'set', keyword: 'PubkeyAcceptedAlgorithms', value: '+ssh-rsa', match: 'Address 192.0.2.0/24' }, connection: IN_NET, dump: 'pubkeyacceptedalgorithms', wanted: (v) => v[0]!.split(',').includes('ssh-rsa') },
  { edit: { op: 'add', keyword: 'KexAlgorithms', values: ['diffie-hellman-group14-sha1'] }, connection: OUTSIDER, dump: 'kexalgorithms', wanted: (v) => v[0]!.split(',').includes('diffie-hellman-group14-sha1') },
  { edit: { op: 'remove', keyword: 'Ciphers', values: ['aes128-ctr'] }, connection: OUTSIDER, dump: 'ciphers', wanted: (v) => !v[0]!.split(',').includes('aes128-ctr') },
  { edit: { op: 'add', keyword: 'AcceptEnv', values: ['TZ'] }, connection: OUTSIDER, dump: 'acceptenv', wanted: (v) => v.includes('TZ') },
  { edit: { op: 'add', keyword: 'DenyUsers', values: ['mallory'] }, connection: OUTSIDER, dump: 'denyusers', wanted: (v) => v.includes('mallory') },
  { edit: { op: 'unset', keyword: 'X11Forwarding' }, connection: OUTSIDER, dump: 'x11forwarding', wanted: (v) => v[0] === 'no' },
  { edit: { op: 'set', keyword: 'LoginGraceTime', value: '1m30s' }, connection: OUTSIDER, dump: 'logingracetime', wanted: (v) => v[0] === '90' },
];

/** Lines that differ between two texts (a simple multiset comparison: enough to spot strays). */
function changedLines(before: string, after: string): string[] {
  const a = before.split(/\r?\n/);
  const b = after.split(/\r?\n/);
  const count = new Map<string, number>();
  for (const l of a) count.set(l, (count.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of b) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else out.push(`+${l}`);
  }
  for (const [l, n] of count) for (let i = 0; i < n; i++) out.push(`-${l}`);
  return out;
}

/**
 * New lines that sit inside a commented `#Match` example: walking back from the line, a `#Match`
 * comment comes before any active directive. Such a line works but reads as part of the example.
 */
function linesInCommentedExample(before: string, after: string, keyword: string): string[] {
  const old = new Set(before.split(/\r?\n/));
  const lines = after.split(/\r?\n/);
  const active = (l: string) => /^\s*[^#\s]/.test(l);
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (old.has(l) || !active(l) || !l.trim().toLowerCase().startsWith(keyword)) return;
    for (let j = i - 1; j >= 0 && !active(lines[j]!); j--) {
      if (/^\s*#\s*match\s/i.test(lines[j]!)) return void out.push(l);
    }
  });
  return out;
}

describe('edits checked by the real sshd', () => {
  before(() => assertOracleAvailable());

  it('every corpus edit passes sshd -t, sshd -T shows the value, a rerun changes nothing, and only intended lines change', async () => {
    const planned: { name: string; c: EditCase; files: Map<string, string>; engine: readonly string[] }[] = [];
    for (const name of listFixtures(SSHD_FIXTURES)) {
      const snap = loadSnapshot(join(SSHD_FIXTURES, name));
      const { tree } = buildSshdConfigTree(snap);
      for (const c of CORPUS_EDITS) {
        const r = editSshdConfig(tree, c.edit);
        const label = `${name}: ${JSON.stringify(c.edit)}`;
        assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], label);
        if (r.changes.length === 0) assert.ok(r.reason, `${label}: a no-op needs a reason`);
        const again = editSshdConfig(r.tree, c.edit);
        assert.deepEqual(again.changes, [], `${label}: second run must change nothing`);
        assert.ok(again.reason, label);
        const kw = c.edit.keyword.toLowerCase();
        for (const ch of r.changes) {
          for (const l of changedLines(ch.before, ch.after)) {
            const body = l.slice(1).trim();
            const ok = body === '' || body.toLowerCase().includes(kw) || /^match /i.test(body);
            assert.ok(ok, `${label}: unexpected change in ${ch.path}: ${l}`);
          }
          if (c.edit.match === undefined) assert.deepEqual(linesInCommentedExample(ch.before, ch.after, kw), [], `${label}: new line inside a commented example in ${ch.path}`);
        }
        const engine = evaluateSshdConfig(r.tree, { connection: c.connection }).values.get(c.dump)?.values ?? [];
        assert.ok(c.wanted(engine), `${label}: engine says ${engine.join(' | ')}`);
        planned.push({ name, c, files: new Map(r.tree.snapshot.files), engine });
      }
    }
    const cases: OracleCase[] = planned.map((p) => ({ files: p.files, runs: [{ mode: 't' }, { mode: 'T', spec: connectionSpec(p.c.connection) }] }));
    const results = await runSshdOracleParallel(cases, 2);
    planned.forEach((p, i) => {
      const [check, dump] = results[i]!;
      const label = `${p.name}: ${JSON.stringify(p.c.edit)}`;
      assert.equal(check!.exitCode, 0, `${label}: sshd -t failed: ${check!.stderr}`);
      const printed = parseSshdDump(dump!.stdout).get(p.c.dump) ?? [];
      assert.ok(p.c.wanted(printed), `${label}: sshd -T prints ${printed.join(' | ')}`);
      assert.deepEqual(printed, p.engine, label);
    });
  });

  it('adds or removes algorithms in a Match block from the value its connections have now, not from the build default', async () => {
    const MAIN = '/etc/ssh/sshd_config';
    const cases = [
      // The global line took ssh-ed25519 away; `+ssh-rsa` in the block would hand it back.
      { global: 'PubkeyAcceptedAlgorithms -ssh-ed25519', edit: { op: 'add', keyword: 'PubkeyAcceptedAlgorithms', values: ['ssh-rsa'], match: 'Address 192.0.2.0/24' } as SshdEdit, has: ['ssh-rsa'], lacks: ['ssh-ed25519'] },
      // The global line added ssh-rsa; `-ecdsa-sha2-nistp256` in the block would take it away.
      { global: 'PubkeyAcceptedAlgorithms +ssh-rsa', edit: { op: 'remove', keyword: 'PubkeyAcceptedAlgorithms', values: ['ecdsa-sha2-nistp256'], match: 'Address 192.0.2.0/24' } as SshdEdit, has: ['ssh-rsa'], lacks: ['ecdsa-sha2-nistp256'] },
    ];
    const planned = cases.map((c) => {
      const { tree } = buildSshdConfigTree({ files: new Map([[MAIN, `${c.global}\nUsePAM yes\n`]]), listedDirs: new Set(['/etc/ssh']) });
      const r = editSshdConfig(tree, c.edit);
      assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
      const engine = evaluateSshdConfig(r.tree, { connection: IN_NET }).values.get('pubkeyacceptedalgorithms')?.values ?? [];
      return { c, files: new Map(r.tree.snapshot.files), engine };
    });
    const results = await runSshdOracleParallel(
      planned.map((p) => ({ files: p.files, runs: [{ mode: 'T', spec: connectionSpec(IN_NET) }, { mode: 'T', spec: connectionSpec(OUTSIDER) }] })),
      2,
    );
    planned.forEach((p, i) => {
      const [inside, outside] = results[i]!;
      const label = `${p.c.global} + ${JSON.stringify(p.c.edit)}:\n${[...p.files.values()].join('')}`;
      const printed = (parseSshdDump(inside!.stdout).get('pubkeyacceptedalgorithms') ?? [])[0]?.split(',') ?? [];
      for (const a of p.c.has) assert.ok(printed.includes(a), `${label}: sshd -T lacks ${a}`);
      for (const a of p.c.lacks) assert.ok(!printed.includes(a), `${label}: sshd -T offers ${a} again`);
      assert.deepEqual(parseSshdDump(inside!.stdout).get('pubkeyacceptedalgorithms'), p.engine, label);
      const other = (parseSshdDump(outside!.stdout).get('pubkeyacceptedalgorithms') ?? [])[0]?.split(',') ?? [];
      assert.equal(other.includes(p.c.lacks[0]!), p.c.edit.op === 'remove', `${label}: connections outside the block keep the global value`);
    });
  });
});
