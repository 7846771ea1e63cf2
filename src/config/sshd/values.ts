/**
 * Value parsers for sshd_config keywords: each one accepts what sshd 9.2 accepts and returns the
 * value normalised the way `sshd -T` prints it, or a problem with a stable code. The same
 * parser validates playbook input and computes effective values, so the two cannot disagree.
 */
import { splitArguments } from '../openssh/lexer.js';
import { DEBIAN_12_DEFAULTS } from './defaults.js';
import type { SshdAlgorithmFamily, SshdKeyword, SshdValueProblem } from './keyword-types.js';
import { compareVersions, DEFAULT_OPENSSH_VERSION } from './version-compare.js';

/** Context a value needs besides its text. */
export interface SshdValueContext {
  version?: string;
  /** Algorithm names the host's OpenSSH knows; Debian 12's 9.2 lists when absent. */
  knownAlgorithms?: Partial<Record<SshdAlgorithmFamily, readonly string[]>>;
  /** sshd's working directory, which relative paths are made absolute against ('/' under systemd). */
  cwd?: string;
  /** root's home directory, for `~/` in paths (sshd parses its config as root). */
  home?: string;
  /** IPQoS ToS names (lowdelay, throughput, reliability) mean none: see `legacyTosIgnored`. */
  tosIgnored?: boolean;
}

/**
 * A parsed value: `items` are what `sshd -T` prints for this one line (one entry per printed
 * line for accumulating keywords, or the words of a one-line list); `fields` carry the parts of
 * compound values whose pieces combine separately (MaxStartups, RekeyLimit, ListenAddress).
 */
export interface ParsedSshdValue {
  items: string[];
  fields?: Readonly<Record<string, string | number | undefined>>;
}

export type SshdValueResult = ParsedSshdValue | { problem: SshdValueProblem };

const INT_MAX = 2147483647;

const problem = (code: string, message: string, hint?: string): { problem: SshdValueProblem } => ({
  problem: hint === undefined ? { code, message } : { code, message, hint },
});
const ok = (items: string[], fields?: ParsedSshdValue['fields']): ParsedSshdValue =>
  fields === undefined ? { items } : { items, fields };

