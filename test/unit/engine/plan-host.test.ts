/**
 * Planning one host from recorded facts (fact script output captured on lab hosts, under
 * test/fixtures/facts/): pure, no network.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts, type HostFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import type { FileChange } from '../../../src/engine/plan-model.js';
import { changeDiff } from '../../../src/report/diff.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';
import type { SshdExpectation } from '../../../src/services/sshd/verify.js';
import type { HostPlan } from '../../../src/engine/plan-model.js';

/** The plan's expectations, all of which these sshd tasks must have given to sshd. */
function sshdExpectations(plan: HostPlan): SshdExpectation[] {
  return plan.expectations.map((e) => {
    assert.equal(e.service, 'sshd');
    return e as SshdExpectation;
  });
}

const facts = (scenario: string, overrides: Partial<HostFacts> = {}): HostFacts => ({
  ...interpretFacts(parseFactOutput(readFileSync(`${REPO_ROOT}/test/fixtures/facts/${scenario}.out`, 'utf8')), {
    name: 'web-01',
    address: '192.0.2.10',
    serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10',
  }),
  ...overrides,
});

const plays = (yaml: string) => {
  const loaded = loadPlaybook(yaml, 'test.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return loaded.playbook.plays;
};

const host = { name: 'web-01', address: '192.0.2.10', vars: {} };

/** A plan holds each change's before and after; the report renders the diff. */
const diffOf = (change: FileChange | undefined): string => (change ? changeDiff(change) : '');

describe('planning a host from its facts', () => {
  it('adds MaxStartups after the stock commented default and expects sshd -T to show it', () => {
    const planned = planHost({ host, plays: plays(readFileSync(`${REPO_ROOT}/playbooks/max-startups.yaml`, 'utf8')), cliVars: {}, facts: facts('debian-cloud') });
    const { plan } = planned;
    assert.equal(plan.status, 'changed');
    assert.equal(plan.changes.length, 1);
    assert.match(diffOf(plan.changes[0]), /^ #MaxStartups 10:30:100\n\+MaxStartups 100:30:500$/m);
    assert.equal(plan.files[0]?.path, '/etc/ssh/sshd_config');
    assert.equal(plan.files[0]?.mode, 0o644);
    assert.deepEqual(sshdExpectations(plan).map((e) => [e.keyword, e.values, e.connection]), [['maxstartups', ['100:30:500'], undefined]]);
    assert.equal(plan.services.sshd !== undefined, true);
    assert.deepEqual(plan.services.sshd?.specs, [], 'no Match blocks: plain sshd -t is enough');
    assert.match(plan.filesRead['/etc/ssh/sshd_config'] ?? '', /^[0-9a-f]{64}$/);
  });

  it('uses --var over playbook vars, and a value already in effect is a no-op with its reason', () => {
    const { plan } = planHost({
      host,
      plays: plays(readFileSync(`${REPO_ROOT}/playbooks/max-startups.yaml`, 'utf8')),
      cliVars: { max_startups: '10:30:100' },
      facts: facts('debian-cloud'),
    });
    assert.equal(plan.status, 'ok');
    assert.deepEqual(plan.changes, []);
    assert.match(plan.notes[0]?.message ?? '', /MaxStartups is already 10:30:100/);
    assert.deepEqual(plan.expectations, [], 'nothing to verify when nothing changes');
  });

  it('scopes a Match edit and validates it with a connection that enters the block', () => {
    const { plan } = planHost({
      host,
      plays: plays('name: x\nhosts: all\ntasks:\n  - sshd:\n      match: "Address 192.0.2.0/24"\n      set: { PubkeyAcceptedAlgorithms: "+ssh-rsa" }\n'),
      cliVars: {},
      facts: facts('debian-cloud'),
    });
    assert.equal(plan.status, 'changed');
    assert.match(diffOf(plan.changes[0]), /\+Match Address 192\.0\.2\.0\/24\n\+\s+PubkeyAcceptedAlgorithms \+ssh-rsa/);
    const expectation = sshdExpectations(plan)[0];
    assert.equal(expectation?.connection, 'user=root,host=sshfix-check.invalid,addr=192.0.2.1,laddr=192.0.2.253,lport=22');
    assert.ok(expectation?.values[0]?.split(',').includes('ssh-rsa'));
    assert.ok(plan.services.sshd?.specs.includes(expectation?.connection ?? ''));
    assert.match(plan.warnings.join('\n'), /enables legacy ssh-rsa for "Match Address 192\.0\.2\.0\/24"/);
  });

  it('warns when a legacy algorithm is enabled for every client', () => {
    const { plan } = planHost({
      host,
      plays: plays('name: x\nhosts: all\ntasks:\n  - sshd:\n      set: { KexAlgorithms: "+diffie-hellman-group14-sha1" }\n'),
      cliVars: {},
      facts: facts('debian-cloud'),
    });
    assert.match(plan.warnings.join('\n'), /KexAlgorithms enables legacy diffie-hellman-group14-sha1 for every client \(global\)/);
  });

  it('never adds an AllowUsers line where none exists, and says why', () => {
    const { plan } = planHost({ host, plays: plays(readFileSync(`${REPO_ROOT}/playbooks/allow-users.yaml`, 'utf8')), cliVars: {}, facts: facts('debian-cloud') });
    assert.equal(plan.status, 'ok');
    assert.match(plan.notes.map((n) => n.message).join('\n'), /AllowUsers/);
  });

  it('skips a task whose when: does not hold, with the condition as the reason', () => {
    const { plan } = planHost({
      host,
      plays: plays('name: x\nhosts: all\ntasks:\n  - name: rhel only\n    when: os.id == "rhel"\n    sshd:\n      set: { MaxAuthTries: 3 }\n'),
      cliVars: {},
      facts: facts('debian-cloud'),
    });
    assert.equal(plan.status, 'ok');
    assert.match(plan.notes[0]?.message ?? '', /^skipped: .*os\.id == "rhel"/);
  });

  it('names a skipped task by its rendered name', () => {
    const { plan } = planHost({
      host,
      plays: plays('name: x\nhosts: all\ntasks:\n  - name: "only on {{ os.id }} for {{ who }}"\n    when: os.id == "rhel"\n    sshd:\n      set: { MaxAuthTries: 3 }\n'),
      cliVars: { who: 'ops' },
      facts: facts('debian-cloud'),
    });
    assert.equal(plan.notes[0]?.task, 'only on debian for ops');
  });

  it('fails a host whose live config does not validate, changing nothing', () => {
    const { plan } = planHost({ host, plays: plays(readFileSync(`${REPO_ROOT}/playbooks/max-startups.yaml`, 'utf8')), cliVars: {}, facts: facts('broken-dropin') });
    assert.equal(plan.status, 'failed');
    assert.equal(plan.error?.code, 'config-invalid');
    assert.deepEqual(plan.files, []);
  });

  it('tells a host whose sshd is not running (no /run/sshd) from one whose config is invalid', () => {
    const f = facts('debian-cloud');
    const sshd = f.services.sshd!;
    const down = { ...f, services: { ...f.services, sshd: { ...sshd, test: { ok: false, output: 'Missing privilege separation directory: /run/sshd\n' } } } } as HostFacts;
    const { plan } = planHost({ host, plays: plays('name: x\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxAuthTries: 3 }\n'), cliVars: {}, facts: down });
    assert.equal(plan.error?.code, 'sshd-not-running');
    assert.match(plan.error?.diagnosis ?? '', /start sshd first/);
  });

  it('asks for root when the facts were read as another user', () => {
    const { plan } = planHost({ host, plays: plays('name: x\nhosts: all\ntasks:\n  - sshd:\n      set: { MaxAuthTries: 3 }\n'), cliVars: {}, facts: facts('debian-cloud', { uid: 1000 }) });
    assert.equal(plan.error?.code, 'needs-root');
    assert.match(plan.error?.diagnosis ?? '', /become: sudo/);
  });

  it('checks asserts against the planned state, and a failed check fails the host', () => {
    const yaml =
      'name: x\nhosts: all\ntasks:\n  - sshd:\n      set: { ClientAliveInterval: 2m }\n' +
      '  - name: keepalive\n    assert:\n      sshd:\n        ClientAliveInterval: { at_least: 60 }\n        PasswordAuthentication: "no"\n';
    const { plan } = planHost({ host, plays: plays(yaml), cliVars: {}, facts: facts('debian-cloud') });
    assert.equal(plan.checks.length, 2);
    assert.equal(plan.checks[0]?.passed, true, plan.checks[0]?.message);
    assert.match(plan.checks[0]?.message ?? '', /ClientAliveInterval is 120/);
    assert.equal(plan.checks[1]?.passed, false);
    assert.match(plan.checks[1]?.message ?? '', /PasswordAuthentication is yes .*50-cloud-init\.conf:1.*expected no/);
    assert.equal(plan.status, 'failed');
    assert.equal(plan.error?.code, 'checks-failed');
  });

  it('refuses an edit sshd would reject, naming the task', () => {
    const { plan } = planHost({
      host,
      plays: plays('name: x\nhosts: all\ntasks:\n  - name: bad\n    sshd:\n      set: { MaxStartups: "{{ ms }}" }\n'),
      cliVars: { ms: '20:10:5' },
      facts: facts('debian-cloud'),
    });
    assert.equal(plan.status, 'failed');
    assert.match(plan.error?.message ?? '', /^bad: /);
  });
});
