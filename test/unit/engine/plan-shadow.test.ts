/**
 * Planning Match-scoped sshd tasks against shadowing blocks: what apply verifies is the value the
 * task asked for, for a connection its criteria select, never the planner's own prediction.
 */
import assert from 'node:assert/strict';
import { changeDiff } from '../../../src/report/diff.js';
import { describe, it } from 'node:test';
import { DEBIAN_12_DEFAULTS } from '../../../src/config/sshd/defaults.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { requestedExpectations } from '../../../src/tasks/sshd/expectations.js';
import { factsWithConfig, playsOf } from './sshd-facts.js';
import type { SshdExpectation } from '../../../src/services/sshd/verify.js';
import type { HostPlan } from '../../../src/engine/plan-model.js';

/** The plan's expectations, all of which these sshd tasks must have given to sshd. */
function sshdExpectations(plan: HostPlan): SshdExpectation[] {
  return plan.expectations.map((e) => {
    assert.equal(e.service, 'sshd');
    return e as SshdExpectation;
  });
}


const host = { name: 'web-01', address: '192.0.2.10', vars: {} };
const TASK = 'name: x\nhosts: all\ntasks:\n  - sshd:\n      match: "Address 198.51.100.0/24"\n      set: { PasswordAuthentication: "no" }\n';
const BROAD = 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n';

describe('planning against shadowing Match blocks', () => {
  it('expects the requested value for an address inside the criteria, with the block placed where it wins', () => {
    const { plan } = planHost({ host, plays: playsOf(TASK), cliVars: {}, facts: factsWithConfig(BROAD) });
    assert.equal(plan.status, 'changed', JSON.stringify(plan.error));
    assert.match((plan.changes[0] ? changeDiff(plan.changes[0]) : ''), /\+Match Address 198\.51\.100\.0\/24\n\+\tPasswordAuthentication no\n\+\n Match Address 198\.51\.0\.0\/16/);
    assert.deepEqual(
      sshdExpectations(plan).map((e) => [e.keyword, e.values, e.connection]),
      [['passwordauthentication', ['no'], 'user=root,host=sshfix-check.invalid,addr=198.51.100.1,laddr=192.0.2.253,lport=22']],
    );
  });

  it('fails the host with match-shadowed, naming the block, when the earlier block covers only some connections', () => {
    const { plan } = planHost({ host, plays: playsOf(TASK), cliVars: {}, facts: factsWithConfig('UsePAM yes\nMatch Address 198.51.0.0/16 User root\n\tPasswordAuthentication yes\n') });
    assert.equal(plan.status, 'failed');
    assert.equal(plan.error?.code, 'match-shadowed');
    assert.match(plan.error?.message ?? '', /"Match Address 198\.51\.0\.0\/16 User root" at \/etc\/ssh\/sshd_config:2/);
    assert.deepEqual(plan.files, [], 'nothing to write');
  });

  it('refuses a planned tree where the requested value would not show, naming the deciding line and its block', () => {
    const tree = buildSshdConfigTree({
      files: new Map([['/etc/ssh/sshd_config', 'Match Address 198.51.0.0/16\n\tPasswordAuthentication yes\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication no\n']]),
      listedDirs: new Set(),
    }).tree;
    const params = { config: '/etc/ssh/sshd_config', match: { text: 'Address 198.51.100.0/24', criteria: [{ name: 'Address', value: '198.51.100.0/24' }] }, set: [{ keyword: 'PasswordAuthentication', value: 'no' }], unset: [], add: [], remove: [] };
    const r = requestedExpectations({ params, tree, connection: { user: 'root', addr: '198.51.100.1' }, spec: 'user=root,addr=198.51.100.1', version: '9.2', defaults: DEBIAN_12_DEFAULTS });
    assert.equal(r.refusal?.code, 'match-shadowed');
    assert.match(r.refusal?.message ?? '', /sshd would show yes, decided by \/etc\/ssh\/sshd_config:2 \(in "Match Address 198\.51\.0\.0\/16" at \/etc\/ssh\/sshd_config:1\)/);
    const outside = requestedExpectations({ params, tree, connection: { user: 'root', addr: '203.0.113.1' }, spec: 'x', version: '9.2', defaults: DEBIAN_12_DEFAULTS });
    assert.equal(outside.refusal?.code, 'match-shadowed', 'a connection outside both blocks sees the default, not the requested value');
  });
});