/** `strtonum(s, 0, INT_MAX)`: a decimal integer, optional sign, within range. */
export function parseSshdInteger(s: string | undefined, max = INT_MAX): number | undefined {
  if (s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number.parseInt(s, 10);
  return n >= 0 && n <= max ? (Object.is(n, -0) ? 0 : n) : undefined;
}

/**
 * sshd's `convtime`: a sum of number+unit (s m h d w, any case), in seconds; undefined if invalid.
 * Up to 9.7 each number is read with strtol (leading white space and a sign allowed); from 9.8
 * (misc.c's scandigits) each part is plain digits. Both allow up to INT_MAX in all.
 */
export function parseSshdTime(s: string, version: string = DEFAULT_OPENSSH_VERSION): number | undefined {
  if (s === '') return undefined;
  const strict = compareVersions(version, '9.8') >= 0;
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  let p = 0;
  while (p < s.length) {
    const m = (strict ? /^()(\d+)/ : /^[\t\n\v\f\r ]*([+-]?)(\d+)/).exec(s.slice(p));
    if (!m) return undefined;
    if (m[1] === '-' && /[1-9]/.test(m[2]!)) return undefined;
    const secs = Number.parseInt(m[2]!, 10);
    if (secs > INT_MAX) return undefined;
    p += m[0].length;
    let mult = 1;
    if (p < s.length) {
      const u = units[s[p]!.toLowerCase()];
      if (u === undefined) return undefined;
      mult = u;
      p++;
    }
    if (secs > Math.floor(INT_MAX / mult)) return undefined;
    if (total > INT_MAX - secs * mult) return undefined;
    total += secs * mult;
  }
  return total;
}

/** Leading `%d` of sscanf: optional space, sign, digits. Returns the number and what follows. */
function scanInt(s: string): { n: number; rest: string } | undefined {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(s);
  if (!m) return undefined;
  return { n: Number.parseInt(m[1]!, 10), rest: s.slice(m[0].length) };
}

/**
 * MaxStartups as sshd 9.2 reads it (`sscanf("%d:%d:%d")`): `N` sets start and full and leaves the
 * rate alone; `start:rate:full` sets all three. `strict` also refuses what sshd tolerates but a
 * person would not write on purpose (`10x`, signs, spaces).
 */
export function parseMaxStartups(
  s: string,
  strict = false,
): { begin: number; rate?: number; full: number } | SshdValueProblem {
  const bad = (why: string): SshdValueProblem => ({
    code: 'invalid-maxstartups',
    message: `invalid MaxStartups "${s}": ${why}`,
    hint: 'use start:rate:full with 0 < start <= full and 1 <= rate <= 100, e.g. 10:30:100, or a single number',
  });
  if (strict && !/^\d+(:\d+:\d+)?$/.test(s)) return bad('expected N or start:rate:full');
  const a = scanInt(s);
  if (!a) return bad('expected N or start:rate:full');
  let begin = a.n;
  let rate: number | undefined;
  let full = a.n;
  if (a.rest.startsWith(':')) {
    const b = scanInt(a.rest.slice(1));
    if (b) {
      if (!b.rest.startsWith(':')) return bad('expected N or start:rate:full');
      const c = scanInt(b.rest.slice(1));
      if (!c) return bad('expected N or start:rate:full');
      rate = b.n;
      full = c.n;
      if (begin > full) return bad('start is larger than full');
      if (rate > 100 || rate < 1) return bad('rate must be between 1 and 100');
    }
  }
  if (full <= 0 || begin <= 0) return bad('start and full must be greater than 0');
  begin = Math.trunc(begin);
  return rate === undefined ? { begin, full } : { begin, rate, full };
}

/** `scan_scaled`: bytes with an optional K/M/G/T/P/E suffix (powers of 1024). */
function parseScaled(s: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?([KMGTPE])?[Bb]?$/i.exec(s);
  if (!m) return undefined;
  const scale = m[3] ? 1024 ** ('KMGTPE'.indexOf(m[3].toUpperCase()) + 1) : 1;
  const whole = Number.parseInt(m[1]!, 10) * scale;
  const frac = m[2] ? Math.floor((Number(`0.${m[2]}`) * scale) / 10) * 10 : 0;
  return whole + frac;
}

const IPQOS: readonly (readonly [string, number])[] = [
  ['af11', 0x28], ['af12', 0x30], ['af13', 0x38], ['af21', 0x48], ['af22', 0x50], ['af23', 0x58],
  ['af31', 0x68], ['af32', 0x70], ['af33', 0x78], ['af41', 0x88], ['af42', 0x90], ['af43', 0x98],
  ['cs0', 0x00], ['cs1', 0x20], ['cs2', 0x40], ['cs3', 0x60], ['cs4', 0x80], ['cs5', 0xa0],
  ['cs6', 0xc0], ['cs7', 0xe0], ['ef', 0xb8], ['le', 0x04], ['lowdelay', 0x10],
  ['throughput', 0x08], ['reliability', 0x04],
];

/** IPQoS word -> number (`none` is its own value); undefined if sshd refuses it. */
/**
 * One IPQoS word: a name (any case), or a number 0-255, which up to 9.7 strtol reads in any base
 * (`0x10`, `020`) and from 9.8 strtonum in decimal only. With `tosIgnored` (10.1's IPQoS, see
 * `legacyTosIgnored`) the ToS names lowdelay, throughput and reliability stand for none.
 */
function parseIpqos(s: string, strict: boolean, tosIgnored: boolean): number | 'none' | undefined {
  const lower = s.toLowerCase();
  if (lower === 'none') return 'none';
  if (tosIgnored && TOS_NAMES.has(lower)) return 'none';
  const named = IPQOS.find(([n]) => n === lower);
  if (named) return named[1];
  if (strict) return parseSshdInteger(s, 255);
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.slice(2), 16);
  else if (/^0[0-7]*$/.test(s)) v = Number.parseInt(s, 8);
  else if (/^[1-9]\d*$/.test(s)) v = Number.parseInt(s, 10);
  else return undefined;
  return v >= 0 && v <= 255 ? v : undefined;
}
function ipqosName(v: number | 'none', tosIgnored: boolean): string {
  if (v === 'none') return 'none';
  const named = IPQOS.find(([n, value]) => value === v && !(tosIgnored && TOS_NAMES.has(n)));
  return named ? named[0] : `0x${v.toString(16).padStart(2, '0')}`;
}

/** The IPv4 ToS names that 10.1 reads as none (and so never prints). */
const TOS_NAMES: ReadonlySet<string> = new Set(['lowdelay', 'throughput', 'reliability']);

const LOG_LEVELS: readonly (readonly [string, string])[] = [
  ['QUIET', 'QUIET'], ['FATAL', 'FATAL'], ['ERROR', 'ERROR'], ['INFO', 'INFO'], ['VERBOSE', 'VERBOSE'],
  ['DEBUG', 'DEBUG1'], ['DEBUG1', 'DEBUG1'], ['DEBUG2', 'DEBUG2'], ['DEBUG3', 'DEBUG3'],
];
const LOG_FACILITIES = ['DAEMON', 'USER', 'AUTH', 'AUTHPRIV', 'LOCAL0', 'LOCAL1', 'LOCAL2', 'LOCAL3', 'LOCAL4', 'LOCAL5', 'LOCAL6', 'LOCAL7'];
const AUTH_METHODS = ['none', 'publickey', 'gssapi-with-mic', 'password', 'keyboard-interactive', 'hostbased'];
const DIGESTS = ['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'];

