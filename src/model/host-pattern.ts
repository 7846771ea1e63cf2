import type { SourceRange } from '../util/diagnostics.js';
import { compileGlob, isGlob } from './glob.js';
import { expandHostRange, hasHostRange } from './host-range.js';

/**
 * Host patterns, for a play's `hosts:` and `-l`: a host name, a group name, a glob (`web-*`), a
 * range (`web-[01:05]`), `all` (or `*`), comma-separated, each optionally negated with `!` to
 * exclude. The hosts selected are the union of the positive terms (every host when there are
 * only exclusions) minus the union of the excluded ones, in inventory order.
 */
export interface HostPatternTerm {
  /** The term without its `!`. */
  text: string;
  exclude: boolean;
  /** Character offsets [from, to) of the whole term (with `!`) in the pattern text. */
  from: number;
  to: number;
  /** Where the term stands in a file, when it came from one. */
  range?: SourceRange;
}

/** A parsed pattern: its text and its terms in order. */
export interface HostPattern {
  source: string;
  terms: HostPatternTerm[];
}

/** A malformed pattern, with the span [from, to) of the culprit in the pattern text. */
export interface PatternError {
  message: string;
  hint?: string;
  from: number;
  to: number;
}

/** The hosts and groups patterns are matched against, in inventory order. */
export interface PatternUniverse {
  hosts: readonly string[];
  groups: ReadonlyMap<string, readonly string[]>;
  /** Hosts only their exact name selects (the implicit localhost): never `all`, globs or an exclusions-only pattern. */
  implicit?: ReadonlySet<string>;
}

/** What a pattern selects from a universe. */
export interface PatternSelection {
  /** Selected host names, in inventory order. */
  hosts: string[];
  /** Terms that matched no host (worth a warning: usually a typo). */
  unmatched: HostPatternTerm[];
}

const TERM = /^[A-Za-z0-9_.*?[\]:!^@-]+$/;

export function parseHostPattern(source: string): { pattern: HostPattern; errors: PatternError[] } {
  const terms: HostPatternTerm[] = [];
  const errors: PatternError[] = [];
  let offset = 0;
  const pieces = source.split(',');
  if (source.trim() === '') errors.push({ message: 'empty host pattern', hint: 'use "all" for every host', from: 0, to: Math.max(1, source.length) });
  else {
    for (const piece of pieces) {
      const lead = piece.length - piece.trimStart().length;
      const raw = piece.trim();
      const from = offset + lead;
      const to = from + raw.length;
      offset += piece.length + 1;
      if (raw === '') {
        errors.push({ message: 'empty term in host pattern', hint: 'remove the extra comma', from: Math.max(0, from - 1), to: from + 1 });
        continue;
      }
      const exclude = raw.startsWith('!');
      const text = exclude ? raw.slice(1).trim() : raw;
      const error = checkTerm(text);
      if (error) {
        errors.push({ ...error, from, to });
        continue;
      }
      terms.push({ text, exclude, from, to });
    }
  }
  return { pattern: { source, terms }, errors };
}

function checkTerm(text: string): Omit<PatternError, 'from' | 'to'> | undefined {
  if (text === '') return { message: '"!" must be followed by a pattern to exclude' };
  if (!TERM.test(text)) {
    return /\s/.test(text)
      ? { message: `host pattern "${text}" contains a space`, hint: 'separate patterns with commas: web,db' }
      : { message: `host pattern "${text}" contains a character hosts and globs never use` };
  }
  const outsideBrackets = text.replace(/\[[^\]]*\]/g, '');
  if (outsideBrackets.includes('!')) return { message: `"!" may only start a term: "${text}"` };
  if (outsideBrackets.includes(':')) return { message: `"${text}" uses ":" outside a range`, hint: 'separate patterns with commas: web,!db' };
  if (hasHostRange(text)) {
    const expanded = expandHostRange(text);
    if ('error' in expanded) return { message: expanded.error.message };
  } else if (isGlob(text)) {
    const compiled = compileGlob(text);
    if ('error' in compiled) return { message: compiled.error.message };
  }
  return undefined;
}

/** The host names one term matches. */
export function matchTerm(text: string, universe: PatternUniverse): string[] {
  const implicit = universe.implicit ?? new Set<string>();
  const explicitHosts = implicit.size === 0 ? universe.hosts : universe.hosts.filter((h) => !implicit.has(h));
  if (text === 'all' || text === '*') return [...explicitHosts];
  const group = universe.groups.get(text);
  if (group) return [...group];
  const names = hasHostRange(text) ? expandHostRange(text) : { names: [text] };
  if ('error' in names) return [];
  // One name or glob (every group of a large inventory): one pass over the hosts, no sets. Not with
  // an implicit host, which only its own names select (never a glob).
  if (names.names.length === 1 && implicit.size === 0) {
    const name = names.names[0]!;
    if (universe.hosts.includes(name)) return universe.hosts.filter((host) => host === name);
    if (!isGlob(name)) return [];
    const compiled = compileGlob(name);
    return 'error' in compiled ? [] : universe.hosts.filter((host) => compiled.regexp.test(host));
  }
  const known = new Set(universe.hosts);
  const out = new Set<string>();
  for (const name of names.names) {
    const byName = implicit.size === 0 ? undefined : implicitHostFor(name, implicit, known);
    if (known.has(name)) out.add(name);
    else if (byName !== undefined) out.add(byName);
    else if (isGlob(name)) {
      const compiled = compileGlob(name);
      if ('error' in compiled) continue;
      for (const host of explicitHosts) if (compiled.regexp.test(host)) out.add(host);
    }
  }
  return universe.hosts.filter((h) => out.has(h));
}

export function selectHosts(pattern: HostPattern, universe: PatternUniverse): PatternSelection {
  const include = new Set<string>();
  const exclude = new Set<string>();
  const unmatched: HostPatternTerm[] = [];
  let anyPositive = false;
  for (const term of pattern.terms) {
    const matched = matchTerm(term.text, universe);
    if (matched.length === 0) unmatched.push(term);
    if (!term.exclude) anyPositive = true;
    for (const host of matched) (term.exclude ? exclude : include).add(host);
  }
  const base = anyPositive ? include : new Set(matchTerm('all', universe));
  return { hosts: universe.hosts.filter((h) => base.has(h) && !exclude.has(h)), unmatched };
}

/** Names that select the implicit localhost (implicit-localhost.ts; Ansible also accepts `::1`, which host patterns cannot spell). */
export const LOCALHOST_NAMES: readonly string[] = ['localhost', '127.0.0.1'];

/** The implicit host a term selects by name, if any: its own name, or another of LOCALHOST_NAMES. */
export function implicitHostFor(text: string, implicit: ReadonlySet<string>, known: ReadonlySet<string>): string | undefined {
  if (implicit.has(text)) return text;
  if (!LOCALHOST_NAMES.includes(text) || known.has(text)) return undefined;
  return [...implicit][0];
}
