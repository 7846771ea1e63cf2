import { lookupSshdKeyword, suggestSshdKeyword, validateSshdValue, type SshdKeyword } from '../../config/sshd/keywords.js';
import { validAddressPatternList } from '../../config/sshd/values.js';
import { errorCount, type SourceRange } from '../../util/diagnostics.js';
import type { ObjectSpec, Spec } from '../../lang/spec.js';
import { hasTemplate } from '../../lang/template-syntax.js';
import { rangeInScalar, type YamlNode, type YamlPair } from '../../lang/yaml-tree.js';
import type { TaskKind, TaskParamContext } from '../task-kind.js';

/**
 * The `sshd` task: edits sshd_config (and the files it includes) so that the effective value of
 * each keyword becomes what the task says, globally or inside one `Match` block.
 *
 *     - sshd:
 *         match: "Address 192.0.2.0/24"   # optional: edit inside this Match block (created if absent)
 *         set: { ClientAliveInterval: 60, TCPKeepAlive: "yes" }
 *         unset: [DebianBanner]           # remove the keyword's lines (back to sshd's default)
 *         add: { AllowUsers: [deploy] }   # ensure values are present in a list keyword
 *         remove: { DenyUsers: [deploy] } # ensure values are absent
 *         config: /etc/ssh/sshd_config    # the main file (default)
 */

export const DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config';

/** One `set:` entry, normalised. */
export interface SshdSetting {
  /** Canonical spelling from the keyword table, e.g. `ClientAliveInterval`. */
  keyword: string;
  /** The value as it should be written after the keyword (booleans become yes/no). */
  value: string;
}

/** One `add:`/`remove:` entry: values of a list keyword (AllowUsers, AcceptEnv, ...). */
export interface SshdListEdit {
  keyword: string;
  values: string[];
}

/** A `Match` criterion, as written: `Address 192.0.2.0/24` -> { name: 'Address', value: '192.0.2.0/24' }. */
export interface SshdMatchCriterion {
  /** Canonical spelling, e.g. `Address`, `User`, `All`. */
  name: string;
  /** Absent only for `All` and `Invalid-User`. */
  value?: string;
}

/** Typed parameters of an `sshd` task; every keyword is known to sshd and allowed where it goes. */
export interface SshdTaskParams {
  /** Absolute path of the main sshd_config. */
  config: string;
  /** Edits go inside the `Match` block with exactly these criteria; absent: global scope. */
  match?: { text: string; criteria: SshdMatchCriterion[] };
  set: SshdSetting[];
  unset: string[];
  add: SshdListEdit[];
  remove: SshdListEdit[];
}

const keywordMap = (description: string, values: Spec): ObjectSpec => ({
  type: 'object',
  title: description,
  description,
  properties: {},
  additional: values,
  keys: { pattern: '^[A-Za-z][A-Za-z0-9-]*$', invalid: { code: 'unknown-sshd-keyword', expected: 'an sshd keyword' } },
});

const listValues: Spec = { type: 'array', single: true, minItems: 1, items: { type: 'scalar' } };

export const sshdParamsSpec: ObjectSpec = {
  type: 'object',
  title: 'an sshd task',
  description: 'Edit sshd_config so the effective values become what is asked (globally, or inside one Match block).',
  properties: {
    set: keywordMap('sshd keywords to set: Keyword: value', { type: 'scalar', description: 'The value as written in sshd_config; true/false become yes/no.' }),
    unset: {
      type: 'array',
      single: true,
      minItems: 1,
      description: 'Keywords whose lines are removed, so sshd falls back to its default (or to the global value inside match).',
      items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9-]*$', invalid: { code: 'unknown-sshd-keyword', expected: 'an sshd keyword' } },
    },
    add: keywordMap('Values to ensure present in list keywords (AllowUsers, AcceptEnv, ...)', listValues),
    remove: keywordMap('Values to ensure absent from list keywords', listValues),
    match: {
      type: 'string',
      description: 'Match criteria, e.g. "Address 192.0.2.0/24" or "User deploy Address 10.0.0.0/8": edit inside that Match block, created at the end of the file if absent.',
    },
    config: {
      type: 'string',
      pattern: '^/',
      invalid: { code: 'bad-path', expected: 'an absolute path' },
      description: `The main sshd_config. Default: ${DEFAULT_SSHD_CONFIG}.`,
    },
  },
};

