/**
 * The OpenSSH client's config as a managed part: nothing runs it, ssh reads it at every
 * connection, so there is nothing to reload. Candidates are checked with `ssh -G -F` on the host
 * before anything is written and again at commit; verification is the real `ssh -G` over the fresh
 * login.
 */
import type { FileSnapshot } from '../../config/openssh/snapshot-glob.js';
import { isRecord, isSafePath } from '../../util/safe-values.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import { writeCandidateFile } from '../candidate-files.js';
import type { CandidateCheck, Service } from '../service.js';
import { readSshClientFacts, sshClientFactLines, SYSTEM_SSH_CONFIG, UNRELATED_HOST, type SshClientFacts } from './facts.js';
import { leakedSettings, verifyClientValues, type SshClientExpectation } from './verify.js';

/** What an apply needs: the main configs to check with `ssh -G -F`, and those where no task's patterns match the unrelated destination. */
export interface SshClientPlan {
  configs: string[];
  leakChecks: string[];
}

/** What one task adds: the main config it changed, and whether its patterns leave the unrelated destination out. */
export interface SshClientContribution {
  config: string;
  coversUnrelated: boolean;
}

const q = quoteShellArg;

/** Checks `text` as ssh would read it at `path`, without installing it: ssh -G on a copy in the session's scratch path. */
function candidateScript(path: string, text: string): string {
  return [
    'f=$sshfix_scratch',
    ...writeCandidateFile('"$f"', text, 'SSHFIX_EOF'),
    `ssh -G -F "$f" ${UNRELATED_HOST} >/dev/null 2>"$f.err" || { sed "s|$f|${path.replace(/[|\\&'"]/g, '')}|g" "$f.err"; exit 1; }`,
  ].join('\n');
}

export const sshClientService: Service<SshClientFacts, SshClientPlan, SshClientExpectation, SshClientContribution> = {
  id: 'ssh_client',
  defaultPaths: [SYSTEM_SSH_CONFIG],
  factLines: sshClientFactLines,
  readFacts: readSshClientFacts,
  opensshVersion: (facts) => facts.version,
  unlistedDirs: (_snapshot: FileSnapshot) => [],
  precheck: () => undefined,
  applyCheck: () => undefined,
  describe: () => 'ssh_config: read by ssh at each connection (no reload)',
  finishPlan: ({ contributions }) => {
    const configs = [...new Set(contributions.map((c) => c.config))];
    return { configs, leakChecks: configs.filter((c) => !contributions.some((x) => x.config === c && x.coversUnrelated)) };
  },
  expectationKey: (e) => `${e.config}\n${e.connection}\n${e.keyword}\n${e.match}`,
  candidateChecks: ({ snapshot, changed }): CandidateCheck[] =>
    changed
      .filter((f) => f.service === 'ssh_client')
      .flatMap((f) => {
        const text = snapshot.files.get(f.path);
        return text === undefined ? [] : [{ script: candidateScript(f.path, text) }];
      }),
  candidateRejected: (message) => ({
    code: 'validation-failed',
    message: `ssh -G rejects the planned ssh_config: ${message}`,
    diagnosis: 'Nothing was changed. ssh would refuse every connection with this file; adjust the playbook.',
  }),
  validatingStage: 'validating with ssh -G',
  scripts: (_facts, plan) => ({
    id: 'ssh_client',
    label: 'ssh',
    helpers: [],
    // A config the change removes (a rollback of the transaction that created it) reads as none.
    validate: plan.configs.map((c) => `c=${q(c)}; [ -e "$c" ] || c=none; ssh -G -F "$c" ${UNRELATED_HOST} >/dev/null 2>"$B/ssh_client.err" || { cat "$B/ssh_client.err"; return 1; }`),
    validateRestored: [':'],
    reload: ':',
    alive: ':',
    start: ':',
    beforeReload: [],
    reloadDescription: 'nothing to reload: ssh reads its config at each connection',
  }),
  commitDiagnoses: {
    rejected: 'ssh -G rejected the new ssh_config; the files were restored and the host is byte-identical to before.',
    reloadFailed: 'Nothing is reloaded for ssh_config; the files were restored.',
    stopped: 'Nothing runs for ssh_config; the files were restored.',
  },
  verify: async (connection, plan, expectations, facts) => {
    const values = await verifyClientValues(connection, expectations);
    if (values.some((v) => !v.ok)) return { values };
    const unplanned = await leakedSettings(connection, facts.unrelated, plan.leakChecks);
    return { values, ...(unplanned ? { unplanned } : {}) };
  },
  checkName: 'ssh -G',
  provableLocally: true,
  isSavedPlan: (data): data is SshClientPlan =>
    isRecord(data) && Array.isArray(data['configs']) && data['configs'].every(isSafePath) && Array.isArray(data['leakChecks']) && data['leakChecks'].every(isSafePath),
  isSavedExpectation: (e): e is SshClientExpectation =>
    isRecord(e) &&
    isSafePath(e['config']) &&
    typeof e['connection'] === 'string' &&
    /^[A-Za-z0-9_.:-]+$/.test(e['connection']) &&
    typeof e['keyword'] === 'string' &&
    /^[a-z0-9]+$/.test(e['keyword']) &&
    Array.isArray(e['values']) &&
    (e['values'] as unknown[]).every((v) => typeof v === 'string') &&
    ['equals', 'contains', 'excludes', 'starts'].includes(e['match'] as string),
};
