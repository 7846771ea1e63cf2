import { appendFileSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { mergedExitCode, mergeReports, type JsonReportDocument, type MergeInput } from '../../report/merge-reports.js';
import { renderStepSummary, type SummaryHost } from '../../report/step-summary.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, type CommandIO } from '../io.js';

interface MergeOptions {
  format: 'human' | 'json' | 'junit' | 'github';
  detailedExitcode?: boolean;
}

/** A merged report as people read it: per host its status and the first line of its error. */
function renderMergedHuman(report: JsonReportDocument): string {
  const lines = report.hosts.map((h) => {
    const error = (h.error as { code?: string; message?: string } | undefined) ?? undefined;
    return `${h.name}: ${h.status}${error?.code ? ` (${error.code}: ${error.message ?? ''})` : ''}`;
  });
  const s = report.summary ?? {};
  lines.push(`${report.command}: ${s.hosts ?? 0} host(s) from ${(report.merged_from as string[]).length} report(s): ${s.changed ?? 0} changed, ${s.ok ?? 0} ok, ${s.failed ?? 0} failed, ${s.unreachable ?? 0} unreachable, ${s.skipped ?? 0} skipped`);
  return lines.join('\n') + '\n';
}

function renderMergedJunit(report: JsonReportDocument): string {
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const failed = report.hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  const cases = report.hosts.map((h) => {
    const error = h.error as { code?: string; message?: string } | undefined;
    const body = h.status === 'failed' || h.status === 'unreachable' ? `<failure message="${esc(`${error?.code ?? h.status}: ${error?.message ?? ''}`)}"/>` : h.status === 'skipped' ? '<skipped/>' : '';
    return `    <testcase classname="sshfix.${esc(report.command)}" name="${esc(h.name)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="sshfix ${esc(report.command)}" tests="${report.hosts.length}" failures="${failed.length}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

export function runReportMerge(io: CommandIO, files: readonly string[], options: MergeOptions): number {
  const inputs: MergeInput[] = [];
  for (const file of files) {
    try {
      inputs.push({ source: file, document: JSON.parse(readFileSync(file, 'utf8')) as unknown });
    } catch (error) {
      io.stderr(`sshfix report merge: ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(error as Error).message})`}\n`);
      return ExitCode.Failure;
    }
  }
  const merged = mergeReports(inputs);
  if ('errors' in merged) {
    for (const e of merged.errors) io.stderr(`sshfix report merge: ${e}\n`);
    return ExitCode.Failure;
  }
  const { report } = merged;
  switch (options.format) {
    case 'json':
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      break;
    case 'junit':
      io.stdout(renderMergedJunit(report));
      break;
    case 'github': {
      io.stdout(renderMergedHuman(report));
      const path = process.env['GITHUB_STEP_SUMMARY'];
      if (path && (report.command === 'plan' || report.command === 'apply' || report.command === 'rollback')) {
        const hosts = report.hosts.map((h) => ({
          name: h.name,
          status: h.status as SummaryHost['status'],
          changes: (h.changes as SummaryHost['changes'] | undefined) ?? [],
          checks: (h.checks as SummaryHost['checks'] | undefined) ?? [],
          ...(h.error ? { error: h.error as NonNullable<SummaryHost['error']> } : {}),
        }));
        try {
          appendFileSync(path, renderStepSummary(report.command, hosts));
        } catch (error) {
          io.stderr(`warning: could not write the step summary to ${path}: ${(error as Error).message}\n`);
        }
      }
      break;
    }
    default:
      io.stdout(renderMergedHuman(report));
  }
  return mergedExitCode(report, { detailed: options.detailedExitcode === true });
}

export function registerReportCommand(program: Command): void {
  const report = program.command('report').description('work with saved JSON reports');
  report
    .command('merge')
    .description('join the JSON reports of several shards into one, with one exit code (the worst)')
    .argument('<REPORT.json...>', 'reports written with --format json')
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['human', 'json', 'junit', 'github']).default('human'))
    .option('--detailed-exitcode', 'exit 2 when a merged plan has changes (0: none, 1: errors)')
    .action((files: string[], options: MergeOptions) => {
      process.exitCode = runReportMerge(processIO(), files, options);
    });
}
