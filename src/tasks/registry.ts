import type { Diagnostic } from '../util/diagnostics.js';
import type { ObjectSpec } from '../model/spec.js';
import type { YamlNode } from '../model/yaml-tree.js';
import { assertTaskKind, type AssertTaskParams } from './assert/schema.js';
import { sshdTaskKind, type SshdTaskParams } from './sshd/schema.js';

/**
 * The task kinds a playbook may use. Each kind is one folder, src/tasks/<kind>/:
 * - schema.ts: the parameter shape (a Spec: validator and JSON Schema from one definition), the
 *   typed parameters, and `readParams`, which turns a checked YAML node into them with the
 *   kind's own semantic checks;
 * - plan.ts: the pure planner (facts, params) -> changes, checks and no-op reasons.
 * Adding a kind: write its folder, then add one line to `TaskParamsByKind` and one to
 * `TASK_KINDS` below; the playbook loader, `renderTask`, the JSON Schema and the
 * unknown-kind diagnostic pick it up from here.
 */

/** What `readParams` needs besides the node. */
export interface TaskParamContext {
  file: string;
  /** Diagnostics are appended here. */
  diagnostics: Diagnostic[];
  /**
   * True while validating before connecting: strings holding `{{ }}` are not final, so checks of
   * their value wait for `renderTask`.
   */
  templatesPending: boolean;
  /** The target's OpenSSH version ("9.2p1"), once facts are known. */
  opensshVersion?: string;
}

/** One task kind: its parameter shape and the reader that types them. Planners live beside it (plan.ts). */
export interface TaskKind<Params> {
  /** The key that selects the kind in a task, e.g. `sshd`. */
  readonly name: string;
  /** One line for docs and the JSON Schema. */
  readonly summary: string;
  /** Read-only kinds only check (compliance runs); they never change a file. */
  readonly readOnly: boolean;
  /** The parameters' shape; scalar positions may hold `{{ }}` substitutions. */
  readonly params: ObjectSpec;
  /**
   * Typed parameters from a node that already passed `checkShape(node, params)`; appends
   * semantic problems to `ctx.diagnostics` and returns undefined when there are any errors.
   * Pure and total: never throws on user input.
   */
  readParams(node: YamlNode, ctx: TaskParamContext): Params | undefined;
}

/** Each kind's typed parameters, by kind name. */
export interface TaskParamsByKind {
  sshd: SshdTaskParams;
  assert: AssertTaskParams;
}

/** The key that selects a kind in a task. */
export type TaskKindName = keyof TaskParamsByKind;

export const TASK_KINDS: { readonly [K in TaskKindName]: TaskKind<TaskParamsByKind[K]> } = {
  sshd: sshdTaskKind,
  assert: assertTaskKind,
};

export const TASK_KIND_NAMES = Object.keys(TASK_KINDS) as TaskKindName[];

/**
 * Kinds DESIGN.md promises that are not built yet: naming one gets "not available yet" rather
 * than "unknown". Remove a name when its folder lands.
 */
export const PLANNED_TASK_KINDS: readonly string[] = ['fail2ban', 'sshguard', 'tcp_wrappers', 'ssh_client'];

export function isTaskKindName(name: string): name is TaskKindName {
  return Object.hasOwn(TASK_KINDS, name);
}

export function lookupTaskKind(name: string): TaskKind<unknown> | undefined {
  return isTaskKindName(name) ? (TASK_KINDS[name] as TaskKind<unknown>) : undefined;
}
