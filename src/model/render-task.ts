import { hasErrors, type Diagnostic } from '../util/diagnostics.js';
import { TASK_KINDS, type TaskKindName, type TaskParamsByKind } from '../tasks/registry.js';
import { displayTaskName, type Task, type WhenCondition } from './playbook.js';
import { checkShape } from '../lang/spec.js';
import { controlCharacterHint, describeControlCharacter } from '../lang/control-characters.js';
import { findReferencedControlCharacter, renderTemplate, scalarTextError } from './template.js';
import { formatVariableOrigin, type VariableScope } from './variables.js';
import { evaluateWhen } from './when.js';
import { fromPlainValue, rangeInScalar, type YamlNode } from '../lang/yaml-tree.js';
import { deepFreeze } from '../util/deep-freeze.js';

/** A task with its variables substituted for one host and its parameters typed. */
export type RenderedTask = {
  [K in TaskKindName]: {
    kind: K;
    /** The rendered name, or the kind and position when the task has none. */
    name: string;
    params: TaskParamsByKind[K];
    task: Task;
  };
}[TaskKindName];

/** A rendered task, or the diagnostics that prevented it. */
export interface RenderTaskResult {
  /** Undefined when there are errors. */
  rendered?: RenderedTask;
  diagnostics: Diagnostic[];
}

/**
 * Substitutes `{{ }}` in a task's name and parameters from `scope`, then checks and types the
 * parameters (sshd keywords against the host's OpenSSH version when `openssh.version` is in the
 * scope). Pure. Diagnostics point at the place in the playbook the value came from.
 */
export function renderTask(task: Task, scope: VariableScope): RenderTaskResult {
  if (hasTemplates(task)) return renderTaskFor(task, scope);
  // Without `{{ }}` the result depends on the task and the host's OpenSSH version alone: a fleet's
  // hosts share it (it is read, never changed).
  const version = scope.facts['openssh.version'];
  let byVersion = untemplated.get(task);
  if (!byVersion) untemplated.set(task, (byVersion = new Map()));
  const known = byVersion.get(version);
  if (known) return known;
  const result = renderTaskFor(task, scope);
  if (result.rendered) deepFreeze(result.rendered.params);
  byVersion.set(version, result);
  return result;
}

/** Rendered tasks without templates, by task and OpenSSH version. */
const untemplated = new WeakMap<Task, Map<unknown, RenderTaskResult>>();
const templated = new WeakMap<Task, boolean>();

/** Whether the task's name or any parameter holds `{{`. */
function hasTemplates(task: Task): boolean {
  let found = templated.get(task);
  if (found === undefined) {
    const walk = (node: YamlNode): boolean =>
      node.type === 'scalar'
        ? typeof node.value === 'string' && node.value.includes('{{')
        : node.type === 'seq'
          ? node.items.some(walk)
          : node.pairs.some((p) => walk(p.value));
    found = (task.name?.includes('{{') ?? false) || walk(task.params);
    templated.set(task, found);
  }
  return found;
}

function renderTaskFor(task: Task, scope: VariableScope): RenderTaskResult {
  const diagnostics: Diagnostic[] = [];
  const substituted = substitute(task.params, scope, task.file, diagnostics);
  const name = renderTaskName(task, scope, diagnostics);
  const kind = TASK_KINDS[task.kind];
  if (hasErrors(diagnostics)) return { diagnostics };
  checkShape(substituted.node, { ...kind.params, templates: substituted.pending }, { file: task.file, diagnostics }, task.kind);
  if (hasErrors(diagnostics)) return { diagnostics };
  const version = scope.facts['openssh.version'];
  const params = kind.readParams(substituted.node, {
    file: task.file,
    diagnostics,
    templatesPending: substituted.pending,
    ...(version !== undefined ? { opensshVersion: version } : {}),
  });
  if (params === undefined || hasErrors(diagnostics)) return { diagnostics };
  return { rendered: { kind: task.kind, name, params, task } as RenderedTask, diagnostics };
}

