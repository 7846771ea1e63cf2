/**
 * Host ranges in inventory names and patterns: `web-[01:20].example.com` (zero padding kept),
 * `db-[a:c]`, `node-[0:30:10]` (a step), several ranges in one name (every combination).
 */

/** A problem in a range, with the character span [from, to) it concerns in the written name. */
export interface HostRangeError {
  message: string;
  from: number;
  to: number;
}

/** The names a text expands to, in order, or why it cannot be expanded. */
export type HostRangeResult = { names: string[] } | { error: HostRangeError };

/** More names than this from one entry is almost certainly a typo (`[1:100000]`). */
export const MAX_RANGE_HOSTS = 10_000;

const RANGE = /\[([^\]:]*):([^\]:]*)(?::([^\]:]*))?\]/g;

/** True when `text` contains a `[start:end]` range. */
export function hasHostRange(text: string): boolean {
  return /\[[^\]]*:[^\]]*\]/.test(text);
}

/** Expands every range in `text`; a text without ranges expands to itself. */
export function expandHostRange(text: string, limit = MAX_RANGE_HOSTS): HostRangeResult {
  // Most names have no brackets at all: no need to look for ranges (every host of an inventory).
  if (!text.includes('[') && !text.includes(']')) return { names: [text] };
  const parts: string[][] = [];
  let last = 0;
  let total = 1;
  for (const match of text.matchAll(RANGE)) {
    const at = match.index;
    const literal = text.slice(last, at);
    const stray = literal.search(/[[\]]/);
    if (stray >= 0) return { error: { message: 'unbalanced bracket in host range', from: last + stray, to: last + stray + 1 } };
    parts.push([literal]);
    const values = expandOne(match[1] ?? '', match[2] ?? '', match[3]);
    if (typeof values === 'string') return { error: { message: values, from: at, to: at + match[0].length } };
    total *= values.length;
    if (total > limit) {
      return { error: { message: `range expands to more than ${limit} hosts`, from: at, to: at + match[0].length } };
    }
    parts.push(values);
    last = at + match[0].length;
  }
  const tail = text.slice(last);
  const stray = tail.search(/[[\]]/);
  if (stray >= 0) {
    return { error: { message: 'a range is written [start:end], e.g. [01:20] or [a:c]', from: last + stray, to: last + stray + 1 } };
  }
  parts.push([tail]);
  let names = [''];
  for (const choices of parts) names = names.flatMap((prefix) => choices.map((c) => prefix + c));
  return { names };
}

function expandOne(start: string, end: string, step: string | undefined): string[] | string {
  let stride = 1;
  if (step !== undefined) {
    if (!/^[0-9]+$/.test(step) || Number(step) < 1) return `range step must be a positive whole number, found "${step}"`;
    stride = Number(step);
  }
  if (/^[0-9]+$/.test(start) && /^[0-9]+$/.test(end)) {
    const from = Number(start);
    const to = Number(end);
    if (from > to) return `range start ${start} is after its end ${end}`;
    if ((to - from) / stride + 1 > MAX_RANGE_HOSTS) return `range expands to more than ${MAX_RANGE_HOSTS} hosts`;
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    const out: string[] = [];
    for (let n = from; n <= to; n += stride) out.push(String(n).padStart(width, '0'));
    return out;
  }
  if (/^[a-z]$/.test(start) && /^[a-z]$/.test(end) || /^[A-Z]$/.test(start) && /^[A-Z]$/.test(end)) {
    const from = start.charCodeAt(0);
    const to = end.charCodeAt(0);
    if (from > to) return `range start ${start} is after its end ${end}`;
    const out: string[] = [];
    for (let c = from; c <= to; c += stride) out.push(String.fromCharCode(c));
    return out;
  }
  return `range bounds must be two numbers or two letters of the same case, found [${start}:${end}]`;
}