/** How `sshd -T` prints each accepted word of a choice keyword (aliases print under one name). */
const CHOICE_PRINT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  permitrootlogin: { 'prohibit-password': 'without-password' },
  compression: { delayed: 'yes' },
  allowtcpforwarding: { all: 'yes' },
  allowstreamlocalforwarding: { all: 'yes' },
};

/** Keywords that take a plain path through sshd's `derelativise_path` (absolute, `~` expanded). */
const DERELATIVISED = new Set([
  'pidfile', 'modulifile', 'xauthlocation', 'banner', 'trustedusercakeys', 'revokedkeys',
  'hostkey', 'hostcertificate', 'hostkeyagent', 'securitykeyprovider', 'sshdsessionpath', 'sshdauthpath',
]);

function expandTilde(path: string, ctx: SshdValueContext): string {
  const home = ctx.home ?? '/root';
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home}${path.slice(1)}`;
  return path;
}

/** sshd's `derelativise_path`: `none` stays, `~/` is root's home, a relative path joins the cwd. */
export function derelativisePath(path: string, ctx: SshdValueContext = {}): string {
  if (path.toLowerCase() === 'none') return 'none';
  const expanded = expandTilde(path, ctx);
  if (expanded.startsWith('/')) return expanded;
  return `${ctx.cwd ?? '/'}/${expanded}`;
}

function knownNames(family: SshdAlgorithmFamily, ctx: SshdValueContext): readonly string[] {
  return ctx.knownAlgorithms?.[family] ?? DEBIAN_12_DEFAULTS.algorithms[family].all;
}

/**
 * Compiled wildcard patterns. Planning matches the same few dozen patterns (algorithm lists,
 * Match criteria) against every name many times over; the cap only guards against unbounded
 * input, past it the oldest pattern is compiled again when next needed.
 */
const WILDCARD_CACHE_LIMIT = 4096;
const compiledWildcards = new Map<string, RegExp>();

function compileWildcard(pattern: string): RegExp {
  const cached = compiledWildcards.get(pattern);
  if (cached) return cached;
  let source = '^';
  for (const ch of pattern) source += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${source}$`, 's');
  if (compiledWildcards.size >= WILDCARD_CACHE_LIMIT) compiledWildcards.delete(compiledWildcards.keys().next().value!);
  compiledWildcards.set(pattern, re);
  return re;
}

/** Shell-style wildcard match (`*`, `?`), as OpenSSH's match_pattern. */
export function matchWildcard(s: string, pattern: string): boolean {
  // Most patterns are plain names, which match only themselves.
  if (!pattern.includes('*') && !pattern.includes('?')) return s === pattern;
  return compileWildcard(pattern).test(s);
}

function checkAlgorithms(keyword: SshdKeyword, spec: string, ctx: SshdValueContext): SshdValueProblem | undefined {
  const family = keyword.algorithmFamily ?? 'kex';
  if (spec === '') return { code: 'missing-value', message: `${keyword.name} needs a value` };
  // sshd checks nothing in a `-` list: removing a name it does not know is harmless.
  if (spec.startsWith('-')) return undefined;
  if (family === 'gss-kex' && /^[+^]/.test(spec)) {
    return {
      code: 'invalid-algorithm-list',
      message: `${keyword.name} takes an explicit list only, not "${spec}"`,
      hint: 'list the algorithms in full, comma-separated',
    };
  }
  const body = /^[+^]/.test(spec) ? spec.slice(1) : spec;
  const known = knownNames(family, ctx);
  const wildcards = family === 'pubkey' || family === 'hostkey' || family === 'sig';
  for (const name of body.split(',')) {
    const good =
      name !== '' &&
      (known.includes(name) || (wildcards && /[*?]/.test(name) && known.some((k) => matchWildcard(k, name))));
    if (!good) {
      return {
        code: 'unknown-algorithm',
        message: `${keyword.name}: "${name}" is not an algorithm this OpenSSH knows`,
        hint: `known ${family} names: ${known.join(', ')}`,
      };
    }
  }
  return undefined;
}

