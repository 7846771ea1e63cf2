/**
 * The Markdown summary `--format github` appends to `$GITHUB_STEP_SUMMARY`: a table of hosts by
 * status, each changed host's diffs folded in `<details>`, failures with their hint. GitHub takes
 * at most 1 MiB per step: past that the summary is cut at a host boundary, with a note. Pure.
 */
import type { ChangeCommand, HostPlan } from '../engine/plan-model.js';
import { changeDiff } from './diff.js';

/** A change as the summary shows it: planned (before/after), or read back from a JSON report (its diff). */
export interface SummaryChange {
  path: string;
  diff?: string;
  before?: string;
  after?: string;
}

/** What the summary shows of a host: a HostPlan, or a host of a JSON report read back (report merge). */
export type SummaryHost = Pick<HostPlan, 'name' | 'status' | 'checks' | 'error'> & { changes: readonly SummaryChange[]; actions?: readonly Pick<HostPlan['actions'][number], 'service' | 'description'>[] };

const diffOf = (c: SummaryChange): string => c.diff ?? changeDiff({ path: c.path, ...(c.before !== undefined ? { before: c.before } : {}), after: c.after ?? '' });

/** GitHub's limit for one step's summary. */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const fence = (s: string): string => {
  const longest = Math.max(2, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
};

export function renderStepSummary(command: ChangeCommand, hosts: readonly SummaryHost[], limit = STEP_SUMMARY_LIMIT): string {
  const count = (status: HostPlan['status']): number => hosts.filter((h) => h.status === status).length;
  const s = { hosts: hosts.length, changed: count('changed'), ok: count('ok'), failed: count('failed'), unreachable: count('unreachable'), skipped: count('skipped') };
  const head = [
    `## sshfix ${command}`,
    '',
    `${s.hosts} host(s): **${s.changed}** ${command === 'plan' ? 'would change' : 'changed'}, ${s.ok} ok, **${s.failed}** failed, ${s.unreachable} unreachable, ${s.skipped} skipped.`,
    '',
    '| host | status | changes | note |',
    '|---|---|---|---|',
    ...hosts.map((h) => `| ${cell(h.name)} | ${h.status} | ${h.changes.length} | ${cell(h.error ? `${h.error.code}: ${h.error.message}` : h.checks.some((c) => !c.passed) ? 'failed checks' : '')} |`),
    '',
  ].join('\n');
  const sections: string[] = [];
  for (const h of hosts) {
    const parts: string[] = [];
    if (h.error) parts.push(`**${h.status}** \`${h.error.code}\`: ${h.error.message}${h.error.diagnosis ? `\n\n> ${h.error.diagnosis.replace(/\n/g, '\n> ')}` : ''}`);
    for (const c of h.checks.filter((x) => !x.passed)) parts.push(`- check failed: ${c.task}: ${c.message}`);
    for (const a of h.actions ?? []) parts.push(`- ${command === 'plan' ? 'would run' : 'ran'} on ${a.service}: ${a.description}`);
    if (h.changes.length > 0) {
      const diff = h.changes.map(diffOf).join('');
      const f = fence(diff);
      parts.push(`<details><summary>${h.changes.length} change(s): ${[...new Set(h.changes.map((c) => c.path))].join(', ')}</summary>\n\n${f}diff\n${diff}${diff.endsWith('\n') ? '' : '\n'}${f}\n\n</details>`);
    }
    if (parts.length > 0) sections.push(`### ${h.name}\n\n${parts.join('\n\n')}\n`);
  }
  let out = head;
  const note = (left: number): string => `\n_Summary cut at GitHub's 1 MiB limit: ${left} more host section(s) are in the JSON report._\n`;
  for (let i = 0; i < sections.length; i++) {
    const next = `${sections[i]}\n`;
    if (Buffer.byteLength(out + next + note(sections.length - i)) > limit) return out + note(sections.length - i);
    out += next;
  }
  return out;
}
