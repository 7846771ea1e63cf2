/**
 * Planner of `tcp_wrappers` tasks: for each client, the hosts_access engine's narrow hosts.allow
 * line (src/config/hosts-access/edit.ts), placed before what would refuse it and never inside
 * sshguard's block, or nothing when libwrap already lets it through. Where sshd does not link
 * libwrap (Fedora and RHEL 8 and later, Alpine, openSUSE), the files do nothing for sshd and the
 * task changes nothing. Pure.
 */
import { ensureAllowed, HOSTS_ALLOW, HOSTS_DENY } from '../../config/hosts-access/edit.js';
import { validateHostsClient } from '../../config/hosts-access/validate.js';
import type { Diagnostic } from '../../util/diagnostics.js';
import { emptyOutcome, type PlanInput, type PlanOutcome } from '../planner.js';
import type { TcpWrappersTaskParams } from './schema.js';

const where = (d: Diagnostic): string => (d.file && d.range ? ` (${d.file}:${d.range.start.line})` : '');

export function planTcpWrappersTask(input: PlanInput<TcpWrappersTaskParams>): PlanOutcome {
  const outcome = emptyOutcome();
  // A playbook's empty default: run with every playbook of ./playbooks, it must change nothing and say why.
  if (input.params.allow.some((a) => a.client === '')) {
    outcome.note = 'no client given, nothing to let through (the shipped playbook takes --var address=ADDRESS)';
    return outcome;
  }
  const facts = input.facts.services.tcp_wrappers;
  const sshdOnly = input.params.allow.every((a) => a.daemon === 'sshd');
  if (facts && facts.checked && facts.libwrap.length === 0 && sshdOnly) {
    outcome.note = 'sshd on this host does not link libwrap: hosts.allow and hosts.deny do nothing for it, so there is nothing to change';
    return outcome;
  }
  if (facts && !facts.checked) outcome.warnings.push('the host has no ldd, so whether sshd links libwrap (and reads hosts.allow) is unknown');
  const notes: string[] = [];
  let allow = input.files.read(HOSTS_ALLOW);
  const deny = input.files.read(HOSTS_DENY);
  for (const request of input.params.allow) {
    const result = ensureAllowed({ ...(allow !== undefined ? { allow } : {}), ...(deny !== undefined ? { deny } : {}) }, { daemon: request.daemon, client: request.client });
    const error = result.errors[0];
    if (error) {
      outcome.refusal = { code: error.code ?? 'tcp-wrappers-refused', message: `${error.message}${where(error)}`, ...(error.hint ? { hint: error.hint } : {}) };
      return outcome;
    }
    outcome.warnings.push(...result.warnings.map((w) => `${w.message}${where(w)}`));
    if (result.note) notes.push(result.note);
    const edit = result.edits[0];
    if (!edit || !result.line) continue;
    allow = edit.after;
    const client = validateHostsClient(request.client);
    if (!client.ok) continue;
    const daemon = result.line.slice(0, result.line.indexOf(':'));
    // An address is one connection the evaluator decides; a network, a name or ALL is checked by its line.
    const address = client.value.kind === 'address' && daemon !== 'ALL' ? client.value.address : undefined;
    outcome.expectations.push({ service: 'tcp_wrappers', daemon, client: client.value.pattern, ...(address !== undefined ? { address } : {}) });
  }
  if (allow !== undefined && allow !== input.files.read(HOSTS_ALLOW)) outcome.edits.push({ path: HOSTS_ALLOW, after: allow, service: 'tcp_wrappers' });
  if (notes.length > 0) outcome.note = notes.join('; ');
  return outcome;
}
