import { planAssertTask } from './assert/plan.js';
import type { TaskPlanner } from './planner.js';
import type { TaskKindName, TaskParamsByKind } from './registry.js';
import { planSshdTask } from './sshd/plan.js';

/** The planner of every task kind; the compiler insists each kind of the registry has one. */
export const TASK_PLANNERS: { readonly [K in TaskKindName]: TaskPlanner<TaskParamsByKind[K]> } = {
  sshd: planSshdTask,
  assert: planAssertTask,
};
