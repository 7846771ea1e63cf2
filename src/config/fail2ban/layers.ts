/**
 * fail2ban's jail configuration as layers, merged the way `fail2ban-client` merges them:
 * jail.conf, jail.d/*.conf (lexical), jail.local, jail.d/*.local (lexical); each file preceded by
 * its `[INCLUDES] before` files and followed by its `after` files (an included `x.conf` brings its
 * `x.local` along), recursively. Later files win key by key; `[DEFAULT]` keys merge into one
 * defaults map; a section keeps, under `KNOWN/<section>`, the value each key had before the last
 * file that set it (what `%(known/key)s` reads).
 * Pure: reads only the snapshot.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { globSnapshot, type FileSnapshot } from '../openssh/snapshot-glob.js';
import { parseFail2banFile, type Fail2banFile, type Fail2banOption } from './parse.js';

export type { FileSnapshot } from '../openssh/snapshot-glob.js';

export const FAIL2BAN_BASE_DIR = '/etc/fail2ban';

/** A merged key: its value and where it comes from. */
export interface Fail2banEntry {
  value: string;
  path: string;
  /** The section as written in the file (`DEFAULT` for defaults). */
  section: string;
  /** Line of `key = ...` and every line holding part of the value. */
  line: number;
  valueLines: readonly number[];
}

export interface Fail2banLayers {
  baseDir: string;
  snapshot: FileSnapshot;
  /** Parsed files by path. */
  files: ReadonlyMap<string, Fail2banFile>;
  /** Files in the order fail2ban reads them (a file included twice appears twice). */
  order: readonly string[];
  defaults: ReadonlyMap<string, Fail2banEntry>;
  /** Sections in the order fail2ban first saw them (jail sections, `INCLUDES`, ...). */
  sections: ReadonlyMap<string, ReadonlyMap<string, Fail2banEntry>>;
  /** `KNOWN/<section>` maps: previous values of keys a later file overrode. */
  known: ReadonlyMap<string, ReadonlyMap<string, Fail2banEntry>>;
  /** Errors that make fail2ban refuse the configuration (parse errors), and warnings. */
  diagnostics: readonly Diagnostic[];
}

export interface BuildFail2banLayersResult {
  layers: Fail2banLayers;
  /** Directories the snapshot would need listed to know which files exist. */
  unresolved: string[];
}

/** `[sshd?family=inet6]`: keys of a conditional section merge into `sshd` with the condition as suffix. */
const CONDITIONAL_SECTION = /^([\p{L}\p{N}_]+)(\?.+)$/u;

function normalisePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

const dirOf = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 0)) || '/';
const withoutExt = (p: string): string => {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  return dot > slash + 1 ? p.slice(0, dot) : p;
};

const entryOf = (o: Fail2banOption, path: string): Fail2banEntry => ({ value: o.value, path, section: o.section, line: o.line, valueLines: o.valueLines });

/** The DEFAULT and section maps of one file alone (how fail2ban reads an `[INCLUDES]` value). */
export function singleFileView(file: Fail2banFile): { defaults: Map<string, Fail2banEntry>; sections: Map<string, Map<string, Fail2banEntry>> } {
  const defaults = new Map<string, Fail2banEntry>();
  const sections = new Map<string, Map<string, Fail2banEntry>>();
  for (const s of file.sections) {
    let target = defaults;
    if (s.name !== 'DEFAULT') {
      target = sections.get(s.name) ?? new Map();
      sections.set(s.name, target);
    }
    for (const o of s.options) target.set(o.key, entryOf(o, file.path));
  }
  return { defaults, sections };
}

