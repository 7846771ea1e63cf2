import type { HostFactSummary, HostPlan, PlanSummary } from '../engine/plan-model.js';
import { summarise } from '../engine/plan-model.js';

/** Extra per-host facts an apply adds to the report. Free-form but JSON-safe. */
export type HostExtra = Record<string, unknown>;

export interface ReportInput {
  command: 'plan' | 'apply';
  hosts: readonly (HostPlan & { apply?: HostExtra })[];
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
    checks_failed: summary.checksFailed,
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
        diff: c.diff,
      })),
      checks: h.checks.map((c) => ({ task: c.task, passed: c.passed, message: c.message })),
      notes: h.notes.map((n) => ({ task: n.task, message: n.message })),
      warnings: h.warnings,
      ...(h.validation ? { validation: h.validation } : {}),
      ...(h.facts ? { facts: snakeFacts(h.facts) } : {}),
      ...(h.apply ? { apply: h.apply } : {}),
    })),
  };
}

export function renderJsonReport(input: ReportInput): string {
  return JSON.stringify(buildJsonReport(input), null, 2) + '\n';
}
