/**
 * The decision libwrap takes for one connection: hosts.allow is read first, then hosts.deny; the
 * first rule whose daemon list and client list both match decides (a rule matched in hosts.allow
 * grants, one in hosts.deny refuses, unless its options say `allow`, `deny` or `twist`, and an
 * error in its options refuses); no matching rule grants; a missing file is empty.
 * A table that libwrap stops reading on an error (its last line has no newline, or an entry is
 * too long) ends in an error when no earlier rule matched: in hosts.allow that counts as no
 * match, in hosts.deny it refuses the connection (checked with tcpdmatch: a hosts.deny whose last
 * line lacks its newline refuses every client no earlier line matched).
 *
 * Pure: names are inputs. libwrap looks the client's name up itself (reverse, then forward to
 * check it): pass the name it would get, `UNKNOWN_HOST` when the lookup fails (the default, and
 * what `tcpdmatch DAEMON ADDRESS` assumes) or `PARANOID_HOST` when the two lookups disagree.
 * `KNOWN`, `LOCAL` (a known name without a dot), `UNKNOWN`, `PARANOID` and name patterns depend
 * on it.
 */
import { clientMatch, canonicalAddress, listMatch, serverMatch, UNKNOWN_HOST, type HostInfo, type MatchContext } from './match.js';
import { evaluateOptions } from './options.js';
import type { HostsAccessEntry, HostsAccessFile } from './parse.js';

export interface HostsAccessTables {
  allow: HostsAccessFile;
  deny: HostsAccessFile;
  /** Contents of files named by `/file` patterns, by absolute path. */
  patternFiles?: ReadonlyMap<string, string>;
}

export interface AccessRequest {
  /** The daemon's process name as libwrap gets it (`sshd`). */
  daemon: string;
  /** The client's address (any IPv4/IPv6 text; compared in the kernel's canonical form). */
  clientAddress: string;
  /** The client's name as libwrap would find it; `unknown` by default. */
  clientName?: string;
  /** The remote user name (`user@host` patterns); `unknown` by default, as sshd never asks identd. */
  user?: string;
  /** The local endpoint (`daemon@host` patterns); unknown by default, as tcpdmatch assumes. */
  server?: Partial<HostInfo>;
}

export type Access = 'granted' | 'denied' | 'delegated';

/** The rule that decided, for the diagnose command ("hosts.allow:3"). */
export interface DecidingRule {
  path: string;
  table: 'allow' | 'deny';
  /** First and last physical lines of the entry. */
  line: number;
  lastLine: number;
  text: string;
  entry: HostsAccessEntry;
  /** What in the rule decided; `table-error`: the entry libwrap could not read, in hosts.deny. */
  via: 'table' | 'option-allow' | 'option-deny' | 'option-twist' | 'option-error' | 'table-error';
  /** The options error message, for `option-error`. */
  error?: string;
}

export interface AccessDecision {
  /** `delegated`: a `twist` option hands the connection to a command instead of the daemon. */
  access: Access;
  /** Absent when no rule matched (access granted by default). */
  decidedBy?: DecidingRule;
  /** Patterns on the way that could not be evaluated with certainty. */
  uncertain: string[];
}

/** One line of explanation: "denied by /etc/hosts.allow:3 (`ALL: ALL: DENY`)". */
export function describeDecision(d: AccessDecision): string {
  if (!d.decidedBy) return `${d.access}: no rule in hosts.allow or hosts.deny matches`;
  const r = d.decidedBy;
  const where = r.line === r.lastLine ? `${r.path}:${r.line}` : `${r.path}:${r.line}-${r.lastLine}`;
  const why =
    r.via === 'option-error' || r.via === 'table-error'
      ? ` (${r.via === 'table-error' ? 'table error' : 'options error'}: ${r.error ?? ''})`
      : r.via === 'table'
        ? ''
        : ` (option ${r.via.slice(7)})`;
  return `${d.access} by ${where}${why}: ${r.text.trim()}`;
}

export function ruleMatches(entry: HostsAccessEntry, ctx: MatchContext): boolean {
  if (entry.kind !== 'rule') return false;
  return (
    listMatch(
      entry.daemons.map((t) => t.value),
      (tok) => serverMatch(tok, ctx),
    ) &&
    listMatch(
      entry.clients.map((t) => t.value),
      (tok) => clientMatch(tok, ctx),
    )
  );
}

export function matchContext(tables: HostsAccessTables, request: AccessRequest): MatchContext {
  return {
    daemon: request.daemon,
    client: { address: canonicalAddress(request.clientAddress) ?? request.clientAddress, name: request.clientName ?? UNKNOWN_HOST },
    server: {
      address: request.server?.address !== undefined ? (canonicalAddress(request.server.address) ?? request.server.address) : UNKNOWN_HOST,
      name: request.server?.name ?? UNKNOWN_HOST,
    },
    user: request.user ?? UNKNOWN_HOST,
    patternFiles: tables.patternFiles ?? new Map(),
    uncertain: [],
  };
}

/** The decision of a rule that matched in `table`. */
export function ruleDecision(entry: HostsAccessEntry, path: string, table: 'allow' | 'deny'): { access: Access; rule: DecidingRule } {
  const rule: DecidingRule = { path, table, line: entry.line, lastLine: entry.lastLine, text: entry.logical, entry, via: 'table' };
  const outcome = entry.options ? evaluateOptions(entry.options.text) : { kind: 'none' as const };
  switch (outcome.kind) {
    case 'none':
      return { access: table === 'allow' ? 'granted' : 'denied', rule };
    case 'allow':
      return { access: 'granted', rule: { ...rule, via: 'option-allow' } };
    case 'deny':
      return { access: 'denied', rule: { ...rule, via: 'option-deny' } };
    case 'twist':
      return { access: 'delegated', rule: { ...rule, via: 'option-twist' } };
    case 'error':
      return { access: 'denied', rule: { ...rule, via: 'option-error', error: outcome.message } };
  }
}

export function evaluateHostsAccess(tables: HostsAccessTables, request: AccessRequest): AccessDecision {
  const ctx = matchContext(tables, request);
  for (const [table, file] of [['allow', tables.allow] as const, ['deny', tables.deny] as const]) {
    for (const entry of file.entries) {
      if (entry.problem === 'missing-newline' || entry.problem === 'entry-too-long') {
        if (table === 'allow') break;
        const error = entry.problem === 'missing-newline' ? 'missing newline' : 'line too long';
        const rule: DecidingRule = { path: file.path, table, line: entry.line, lastLine: entry.lastLine, text: entry.logical, entry, via: 'table-error', error };
        return { access: 'denied', decidedBy: rule, uncertain: ctx.uncertain };
      }
      if (!ruleMatches(entry, ctx)) continue;
      const { access, rule } = ruleDecision(entry, file.path, table);
      return { access, decidedBy: rule, uncertain: ctx.uncertain };
    }
  }
  return { access: 'granted', uncertain: ctx.uncertain };
}
