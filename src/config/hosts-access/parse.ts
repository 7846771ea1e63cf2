/**
 * Lossless parsing of /etc/hosts.allow and /etc/hosts.deny (hosts_access(5), Debian's libwrap).
 *
 * libwrap reads a table with its own `xgets`: a physical line ending in backslash-newline is
 * joined with the next one (the backslash and newline vanish), and the joined text is one entry.
 * An entry whose text does not end in a newline (the last line of a file without one, or a
 * continuation that runs into the end of the file) is skipped with "missing newline". An entry
 * is a comment only when its very first character is `#` (a `#` after leading blanks, or inside
 * a rule, is an ordinary character: `sshd: 10.0.0.1 # office` lists the clients `#` and
 * `office`). A rule is `daemons : clients [: options]`, split at the first two colons that
 * stand outside square brackets (counting `[` and `]`, so `[2001:db8::1]` stays whole); the
 * options text keeps every later colon. List items are separated by blanks, tabs, CR and commas.
 *
 * This module keeps every byte: `stringifyHostsAccess(parseHostsAccess(x, p)) === x`.
 */
import type { SourcePosition } from '../../util/diagnostics.js';

/** Characters that separate items of daemon and client lists (libwrap's `sep`). */
const LIST_SEPARATORS = ', \t\r\n';

/** libwrap reads entries into a 2048-byte buffer; a longer entry is not read as written. */
export const HOSTS_ACCESS_MAX_ENTRY = 2046;

/** One item of a daemon or client list, with its offsets in the entry's logical text. */
export interface HostsAccessToken {
  value: string;
  start: number;
  end: number;
}

/** Why libwrap does not read an entry as a rule. */
export type HostsAccessProblem = 'missing-separator' | 'missing-newline' | 'entry-too-long';

/**
 * One entry: one or more physical lines joined by backslash continuations.
 * Invariant: the concatenation of every entry's `raw` is the file text.
 */
export interface HostsAccessEntry {
  /** 1-based number of the entry's first physical line. */
  line: number;
  /** 1-based number of its last physical line (libwrap reports this one as "line N"). */
  lastLine: number;
  /** The entry's bytes in the file, line endings and continuation backslashes included. */
  raw: string;
  /** What libwrap reads: continuations removed, without the final newline. */
  logical: string;
  kind: 'blank' | 'comment' | 'rule' | 'ignored';
  problem?: HostsAccessProblem;
  /** Daemon list items (rules only). */
  daemons: HostsAccessToken[];
  /** Client list items (rules only). */
  clients: HostsAccessToken[];
  /** The third field onwards, as written (rules with options only), and its offset. */
  options?: { text: string; start: number };
  /** Where each physical line starts in `logical`: [logical offset, line number]. */
  lineStarts: readonly (readonly [number, number])[];
}

export interface HostsAccessFile {
  path: string;
  entries: readonly HostsAccessEntry[];
}

/** libwrap's `split_at`: the offset of the first `delimiter` outside brackets, or -1. */
export function splitOutsideBrackets(text: string, delimiter: string, from = 0): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (depth === 0 && c === delimiter) return i;
  }
  return -1;
}

/** Splits a list field into items, as libwrap's `strtok` with its separators does. */
export function tokenizeList(text: string, offset: number): HostsAccessToken[] {
  const out: HostsAccessToken[] = [];
  let i = 0;
  while (i < text.length) {
    if (LIST_SEPARATORS.includes(text[i]!)) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && !LIST_SEPARATORS.includes(text[i]!)) i++;
    out.push({ value: text.slice(start, i), start: offset + start, end: offset + i });
  }
  return out;
}

interface PhysicalLine {
  text: string; // without the '\n' (a '\r' before it stays: libwrap sees it)
  newline: boolean;
}

function physicalLines(text: string): PhysicalLine[] {
  const out: PhysicalLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      out.push({ text: text.slice(start), newline: false });
      break;
    }
    out.push({ text: text.slice(start, nl), newline: true });
    start = nl + 1;
  }
  return out;
}

/** Reads one entry's logical text into its fields. */
export function readEntryFields(logical: string): Pick<HostsAccessEntry, 'kind' | 'problem' | 'daemons' | 'clients' | 'options'> {
  if (logical.startsWith('#')) return { kind: 'comment', daemons: [], clients: [] };
  if ([...logical].every((c) => ' \t\r'.includes(c))) return { kind: 'blank', daemons: [], clients: [] };
  const first = splitOutsideBrackets(logical, ':');
  if (first === -1) return { kind: 'ignored', problem: 'missing-separator', daemons: [], clients: [] };
  const second = splitOutsideBrackets(logical, ':', first + 1);
  const clientsEnd = second === -1 ? logical.length : second;
  const fields: Pick<HostsAccessEntry, 'kind' | 'problem' | 'daemons' | 'clients' | 'options'> = {
    kind: 'rule',
    daemons: tokenizeList(logical.slice(0, first), 0),
    clients: tokenizeList(logical.slice(first + 1, clientsEnd), first + 1),
  };
  if (second !== -1) fields.options = { text: logical.slice(second + 1), start: second + 1 };
  return fields;
}

/** Parses a table. `path` is kept for diagnostics and the deciding line of an evaluation. */
export function parseHostsAccess(text: string, path: string): HostsAccessFile {
  const lines = physicalLines(text);
  const entries: HostsAccessEntry[] = [];
  let i = 0;
  while (i < lines.length) {
    const firstLine = i + 1;
    let raw = '';
    let logical = '';
    const lineStarts: [number, number][] = [];
    let complete = false;
    for (;;) {
      const l = lines[i]!;
      lineStarts.push([logical.length, i + 1]);
      raw += l.text + (l.newline ? '\n' : '');
      i++;
      if (!l.newline) {
        logical += l.text;
        break;
      }
      if (l.text.endsWith('\\')) {
        logical += l.text.slice(0, -1);
        if (i < lines.length) continue;
        break; // a continuation into the end of the file: libwrap sees no newline
      }
      logical += l.text;
      complete = true;
      break;
    }
    const base = { line: firstLine, lastLine: i, raw, logical, lineStarts };
    if (!complete) {
      entries.push({ ...base, kind: 'ignored', problem: 'missing-newline', daemons: [], clients: [] });
    } else if (logical.length > HOSTS_ACCESS_MAX_ENTRY) {
      entries.push({ ...base, kind: 'ignored', problem: 'entry-too-long', daemons: [], clients: [] });
    } else {
      entries.push({ ...base, ...readEntryFields(logical) });
    }
  }
  return { path, entries };
}

export function stringifyHostsAccess(file: HostsAccessFile): string {
  let out = '';
  for (const e of file.entries) out += e.raw;
  return out;
}

/** The 1-based line and column in the file of an offset in an entry's logical text. */
export function entryPosition(entry: HostsAccessEntry, offset: number): SourcePosition {
  let chosen = entry.lineStarts[0]!;
  for (const s of entry.lineStarts) if (s[0] <= offset) chosen = s;
  return { line: chosen[1], column: offset - chosen[0] + 1 };
}

/** The line ending the file mostly uses, for lines sshfix adds. */
export function dominantLineEnding(text: string): '\n' | '\r\n' {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  return crlf > lf ? '\r\n' : '\n';
}
