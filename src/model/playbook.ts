import { hasErrors, type Diagnostic, type SourceRange } from '../util/diagnostics.js';
import { isTaskKindName, TASK_KIND_NAMES, TASK_KINDS, type TaskKindName } from '../tasks/registry.js';
import { parseHostPattern, type HostPattern } from './host-pattern.js';
import { playbookSpec, taskSpec } from './playbook-spec.js';
import { checkShape } from '../lang/spec.js';
import { parseTemplate, scalarTextError } from './template.js';
import { checkVarsNode, varOriginsOf, type VariableOrigin } from './variables.js';
import { parseWhen, type WhenExpr } from './when.js';
import { getValue, parseYaml, rangeInScalar, toPlainValue, type PlainValue, type YamlNode } from '../lang/yaml-tree.js';

/**
 * A condition from `when:`, parsed at load time. `expr` offsets are relative to `source`;
 * `node` places them in the file (see `rangeInScalar`).
 */
export interface WhenCondition {
  source: string;
  expr: WhenExpr;
  node: YamlNode;
}

/**
 * A task as written: its kind and raw parameters (still holding `{{ }}`), checked as far as is
 * possible without knowing the host. `renderTask` turns it into typed parameters per host.
 */
export interface Task {
  file: string;
  /** 0-based position within its play. */
  index: number;
  kind: TaskKindName;
  /** As written; may hold `{{ }}`. */
  name?: string;
  /** Where the name is written, to place problems found when it is rendered. */
  nameNode?: YamlNode;
  /** The kind's parameters as written. */
  params: YamlNode;
  /** All must hold for the task to run on a host; empty: always. */
  when: WhenCondition[];
  /** The whole task entry. */
  range: SourceRange;
  /** The kind key (`sshd:`), where task-level problems are reported. */
  kindRange: SourceRange;
}

/** One play: which hosts, which variables, which tasks. */
export interface Play {
  file: string;
  /** 0-based position within its file. */
  index: number;
  name?: string;
  /** Which hosts; `all` when the play has no `hosts:`. Terms carry their file positions. */
  hosts: HostPattern;
  /** The lowest-precedence variables. */
  vars: Record<string, PlainValue>;
  /** Where each of `vars` is written. */
  varOrigins?: Record<string, VariableOrigin>;
  tasks: Task[];
  range: SourceRange;
}

/** A playbook file: one or more plays, in order. */
export interface Playbook {
  file: string;
  plays: Play[];
}

/** The playbook and every problem found in it without an inventory. */
export interface PlaybookLoadResult {
  /** Always present; with errors it holds what could be read and must not be run. */
  playbook: Playbook;
  diagnostics: Diagnostic[];
}

/** A play's or task's name for reports: the written name, or where it stands. */
export function displayTaskName(task: Task): string {
  return task.name ?? `${task.kind} (task ${task.index + 1})`;
}

/**
 * Loads and validates a playbook as far as possible without an inventory or facts: YAML, shape,
 * task kinds and their parameters (values holding `{{ }}` are checked later, per host), template
 * syntax, `when:` syntax and host pattern syntax. Pure.
 */
export function loadPlaybook(text: string, file: string): PlaybookLoadResult {
  const parsed = parseYaml(text, file);
  const diagnostics = [...parsed.diagnostics];
  const playbook: Playbook = { file, plays: [] };
  const root = parsed.root;
  if (!root) {
    if (!hasErrors(diagnostics)) {
      diagnostics.push({ severity: 'error', code: 'empty-file', message: 'the playbook is empty', range: { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } }, hint: 'see playbooks/ for examples', file });
    }
    return { playbook, diagnostics };
  }
  if (!checkShape(root, playbookSpec, { file, diagnostics }, 'the playbook')) return { playbook, diagnostics };
  const playNodes = root.type === 'seq' ? root.items : [root];
  playNodes.forEach((node, index) => {
    const play = readPlay(node, index, file, diagnostics);
    if (play) playbook.plays.push(play);
  });
  return { playbook, diagnostics };
}

function readPlay(node: YamlNode, index: number, file: string, diagnostics: Diagnostic[]): Play | undefined {
  if (node.type !== 'map') return undefined;
  const play: Play = { file, index, hosts: { source: 'all', terms: [] }, vars: {}, tasks: [], range: node.range };
  const nameNode = getValue(node, 'name');
  if (nameNode?.type === 'scalar' && nameNode.value !== null) play.name = nameNode.text;

  const hostsNode = getValue(node, 'hosts');
  play.hosts = hostsNode ? readHostPattern(hostsNode, file, diagnostics) : parseHostPattern('all').pattern;

  const varsNode = getValue(node, 'vars');
  if (varsNode?.type === 'map') {
    diagnostics.push(...checkVarsNode(varsNode, file));
    play.vars = toPlainValue(varsNode) as Record<string, PlainValue>;
    play.varOrigins = varOriginsOf(varsNode, file, 'play vars');
  }

  const tasksNode = getValue(node, 'tasks');
  if (tasksNode?.type === 'seq') {
    if (tasksNode.items.length === 0) {
      diagnostics.push({ severity: 'warning', code: 'empty-play', message: 'the play has no tasks', file, range: tasksNode.range });
    }
    tasksNode.items.forEach((taskNode, taskIndex) => {
      const task = readTask(taskNode, taskIndex, file, diagnostics);
      if (task) play.tasks.push(task);
    });
  }
  return play;
}

