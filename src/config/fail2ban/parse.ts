/**
 * Lossless parsing of fail2ban's INI dialect, read the way fail2ban reads it: Python's
 * `configparser` in strict mode with `inline_comment_prefixes=";"`, one parser per file.
 *
 * - Lines end at LF, CRLF or a lone CR (Python's universal newlines).
 * - A line whose stripped text starts with `#` or `;` is a comment; otherwise `;` starts an inline
 *   comment only at the start of the line or after white space. `#` never starts an inline
 *   comment: in `ignoreip = 10.0.0.1 # office`, `#` and `office` are part of the value.
 * - A line indented deeper than the line that opened the current option continues its value (even
 *   a line that looks like a section header or an option); a blank line inside a value is kept as
 *   an empty value line, trailing ones are dropped.
 * - `[name]` opens a section (the header is everything up to the last `]`); `key = value` and
 *   `key: value` set an option, split at the first `=` or `:`; keys are lower-cased.
 * - A duplicate section or option in one file, an option before any section, and a line that is
 *   none of the above make fail2ban refuse the whole configuration.
 *
 * Every byte is kept: `stringifyFail2banFile(parseFail2banFile(x, p)) === x`.
 */
import type { Diagnostic } from '../../util/diagnostics.js';

/** The end of a line as it was in the file; `''` only for a last line without one. */
export type Fail2banLineEnding = '\n' | '\r\n' | '\r' | '';

/**
 * One physical line. `text` excludes the ending. For lines that carry a value (`option`,
 * `continuation`), `valueStart`/`valueEnd` delimit the part fail2ban reads (inline comment and
 * surrounding white space removed).
 */
export interface Fail2banLine {
  /** 1-based. */
  line: number;
  text: string;
  eol: Fail2banLineEnding;
  kind: 'blank' | 'comment' | 'section' | 'option' | 'continuation' | 'invalid';
  /** Section name (`section` lines). */
  section?: string;
  /** Key as written (`option` lines); the option's name is its lower-cased form. */
  keyRaw?: string;
  valueStart?: number;
  valueEnd?: number;
  /** Offset of a `;` inline comment, when the line has one. */
  commentStart?: number;
  /** Indentation (offset of the first non-space character). */
  indent: number;
}

/** One option as this file defines it. */
export interface Fail2banOption {
  /** Lower-cased name. */
  key: string;
  /** The section it belongs to, as written (`DEFAULT` for the defaults). */
  section: string;
  /** The value as fail2ban reads it: value lines joined with `\n`, trailing white space removed. */
  value: string;
  /** Line of the `key = value` line. */
  line: number;
  /** Lines that contributed a non-empty value part, the key line first. */
  valueLines: number[];
}

/** A section of one file (several `[DEFAULT]` blocks of a file are separate entries here). */
export interface Fail2banSection {
  name: string;
  /** Line of the header. */
  line: number;
  /** Last line that belongs to it (before the next header or the end of the file). */
  lastLine: number;
  options: Fail2banOption[];
}

/** One parsed file. `error` is set when fail2ban would refuse it (and so the whole configuration). */
export interface Fail2banFile {
  path: string;
  lines: readonly Fail2banLine[];
  sections: readonly Fail2banSection[];
  diagnostics: readonly Diagnostic[];
}

/** Python's `str.isspace()` characters. */
const PY_SPACE = new Set([
  '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f', ' ', '\x85', '\xa0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000',
]);
export const isPySpace = (c: string | undefined): boolean => c !== undefined && PY_SPACE.has(c);

/** Offsets of `s` without Python-white space at both ends. */
function stripBounds(s: string, start: number, end: number): [number, number] {
  while (start < end && isPySpace(s[start])) start++;
  while (end > start && isPySpace(s[end - 1])) end--;
  return [start, end];
}

/** Splits text into lines the way Python's universal-newline reading does, keeping each ending. */
export function splitFail2banLines(text: string): { text: string; eol: Fail2banLineEnding }[] {
  const out: { text: string; eol: Fail2banLineEnding }[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      out.push({ text: text.slice(start, i), eol: '\n' });
      start = i + 1;
    } else if (c === '\r') {
      const crlf = text[i + 1] === '\n';
      out.push({ text: text.slice(start, i), eol: crlf ? '\r\n' : '\r' });
      if (crlf) i++;
      start = i + 1;
    }
  }
  if (start < text.length) out.push({ text: text.slice(start), eol: '' });
  return out;
}

/** Where a `;` inline comment starts in a line, as configparser finds it. */
function inlineCommentStart(text: string): number | undefined {
  for (let i = text.indexOf(';'); i !== -1; i = text.indexOf(';', i + 1)) {
    if (i === 0 || isPySpace(text[i - 1])) return i;
  }
  return undefined;
}

/** The first `=` or `:` preceded by the shortest possible name (configparser's OPTCRE). */
function optionSplit(value: string): { nameEnd: number; delim: number } | undefined {
  const eq = value.indexOf('=');
  const colon = value.indexOf(':');
  const delim = eq === -1 ? colon : colon === -1 ? eq : Math.min(eq, colon);
  if (delim === -1) return undefined;
  let nameEnd = delim;
  while (nameEnd > 0 && isPySpace(value[nameEnd - 1])) nameEnd--;
  return { nameEnd, delim };
}

