import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureAllowed } from '../../../src/config/hosts-access/edit.js';
import { CLIENT_ADDRESSES, tcpdCase } from './generate.js';
import { assertTcpdmatchAvailable, runTcpdmatch, type TcpdCase } from './oracle.js';

const COUNT = 150;

/** sshguard's hosts backend block, as it writes it at the top of hosts.allow. */
const sshguardBlock = (addresses: readonly string[]): string =>
  `###sshguard###\n${addresses.length ? `ALL : ${addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(' ')} : DENY\n` : ''}###sshguard###\n`;

const editCase = fc.tuple(tcpdCase, fc.constantFrom(...CLIENT_ADDRESSES), fc.subarray(CLIENT_ADDRESSES, { maxLength: 3 }), fc.nat(3));

describe('ensureAllowed against tcpdmatch', () => {
  before(() => assertTcpdmatchAvailable());

  it(`lets the client through and changes no other decision, on ${COUNT} generated rule sets`, () => {
    const samples = fc.sample(editCase, { numRuns: COUNT, seed: 20261201 });
    const oracleCases: TcpdCase[] = [];
    const results = samples.map(([c, target, blocked, withBlock]) => {
      const allow = withBlock === 0 ? c.allow : sshguardBlock(blocked) + c.allow;
      const result = ensureAllowed({ allow, deny: c.deny }, { daemon: 'sshd', client: target });
      const queries = [{ daemon: 'sshd', client: target }, ...c.queries];
      oracleCases.push({ allow, deny: c.deny, queries });
      oracleCases.push({ allow: result.edits[0]?.after ?? allow, deny: c.deny, queries });
      return { allow, deny: c.deny, target, result, queries, blockedTarget: withBlock !== 0 && blocked.includes(target) };
    });
    const verdicts = runTcpdmatch(oracleCases);
    const failures: string[] = [];
    let edited = 0;
    let noop = 0;
    let refused = 0;
    results.forEach((r, i) => {
      const beforeV = verdicts[2 * i]!;
      const afterV = verdicts[2 * i + 1]!;
      const show = (why: string): string => `case ${i} client ${r.target}: ${why}\n== hosts.allow\n${r.allow}\n== hosts.deny\n${r.deny}\n== after\n${r.result.edits[0]?.after ?? '(unchanged)'}`;
      if (r.result.errors.length > 0) {
        refused++;
        if (!r.blockedTarget || beforeV[0] === 'granted') failures.push(show(`unexpected refusal ${JSON.stringify(r.result.errors)} (tcpdmatch before: ${beforeV[0]})`));
        return;
      }
      if (r.result.edits.length === 0) {
        noop++;
        if (beforeV[0] !== 'granted') failures.push(show(`no-op (${r.result.note ?? ''}) but tcpdmatch says ${beforeV[0]}`));
        return;
      }
      edited++;
      if (beforeV[0] === 'granted') failures.push(show('edited although tcpdmatch already granted'));
      r.queries.forEach((q, j) => {
        const expected = q.daemon === 'sshd' && q.client === r.target ? 'granted' : beforeV[j];
        if (afterV[j] !== expected) failures.push(show(`${q.daemon} ${q.client}: after the edit tcpdmatch says ${afterV[j]}, expected ${expected}`));
      });
    });
    assert.ok(edited >= 30 && noop >= 30 && refused >= 3, `edited ${edited}, no-op ${noop}, refused ${refused}: the generator must reach every path`);
    assert.equal(failures.length, 0, `${failures.length} failures; first ones:\n${failures.slice(0, 3).join('\n\n')}`);
  });
});
