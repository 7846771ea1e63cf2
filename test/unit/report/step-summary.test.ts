import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyHostPlan } from '../../../src/engine/plan-model.js';
import { renderStepSummary } from '../../../src/report/step-summary.js';

function host(name: string, status: 'ok' | 'changed' | 'failed', diff = '') {
  const h = emptyHostPlan(name, '192.0.2.1', status);
  if (diff) h.changes.push({ task: 't', path: '/etc/ssh/sshd_config', action: 'update', before: 'MaxStartups 10:30:100\n', after: diff });
  if (status === 'failed') h.error = { code: 'validation-failed', message: 'a | pipe', diagnosis: 'fix it' };
  return h;
}

describe('GitHub step summary', () => {
  it('a table of hosts by status, diffs folded, failures with their hint', () => {
    const md = renderStepSummary('plan', [host('a', 'changed', 'MaxStartups 100:30:500\n'), host('b', 'failed'), host('c', 'ok')]);
    assert.match(md, /^## sshfix plan$/m);
    assert.match(md, /\| a \| changed \| 1 \|/);
    assert.match(md, /\| b \| failed \| 0 \| validation-failed: a \\\| pipe \|/);
    assert.match(md, /<details><summary>1 change\(s\): \/etc\/ssh\/sshd_config<\/summary>\n\n```diff\n--- a\/etc\/ssh\/sshd_config\n\+\+\+ b\/etc\/ssh\/sshd_config\n[^`]*-MaxStartups 10:30:100\n\+MaxStartups 100:30:500\n```/);
    assert.match(md, /> fix it/);
  });

  it('stays under the limit, cut at a host boundary with a note', () => {
    const big = 'x'.repeat(20_000);
    const hosts = Array.from({ length: 100 }, (_, i) => host(`h${i}`, 'changed', `${big}\n`));
    const md = renderStepSummary('plan', hosts, 200_000);
    assert.ok(Buffer.byteLength(md) <= 200_000);
    assert.match(md, /Summary cut at GitHub's 1 MiB limit: \d+ more host section\(s\)/);
    assert.equal((md.match(/<\/details>/g) ?? []).length, (md.match(/<details>/g) ?? []).length, 'no section is cut in half');
  });
});
