/**
 * sshd as a managed service: its facts, the pre-check of the live config, candidate validation
 * with `sshd -t` on the host, the transaction's fragments, and `sshd -T` verification.
 */
import { parseSshdDump } from '../../config/sshd/defaults.js';
import { matchValidationSpecs } from '../../config/sshd/connection-spec.js';
import { buildSshdConfigTree } from '../../config/sshd/tree.js';
import { isRecord, isSafePath } from '../../util/safe-values.js';
import type { Service } from '../service.js';
import { buildCandidateValidation } from './candidate-tree.js';
import { hostSshdDefaults } from './host-defaults.js';
import { DEFAULT_SSHD_CONFIG, readSshdFacts, SSHD_BUILD, SSHD_SHARED, sshdFactLines, unlistedIncludeDirs, type SshdBuildFacts, type SshdFacts } from './facts.js';
import { sshdScripts } from './scripts.js';
import { unplannedChanges, verifyValues, type SshdExpectation } from './verify.js';

/** What an apply of sshd changes needs from the plan (saved plans hold it). */
export interface SshdPlan {
  /** Main configs the change touches: validated with `sshd -t -f` at commit. */
  configs: string[];
  /** `sshd -T -C` connection specs validated besides the plain `sshd -t`. */
  specs: string[];
}

/** What one task adds to the sshd plan. */
export interface SshdContribution {
  /** The main config the task edited, when it edited one. */
  config?: string;
  /** Connections whose Match blocks the task touches. */
  matchSpecs: readonly string[];
}

const isSpec = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_.:,=@%/*?!+-]*$/.test(v);

export const sshdService: Service<SshdFacts, SshdPlan, SshdExpectation, SshdContribution, SshdBuildFacts> = {
  id: 'sshd',
  defaultPaths: [DEFAULT_SSHD_CONFIG],
  factLines: sshdFactLines,
  build: SSHD_BUILD,
  shared: SSHD_SHARED,
  readFacts: readSshdFacts,
  opensshVersion: (facts) => facts.version,
  unlistedDirs: unlistedIncludeDirs,
  precheck: (facts) =>
    facts.test.ok
      ? undefined
      : /Missing privilege separation directory/.test(facts.test.output)
        ? {
            // Not the config's fault: sshd's runtime directory exists only while the service runs.
            code: 'sshd-not-running',
            message: `sshd cannot test its config on this host: ${facts.test.output.trim()}`,
            diagnosis: 'sshd is not running here (its service creates that directory when it starts), so no change could be reloaded or proven; start sshd first. sshfix changes nothing on this host.',
          }
        : {
          code: 'config-invalid',
          message: `the live sshd config does not pass sshd -t: ${facts.test.output}`,
          diagnosis: 'Any reload would stop sshd. Fix or remove the file sshd names before changing anything else; sshfix changes nothing on this host.',
        },
  applyCheck: (facts) =>
    facts.reload.kind === 'unknown'
      ? {
          code: 'cannot-reload',
          message: `no way to reload sshd on this host (${facts.reload.reason})`,
          diagnosis: 'sshfix only writes a config it can load and prove; reload support for this init system is missing',
        }
      : undefined,
  describe: (facts) =>
    facts.reload.kind === 'systemctl' ? `systemctl reload ${facts.reload.unit}` : facts.reload.kind === 'signal' ? `SIGHUP via ${facts.reload.pidFile}` : facts.reload.kind,
  finishPlan({ contributions, snapshot, facts, base }) {
    const { version, release } = hostSshdDefaults(facts, base.opensshVersion);
    const configs = [...new Set(contributions.flatMap((c) => (c.config ? [c.config] : [])))];
    const specs = new Set(contributions.flatMap((c) => c.matchSpecs));
    for (const config of configs) {
      for (const spec of matchValidationSpecs(buildSshdConfigTree(snapshot, config).tree, version, release)) specs.add(spec);
    }
    return { configs, specs: [...specs] };
  },
  expectationKey: (e) => `${e.keyword}\n${e.connection ?? ''}`,
  candidateChecks({ plan, snapshot, changed, requested }) {
    if (plan.configs.length === 0) return [];
    const checks = [];
    for (const config of requested) {
      const tree = buildSshdConfigTree(snapshot, config).tree;
      if (!changed.some((f) => tree.files.has(f.path))) continue;
      checks.push(buildCandidateValidation(tree, plan.specs));
    }
    return checks;
  },
  candidateRejected: (message) => ({
    code: 'validation-failed',
    message: `sshd -t rejects the planned config: ${message}`,
    diagnosis: "Nothing was changed. The planned edit would not load; adjust the playbook (or report it if the edit is sshfix's own).",
  }),
  validatingStage: 'validating with sshd -t',
  scripts: (facts, plan) => sshdScripts({ configs: plan.configs.length > 0 ? plan.configs : [DEFAULT_SSHD_CONFIG], matchSpecs: plan.specs, reload: facts.reload }),
  commitDiagnoses: {
    rejected: 'sshd -t rejected the new config, so it was never loaded; the files were restored and the host is byte-identical to before.',
    reloadFailed: 'The reload command failed; the files were restored and sshd keeps running its old config.',
    stopped: 'sshd accepted the config (sshd -t) but exited when it loaded it (e.g. an address it cannot bind); the previous config was restored and sshd started again.',
  },
  verify: async (connection, _plan, expectations, facts) => {
    const values = await verifyValues(connection, expectations);
    if (values.some((v) => !v.ok) || !facts.dump.ok) return { values };
    const unplanned = await unplannedChanges(connection, facts.dump.output, expectations);
    return { values, ...(unplanned ? { unplanned } : {}) };
  },
  // The facts hold the plain global `sshd -T`: Match-scoped values and other main configs are left out.
  restoreExpectations: (facts, expectations) => {
    if (!facts.dump.ok) return [];
    const dump = parseSshdDump(facts.dump.output);
    return expectations
      .filter((e) => e.connection === undefined && (e.config === undefined || e.config === DEFAULT_SSHD_CONFIG))
      .map((e) => ({ task: e.task, keyword: e.keyword, values: dump.get(e.keyword) ?? [] }));
  },
  checkName: 'sshd -T',
  isSavedPlan: (data): data is SshdPlan =>
    isRecord(data) && Array.isArray(data['configs']) && data['configs'].every(isSafePath) && Array.isArray(data['specs']) && data['specs'].every(isSpec),
  isSavedExpectation: (e): e is SshdExpectation =>
    isRecord(e) &&
    typeof e['keyword'] === 'string' &&
    /^[a-z0-9]+$/.test(e['keyword']) &&
    Array.isArray(e['values']) &&
    (e['values'] as unknown[]).every((v) => typeof v === 'string') &&
    (e['connection'] === undefined || isSpec(e['connection'])) &&
    (e['config'] === undefined || isSafePath(e['config'])),
};
