import type { ChangeCommand, HostPlan } from '../engine/plan-model.js';
import { summarise } from '../engine/plan-model.js';
import { changeDiff } from './diff.js';

const xmlEscape = (text: string): string =>
  text
    // Characters XML 1.0 cannot hold at all.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/**
 * JUnit XML for CI dashboards: one test case per host (failed or unreachable hosts fail, skipped
 * hosts are skipped, planned diffs go to system-out), plus one per assert/check. A failed check
 * is one failure, in its own case, even though it also marks its host failed.
 */
export function renderJunitReport(command: ChangeCommand, hosts: readonly HostPlan[]): string {
  const summary = summarise(hosts);
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const host of hosts) {
    const attrs = `name="${xmlEscape(host.name)}" classname="sshfix.${command}"`;
    const out = host.changes.map(changeDiff).join('');
    const body: string[] = [];
    // A host that failed only because of its checks fails through their own cases: counted once.
    const failedByChecksOnly = host.status === 'failed' && host.error?.code === 'checks-failed';
    if ((host.status === 'failed' || host.status === 'unreachable') && !failedByChecksOnly) {
      failures++;
      const message = `${host.status}: ${host.error?.message ?? 'failed'}`;
      body.push(`<failure message="${xmlEscape(message)}" type="${xmlEscape(host.error?.code ?? host.status)}">${xmlEscape(host.error?.diagnosis ?? message)}</failure>`);
    } else if (host.status === 'skipped') {
      skipped++;
      body.push(`<skipped message="not started"/>`);
    }
    if (out) body.push(`<system-out>${xmlEscape(out)}</system-out>`);
    cases.push(body.length ? `  <testcase ${attrs}>\n    ${body.join('\n    ')}\n  </testcase>` : `  <testcase ${attrs}/>`);
    for (const check of host.checks) {
      // Test case names must differ: dashboards merge cases of the same name.
      const name = check.subject ? `${host.name}: ${check.task}: ${check.subject}` : `${host.name}: ${check.task}`;
      const checkAttrs = `name="${xmlEscape(name)}" classname="sshfix.${command}.checks"`;
      if (check.passed) {
        cases.push(`  <testcase ${checkAttrs}/>`);
      } else {
        failures++;
        cases.push(`  <testcase ${checkAttrs}>\n    <failure message="${xmlEscape(check.message)}" type="check-failed"/>\n  </testcase>`);
      }
    }
  }
  const total = summary.hosts + hosts.reduce((n, h) => n + h.checks.length, 0);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="sshfix ${command}" tests="${total}" failures="${failures}" skipped="${skipped}">\n` +
    `<testsuite name="sshfix ${command}" tests="${total}" failures="${failures}" skipped="${skipped}">\n` +
    cases.join('\n') +
    (cases.length ? '\n' : '') +
    '</testsuite>\n</testsuites>\n'
  );
}
