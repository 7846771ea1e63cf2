/** What every machine-readable report holds to: snake_case keys, and one failure per failed check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyHostPlan, type HostPlan } from '../../../src/engine/plan-model.js';
import { buildJsonReport } from '../../../src/report/json-report.js';
import { renderHumanReport } from '../../../src/report/human-report.js';
import { renderJunitReport } from '../../../src/report/junit-report.js';
import { nonSnakeKeys } from '../../helpers/json-keys.js';

/** A host with every optional part a report can show filled in. */
function fullHost(): HostPlan {
  const host = emptyHostPlan('web-01', '192.0.2.10', 'changed');
  host.changes.push({ task: 'Keep alive', path: '/etc/ssh/sshd_config', action: 'update', beforeSha256: 'ab'.repeat(32), before: 'a\n', after: 'b\n' });
  host.checks.push({ task: 'Compliance', passed: true, message: 'PermitRootLogin is no', subject: 'PermitRootLogin' });
  host.notes.push({ task: 'Allow deploy', message: 'AllowUsers already contains deploy' });
  host.actions.push({ task: 'Never ban the runner', service: 'fail2ban', description: 'lift the ban of 192.0.2.7 in jail sshd' });
  host.warnings.push('legacy algorithm enabled');
  host.validation = { ok: true };
  host.facts = { openssh: '9.2p1', os: 'Debian GNU/Linux 12 (bookworm)', runnerAddress: '192.0.2.7', reload: 'systemctl reload ssh' };
  return host;
}

describe('JSON report keys', () => {
  it('are snake_case everywhere, facts included', () => {
    const failed = emptyHostPlan('web-02', '192.0.2.11', 'failed');
    failed.error = { code: 'config-invalid', message: 'sshd -t fails', diagnosis: 'fix the file' };
    const report = buildJsonReport({
      command: 'plan',
      hosts: [fullHost(), failed],
      diagnostics: [{ severity: 'warning', code: 'pattern-no-match', message: 'x', hint: 'y', file: 'p.yaml', range: { start: { line: 1, column: 2 }, end: { line: 1, column: 4 } } }],
    });
    assert.deepEqual(nonSnakeKeys(report), []);
    const facts = (report['hosts'] as { facts?: Record<string, string> }[])[0]?.facts;
    assert.equal(facts?.['runner_address'], '192.0.2.7');
  });
});

describe('JUnit failure counting', () => {
  const failures = (xml: string): { attribute: number[]; elements: number } => ({
    attribute: [...xml.matchAll(/<testsuites? [^>]*failures="(\d+)"/g)].map((m) => Number(m[1])),
    elements: (xml.match(/<failure /g) ?? []).length,
  });

  it('counts a failed check once, not again through the host it failed', () => {
    const host = emptyHostPlan('web-01', '192.0.2.10', 'failed');
    host.error = { code: 'checks-failed', message: '2 check(s) failed' };
    host.checks.push(
      { task: 'Baseline', passed: false, message: 'PasswordAuthentication is yes', subject: 'PasswordAuthentication' },
      { task: 'Baseline', passed: false, message: 'PermitRootLogin is yes', subject: 'PermitRootLogin' },
      { task: 'Baseline', passed: true, message: 'X11Forwarding is no', subject: 'X11Forwarding' },
    );
    const xml = renderJunitReport('plan', [host]);
    assert.deepEqual(failures(xml), { attribute: [2, 2], elements: 2 });
    assert.match(xml, /<testcase name="web-01" classname="sshfix.plan"\/>/);
  });

  it('still fails a host that failed for another reason, once, beside its failed checks', () => {
    const unreachable = emptyHostPlan('web-02', '192.0.2.11', 'unreachable');
    unreachable.error = { code: 'refused', message: 'connection refused' };
    const invalid = emptyHostPlan('web-03', '192.0.2.12', 'failed');
    invalid.error = { code: 'config-invalid', message: 'sshd -t fails' };
    const xml = renderJunitReport('plan', [unreachable, invalid]);
    assert.deepEqual(failures(xml), { attribute: [2, 2], elements: 2 });
  });
});

describe('actions (operations that change no file)', () => {
  it('are counted and listed in JSON and shown in the human report', () => {
    const host = emptyHostPlan('web-03', '192.0.2.12', 'changed');
    host.actions.push({ task: 'Never ban the runner', service: 'fail2ban', description: 'lift the ban of 192.0.2.7 in jail sshd' });
    const report = buildJsonReport({ command: 'plan', hosts: [host, fullHost()] });
    assert.equal((report['summary'] as Record<string, number>)['actions'], 2);
    assert.deepEqual((report['hosts'] as { actions: unknown[] }[])[0]?.actions, [{ task: 'Never ban the runner', service: 'fail2ban', description: 'lift the ban of 192.0.2.7 in jail sshd' }]);
    const text = renderHumanReport('plan', [host, fullHost()], { color: false, diffs: false });
    assert.match(text, /^web-03 \(192\.0\.2\.12\)  changed  1 action\(s\) to make$/m);
    assert.match(text, /^web-01 \(192\.0\.2\.10\)  changed  1 change\(s\) and 1 action\(s\) to make$/m);
    assert.match(text, /^  ! fail2ban: lift the ban of 192\.0\.2\.7 in jail sshd  \(Never ban the runner\)$/m);
  });
});
