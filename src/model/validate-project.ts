import type { Diagnostic } from '../util/diagnostics.js';
import { selectHosts, type HostPattern } from './host-pattern.js';
import { inventoryUniverse, type Inventory, type ResolvedHost } from './inventory.js';
import { templateStrings, type Play, type Playbook, type Task } from './playbook.js';
import { evaluateTaskCondition, renderTask } from './render-task.js';
import { didYouMean } from '../lang/suggest.js';
import { parseTemplate } from './template.js';
import { createValidationScope, FACT_NAMES, RESERVED_VARIABLE_NAMES, type VariableScope } from './variables.js';
import { whenReferences } from './when.js';
import { rangeInScalar, type PlainValue } from '../lang/yaml-tree.js';

/** What `validateProject` checks together. */
export interface ProjectInput {
  /** Absent when no inventory was found: host-dependent checks are skipped. */
  inventory?: Inventory;
  playbooks: readonly Playbook[];
  cliVars?: Readonly<Record<string, PlainValue>>;
}

/**
 * The hosts a play runs on: its `hosts:` pattern, narrowed by `-l` when given. Terms that match
 * no host are warnings (at the term, for the play's own pattern).
 */
export function selectPlayHosts(
  inventory: Inventory,
  play: Play,
  limit?: HostPattern,
): { hosts: ResolvedHost[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const universe = inventoryUniverse(inventory);
  const selection = selectHosts(play.hosts, universe);
  for (const term of selection.unmatched) {
    const hint = didYouMean(term.text, [...universe.groups.keys(), ...universe.hosts]);
    diagnostics.push({
      severity: 'warning',
      code: 'pattern-no-match',
      message: universe.groups.has(term.text)
        ? `hosts: group "${term.text}" has no hosts in ${inventory.file}`
        : `hosts: "${term.text}" matches no host or group in ${inventory.file}`,
      file: play.file,
      ...(term.range ? { range: term.range } : {}),
      ...(hint ? { hint } : {}),
    });
  }
  let names = selection.hosts;
  if (limit) {
    const limited = new Set(selectHosts(limit, universe).hosts);
    names = names.filter((n) => limited.has(n));
  }
  const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
  return { hosts: names.map((n) => byName.get(n)!), diagnostics };
}

/**
 * Checks playbooks against the inventory without connecting: host patterns, and for every host
 * a play targets, that each `{{ }}` and `when:` reference is defined and that the values it
 * substitutes are valid. Facts stay pending. A problem on many hosts is reported once, with a
 * count. Returns only what `loadPlaybook`/`loadInventory` could not see on their own.
 */
export function validateProject(input: ProjectInput): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const playbook of input.playbooks) {
    for (const play of playbook.plays) {
      if (!input.inventory) {
        diagnostics.push(...checkFactReferences(play));
        continue;
      }
      const selection = selectPlayHosts(input.inventory, play);
      diagnostics.push(...selection.diagnostics);
      if (selection.hosts.length === 0) {
        if (selection.diagnostics.length === 0 && input.inventory.hosts.length > 0) {
          diagnostics.push({
            severity: 'warning',
            code: 'play-no-hosts',
            message: `hosts: "${play.hosts.source}" selects no host`,
            file: play.file,
            range: play.range,
          });
        }
        continue;
      }
      diagnostics.push(...checkPlayForHosts(play, selection.hosts, input.cliVars ?? {}));
    }
  }
  return dedupeDiagnostics(diagnostics);
}