/**
 * A task's name with its `{{ }}` substituted, as reports show it (also for a task that is skipped
 * or fails before its parameters render); the kind and position when it has none. A name that
 * cannot render adds its errors to `diagnostics` and stays as written.
 */
export function renderTaskName(task: Task, scope: VariableScope, diagnostics: Diagnostic[] = []): string {
  if (task.name === undefined) return displayTaskName(task);
  const result = renderTemplate(task.name, scope);
  if (result.status === 'ok') return String(result.value);
  if (result.status === 'error') {
    const { nameNode } = task;
    for (const error of result.errors) {
      diagnostics.push(
        nameNode
          ? scalarTextError(error, task.file, nameNode)
          : { severity: 'error', code: error.code, message: error.message, file: task.file, range: task.kindRange, ...(error.hint ? { hint: error.hint } : {}) },
      );
    }
  }
  return task.name;
}

/** Substitutes every string scalar under `node`; a value that is pending (fact unknown yet) stays as written. */
function substitute(node: YamlNode, scope: VariableScope, file: string, diagnostics: Diagnostic[]): { node: YamlNode; pending: boolean } {
  let pending = false;
  const walk = (current: YamlNode): YamlNode => {
    switch (current.type) {
      case 'scalar': {
        if (typeof current.value !== 'string' || !current.value.includes('{{')) return current;
        const result = renderTemplate(current.value, scope);
        if (result.status === 'pending') {
          pending = true;
          return current;
        }
        if (result.status === 'error') {
          for (const error of result.errors) diagnostics.push(scalarTextError(error, file, current));
          return current;
        }
        const injected = findReferencedControlCharacter(current.value, scope);
        if (injected) {
          const head = injected.name.split('.')[0]!;
          const origin = injected.fact
            ? `the host reported fact ${injected.name}`
            : scope.origins && Object.hasOwn(scope.origins, head)
              ? `${head} is set by ${formatVariableOrigin(scope.origins[head]!)}`
              : undefined;
          diagnostics.push({
            severity: 'error',
            code: 'control-character',
            message: `{{ ${injected.name} }} brings ${describeControlCharacter(injected.char)} at offset ${injected.offset} of ${injected.holder}${origin ? ` (${origin})` : ''}`,
            hint: controlCharacterHint(injected.char),
            file,
            range: rangeInScalar(current, injected.from, injected.to),
          });
          return current;
        }
        return fromPlainValue(result.value, current.range);
      }
      case 'seq':
        return { ...current, items: current.items.map(walk) };
      case 'map':
        return { ...current, pairs: current.pairs.map((p) => ({ ...p, value: walk(p.value) })) };
    }
  };
  const out = walk(node);
  return { node: out, pending };
}

/** Whether a task runs on a host, as decided by its `when:` conditions. */
export type TaskConditionResult =
  | { status: 'run' }
  | { status: 'skip'; reason: string }
  /** Validation time: the answer depends on facts not gathered yet. */
  | { status: 'pending' }
  | { status: 'error'; diagnostics: Diagnostic[] };

/**
 * Evaluates a task's `when:` conditions for one host: all must hold. A skip carries the condition
 * that did not hold, as the no-op reason.
 */
export function evaluateTaskCondition(task: Task, scope: VariableScope): TaskConditionResult {
  const diagnostics: Diagnostic[] = [];
  let pending = false;
  let skip: WhenCondition | undefined;
  for (const condition of task.when) {
    const result = evaluateWhen(condition.expr, scope);
    if (result.status === 'error') {
      for (const error of result.errors) diagnostics.push(scalarTextError(error, task.file, condition.node, 'when: '));
    } else if (result.status === 'pending') pending = true;
    else if (!result.value) {
      // Later conditions may rely on this one (`[defined(x), x == 1]`), so stop here.
      skip = condition;
      break;
    }
  }
  if (diagnostics.length) return { status: 'error', diagnostics };
  if (skip) return { status: 'skip', reason: `condition not met: ${skip.source}` };
  return pending ? { status: 'pending' } : { status: 'run' };
}