/** Parses a user-typed value (the whole text after the keyword). */
export function parseSshdValue(keyword: SshdKeyword, value: string, ctx: SshdValueContext = {}): SshdValueResult {
  const rest = value.replace(/^[ \t]+|[ \t\r\n\f]+$/g, '');
  const split = splitArguments(rest);
  if (!split) return problem('unbalanced-quotes', `${keyword.name}: unbalanced quotes in "${value}"`);
  return parseSshdArguments(
    keyword,
    split.args.map((a) => a.value),
    rest,
    ctx,
  );
}

/**
 * Parses the arguments of one config line. `args` are the split arguments, `rest` the raw text
 * after the keyword (for keywords that take the rest of the line verbatim).
 */
export function parseSshdArguments(
  keyword: SshdKeyword,
  args: readonly string[],
  rest: string,
  ctx: SshdValueContext = {},
): SshdValueResult {
  const name = keyword.name;
  const dump = keyword.dumpName;
  const first = args[0];
  if (rest === '' || (first === undefined && keyword.value !== 'command' && keyword.value !== 'version-addendum')) {
    return problem('missing-value', `${name} needs a value`);
  }
  const single = (r: SshdValueResult): SshdValueResult =>
    'items' in r && args.length > 1
      ? problem('extra-arguments', `${name} takes one value, got ${args.length}`, 'quote the value if it contains spaces')
      : r;
  const arg = first ?? '';

  switch (keyword.value) {
    case 'flag': {
      const lower = arg.toLowerCase();
      if (lower !== 'yes' && lower !== 'no') {
        return problem('invalid-flag', `${name} must be yes or no, not "${arg}"`);
      }
      return single(ok([lower]));
    }
    case 'choice': {
      const choices = keyword.choices ?? [];
      // PermitTunnel is the one choice sshd compares case-sensitively.
      const found = dump === 'permittunnel' ? choices.find((c) => c === arg) : choices.find((c) => c === arg.toLowerCase());
      if (found === undefined) {
        return problem('invalid-choice', `${name} must be one of ${choices.join(', ')}, not "${arg}"`);
      }
      return single(ok([CHOICE_PRINT[dump]?.[found] ?? found]));
    }
    case 'integer': {
      const n = parseSshdInteger(arg);
      if (n === undefined) return problem('invalid-integer', `${name} must be a whole number >= 0, not "${arg}"`);
      return single(ok([String(n)]));
    }
    case 'time': {
      const t = parseSshdTime(arg, ctx.version);
      if (t === undefined) {
        return problem('invalid-time', `${name}: "${arg}" is not a time value`, 'use seconds or a sum of number+unit (s, m, h, d, w), e.g. 60, 5m, 1h30m');
      }
      return single(ok([String(t)]));
    }
    case 'time-or-none': {
      // The word none is remembered: sshd applies it over any earlier value (see the effective engine).
      if (arg.toLowerCase() === 'none') return single(ok(['none'], { none: 'yes' }));
      const t = parseSshdTime(arg, ctx.version);
      if (t === undefined) {
        return problem('invalid-time', `${name}: "${arg}" is not a time value or none`, 'use none, seconds, or number+unit such as 10m');
      }
      return single(ok([t === 0 ? 'none' : String(t)]));
    }
    case 'maxstartups': {
      const m = parseMaxStartups(arg);
      if ('code' in m) return { problem: m };
      return single(ok([`${m.begin}:${m.rate ?? 30}:${m.full}`], { begin: m.begin, rate: m.rate, full: m.full }));
    }
    case 'algorithms': {
      const p = checkAlgorithms(keyword, arg, ctx);
      return p ? { problem: p } : single(ok([arg]));
    }
    case 'path': {
      if (dump === 'authorizedprincipalsfile') return single(ok([expandTilde(arg, ctx)]));
      if (dump === 'hostkeyagent' && arg === 'SSH_AUTH_SOCK') return single(ok([arg]));
      if (dump === 'securitykeyprovider' && arg.toLowerCase() === 'internal') return single(ok([arg]));
      return single(ok([DERELATIVISED.has(dump) ? derelativisePath(arg, ctx) : arg]));
    }
    case 'path-list':
      return ok(args.map((a) => expandTilde(a, ctx)));
    case 'string':
      return single(ok([arg]));
    case 'command': {
      if ((dump === 'authorizedkeyscommand' || dump === 'authorizedprincipalscommand') && !rest.startsWith('/') && rest.toLowerCase() !== 'none') {
        return problem('invalid-command', `${name} must be an absolute path or none`);
      }
      return ok([rest]);
    }
    case 'version-addendum': {
      if (rest.includes('\r')) return problem('invalid-value', `${name} must not contain a carriage return`);
      // sshd means to cut a trailing comment here but searches only the keyword: the whole rest stays.
      return ok([rest.toLowerCase() === 'none' ? 'none' : rest]);
    }
    case 'user-patterns': {
      for (const a of args) {
        const at = a.indexOf('@');
        if (a === '' || (at !== -1 && !validAddressPatternList(a.slice(at + 1)))) {
          return problem('invalid-pattern', `${name}: invalid pattern "${a}"`);
        }
      }
      return ok([...args]);
    }
    case 'group-patterns':
      if (args.some((a) => a === '')) return problem('invalid-pattern', `${name}: empty pattern`);
      return ok([...args]);
    case 'env-names':
      if (args.some((a) => a === '' || a.includes('='))) {
        return problem('invalid-env-name', `${name}: environment names must not be empty or contain "="`);
      }
      return ok([...args]);
    case 'env-assignments': {
      const seen = new Set<string>();
      const items: string[] = [];
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq === -1) return problem('invalid-env', `${name}: "${a}" is not NAME=value`);
        const key = a.slice(0, eq);
        if (seen.has(key)) continue;
        seen.add(key);
        items.push(a);
      }
      return ok(items);
    }
    case 'port': {
      const port = parsePort(arg);
      if (port === undefined || port <= 0) return problem('invalid-port', `${name}: "${arg}" is not a port number`);
      return single(ok([String(port)]));
    }
    case 'listen-address':
      return parseListenAddress(name, args);
    case 'subsystem': {
      if (args.length < 2) return problem('missing-value', `${name} needs a name and a command`);
      return ok([`${args[0]} ${args.slice(1).join(' ')}`], { name: args[0] });
    }
    case 'ipqos': {
      if (args.length > 2) return problem('extra-arguments', `${name} takes one or two values`);
      const strict = compareVersions(ctx.version ?? DEFAULT_OPENSSH_VERSION, '9.8') >= 0;
      const a = parseIpqos(arg, strict, ctx.tosIgnored === true);
      const b = args[1] === undefined ? a : parseIpqos(args[1], strict, ctx.tosIgnored === true);
      if (a === undefined || b === undefined) {
        return problem('invalid-ipqos', `${name}: "${args.join(' ')}" is not a DSCP name or number`, 'e.g. lowdelay throughput, af21 cs1');
      }
      return ok([ipqosName(a, ctx.tosIgnored === true), ipqosName(b, ctx.tosIgnored === true)]);
    }
    case 'rekey-limit': {
      if (args.length > 2) return problem('extra-arguments', `${name} takes one or two values`);
      let bytes: number;
      if (arg === 'default') bytes = 0;
      else {
        const v = parseScaled(arg);
        if (v === undefined) return problem('invalid-rekey-limit', `${name}: bad size "${arg}"`, 'e.g. 1G, 512M or default');
        if (v !== 0 && v < 16) return problem('invalid-rekey-limit', `${name}: ${arg} is too small`);
        bytes = v;
      }
      let interval: number | undefined;
      const second = args[1];
      if (second !== undefined && second !== 'none') {
        interval = parseSshdTime(second, ctx.version);
        if (interval === undefined) return problem('invalid-time', `${name}: "${second}" is not a time value`);
      }
      return ok([String(bytes), String(interval ?? 0)], { bytes, interval });
    }
    case 'octal-mask': {
      const m = /^[\t\n\v\f\r ]*([+-]?)([0-7]+)/.exec(arg);
      const v = m ? Number.parseInt(m[2]!, 8) * (m[1] === '-' ? -1 : 1) : Number.NaN;
      if (!m || v < 0 || v > 0o777) return problem('invalid-mask', `${name}: "${arg}" is not an octal mode such as 0177`);
      return single(ok([`0${v.toString(8)}`]));
    }
    case 'netblock-size': {
      const a = scanInt(arg);
      let v4 = a?.n;
      let v6 = 0;
      let good = a !== undefined && v4! >= 0 && v4! <= 32;
      if (a && a.rest.startsWith(':')) {
        const b = scanInt(a.rest.slice(1));
        if (b) {
          v6 = b.n;
          good = good && v6 >= 0 && v6 <= 128;
        }
      }
      if (!good) return problem('invalid-netblock', `${name}: "${arg}" is not v4[:v6] prefix lengths (0-32, 0-128)`);
      v4 = v4!;
      return single(ok([`${v4}:${v6}`]));
    }
    case 'address-list': {
      // sshd's addr_match_list(NULL, arg): addresses, CIDRs without host bits, patterns; no empty entry.
      if (addressListMatches(undefined, arg) === -2) {
        return problem(
          'invalid-address-list',
          `${name}: "${arg}" is not a comma-separated list of addresses or networks (sshd: invalid address argument)`,
          'write networks without host bits (10.0.0.0/8, not 10.0.0.1/8) and no empty entries, e.g. 192.0.2.7,198.51.100.0/24',
        );
      }
      return single(ok([arg]));
    }
    case 'persource-penalties':
      return parsePenalties(name, args, ctx.version ?? DEFAULT_OPENSSH_VERSION);
    case 'persource-limit': {
      if (arg === 'none') return single(ok(['none']));
      const n = parseSshdInteger(arg);
      if (n === undefined) return problem('invalid-integer', `${name} must be a number or none, not "${arg}"`);
      return single(ok([String(n)]));
    }
    case 'log-level': {
      const found = LOG_LEVELS.find(([n]) => n === arg.toUpperCase());
      if (!found) return problem('invalid-choice', `${name}: unknown log level "${arg}"`, `one of ${LOG_LEVELS.map(([n]) => n).join(', ')}`);
      // DEBUG and DEBUG1 are one level; sshd -T prints the first name it has for it.
      return single(ok([found[1] === 'DEBUG1' ? 'DEBUG' : found[1]]));
    }
    case 'log-facility': {
      const found = LOG_FACILITIES.find((n) => n === arg.toUpperCase());
      if (!found) return problem('invalid-choice', `${name}: unknown facility "${arg}"`, `one of ${LOG_FACILITIES.join(', ')}`);
      return single(ok([found]));
    }
    case 'permit-open': {
      if (arg === 'any' || arg === 'none') return ok([arg]);
      const items: string[] = [];
      for (const a of args) {
        if (a === '') break;
        if (dump === 'permitlisten' && !a.includes(':')) {
          if (!validPermitPort(a)) return problem('invalid-port', `${name}: bad port in "${a}"`);
          items.push(`*:${a}`);
          continue;
        }
        const hp = splitHostPort(a);
        if (!hp || hp.port === undefined || !validPermitPort(hp.port)) {
          return problem('invalid-port', `${name}: "${a}" is not host:port`);
        }
        items.push(a);
      }
      return ok(items);
    }
    case 'auth-methods': {
      let sawAny = false;
      for (const a of args) {
        if (a === 'any') {
          if (args.length > 1) return problem('invalid-auth-methods', `${name}: "any" must appear alone`);
          sawAny = true;
          continue;
        }
        const bad = a === '' || a.split(',').some((m) => !AUTH_METHODS.includes(m.split(':')[0]!));
        if (bad) return problem('invalid-auth-methods', `${name}: invalid method list "${a}"`, `methods: ${AUTH_METHODS.slice(1).join(', ')}`);
      }
      return ok(sawAny ? ['any'] : [...args]);
    }
    case 'channel-timeout': {
      for (const a of args) {
        if (a.toLowerCase() === 'none') {
          if (args.length > 1) return problem('invalid-channel-timeout', `${name}: "none" must appear alone`);
          continue;
        }
        const eq = a.indexOf('=');
        if (eq <= 0 || parseSshdTime(a.slice(eq + 1), ctx.version) === undefined) {
          return problem('invalid-channel-timeout', `${name}: "${a}" is not type=interval`);
        }
      }
      return ok([...args]);
    }
    case 'log-verbose':
      if (args.some((a) => a.toLowerCase() === 'none') && args.length > 1) {
        return problem('invalid-value', `${name}: "none" must appear alone`);
      }
      return ok([...args]);
    case 'fingerprint-hash': {
      const found = DIGESTS.find((d) => d === arg.toUpperCase());
      if (!found) return problem('invalid-choice', `${name} must be md5 or sha256, not "${arg}"`);
      return single(ok([found]));
    }
    case 'pubkey-auth-options': {
      let touch = false;
      let verify = false;
      for (const a of args) {
        const lower = a.toLowerCase();
        if (lower === 'none') continue;
        if (lower === 'touch-required') touch = true;
        else if (lower === 'verify-required') verify = true;
        else return problem('invalid-choice', `${name}: unknown option "${a}"`, 'none, touch-required, verify-required');
      }
      const items = [...(touch ? ['touch-required'] : []), ...(verify ? ['verify-required'] : [])];
      return ok(items.length ? items : ['none']);
    }
    case 'permit-user-environment':
      return single(ok([arg]));
    case 'rdomain':
      return problem('unsupported-on-platform', `${name} is not supported by this sshd build (no routing domains on Linux)`);
    case 'include':
    case 'match':
    case 'ignored':
      return ok([...args]);
  }
}

