/**
 * Planner of `sshguard` tasks: whitelist entries appended to WHITELIST_FILE (comments and other
 * lines kept), and each unblocked address taken out of the hosts backend's block in hosts.allow
 * and out of the blacklist file (sshguard blocks what it lists again at start). A change to its
 * files is applied by restarting sshguard, which drops every block its backend holds: the plan
 * says so. A block in a firewall backend (nft set, ipset, iptables chain) with no file to change
 * is lifted alone, as an action that removes exactly the element covering the address. Pure.
 */
import { HOSTS_ALLOW } from '../../config/hosts-access/edit.js';
import { removeFromSshguardBlock } from '../../config/hosts-access/sshguard.js';
import { addToWhitelist, removeFromBlacklist, whitelistHas } from '../../config/sshguard/lists.js';
import { blocksCovering, describeFirewallSet, FIREWALL_BACKENDS } from '../../config/sshguard/firewall.js';
import { emptyOutcome, type PlanInput, type PlanOutcome } from '../planner.js';
import type { SshguardTaskParams } from './schema.js';

export function planSshguardTask(input: PlanInput<SshguardTaskParams>): PlanOutcome {
  const outcome = emptyOutcome();
  const facts = input.facts.services.sshguard;
  const { params } = input;
  if ([...params.whitelist, ...params.unblock].some((a) => a === '')) {
    outcome.note = 'no address given, nothing to do (the shipped playbook takes --var address=ADDRESS)';
    return outcome;
  }
  if (!facts?.installed) {
    outcome.note = 'sshguard is not installed on this host: nothing to whitelist or unblock';
    return outcome;
  }
  const notes: string[] = [];
  const edits = new Map<string, string>();
  const read = (path: string): string | undefined => edits.get(path) ?? input.files.read(path);

  if (params.whitelist.length > 0) {
    if (!facts.whitelistFile) {
      outcome.refusal = { code: 'sshguard-no-whitelist-file', message: 'sshguard.conf sets no WHITELIST_FILE', hint: 'set WHITELIST_FILE=/etc/sshguard/whitelist in /etc/sshguard/sshguard.conf' };
      return outcome;
    }
    if (facts.commandLineWhitelist.length > 0) {
      outcome.warnings.push(`sshguard runs with -w ${facts.commandLineWhitelist.join(' -w ')} on its command line, so it ignores ${facts.whitelistFile}: the entries take effect once it is started without -w`);
    }
    for (const entry of params.whitelist) {
      const text = read(facts.whitelistFile);
      if (text !== undefined && whitelistHas(text, entry)) notes.push(`${entry} is already in ${facts.whitelistFile}`);
      else edits.set(facts.whitelistFile, addToWhitelist(text, entry));
    }
  }
  const firewall = FIREWALL_BACKENDS.find((b) => b === facts.backend);
  const release: string[] = [];
  for (const address of params.unblock) {
    let found = false;
    if (facts.backend === 'hosts') {
      const allow = read(HOSTS_ALLOW);
      const removal = allow === undefined ? undefined : removeFromSshguardBlock(allow, address);
      if (removal && removal.removed > 0) {
        edits.set(HOSTS_ALLOW, removal.text);
        found = true;
      }
    } else if (firewall) {
      // The block may be a network holding the address (IPV4_SUBNET/IPV6_SUBNET below the full length).
      const covering = blocksCovering(facts.blocked, address);
      for (const element of covering) if (!release.includes(element)) release.push(element);
      found ||= covering.length > 0;
    }
    const blacklist = facts.blacklistFile ? read(facts.blacklistFile) : undefined;
    if (facts.blacklistFile && blacklist !== undefined) {
      const removal = removeFromBlacklist(blacklist, address);
      if (removal.removed > 0) {
        edits.set(facts.blacklistFile, removal.text);
        found = true;
      }
    }
    if (!found) notes.push(`sshguard does not block ${address}`);
    outcome.expectations.push({ service: 'sshguard', kind: 'unblocked', value: address });
  }
  for (const e of params.whitelist) outcome.expectations.push({ service: 'sshguard', kind: 'whitelisted', value: e });
  for (const [path, after] of edits) if (after !== input.files.read(path)) outcome.edits.push({ path, after, service: 'sshguard' });
  if (outcome.edits.length > 0 && facts.running) {
    outcome.warnings.push(
      `sshguard has no reload: applying restarts it, which drops every block its ${facts.backend} backend holds (${facts.blocked.length} address(es) now), and it blocks what its blacklist lists again at start`,
    );
  }
  // A restart (for changed files) drops every block the backend holds; without one, each block
  // covering an unblocked address is lifted alone, as sshguard's own release does.
  const restarts = outcome.edits.length > 0 && facts.running;
  if (firewall && !restarts) {
    for (const element of release) {
      outcome.actions.push({ service: 'sshguard', description: `lift the block ${element} from the ${describeFirewallSet(firewall, element)}${outcome.edits.length > 0 ? ', after writing the files' : ''}` });
    }
  }
  if (outcome.edits.length > 0 || outcome.actions.length > 0) outcome.contributions = [{ service: 'sshguard', restart: outcome.edits.length > 0, release: restarts ? [] : release }];
  if (outcome.edits.length === 0 && outcome.actions.length === 0) outcome.expectations = [];
  if (notes.length > 0) outcome.note = notes.join('; ');
  return outcome;
}