/**
 * Criteria sshd accepts after `Match`, canonical spellings (compared case-insensitively). Not
 * ssh_config's SessionType or Command: sshd (9.2 and 10.0) refuses them as unsupported.
 */
export const SSHD_MATCH_CRITERIA: readonly string[] = ['All', 'User', 'Group', 'Host', 'LocalAddress', 'LocalPort', 'RDomain', 'Address', 'Invalid-User', 'Version'];

/** A problem in Match criteria, with its span in the criteria text. */
export interface MatchCriteriaError {
  message: string;
  hint?: string;
  /** Character span in the criteria text. */
  from: number;
  to: number;
}

/** Parses and checks `Match` criteria such as `User deploy Address 192.0.2.0/24`. */
export function parseMatchCriteria(text: string): { criteria: SshdMatchCriterion[] } | { error: MatchCriteriaError } {
  const words = [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0], from: m.index, to: m.index + m[0].length }));
  if (words.length === 0) return { error: { message: 'empty Match criteria', hint: 'e.g. "Address 192.0.2.0/24"', from: 0, to: Math.max(1, text.length) } };
  const criteria: SshdMatchCriterion[] = [];
  for (let i = 0; i < words.length; i++) {
    const { word, from, to } = words[i]!;
    const name = SSHD_MATCH_CRITERIA.find((c) => c.toLowerCase() === word.toLowerCase());
    if (!name) {
      const near = SSHD_MATCH_CRITERIA.find((c) => c.toLowerCase().startsWith(word.toLowerCase().slice(0, 3)));
      return {
        error: {
          message: `"${word}" is not a Match criterion`,
          hint: near ? `did you mean "${near}"?` : `criteria: ${SSHD_MATCH_CRITERIA.join(', ')}`,
          from,
          to,
        },
      };
    }
    if (name === 'All') {
      if (words.length > 1) return { error: { message: '"All" must be the only Match criterion', from, to } };
      criteria.push({ name });
      continue;
    }
    if (name === 'Invalid-User') {
      // A flag: it takes no value (OpenSSH 9.9+; the host's version is checked when planning).
      criteria.push({ name });
      continue;
    }
    const value = words[i + 1];
    if (!value) return { error: { message: `Match ${name} needs a value`, from, to } };
    i++;
    if ((name === 'Address' || name === 'LocalAddress') && !validAddressPatternList(value.word)) {
      return {
        error: {
          message: `"${value.word}" is not a valid address list`,
          hint: 'comma-separated addresses, wildcards or CIDR blocks with the host bits clear, e.g. 192.0.2.0/24',
          from: value.from,
          to: value.to,
        },
      };
    }
    if (name === 'LocalPort' && !/^[0-9]+$/.test(value.word)) {
      return { error: { message: `"${value.word}" is not a port number`, from: value.from, to: value.to } };
    }
    criteria.push({ name, value: value.word });
  }
  return { criteria };
}

/** sshd's own spelling of a value: booleans become yes/no; numbers and strings as written. */
export function sshdValueText(node: YamlNode): string | undefined {
  if (node.type !== 'scalar' || node.value === null) return undefined;
  if (typeof node.value === 'boolean') return node.value ? 'yes' : 'no';
  return node.text;
}

/** A version from a future OpenSSH, to ask whether a keyword exists in any release we know. */
const FUTURE_VERSION = '99.0';
const OLDEST_VERSION = '7.4';

/**
 * Looks up a keyword for a task, reporting an unknown one (with a suggestion) or one the target's
 * OpenSSH does not have. Before facts are known, a keyword known to any release passes.
 */
