import type { ChangeCommand, HostFactSummary, HostPlan, PlanSummary } from '../engine/plan-model.js';
import { summarise } from '../engine/plan-model.js';
import type { TransactionRecord } from '../engine/transaction.js';
import { changeDiff } from './diff.js';

export interface ReportInput {
  command: ChangeCommand;
  hosts: readonly (HostPlan & { apply?: TransactionRecord })[];
  /** Problems found before any host was contacted (warnings only: errors stop the run earlier). */
  diagnostics?: readonly unknown[];
}

function snakeSummary(summary: PlanSummary): Record<string, number> {
  return {
    hosts: summary.hosts,
    ok: summary.ok,
    changed: summary.changed,
    failed: summary.failed,
    unreachable: summary.unreachable,
    skipped: summary.skipped,
    changes: summary.changes,
    actions: summary.actions,
    checks_failed: summary.checksFailed,
  };
}

/** The JSON report's `apply` object for a host: what its transaction did. */
function applyReport(record: TransactionRecord): Record<string, unknown> {
  return {
    transaction: record.transaction,
    ...(record.backupDir ? { backup_dir: record.backupDir } : {}),
    outcome: record.outcome,
    validated: record.validated,
    ...(record.reload ? { reload: record.reload } : {}),
    ...(record.deadman ? { deadman: record.deadman } : {}),
    ...(record.loginProof ? { login_proof: record.loginProof } : {}),
    verification: record.verification.map((v) => ({
      keyword: v.keyword,
      ...(v.connection ? { connection: v.connection } : {}),
      expected: v.expected,
      actual: v.actual,
      ok: v.ok,
    })),
    rolled_back: record.rolledBack,
    ...(record.restoredLoginProof ? { restored_login_proof: record.restoredLoginProof } : {}),
    steps: record.steps.map((s) => ({ step: s.step, ok: s.ok, ...(s.message ? { message: s.message } : {}) })),
  };
}

function snakeFacts(facts: HostFactSummary): Record<string, string> {
  return {
    ...(facts.openssh !== undefined ? { openssh: facts.openssh } : {}),
    ...(facts.os !== undefined ? { os: facts.os } : {}),
    ...(facts.runnerAddress !== undefined ? { runner_address: facts.runnerAddress } : {}),
    ...(facts.reload !== undefined ? { reload: facts.reload } : {}),
  };
}

type ReportHost = ReportInput['hosts'][number];

function hostEntry(h: ReportHost): Record<string, unknown> {
  return {
    name: h.name,
    address: h.address,
    status: h.status,
    ...(h.error ? { error: { code: h.error.code, message: h.error.message, ...(h.error.diagnosis ? { diagnosis: h.error.diagnosis } : {}) } } : {}),
    changes: h.changes.map((c) => ({
      task: c.task,
      path: c.path,
      action: c.action,
      ...(c.beforeSha256 ? { before_sha256: c.beforeSha256 } : {}),
      diff: changeDiff(c),
    })),
    actions: h.actions.map((a) => ({ task: a.task, service: a.service, description: a.description })),
    checks: h.checks.map((c) => ({ task: c.task, passed: c.passed, message: c.message })),
    notes: h.notes.map((n) => ({ task: n.task, message: n.message })),
    warnings: h.warnings,
    ...(h.validation ? { validation: h.validation } : {}),
    ...(h.facts ? { facts: snakeFacts(h.facts) } : {}),
    ...(h.apply ? { apply: applyReport(h.apply) } : {}),
  };
}

function reportHead(input: ReportInput): Record<string, unknown> {
  return {
    format_version: 1,
    command: input.command,
    summary: snakeSummary(summarise(input.hosts)),
    ...(input.diagnostics && input.diagnostics.length > 0 ? { diagnostics: input.diagnostics } : {}),
  };
}

/** The JSON report of DESIGN.md, format_version 1. Never holds secrets or file contents beyond diffs. */
export function buildJsonReport(input: ReportInput): Record<string, unknown> {
  return { ...reportHead(input), hosts: input.hosts.map(hostEntry) };
}

/**
 * The report's text in pieces, one per host, the same bytes as the whole document: a large fleet's
 * report is written as it is made instead of being built whole first, as an object and as a string.
 */
export function* jsonReportChunks(input: ReportInput): Generator<string> {
  const head = JSON.stringify({ ...reportHead(input), hosts: [] }, null, 2);
  if (input.hosts.length === 0) {
    yield `${head}\n`;
    return;
  }
  yield `${head.slice(0, -'[]\n}'.length)}[\n`;
  const last = input.hosts.length - 1;
  for (const [i, host] of input.hosts.entries()) {
    yield `${JSON.stringify(hostEntry(host), null, 2).replace(/^/gm, '    ')}${i < last ? ',' : ''}\n`;
  }
  yield '  ]\n}\n';
}

export function renderJsonReport(input: ReportInput): string {
  return [...jsonReportChunks(input)].join('');
}
