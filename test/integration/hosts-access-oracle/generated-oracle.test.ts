import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { describeDecision, evaluateHostsAccess } from '../../../src/config/hosts-access/evaluate.js';
import { lintHostsAccess } from '../../../src/config/hosts-access/lint.js';
import { parseHostsAccess, stringifyHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { CLIENT_ADDRESSES, CLIENT_PATTERNS, tcpdCase } from './generate.js';
import { assertTcpdmatchAvailable, runTcpdmatch } from './oracle.js';

const COUNT = 500;

describe('tcpdmatch oracle on generated hosts.allow / hosts.deny', () => {
  before(() => assertTcpdmatchAvailable());

  it(`the evaluator decides as tcpdmatch on ${COUNT} generated rule sets`, () => {
    const cases = fc.sample(tcpdCase, { numRuns: COUNT, seed: 20261130 });
    const verdicts = runTcpdmatch(cases);
    const failures: string[] = [];
    const seen = new Map<string, number>();
    cases.forEach((c, i) => {
      const allow = parseHostsAccess(c.allow, 'hosts.allow');
      const deny = parseHostsAccess(c.deny, 'hosts.deny');
      assert.equal(stringifyHostsAccess(allow), c.allow);
      assert.equal(stringifyHostsAccess(deny), c.deny);
      c.queries.forEach((q, j) => {
        const expected = verdicts[i]![j]!;
        const decision = evaluateHostsAccess({ allow, deny }, { daemon: q.daemon, clientAddress: q.client });
        seen.set(`${expected} ${decision.decidedBy?.table ?? 'none'}`, (seen.get(`${expected} ${decision.decidedBy?.table ?? 'none'}`) ?? 0) + 1);
        if (decision.access !== expected) {
          failures.push(`case ${i} ${q.daemon} ${q.client}: tcpdmatch ${expected}, engine ${describeDecision(decision)}\n== hosts.allow\n${c.allow}\n== hosts.deny\n${c.deny}`);
        }
      });
    });
    // The generator must reach every outcome, or the comparison proves little.
    for (const key of ['granted allow', 'denied allow', 'denied deny', 'granted deny', 'granted none', 'delegated allow']) {
      assert.ok((seen.get(key) ?? 0) >= 10, `outcome "${key}" seen ${seen.get(key) ?? 0} times: ${JSON.stringify([...seen])}`);
    }
    assert.equal(failures.length, 0, `${failures.length} mismatches; first ones:\n${failures.slice(0, 4).join('\n\n')}`);
  });

  it('each client pattern alone, against every address', () => {
    const cases = CLIENT_PATTERNS.map((p) => ({ allow: `sshd: ${p}\n`, deny: 'ALL: ALL\n', queries: CLIENT_ADDRESSES.map((client) => ({ daemon: 'sshd', client })) }));
    const verdicts = runTcpdmatch(cases);
    const failures: string[] = [];
    let deadCount = 0;
    cases.forEach((c, i) => {
      const tables = { allow: parseHostsAccess(c.allow, 'hosts.allow'), deny: parseHostsAccess(c.deny, 'hosts.deny') };
      CLIENT_ADDRESSES.forEach((client, j) => {
        const got = evaluateHostsAccess(tables, { daemon: 'sshd', clientAddress: client }).access;
        if (got !== verdicts[i]![j]) failures.push(`${c.allow.trim()} for ${client}: tcpdmatch ${verdicts[i]![j]!}, engine ${got}`);
      });
      // What the linter calls a network that matches nothing must match no address for tcpdmatch.
      const dead = lintHostsAccess(tables.allow, 'allow').some((d) => d.code === 'hosts-access-dead-network');
      if (dead) {
        deadCount++;
        if (verdicts[i]!.some((v) => v !== 'denied')) failures.push(`${c.allow.trim()}: linted as matching nothing, tcpdmatch grants some address`);
      }
    });
    assert.deepEqual(failures, []);
    assert.ok(deadCount >= 5, `only ${deadCount} dead networks among the patterns`);
  });
});
