import { planAssertTask } from './assert/plan.js';
import { planFail2banTask } from './fail2ban/plan.js';
import type { TaskNeeds, TaskPlanner } from './planner.js';
import type { TaskKindName, TaskParamsByKind } from './registry.js';
import { planSshClientTask, sshClientTaskFactPaths } from './ssh-client/plan.js';
import { planSshdTask, sshdTaskFactPaths, sshdTaskNeedsLoginGroups } from './sshd/plan.js';
import { planSshguardTask } from './sshguard/plan.js';
import { planTcpWrappersTask } from './tcp-wrappers/plan.js';

/** The planner of every task kind; the compiler insists each kind of the registry has one. */
export const TASK_PLANNERS: { readonly [K in TaskKindName]: TaskPlanner<TaskParamsByKind[K]> } = {
  sshd: planSshdTask,
  assert: planAssertTask,
  fail2ban: planFail2banTask,
  ssh_client: planSshClientTask,
  tcp_wrappers: planTcpWrappersTask,
  sshguard: planSshguardTask,
};

/** What each task kind needs read: its services, and paths its parameters name. */
export const TASK_NEEDS: { readonly [K in TaskKindName]: TaskNeeds } = {
  sshd: { services: ['sshd'], factPaths: sshdTaskFactPaths, needsLoginGroups: sshdTaskNeedsLoginGroups },
  assert: { services: ['sshd'] },
  fail2ban: { services: ['fail2ban'] },
  ssh_client: { services: ['ssh_client'], factPaths: sshClientTaskFactPaths },
  tcp_wrappers: { services: ['tcp_wrappers'] },
  sshguard: { services: ['sshguard'] },
};
