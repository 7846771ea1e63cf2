/**
 * Planning one host: its plays' tasks, in order, against its facts. Pure: facts in, HostPlan out
 * (validation on the host comes after, in run-plan.ts). Services are handled by id, through
 * their contract (src/services/).
 */
import type { Play } from '../model/playbook.js';
import { evaluateTaskCondition, renderTask, renderTaskName } from '../model/render-task.js';
import { createHostScope, factValuesFrom, type ScopeHost } from '../model/variables.js';
import type { PlainValue } from '../lang/yaml-tree.js';
import { lookupService, type AnyService, type ServiceExpectation, type ServicePlans } from '../services/registry.js';
import { TASK_PLANNERS } from '../tasks/planners.js';
import type { FileOwner, PlanInput, PlanOutcome } from '../tasks/planner.js';
import { runnerLoginFor, type LoginSettings } from './runner-login.js';
import type { TaskKindName } from '../tasks/registry.js';
import { fileDigests, sha256Hex, type HostFacts } from './facts.js';
import { HostFiles } from './host-files.js';
import { encodeText } from '../util/text-encoding.js';
import { emptyHostPlan, type HostPlan } from './plan-model.js';
import type { HostPlanning, PlanningMemo } from './planning-memo.js';

export interface HostPlanInput {
  /** With the inventory's connection settings when known: they say how sshfix itself logs in. */
  host: ScopeHost & LoginSettings;
  /** The plays that target this host, in run order. */
  plays: readonly Play[];
  cliVars: Readonly<Record<string, PlainValue>>;
  facts: HostFacts;
  /** The run's planning shared between hosts with the same inputs (plan only); absent: every task is planned here. */
  memo?: PlanningMemo;
}

export interface PlannedHost {
  plan: HostPlan;
  /** The host's files with every task's edits applied. */
  state: HostFiles;
  /** With a memo: the host's planning, for what is derived from it later (candidate checks). */
  shared?: HostPlanning;
}

function failed(plan: HostPlan, state: HostFiles, code: string, message: string, diagnosis?: string): PlannedHost {
  plan.status = 'failed';
  plan.error = { code, message, ...(diagnosis ? { diagnosis } : {}) };
  return { plan, state };
}

/** The services whose facts the host has, with those facts. */
function hostServices(facts: HostFacts): { id: string; service: AnyService; facts: unknown }[] {
  return Object.entries(facts.services).flatMap(([id, serviceFacts]) => {
    const service = lookupService(id);
    return service ? [{ id, service, facts: serviceFacts }] : [];
  });
}

