/**
 * The contract every managed service fulfils (DESIGN.md, Architecture: services/). A service says
 * which facts it needs (lines for the one fact script, and the reader of what they printed), what
 * stops any change on a host (a live config that already fails), how to validate a candidate
 * before anything is written, the shell fragments the transaction runs to validate, reload, check
 * and restart it, and how to verify the result over the fresh login. The engine loops over the
 * services a plan touches and names none of them. Pure, except `verify`, which only runs commands
 * through the connection it is handed.
 */
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';

/** One command's result as the fact script recorded it. */
export interface RecordedCommand {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RecordedFile {
  content: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  uid: number;
  gid: number;
}

/** The fact script's output, decoded. */
export interface RawFacts {
  commands: Map<string, RecordedCommand>;
  files: Map<string, RecordedFile>;
  /** Paths that do not exist. */
  missing: Set<string>;
  /** Paths that exist but could not be read as regular files (permissions, special files). */
  unreadable: Set<string>;
  /** Directory listings (entry names). */
  dirs: Map<string, string[]>;
  /** Include patterns seen while walking config trees, in order. */
  includes: string[];
  /** Symbolic links among the files read, and what each resolves to. */
  symlinks: Map<string, string>;
}

export type InitSystem = 'systemd' | 'openrc' | 'none';

/** What the engine itself reads of every host, whatever its tasks (several services need these). */
export interface BaseFacts {
  name: string;
  address: string;
  /** The address the host sees the runner connect from (SSH_CONNECTION), when known. */
  runnerAddress?: string;
  /** The login account's groups on the host (`id -Gn`), when the fact script could read them. */
  loginGroups?: string[];
  /** Effective uid of the fact script (0 when root or through sudo). */
  uid: number;
  hostname: string;
  os: { id?: string; versionId?: string; prettyName?: string };
  /** OpenSSH version like "9.2p1" (from the server banner when given, else the service's own report). */
  opensshVersion?: string;
  init: InitSystem;
  files: ReadonlyMap<string, RecordedFile>;
  missing: ReadonlySet<string>;
  unreadable: ReadonlySet<string>;
  dirs: ReadonlyMap<string, readonly string[]>;
  /** Symbolic links among the files read, and the file each resolves to. */
  symlinks: ReadonlyMap<string, string>;
}

/** Why a host must not be changed, in the plan's error terms. */
export interface ServiceRefusal {
  code: string;
  message: string;
  diagnosis?: string;
}

/** A script that checks a candidate on the host without installing it: exit 0, or the reason on stdout. */
export interface CandidateCheck {
  script: string;
  /**
   * The script's verdict depends only on the script, the build and what the service's shared key
   * holds (nothing else on the host): a run may reuse it for hosts with the same key.
   */
  hostIndependent?: boolean;
  /**
   * With `hostIndependent`: fact records (by name) whose output the verdict also depends on, e.g.
   * a user's groups that `sshd -T -C` looks up. Hosts share the verdict only when those records
   * are the same; a host without one of them runs its own.
   */
  dependsOn?: readonly string[];
}

/**
 * Fact lines whose records depend only on what a key holds (the build, files, a host probe), so a
 * plan asks the first host of each key and reuses its records for the others.
 */
export interface SharedFacts {
  /** Lines run with the fact lines when a run shares: they record what the key needs besides the files. */
  keyLines: readonly string[];
  /** The shared lines (they may use what the fact lines set), run on a host whose key has no records yet. */
  lines: readonly string[];
  /** The key of this host's records, from the rest of its facts; undefined when they are host-dependent. */
  key(raw: RawFacts): string | undefined;
}

/**
 * The transaction's shell fragments for one service. The engine wraps them in functions named
 * after the service id (validate_<id>, reload_<id>, alive_<id>, start_<id>), so several services
 * live side by side in one script. `$B` is the transaction's backup directory.
 */
export interface ServiceScripts {
  /** Shell identifier: [a-z][a-z0-9_]*. */
  id: string;
  /** The name messages use ("sshd stopped after the reload ..."). */
  label: string;
  /** Helper functions and variables the fragments use; names prefixed with the id. */
  helpers: string[];
  /** Body of validate_<id> in the commit: print the reason and return non-zero when invalid. */
  validate: string[];
  /** Body of validate_<id> in the restore script (the restored files). */
  validateRestored: string[];
  /** One command that reloads (never restarts, when the service can reload). */
  reload: string;
  /** One command that succeeds while the service runs. */
  alive: string;
  /** One command that starts it again (after a failed reload). */
  start: string;
  /** Lines run just before the reload (e.g. record how to start the daemon again). */
  beforeReload: string[];
  /** How the reload was done, for the report. */
  reloadDescription: string;
  /**
   * Body of check_<id>, run once the service survived its reload: print what the reload lost and
   * return non-zero, and the files are restored and the service reloaded again (a server that
   * keeps running but dropped part of its config). Absent: running is enough.
   */
  check?: string[];
  /**
   * The plan's actions (e.g. lifting a ban): run once every service reloaded and passed its check,
   * or, when the change writes no file, on their own against the running service. They print their
   * own STEP lines (`step NAME ok|fail MESSAGE`); verification then proves their effect.
   */
  afterReload?: string[];
}

/** What `verify` can run commands through (a fresh login). */
export interface CommandRunner {
  exec(command: string, options: { timeoutMs: number }): Promise<{ exitCode: number | null; stdout: Buffer; stderr?: Buffer }>;
}

/** One verified value, as the report shows it. */
export interface VerifiedValue {
  service: string;
  keyword: string;
  connection?: string;
  expected: string[];
  actual: string[];
  ok: boolean;
}

/** A planned file as the services see it. */
export interface ChangedFile {
  path: string;
  service: string;
}

/** Diagnoses of the commit's failures, in the service's own words. */
export interface CommitDiagnoses {
  /** Its validation rejected the new files (they were restored, nothing was loaded). */
  rejected: string;
  /** The reload command failed. */
  reloadFailed: string;
  /** It stopped after the reload (restored and started again). */
  stopped: string;
  /** Its `check` failed after the reload (restored and reloaded again): the error code and diagnosis. */
  lost?: { code: string; diagnosis: string };
}

/**
 * Facts that depend only on the installed build of a service's programs (defaults, algorithm
 * lists, version), read once per build per run rather than once per host. The engine keeps a
 * per-run cache keyed by service id and build id; a host whose build is in it skips these reads.
 */
export interface BuildFacts<Build> {
  /**
   * Shell lines, run after the service's fact lines, that set the shell variable `v` to one line
   * identifying the build cheaply (no program of the build runs): e.g. path, size and mtime of its
   * binaries.
   */
  idLines: readonly string[];
  /** Lines for the fact script that read the build's facts (run only when the build is not cached). */
  factLines: readonly string[];
  /** The build's facts from the fact script's output; undefined when the script did not read them. */
  read(raw: RawFacts): Build | undefined;
}

/**
 * A service. `Facts` is what its reader makes of the fact script's output; `Plan` the per-service
 * data a plan carries to apply (JSON-safe: saved plans hold it); `Expectation` one value the
 * verification must find after the change; `Contribution` what one task adds to the plan.
 */
export interface Service<Facts, Plan, Expectation, Contribution, Build = unknown> {
  /** Shell identifier and key everywhere ([a-z][a-z0-9_]*). */
  readonly id: string;
  /** Paths read whatever the tasks ask (e.g. the main config). */
  readonly defaultPaths: readonly string[];
  /** Lines for the fact script, using its functions `run NAME CMD...`, `rf PATH`, `walk PATH`; `paths` come from the tasks. */
  factLines(paths: readonly string[]): string[];
  /** Facts that depend only on the build, when the service has any (read once per build per run). */
  readonly build?: BuildFacts<Build>;
  /** Fact lines a run may share between hosts with the same key (without a run cache they run with the fact lines). */
  readonly shared?: SharedFacts;
  /** `build` is the build's facts, from this host's output or the run's cache (absent when neither has them). */
  readFacts(raw: RawFacts, base: BaseFacts, build?: Build): Facts;
  /** The OpenSSH version the service reports, for hosts whose banner did not say. */
  opensshVersion?(facts: Facts): string | undefined;
  /** Directories a config tree includes that the first round trip did not list. */
  unlistedDirs(snapshot: FileSnapshot, paths: readonly string[]): string[];
  /** Why nothing may change on this host (e.g. the live config already fails its own test). */
  precheck(facts: Facts): ServiceRefusal | undefined;
  /** Why a planned change to its files cannot be applied here (e.g. no way to reload). */
  applyCheck(facts: Facts): ServiceRefusal | undefined;
  /** One line on how the service is reloaded here, for the report's facts. */
  describe(facts: Facts): string;
  /** The per-service plan, from the tasks' contributions and the planned files. */
  finishPlan(input: { contributions: readonly Contribution[]; snapshot: FileSnapshot; facts: Facts; base: BaseFacts }): Plan;
  /** Expectations with the same key are one: the later task's wins. */
  expectationKey(expectation: Expectation): string;
  /**
   * Candidate checks to run on the host before anything is written (plan time); `requested` are
   * the paths the facts read for it. Each script runs in a subshell of the host's fact shell: its
   * functions and variables (what the service's fact lines set) are there, and `$sshfix_scratch`
   * names a fresh path in the session's private scratch directory, removed with the session.
   */
  candidateChecks(input: { plan: Plan; snapshot: FileSnapshot; changed: readonly ChangedFile[]; requested: readonly string[] }): CandidateCheck[];
  /** The error when a candidate check fails. */
  candidateRejected(message: string): ServiceRefusal;
  /** Progress text while candidate checks run. */
  readonly validatingStage: string;
  /** The transaction's fragments. */
  scripts(facts: Facts, plan: Plan): ServiceScripts;
  readonly commitDiagnoses: CommitDiagnoses;
  /**
   * After the fresh login: does the service show what the plan expects, and nothing it did not
   * plan? `facts` are the service's facts read before the change; `unplanned` names what moved
   * without being asked for (the transaction then fails verification and rolls back).
   */
  verify(connection: CommandRunner, plan: Plan, expectations: readonly Expectation[], facts: Facts): Promise<{ values: VerifiedValue[]; unplanned?: string }>;
  /**
   * The values the service shows now (`facts`, read before the change) for what `expectations`
   * change: what a later rollback must bring back. Those it cannot tell from the facts are left
   * out (a rollback still proves a fresh login and that nothing else moved).
   */
  restoreExpectations?(facts: Facts, expectations: readonly Expectation[]): Expectation[];
  /**
   * The plan a rollback of a change with `plan` validates and checks with: what still holds once
   * the previous files are back (e.g. no entries the change added must be listed). Absent: `plan`.
   */
  rollbackPlan?(plan: Plan): Plan;
  /** What verification reads, for messages ("sshd -T"). */
  readonly checkName: string;
  /**
   * True when the service decides nothing about who may log in over SSH, so a change to it is
   * proven on the machine running sshfix by a fresh local process (`connection: local`). Absent:
   * a change needs a fresh SSH login as proof, and is refused on a local host.
   */
  readonly provableLocally?: true;
  /** Whether a saved plan's data for this service is well formed (nothing unchecked reaches a script). */
  isSavedPlan(data: unknown): data is Plan;
  isSavedExpectation(data: unknown): data is Expectation;
}
