/**
 * Planner of `fail2ban` tasks: the config engine's minimal edits (src/config/fail2ban/edit.ts) of
 * the host's jail files, refused when fail2ban would not load the result (every value the server
 * evaluates, not only what `fail2ban-client -t` checks), plus what the transaction must prove
 * after the reload: the jails still run, the jail lists the new ignoreip entries, the set keys show
 * their values, and the addresses to unban are no longer banned. A host without fail2ban, with
 * the server stopped or without the jail running is a no-op saying so.
 */
import { ensureIgnoreIp, setJailKeys, type Fail2banEditResult } from '../../config/fail2ban/edit.js';
import { findCoveringEntry, parseIgnoreIpEntry, type IgnoreIpEntry } from '../../config/fail2ban/ignoreip.js';
import { buildFail2banLayers, type Fail2banLayers } from '../../config/fail2ban/layers.js';
import { checkFail2banJailValue } from '../../config/fail2ban/values.js';
import type { FileSnapshot } from '../../config/openssh/snapshot-glob.js';
import { describeLoadProblem, diagnosticPlace, fail2banLoadProblem } from '../../services/fail2ban/loadable.js';
import type { Diagnostic } from '../../util/diagnostics.js';
import { emptyOutcome, type PlanInput, type PlanOutcome } from '../planner.js';
import type { Fail2banTaskParams } from './schema.js';

/** Keys whose value `fail2ban-client get JAIL KEY` prints, so apply can check them. */
const GETTABLE = new Set(['maxretry', 'findtime', 'bantime']);

const withPlace = (d: Diagnostic): string => {
  const place = diagnosticPlace(d);
  return place ? `${d.message} (${place})` : d.message;
};

/** What `fail2ban-client get JAIL KEY` prints for a value sshfix writes, when it is a whole number. */
function printedValue(key: string, value: string): string | undefined {
  const check = checkFail2banJailValue(key, value);
  if (!check.ok) return undefined;
  const n = key === 'maxretry' ? Number(check.normalized) : check.seconds;
  return n !== undefined && Number.isInteger(n) ? String(n) : undefined;
}

