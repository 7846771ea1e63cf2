import type { ChangeCommand, HostPlan } from '../engine/plan-model.js';
import type { TransactionRecord } from '../engine/transaction.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { renderGithubReport } from './github-report.js';
import { renderHumanReport } from './human-report.js';
import { jsonReportChunks, renderJsonReport } from './json-report.js';
import { renderJunitReport } from './junit-report.js';

export type ReportFormat = 'human' | 'json' | 'junit' | 'github';
export const REPORT_FORMATS: readonly ReportFormat[] = ['human', 'json', 'junit', 'github'];

/** One place that picks the view for a format: every format shows the same results. */
export function renderReport(
  format: ReportFormat,
  command: ChangeCommand,
  hosts: readonly (HostPlan & { apply?: TransactionRecord })[],
  options: { color: boolean; diagnostics?: readonly Diagnostic[]; rollbackCommand?: string },
): string {
  switch (format) {
    case 'json':
      return renderJsonReport({ command, hosts, ...(options.diagnostics ? { diagnostics: options.diagnostics } : {}) });
    case 'junit':
      return renderJunitReport(command, hosts);
    case 'github':
      return renderGithubReport(command, hosts);
    case 'human':
      return renderHumanReport(command, hosts, { color: options.color, diffs: true, ...(options.rollbackCommand ? { rollbackCommand: options.rollbackCommand } : {}) });
  }
}

/** Writes the report as renderReport makes it; the JSON one host at a time (a large fleet's report is never one string). */
export function writeReport(
  write: (text: string) => void,
  format: ReportFormat,
  command: 'plan' | 'apply',
  hosts: readonly (HostPlan & { apply?: TransactionRecord })[],
  options: { color: boolean; diagnostics?: readonly Diagnostic[]; rollbackCommand?: string },
): void {
  if (format !== 'json') {
    write(renderReport(format, command, hosts, options));
    return;
  }
  for (const chunk of jsonReportChunks({ command, hosts, ...(options.diagnostics ? { diagnostics: options.diagnostics } : {}) })) write(chunk);
}
