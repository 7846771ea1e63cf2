import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergedExitCode, mergeReports } from '../../../src/report/merge-reports.js';

const report = (command: string, hosts: [string, string][], summary: Record<string, number> = {}) => ({
  format_version: 1,
  command,
  summary: { hosts: hosts.length, ...summary },
  hosts: hosts.map(([name, status]) => ({ name, status, changes: [] })),
});

describe('sshfix report merge', () => {
  it('joins the shards\' hosts, recounts the summary and adds up the other counters', () => {
    const merged = mergeReports([
      { source: 'a.json', document: report('plan', [['w1', 'changed'], ['w2', 'ok']], { changes: 2, checks_failed: 0 }) },
      { source: 'b.json', document: report('plan', [['w3', 'unreachable']], { changes: 0, checks_failed: 1 }) },
    ]);
    assert.ok('report' in merged);
    assert.deepEqual(merged.report.hosts.map((h) => h.name), ['w1', 'w2', 'w3']);
    assert.deepEqual(merged.report.summary, { hosts: 3, ok: 1, changed: 1, failed: 0, unreachable: 1, skipped: 0, changes: 2, checks_failed: 1 });
    assert.deepEqual(merged.report.merged_from, ['a.json', 'b.json']);
    assert.equal(mergedExitCode(merged.report, { detailed: true }), 1);
  });

  it('refuses reports of different commands or format versions, overlapping shards, and non-reports', () => {
    const mixed = mergeReports([
      { source: 'a.json', document: report('plan', [['w1', 'ok']]) },
      { source: 'b.json', document: { ...report('apply', [['w2', 'ok']]), format_version: 2 } },
    ]);
    assert.ok('errors' in mixed && mixed.errors.length === 2);
    const overlap = mergeReports([
      { source: 'a.json', document: report('plan', [['w1', 'ok']]) },
      { source: 'b.json', document: report('plan', [['w1', 'ok']]) },
    ]);
    assert.ok('errors' in overlap && /w1 is in both a.json and b.json/.test(overlap.errors[0] ?? ''));
    assert.ok('errors' in mergeReports([{ source: 'x', document: { hello: 1 } }]));
  });

  it('one exit code: the worst of the shards', () => {
    const changed = report('plan', [['w1', 'changed']]);
    assert.equal(mergedExitCode(changed, { detailed: true }), 2);
    assert.equal(mergedExitCode(changed, { detailed: false }), 0);
    assert.equal(mergedExitCode(report('plan', [['w1', 'ok']], { checks_failed: 1 }), { detailed: true }), 1);
    const diag = { ...report('diagnose', [['w1', 'ok']]), hosts: [{ name: 'w1', status: 'ok', causes: [{ code: 'maxstartups' }] }] };
    assert.equal(mergedExitCode(diag, { detailed: false }), 2);
  });
});
