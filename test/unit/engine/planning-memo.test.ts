/**
 * Planning shared between hosts with the same inputs: the same plans as planning each host alone,
 * nothing shared where an input differs or a planner reads what only one host has.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { HostFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { digestValues, PlanningMemo } from '../../../src/engine/planning-memo.js';
import { emptyOutcome, type PlanOutcome } from '../../../src/tasks/planner.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';
import { factsWithConfig, playsOf } from './sshd-facts.js';

const STOCK = 'Include /etc/ssh/sshd_config.d/*.conf\n#MaxStartups 10:30:100\nPasswordAuthentication no\n';

const PLAYBOOKS = ['max-startups', 'server-keepalive', 'allow-users'].map((name) => readFileSync(`${REPO_ROOT}/playbooks/${name}.yaml`, 'utf8'));
const plays = PLAYBOOKS.flatMap((text) => playsOf(text));

/** A host of the fleet: its own name, address and hostname, the same config as the others unless given. */
function fleetHost(index: number, config = STOCK): { host: { name: string; address: string; vars: Record<string, never>; user: string }; facts: HostFacts } {
  const name = `web-${String(index).padStart(2, '0')}`;
  const address = `192.0.2.${index}`;
  return {
    host: { name, address, vars: {}, user: 'root' },
    facts: factsWithConfig(config, { name, address, hostname: `${name}.example.net`, runnerAddress: '198.51.100.7' }),
  };
}

describe('planning memo: digests', () => {
  it('tells apart values that a plain join would confuse, and reads Maps, Sets and Buffers by content', () => {
    assert.notEqual(digestValues(['ab', 'c']), digestValues(['a', 'bc']));
    assert.notEqual(digestValues({ a: 1 }), digestValues({ a: '1' }));
    assert.notEqual(digestValues([undefined]), digestValues([null]));
    assert.equal(digestValues(new Map([['k', Buffer.from('x')]])), digestValues(new Map([['k', Buffer.from('x')]])));
    assert.notEqual(digestValues(new Map([['k', Buffer.from('x')]])), digestValues(new Map([['k', Buffer.from('y')]])));
    assert.notEqual(digestValues(new Set(['a'])), digestValues(['a']));
    // Any two strings: characters beyond Latin-1, and lone surrogates, which UTF-8 would turn into U+FFFD.
    assert.notEqual(digestValues('\u0100'), digestValues('\u0000'));
    assert.notEqual(digestValues('\ud800'), digestValues('\ufffd'));
    assert.notEqual(digestValues(Buffer.from([0xc4, 0x80])), digestValues(Buffer.from([0xc4, 0x81])));
    assert.notEqual(digestValues(Buffer.from('ab')), digestValues('ab'));
  });

  it('gives up on what has no value semantics: functions, class instances, cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(digestValues({ f: () => 1 }), undefined);
    assert.equal(digestValues(new Date(0)), undefined);
    assert.equal(digestValues(cyclic), undefined);
    const shared = { x: 1 };
    assert.match(digestValues([shared, shared]) ?? '', /^[0-9a-f]{64}$/, 'the same object twice is not a cycle');
  });
});

