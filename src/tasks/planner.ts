/**
 * What a task planner is: a pure function from a host's facts, its files as the earlier tasks left
 * them, and the task's typed parameters to edits, checks and no-op reasons. No I/O, no clock.
 */
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';
import type { SshdDefaults } from '../config/sshd/defaults.js';
import type { HostFacts } from '../engine/facts.js';

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
  /** The host's sshd defaults (its build's `sshd -T` of an empty config and `ssh -Q` lists). */
  sshdDefaults: SshdDefaults;
}

/** A value sshd must show after the change, checked by apply with `sshd -T [-C ...]`. */
export interface PlannedExpectation {
  keyword: string;
  values: string[];
  connection?: string;
  /** Main config to read with `sshd -T -f`, when not the default. */
  config?: string;
}

/** A planner's answer. When `refusal` is set nothing else counts: the host fails with it. */
export interface PlanOutcome {
  /** New full contents per file (only files that change). */
  edits: { path: string; after: string }[];
  checks: { passed: boolean; message: string; subject?: string }[];
  /** Why nothing changed, when nothing did. */
  note?: string;
  warnings: string[];
  expectations: PlannedExpectation[];
  /** `sshd -T -C` specs whose Match blocks the change touches: apply validates each. */
  matchSpecs: string[];
  refusal?: { code: string; message: string; hint?: string };
}

export type TaskPlanner<Params> = (input: PlanInput<Params>) => PlanOutcome;

export function emptyOutcome(): PlanOutcome {
  return { edits: [], checks: [], warnings: [], expectations: [], matchSpecs: [] };
}
