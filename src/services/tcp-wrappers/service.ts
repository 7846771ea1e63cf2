/**
 * TCP wrappers (hosts.allow and hosts.deny) as a managed service. There is no daemon: libwrap
 * reads both files afresh at every connection of a program linked with it, so the transaction's
 * reload, alive and start fragments do nothing, validation checks that libwrap can read the whole
 * of hosts.allow, and verification evaluates the files as written, read again over the fresh
 * login. Its facts say whether sshd (or, from OpenSSH 9.8, sshd-session) links libwrap at all.
 */
import { libwrapProbeLine, readLibwrapProbe } from '../../util/record-script.js';
import { HOSTS_ALLOW, HOSTS_DENY } from '../../config/hosts-access/edit.js';
import { isRecord, isSafePath } from '../../util/safe-values.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import type { CommandRunner, RawFacts, Service, VerifiedValue } from '../service.js';
import { expectedOutcome, wrappersOutcome, type WrappersExpectation } from './access.js';

export interface TcpWrappersFacts {
  /** The sshd binaries that link libwrap (empty: hosts.allow and hosts.deny do nothing for sshd). */
  libwrap: string[];
  /** False when the host has no ldd, so whether sshd links libwrap is unknown. */
  checked: boolean;
}

/** The tables an apply writes and verifies. */
export interface TcpWrappersPlan {
  allow: string;
  deny: string;
}

/** Nothing beyond the files: what a task adds is its expectations. */
export type TcpWrappersContribution = Record<string, never>;

const q = quoteShellArg;

function factLines(paths: readonly string[]): string[] {
  return [
    'tw_sshd=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
    // sshd-session (OpenSSH 9.8 and later) is the binary that serves the connection.
    libwrapProbeLine('tw_libwrap', 'tw_sshd'),
    ...paths.map((path) => `rf ${q(path)}`),
  ];
}

function readFacts(raw: RawFacts): TcpWrappersFacts {
  const probe = readLibwrapProbe(raw.commands.get('tw_libwrap')?.stdout);
  return { libwrap: probe.binaries, checked: probe.checked };
}

/** Reads both tables over `connection` (base64, so any bytes come back intact). */
async function readTables(connection: CommandRunner, plan: TcpWrappersPlan): Promise<{ allow: string; deny: string } | undefined> {
  const script = [plan.allow, plan.deny].map((p) => `if [ -f ${q(p)} ]; then printf 'F '; base64 -w0 < ${q(p)} || base64 < ${q(p)} | tr -d '\\n'; echo; else echo M; fi`).join('; ');
  const result = await connection.exec(script, { timeoutMs: 30_000 });
  if (result.exitCode !== 0) return undefined;
  const [allow, deny] = result.stdout
    .toString('utf8')
    .split('\n')
    .slice(0, 2)
    .map((line) => (line.startsWith('F ') ? Buffer.from(line.slice(2), 'base64').toString('utf8') : ''));
  return { allow: allow ?? '', deny: deny ?? '' };
}

const SAFE_VALUE = /^[^\0-\x1f\x7f\s]+$/;

export const tcpWrappersService: Service<TcpWrappersFacts, TcpWrappersPlan, WrappersExpectation, TcpWrappersContribution> = {
  id: 'tcp_wrappers',
  defaultPaths: [HOSTS_ALLOW, HOSTS_DENY],
  factLines,
  readFacts,
  unlistedDirs: () => [],
  precheck: () => undefined,
  applyCheck: () => undefined,
  describe: () => 'TCP wrappers: read at every connection, nothing to reload',
  finishPlan: () => ({ allow: HOSTS_ALLOW, deny: HOSTS_DENY }),
  expectationKey: (e) => `${e.daemon}\n${e.client}`,
  candidateChecks: () => [],
  candidateRejected: (message) => ({ code: 'validation-failed', message: `the planned hosts.allow cannot be read by libwrap: ${message}` }),
  validatingStage: 'checking hosts.allow',
  scripts: (_facts, plan) => ({
    id: 'tcp_wrappers',
    label: 'TCP wrappers',
    helpers: [],
    // libwrap stops reading a table at a last line with no newline: in hosts.allow every line
    // after the last good one would be ignored.
    validate: [`[ ! -e ${q(plan.allow)} ] || [ -z "$(tail -c 1 ${q(plan.allow)})" ] || { echo ${q(`${plan.allow} does not end with a newline: libwrap would not read its last line`)}; return 1; }`],
    validateRestored: [],
    reload: ':',
    alive: ':',
    start: ':',
    beforeReload: [],
    reloadDescription: 'nothing to reload (libwrap reads hosts.allow and hosts.deny at every connection)',
  }),
  commitDiagnoses: {
    rejected: 'The planned hosts.allow would not be read whole by libwrap; the files were restored and the host is byte-identical to before.',
    reloadFailed: 'TCP wrappers have nothing to reload; the files were restored.',
    stopped: 'TCP wrappers have no daemon; the files were restored.',
  },
  verify: async (connection, plan, expectations) => {
    const tables = await readTables(connection, plan);
    if (!tables) throw new Error(`cannot read ${plan.allow} and ${plan.deny}`);
    const values: VerifiedValue[] = expectations.map((e) => {
      const outcome = wrappersOutcome({ ...tables, allowPath: plan.allow, denyPath: plan.deny }, e);
      return { service: 'tcp_wrappers', keyword: `${e.daemon}: ${e.client}`, expected: [expectedOutcome(e)], actual: [outcome.value === expectedOutcome(e) ? outcome.value : `${outcome.value} (${outcome.detail})`], ok: outcome.value === expectedOutcome(e) };
    });
    return { values };
  },
  checkName: 'hosts.allow and hosts.deny',
  isSavedPlan: (data): data is TcpWrappersPlan => isRecord(data) && isSafePath(data['allow']) && isSafePath(data['deny']),
  isSavedExpectation: (e): e is WrappersExpectation =>
    isRecord(e) &&
    typeof e['daemon'] === 'string' &&
    SAFE_VALUE.test(e['daemon']) &&
    typeof e['client'] === 'string' &&
    SAFE_VALUE.test(e['client']) &&
    (e['address'] === undefined || (typeof e['address'] === 'string' && SAFE_VALUE.test(e['address']))),
};
