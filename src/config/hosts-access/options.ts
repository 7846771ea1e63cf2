/**
 * The third field of a rule (hosts_options(5)): Debian builds libwrap with PROCESS_OPTIONS, so
 * `: DENY` in hosts.allow refuses and `: ALLOW` in hosts.deny grants. Options are separated by
 * colons not preceded by a backslash; each is a case-insensitive name, then its value after
 * blanks or `=`. libwrap stops with an error, and the connection is refused, on an empty or
 * unknown option, a missing or unexpected value, a bad `severity`, or `allow`, `deny` or `twist`
 * anywhere but last.
 */

type ArgRule = 'none' | 'required' | 'optional';

interface OptionSpec {
  arg: ArgRule;
  /** Must be the last option of the rule. */
  last?: boolean;
}

const OPTION_SPECS: ReadonlyMap<string, OptionSpec> = new Map([
  ['allow', { arg: 'none', last: true }],
  ['deny', { arg: 'none', last: true }],
  ['twist', { arg: 'required', last: true }],
  ['spawn', { arg: 'required' }],
  ['severity', { arg: 'required' }],
  ['setenv', { arg: 'required' }],
  ['umask', { arg: 'required' }],
  ['user', { arg: 'required' }],
  ['group', { arg: 'required' }],
  ['linger', { arg: 'required' }],
  ['banners', { arg: 'required' }],
  ['keepalive', { arg: 'none' }],
  ['nice', { arg: 'optional' }],
  ['rfc931', { arg: 'optional' }],
]);

const SYSLOG_FACILITIES = new Set([
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'mark', 'news', 'security', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]);
const SYSLOG_LEVELS = new Set(['emerg', 'panic', 'alert', 'crit', 'err', 'error', 'warning', 'warn', 'notice', 'info', 'debug']);

function validSeverity(value: string): boolean {
  const dot = value.indexOf('.');
  if (dot === -1) return SYSLOG_LEVELS.has(value.toLowerCase());
  return SYSLOG_FACILITIES.has(value.slice(0, dot).toLowerCase()) && SYSLOG_LEVELS.has(value.slice(dot + 1).toLowerCase());
}

export interface ParsedOption {
  name: string;
  value?: string;
}

/** What the options of a matching rule decide. */
export type OptionsOutcome =
  | { kind: 'none' }
  | { kind: 'allow' | 'deny' | 'twist'; option: string }
  | { kind: 'error'; message: string };

/** Splits the options text at colons not preceded by a backslash. */
export function splitOptions(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ':' && text[i - 1] !== '\\') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function parseOption(text: string): ParsedOption | undefined {
  let b = 0;
  let e = text.length;
  while (b < e && isBlank(text[b]!)) b++;
  while (e > b && isBlank(text[e - 1]!)) e--;
  const body = text.slice(b, e);
  if (body === '') return undefined;
  let n = 0;
  while (n < body.length && !isBlank(body[n]!) && body[n] !== '=') n++;
  const name = body.slice(0, n);
  let v = n;
  while (v < body.length && isBlank(body[v]!)) v++;
  if (body[v] === '=') {
    v++;
    while (v < body.length && isBlank(body[v]!)) v++;
  }
  const value = body.slice(v);
  return value === '' ? { name } : { name, value };
}

/** Evaluates the options of a rule that matched, as libwrap's `process_options` would decide. */
export function evaluateOptions(text: string): OptionsOutcome {
  const parts = splitOptions(text);
  let outcome: OptionsOutcome = { kind: 'none' };
  for (let i = 0; i < parts.length; i++) {
    const option = parseOption(parts[i]!);
    if (!option || option.name === '') return { kind: 'error', message: 'missing option name' };
    const spec = OPTION_SPECS.get(option.name.toLowerCase());
    if (!spec) return { kind: 'error', message: `bad option name: "${option.name}"` };
    if (spec.arg === 'none' && option.value !== undefined) return { kind: 'error', message: `option "${option.name}" requires no value` };
    if (spec.arg === 'required' && option.value === undefined) return { kind: 'error', message: `option "${option.name}" requires value` };
    if (spec.last && i !== parts.length - 1) return { kind: 'error', message: `option "${option.name}" must be at end` };
    const lower = option.name.toLowerCase();
    if (lower === 'severity' && !validSeverity(option.value!)) return { kind: 'error', message: `bad syslog facility or severity: "${option.value!}"` };
    if (lower === 'allow' || lower === 'deny' || lower === 'twist') outcome = { kind: lower, option: option.name };
  }
  return outcome;
}
