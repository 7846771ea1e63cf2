/** JUnit output for CI dashboards: every case has its own name, XML stays well formed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyHostPlan } from '../../../src/engine/plan-model.js';
import { renderJunitReport } from '../../../src/report/junit-report.js';

describe('JUnit report', () => {
  const host = emptyHostPlan('web-01', '192.0.2.10', 'failed');
  host.error = { code: 'checks-failed', message: '1 check(s) failed', diagnosis: 'see the checks' };
  host.checks.push(
    { task: 'Keep alive', passed: true, message: 'ClientAliveInterval is 60 (default)', subject: 'ClientAliveInterval' },
    { task: 'Keep alive', passed: false, message: 'ClientAliveCountMax is 9 (/etc/ssh/sshd_config:3), expected at most 5 & <x>', subject: 'ClientAliveCountMax' },
    { task: 'Legacy "check"', passed: true, message: 'ok' },
  );
  const xml = renderJunitReport('plan', [host]);

  it('names each check case after its host, task and keyword, so no two cases share a name', () => {
    const names = [...xml.matchAll(/<testcase name="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(names, ['web-01', 'web-01: Keep alive: ClientAliveInterval', 'web-01: Keep alive: ClientAliveCountMax', 'web-01: Legacy &quot;check&quot;']);
    assert.equal(new Set(names).size, names.length);
  });

  it('counts the host and each check, and escapes messages', () => {
    assert.match(xml, /<testsuites name="sshfix plan" tests="4" failures="1" skipped="0">/);
    assert.match(xml, /<failure message="ClientAliveCountMax is 9 \(\/etc\/ssh\/sshd_config:3\), expected at most 5 &amp; &lt;x&gt;" type="check-failed"\/>/);
  });
});