const lineRange = (line: number, start: number, end: number): Diagnostic['range'] => ({
  start: { line, column: start + 1 },
  end: { line, column: end + 1 },
});

/** Parses one file. Never throws; problems fail2ban would refuse become error diagnostics. */
export function parseFail2banFile(text: string, path: string): Fail2banFile {
  const raw = splitFail2banLines(text);
  const lines: Fail2banLine[] = [];
  const sections: Fail2banSection[] = [];
  const diagnostics: Diagnostic[] = [];
  const seenSections = new Set<string>();
  const seenOptions = new Set<string>();
  let current: Fail2banSection | undefined;
  let option: Fail2banOption | undefined;
  let optionIndent = 0;
  let pendingBlank = 0;
  let fatal = false;

  raw.forEach((r, index) => {
    const n = index + 1;
    const t = r.text;
    let first = 0;
    while (first < t.length && isPySpace(t[first])) first++;
    const base = { line: n, text: t, eol: r.eol, indent: first };
    if (fatal) {
      lines.push({ ...base, kind: 'invalid' });
      return;
    }
    const [s0, s1] = stripBounds(t, 0, t.length);
    if (t[s0] === '#' || t[s0] === ';') {
      lines.push({ ...base, kind: 'comment', ...(t[s0] === ';' ? { commentStart: s0 } : {}) });
      return;
    }
    const comment = inlineCommentStart(t);
    const [v0, v1] = stripBounds(t, 0, comment ?? t.length);
    const withComment = comment === undefined ? {} : { commentStart: comment };
    if (v0 === v1) {
      lines.push({ ...base, kind: comment === undefined && s0 === s1 ? 'blank' : 'comment', ...withComment });
      if (comment === undefined && option) pendingBlank++;
      return;
    }
    const value = t.slice(v0, v1);
    if (option && current && first > optionIndent) {
      for (; pendingBlank > 0; pendingBlank--) option.value += '\n';
      option.value += `\n${value}`;
      option.valueLines.push(n);
      lines.push({ ...base, kind: 'continuation', valueStart: v0, valueEnd: v1, ...withComment });
      return;
    }
    pendingBlank = 0;
    optionIndent = first;
    if (value.startsWith('[')) {
      const close = value.lastIndexOf(']');
      if (close >= 2) {
        const name = value.slice(1, close);
        if (current) current.lastLine = n - 1;
        if (name !== 'DEFAULT' && seenSections.has(name)) {
          diagnostics.push({ severity: 'error', code: 'fail2ban-duplicate-section', message: `section '${name}' already exists in this file: fail2ban refuses the configuration`, file: path, range: lineRange(n, v0, v1) });
          fatal = true;
        }
        seenSections.add(name);
        current = { name, line: n, lastLine: n, options: [] };
        sections.push(current);
        option = undefined;
        lines.push({ ...base, kind: 'section', section: name, ...withComment });
        return;
      }
    }
    if (!current) {
      diagnostics.push({ severity: 'error', code: 'fail2ban-missing-section', message: 'a line before any [section]: fail2ban refuses the configuration', file: path, range: lineRange(n, v0, v1) });
      lines.push({ ...base, kind: 'invalid' });
      fatal = true;
      return;
    }
    const split = optionSplit(value);
    if (!split || split.nameEnd === 0) {
      diagnostics.push({ severity: 'error', code: 'fail2ban-syntax', message: split ? 'an option without a name' : 'neither a [section], an option (key = value) nor a comment: fail2ban refuses the configuration', file: path, range: lineRange(n, v0, v1) });
      lines.push({ ...base, kind: 'invalid' });
      option = undefined;
      return;
    }
    const keyRaw = value.slice(0, split.nameEnd);
    const key = keyRaw.toLowerCase();
    const [a] = stripBounds(value, split.delim + 1, value.length);
    if (seenOptions.has(`${current.name}\n${key}`)) {
      diagnostics.push({ severity: 'error', code: 'fail2ban-duplicate-option', message: `option '${key}' in section '${current.name}' already exists in this file: fail2ban refuses the configuration`, file: path, range: lineRange(n, v0, v1) });
      lines.push({ ...base, kind: 'invalid' });
      fatal = true;
      return;
    }
    seenOptions.add(`${current.name}\n${key}`);
    option = { key, section: current.name, value: value.slice(a), line: n, valueLines: [n] };
    current.options.push(option);
    lines.push({ ...base, kind: 'option', keyRaw, valueStart: v0 + a, valueEnd: v1, ...withComment });
  });
  if (current) current.lastLine = raw.length;
  for (const s of sections) for (const o of s.options) o.value = o.value.replace(/[\s\x1c-\x1f\x85]+$/u, '');
  return { path, lines, sections, diagnostics };
}

export function stringifyFail2banFile(file: Pick<Fail2banFile, 'lines'>): string {
  let out = '';
  for (const l of file.lines) out += l.text + l.eol;
  return out;
}

/** True when fail2ban would refuse this file. */
export const isFail2banFileBroken = (file: Fail2banFile): boolean => file.diagnostics.some((d) => d.severity === 'error');