/** Plans every task of every play for one host. */
export function planHost(input: HostPlanInput): PlannedHost {
  const { facts, host } = input;
  const plan = emptyHostPlan(host.name, host.address, 'ok');
  plan.filesRead = fileDigests(facts);
  const services = hostServices(facts);
  plan.facts = {
    ...(facts.opensshVersion ? { openssh: facts.opensshVersion } : {}),
    ...(facts.os.prettyName ? { os: facts.os.prettyName } : {}),
    ...(facts.runnerAddress ? { runnerAddress: facts.runnerAddress } : {}),
    ...(services.length > 0 ? { reload: services.map((s) => s.service.describe(s.facts)).join('; ') } : {}),
    ...(facts.builds ? { builds: { ...facts.builds } } : {}),
  };
  const files = new HostFiles(facts);
  if (facts.uid !== 0) {
    return failed(
      plan,
      files,
      'needs-root',
      `facts were read as uid ${facts.uid}, and the configuration sshfix changes needs root`,
      'connect as root, or set `become: sudo` for this host in the inventory',
    );
  }
  for (const { service, facts: serviceFacts } of services) {
    const refusal = service.precheck(serviceFacts);
    if (refusal) return failed(plan, files, refusal.code, refusal.message, refusal.diagnosis);
  }

  const login = runnerLoginFor(host, facts);
  const shared = input.memo?.forHost(facts, login);
  const factValues = factValuesFrom(facts);
  const expectations = new Map<string, ServiceExpectation>();
  const contributions = new Map<string, unknown[]>();
  const serviceOfPath = new Map<string, string>();
  const ownerOfPath = new Map<string, FileOwner>();

  for (const play of input.plays) {
    const scope = createHostScope({ host, playVars: play.vars, cliVars: input.cliVars, facts: factValues });
    for (const task of play.tasks) {
      const condition = evaluateTaskCondition(task, scope);
      const label = renderTaskName(task, scope);
      if (condition.status === 'error' || condition.status === 'pending') {
        const message = condition.status === 'error' ? condition.diagnostics.map((d) => d.message).join('; ') : 'depends on a fact this host did not provide';
        return failed(plan, files, 'task-invalid', `${label}: when: ${message}`);
      }
      if (condition.status === 'skip') {
        plan.notes.push({ task: label, message: `skipped: ${condition.reason}` });
        continue;
      }
      const rendered = renderTask(task, scope);
      if (!rendered.rendered) {
        const first = rendered.diagnostics.find((d) => d.severity === 'error');
        const where = first?.file && first.range ? ` (${first.file}:${first.range.start.line}:${first.range.start.column})` : '';
        return failed(plan, files, 'task-invalid', `${label}: ${first?.message ?? 'invalid parameters'}${where}`, first?.hint);
      }
      const { kind, name, params } = rendered.rendered;
      const planner = TASK_PLANNERS[kind as TaskKindName] as (input: PlanInput<unknown>) => PlanOutcome;
      const run = (seen: HostFacts): PlanOutcome => planner({ params, task: name, facts: seen, files, ...(login ? { login } : {}) });
      const outcome = shared ? shared.plan({ kind, name, params }, run) : run(facts);
      if (outcome.refusal) {
        return failed(plan, files, outcome.refusal.code, `${name}: ${outcome.refusal.message}`, outcome.refusal.hint);
      }
      for (const edit of outcome.edits) {
        const before = files.read(edit.path);
        plan.changes.push({
          task: name,
          path: edit.path,
          action: before === undefined ? 'create' : 'update',
          ...(before !== undefined ? { beforeSha256: sha256Hex(encodeText(before, files.encodingOf(edit.path))) } : {}),
          ...(before !== undefined ? { before } : {}),
          after: edit.after,
        });
        files.write(edit.path, edit.after);
        serviceOfPath.set(edit.path, edit.service);
        if (edit.owner && !ownerOfPath.has(edit.path)) ownerOfPath.set(edit.path, edit.owner);
      }
      plan.actions.push(...outcome.actions.map((a) => ({ task: name, ...a })));
      plan.checks.push(...outcome.checks.map((c) => ({ task: name, ...c })));
      plan.warnings.push(...outcome.warnings.map((w) => `${name}: ${w}`));
      if (outcome.note && outcome.edits.length === 0 && outcome.actions.length === 0 && outcome.checks.length === 0) plan.notes.push({ task: name, message: outcome.note });
      for (const e of outcome.expectations) {
        const key = lookupService(e.service)?.expectationKey(e) ?? '';
        expectations.set(`${e.service}\n${key}`, { task: name, ...e });
      }
      for (const { service, ...contribution } of outcome.contributions) contributions.set(service, [...(contributions.get(service) ?? []), contribution]);
    }
  }

  for (const path of files.changedPaths()) {
    const existing = facts.files.get(path);
    const text = files.read(path) as string;
    const after = encodeText(text, files.encodingOf(path));
    // Write through a symbolic link only to a file under /etc: a target elsewhere belongs to a
    // package (RHEL's crypto-policies back-ends), whose tools would silently put it back.
    const target = facts.symlinks.get(path);
    if (target !== undefined && !target.startsWith('/etc/')) {
      return failed(
        plan,
        files,
        'symlink-target',
        `${path} is a symbolic link to ${target}, outside /etc: sshfix does not edit package-owned files`,
        'set the keyword in a file read before it (e.g. a drop-in that sorts earlier), where it wins',
      );
    }
    plan.files.push({
      path,
      writePath: target ?? path,
      ...(existing ? { before: existing.content } : {}),
      after,
      mode: existing?.mode ?? ownerOfPath.get(path)?.mode ?? 0o644,
      uid: existing?.uid ?? ownerOfPath.get(path)?.uid ?? 0,
      gid: existing?.gid ?? ownerOfPath.get(path)?.gid ?? 0,
      service: serviceOfPath.get(path) ?? 'none',
    });
  }
  // A service is touched by a change to its files or by an action it runs (a ban lifted with no file changed).
  const touched = services.filter((s) => plan.files.some((f) => f.service === s.id) || plan.actions.some((a) => a.service === s.id));
  const changing = plan.files.length > 0 || plan.actions.length > 0;
  for (const { service, facts: serviceFacts } of touched) {
    const refusal = service.applyCheck(serviceFacts);
    if (refusal) return failed(plan, files, refusal.code, refusal.message, refusal.diagnosis);
  }
  // Expectations only matter for what changes; a no-op host has nothing to verify.
  plan.expectations = changing ? [...expectations.values()] : [];
  const snapshot = touched.length > 0 ? files.snapshot() : undefined;
  const servicePlans: Record<string, unknown> = {};
  for (const { id, service, facts: serviceFacts } of touched) {
    const finish = (base: HostFacts): unknown => service.finishPlan({ contributions: contributions.get(id) ?? [], snapshot: snapshot!, facts: serviceFacts, base });
    servicePlans[id] = shared ? shared.derive(`finishPlan ${id}`, finish) : finish(facts);
  }
  plan.services = servicePlans as ServicePlans;
  const failedChecks = plan.checks.filter((c) => !c.passed).length;
  if (failedChecks > 0) {
    plan.status = 'failed';
    plan.error = { code: 'checks-failed', message: `${failedChecks} check(s) failed` };
  } else {
    plan.status = changing ? 'changed' : 'ok';
  }
  return { plan, state: files, ...(shared ? { shared } : {}) };
}