/** Builds the merged jail configuration from gathered files. */
export function buildFail2banLayers(snapshot: FileSnapshot, baseDir: string = FAIL2BAN_BASE_DIR): BuildFail2banLayersResult {
  const files = new Map<string, Fail2banFile>();
  const unresolved = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const base = baseDir.replace(/\/+$/, '');

  const exists = (path: string): boolean => {
    if (snapshot.files.has(path)) return true;
    const r = globSnapshot(snapshot, path);
    if (r.unresolvedDir !== undefined) unresolved.add(r.unresolvedDir);
    return false;
  };
  const parsed = (path: string): Fail2banFile | undefined => {
    const text = snapshot.files.get(path);
    if (text === undefined) return undefined;
    let f = files.get(path);
    if (!f) {
      f = parseFail2banFile(text, path);
      files.set(path, f);
      diagnostics.push(...f.diagnostics);
    }
    return f;
  };
  const glob = (pattern: string): string[] => {
    const r = globSnapshot(snapshot, pattern);
    if (r.unresolvedDir !== undefined) unresolved.add(r.unresolvedDir);
    return r.files;
  };

  // fail2ban interpolates these values; a `%` in an include list is left as written here.
  const includeValue = (file: Fail2banFile, key: 'before' | 'after'): string | undefined => singleFileView(file).sections.get('INCLUDES')?.get(key)?.value;

  const expandWithLocal = (names: string[]): string[] => {
    const out: string[] = [];
    for (const n of names) {
      out.push(n);
      const local = `${withoutExt(n)}.local`;
      if (!names.includes(local) && exists(local)) out.push(local);
    }
    return out;
  };
  const includesOf = (names: string[], seen: string[]): string[] => {
    const out: string[] = [];
    for (const n of expandWithLocal(names)) out.push(...includesOfOne(n, seen));
    return out;
  };
  const includesOfOne = (resource: string, seen: string[]): string[] => {
    const file = parsed(resource);
    if (!file) {
      exists(resource);
      return [];
    }
    const before: string[] = [];
    const after: string[] = [];
    if (file.sections.some((s) => s.name === 'INCLUDES')) {
      for (const [key, list] of [['before', before], ['after', after]] as const) {
        const value = includeValue(file, key);
        if (value === undefined) continue;
        for (const item of value.split('\n')) {
          const r = normalisePath(item.startsWith('/') ? item : `${dirOf(resource)}/${item}`);
          if (seen.includes(r)) continue;
          list.push(...includesOf([r], [...seen, resource]));
        }
      }
    }
    return [...before, resource, ...after];
  };

  const top = [`${base}/jail.conf`, ...glob(`${base}/jail.d/*.conf`), `${base}/jail.local`, ...glob(`${base}/jail.d/*.local`)].filter(exists);
  const order = includesOf(top, []);

  const defaults = new Map<string, Fail2banEntry>();
  const sections = new Map<string, Map<string, Fail2banEntry>>();
  const known = new Map<string, Map<string, Fail2banEntry>>();
  for (const path of order) {
    const view = singleFileView(files.get(path)!);
    for (const [k, e] of view.defaults) defaults.set(k, e);
    for (const [rawName, own] of view.sections) {
      let name = rawName;
      let options = own;
      const cond = CONDITIONAL_SECTION.exec(rawName);
      if (cond) {
        name = cond[1]!;
        options = new Map([...own].map(([k, e]) => [k + cond[2]!, e]));
      }
      const existing = sections.get(name);
      if (existing) {
        const previous = known.get(`KNOWN/${name}`) ?? new Map<string, Fail2banEntry>();
        for (const k of options.keys()) {
          const before = existing.get(k);
          if (before) previous.set(k, before);
        }
        known.set(`KNOWN/${name}`, previous);
        for (const [k, e] of options) existing.set(k, e);
      } else {
        sections.set(name, new Map(options));
      }
    }
  }
  return { layers: { baseDir: base, snapshot, files, order, defaults, sections, known, diagnostics }, unresolved: [...unresolved] };
}

/** True when fail2ban would refuse to load this configuration at all (a file it cannot parse). */
export const layersBroken = (layers: Fail2banLayers): boolean => layers.diagnostics.some((d) => d.severity === 'error');