/** `a2port`: 0-65535 or a service name sshd would resolve (only `ssh` is assumed). */
/** The PerSourcePenalties fields that take a time (servconf.c: `name:` then convtime), and the release that added each. */
const PENALTY_TIMES: readonly (readonly [string, string])[] = [
  ['crash', '9.8'],
  ['authfail', '9.8'],
  ['noauth', '9.8'],
  ['grace-exceeded', '9.8'],
  ['refuseconnection', '9.9'],
  ['max', '9.8'],
  ['min', '9.8'],
];

/**
 * One PerSourcePenalties line: `fields` holds each field's first value on the line (later lines
 * fill only what is still unset, see the effective engine) and `enabled` a trailing yes/no,
 * which sshd accepts only as the line's last word. Field names are case-sensitive, yes/no not.
 */
function parsePenalties(name: string, args: readonly string[], version: string): SshdValueResult {
  const fields: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const lower = arg.toLowerCase();
    if (lower === 'yes' || lower === 'no') {
      if (i + 1 < args.length) return problem('invalid-penalties', `${name} "${arg}" must appear alone (or last)`, 'write PerSourcePenalties no, or name:value fields only');
      fields['enabled'] ??= lower;
      continue;
    }
    const colon = arg.indexOf(':');
    const field = colon < 0 ? arg : arg.slice(0, colon);
    const text = colon < 0 ? '' : arg.slice(colon + 1);
    const time = PENALTY_TIMES.find(([f, since]) => f === field && compareVersions(version, since) >= 0);
    let value: string | number | undefined;
    if (colon < 0) value = undefined;
    else if (time) {
      value = parseSshdTime(text, version);
      if (value === undefined) return problem('invalid-penalties', `${name}: "${arg}" has no valid time value`, 'e.g. crash:90, authfail:5m');
    } else if (field === 'max-sources4' || field === 'max-sources6') {
      value = parseSshdInteger(text);
      if (value === undefined) return problem('invalid-penalties', `${name}: "${arg}" needs a whole number >= 0`);
    } else if ((field === 'overflow' || field === 'overflow6') && (text === 'deny-all' || text === 'permissive')) value = text;
    if (value === undefined) {
      const known = [...PENALTY_TIMES.filter(([, since]) => compareVersions(version, since) >= 0).map(([f]) => `${f}:TIME`), 'max-sources4:N', 'max-sources6:N', 'overflow:deny-all|permissive', 'overflow6:deny-all|permissive'];
      return problem('invalid-penalties', `${name}: unsupported keyword "${arg}"`, `yes, no, or ${known.join(', ')}`);
    }
    fields[field] ??= value;
  }
  return ok([...args], fields);
}

