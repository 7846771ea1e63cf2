import { DURATION_PATTERN } from '../lang/spec.js';

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/**
 * The longest duration sshfix accepts: 2^31-1 ms (596h31m23s647ms, about 24.8 days). Node's
 * timers take at most this many milliseconds; a longer delay overflows and fires at once.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Why a duration read from the user is refused, or undefined when it is fine. */
export function durationTooLong(ms: number): string | undefined {
  return ms > MAX_DURATION_MS ? `at most ${formatDuration(MAX_DURATION_MS)} (about 24.8 days)` : undefined;
}

/**
 * Milliseconds for a duration: `10s`, `2m`, `1m30s`, `500ms`, `1h`, or a plain number (or numeric
 * string) of seconds. Undefined when the text does not follow that grammar.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const text = value.trim();
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  if (/^[0-9]+(?:\.[0-9]+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return total;
}

/** The shortest duration text for a number of milliseconds: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
