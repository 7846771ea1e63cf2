/**
 * sshguard as a managed service. It has no reload (SIGHUP ends it) and reads its whitelist and
 * blacklist only at start, so a change to its files is applied by restarting it: through the init
 * system where there is one, else by stopping its process group and starting it again, detached,
 * from the command line it was started with. A restart drops every block its backend holds. Its
 * verification reads the files again over the fresh login and checks that sshguard runs.
 */
import { sshguardBlockedAddresses } from '../../config/hosts-access/sshguard.js';
import { HOSTS_ALLOW } from '../../config/hosts-access/edit.js';
import { removeFromBlacklist, whitelistHas } from '../../config/sshguard/lists.js';
import { blocksCovering, describeFirewallSet, FIREWALL_BACKENDS, FIREWALL_LISTING, isBlockedElement, parseFirewallBlocks, releaseCommand, type FirewallBackend } from '../../config/sshguard/firewall.js';
import { isRecord, isSafePath } from '../../util/safe-values.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import type { CommandRunner, Service, ServiceScripts, VerifiedValue } from '../service.js';
import { FOR_EACH_SSHGUARD, readSshguardFacts, SSHGUARD_CONF, sshguardFactLines, type SshguardFacts } from './facts.js';

/** What apply needs: whether to restart, the blocks to lift without one, and what verification reads. */
export interface SshguardPlan {
  restart: boolean;
  whitelistFile?: string;
  blacklistFile?: string;
  /** The firewall backend, when sshguard uses one (verification lists its blocks). */
  firewall?: FirewallBackend;
  /** Blocks lifted in the firewall backend as its own release does (when no restart drops them all). */
  release?: string[];
}

/** One value verification must find. */
export interface SshguardExpectation {
  task: string;
  kind: 'whitelisted' | 'unblocked';
  /** An address or CIDR block, canonical. */
  value: string;
}

/** One task's part: whether its files change (a restart applies them) and the blocks it lifts. */
export interface SshguardContribution {
  restart: boolean;
  release: string[];
}

const q = quoteShellArg;

/** Prints the pid of each of this system's sshguard processes (see FOR_EACH_SSHGUARD). */
const LIST_SSHGUARD = `${FOR_EACH_SSHGUARD} echo "\${p#/proc/}"; done`;

const PIDS = `sshguard_pids() { ${LIST_SSHGUARD}; true; }`;

function restartScripts(facts: SshguardFacts): Pick<ServiceScripts, 'helpers' | 'reload' | 'alive' | 'start' | 'reloadDescription'> {
  const r = facts.restart;
  switch (r.kind) {
    case 'systemctl':
      return { helpers: [], reload: `systemctl restart ${q(r.unit)}`, alive: `systemctl is-active --quiet ${q(r.unit)}`, start: `systemctl start ${q(r.unit)}`, reloadDescription: `systemctl restart ${r.unit}` };
    case 'rc-service':
      return { helpers: [], reload: `rc-service ${q(r.service)} restart`, alive: `rc-service ${q(r.service)} status >/dev/null 2>&1`, start: `rc-service ${q(r.service)} start`, reloadDescription: `rc-service ${r.service} restart` };
    case 'process':
      return {
        helpers: [
          PIDS,
          // TERM to each instance's process group (its exit trap then signals the rest); KILL what is left after 5 s.
          'sshguard_stop() { for p in $(sshguard_pids); do g=$(sed "s/^.*) //" "/proc/$p/stat" 2>/dev/null | cut -d" " -f3); if [ "$g" = "$p" ]; then kill -s TERM -- "-$g" 2>/dev/null; else kill -s TERM "$p" 2>/dev/null; fi; done; ' +
            'n=0; while [ -n "$(sshguard_pids)" ] && [ $n -lt 25 ]; do nap; n=$((n + 1)); done; for p in $(sshguard_pids); do kill -s KILL -- "-$p" 2>/dev/null || kill -s KILL "$p" 2>/dev/null; done; nap; [ -z "$(sshguard_pids)" ]; }',
          // The transaction ignores TERM and children inherit that: a shell script cannot undo it, so reset it for sshguard.
          `sshguard_start() { if env --default-signal=TERM true 2>/dev/null; then d="env --default-signal=HUP,INT,TERM,PIPE"; else d=; fi; $d setsid sh -c ${q(`exec ${r.commandLine}`)} </dev/null >/dev/null 2>&1 9>&- & }`,
        ],
        reload: 'sshguard_stop && sshguard_start',
        alive: '[ -n "$(sshguard_pids)" ]',
        start: 'sshguard_start',
        reloadDescription: `restarted sshguard's process group and started it again with: ${r.commandLine}`,
      };
    case 'not-running':
      return { helpers: [], reload: ':', alive: ':', start: ':', reloadDescription: 'sshguard is not running: nothing to restart' };
  }
}

