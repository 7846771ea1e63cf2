/**
 * fail2ban as a managed service: its facts, the refusal of a live config that would not load, the
 * candidate check on the host (`fail2ban-client -c COPY -d`), the transaction's fragments (reload,
 * ping, the jails-still-run check, unbans) and verification through `fail2ban-client get`.
 */
import { FAIL2BAN_BASE_DIR } from '../../config/fail2ban/layers.js';
import { isRecord } from '../../util/safe-values.js';
import type { Service } from '../service.js';
import { fail2banFactLines, readFail2banFacts, unlistedFail2banDirs, type Fail2banFacts } from './facts.js';
import { describeLoadProblem } from './loadable.js';
import { fail2banCandidateScript, fail2banScripts, isIgnoreEntry, isJailName, type Fail2banScriptPlan } from './scripts.js';
import { verifyFail2ban, type Fail2banExpectation } from './verify.js';

export type Fail2banPlan = Fail2banScriptPlan & { jails: string[]; ignore: { jail: string; entries: string[] }[]; unban: { jail: string; addresses: string[] }[] };

/** What one task adds to the fail2ban plan. */
export interface Fail2banContribution {
  jail: string;
  /** Entries the jail's ignoreip must list after the reload, as fail2ban prints them. */
  ignore: readonly string[];
  unban: readonly string[];
  /** The task disables the jail: it need not run afterwards. */
  disables: boolean;
}

const CONFIG_INVALID = 'fail2ban-config-invalid';

function mergeByJail<K extends 'entries' | 'addresses'>(key: K, items: readonly { jail: string; values: readonly string[] }[]): ({ jail: string } & Record<K, string[]>)[] {
  const byJail = new Map<string, string[]>();
  for (const { jail, values } of items) {
    const list = byJail.get(jail) ?? [];
    for (const v of values) if (!list.includes(v)) list.push(v);
    byJail.set(jail, list);
  }
  return [...byJail].filter(([, v]) => v.length > 0).map(([jail, v]) => ({ jail, [key]: v }) as { jail: string } & Record<K, string[]>);
}

const isJailList = (v: unknown, itemKey: string): boolean =>
  Array.isArray(v) && v.every((e) => isRecord(e) && isJailName(e['jail']) && Array.isArray(e[itemKey]) && (e[itemKey] as unknown[]).every(isIgnoreEntry));

export const fail2banService: Service<Fail2banFacts, Fail2banPlan, Fail2banExpectation, Fail2banContribution> = {
  id: 'fail2ban',
  defaultPaths: [FAIL2BAN_BASE_DIR],
  factLines: () => fail2banFactLines(),
  readFacts: readFail2banFacts,
  unlistedDirs: (snapshot) => unlistedFail2banDirs(snapshot),
  precheck(facts) {
    if (!facts.installed) return undefined;
    if (!facts.configCheck.ok) {
      return {
        code: CONFIG_INVALID,
        message: `the live fail2ban config does not load (fail2ban-client -d): ${facts.configCheck.output || 'no message'}`,
        diagnosis: "fail2ban's next reload or restart would run no jail. Fix the file fail2ban names first; sshfix changes nothing on this host.",
      };
    }
    if (facts.liveProblem) {
      return {
        code: CONFIG_INVALID,
        message: `the live fail2ban config would not load: ${describeLoadProblem(facts.liveProblem)}`,
        diagnosis:
          "fail2ban-client -t passes it, but the server refuses it when the jail starts: the next reload would leave no jail running and lift every ban. Fix that value first; sshfix changes nothing on this host.",
      };
    }
    return undefined;
  },
  applyCheck: (facts) =>
    facts.running
      ? undefined
      : { code: 'fail2ban-stopped', message: 'fail2ban-server is not running (fail2ban-client ping failed)', diagnosis: 'sshfix reloads a running server and never starts one; start fail2ban, then plan again' },
  describe: (facts) => (facts.installed ? (facts.running ? 'fail2ban-client reload' : 'fail2ban-server not running') : 'fail2ban not installed'),
  finishPlan({ contributions, facts }) {
    const disabled = new Set(contributions.filter((c) => c.disables).map((c) => c.jail));
    return {
      jails: facts.jails.map((j) => j.name).filter((j) => !disabled.has(j)),
      ignore: mergeByJail('entries', contributions.map((c) => ({ jail: c.jail, values: c.ignore }))),
      unban: mergeByJail('addresses', contributions.map((c) => ({ jail: c.jail, values: c.unban }))),
    };
  },
  expectationKey: (e) => `${e.jail}\n${e.keyword}`,
  candidateChecks({ snapshot, changed }) {
    const files = new Map<string, string>();
    for (const f of changed) {
      const text = snapshot.files.get(f.path);
      if (f.service === 'fail2ban' && text !== undefined) files.set(f.path, text);
    }
    return files.size > 0 ? [{ script: fail2banCandidateScript(files) }] : [];
  },
  candidateRejected: (message) => ({
    code: CONFIG_INVALID,
    message: `fail2ban-client -d rejects the planned config: ${message}`,
    diagnosis: 'Nothing was changed. The planned files would not load; adjust the playbook (or report it if the edit is sshfix\'s own).',
  }),
  validatingStage: 'validating with fail2ban-client -d',
  scripts: (facts, plan) => fail2banScripts(facts, plan),
  commitDiagnoses: {
    rejected: 'fail2ban-client -d rejected the new files, so they were never loaded; the files were restored and the host is byte-identical to before.',
    reloadFailed: 'The reload failed; the files were restored and fail2ban keeps its old config.',
    stopped: 'fail2ban-server stopped after the reload; the previous files were restored and the server started again.',
    lost: {
      code: 'fail2ban-jails-lost',
      diagnosis: 'After the reload a jail that ran before no longer ran (or did not show the new ignoreip entries); the previous files were restored and fail2ban reloaded again.',
    },
  },
  verify: async (connection, plan, expectations) => ({ values: await verifyFail2ban(connection, plan, expectations) }),
  checkName: 'fail2ban-client get',
  isSavedPlan: (data): data is Fail2banPlan =>
    isRecord(data) &&
    Array.isArray(data['jails']) &&
    data['jails'].every(isJailName) &&
    isJailList(data['ignore'], 'entries') &&
    isJailList(data['unban'], 'addresses'),
  isSavedExpectation: (e): e is Fail2banExpectation =>
    isRecord(e) &&
    isJailName(e['jail']) &&
    typeof e['keyword'] === 'string' &&
    ['maxretry', 'findtime', 'bantime'].includes(e['keyword']) &&
    Array.isArray(e['values']) &&
    e['values'].length === 1 &&
    typeof e['values'][0] === 'string' &&
    /^-?\d+$/.test(e['values'][0]) &&
    e['connection'] === undefined,
};
