/**
 * sshd's own access decision for an account from an address (auth.c `allowed_user`): DenyUsers,
 * then AllowUsers, then DenyGroups, then AllowGroups; the first that refuses is the reason. Pure.
 */
import { addressListMatches, matchPatternList } from '../config/sshd/match.js';
import type { AccessList } from './log-lines.js';

/** The effective lists for one connection, as `sshd -T -C user=U,addr=A,host=H` prints them. */
export interface AccessLists {
  allowUsers: readonly string[];
  denyUsers: readonly string[];
  allowGroups: readonly string[];
  denyGroups: readonly string[];
}

export interface AccessQuery {
  user: string;
  /** The client's address as sshd sees it. */
  address: string;
  /** Its name when sshd looks names up (UseDNS), else the address. */
  hostName?: string;
  /** The account's groups on the host; undefined when unknown. */
  groups?: readonly string[];
}

export type AccessDecision =
  | { allowed: true }
  | { allowed: false; list: AccessList; entry?: string; reason: string }
  | { allowed: 'unknown'; list: AccessList; reason: string };

/** OpenSSH's `match_user`: `user` or `user@host`, the host part an address list or host patterns. */
function matchUserEntry(entry: string, query: AccessQuery): boolean {
  const at = entry.lastIndexOf('@');
  if (at === -1) return matchPatternList(query.user, entry) === 1;
  if (matchPatternList(query.user, entry.slice(0, at)) !== 1) return false;
  const hostPatterns = entry.slice(at + 1);
  const byAddress = addressListMatches(query.address, hostPatterns);
  if (byAddress < 0) return false;
  const byName = matchPatternList((query.hostName ?? query.address).toLowerCase(), hostPatterns, true);
  if (byName === -1) return false;
  return byAddress === 1 || byName === 1;
}

const matchesGroup = (groups: readonly string[], patterns: readonly string[]): string | undefined =>
  patterns.find((p) => groups.some((g) => matchPatternList(g, p) === 1));

/** Whether sshd lets `query.user` in from `query.address` under `lists`, and which list refuses it. */
export function accessDecision(lists: AccessLists, query: AccessQuery): AccessDecision {
  const denied = lists.denyUsers.find((e) => matchUserEntry(e, query));
  if (denied !== undefined) return { allowed: false, list: 'DenyUsers', entry: denied, reason: `${query.user} is listed in DenyUsers (${denied})` };
  if (lists.allowUsers.length > 0 && !lists.allowUsers.some((e) => matchUserEntry(e, query))) {
    return { allowed: false, list: 'AllowUsers', reason: `${query.user} from ${query.address} is not listed in AllowUsers (${lists.allowUsers.join(' ')})` };
  }
  if (lists.denyGroups.length === 0 && lists.allowGroups.length === 0) return { allowed: true };
  if (query.groups === undefined) {
    const list: AccessList = lists.denyGroups.length > 0 ? 'DenyGroups' : 'AllowGroups';
    return { allowed: 'unknown', list, reason: `the groups of ${query.user} on the host are unknown, so ${list} could not be evaluated` };
  }
  const deniedGroup = matchesGroup(query.groups, lists.denyGroups);
  if (deniedGroup !== undefined) return { allowed: false, list: 'DenyGroups', entry: deniedGroup, reason: `a group of ${query.user} is listed in DenyGroups (${deniedGroup})` };
  if (lists.allowGroups.length > 0 && matchesGroup(query.groups, lists.allowGroups) === undefined) {
    return { allowed: false, list: 'AllowGroups', reason: `none of ${query.user}'s groups (${query.groups.join(' ') || 'none'}) is listed in AllowGroups (${lists.allowGroups.join(' ')})` };
  }
  return { allowed: true };
}
