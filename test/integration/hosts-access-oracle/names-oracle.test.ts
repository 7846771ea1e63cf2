import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { describeDecision, evaluateHostsAccess } from '../../../src/config/hosts-access/evaluate.js';
import { parseHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { NAME_PATTERNS, NAMED_CLIENTS, NAMED_HOSTS, tcpdNamedCase } from './generate.js';
import { assertTcpdmatchAvailable, runTcpdmatch } from './oracle.js';

const COUNT = 250;

describe('tcpdmatch oracle on named clients (private /etc/hosts)', () => {
  before(() => assertTcpdmatchAvailable());

  it(`KNOWN, LOCAL, UNKNOWN, PARANOID and name patterns decide as tcpdmatch on ${COUNT} rule sets`, () => {
    const cases = fc.sample(tcpdNamedCase, { numRuns: COUNT, seed: 20261202 });
    const verdicts = runTcpdmatch(cases, { hosts: NAMED_HOSTS });
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    cases.forEach((c, i) => {
      const tables = { allow: parseHostsAccess(c.allow, 'hosts.allow'), deny: parseHostsAccess(c.deny, 'hosts.deny') };
      c.queries.forEach((q, j) => {
        const named = NAMED_CLIENTS.find((n) => n.client === q.client)!;
        const decision = evaluateHostsAccess(tables, { daemon: q.daemon, clientAddress: named.address, clientName: named.name });
        const expected = verdicts[i]![j]!;
        outcomes.set(expected, (outcomes.get(expected) ?? 0) + 1);
        if (decision.access !== expected) {
          failures.push(`case ${i} ${q.client}: tcpdmatch ${expected}, engine ${describeDecision(decision)}\n== hosts.allow\n${c.allow}\n== hosts.deny\n${c.deny}`);
        }
      });
    });
    assert.ok((outcomes.get('granted') ?? 0) > 100 && (outcomes.get('denied') ?? 0) > 100, JSON.stringify([...outcomes]));
    assert.equal(failures.length, 0, `${failures.length} mismatches; first ones:\n${failures.slice(0, 4).join('\n\n')}`);
  });

  it('each name pattern alone, against every named client', () => {
    const cases = NAME_PATTERNS.map((p) => ({ allow: `sshd: ${p}\n`, deny: 'ALL: ALL\n', queries: NAMED_CLIENTS.map((n) => ({ daemon: 'sshd', client: n.client })) }));
    const verdicts = runTcpdmatch(cases, { hosts: NAMED_HOSTS });
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const tables = { allow: parseHostsAccess(c.allow, 'hosts.allow'), deny: parseHostsAccess(c.deny, 'hosts.deny') };
      NAMED_CLIENTS.forEach((n, j) => {
        const got = evaluateHostsAccess(tables, { daemon: 'sshd', clientAddress: n.address, clientName: n.name }).access;
        if (got !== verdicts[i]![j]) failures.push(`${c.allow.trim()} for ${n.client}: tcpdmatch ${verdicts[i]![j]!}, engine ${got}`);
      });
    });
    assert.deepEqual(failures, []);
  });
});