/** What verification reads over the fresh login: each file (undefined when missing), the firewall's listing, how many sshguard processes run. */
interface VerifyReading {
  files: (string | undefined)[];
  listing: string;
  running: number;
}

/** Reads the files verification needs (an F line in base64 each, M for a missing one), then the firewall's listing (an L line) when given. */
async function readForVerify(connection: CommandRunner, paths: readonly string[], listing?: string): Promise<VerifyReading> {
  const script = paths.map((p) => `if [ -f ${q(p)} ]; then printf 'F '; base64 -w0 < ${q(p)}; echo; else echo M; fi`).join('; ');
  const list = listing ? `; printf 'L '; { ${listing}; } | base64 -w0; echo` : '';
  const result = await connection.exec(`${script}${list}; printf 'P %s\\n' "$(${LIST_SSHGUARD} | wc -l)"`, { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new Error('reading sshguard files failed');
  const reading: VerifyReading = { files: [], listing: '', running: 0 };
  for (const line of result.stdout.toString('utf8').split('\n')) {
    const decoded = (): string => Buffer.from(line.slice(2), 'base64').toString('utf8');
    if (line.startsWith('F ')) reading.files.push(decoded());
    else if (line === 'M') reading.files.push(undefined);
    else if (line.startsWith('L ')) reading.listing = decoded();
    else if (line.startsWith('P ')) reading.running = Number(line.slice(2));
  }
  return reading;
}

export const sshguardService: Service<SshguardFacts, SshguardPlan, SshguardExpectation, SshguardContribution> = {
  id: 'sshguard',
  defaultPaths: [],
  factLines: sshguardFactLines,
  readFacts: readSshguardFacts,
  unlistedDirs: () => [],
  precheck: () => undefined,
  applyCheck: () => undefined,
  describe: (facts) => (facts.running ? `sshguard: no reload, restarted (${facts.restart.kind === 'process' ? 'its process group' : facts.restart.kind})` : 'sshguard: not running'),
  finishPlan: ({ facts, contributions }) => {
    const release = [...new Set(contributions.flatMap((c) => c.release))];
    const firewall = FIREWALL_BACKENDS.find((b) => b === facts.backend);
    return {
      // Restart only for changed files: a restart drops every block, more than an unblock asks.
      restart: facts.running && contributions.some((c) => c.restart),
      ...(facts.whitelistFile ? { whitelistFile: facts.whitelistFile } : {}),
      ...(facts.blacklistFile ? { blacklistFile: facts.blacklistFile } : {}),
      ...(firewall ? { firewall } : {}),
      ...(firewall && release.length > 0 ? { release } : {}),
    };
  },
  expectationKey: (e) => `${e.kind}\n${e.value}`,
  candidateChecks: () => [],
  candidateRejected: (message) => ({ code: 'validation-failed', message: `sshguard's files do not validate: ${message}` }),
  validatingStage: 'checking sshguard.conf',
  scripts: (facts, plan) => {
    const restart = plan.restart ? restartScripts(facts) : { helpers: [], reload: ':', alive: ':', start: ':', reloadDescription: 'sshguard is not running: nothing to restart' };
    return {
      id: 'sshguard',
      label: 'sshguard',
      ...restart,
      validate: [`[ ! -e ${q(SSHGUARD_CONF)} ] || out=$(sh -n ${q(SSHGUARD_CONF)} 2>&1) || { printf '%s' "$out"; return 1; }`],
      validateRestored: [],
      beforeReload: [],
      afterReload: plan.firewall
        ? (plan.release ?? []).map((element) => {
            const where = `${element} from the ${describeFirewallSet(plan.firewall!, element)}`;
            return `if ${releaseCommand(plan.firewall!, element)} >/dev/null 2>&1; then step unblock ok ${q(where)}; else step unblock fail ${q(`could not remove ${where}`)}; fi`;
          })
        : [],
    };
  },
  commitDiagnoses: {
    rejected: "sshguard.conf does not parse; the files were restored and sshguard was not restarted.",
    reloadFailed: 'Restarting sshguard failed; the files were restored.',
    stopped: 'sshguard did not stay up after the restart; the previous files were restored and it was started again.',
  },
  verify: async (connection, plan, expectations) => {
    const reading = await readForVerify(connection, [plan.whitelistFile ?? '/nonexistent', plan.blacklistFile ?? '/nonexistent', HOSTS_ALLOW], plan.firewall ? FIREWALL_LISTING[plan.firewall] : undefined);
    const [whitelist, blacklist, allow] = reading.files;
    const blocks = plan.firewall ? parseFirewallBlocks(plan.firewall, reading.listing) : [];
    const values: VerifiedValue[] = expectations.map((e) => {
      let actual: string;
      const covering = blocksCovering(blocks, e.value);
      if (e.kind === 'whitelisted') actual = whitelistHas(whitelist ?? '', e.value) ? 'whitelisted' : `not in ${plan.whitelistFile ?? 'the whitelist'}`;
      else if (sshguardBlockedAddresses(allow ?? '').includes(e.value)) actual = `still blocked in ${HOSTS_ALLOW}`;
      else if (plan.firewall && covering.length > 0) actual = `still blocked by ${covering.join(', ')} in the ${describeFirewallSet(plan.firewall, covering[0]!)}`;
      else if (blacklist !== undefined && removeFromBlacklist(blacklist, e.value).removed > 0) actual = `still in ${plan.blacklistFile ?? 'the blacklist'}`;
      else actual = 'unblocked';
      return { service: 'sshguard', keyword: `${e.kind} ${e.value}`, expected: [e.kind], actual: [actual], ok: actual === e.kind };
    });
    if (plan.restart) {
      const up = reading.running > 0;
      values.push({ service: 'sshguard', keyword: 'running', expected: ['yes'], actual: [up ? 'yes' : 'no'], ok: up });
    }
    return { values };
  },
  checkName: "sshguard's files",
  isSavedPlan: (data): data is SshguardPlan =>
    isRecord(data) &&
    typeof data['restart'] === 'boolean' &&
    (data['whitelistFile'] === undefined || isSafePath(data['whitelistFile'])) &&
    (data['blacklistFile'] === undefined || isSafePath(data['blacklistFile'])) &&
    (data['firewall'] === undefined || FIREWALL_BACKENDS.includes(data['firewall'] as FirewallBackend)) &&
    (data['release'] === undefined || (Array.isArray(data['release']) && data['release'].every(isBlockedElement))),
  isSavedExpectation: (e): e is SshguardExpectation =>
    isRecord(e) && (e['kind'] === 'whitelisted' || e['kind'] === 'unblocked') && typeof e['value'] === 'string' && /^[0-9A-Fa-f:.\/]+$/.test(e['value']),
};
