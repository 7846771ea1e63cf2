import { assertTaskKind, type AssertTaskParams } from './assert/schema.js';
import { fail2banTaskKind, type Fail2banTaskParams } from './fail2ban/schema.js';
import { sshdTaskKind, type SshdTaskParams } from './sshd/schema.js';
import { sshClientTaskKind, type SshClientTaskParams } from './ssh-client/schema.js';
import { sshguardTaskKind, type SshguardTaskParams } from './sshguard/schema.js';
import { tcpWrappersTaskKind, type TcpWrappersTaskParams } from './tcp-wrappers/schema.js';
import type { TaskKind } from './task-kind.js';

/**
 * The task kinds a playbook may use. Each kind is one folder, src/tasks/<kind>/:
 * - schema.ts: the parameter shape (a Spec: validator and JSON Schema from one definition), the
 *   typed parameters, and `readParams`, which turns a checked YAML node into them with the
 *   kind's own semantic checks;
 * - plan.ts: the pure planner (facts, params) -> changes, checks and no-op reasons.
 * Adding a kind: write its folder, then add one line to `TaskParamsByKind` and one to
 * `TASK_KINDS` below, and one each to `TASK_PLANNERS` and `TASK_NEEDS` (planners.ts); the
 * playbook loader, `renderTask`, the JSON Schema, the unknown-kind diagnostic, fact gathering and
 * planning pick it up from there (README, "Adding a task kind").
 */

/** Each kind's typed parameters, by kind name. */
export interface TaskParamsByKind {
  sshd: SshdTaskParams;
  assert: AssertTaskParams;
  fail2ban: Fail2banTaskParams;
  ssh_client: SshClientTaskParams;
  tcp_wrappers: TcpWrappersTaskParams;
  sshguard: SshguardTaskParams;
}

/** The key that selects a kind in a task. */
export type TaskKindName = keyof TaskParamsByKind;

export const TASK_KINDS: { readonly [K in TaskKindName]: TaskKind<TaskParamsByKind[K]> } = {
  sshd: sshdTaskKind,
  assert: assertTaskKind,
  fail2ban: fail2banTaskKind,
  ssh_client: sshClientTaskKind,
  tcp_wrappers: tcpWrappersTaskKind,
  sshguard: sshguardTaskKind,
};

export const TASK_KIND_NAMES = Object.keys(TASK_KINDS) as TaskKindName[];

/**
 * Kinds DESIGN.md promises that are not built yet: naming one gets "not available yet" rather
 * than "unknown". Remove a name when its folder lands.
 */
export const PLANNED_TASK_KINDS: readonly string[] = [];

export function isTaskKindName(name: string): name is TaskKindName {
  return Object.hasOwn(TASK_KINDS, name);
}

export function lookupTaskKind(name: string): TaskKind<unknown> | undefined {
  return isTaskKindName(name) ? (TASK_KINDS[name] as TaskKind<unknown>) : undefined;
}
