/**
 * Reading a host's facts and checking its candidates over ONE shell per host: `sh -s` reads its
 * script from the channel's stdin, so the runner sends it in parts (the fact script, the
 * directories it missed, the shared lines a run has no records for yet, each candidate check)
 * and reads each part's records before deciding on the next. Each session channel costs sshd
 * work on the host (about 12 ms of CPU on a lab host), so a plan opens one instead of two.
 *
 * With run caches (plan), a service's shared lines (`sshd -T` of the live config) run only on
 * the first host of each key and a candidate check's verdict is reused for hosts with the same
 * key and the same check; apply reads and checks every host itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Connection, ExecStream } from '../transport/types.js';
import { rawSnapshot } from '../services/raw-snapshot.js';
import { lookupService } from '../services/registry.js';
import type { CandidateCheck, RawFacts, RecordedCommand } from '../services/service.js';
import { SharedResults, type BuildCache } from './build-cache.js';
import { dirLines, FACT_SCRIPT_PRELUDE, factScriptBody, FactOutputError, loginGroupsLines, parseFactRecords, type FactRequest } from './facts-script.js';
import { quoteShellArg } from '../util/shell-quote.js';
import { interpretFacts, type HostFacts } from './facts.js';
import { PlanningMemo } from './planning-memo.js';

/** A host whose facts could not be read: the plan reports it as failed with this code. */
export class FactError extends Error {
  override name = 'FactError';
  constructor(
    readonly code: 'facts-failed' | 'facts-unreadable',
    message: string,
    readonly diagnosis?: string,
  ) {
    super(message);
  }
}

/** What a run shares between its hosts besides build facts (plan only). */
export interface RunCaches {
  /** Records of services' shared lines, by service id and key. */
  shared: SharedResults<ReadonlyMap<string, RecordedCommand>>;
  /** Candidate check verdicts, by service id, the host's shared key and the check's script. */
  checks: SharedResults<CheckVerdict>;
  /** Task outcomes, for hosts whose planning inputs are the same. */
  planning: PlanningMemo;
}

export function createRunCaches(): RunCaches {
  return { shared: new SharedResults(), checks: new SharedResults(), planning: new PlanningMemo() };
}

export interface GatherOptions {
  name: string;
  address: string;
  /** The run's build facts: a host of a build already read skips those reads. */
  builds?: BuildCache;
  /** The run's shared records and verdicts (plan); absent: this host runs everything itself. */
  caches?: RunCaches;
}

/** A candidate check's outcome: exit 0, or the reason (stdout, else stderr). */
export interface CheckVerdict {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const FACTS_TIMEOUT_MS = 120_000;
const PART_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 30_000;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Each candidate check gets `$sshfix_scratch`: a fresh path (not created) in the session's
 * private scratch directory `$t` (made here if no line needed it before), which goes with the
 * session, so a check needs no directory of its own to make and remove.
 */
const CHECK_SCRATCH = ['td', 'sshfix_checks=$((${sshfix_checks:-0} + 1))', 'sshfix_scratch="$t/check$sshfix_checks"'];

/** One host's shell, fed its scripts in parts. */
export class HostSession {
  /** Each service's shared key on this host, once the facts are read (absent: host-dependent). */
  private readonly sharedKeys = new Map<string, string>();
  /** The host's command records, for the checks whose verdict depends on some of them. */
  private records: ReadonlyMap<string, RecordedCommand> = new Map();
  private readonly delimiter: string;
  private ended = false;

  private constructor(
    private readonly stream: ExecStream,
    private readonly connection: Connection,
    private readonly options: GatherOptions,
    nonce: string,
  ) {
    this.delimiter = `@@sshfix-part-${nonce}@@`;
  }

  /** Starts the host's shell (through sudo when the target says so; SSH_CONNECTION kept across it). */
  static async open(connection: Connection, options: GatherOptions): Promise<HostSession> {
    const stream = await connection.stream('exec sh -s', { forwardEnv: ['SSH_CONNECTION'] });
    const session = new HostSession(stream, connection, options, randomBytes(6).toString('hex'));
    // The fact script's functions and scratch directory serve every part.
    session.stream.write(FACT_SCRIPT_PRELUDE.join('\n') + '\n');
    return session;
  }

  /** Reads the facts `request` asks for; hosts showing the same banner read their build's facts one at a time. */
  async facts(request: FactRequest): Promise<HostFacts> {
    const { builds } = this.options;
    // Hosts showing the same banner most likely run the same build: one reads its facts while the others wait.
    const done = builds ? await builds.turn(this.connection.info.serverBanner ?? '') : undefined;
    let facts: HostFacts | undefined;
    try {
      facts = await this.readFacts(request);
      return facts;
    } finally {
      done?.(facts !== undefined);
    }
  }

