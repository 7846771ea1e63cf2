/**
 * What a task planner is: a pure function from a host's facts, its files as the earlier tasks left
 * them, and the task's typed parameters to edits, checks and no-op reasons. No I/O, no clock.
 */
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';
import type { HostFacts } from '../services/host-facts.js';
import type { PlannedExpectation, ServiceContribution, ServiceId } from '../services/registry.js';
import type { YamlNode } from '../lang/yaml-tree.js';

/** sshd's names of the authentication methods sshfix's own login uses. */
export type LoginMethod = 'publickey' | 'password' | 'keyboard-interactive';

/** sshfix's own login to the host, as sshd judges it: lockout prediction checks the planned config against it. */
export interface RunnerLogin {
  /** The account the inventory connects as (before any become). */
  user: string;
  /** sshd's names of the methods the runner authenticates with. */
  methods: readonly LoginMethod[];
  /** The address the host sees the runner come from (SSH_CONNECTION), when known. */
  address?: string;
  /** The port it connects to. */
  port?: number;
  /** The account's groups on the host, when the facts have them. */
  groups?: readonly string[];
}

/** The host's files during planning: what was read, with earlier tasks' edits applied. */
export interface PlanFiles {
  /** Text of a file, or undefined when it does not exist. */
  read(path: string): string | undefined;
  /** All files and the directories whose listing is known, for config trees. */
  snapshot(): FileSnapshot;
}

/** Everything a planner may look at. */
export interface PlanInput<Params> {
  params: Params;
  /** The task's display name. */
  task: string;
  facts: HostFacts;
  files: PlanFiles;
  /** sshfix's own login, when the engine knows it (absent: no lockout prediction). */
  login?: RunnerLogin;
}

/** A planner's answer. When `refusal` is set nothing else counts: the host fails with it. */
export interface PlanOutcome {
  /**
   * New full contents per file (only files that change), and the service that loads it ('none': no
   * daemon). `owner`: who owns a file the edit creates (default root, 0644), e.g. a user's own
   * ~/.ssh/config; an existing file keeps its owner and mode.
   */
  edits: { path: string; after: string; service: ServiceId | 'none'; owner?: FileOwner }[];
  checks: { passed: boolean; message: string; subject?: string }[];
  /** Why nothing changed, when nothing did. */
  note?: string;
  warnings: string[];
  /** Values a service must show once the change is live; apply verifies them. */
  expectations: PlannedExpectation[];
  /** What the task adds to each service's plan (what to validate at commit, and what its actions act on). */
  contributions: ServiceContribution[];
  /**
   * Operations on a running service that change no file (e.g. lifting a ban), each described for
   * the report. The service runs them from its contribution: after its reload when files change,
   * on their own when none does.
   */
  actions: { service: ServiceId; description: string }[];
  refusal?: { code: string; message: string; hint?: string };
}

/** Owner and permission bits of a file a task creates. */
export interface FileOwner {
  uid: number;
  gid: number;
  mode: number;
}

export type TaskPlanner<Params> = (input: PlanInput<Params>) => PlanOutcome;

export function emptyOutcome(): PlanOutcome {
  return { edits: [], checks: [], warnings: [], expectations: [], contributions: [], actions: [] };
}

/** What a task kind needs read before it can plan. */
export interface TaskNeeds {
  /** The services whose facts it reads or whose files it changes. */
  services: readonly ServiceId[];
  /**
   * Further paths per service that the task's parameters name (e.g. an sshd task's `config:`),
   * read from the raw node before templating; a templated value is left out.
   */
  factPaths?(params: YamlNode): Partial<Record<ServiceId, string[]>>;
  /** Whether the task may write something that depends on the login's groups (read from the raw node before templating). */
  needsLoginGroups?(params: YamlNode): boolean;
}
