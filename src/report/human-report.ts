import type { ChangeCommand, HostPlan, HostStatus } from '../engine/plan-model.js';
import { describeWork, summarise } from '../engine/plan-model.js';
import type { TransactionRecord } from '../engine/transaction.js';
import { shellCommand } from '../util/shell-quote.js';
import { changeDiff, colorizeDiff } from './diff.js';

export interface HumanReportOptions {
  color: boolean;
  /** Show unified diffs (plan: yes; apply: after the fact, yes too). */
  diffs: boolean;
  /** `sshfix rollback -i ...`: after an apply, each applied host's line to undo it ends the output. */
  rollbackCommand?: string;
}

const STATUS_COLOR: Record<HostStatus, string> = {
  ok: '32',
  changed: '33',
  failed: '31;1',
  unreachable: '31;1',
  skipped: '90',
};

const indent = (text: string, prefix: string): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');

/** The end-of-run text for a person: each host's status, diffs, notes, warnings, then a summary line. */
export function renderHumanReport(command: ChangeCommand, hosts: readonly (HostPlan & { apply?: TransactionRecord })[], options: HumanReportOptions): string {
  const paint = (code: string, text: string): string => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const out: string[] = [];
  for (const host of hosts) {
    const head = `${paint('1', host.name)} (${host.address})  ${paint(STATUS_COLOR[host.status], host.status)}`;
    const detail =
      host.status === 'changed'
        ? `  ${describeWork(host.changes.length, host.actions.length)} ${command === 'plan' ? 'to make' : 'made'}`
        : host.status === 'ok'
          ? '  nothing to change'
          : host.error
            ? `  ${host.error.code}: ${host.error.message}`
            : '';
    out.push(head + detail);
    if (host.error?.diagnosis) out.push(indent(host.error.diagnosis, '    '));
    if (host.apply) {
      const written = host.changes.length > 0;
      out.push(`  transaction ${host.apply.transaction}${host.apply.backupDir ? `, backups in ${host.apply.backupDir}` : written ? '' : ' (actions only: no file written, nothing to roll back)'}`);
    }
    for (const warning of host.warnings) out.push(`  ${paint('33', 'warning:')} ${warning}`);
    for (const check of host.checks) {
      out.push(`  ${check.passed ? paint('32', 'pass') : paint('31;1', 'FAIL')} ${check.task}: ${check.message}`);
    }
    for (const change of host.changes) {
      out.push(`  ${paint('33', change.action === 'create' ? '+' : '~')} ${change.path}  (${change.task})`);
      if (options.diffs) out.push(indent(options.color ? colorizeDiff(changeDiff(change)) : changeDiff(change), '    '));
    }
    for (const action of host.actions) out.push(`  ${paint('33', '!')} ${action.service}: ${action.description}  (${action.task})`);
    for (const note of host.notes) out.push(`  ${paint('90', `· ${note.task}: ${note.message}`)}`);
    if (host.validation && !host.validation.ok && !host.error) out.push(`  ${paint('31;1', 'sshd -t rejects the change:')} ${host.validation.message ?? ''}`);
  }
  const s = summarise(hosts);
  const verb = { plan: 'Plan', apply: 'Apply', rollback: 'Rollback' }[command];
  const parts = [
    `${s.changed} ${command === 'plan' ? 'to change' : 'changed'}`,
    `${s.ok} ok`,
    ...(s.failed ? [`${s.failed} failed`] : []),
    ...(s.unreachable ? [`${s.unreachable} unreachable`] : []),
    ...(s.skipped ? [`${s.skipped} skipped`] : []),
    ...(s.checksFailed ? [`${s.checksFailed} check(s) failed`] : []),
  ];
  out.push('', `${verb}: ${s.hosts} host(s): ${parts.join(', ')}.`);
  const undo = options.rollbackCommand;
  // A rollback is a transaction too, and can itself be rolled back.
  const applied = undo && command !== 'plan' ? hosts.filter((h) => h.apply?.outcome === 'applied' && h.apply.backupDir !== undefined) : [];
  if (undo && applied.length > 0) {
    out.push('', 'Roll back with:');
    for (const host of applied) out.push(`  ${undo} ${shellCommand('-l', host.name, '--transaction', host.apply?.transaction ?? '')}`);
  }
  return out.join('\n') + '\n';
}