/** Renders each task for every distinct variable set among the hosts, collecting problems. */
function checkPlayForHosts(play: Play, hosts: readonly ResolvedHost[], cliVars: Readonly<Record<string, PlainValue>>): Diagnostic[] {
  // Hosts with the same variables render the same way: validate each distinct set once.
  const groups = new Map<string, { scope: VariableScope; hosts: string[] }>();
  // The play's and the command line's variables are the same for every host, so the host's own
  // decide: a scope (a copy of every variable, maybe a large playbook's) is built once per group.
  for (const host of hosts) {
    // Variables and where each was set (messages name it) decide the scope.
    const key = JSON.stringify([host.vars, host.varOrigins ?? null]);
    const group = groups.get(key);
    if (group) group.hosts.push(host.name);
    else {
      // The group's first host must not stand for the others where they differ: host.name and
      // host.address stay unknown (pending), so a when: on them does not skip the task for all.
      const scope = createValidationScope({ host, playVars: play.vars, ...(play.varOrigins ? { playVarOrigins: play.varOrigins } : {}), cliVars });
      groups.set(key, { scope: { ...scope, facts: {} }, hosts: [host.name] });
    }
  }
  const found = new Map<string, { diagnostic: Diagnostic; hosts: string[] }>();
  const collect = (list: readonly Diagnostic[], hostNames: readonly string[]): void => {
    for (const d of list) {
      const key = diagnosticKey(d);
      const entry = found.get(key);
      if (entry) entry.hosts.push(...hostNames);
      else found.set(key, { diagnostic: d, hosts: [...hostNames] });
    }
  };
  for (const task of play.tasks) {
    const needsRender = task.name?.includes('{{') === true || templateStrings(task.params).length > 0;
    for (const { scope, hosts: names } of groups.values()) {
      const condition = evaluateTaskCondition(task, scope);
      if (condition.status === 'error') {
        collect(condition.diagnostics, names);
        continue;
      }
      if (condition.status === 'skip' || !needsRender) continue;
      collect(renderTask(task, scope).diagnostics, names);
    }
  }
  return [...found.values()].map(({ diagnostic, hosts: names }) =>
    names.length === hosts.length
      ? diagnostic
      : { ...diagnostic, message: `${diagnostic.message} (on ${names.length} of ${hosts.length} hosts, e.g. ${names[0]})` },
  );
}

/** Without an inventory, only references to facts that do not exist can be caught. */
function checkFactReferences(play: Play): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (task: Task, name: string, range = task.kindRange): void => {
    diagnostics.push({
      severity: 'error',
      code: 'undefined-variable',
      message: `there is no fact "${name}"`,
      hint: didYouMean(name, FACT_NAMES) ?? `facts: ${FACT_NAMES.join(', ')}`,
      file: task.file,
      range,
    });
  };
  const isUnknownFact = (path: readonly string[]): boolean =>
    RESERVED_VARIABLE_NAMES.includes(path[0]!) && !(FACT_NAMES as readonly string[]).includes(path.join('.'));
  for (const task of play.tasks) {
    for (const scalar of templateStrings(task.params)) {
      for (const part of parseTemplate(scalar.value as string).parts) {
        if (part.kind === 'ref' && isUnknownFact(part.path)) report(task, part.name, rangeInScalar(scalar, part.from, part.to));
      }
    }
    for (const condition of task.when) {
      for (const ref of whenReferences(condition.expr)) {
        if (isUnknownFact(ref.path)) report(task, ref.name, rangeInScalar(condition.node, ref.from, ref.to));
      }
    }
  }
  return diagnostics;
}

function diagnosticKey(d: Diagnostic): string {
  const at = d.range ? `${d.range.start.line}:${d.range.start.column}` : '';
  return `${d.severity}|${d.code}|${d.file ?? ''}|${at}|${d.message}`;
}

/** Drops repeated diagnostics (same severity, code, place and message), keeping the first. */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = diagnosticKey(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Orders diagnostics by line and column within each file, files in the order they first appear,
 * errors before warnings at the same place.
 */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const fileOrder = new Map<string, number>();
  for (const d of diagnostics) if (!fileOrder.has(d.file ?? '')) fileOrder.set(d.file ?? '', fileOrder.size);
  return [...diagnostics].sort((a, b) =>
    fileOrder.get(a.file ?? '')! - fileOrder.get(b.file ?? '')! ||
    (a.range?.start.line ?? 0) - (b.range?.start.line ?? 0) ||
    (a.range?.start.column ?? 0) - (b.range?.start.column ?? 0) ||
    (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
}