function readHostPattern(node: YamlNode, file: string, diagnostics: Diagnostic[]): HostPattern {
  const items = node.type === 'seq' ? node.items : [node];
  const pattern: HostPattern = { source: '', terms: [] };
  const sources: string[] = [];
  for (const item of items) {
    if (item.type !== 'scalar' || item.value === null) continue;
    const { pattern: one, errors } = parseHostPattern(item.text);
    for (const error of errors) {
      diagnostics.push({
        severity: 'error',
        code: 'bad-host-pattern',
        message: `hosts "${item.text}": ${error.message}`,
        file,
        range: rangeInScalar(item, error.from, error.to),
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
    sources.push(item.text);
    for (const term of one.terms) pattern.terms.push({ ...term, range: rangeInScalar(item, term.from, term.to) });
  }
  pattern.source = sources.join(',');
  return pattern;
}

function readTask(node: YamlNode, index: number, file: string, diagnostics: Diagnostic[]): Task | undefined {
  if (node.type !== 'map') return undefined;
  const kinds = node.pairs.filter((p) => isTaskKindName(p.key));
  if (kinds.length === 0) {
    // Unknown keys were reported by the shape check; only say "no kind" when nothing else explains it.
    const unknown = node.pairs.some((p) => !Object.hasOwn(taskSpec.properties, p.key));
    if (!unknown) {
      diagnostics.push({
        severity: 'error',
        code: 'missing-task-kind',
        message: 'the task has no kind',
        hint: `add one of: ${TASK_KIND_NAMES.join(', ')}`,
        file,
        range: node.range,
      });
    }
    return undefined;
  }
  if (kinds.length > 1) {
    diagnostics.push({
      severity: 'error',
      code: 'multiple-task-kinds',
      message: `one task has several kinds: ${kinds.map((k) => k.key).join(', ')}`,
      hint: 'split it into one task per kind',
      file,
      range: kinds[1]!.keyRange,
    });
    return undefined;
  }
  const kindPair = kinds[0]!;
  const kind = kindPair.key as TaskKindName;
  const task: Task = { file, index, kind, params: kindPair.value, when: [], range: node.range, kindRange: kindPair.keyRange };

  const nameNode = getValue(node, 'name');
  if (nameNode?.type === 'scalar' && nameNode.value !== null) {
    task.name = nameNode.text;
    task.nameNode = nameNode;
    checkTemplates(nameNode, file, diagnostics);
  }
  const whenNode = getValue(node, 'when');
  if (whenNode) task.when = readWhen(whenNode, file, diagnostics);

  checkTemplates(kindPair.value, file, diagnostics);
  // The parameters' shape was checked with the whole file; here come the kind's own checks.
  TASK_KINDS[kind].readParams(kindPair.value, { file, diagnostics, templatesPending: true });
  return task;
}

function readWhen(node: YamlNode, file: string, diagnostics: Diagnostic[]): WhenCondition[] {
  const conditions: WhenCondition[] = [];
  for (const item of node.type === 'seq' ? node.items : [node]) {
    if (item.type !== 'scalar') continue;
    if (typeof item.value === 'number' || item.value === null) {
      diagnostics.push({ severity: 'error', code: 'bad-when', message: `when must be a condition, found ${item.value === null ? 'nothing' : 'a number'}`, file, range: item.range });
      continue;
    }
    const source = item.text;
    const parsed = parseWhen(source);
    if ('error' in parsed) {
      diagnostics.push({
        severity: 'error',
        code: parsed.error.code,
        message: `when: ${parsed.error.message}`,
        file,
        range: rangeInScalar(item, parsed.error.from, parsed.error.to),
        ...(parsed.error.hint ? { hint: parsed.error.hint } : {}),
      });
      continue;
    }
    conditions.push({ source, expr: parsed.expr, node: item });
  }
  return conditions;
}

/** Reports `{{ }}` syntax errors in every string under `node`. */
function checkTemplates(node: YamlNode, file: string, diagnostics: Diagnostic[]): void {
  for (const scalar of templateStrings(node)) {
    for (const error of parseTemplate(scalar.value as string).errors) diagnostics.push(scalarTextError(error, file, scalar));
  }
}

/** Every string scalar under `node` that holds `{{`. */
export function templateStrings(node: YamlNode): Extract<YamlNode, { type: 'scalar' }>[] {
  if (node.type === 'scalar') return typeof node.value === 'string' && node.value.includes('{{') ? [node] : [];
  const children = node.type === 'seq' ? node.items : node.pairs.map((p) => p.value);
  return children.flatMap(templateStrings);
}
