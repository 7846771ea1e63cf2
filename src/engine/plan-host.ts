/**
 * Planning one host: its plays' tasks, in order, against its facts. Pure: facts in, HostPlan out
 * (validation on the host comes after, in run-plan.ts).
 */
import { matchValidationSpecs } from '../config/sshd/connection-spec.js';
import { sshdDefaultsFromDump, DEBIAN_12_DEFAULTS, type SshdDefaults } from '../config/sshd/defaults.js';
import type { SshdAlgorithmFamily } from '../config/sshd/keywords.js';
import { buildSshdConfigTree } from '../config/sshd/tree.js';
import type { Play } from '../model/playbook.js';
import { evaluateTaskCondition, renderTask } from '../model/render-task.js';
import { createHostScope, factValuesFrom, type ScopeHost } from '../model/variables.js';
import type { PlainValue } from '../model/yaml-tree.js';
import { TASK_PLANNERS } from '../tasks/planners.js';
import type { PlanInput, PlanOutcome } from '../tasks/planner.js';
import { runnerLoginFor, type LoginSettings } from '../tasks/runner-login.js';
import type { TaskKindName } from '../tasks/registry.js';
import { renderUnifiedDiff } from '../report/diff.js';
import { fileDigests, sha256Hex, type HostFacts } from './facts.js';
import { encodeText, HostFiles } from './host-files.js';
import { emptyHostPlan, type HostPlan, type SshdExpectation } from './plan-model.js';

/** `ssh -Q` list names (as the fact script asked them) for each algorithm family. */
const QUERY_FOR_FAMILY: Partial<Record<SshdAlgorithmFamily, string>> = {
  kex: 'KexAlgorithms',
  cipher: 'Ciphers',
  mac: 'MACs',
  hostkey: 'HostKeyAlgorithms',
  pubkey: 'PubkeyAcceptedAlgorithms',
  sig: 'sig',
};

/**
 * Defaults per sshd build, keyed by everything they are made from. A fleet runs a few builds:
 * sharing one defaults object per build spares rebuilding it per host, and lets the engine's
 * caches keyed by defaults (expanded algorithm lists, evaluations) serve every host of a build.
 */
const defaultsByBuild = new Map<string, SshdDefaults>();
const DEFAULTS_BY_BUILD_LIMIT = 32;

/** This host's sshd defaults: its own build's output when the facts have it, else Debian 12's. */
export function hostSshdDefaults(facts: HostFacts): SshdDefaults {
  if (!facts.sshd.defaultsDump) return DEBIAN_12_DEFAULTS;
  const supported: Partial<Record<SshdAlgorithmFamily, readonly string[]>> = {};
  for (const [family, query] of Object.entries(QUERY_FOR_FAMILY) as [SshdAlgorithmFamily, string][]) {
    const list = facts.sshd.supported[query];
    if (list && list.length > 0) supported[family] = list;
  }
  const version = facts.opensshVersion ? facts.opensshVersion.replace(/p\d+$/, '') : undefined;
  const key = JSON.stringify([facts.sshd.defaultsDump, supported, version ?? null]);
  let defaults = defaultsByBuild.get(key);
  if (!defaults) {
    defaults = sshdDefaultsFromDump({ emptyConfigDump: facts.sshd.defaultsDump, supported, ...(version !== undefined ? { version } : {}) });
    if (defaultsByBuild.size >= DEFAULTS_BY_BUILD_LIMIT) defaultsByBuild.delete(defaultsByBuild.keys().next().value!);
    defaultsByBuild.set(key, defaults);
  }
  return defaults;
}

export interface HostPlanInput {
  /** With the inventory's connection settings when known: they say how sshfix itself logs in. */
  host: ScopeHost & LoginSettings;
  /** The plays that target this host, in run order. */
  plays: readonly Play[];
  cliVars: Readonly<Record<string, PlainValue>>;
  facts: HostFacts;
}

export interface PlannedHost {
  plan: HostPlan;
  /** The host's files with every task's edits applied. */
  state: HostFiles;
  /** sshd config files changed: validate the candidate tree with these `-C` specs too. */
  sshdChanged: boolean;
  validationSpecs: string[];
}

function failed(plan: HostPlan, state: HostFiles, code: string, message: string, diagnosis?: string): PlannedHost {
  plan.status = 'failed';
  plan.error = { code, message, ...(diagnosis ? { diagnosis } : {}) };
  return { plan, state, sshdChanged: false, validationSpecs: [] };
}

