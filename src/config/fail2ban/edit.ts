/**
 * Minimal edits of fail2ban's jail files, where the value wins:
 * - a key whose winning value stands in a `.local` file is changed on that line (an `ignoreip`
 *   list is extended, in a jail section or in `[DEFAULT]`);
 * - when the winning value stands in jail.conf or another `.conf` (shipped by the package, never
 *   edited), the key is written into the jail's section of jail.local (or of the jail.d/*.local
 *   that already has that section), created at the end of jail.local when there is none; an
 *   `ignoreip` written there keeps the inherited entries through `%(known/ignoreip)s`;
 * - fail2ban.conf/fail2ban.local are never written (fail2ban ignores jail keys there).
 * Every other byte is kept. Each result is re-read as fail2ban would read it, and refused unless
 * the jail then has the wanted value.
 * Pure.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { evaluateFail2banJails, getFail2banOption, lookupFail2banOption, splitFail2banWords, type Fail2banReadContext } from './effective.js';
import { findCoveringEntry, parseIgnoreIpEntry, parseIgnoreIpList } from './ignoreip.js';
import { buildFail2banLayers, layersBroken, type Fail2banLayers } from './layers.js';
import { parseFail2banFile, stringifyFail2banFile, type Fail2banFile, type Fail2banLine } from './parse.js';
import { checkFail2banJailValue } from './values.js';

export interface Fail2banFileEdit {
  path: string;
  /** The file's text before (undefined for a new file). */
  before?: string;
  after: string;
}

export interface Fail2banEditResult {
  edits: Fail2banFileEdit[];
  /** Why nothing changed, or what was already in place. */
  note?: string;
  /** Errors (nothing is edited) and warnings. */
  warnings: Diagnostic[];
}

/** True for files sshfix may write: `.local` jail files, never fail2ban.local. */
export function isEditableFail2banFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.endsWith('.local') && name !== 'fail2ban.local' && !path.includes('/fail2ban.d/');
}

const where = (path: string, line: number): string => `${path}:${line}`;

/** Warns about `#` words in an ignoreip value: fail2ban reads them as more entries, not as a comment. */
export function hashCommentWarnings(layers: Fail2banLayers, path: string, lines: readonly number[]): Diagnostic[] {
  const file = layers.files.get(path);
  if (!file) return [];
  const out: Diagnostic[] = [];
  for (const n of lines) {
    const l = file.lines[n - 1];
    if (!l || l.valueStart === undefined) continue;
    const seg = l.text.slice(l.valueStart, l.valueEnd);
    const m = /(^|[\s,])#/.exec(seg);
    if (!m) continue;
    const col = l.valueStart + m.index + m[1]!.length;
    out.push({
      severity: 'warning',
      code: 'fail2ban-hash-in-value',
      message: `'#' does not start a comment inside a value: fail2ban reads ${JSON.stringify(seg.slice(col - l.valueStart))} as more ignoreip entries`,
      hint: "use ';' (after a space) for an inline comment, or put the comment on its own line",
      file: path,
      range: { start: { line: n, column: col + 1 }, end: { line: n, column: l.valueEnd! + 1 } },
    });
  }
  return out;
}

/** Warns about `ignoreip` in fail2ban.conf/fail2ban.local/fail2ban.d: fail2ban ignores it there. */
export function misplacedIgnoreIpWarnings(layers: Fail2banLayers): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [path, text] of layers.snapshot.files) {
    if (!path.startsWith(`${layers.baseDir}/fail2ban.`) && !path.startsWith(`${layers.baseDir}/fail2ban.d/`)) continue;
    for (const s of parseFail2banFile(text, path).sections) {
      for (const o of s.options) {
        if (o.key !== 'ignoreip') continue;
        out.push({
          severity: 'warning',
          code: 'fail2ban-ignoreip-ignored-here',
          message: `ignoreip in ${path} has no effect: fail2ban reads ignoreip only from the jail files (jail.local, jail.d/*.local)`,
          file: path,
          range: { start: { line: o.line, column: 1 }, end: { line: o.line, column: 1 } },
        });
      }
    }
  }
  return out;
}

