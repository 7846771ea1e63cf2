import type { ServiceExpectation, ServicePlans } from '../services/registry.js';

/**
 * The plan and its results as data. `plan` fills these in, `apply` adds what it did, and every
 * report format (human, JSON, JUnit, GitHub) renders the same values.
 */

/** The commands whose report is a list of hosts and their changes. */
export type ChangeCommand = 'plan' | 'apply' | 'rollback';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

/**
 * A planned change to one file by one task: the file's text before and after this task. Data only:
 * report/ renders the diff.
 */
export interface FileChange {
  task: string;
  path: string;
  /** `update`: the file exists and changes; `create`: it does not exist yet. */
  action: 'update' | 'create';
  /** sha256 (hex) of the contents this task started from; absent for `create`. */
  beforeSha256?: string;
  /** The text before this task; absent for `create`, and once `diff` holds the change. */
  before?: string;
  /** The text after this task; absent once `diff` holds the change. */
  after?: string;
  /** The unified diff, kept instead of the two texts once the host's plan is reduced to what a report shows. */
  diff?: string;
}

/** A read-only check's outcome (assert tasks, and facts a task found wrong but cannot fix). */
export interface CheckResult {
  task: string;
  passed: boolean;
  message: string;
  /** What was checked within the task (e.g. a keyword), to tell a task's checks apart. */
  subject?: string;
}

/** An operation on a running service that writes no file (lifting a ban), run by apply. */
export interface PlannedAction {
  task: string;
  /** The service (by id) that runs it. */
  service: string;
  description: string;
}

/** Why a task changed nothing, e.g. "MaxStartups already 100:30:500 in /etc/ssh/sshd_config:3". */
export interface TaskNote {
  task: string;
  message: string;
}

/** A file as it will be written: the result of all tasks of a host, in order. */
export interface PlannedFile {
  /** The path the service reads. */
  path: string;
  /** Where the bytes go: the resolved target when `path` is a symbolic link (always under /etc). */
  writePath: string;
  /** Contents read from the host; undefined when the file does not exist. */
  before?: Buffer;
  after: Buffer;
  /** Mode/owner to give the file; for an existing file its current ones. */
  mode: number;
  uid: number;
  gid: number;
  /** Which service (by id) validates and reloads after this file changes; 'none' for a file no daemon loads. */
  service: string;
  /** Remove the file instead of writing `after` (rolling back a transaction that created it). */
  remove?: boolean;
}

export interface HostError {
  /** Stable code (transport codes such as `refused`, or `facts-failed`, `config-invalid`, ...). */
  code: string;
  message: string;
  /** The likely cause and the fix, in an operator's words. */
  diagnosis?: string;
}

/** The result of the services' checks of the changed files, in a temporary copy on the host. */
export interface ValidationResult {
  ok: boolean;
  /** The service's message, with paths mapped back to the real ones. */
  message?: string;
}

export interface HostPlan {
  name: string;
  address: string;
  status: HostStatus;
  error?: HostError;
  changes: FileChange[];
  /** Operations apply runs on a service without changing a file (after its reload when files change). */
  actions: PlannedAction[];
  checks: CheckResult[];
  notes: TaskNote[];
  /** Things worth knowing that are not errors (widened access, legacy algorithms, ...). */
  warnings: string[];
  /** Every file the plan read, with its sha256, or null when it did not exist. */
  filesRead: Record<string, string | null>;
  /** Final contents per file, for apply and saved plans (not in the JSON report). */
  files: PlannedFile[];
  /** Values each touched service must show once the change is live. */
  expectations: ServiceExpectation[];
  /** Each touched service's part of the plan (what its commit validates). */
  services: ServicePlans;
  validation?: ValidationResult;
  facts?: HostFactSummary;
}

/** The few facts a report shows about a host. */
export interface HostFactSummary {
  openssh?: string;
  os?: string;
  runnerAddress?: string;
  reload?: string;
  /** The build whose facts (defaults, algorithm lists) the plan used, by service. */
  builds?: Record<string, string>;
}

export interface PlanSummary {
  hosts: number;
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  /** Number of file changes over all hosts. */
  changes: number;
  /** Number of actions (operations that change no file) over all hosts. */
  actions: number;
  checksFailed: number;
}

export function summarise(hosts: readonly HostPlan[]): PlanSummary {
  const count = (status: HostStatus): number => hosts.filter((h) => h.status === status).length;
  return {
    hosts: hosts.length,
    ok: count('ok'),
    changed: count('changed'),
    failed: count('failed'),
    unreachable: count('unreachable'),
    skipped: count('skipped'),
    changes: hosts.reduce((n, h) => n + h.changes.length, 0),
    actions: hosts.reduce((n, h) => n + h.actions.length, 0),
    checksFailed: hosts.reduce((n, h) => n + h.checks.filter((c) => !c.passed).length, 0),
  };
}

export function emptyHostPlan(name: string, address: string, status: HostStatus): HostPlan {
  return { name, address, status, changes: [], actions: [], checks: [], notes: [], warnings: [], filesRead: {}, files: [], expectations: [], services: {} };
}

/** "2 change(s)", "1 action(s)" or "2 change(s) and 1 action(s)": what a changed host has to do. */
export function describeWork(changes: number, actions: number): string {
  return [...(changes > 0 || actions === 0 ? [`${changes} change(s)`] : []), ...(actions > 0 ? [`${actions} action(s)`] : [])].join(' and ');
}