  private async readFacts(request: FactRequest): Promise<HostFacts> {
    const { builds, caches } = this.options;
    const services = Object.keys(request.services);
    const known = builds ? Object.fromEntries(services.map((id) => [id, builds.known(id)])) : {};
    const body = factScriptBody(request, known, caches ? 'deferred' : 'inline').filter((line) => line !== 'exit 0');
    const { raw, reread } = parseRecords(await this.part(body, FACTS_TIMEOUT_MS));
    // A file sent as text that changed while it was read: read it again, through base64.
    if (reread.length > 0) await this.readMore(raw, reread.map((path) => `rf ${quoteShellArg(path)}`));
    // Include trees that point into directories the script did not list: read those too.
    const snapshot = rawSnapshot(raw);
    const missingDirs = new Set<string>();
    for (const [id, paths] of Object.entries(request.services)) {
      for (const dir of lookupService(id)?.unlistedDirs(snapshot, paths) ?? []) missingDirs.add(dir);
    }
    if (missingDirs.size > 0) await this.readMore(raw, dirLines([...missingDirs]));
    if (caches) {
      for (const id of services) {
        const shared = lookupService(id)?.shared;
        if (!shared) continue;
        const key = shared.key(raw);
        const run = async (): Promise<ReadonlyMap<string, RecordedCommand>> => parseRecords(await this.part([...shared.lines], FACTS_TIMEOUT_MS)).raw.commands;
        if (key !== undefined) this.sharedKeys.set(id, key);
        const records = key === undefined ? await run() : await caches.shared.get(`${id}\n${key}`, run);
        for (const [name, record] of records) raw.commands.set(name, record);
      }
    }
    this.records = raw.commands;
    return interpretFacts(raw, {
      name: this.options.name,
      address: this.options.address,
      services,
      ...(builds ? { builds } : {}),
      ...(this.connection.info.serverBanner ? { serverBanner: this.connection.info.serverBanner } : {}),
    });
  }

  /**
   * Reads more files in a later part and adds their records to `raw`. The login's groups are read
   * when the files the Include walk looked at name groups; files read in a later part were not
   * looked at, so such a part reads the groups too.
   */
  private async readMore(raw: RawFacts, lines: readonly string[]): Promise<void> {
    const groups = raw.commands.has('login_groups') ? [] : loginGroupsLines();
    mergeRaw(raw, parseRecords(await this.part([...lines, ...groups], PART_TIMEOUT_MS)).raw);
  }

  /**
   * Runs a service's candidate check in this shell (in a subshell: its exit and traps stay its
   * own; the session's functions and variables, `$sshd_bin` and others the fact lines set, and
   * `$sshfix_scratch` are there). With run caches, a check that depends on nothing of the host but
   * the service's shared key is run once per key and script.
   */
  async check(service: string, check: CandidateCheck): Promise<CheckVerdict> {
    const run = async (): Promise<CheckVerdict> => {
      const { raw } = parseRecords(await this.part([...CHECK_SCRATCH, 'sshfix_check() (', check.script.replace(/\n$/, ''), ')', 'run check sshfix_check'], PART_TIMEOUT_MS));
      const record = raw.commands.get('check');
      if (!record) throw new FactError('facts-unreadable', 'the candidate check printed no result');
      return { exitCode: record.exitCode, stdout: record.stdout, stderr: record.stderr };
    };
    const key = this.sharedKeys.get(service);
    const { caches } = this.options;
    if (!caches || key === undefined || !check.hostIndependent) return run();
    // The records the verdict also depends on, as this host has them: without one, no sharing.
    const depends = (check.dependsOn ?? []).map((name) => this.records.get(name));
    if (depends.some((record) => record === undefined)) return run();
    return caches.checks.get(sha256(JSON.stringify([service, key, check.script, depends])), run);
  }

  /** Ends the shell (its scratch directory removed on exit). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stream.write('exit 0\n');
    await this.stream.end(CLOSE_TIMEOUT_MS);
  }

  /** Sends `lines` and returns what they printed on stdout; a shell that ends first is a FactError. */
  private async part(lines: readonly string[], timeoutMs: number): Promise<string> {
    this.stream.write(`${lines.join('\n')}\nprintf '%s\\n' '${this.delimiter}'\n`);
    const output = await this.stream.readUntil(`${this.delimiter}\n`, timeoutMs);
    if (output !== undefined) return output.toString('utf8');
    this.ended = true;
    const result = await this.stream.end();
    const stderr = result.stderr.toString('utf8').trim();
    throw new FactError(
      'facts-failed',
      result.timedOut
        ? `reading facts timed out after ${Math.round(timeoutMs / 1000)} s`
        : `reading facts failed (exit ${result.exitCode ?? result.signal}): ${stderr.split('\n').slice(-3).join(' ') || 'no message'}`,
      'The host needs a POSIX sh with base64, stat, awk and mktemp.',
    );
  }
}

/** Reads the facts `request` asks for in one shell of its own (apply of a saved plan, rollback). */
export async function factsFor(connection: Connection, host: { name: string; address: string }, request: FactRequest, builds?: BuildCache): Promise<HostFacts> {
  const session = await HostSession.open(connection, { name: host.name, address: host.address, ...(builds ? { builds } : {}) });
  try {
    return await session.facts(request);
  } finally {
    await session.close().catch(() => undefined);
  }
}

function parseRecords(stdout: string): { raw: RawFacts; reread: string[] } {
  try {
    return parseFactRecords(stdout);
  } catch (error) {
    if (error instanceof FactOutputError) throw new FactError('facts-unreadable', error.message);
    throw error;
  }
}

function mergeRaw(into: RawFacts, extra: RawFacts): void {
  for (const [name, command] of extra.commands) into.commands.set(name, command);
  for (const [path, file] of extra.files) into.files.set(path, file);
  for (const path of extra.missing) into.missing.add(path);
  for (const path of extra.unreadable) into.unreadable.add(path);
  for (const [dir, names] of extra.dirs) into.dirs.set(dir, names);
  for (const [path, target] of extra.symlinks) into.symlinks.set(path, target);
  into.includes.push(...extra.includes);
}
