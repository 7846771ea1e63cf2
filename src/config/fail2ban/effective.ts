/**
 * The effective value of a jail key, as `fail2ban-client` computes it from the merged layers:
 * the jail's own section first, then `[DEFAULT]` (a key in the jail's section wins wherever each
 * stands), then configparser's `%(name)s` interpolation as fail2ban extends it: `%(__name__)s` is
 * the jail, `%(section/key)s` reads another section, `%(default/key)s` the defaults, and
 * `%(known/key)s` the value the jail's key had before the last file that set it (or the
 * defaults' value when no earlier file set it in the jail). Ten nested levels at most.
 * Pure.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import type { Fail2banEntry, Fail2banLayers } from './layers.js';

/** configparser's MAX_INTERPOLATION_DEPTH. */
const MAX_DEPTH = 10;
const KEY_REF = /^%\(([^)]+)\)s/;
const SECTION_REF = /%\(([\p{L}\p{N}_-]+\/([^)]+))\)s/gu;

/** Keys `fail2ban-client` adds to the defaults of every jail read. */
export interface Fail2banReadContext {
  /** `%(fail2ban_version)s`. */
  version?: string;
}

export const FAIL2BAN_DEFAULT_VERSION = '1.0.2';

/** Where a raw value was found. `scope` says whether it came from the jail's section or `[DEFAULT]`. */
export interface Fail2banLookup {
  entry: Fail2banEntry;
  scope: 'jail' | 'default';
}

export type Fail2banGetResult =
  | { status: 'ok'; value: string; raw: string; lookup?: Fail2banLookup }
  | { status: 'missing' }
  | { status: 'error'; diagnostic: Diagnostic; lookup?: Fail2banLookup };

function defaultsWithStatics(layers: Fail2banLayers, ctx: Fail2banReadContext): Map<string, string> {
  const d = new Map<string, string>();
  for (const [k, e] of layers.defaults) d.set(k, e.value);
  d.set('fail2ban_version', ctx.version ?? FAIL2BAN_DEFAULT_VERSION);
  d.set('fail2ban_confpath', layers.baseDir);
  return d;
}

/** The raw winning entry of `key` for `section` (lower-case key), without interpolation. */
export function lookupFail2banOption(layers: Fail2banLayers, section: string, key: string): Fail2banLookup | undefined {
  const own = layers.sections.get(section)?.get(key);
  if (own) return { entry: own, scope: 'jail' };
  const def = layers.defaults.get(key);
  return def ? { entry: def, scope: 'default' } : undefined;
}

class InterpolationFailure extends Error {}

/** Interpolates a raw value as `ConfigParser.get(section, key)` would. */
function interpolate(layers: Fail2banLayers, section: string, key: string, raw: string, defaults: Map<string, string>): string {
  const own = layers.sections.get(section);
  const out: string[] = [];
  const some = (rest: string, parentVars: Map<string, string>, depth: number): void => {
    const vars = new Map(parentVars);
    vars.set('__name__', section);
    const has = (k: string): boolean => vars.has(k) || own?.has(k) === true || defaults.has(k);
    if (rest.includes('/') && rest.includes('%(')) {
      for (const m of rest.matchAll(SECTION_REF)) {
        const sopt = m[1]!;
        const opt = m[2]!;
        if (has(sopt)) continue;
        const sec = sopt.slice(0, sopt.length - opt.length - 1);
        const lower = sec.toLowerCase();
        let v: string | undefined;
        let useDefault = lower === 'default';
        if (lower === 'known') {
          v = layers.known.get(`KNOWN/${section}`)?.get(opt)?.value;
          useDefault = v === undefined;
        } else if (!useDefault) {
          const target = sec.startsWith('KNOWN/') ? layers.known.get(sec) : layers.sections.get(sec);
          if (!target) continue;
          v = target.get(opt)?.value;
          useDefault = v === undefined;
        }
        if (useDefault) v = defaults.get(opt);
        if (v !== undefined) vars.set(sopt, v);
      }
    }
    if (depth > MAX_DEPTH) throw new InterpolationFailure(`'${key}' in [${section}] cannot be resolved in ${MAX_DEPTH} steps (recursive %(...)s reference); raw value: ${raw}`);
    while (rest) {
      const p = rest.indexOf('%');
      if (p < 0) {
        out.push(rest);
        return;
      }
      if (p > 0) {
        out.push(rest.slice(0, p));
        rest = rest.slice(p);
      }
      const c = rest[1];
      if (c === '%') {
        out.push('%');
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = KEY_REF.exec(rest);
        if (!m) throw new InterpolationFailure(`bad interpolation reference in '${key}' of [${section}]: ${rest}`);
        const name = m[1]!.toLowerCase();
        rest = rest.slice(m[0].length);
        const v = vars.get(name) ?? own?.get(name)?.value ?? defaults.get(name);
        if (v === undefined) throw new InterpolationFailure(`'${key}' in [${section}] refers to %(${m[1]})s, which is not defined`);
        if (v.includes('%')) some(v, vars, depth + 1);
        else out.push(v);
      } else {
        throw new InterpolationFailure(`'%' must be followed by '%' or '(' in '${key}' of [${section}]: ${rest}`);
      }
    }
  };
  some(raw, new Map(), 1);
  return out.join('');
}