function parsePort(s: string): number | undefined {
  const n = parseSshdInteger(s, 65535);
  if (n !== undefined) return n;
  return s === 'ssh' ? 22 : undefined;
}

function validPermitPort(s: string): boolean {
  if (s === '*') return true;
  const p = parsePort(s);
  return p !== undefined && p > 0;
}

/** OpenSSH's `hpdelim`: `[v6]:port`, `host:port`, `host/port`; port undefined when absent. */
export function splitHostPort(s: string): { host: string; port?: string } | undefined {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return undefined;
    const host = s.slice(1, close);
    const after = s.slice(close + 1);
    if (after === '') return { host };
    if (after[0] !== ':' && after[0] !== '/') return undefined;
    return { host, port: after.slice(1) };
  }
  const i = s.search(/[:/]/);
  if (i === -1) return { host: s };
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

function parseListenAddress(name: string, args: readonly string[]): SshdValueResult {
  const arg = args[0]!;
  if (args.length > 1) {
    if (args[0] !== undefined && args[1] === 'rdomain') {
      return problem('unsupported-on-platform', `${name}: routing domains are not supported by this sshd build`);
    }
    return problem('extra-arguments', `${name}: bad ListenAddress syntax`);
  }
  let host: string;
  let port: number | undefined;
  const colon = arg.indexOf(':');
  if (!arg.includes('[') && colon !== -1 && arg.indexOf(':', colon + 1) !== -1) {
    host = arg;
  } else {
    const hp = splitHostPort(arg);
    if (!hp) return problem('invalid-listen-address', `${name}: bad address:port "${arg}"`);
    host = hp.host;
    if (hp.port !== undefined) {
      const p = parsePort(hp.port);
      if (p === undefined || p <= 0) return problem('invalid-port', `${name}: bad port in "${arg}"`);
      port = p;
    }
  }
  const address = normaliseAddress(host);
  return ok([arg], { host: address ?? host, port, numeric: address === undefined ? 'no' : host.includes(':') ? 'v6' : 'v4' });
}

