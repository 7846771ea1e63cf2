/**
 * Value checks for jail keys, done before anything is written: `fail2ban-client -t` passes values
 * the server then refuses when the jail starts (`bantime = forever-ish`), and a reload with one
 * such jail leaves the server with no jails at all.
 *
 * Times follow fail2ban's `MyTime.str2seconds`: letters glued to a following digit are split
 * (`1d12h` is `1d 12h`), a unit right after a digit or a space becomes a multiplication
 * (`d`/`day(s)`/`da`/`dd`, `w`/`week(s)`/`we`/`wee`/`ww`, `mo`/`mon`/`month(s)`,
 * `y`/`year(s)`/`ye`/`yea`/`yy`, `s`/`sec`/`second(s)`/`se`/`ss`, `m`/`min`/`minute(s)`/`mi`/`mm`,
 * `h`/`hour(s)`/`ho`/`hou`/`hh`, any case), numbers separated by spaces are added, and the result
 * is evaluated as a Python expression. Only expressions of numbers, `+`, `-` and `*` are accepted
 * here, a strict subset of what fail2ban evaluates, so an accepted value is one fail2ban reads the
 * same way.
 * Pure.
 */
import { fail2banBool } from './effective.js';

export type Fail2banValueCheck = { ok: true; normalized: string; seconds?: number; permanent?: boolean } | { ok: false; reason: string };

const UNITS: readonly (readonly [RegExp, string])[] = [
  [/(?<=[\d\s])(days?|da|dd?)\b/gi, `*${24 * 60 * 60}`],
  [/(?<=[\d\s])(weeks?|wee?|ww?)\b/gi, `*${7 * 24 * 60 * 60}`],
  [/(?<=[\d\s])(months?|mon?)\b/gi, '*2629800.0'],
  [/(?<=[\d\s])(years?|yea?|yy?)\b/gi, '*31557600.0'],
  [/(?<=[\d\s])(seconds?|sec?|ss?)\b/gi, '*1'],
  [/(?<=[\d\s])(minutes?|min?|mm?)\b/gi, '*60'],
  [/(?<=[\d\s])(hours?|hou?|hh?)\b/gi, `*${60 * 60}`],
];

/** `str2seconds`' rewriting of a time into an expression. */
export function rewriteFail2banTime(value: string): string {
  let v = value.replace(/(?<=[a-z])(\d)/gi, ' $1');
  for (const [re, rpl] of UNITS) v = v.replace(re, rpl);
  return v.replace(/(\d)\s+(\d)/g, '$1+$2');
}

/** Evaluates `+`, `-`, `*` over Python number literals; undefined for anything else. */
function evaluateExpression(expr: string): number | undefined {
  const tokens = expr.match(/\d+\.\d*|\.\d+|\d+|[+\-*]|\s+|./g) ?? [];
  const list = tokens.filter((t) => !/^\s+$/.test(t));
  let i = 0;
  const number = (): number | undefined => {
    const t = list[i];
    if (t === '+' || t === '-') {
      i++;
      const v = number();
      return v === undefined ? undefined : t === '-' ? -v : v;
    }
    if (t === undefined || !/^(\d+\.\d*|\.\d+|\d+)$/.test(t)) return undefined;
    // Python 3 refuses an integer literal with a leading zero (`05`).
    if (/^0\d/.test(t) && !t.includes('.') && !/^0+$/.test(t)) return undefined;
    i++;
    return Number(t);
  };
  const product = (): number | undefined => {
    let v = number();
    while (v !== undefined && list[i] === '*') {
      i++;
      const r = number();
      v = r === undefined ? undefined : v * r;
    }
    return v;
  };
  let total = product();
  while (total !== undefined && (list[i] === '+' || list[i] === '-')) {
    const op = list[i++];
    const r = product();
    total = r === undefined ? undefined : op === '+' ? total + r : total - r;
  }
  return total !== undefined && i === list.length ? total : undefined;
}

/** Seconds of a fail2ban time (`10m`, `1h 30m`, `-1`), or undefined when fail2ban would fail or read it otherwise. */
export function fail2banTimeSeconds(value: string): number | undefined {
  if (!/^[\x20-\x7e]*$/.test(value) || value.trim() === '') return undefined;
  return evaluateExpression(rewriteFail2banTime(value));
}

const TIME_HINT = 'a number of seconds or a fail2ban time such as 600, 10m, 1h 30m, 2d, 1w';

export function checkFail2banTime(key: 'bantime' | 'findtime' | string, value: string): Fail2banValueCheck {
  const seconds = fail2banTimeSeconds(value);
  if (seconds === undefined) return { ok: false, reason: `${key} = ${value} is not a time fail2ban can read (${TIME_HINT}); the jail would fail to start` };
  if (key === 'bantime' && seconds < 0) return { ok: true, normalized: value.trim(), seconds, permanent: true };
  if (seconds <= 0) return { ok: false, reason: `${key} = ${value} must be longer than 0 seconds` };
  return { ok: true, normalized: value.trim(), seconds };
}

export function checkFail2banMaxretry(value: string): Fail2banValueCheck {
  const t = value.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1) return { ok: false, reason: `maxretry = ${value} must be a whole number of at least 1` };
  return { ok: true, normalized: String(Number(t)) };
}

const FALSE_WORDS = ['0', 'off', 'false', 'no'];

export function checkFail2banBool(key: string, value: string): Fail2banValueCheck {
  const t = value.trim();
  if (fail2banBool(t)) return { ok: true, normalized: t };
  if (FALSE_WORDS.includes(t.toLowerCase())) return { ok: true, normalized: t };
  return { ok: false, reason: `${key} = ${value} is neither true (true, yes, on, 1) nor false (false, no, off, 0); fail2ban would read it as false` };
}

export const SSHD_FILTER_MODES = ['normal', 'ddos', 'extra', 'aggressive'] as const;

export function checkSshdFilterMode(value: string): Fail2banValueCheck {
  const t = value.trim();
  if ((SSHD_FILTER_MODES as readonly string[]).includes(t)) return { ok: true, normalized: t };
  return { ok: false, reason: `mode = ${value} is not a mode of the sshd filter (${SSHD_FILTER_MODES.join(', ')})` };
}

/** Jail keys sshfix can set, with their checks. */
export const FAIL2BAN_JAIL_KEY_CHECKS: Readonly<Record<string, (value: string) => Fail2banValueCheck>> = {
  maxretry: checkFail2banMaxretry,
  findtime: (v) => checkFail2banTime('findtime', v),
  bantime: (v) => checkFail2banTime('bantime', v),
  'bantime.maxtime': (v) => checkFail2banTime('bantime.maxtime', v),
  enabled: (v) => checkFail2banBool('enabled', v),
  mode: checkSshdFilterMode,
};

/** Checks one `key = value` for a jail; unknown keys are refused. */
export function checkFail2banJailValue(key: string, value: string): Fail2banValueCheck {
  if (/[\r\n\0]/.test(value)) return { ok: false, reason: `${key}: a value may not hold a line break or NUL` };
  const check = FAIL2BAN_JAIL_KEY_CHECKS[key.toLowerCase()];
  if (!check) return { ok: false, reason: `${key} is not a jail key sshfix sets (${Object.keys(FAIL2BAN_JAIL_KEY_CHECKS).join(', ')})` };
  return check(value);
}