/** Plans every task of every play for one host. */
export function planHost(input: HostPlanInput): PlannedHost {
  const { facts, host } = input;
  const plan = emptyHostPlan(host.name, host.address, 'ok');
  plan.filesRead = fileDigests(facts);
  plan.facts = {
    ...(facts.opensshVersion ? { openssh: facts.opensshVersion } : {}),
    ...(facts.os.prettyName ? { os: facts.os.prettyName } : {}),
    ...(facts.runnerAddress ? { runnerAddress: facts.runnerAddress } : {}),
    reload: facts.reload.kind === 'systemctl' ? `systemctl reload ${facts.reload.unit}` : facts.reload.kind === 'signal' ? `SIGHUP via ${facts.reload.pidFile}` : facts.reload.kind,
  };
  const files = new HostFiles(facts);
  if (facts.uid !== 0) {
    return failed(
      plan,
      files,
      'needs-root',
      `facts were read as uid ${facts.uid}, and sshd's configuration needs root`,
      'connect as root, or set `become: sudo` for this host in the inventory',
    );
  }
  if (!facts.sshd.test.ok) {
    return failed(
      plan,
      files,
      'config-invalid',
      `the live sshd config does not pass sshd -t: ${facts.sshd.test.output}`,
      'Any reload would stop sshd. Fix or remove the file sshd names before changing anything else; sshfix changes nothing on this host.',
    );
  }

  const sshdDefaults = hostSshdDefaults(facts);
  const login = runnerLoginFor(host, facts);
  const factValues = factValuesFrom(facts);
  const expectations = new Map<string, SshdExpectation>();
  const matchSpecs = new Set<string>();
  const configsTouched = new Set<string>();

  for (const play of input.plays) {
    const scope = createHostScope({ host, playVars: play.vars, cliVars: input.cliVars, facts: factValues });
    for (const task of play.tasks) {
      const condition = evaluateTaskCondition(task, scope);
      const label = task.name ?? `${task.kind} (task ${task.index + 1})`;
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
      const outcome = planner({ params, task: name, facts, files, sshdDefaults, ...(login ? { login } : {}) });
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
          diff: renderUnifiedDiff(edit.path, before, edit.after),
        });
        files.write(edit.path, edit.after);
      }
      if (kind === 'sshd' && outcome.edits.length > 0) configsTouched.add((params as { config: string }).config);
      plan.checks.push(...outcome.checks.map((c) => ({ task: name, ...c })));
      plan.warnings.push(...outcome.warnings.map((w) => `${name}: ${w}`));
      if (outcome.note && outcome.edits.length === 0 && outcome.checks.length === 0) plan.notes.push({ task: name, message: outcome.note });
      for (const e of outcome.expectations) expectations.set(`${e.keyword}\n${e.connection ?? ''}`, { task: name, ...e });
      for (const spec of outcome.matchSpecs) matchSpecs.add(spec);
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
      mode: existing?.mode ?? 0o644,
      uid: existing?.uid ?? 0,
      gid: existing?.gid ?? 0,
      service: 'sshd',
    });
  }
  if (plan.files.length > 0 && facts.reload.kind === 'unknown') {
    return failed(plan, files, 'cannot-reload', `no way to reload sshd on this host (${facts.reload.reason})`, 'sshfix only writes a config it can load and prove; reload support for this init system is missing');
  }
  // Expectations only matter for what changes; a no-op host has nothing to verify.
  plan.expectations = plan.files.length > 0 ? [...expectations.values()] : [];
  const sshdChanged = configsTouched.size > 0;
  plan.configs = [...configsTouched];
  if (sshdChanged) {
    for (const config of configsTouched) {
      const tree = buildSshdConfigTree(files.snapshot(), config).tree;
      for (const spec of matchValidationSpecs(tree, sshdDefaults.version)) matchSpecs.add(spec);
    }
  }
  const failedChecks = plan.checks.filter((c) => !c.passed).length;
  if (failedChecks > 0) {
    plan.status = 'failed';
    plan.error = { code: 'checks-failed', message: `${failedChecks} check(s) failed` };
  } else {
    plan.status = plan.files.length > 0 ? 'changed' : 'ok';
  }
  return { plan, state: files, sshdChanged, validationSpecs: [...matchSpecs] };
}