/** Canonical text of a numeric IPv4 or IPv6 address (as getnameinfo prints it), else undefined. */
export function normaliseAddress(s: string): string | undefined {
  const v4 = parseIpv4(s);
  if (v4) return v4.join('.');
  const v6 = parseIpv6(s);
  return v6 ? formatIpv6(v6) : undefined;
}

export function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Parses an IPv6 address into 8 groups; undefined if it is not one. */
export function parseIpv6(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  const dotted = s.slice(lastColon + 1);
  if (dotted.includes('.')) {
    const v4 = parseIpv4(dotted);
    if (!v4) return undefined;
    text = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const groups = head.length + rest.length;
  if (halves.length === 1) return groups === 8 ? head : undefined;
  if (groups > 7) return undefined;
  return [...head, ...new Array<number>(8 - groups).fill(0), ...rest];
}

/** RFC 5952 text of 8 groups (longest zero run of 2+ compressed, IPv4-mapped kept dotted). */
export function formatIpv6(g: readonly number[]): string {
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Whether an address pattern list (`Match Address`, `user@host` in AllowUsers) is well formed. */
export function validAddressPatternList(list: string): boolean {
  for (const raw of list.split(',')) {
    const p = raw.startsWith('!') ? raw.slice(1) : raw;
    if (p === '') return false;
    const slash = p.indexOf('/');
    if (slash !== -1) {
      const addr = p.slice(0, slash);
      const bits = p.slice(slash + 1);
      const v4 = parseIpv4(addr);
      const v6 = v4 ? undefined : parseIpv6(addr);
      if (!v4 && !v6) continue; // not CIDR: sshd falls back to a wildcard match
      if (!/^\d+$/.test(bits) || Number(bits) > (v4 ? 32 : 128)) return false;
      if (!cidrHostBitsClear(v4 ?? v6!, v4 ? 8 : 16, Number(bits))) return false;
    }
  }
  return true;
}

/** sshd refuses a CIDR whose host bits are set (e.g. 10.0.0.1/8). */
export function cidrHostBitsClear(groups: readonly number[], width: number, bits: number): boolean {
  for (let i = 0; i < groups.length; i++) {
    const start = i * width;
    const keep = Math.max(0, Math.min(width, bits - start));
    const mask = keep === width ? 0 : (1 << (width - keep)) - 1;
    if ((groups[i]! & mask) !== 0) return false;
  }
  return true;
}

export type Addr = { v: 4 | 6; groups: number[] };
export function parseAddr(s: string): Addr | undefined {
  const v4 = parseIpv4(s);
  if (v4) return { v: 4, groups: v4 };
  const v6 = parseIpv6(s);
  return v6 ? { v: 6, groups: v6 } : undefined;
}

export function inNetwork(a: Addr, net: Addr, bits: number): boolean {
  if (a.v !== net.v) return false;
  const width = a.v === 4 ? 8 : 16;
  for (let i = 0; i < a.groups.length; i++) {
    const keep = Math.max(0, Math.min(width, bits - i * width));
    if (keep === 0) continue;
    const mask = ((1 << keep) - 1) << (width - keep);
    if ((a.groups[i]! & mask) !== (net.groups[i]! & mask)) return false;
  }
  return true;
}

/**
 * OpenSSH's `addr_match_list`: 1 match, 0 none, -1 negated match, -2 malformed list. With
 * `addr` undefined it only checks the list.
 */
export function addressListMatches(addr: string | undefined, list: string): 1 | 0 | -1 | -2 {
  const a = addr === undefined ? undefined : parseAddr(addr);
  if (addr !== undefined && !a) return 0;
  let ret: 1 | 0 = 0;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const cp = neg ? raw.slice(1) : raw;
    if (cp === '') return -2;
    const slash = cp.indexOf('/');
    const netText = slash === -1 ? cp : cp.slice(0, slash);
    const bitsText = slash === -1 ? undefined : cp.slice(slash + 1);
    const net = parseAddr(netText);
    const bitsOk = bitsText === undefined || (/^\d+$/.test(bitsText) && Number(bitsText) <= 128);
    if (net && bitsOk) {
      const bits = bitsText === undefined ? (net.v === 4 ? 32 : 128) : Number(bitsText);
      if (bits > (net.v === 4 ? 32 : 128)) return -2;
      if (!hostBitsZero(net, bits)) return -2;
      if (a && inNetwork(a, net, bits)) {
        if (neg) return -1;
        ret = 1;
      }
      continue;
    }
    if (addr !== undefined && matchWildcard(addr, cp)) {
      if (neg) return -1;
      ret = 1;
    }
  }
  return ret;
}

function hostBitsZero(net: Addr, bits: number): boolean {
  const width = net.v === 4 ? 8 : 16;
  for (let i = 0; i < net.groups.length; i++) {
    const keep = Math.max(0, Math.min(width, bits - i * width));
    const hostMask = keep === width ? 0 : (1 << (width - keep)) - 1;
    if ((net.groups[i]! & hostMask) !== 0) return false;
  }
  return true;
}
