/**
 * What libwrap decides for the clients a tcp_wrappers task asked for, over the files as they
 * are: the planner's expectation and the verification after apply use the same reading. Pure.
 */
import { describeDecision, evaluateHostsAccess } from '../../config/hosts-access/evaluate.js';
import { parseHostsAccess } from '../../config/hosts-access/parse.js';
import { findSshguardBlock, insideSshguardBlock } from '../../config/hosts-access/sshguard.js';

/** A client the task lets through, as verification checks it. */
export interface WrappersExpectation {
  task: string;
  daemon: string;
  /** The pattern written in hosts.allow (`192.0.2.7`, `[2001:db8::7]`, `198.51.100.0/24`, `ALL`). */
  client: string;
  /**
   * For an address: libwrap must grant it. A network, a name or ALL is not one connection the
   * evaluator can decide, so for those the line `daemon: client` must stand in hosts.allow,
   * outside sshguard's block.
   */
  address?: string;
}

export interface WrappersTables {
  allow: string;
  deny: string;
  allowPath: string;
  denyPath: string;
}

/** `granted`, `denied` or `delegated` for an address; `present`/`absent` for the line of a pattern. */
export function wrappersOutcome(tables: WrappersTables, e: Omit<WrappersExpectation, 'task'>): { value: string; detail: string } {
  const allow = parseHostsAccess(tables.allow, tables.allowPath);
  if (e.address !== undefined) {
    const decision = evaluateHostsAccess({ allow, deny: parseHostsAccess(tables.deny, tables.denyPath) }, { daemon: e.daemon, clientAddress: e.address });
    return { value: decision.access, detail: describeDecision(decision) };
  }
  const block = findSshguardBlock(allow);
  const line = allow.entries.findIndex(
    (entry, i) =>
      !insideSshguardBlock(block, i) &&
      entry.kind === 'rule' &&
      entry.options === undefined &&
      entry.daemons.length === 1 &&
      entry.clients.length === 1 &&
      entry.daemons[0]!.value.toLowerCase() === e.daemon.toLowerCase() &&
      entry.clients[0]!.value.toLowerCase() === e.client.toLowerCase(),
  );
  return line === -1 ? { value: 'absent', detail: `no line "${e.daemon}: ${e.client}" in ${tables.allowPath}` } : { value: 'present', detail: `${tables.allowPath}:${allow.entries[line]!.line}` };
}

/** The value verification must find. */
export const expectedOutcome = (e: Pick<WrappersExpectation, 'address'>): string => (e.address !== undefined ? 'granted' : 'present');