/** Working copy of the files an edit changes. */
class Workspace {
  readonly texts = new Map<string, string>();
  layers: Fail2banLayers;
  constructor(private readonly original: Fail2banLayers) {
    this.layers = original;
  }
  text(path: string): string | undefined {
    return this.texts.get(path) ?? this.layers.snapshot.files.get(path);
  }
  write(path: string, text: string): void {
    this.texts.set(path, text);
    const files = new Map(this.layers.snapshot.files);
    files.set(path, text);
    this.layers = buildFail2banLayers({ ...this.layers.snapshot, files }, this.layers.baseDir).layers;
  }
  edits(): Fail2banFileEdit[] {
    const out: Fail2banFileEdit[] = [];
    for (const [path, after] of this.texts) {
      const before = this.original.snapshot.files.get(path);
      if (before === after) continue;
      out.push(before === undefined ? { path, after } : { path, before, after });
    }
    return out;
  }
}

function fileEnding(file: Fail2banFile): '\n' | '\r\n' {
  return file.lines.find((l) => l.eol !== '')?.eol === '\r\n' ? '\r\n' : '\n';
}

/** Inserts lines after line `after` (0 = at the top), giving the previous last line an ending. */
function insertLines(file: Fail2banFile, after: number, texts: string[]): string {
  const eol = fileEnding(file);
  const lines = file.lines.map((l) => ({ text: l.text, eol: l.eol as string }));
  const prev = lines[after - 1];
  const atEnd = after === lines.length;
  if (prev && prev.eol === '') prev.eol = eol;
  const added = texts.map((text, i) => ({ text, eol: atEnd && i === texts.length - 1 && lines.length > 0 && file.lines[lines.length - 1]!.eol === '' ? '' : eol }));
  lines.splice(after, 0, ...added);
  return lines.map((l) => l.text + l.eol).join('');
}

function replaceLine(file: Fail2banFile, n: number, text: string): string {
  return file.lines.map((l) => (l.line === n ? text : l.text) + l.eol).join('');
}

/** The last line of a section of `file` holding an option or a value part (its header when none). */
function sectionInsertPoint(file: Fail2banFile, name: string): number | undefined {
  const section = file.sections.find((s) => s.name === name);
  if (!section) return undefined;
  let last = section.line;
  for (const l of file.lines.slice(section.line, section.lastLine)) if (l.kind === 'option' || l.kind === 'continuation') last = l.line;
  return last;
}

/** The .local file whose `[jail]` section gets a new key: jail.local's, else the last jail.d/*.local's, else jail.local. */
function targetForNewKey(layers: Fail2banLayers, jail: string): string {
  const jailLocal = `${layers.baseDir}/jail.local`;
  const withSection = layers.order.filter((p) => isEditableFail2banFile(p) && layers.files.get(p)?.sections.some((s) => s.name === jail));
  if (withSection.includes(jailLocal)) return jailLocal;
  return withSection[withSection.length - 1] ?? jailLocal;
}

/** Adds `key = value` to the jail's section in the target file (creating section or file). */
function addKeyToJail(ws: Workspace, jail: string, key: string, value: string): string {
  const path = targetForNewKey(ws.layers, jail);
  const text = ws.text(path);
  const line = `${key} = ${value}`;
  if (text === undefined) {
    ws.write(path, `[${jail}]\n${line}\n`);
    return path;
  }
  const file = parseFail2banFile(text, path);
  const at = sectionInsertPoint(file, jail);
  if (at !== undefined) ws.write(path, insertLines(file, at, [line]));
  else {
    const blank = file.lines.length > 0 && file.lines[file.lines.length - 1]!.text.trim() !== '' ? [''] : [];
    ws.write(path, insertLines(file, file.lines.length, [...blank, `[${jail}]`, line]));
  }
  return path;
}

