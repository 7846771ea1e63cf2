import type { ChangeCommand, HostPlan } from '../engine/plan-model.js';
import { summarise } from '../engine/plan-model.js';

/** Escaping of GitHub Actions workflow commands (data and property values differ). */
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function annotation(level: 'error' | 'warning' | 'notice', title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}`;
}

/** GitHub Actions annotations: errors for failed hosts and checks, warnings, notices for planned changes. */
export function renderGithubReport(command: ChangeCommand, hosts: readonly HostPlan[]): string {
  const lines: string[] = [];
  for (const host of hosts) {
    const title = `sshfix ${command}: ${host.name}`;
    if (host.error) {
      const diagnosis = host.error.diagnosis ? `\n${host.error.diagnosis}` : '';
      lines.push(annotation('error', title, `${host.status} (${host.error.code}): ${host.error.message}${diagnosis}`));
    }
    for (const check of host.checks.filter((c) => !c.passed)) lines.push(annotation('error', title, `check failed: ${check.task}: ${check.message}`));
    for (const warning of host.warnings) lines.push(annotation('warning', title, warning));
    if (host.changes.length > 0) {
      const verb = { plan: 'planned', apply: 'applied', rollback: 'rolled back' }[command];
      const files = [...new Set(host.changes.map((c) => c.path))].join(', ');
      lines.push(annotation('notice', title, `${host.changes.length} change(s) ${verb} to ${files}`));
    }
    for (const action of host.actions) lines.push(annotation('notice', title, `${command === 'plan' ? 'would run' : 'ran'} on ${action.service}: ${action.description}`));
  }
  const s = summarise(hosts);
  lines.push(`sshfix ${command}: ${s.hosts} host(s): ${s.changed} changed, ${s.ok} ok, ${s.failed} failed, ${s.unreachable} unreachable, ${s.skipped} skipped`);
  return lines.join('\n') + '\n';
}
