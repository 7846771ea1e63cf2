/**
 * Would fail2ban's server load every jail of this configuration? `fail2ban-client -t` and `-d`
 * read the files but never convert the values the server converts when a jail starts
 * (`bantime = forever-ish` passes both, then a reload exits 255 with no jail left). This reads the
 * merged layers as fail2ban does and checks, for every enabled jail, each value the server
 * evaluates. Pure.
 */
import { evaluateFail2banJails } from '../../config/fail2ban/effective.js';
import type { Fail2banLayers } from '../../config/fail2ban/layers.js';
import { checkFail2banJailValue } from '../../config/fail2ban/values.js';
import type { Diagnostic } from '../../util/diagnostics.js';

/** Keys the server converts when a jail starts, and whose failure stops the jail (and a reload with it). */
const SERVER_EVALUATED = ['bantime', 'findtime', 'bantime.maxtime'] as const;

/** `where`: `path:line` of a diagnostic, when it has one. */
export const diagnosticPlace = (d: Diagnostic): string => (d.file ? `${d.file}${d.range ? `:${d.range.start.line}` : ''}` : '');

/** The first reason fail2ban would not load every enabled jail, with the file and line of the value; undefined when it would. */
export function fail2banLoadProblem(layers: Fail2banLayers): Diagnostic | undefined {
  const evaluation = evaluateFail2banJails(layers);
  const fatal = evaluation.diagnostics.find((d) => d.severity === 'error' || d.code === 'fail2ban-wrong-value');
  if (fatal) return { ...fatal, severity: 'error' };
  for (const jail of evaluation.jails) {
    if (!jail.enabled) continue;
    for (const key of SERVER_EVALUATED) {
      const value = jail.values.get(key);
      if (typeof value !== 'string' || value.trim() === '') continue;
      const check = checkFail2banJailValue(key, value);
      if (check.ok) continue;
      const origin = jail.origins.get(key)?.entry;
      return {
        severity: 'error',
        code: 'fail2ban-config-invalid',
        message: `jail ${jail.name}: ${check.reason}`,
        ...(origin ? { file: origin.path, range: { start: { line: origin.line, column: 1 }, end: { line: origin.line, column: 1 } } } : {}),
      };
    }
  }
  return undefined;
}

/** One line for a refusal: the place, then the message. */
export function describeLoadProblem(problem: Diagnostic): string {
  const place = diagnosticPlace(problem);
  return place ? `${place}: ${problem.message}` : problem.message;
}