/** Appends entries to the value of an option line in place (a new continuation line for a multi-line value). */
function extendValue(ws: Workspace, path: string, valueLines: readonly number[], words: string[]): void {
  const file = parseFail2banFile(ws.text(path)!, path);
  const lastN = valueLines[valueLines.length - 1]!;
  const last = file.lines[lastN - 1] as Fail2banLine;
  const joined = words.join(' ');
  if (valueLines.length > 1) {
    ws.write(path, insertLines(file, lastN, [`${last.text.slice(0, last.indent)}${joined}`]));
    return;
  }
  const start = last.valueStart!;
  const end = last.valueEnd!;
  const seg = last.text.slice(start, end);
  const hash = /(^|\s)#/.exec(seg);
  let insert: string;
  let at: number;
  if (hash) {
    at = start + hash.index + hash[1]!.length;
    insert = `${joined} `;
  } else {
    at = end;
    insert = seg === '' && /\s$/.test(last.text.slice(0, end)) ? joined : ` ${joined}`;
  }
  ws.write(path, replaceLine(file, lastN, last.text.slice(0, at) + insert + last.text.slice(at)));
}

function refuse(message: string, code: string, extra: Partial<Diagnostic> = {}): Fail2banEditResult {
  return { edits: [], warnings: [{ severity: 'error', code, message, ...extra }] };
}

/**
 * Ensures `entries` (addresses, networks, host names) are ignored by `jail`, keeping the entries
 * already there. An entry already covered (`192.0.2.7` by `192.0.2.0/24`) needs no edit.
 */
export function ensureIgnoreIp(layers: Fail2banLayers, jail: string, entries: readonly string[], ctx: Fail2banReadContext = {}): Fail2banEditResult {
  if (layersBroken(layers)) return { edits: [], warnings: layers.diagnostics.filter((d) => d.severity === 'error') };
  if (!layers.sections.has(jail)) return refuse(`jail ${jail} is not defined in ${layers.baseDir}/jail.conf, jail.d or jail.local`, 'fail2ban-unknown-jail');
  const wanted = entries.map(parseIgnoreIpEntry);
  const bad = wanted.find((w) => w.kind === 'invalid');
  if (bad && bad.kind === 'invalid') return refuse(`ignoreip entry ${JSON.stringify(bad.raw)}: ${bad.reason}`, 'fail2ban-bad-ignoreip');
  const long = wanted.find((w) => w.kind === 'ip' && w.plen > (w.family === 4 ? 32 : 128));
  if (long) return refuse(`ignoreip entry ${JSON.stringify(long.raw)}: the prefix length is longer than the address`, 'fail2ban-bad-ignoreip');
  const current = getFail2banOption(layers, jail, 'ignoreip', ctx);
  if (current.status === 'error') return { edits: [], warnings: [current.diagnostic] };
  const lookup = current.status === 'ok' ? current.lookup : undefined;
  const warnings: Diagnostic[] = [...(lookup ? hashCommentWarnings(layers, lookup.entry.path, lookup.entry.valueLines) : []), ...misplacedIgnoreIpWarnings(layers)];
  for (const w of wanted) {
    if (w.kind === 'hostname') warnings.push({ severity: 'warning', code: 'fail2ban-ignoreip-hostname', message: `ignoreip entry ${w.raw} is a host name: fail2ban resolves it through DNS, and ignores nothing when that fails` });
  }
  const list = current.status === 'ok' ? parseIgnoreIpList(current.value) : [];
  const covered: string[] = [];
  const missing: string[] = [];
  wanted.forEach((w) => {
    const by = findCoveringEntry(list, w);
    if (by) covered.push(by.raw === w.raw ? w.raw : `${w.raw} (by ${by.raw})`);
    else if (!missing.includes(w.raw)) missing.push(w.raw);
  });
  const at = lookup ? ` at ${where(lookup.entry.path, lookup.entry.line)}` : '';
  if (missing.length === 0) return { edits: [], note: `jail ${jail} already ignores ${covered.join(', ')}${at}`, warnings };

  const ws = new Workspace(layers);
  if (lookup && isEditableFail2banFile(lookup.entry.path)) {
    extendValue(ws, lookup.entry.path, lookup.entry.valueLines, missing);
  } else {
    const value = current.status === 'ok' && splitFail2banWords(current.value).length > 0 ? `%(known/ignoreip)s ${missing.join(' ')}` : missing.join(' ');
    addKeyToJail(ws, jail, 'ignoreip', value);
  }
  const check = verify(ws.layers, jail, 'ignoreip', ctx, (v) => {
    const after = parseIgnoreIpList(v);
    const words = new Set(splitFail2banWords(v));
    return wanted.every((w) => findCoveringEntry(after, w) !== undefined) && list.every((e) => words.has(e.raw));
  });
  if (check) return { edits: [], warnings: [...warnings, check] };
  return { edits: ws.edits(), warnings };
}