export function planFail2banTask(input: PlanInput<Fail2banTaskParams>): PlanOutcome {
  const { params } = input;
  const outcome = emptyOutcome();
  const f2b = input.facts.services.fail2ban;
  if (!f2b) {
    outcome.refusal = { code: 'facts-missing', message: 'fail2ban facts were not gathered for this host', hint: 'this is a bug in sshfix, please report it' };
    return outcome;
  }
  if (!f2b.installed) {
    outcome.note = 'fail2ban is not installed on this host (no fail2ban-client): nothing to change';
    return outcome;
  }
  if (!f2b.running) {
    outcome.note = 'fail2ban-server is not running (fail2ban-client ping got no answer): nothing bans here now; sshfix does not start it';
    outcome.warnings.push('fail2ban-server is stopped: its jails ban nobody until it is started again');
    return outcome;
  }
  const running = f2b.jails.find((j) => j.name === params.jail);
  if (!running) {
    outcome.note = `jail ${params.jail} is not running (running jails: ${f2b.jails.map((j) => j.name).join(', ') || 'none'}): nothing to change`;
    return outcome;
  }

  const base = input.files.snapshot();
  const built = buildFail2banLayers(base);
  if (built.unresolved.length > 0) {
    outcome.refusal = { code: 'config-incomplete', message: `cannot tell which fail2ban files exist in ${built.unresolved.join(', ')}`, hint: 'the fact script could not list them; please report it' };
    return outcome;
  }
  let layers: Fail2banLayers = built.layers;
  const written = new Map<string, string>();
  const notes: string[] = [];
  const apply = (result: Fail2banEditResult): boolean => {
    const error = result.warnings.find((d) => d.severity === 'error');
    if (error) {
      outcome.refusal = { code: error.code, message: withPlace(error), ...(error.hint ? { hint: error.hint } : {}) };
      return false;
    }
    outcome.warnings.push(...result.warnings.map(withPlace));
    if (result.note) notes.push(result.note);
    for (const edit of result.edits) written.set(edit.path, edit.after);
    if (result.edits.length > 0) {
      const files = new Map(layers.snapshot.files);
      for (const edit of result.edits) files.set(edit.path, edit.after);
      const snapshot: FileSnapshot = { ...layers.snapshot, files };
      layers = buildFail2banLayers(snapshot, layers.baseDir).layers;
    }
    return true;
  };
  if (params.ignoreip.length > 0 && !apply(ensureIgnoreIp(layers, params.jail, params.ignoreip))) return outcome;
  if (Object.keys(params.set).length > 0 && !apply(setJailKeys(layers, params.jail, params.set))) return outcome;

  const problem = fail2banLoadProblem(layers);
  if (problem) {
    outcome.refusal = {
      code: 'fail2ban-config-invalid',
      message: `fail2ban would not load the planned config: ${describeLoadProblem(problem)}`,
      hint: 'a reload would leave no jail running; fix that value (sshfix wrote nothing)',
    };
    return outcome;
  }

  // Entries the running jail does not cover yet: after the reload `get JAIL ignoreip` must list them.
  const live: IgnoreIpEntry[] = running.ignoreip.map(parseIgnoreIpEntry);
  const added = params.ignoreip.map(parseIgnoreIpEntry).filter((e) => e.kind !== 'invalid' && !findCoveringEntry(live, e));
  const formatted = added.flatMap((e) => (e.kind === 'invalid' ? [] : [e.formatted]));
  const unban = params.unban.map((a) => {
    const e = parseIgnoreIpEntry(a);
    return e.kind === 'ip' ? e.formatted : a;
  });
  const banned = unban.filter((a) => running.banned.includes(a));
  const stillBanned = running.banned.filter((b) => params.ignoreip.some((i) => findCoveringEntry([parseIgnoreIpEntry(i)], parseIgnoreIpEntry(b))) && !unban.includes(b));
  for (const b of stillBanned) {
    outcome.warnings.push(`${b} is banned in jail ${params.jail}: a new ignoreip entry lifts no existing ban; add it to unban:`);
  }

  outcome.edits = [...written].map(([path, after]) => ({ path, after, service: 'fail2ban' as const }));
  const notBanned = unban.filter((a) => !banned.includes(a)).map((a) => `${a} is not banned in jail ${params.jail}`);
  outcome.actions = banned.map((a) => ({ service: 'fail2ban' as const, description: `lift the ban of ${a} in jail ${params.jail} (fail2ban-client set ${params.jail} unbanip ${a})${outcome.edits.length > 0 ? ', after the reload' : ''}` }));
  if (outcome.edits.length === 0) {
    // Only bans to lift: an action on the running server, with no file written and nothing to reload.
    if (banned.length > 0) {
      outcome.warnings.push(...notes, ...notBanned);
      outcome.contributions = [{ service: 'fail2ban', jail: params.jail, ignore: [], unban: banned, disables: false }];
      return outcome;
    }
    outcome.note = [...notes, ...notBanned].join('; ') || 'already as requested';
    return outcome;
  }
  if (notes.length > 0) outcome.warnings.push(...notes);
  outcome.expectations = Object.entries(params.set).flatMap(([key, value]) => {
    const printed = GETTABLE.has(key) ? printedValue(key, value) : undefined;
    return printed === undefined ? [] : [{ service: 'fail2ban' as const, jail: params.jail, keyword: key, values: [printed] }];
  });
  const disables = params.set['enabled'] !== undefined && checkFail2banJailValue('enabled', params.set['enabled']).ok && !['1', 'on', 'true', 'yes'].includes(params.set['enabled'].trim().toLowerCase());
  outcome.contributions = [{ service: 'fail2ban', jail: params.jail, ignore: formatted, unban, disables }];
  return outcome;
}
