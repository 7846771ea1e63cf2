/**
 * After the fresh login: fail2ban-client must show what the plan asked for. Each jail's ignoreip
 * lists the new entries, each key set shows its value, and no address the plan unbanned is banned
 * again.
 */
import { shellCommand } from '../../util/shell-quote.js';
import type { CommandRunner, VerifiedValue } from '../service.js';
import type { Fail2banScriptPlan } from './scripts.js';

/** A jail key fail2ban-client must report once the change is live (`get JAIL KEY`). */
export interface Fail2banExpectation {
  task: string;
  jail: string;
  /** maxretry, findtime or bantime. */
  keyword: string;
  /** The one value `fail2ban-client get` prints (times in seconds). */
  values: string[];
  /** fail2ban has no per-connection view; present so expectations of every service read alike. */
  connection?: undefined;
}

const SCRIPT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH';

/** fail2ban-client's list output (`|- a`, `` `- b ``) or a Python list (`['a', 'b']`) as words. */
export function fail2banListWords(out: string): string[] {
  if (/^\s*\[/.test(out)) return out.replace(/[[\]',]/g, ' ').split(/\s+/).filter((w) => w !== '');
  return out.split('\n').flatMap((l) => {
    const m = /^[|`]- (\S+)/.exec(l);
    return m ? [m[1]!] : [];
  });
}

export async function verifyFail2ban(connection: CommandRunner, plan: Fail2banScriptPlan, expectations: readonly Fail2banExpectation[]): Promise<VerifiedValue[]> {
  const get = async (...args: string[]): Promise<string | undefined> => {
    const result = await connection.exec(`${SCRIPT_PATH} ${shellCommand('fail2ban-client', 'get', ...args)}`, { timeoutMs: 30_000 });
    return result.exitCode === 0 ? result.stdout.toString('utf8') : undefined;
  };
  const values: VerifiedValue[] = [];
  for (const { jail, entries } of plan.ignore) {
    const listed = fail2banListWords((await get(jail, 'ignoreip')) ?? '');
    const actual = entries.filter((e) => listed.includes(e));
    values.push({ service: 'fail2ban', keyword: `${jail} ignoreip`, expected: [...entries], actual, ok: actual.length === entries.length });
  }
  for (const e of expectations) {
    const actual = ((await get(e.jail, e.keyword)) ?? '').trim();
    values.push({ service: 'fail2ban', keyword: `${e.jail} ${e.keyword}`, expected: e.values, actual: actual ? [actual] : [], ok: actual === e.values.join(' ') });
  }
  for (const { jail, addresses } of plan.unban) {
    const banned = fail2banListWords((await get(jail, 'banned')) ?? '');
    const still = addresses.filter((a) => banned.includes(a));
    values.push({ service: 'fail2ban', keyword: `${jail} banned`, expected: [], actual: still, ok: still.length === 0 });
  }
  return values;
}
