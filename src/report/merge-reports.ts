/**
 * `sshfix report merge`: one report from the JSON reports of several shards (or runs), with one
 * exit code, the worst of theirs. Pure: parsed documents in, a merged document or problems out.
 */

/** A report as `--format json` writes it (only what merging needs is typed). */
export interface JsonReportDocument {
  format_version: number;
  command: string;
  summary?: Record<string, number>;
  hosts: { name: string; status: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

export interface MergeInput {
  /** Where the report came from, for messages. */
  source: string;
  document: unknown;
}

export type MergeResult = { report: JsonReportDocument } | { errors: string[] };

const SUMMARY_STATUSES = ['ok', 'changed', 'failed', 'unreachable', 'skipped'] as const;

function isReport(value: unknown): value is JsonReportDocument {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<JsonReportDocument>;
  return typeof v.format_version === 'number' && typeof v.command === 'string' && Array.isArray(v.hosts);
}

/** Merges reports of one command and format version; a host in two reports is an error (shards are disjoint). */
export function mergeReports(inputs: readonly MergeInput[]): MergeResult {
  const errors: string[] = [];
  const reports: { source: string; report: JsonReportDocument }[] = [];
  for (const input of inputs) {
    if (!isReport(input.document)) errors.push(`${input.source}: not an sshfix JSON report (format_version, command and hosts are missing)`);
    else reports.push({ source: input.source, report: input.document });
  }
  if (errors.length > 0) return { errors };
  if (reports.length === 0) return { errors: ['no reports to merge'] };
  const first = reports[0] as { source: string; report: JsonReportDocument };
  for (const { source, report } of reports.slice(1)) {
    if (report.format_version !== first.report.format_version) errors.push(`${source}: format_version ${report.format_version}, but ${first.source} has ${first.report.format_version}`);
    if (report.command !== first.report.command) errors.push(`${source}: a ${report.command} report, but ${first.source} is a ${first.report.command} report`);
  }
  const seen = new Map<string, string>();
  const hosts: JsonReportDocument['hosts'] = [];
  for (const { source, report } of reports) {
    for (const host of report.hosts) {
      const earlier = seen.get(host.name);
      if (earlier !== undefined) errors.push(`host ${host.name} is in both ${earlier} and ${source}: shards must not overlap`);
      seen.set(host.name, source);
      hosts.push(host);
    }
  }
  if (errors.length > 0) return { errors };
  const summary: Record<string, number> = { hosts: hosts.length };
  for (const status of SUMMARY_STATUSES) summary[status] = hosts.filter((h) => h.status === status).length;
  // Counters the reports carry beyond host statuses (changes, checks_failed, causes) add up.
  for (const { report } of reports) {
    for (const [key, value] of Object.entries(report.summary ?? {})) {
      if (key === 'hosts' || (SUMMARY_STATUSES as readonly string[]).includes(key) || typeof value !== 'number') continue;
      summary[key] = (summary[key] ?? 0) + value;
    }
  }
  const { hosts: _hosts, summary: _summary, ...rest } = first.report;
  return { report: { ...rest, format_version: first.report.format_version, command: first.report.command, summary, hosts, merged_from: reports.map((r) => r.source) } };
}

/**
 * The exit code a merged report stands for, the worst of the shards': 1 when any host failed or
 * was unreachable or a check failed; 2 when `detailed` and a plan found changes, or diagnose found
 * a cause; else 0.
 */
export function mergedExitCode(report: JsonReportDocument, options: { detailed: boolean }): 0 | 1 | 2 {
  const count = (status: string): number => report.hosts.filter((h) => h.status === status).length;
  if (count('failed') > 0 || count('unreachable') > 0 || (report.summary?.checks_failed ?? 0) > 0) return 1;
  if (report.command === 'diagnose') return report.hosts.some((h) => Array.isArray(h.causes) && h.causes.length > 0) ? 2 : 0;
  if (options.detailed && report.command === 'plan' && count('changed') > 0) return 2;
  return 0;
}
