/** A finished host reduced to its report, and the JSON report written host by host: the same output as before. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { emptyHostPlan, type HostPlan } from '../../../src/engine/plan-model.js';
import { buildJsonReport, jsonReportChunks, renderJsonReport } from '../../../src/report/json-report.js';
import { renderHumanReport } from '../../../src/report/human-report.js';
import { renderJunitReport } from '../../../src/report/junit-report.js';
import { writeReport } from '../../../src/report/render-report.js';
import { reportOnly, sharedReportOnly } from '../../../src/report/report-host.js';

function changedHost(name: string): HostPlan {
  const host = emptyHostPlan(name, '192.0.2.10', 'changed');
  const before = 'Port 22\nMaxStartups 10:30:100\n'.repeat(40);
  const after = before.replace('MaxStartups 10:30:100', 'MaxStartups 100:30:500');
  host.changes.push({ task: 'Max startups', path: '/etc/ssh/sshd_config', action: 'update', beforeSha256: 'ab'.repeat(32), before, after });
  host.changes.push({ task: 'Drop-in', path: '/etc/ssh/sshd_config.d/50-x.conf', action: 'create', after: 'ClientAliveInterval 60\n' });
  host.checks.push({ task: 'Compliance', passed: false, message: 'PermitRootLogin is "yes"\nsecond line', subject: 'PermitRootLogin' });
  host.notes.push({ task: 'Allow deploy', message: 'AllowUsers already contains deploy' });
  host.warnings.push('legacy algorithm enabled');
  host.filesRead = { '/etc/ssh/sshd_config': 'cd'.repeat(32) };
  host.files.push({ path: '/etc/ssh/sshd_config', writePath: '/etc/ssh/sshd_config', before: Buffer.from(before), after: Buffer.from(after), mode: 0o644, uid: 0, gid: 0, service: 'sshd' });
  host.validation = { ok: true };
  host.facts = { openssh: '9.2p1', os: 'Debian GNU/Linux 12 (bookworm)', runnerAddress: '192.0.2.7', reload: 'signal' };
  return host;
}

function failedHost(): HostPlan {
  const host = emptyHostPlan('web-02', '192.0.2.11', 'failed');
  host.error = { code: 'config-invalid', message: 'sshd -t fails', diagnosis: 'fix the file' };
  return host;
}

describe('the JSON report written host by host', () => {
  const whole = (hosts: HostPlan[], diagnostics?: unknown[]): string =>
    JSON.stringify(buildJsonReport({ command: 'plan', hosts, ...(diagnostics ? { diagnostics } : {}) }), null, 2) + '\n';

  it('is byte for byte the document built whole, with no hosts, one, or several and diagnostics', () => {
    const diagnostics = [{ severity: 'warning', code: 'pattern-no-match', message: 'x' }];
    for (const [hosts, diags] of [[[], undefined], [[changedHost('a')], undefined], [[changedHost('a'), failedHost(), changedHost('c')], diagnostics]] as const) {
      const input = { command: 'plan' as const, hosts: [...hosts], ...(diags ? { diagnostics: [...diags] } : {}) };
      assert.equal(renderJsonReport(input), whole([...hosts], diags ? [...diags] : undefined));
      assert.equal([...jsonReportChunks(input)].length, hosts.length === 0 ? 1 : hosts.length + 2);
    }
  });

  it('goes out through writeReport one host at a time', () => {
    const hosts = [changedHost('a'), failedHost()];
    const written: string[] = [];
    writeReport((text) => written.push(text), 'json', 'plan', hosts, { color: false });
    assert.equal(written.length, 4);
    assert.equal(written.join(''), whole(hosts));
  });
});

describe('a finished host reduced to its report', () => {
  it('renders every report format exactly as the full plan does', () => {
    const full = [changedHost('a'), failedHost()];
    const reduced = full.map(reportOnly);
    assert.equal(renderJsonReport({ command: 'plan', hosts: reduced }), renderJsonReport({ command: 'plan', hosts: full }));
    assert.equal(renderHumanReport('plan', reduced, { color: false, diffs: true }), renderHumanReport('plan', full, { color: false, diffs: true }));
    assert.equal(renderJunitReport('plan', reduced), renderJunitReport('plan', full));
  });

  it('keeps no file texts, planned contents, digests or service data', () => {
    const reduced = reportOnly(changedHost('a'));
    assert.deepEqual(reduced.files, []);
    assert.deepEqual(reduced.filesRead, {});
    assert.deepEqual(reduced.expectations, []);
    assert.deepEqual(reduced.services, {});
    for (const change of reduced.changes) {
      assert.equal(change.before, undefined);
      assert.equal(change.after, undefined);
      assert.match(change.diff ?? '', /^\+/m);
    }
  });
});

describe('finished hosts of one run reduced to their reports', () => {
  it('render every report format exactly as the full plans do', () => {
    const full = [changedHost('a'), failedHost(), changedHost('c')];
    const reduce = sharedReportOnly();
    const reduced = full.map((plan) => reduce(plan));
    assert.equal(renderJsonReport({ command: 'plan', hosts: reduced }), renderJsonReport({ command: 'plan', hosts: full }));
    assert.equal(renderHumanReport('plan', reduced, { color: false, diffs: true }), renderHumanReport('plan', full, { color: false, diffs: true }));
    assert.equal(renderJunitReport('plan', reduced), renderJunitReport('plan', full));
    assert.deepEqual(reduced, full.map(reportOnly));
  });

  it('share equal parts between hosts as one frozen object, and keep each host its own', () => {
    const reduce = sharedReportOnly();
    const [a, failed, c] = [changedHost('a'), failedHost(), changedHost('c')].map((plan) => reduce(plan)) as [HostPlan, HostPlan, HostPlan];
    assert.equal(a.changes, c.changes, 'the same list of changes is one list');
    assert.equal(a.facts, c.facts);
    assert.ok(Object.isFrozen(a.changes) && Object.isFrozen(a.changes[0]));
    assert.throws(() => (a.changes as unknown[]).push({}), TypeError);
    assert.notEqual(a, c);
    assert.equal(Object.isFrozen(a), false);
    assert.deepEqual([a.name, c.name, failed.name], ['a', 'c', 'web-02']);
    assert.notEqual(failed.error, undefined);
  });

  it('diff each distinct change once, and never give one host the diff of another host\'s different file', () => {
    const reduce = sharedReportOnly();
    const plain = changedHost('a');
    const other = changedHost('b');
    const otherBefore = other.changes[0]!.before!.replace('Port 22', 'Port 2222');
    other.changes[0] = { ...other.changes[0]!, before: otherBefore, after: otherBefore.replace('MaxStartups 10:30:100', 'MaxStartups 100:30:500') };
    const [a, b, again] = [plain, other, changedHost('c')].map((plan) => reduce(plan)) as [HostPlan, HostPlan, HostPlan];
    assert.deepEqual([a, b, again].map((h) => h.changes[0]?.diff), [plain, other, changedHost('c')].map((h) => reportOnly(h).changes[0]?.diff));
    assert.notEqual(a.changes[0]?.diff, b.changes[0]?.diff);
    assert.match(b.changes[0]?.diff ?? '', /^ Port 2222$/m);
    assert.equal(a.changes[0]?.diff, again.changes[0]?.diff);
  });

  it('hold the texts hosts share once, not once per host', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const plans = Array.from({ length: 2_000 }, (_, i) => changedHost(`web-${i}`));
    const heldPerHost = (reduce: (plan: HostPlan) => HostPlan): number => {
      gc();
      const before = process.memoryUsage().heapUsed;
      const kept = plans.map((plan) => reduce(plan));
      gc();
      const held = (process.memoryUsage().heapUsed - before) / kept.length;
      assert.equal(kept.length, plans.length);
      return held;
    };
    const each = heldPerHost(reportOnly);
    const shared = heldPerHost(sharedReportOnly());
    assert.ok(shared < each * 0.75, `a shared report holds ${shared.toFixed(0)} bytes per host, one of its own ${each.toFixed(0)}`);
  });
});