/** The effective value of `key` for `section` (a jail), interpolated; errors carry file and line. */
export function getFail2banOption(layers: Fail2banLayers, section: string, key: string, ctx: Fail2banReadContext = {}, defaults = defaultsWithStatics(layers, ctx)): Fail2banGetResult {
  const lookup = lookupFail2banOption(layers, section, key);
  let raw: string | undefined = lookup?.entry.value;
  if (raw === undefined) raw = defaults.get(key);
  if (raw === undefined) return { status: 'missing' };
  try {
    const value = interpolate(layers, section, key, raw, defaults);
    return lookup ? { status: 'ok', value, raw, lookup } : { status: 'ok', value, raw };
  } catch (e) {
    if (!(e instanceof InterpolationFailure)) throw e;
    const diagnostic: Diagnostic = { severity: 'error', code: 'fail2ban-interpolation', message: `${e.message}: fail2ban refuses the configuration` };
    if (lookup) {
      diagnostic.file = lookup.entry.path;
      diagnostic.range = { start: { line: lookup.entry.line, column: 1 }, end: { line: lookup.entry.line, column: 1 } };
    }
    return lookup ? { status: 'error', diagnostic, lookup } : { status: 'error', diagnostic };
  }
}

/** Python's `int()` on a config string (ASCII digits). */
export function pythonInt(s: string): number | undefined {
  const m = /^[\s]*([+-]?\d+(?:_\d+)*)[\s]*$/.exec(s);
  return m ? Number(m[1]!.replace(/_/g, '')) : undefined;
}

/** fail2ban's `_as_bool`: only these words are true, anything else is false. */
export const fail2banBool = (s: string): boolean => ['1', 'on', 'true', 'yes'].includes(s.toLowerCase());

/** fail2ban's `splitwords`: entries split on spaces, commas and newlines. */
export const splitFail2banWords = (s: string): string[] => s.split(/[ ,\n]+/).map((w) => w.trim()).filter((w) => w !== '');

type OptionType = 'bool' | 'int' | 'string';
/** The jail keys `fail2ban-client` reads for an enabled jail, with the conversion it applies. */
const JAIL_OPTIONS: readonly (readonly [string, OptionType])[] = [
  ['enabled', 'bool'], ['backend', 'string'], ['maxretry', 'int'], ['maxmatches', 'int'], ['findtime', 'string'],
  ['bantime', 'string'], ['bantime.increment', 'bool'], ['bantime.factor', 'string'], ['bantime.formula', 'string'],
  ['bantime.multipliers', 'string'], ['bantime.maxtime', 'string'], ['bantime.rndtime', 'string'],
  ['bantime.overalljails', 'bool'], ['ignorecommand', 'string'], ['ignoreself', 'bool'], ['ignoreip', 'string'],
  ['ignorecache', 'string'], ['filter', 'string'], ['logtimezone', 'string'], ['logencoding', 'string'],
  ['logpath', 'string'], ['action', 'string'], ['usedns', 'string'], ['prefregex', 'string'], ['ignoreregex', 'string'],
  ['failregex', 'string'], ['maxlines', 'int'], ['datepattern', 'string'], ['journalmatch', 'string'],
];
/** Read for every section, enabled or not. */
const FIRST_PASS = ['enabled', 'backend', 'filter'];
const FIRST_PASS_DEFAULTS: Record<string, string | boolean> = { enabled: false, backend: 'auto', filter: '' };