describe('planning memo: hosts', () => {
  it('plans a fleet of same-config hosts as each would be planned alone, from one planning', () => {
    const memo = new PlanningMemo();
    for (const { host, facts } of [1, 2, 3].map((i) => fleetHost(i))) {
      const alone = planHost({ host, plays, cliVars: {}, facts }).plan;
      const shared = planHost({ host, plays, cliVars: {}, facts, memo }).plan;
      assert.deepEqual(shared, alone, host.name);
      assert.equal(shared.status, 'changed', 'the playbooks change these hosts');
      assert.equal(shared.name, host.name);
      assert.equal(shared.address, host.address);
    }
    // Every task and sshd's plan, for each host after the first: taken from the first host's planning.
    assert.equal(memo.hits, 2 * (plays.flatMap((p) => p.tasks).length + 1));
  });

  it('shares nothing between hosts whose configs differ, or whose runner address or login differs', () => {
    const memo = new PlanningMemo();
    const a = fleetHost(1);
    planHost({ host: a.host, plays, cliVars: {}, facts: a.facts, memo });
    const other = fleetHost(2, STOCK.replace('PasswordAuthentication no', 'PasswordAuthentication yes'));
    planHost({ host: other.host, plays, cliVars: {}, facts: other.facts, memo });
    const elsewhere = fleetHost(3);
    planHost({ host: elsewhere.host, plays, cliVars: {}, facts: { ...elsewhere.facts, runnerAddress: '198.51.100.8' }, memo });
    const asDeploy = fleetHost(4);
    planHost({ host: { ...asDeploy.host, user: 'deploy' }, plays, cliVars: {}, facts: asDeploy.facts, memo });
    assert.equal(memo.hits, 0);
  });

  it('keys each task by the tasks before it: the same task after a different one is planned again', () => {
    const memo = new PlanningMemo();
    const [first, second] = [fleetHost(1), fleetHost(2)];
    const maxStartups = playsOf(PLAYBOOKS[0]!);
    const both = [...playsOf(PLAYBOOKS[1]!), ...maxStartups];
    planHost({ host: first.host, plays: maxStartups, cliVars: {}, facts: first.facts, memo });
    const planned = planHost({ host: second.host, plays: both, cliVars: {}, facts: second.facts, memo }).plan;
    assert.equal(memo.hits, 0);
    assert.deepEqual(planned, planHost({ host: second.host, plays: both, cliVars: {}, facts: second.facts }).plan);
  });

  it('keeps an outcome to its host when the planner read the host name, address or hostname', () => {
    const memo = new PlanningMemo();
    const task = { kind: 'probe', name: 'probe', params: {} };
    let runs = 0;
    const byHostname = (facts: HostFacts): PlanOutcome => {
      runs++;
      return { ...emptyOutcome(), warnings: [`on ${facts.hostname}`] };
    };
    const one = memo.forHost(fleetHost(1).facts, undefined);
    const two = memo.forHost(fleetHost(2).facts, undefined);
    assert.deepEqual(one?.plan(task, byHostname).warnings, ['on web-01.example.net']);
    assert.deepEqual(two?.plan(task, byHostname).warnings, ['on web-02.example.net']);
    assert.equal(runs, 2);
    assert.equal(memo.hits, 0);
    // A planner that reads none of them is shared.
    const plain = (): PlanOutcome => (runs++, { ...emptyOutcome(), warnings: ['same'] });
    const three = memo.forHost(fleetHost(3).facts, undefined);
    const four = memo.forHost(fleetHost(4).facts, undefined);
    three?.plan(task, plain);
    four?.plan(task, plain);
    assert.equal(runs, 3);
    assert.equal(memo.hits, 1);
  });

  it('derives a service\'s plan once for hosts that planned alike, and keeps a derivation that reads the host to that host', () => {
    const memo = new PlanningMemo();
    const [a, b] = [fleetHost(1), fleetHost(2)].map(({ host, facts }) => planHost({ host, plays, cliVars: {}, facts, memo }));
    assert.ok(a?.plan.services.sshd);
    assert.equal(b?.plan.services.sshd, a.plan.services.sshd, 'one plan object, from the first host');
    assert.ok(Object.isFrozen(a.plan.services.sshd));
    let runs = 0;
    const byName = (facts: HostFacts): string => (runs++, `checks for ${facts.name}`);
    assert.equal(a.shared?.derive('probe', byName), 'checks for web-01');
    assert.equal(b?.shared?.derive('probe', byName), 'checks for web-02');
    const plain = (): string => (runs++, 'the same checks');
    a.shared?.derive('other', plain);
    assert.equal(b?.shared?.derive('other', plain), 'the same checks');
    assert.equal(runs, 3);
  });

  it('freezes what it shares, so no host can change another host\'s outcome', () => {
    const memo = new PlanningMemo();
    const task = { kind: 'probe', name: 'probe', params: {} };
    const outcome = memo.forHost(fleetHost(1).facts, undefined)?.plan(task, () => ({ ...emptyOutcome(), warnings: ['w'] }));
    assert.ok(outcome);
    assert.throws(() => outcome.warnings.push('more'), TypeError);
    const again = memo.forHost(fleetHost(2).facts, undefined)?.plan(task, () => assert.fail('planned again'));
    assert.equal(again, outcome);
  });

  it('keeps at most its limit of outcomes, dropping the least recently used', () => {
    const memo = new PlanningMemo(2);
    const plan = (params: unknown): void => void memo.forHost(fleetHost(1).facts, undefined)?.plan({ kind: 'probe', name: 'probe', params }, emptyOutcome);
    plan(1);
    plan(2);
    plan(1);
    plan(3);
    const before = memo.hits;
    plan(1);
    assert.equal(memo.hits, before + 1, 'used recently: kept');
    plan(2);
    assert.equal(memo.hits, before + 1, 'the least recently used: dropped');
  });
});
