/**
 * After the fresh login: `sshd -T` (with `-f` per config and `-C` per connection) must show every
 * value the plan expects.
 */
import { parseSshdDump } from '../../config/sshd/defaults.js';
import { diffSshdDumps } from '../../config/sshd/dump-diff.js';
import { shellCommand } from '../../util/shell-quote.js';
import type { CommandRunner, VerifiedValue } from '../service.js';

/** A value sshd must report once the change is live; `apply` checks these with `sshd -T [-C ...]`. */
export interface SshdExpectation {
  task: string;
  /** `sshd -T` keyword name (lowercase). */
  keyword: string;
  /** Values as `sshd -T` prints them (one entry per printed line). */
  values: string[];
  /** Connection spec for `sshd -T -C`, when the setting is Match-scoped. */
  connection?: string;
  /** The main config to read with `-f`, when not the default /etc/ssh/sshd_config. */
  config?: string;
}

/** The PATH the transaction scripts use, so verification runs the same sshd binary they validated with. */
const SCRIPT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH';

/** Runs `sshd -T` (and `-T -C` per connection, `-f` per config) over `connection` and compares with the expectations. */
export async function verifyValues(connection: CommandRunner, expectations: readonly SshdExpectation[]): Promise<VerifiedValue[]> {
  const key = (e: SshdExpectation): string => `${e.config ?? ''}\n${e.connection ?? ''}`;
  const dumps = new Map<string, Map<string, string[]>>();
  for (const e of expectations) {
    if (dumps.has(key(e))) continue;
    const args = ['-T', ...(e.config ? ['-f', e.config] : []), ...(e.connection ? ['-C', e.connection] : [])];
    const result = await connection.exec(`${SCRIPT_PATH} ${shellCommand('sshd', ...args)}`, { timeoutMs: 30_000 });
    dumps.set(key(e), result.exitCode === 0 ? parseSshdDump(result.stdout.toString('utf8')) : new Map());
  }
  return expectations.map((e) => {
    const actual = dumps.get(key(e))?.get(e.keyword) ?? [];
    return {
      service: 'sshd',
      keyword: e.keyword,
      ...(e.connection ? { connection: e.connection } : {}),
      expected: e.values,
      actual,
      ok: actual.join('\n') === e.values.join('\n'),
    };
  });
}

/**
 * Defence in depth: the whole global `sshd -T` after the change against the one read before it.
 * A keyword that moved but that no expectation names was not planned (a value carrying a second
 * directive, a hand-edited saved plan): name it with both values.
 */
export async function unplannedChanges(connection: CommandRunner, before: string, expectations: readonly SshdExpectation[]): Promise<string | undefined> {
  const result = await connection.exec(`${SCRIPT_PATH} ${shellCommand('sshd', '-T')}`, { timeoutMs: 30_000 });
  if (result.exitCode !== 0) {
    const said = result.stderr?.toString('utf8').trim().split('\n').slice(-2).join(' ') ?? '';
    return `sshd -T failed after the change (exit ${result.exitCode ?? 'none: timed out'}${said ? `: ${said}` : ''})`;
  }
  const changes = diffSshdDumps(parseSshdDump(before), parseSshdDump(result.stdout.toString('utf8')), expectations.map((e) => e.keyword));
  if (changes.length === 0) return undefined;
  const shown = (values: readonly string[]): string => (values.length ? values.join(', ') : '(unset)');
  return `sshd -T changed values the plan did not: ${changes.map((c) => `${c.keyword} was ${shown(c.before)}, is now ${shown(c.after)}`).join('; ')}`;
}
