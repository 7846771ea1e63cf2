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

/** The JSON report of DESIGN.md, format_version 1. Never holds secrets or file contents beyond diffs. */
export function buildJsonReport(input: ReportInput): Record<string, unknown> {
  return {
    format_version: 1,
    command: input.command,
    summary: snakeSummary(summarise(input.hosts)),
    ...(input.diagnostics && input.diagnostics.length > 0 ? { diagnostics: input.diagnostics } : {}),
    hosts: input.hosts.map((h) => ({
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
    })),
  };
}

export function renderJsonReport(input: ReportInput): string {
  return JSON.stringify(buildJsonReport(input), null, 2) + '\n';
}
