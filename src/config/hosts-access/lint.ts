/**
 * Findings in a hosts.allow / hosts.deny that libwrap reads otherwise than a person would: lines
 * it skips, a last line without its newline (in hosts.deny that refuses every client no earlier
 * line matched), option errors (which refuse), a `#` that is no comment, a comment continued onto
 * the next line, IPv6 written without brackets (cut at its first colon), and networks that match
 * nothing (host bits set, an IPv4 /0, the mask 255.255.255.255). Warnings with file, line and
 * column, for `diagnose` and for the task's report.
 */
import type { Diagnostic, SourceRange } from '../../util/diagnostics.js';
import { parseIpv6 } from '../sshd/values.js';
import { dotQuad, ipv4Mask } from './match.js';
import { evaluateOptions } from './options.js';
import { entryPosition, type HostsAccessEntry, type HostsAccessFile, type HostsAccessToken } from './parse.js';

function rangeOf(entry: HostsAccessEntry, start: number, end: number): SourceRange {
  return { start: entryPosition(entry, start), end: entryPosition(entry, end) };
}

function wholeEntry(entry: HostsAccessEntry): SourceRange {
  return rangeOf(entry, 0, entry.logical.length);
}

/** Why a `net/mask` client item can never match, or undefined when it can. */
function deadNetwork(value: string): string | undefined {
  const slash = value.indexOf('/');
  if (slash === -1 || value.startsWith('[') || value.startsWith('/')) return undefined;
  const net = dotQuad(value.slice(0, slash));
  if (net === undefined) return undefined;
  const maskText = value.slice(slash + 1);
  if (maskText === '255.255.255.255') return 'libwrap reads the mask 255.255.255.255 as an error (write the address alone)';
  const mask = ipv4Mask(maskText);
  if (mask === undefined) return `libwrap accepts IPv4 prefix lengths 1 to 32 only (${JSON.stringify(maskText)})`;
  if (((net & mask) >>> 0) !== net) return 'the network has host bits set: libwrap compares the masked client with it as written, so nothing matches';
  return undefined;
}

const looksLikeBareIpv6 = (t: string): boolean => !t.startsWith('[') && t.includes(':') && parseIpv6(t.split('/')[0]!) !== undefined;

function itemFindings(path: string, entry: HostsAccessEntry, token: HostsAccessToken): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (code: string, message: string, hint?: string): Diagnostic => ({
    severity: 'warning',
    code,
    message,
    ...(hint ? { hint } : {}),
    file: path,
    range: rangeOf(entry, token.start, token.end),
  });
  if (token.value.startsWith('#')) {
    out.push(at('hosts-access-inline-comment', `"#" starts a comment only at the start of a line: here "${token.value}" and what follows are read as patterns`, 'move the comment to a line of its own'));
  }
  const dead = deadNetwork(token.value);
  if (dead) out.push(at('hosts-access-dead-network', `${token.value} matches no client: ${dead}`));
  return out;
}

/** Findings for one table (`table` says which: a broken hosts.deny refuses, a broken hosts.allow does not). */
export function lintHostsAccess(file: HostsAccessFile, table: 'allow' | 'deny'): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (entry: HostsAccessEntry, code: string, message: string, range: SourceRange = wholeEntry(entry), hint?: string): void => {
    out.push({ severity: 'warning', code, message, ...(hint ? { hint } : {}), file: file.path, range });
  };
  for (const entry of file.entries) {
    if (entry.problem === 'missing-separator') add(entry, 'hosts-access-missing-separator', 'libwrap skips this line: it has no ":" between daemons and clients');
    if (entry.problem === 'missing-newline') {
      add(
        entry,
        'hosts-access-missing-newline',
        table === 'deny'
          ? 'the last line has no newline: libwrap stops on it with an error and refuses every client no earlier line matched'
          : 'the last line has no newline: libwrap skips it (and stops reading hosts.allow there)',
        wholeEntry(entry),
        'end the file with a newline',
      );
    }
    if (entry.problem === 'entry-too-long') add(entry, 'hosts-access-entry-too-long', 'the line is longer than libwrap reads (2047 characters): libwrap stops on it with an error');
    if (entry.kind === 'comment' && entry.lastLine > entry.line) {
      add(entry, 'hosts-access-comment-continued', `the backslash ending line ${entry.line} continues the comment: lines ${entry.line + 1}-${entry.lastLine} are commented out too`);
    }
    if (entry.kind !== 'rule') continue;
    for (const token of [...entry.daemons, ...entry.clients]) out.push(...itemFindings(file.path, entry, token));
    const lastClient = entry.clients[entry.clients.length - 1];
    const cut = entry.options && lastClient && /^[0-9a-f]{1,4}$/i.test(lastClient.value) && looksLikeBareIpv6(`${lastClient.value}:${entry.options.text.trim().split(/[\s,]/)[0]!}`);
    if (cut) {
      add(entry, 'hosts-access-bare-ipv6', 'an IPv6 address without brackets: libwrap cuts the line at its first colon', wholeEntry(entry), 'write it as [2001:db8::1] or [2001:db8::]/32');
    }
    if (entry.options && !cut) {
      const outcome = evaluateOptions(entry.options.text);
      if (outcome.kind === 'error') {
        add(entry, 'hosts-access-bad-option', `options error (${outcome.message}): libwrap refuses every client this line matches`, rangeOf(entry, entry.options.start, entry.logical.length));
      }
    }
  }
  return out;
}