/** Refuses a result fail2ban would not load (a jail now enabled with a broken key, ...) or that lacks the wanted value. */
function verify(layers: Fail2banLayers, jail: string, key: string, ctx: Fail2banReadContext, ok: (value: string) => boolean): Diagnostic | undefined {
  const fatal = evaluateFail2banJails(layers, ctx).diagnostics.find((d) => d.severity === 'error');
  if (fatal) return { ...fatal, message: `after the edit, ${fatal.message}` };
  const r = getFail2banOption(layers, jail, key, ctx);
  if (r.status === 'error') return r.diagnostic;
  if (r.status === 'ok' && ok(r.value)) return undefined;
  return { severity: 'error', code: 'fail2ban-edit-failed', message: `internal error: after the edit, ${key} of jail ${jail} does not have the wanted value; please report this` };
}

/** Sets jail keys (`maxretry`, `findtime`, `bantime`, `enabled`, `mode`) for one jail, after checking each value. */
export function setJailKeys(layers: Fail2banLayers, jail: string, values: Readonly<Record<string, string>>, ctx: Fail2banReadContext = {}): Fail2banEditResult {
  if (layersBroken(layers)) return { edits: [], warnings: layers.diagnostics.filter((d) => d.severity === 'error') };
  if (!layers.sections.has(jail)) return refuse(`jail ${jail} is not defined in ${layers.baseDir}/jail.conf, jail.d or jail.local`, 'fail2ban-unknown-jail');
  for (const [key, value] of Object.entries(values)) {
    const check = checkFail2banJailValue(key, value);
    if (!check.ok) return refuse(check.reason, 'fail2ban-bad-value');
  }
  const ws = new Workspace(layers);
  const notes: string[] = [];
  const warnings: Diagnostic[] = [];
  for (const [rawKey, rawValue] of Object.entries(values)) {
    const key = rawKey.toLowerCase();
    const value = rawValue.trim();
    const current = getFail2banOption(ws.layers, jail, key, ctx);
    // A value fail2ban cannot read is replaced by the literal one: that repairs the jail.
    if (current.status === 'error') warnings.push({ ...current.diagnostic, severity: 'warning', code: 'fail2ban-replacing-broken-value' });
    if (current.status === 'ok' && current.value === value) {
      notes.push(`${key} is already ${value}${current.lookup ? ` at ${where(current.lookup.entry.path, current.lookup.entry.line)}` : ''}`);
      continue;
    }
    const lookup = lookupFail2banOption(ws.layers, jail, key);
    if (lookup && lookup.scope === 'jail' && isEditableFail2banFile(lookup.entry.path)) {
      const path = lookup.entry.path;
      const file = parseFail2banFile(ws.text(path)!, path);
      const first = file.lines[lookup.entry.line - 1]!;
      const lines = file.lines.map((l) => {
        if (l.line === first.line) return { ...l, text: l.text.slice(0, l.valueStart) + value + l.text.slice(l.valueEnd) };
        if (lookup.entry.valueLines.includes(l.line)) return { ...l, text: `${l.text.slice(0, l.indent)}# ${l.text.slice(l.indent)}` };
        return l;
      });
      ws.write(path, stringifyFail2banFile({ lines }));
    } else {
      addKeyToJail(ws, jail, key, value);
    }
    const check = verify(ws.layers, jail, key, ctx, (v) => v === value);
    if (check) return { edits: [], warnings: [...warnings, check] };
  }
  const edits = ws.edits();
  return edits.length === 0 ? { edits, note: `jail ${jail}: ${notes.join('; ')}`, warnings } : { edits, warnings };
}