export function findSshdKeyword(name: string, range: SourceRange, ctx: TaskParamContext): SshdKeyword | undefined {
  const report = (code: string, message: string, hint?: string): undefined => {
    ctx.diagnostics.push({ severity: 'error', code, message, file: ctx.file, range, ...(hint ? { hint } : {}) });
    return undefined;
  };
  const anyRelease = lookupSshdKeyword(name) ?? lookupSshdKeyword(name, FUTURE_VERSION) ?? lookupSshdKeyword(name, OLDEST_VERSION);
  if (!anyRelease) {
    const suggestion = suggestSshdKeyword(name);
    return report('unknown-sshd-keyword', `"${name}" is not an sshd keyword`, suggestion ? `did you mean ${suggestion}?` : 'see sshd_config(5)');
  }
  if (ctx.opensshVersion === undefined) return anyRelease;
  const here = lookupSshdKeyword(name, ctx.opensshVersion);
  if (!here) {
    const span = [anyRelease.since ? `since ${anyRelease.since}` : '', anyRelease.until ? `until ${anyRelease.until}` : ''].filter(Boolean).join(', ');
    return report('sshd-keyword-unsupported', `${anyRelease.name} is not known to OpenSSH ${ctx.opensshVersion}${span ? ` (${span})` : ''}`,
      'guard the task with when: openssh.version >= "..."');
  }
  return here;
}

/** True when some release allows the keyword inside Match (before facts are known). */
function matchAllowedSomewhere(keyword: SshdKeyword, ctx: TaskParamContext): boolean {
  if (ctx.opensshVersion !== undefined) return keyword.matchAllowed;
  return keyword.matchAllowed || lookupSshdKeyword(keyword.alias ?? keyword.name, FUTURE_VERSION)?.matchAllowed === true;
}