/** A converted jail value: `null` where fail2ban's conversion failed (it then uses no value). */
export type Fail2banJailValue = string | number | boolean | null;

export interface Fail2banJail {
  name: string;
  enabled: boolean;
  /** Options read for an enabled jail (only `enabled`, `backend`, `filter` for a disabled one). */
  values: ReadonlyMap<string, Fail2banJailValue>;
  /** The winning raw entry of each key that has one. */
  origins: ReadonlyMap<string, Fail2banLookup>;
}

export interface Fail2banEvaluation {
  /** Every section read as a jail, in order (`INCLUDES` excluded). */
  jails: Fail2banJail[];
  /** Errors that make fail2ban refuse the whole configuration, and warnings. */
  diagnostics: Diagnostic[];
}

function convert(value: string, type: OptionType, name: string, jail: string, diagnostics: Diagnostic[], lookup?: Fail2banLookup): Fail2banJailValue {
  if (type === 'bool') return fail2banBool(value);
  if (type === 'string') return value;
  const n = pythonInt(value);
  if (n !== undefined) return n;
  diagnostics.push({
    severity: 'warning',
    code: 'fail2ban-wrong-value',
    message: `'${name}' of jail ${jail} is not an integer (${JSON.stringify(value)}): fail2ban uses no value and the jail fails to start`,
    ...(lookup ? { file: lookup.entry.path, range: { start: { line: lookup.entry.line, column: 1 }, end: { line: lookup.entry.line, column: 1 } } } : {}),
  });
  return null;
}

/**
 * Reads every jail as `fail2ban-client` does before it sends them to the server: the three first
 * keys of every section, then all keys of the enabled ones. An interpolation error in any key read
 * is fatal to the whole configuration, as it is to fail2ban.
 */
export function evaluateFail2banJails(layers: Fail2banLayers, ctx: Fail2banReadContext = {}): Fail2banEvaluation {
  const diagnostics: Diagnostic[] = [...layers.diagnostics];
  const jails: Fail2banJail[] = [];
  if (diagnostics.some((d) => d.severity === 'error')) return { jails, diagnostics };
  const defaults = defaultsWithStatics(layers, ctx);
  for (const name of layers.sections.keys()) {
    if (name === 'INCLUDES') continue;
    const values = new Map<string, Fail2banJailValue>();
    const origins = new Map<string, Fail2banLookup>();
    const read = (key: string, type: OptionType): boolean => {
      const r = getFail2banOption(layers, name, key, ctx, defaults);
      if (r.status === 'error') {
        diagnostics.push(r.diagnostic);
        return false;
      }
      if (r.status === 'missing') {
        if (key in FIRST_PASS_DEFAULTS) values.set(key, FIRST_PASS_DEFAULTS[key]!);
        return true;
      }
      if (r.lookup) origins.set(key, r.lookup);
      values.set(key, convert(r.value, type, key, name, diagnostics, r.lookup));
      return true;
    };
    for (const key of FIRST_PASS) if (!read(key, JAIL_OPTIONS.find(([k]) => k === key)![1])) return { jails: [], diagnostics };
    const enabled = values.get('enabled') === true;
    if (enabled) {
      for (const [key, type] of JAIL_OPTIONS) {
        if (FIRST_PASS.includes(key)) continue;
        if (!read(key, type)) return { jails: [], diagnostics };
      }
    }
    jails.push({ name, enabled, values, origins });
  }
  return { jails, diagnostics };
}
