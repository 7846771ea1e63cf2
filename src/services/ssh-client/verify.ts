/**
 * After the change, the real `ssh -G -F CONFIG HOST` on the host: the named destination shows
 * each requested value, and a destination no task names shows exactly what it showed before.
 */
import { parseSshdDump } from '../../config/sshd/defaults.js';
import { diffSshdDumps } from '../../config/sshd/dump-diff.js';
import { quoteShellArg, shellCommand } from '../../util/shell-quote.js';
import type { CommandRunner, VerifiedValue } from '../service.js';
import { UNRELATED_HOST } from './facts.js';

/**
 * A value `ssh -G` must show for a destination. `equals`: the printed lines; `contains`: each
 * item is among the printed items (lines, or comma-separated for algorithm lists); `excludes`:
 * none is; `starts`: the list begins with them.
 */
export interface SshClientExpectation {
  task: string;
  /** The main config, read with `-F`. */
  config: string;
  /** The destination given to `ssh -G` (the field sshd's expectations use for their connection). */
  connection: string;
  /** `ssh -G` keyword (lowercase). */
  keyword: string;
  values: string[];
  match: 'equals' | 'contains' | 'excludes' | 'starts';
}

const SCRIPT_PATH = 'PATH=/usr/local/bin:/usr/bin:/bin:$PATH';

async function sshG(connection: CommandRunner, config: string, host: string): Promise<Map<string, string[]> | undefined> {
  // A missing config is no config (`-F none`), as when a rollback removed the file a change created.
  const result = await connection.exec(`${SCRIPT_PATH} c=${quoteShellArg(config)}; [ -e "$c" ] || c=none; ${shellCommand('ssh', '-G', '-F')} "$c" ${quoteShellArg(host)} 2>/dev/null`, { timeoutMs: 30_000 });
  return result.exitCode === 0 ? parseSshdDump(result.stdout.toString('utf8')) : undefined;
}

function satisfied(e: SshClientExpectation, actual: readonly string[]): boolean {
  const items = actual.length === 1 && actual[0]!.includes(',') ? actual[0]!.split(',') : actual;
  switch (e.match) {
    case 'equals':
      return actual.join('\n') === e.values.join('\n');
    case 'contains':
      return e.values.every((v) => items.includes(v));
    case 'excludes':
      return !e.values.some((v) => items.includes(v));
    case 'starts':
      return e.values.every((v, i) => items[i] === v);
  }
}

export async function verifyClientValues(connection: CommandRunner, expectations: readonly SshClientExpectation[]): Promise<VerifiedValue[]> {
  const dumps = new Map<string, Map<string, string[]> | undefined>();
  const out: VerifiedValue[] = [];
  for (const e of expectations) {
    const key = `${e.config}\n${e.connection}`;
    if (!dumps.has(key)) dumps.set(key, await sshG(connection, e.config, e.connection));
    const actual = dumps.get(key)?.get(e.keyword) ?? [];
    const expected = e.match === 'equals' ? e.values : e.values.map((v) => `${e.match} ${v}`);
    out.push({ service: 'ssh_client', keyword: e.keyword, connection: `ssh -G ${e.connection}`, expected, actual, ok: satisfied(e, actual) });
  }
  return out;
}

/** `ssh -G` of the unrelated destination against what it was before, per config: the settings that moved. */
export async function leakedSettings(connection: CommandRunner, before: Readonly<Record<string, string | undefined>>, configs: readonly string[]): Promise<string | undefined> {
  const leaks: string[] = [];
  for (const config of configs) {
    const was = before[config];
    if (was === undefined) continue;
    const now = await sshG(connection, config, UNRELATED_HOST);
    if (!now) {
      leaks.push(`ssh -G -F ${config} failed after the change`);
      continue;
    }
    for (const c of diffSshdDumps(parseSshdDump(was), now, [])) leaks.push(`${c.keyword} for ${UNRELATED_HOST} (${config}) was ${c.before.join(', ') || '(unset)'}, is now ${c.after.join(', ') || '(unset)'}`);
  }
  return leaks.length ? `ssh -G changed other destinations: ${leaks.join('; ')}` : undefined;
}