function readSshdParams(node: YamlNode, ctx: TaskParamContext): SshdTaskParams | undefined {
  if (node.type !== 'map') return undefined;
  const before = errorCount(ctx.diagnostics);
  const error = (code: string, message: string, range: SourceRange, hint?: string): void => {
    ctx.diagnostics.push({ severity: 'error', code, message, file: ctx.file, range, ...(hint ? { hint } : {}) });
  };
  const pending = (value: YamlNode): boolean =>
    ctx.templatesPending && value.type === 'scalar' && typeof value.value === 'string' && hasTemplate(value.value);

  const params: SshdTaskParams = { config: DEFAULT_SSHD_CONFIG, set: [], unset: [], add: [], remove: [] };
  const pairOf = (key: string): YamlPair | undefined => node.pairs.find((p) => p.key === key);

  const configNode = pairOf('config')?.value;
  if (configNode?.type === 'scalar' && typeof configNode.value === 'string') params.config = configNode.value;

  const matchNode = pairOf('match')?.value;
  const scoped = matchNode !== undefined;
  if (matchNode?.type === 'scalar' && matchNode.value !== null && !pending(matchNode)) {
    const parsed = parseMatchCriteria(matchNode.text);
    if ('error' in parsed) {
      error('bad-match-criteria', parsed.error.message, rangeInScalar(matchNode, parsed.error.from, parsed.error.to), parsed.error.hint);
    } else params.match = { text: matchNode.text, criteria: parsed.criteria };
  }

  /** Canonical keyword name -> where it was first named, across set/unset/add/remove. */
  const seen = new Map<string, { section: string; range: SourceRange }>();
  const claim = (keyword: SshdKeyword, section: string, range: SourceRange): boolean => {
    const earlier = seen.get(keyword.name);
    if (earlier) {
      const sameList = (section === 'add' || section === 'remove') && (earlier.section === 'add' || earlier.section === 'remove');
      if (!sameList) {
        error(
          earlier.section === section ? 'duplicate-sshd-keyword' : 'sshd-keyword-conflict',
          earlier.section === section
            ? `${keyword.name} appears twice in ${section} (keywords are case-insensitive)`
            : `${keyword.name} is in both ${earlier.section} and ${section}`,
          range,
          'one task says one thing about a keyword; split it into two tasks if you mean both',
        );
        return false;
      }
    }
    seen.set(keyword.name, { section, range });
    return true;
  };
  const checkKeyword = (name: string, range: SourceRange, section: string): SshdKeyword | undefined => {
    const keyword = findSshdKeyword(name, range, ctx);
    if (!keyword) return undefined;
    if (keyword.value === 'match' || keyword.value === 'include') {
      error('sshd-keyword-not-settable', `${keyword.name} cannot be edited as a setting`, range,
        keyword.value === 'match' ? 'use the task\'s match: key to edit inside a Match block' : 'Include lines are left as they are; edit the included files\' settings instead');
      return undefined;
    }
    if (keyword.ignored) {
      ctx.diagnostics.push({
        severity: 'warning',
        code: 'deprecated-sshd-keyword',
        message: `${keyword.name} is deprecated: sshd ignores it`,
        file: ctx.file,
        range,
      });
    }
    if (scoped && !matchAllowedSomewhere(keyword, ctx)) {
      error('match-illegal-keyword', `${keyword.name} is not allowed inside a Match block`, range,
        keyword.value === 'algorithms'
          ? `sshd reads ${keyword.name} only globally: drop match: to change it for everyone, or scope the change on the client side (an ssh_client Host block or the inventory's algorithms:)`
          : `sshd reads ${keyword.name} only globally; drop match: (it then applies to every connection)`);
      return undefined;
    }
    return claim(keyword, section, range) ? keyword : undefined;
  };
  const checkValue = (keyword: SshdKeyword, value: string, valueNode: YamlNode): void => {
    const problem = validateSshdValue(keyword, value, ctx.opensshVersion ? { version: ctx.opensshVersion } : {});
    if (!problem) return;
    // Before facts are known we check against OpenSSH 9.2's algorithm lists; a newer host may know more.
    const soft = problem.code === 'unknown-algorithm' && ctx.opensshVersion === undefined;
    ctx.diagnostics.push({
      severity: soft ? 'warning' : 'error',
      code: problem.code,
      message: soft ? `${problem.message} (checked against OpenSSH 9.2)` : problem.message,
      file: ctx.file,
      range: valueNode.range,
      ...(problem.hint ? { hint: problem.hint } : {}),
    });
  };

  const setNode = pairOf('set')?.value;
  if (setNode?.type === 'map') {
    for (const pair of setNode.pairs) {
      const keyword = checkKeyword(pair.key, pair.keyRange, 'set');
      const value = sshdValueText(pair.value);
      if (!keyword || value === undefined) continue;
      if (!pending(pair.value)) checkValue(keyword, value, pair.value);
      params.set.push({ keyword: keyword.name, value });
    }
  }

  const unsetNode = pairOf('unset')?.value;
  const unsetItems = unsetNode?.type === 'seq' ? unsetNode.items : unsetNode ? [unsetNode] : [];
  for (const item of unsetItems) {
    if (item.type !== 'scalar' || typeof item.value !== 'string' || pending(item)) continue;
    const keyword = checkKeyword(item.value, item.range, 'unset');
    if (keyword) params.unset.push(keyword.name);
  }

  for (const section of ['add', 'remove'] as const) {
    const sectionNode = pairOf(section)?.value;
    if (sectionNode?.type !== 'map') continue;
    for (const pair of sectionNode.pairs) {
      const keyword = checkKeyword(pair.key, pair.keyRange, section);
      if (!keyword) continue;
      if (!keyword.list) {
        error('not-a-list-keyword', `${keyword.name} holds a single value; ${section} works on list keywords`, pair.keyRange,
          `use set: { ${keyword.name}: ... }`);
        continue;
      }
      const items = pair.value.type === 'seq' ? pair.value.items : [pair.value];
      const values: string[] = [];
      for (const item of items) {
        const text = sshdValueText(item);
        if (text === undefined) continue;
        if (!pending(item)) checkValue(keyword, text, item);
        values.push(text);
      }
      const other = (section === 'add' ? params.remove : params.add).find((e) => e.keyword === keyword.name);
      const both = other?.values.filter((v) => values.includes(v)) ?? [];
      if (both.length) {
        error('sshd-keyword-conflict', `${keyword.name}: ${both.join(', ')} is both added and removed`, pair.keyRange);
      }
      params[section].push({ keyword: keyword.name, values });
    }
  }

  const edits = params.set.length + params.unset.length + params.add.length + params.remove.length;
  const unknownKeys = node.pairs.some((p) => !Object.hasOwn(sshdParamsSpec.properties, p.key));
  if (edits === 0 && !unknownKeys && !['set', 'unset', 'add', 'remove'].some((k) => pairOf(k))) {
    error('empty-sshd-task', 'the sshd task changes nothing', node.range, 'add set:, unset:, add: or remove:');
  }
  const after = errorCount(ctx.diagnostics);
  return after === before ? params : undefined;
}

export const sshdTaskKind: TaskKind<SshdTaskParams> = {
  name: 'sshd',
  summary: 'Set, unset, add to or remove from sshd_config keywords, globally or in a Match block.',
  readOnly: false,
  params: sshdParamsSpec,
  readParams: readSshdParams,
};
