/**
 * What apply must find in `sshd -T [-C ...]` after an sshd task: the values the task asked for,
 * for a connection its criteria select, never the planner's own prediction. Planning refuses when
 * the planned config would not show them (an edit that does nothing for the connections it
 * targets), naming the line that decides instead.
 */
import type { SshdDefaults } from '../../config/sshd/defaults.js';
import { listSshdDirectives } from '../../config/sshd/directives.js';
import { effectiveValue, type EffectiveSshdValue, type MatchConnection } from '../../config/sshd/effective.js';
import { lookupSshdKeyword, type SshdKeyword } from '../../config/sshd/keywords.js';
import { formatMatchCriteria } from '../../config/sshd/match.js';
import { buildSshdConfigTree, SSHD_MAIN_CONFIG, type SshdConfigTree } from '../../config/sshd/tree.js';
import type { PlannedExpectation } from '../../services/registry.js';
import type { PlanOutcome } from '../planner.js';
import type { SshdTaskParams } from './schema.js';

export interface ExpectationInput {
  params: SshdTaskParams;
  /** The config tree with the task's edits applied. */
  tree: SshdConfigTree;
  /** A connection the task's criteria select (undefined: global task, plain `sshd -T`). */
  connection?: MatchConnection;
  /** Its `-C` spec. */
  spec?: string;
  version: string;
  defaults: SshdDefaults;
}

/** Keywords whose printed value depends on other lines (ListenAddress takes its ports from Port). */
const CONTEXT_DEPENDENT = new Set(['listenaddress']);

/** What `sshd -T` prints for the keyword when the config holds nothing but `Keyword value`. */
function printedAlone(keyword: SshdKeyword, value: string, options: { version: string; defaults: SshdDefaults }): string[] {
  const path = '/sshfix/requested';
  const tree = buildSshdConfigTree({ files: new Map([[path, `${keyword.name} ${value}\n`]]), listedDirs: new Set() }, path).tree;
  return effectiveValue(tree, keyword.name, undefined, options).values;
}

/** Names in a printed value: list items, or an algorithm list's comma-separated names. */
const namesIn = (keyword: SshdKeyword, values: readonly string[]): string[] =>
  keyword.value === 'algorithms' || keyword.value === 'address-list' ? values.flatMap((v) => v.split(',')) : values.flatMap((v) => v.split(/\s+/));

/** The line that decides the value, and the Match block it stands in, for a refusal. */
function decidingLine(tree: SshdConfigTree, value: EffectiveSshdValue, version: string): string {
  const source = value.source;
  if (!source) return "sshd's default";
  const where = `${source.path}:${source.line}`;
  const directive = listSshdDirectives(tree, version).directives.find((d) => d.path === source.path && d.line.line === source.line);
  const block = directive?.block;
  if (!block) return where;
  const criteria = block.criteria ? formatMatchCriteria(block.criteria) : (block.line.rest ?? '');
  return `${where} (in "Match ${criteria}" at ${block.path}:${block.line.line})`;
}

/**
 * The expectations of a task, or the refusal when the planned tree does not give the requested
 * values: `set` expects exactly the requested value (all of it, for keywords whose lines
 * accumulate), `add` its names present, `remove` them absent; `unset` expects what is left.
 */
export function requestedExpectations(input: ExpectationInput): { expectations: PlannedExpectation[]; refusal?: PlanOutcome['refusal'] } {
  const { params, tree, connection, version, defaults } = input;
  const options = { version, defaults };
  const expectations: PlannedExpectation[] = [];
  const scope = params.match ? `for "Match ${params.match.text}" (${input.spec ?? 'a connection it selects'})` : 'for every connection';
  const extra = { ...(input.spec ? { connection: input.spec } : {}), ...(params.config !== SSHD_MAIN_CONFIG ? { config: params.config } : {}) };
  const refuse = (keyword: SshdKeyword, wanted: string, have: EffectiveSshdValue) => ({
    expectations: [],
    refusal: {
      code: params.match ? 'match-shadowed' : 'no-effect',
      message: `${keyword.name} would not be ${wanted} ${scope} after this change: sshd would show ${have.values.join(' ') || '(nothing)'}, decided by ${decidingLine(tree, have, version)}`,
      hint: params.match ? 'that block is read first and wins for these connections: change it, or narrow "match"' : 'a line read first wins: change it instead',
    },
  });
  const seen = new Set<string>();
  const entries: { keyword: string; check: 'set' | 'add' | 'remove' | 'unset'; value?: string; values?: readonly string[] }[] = [
    ...params.set.map((s) => ({ keyword: s.keyword, check: 'set' as const, value: s.value })),
    ...params.unset.map((keyword) => ({ keyword, check: 'unset' as const })),
    ...params.add.map((a) => ({ keyword: a.keyword, check: 'add' as const, values: a.values })),
    ...params.remove.map((r) => ({ keyword: r.keyword, check: 'remove' as const, values: r.values })),
  ];
  for (const entry of entries) {
    const keyword = lookupSshdKeyword(entry.keyword, version);
    if (!keyword?.printed || seen.has(keyword.dumpName)) continue;
    seen.add(keyword.dumpName);
    const have = effectiveValue(tree, keyword.name, connection, options);
    if (!have.exact) continue;
    let values = have.values;
    if (entry.check === 'set' && entry.value !== undefined && !CONTEXT_DEPENDENT.has(keyword.dumpName)) {
      const wanted = printedAlone(keyword, entry.value, options);
      const ok = keyword.combine === 'accumulate' ? wanted.every((w) => have.values.includes(w)) : wanted.join('\n') === have.values.join('\n');
      if (!ok) return refuse(keyword, wanted.join(' '), have);
      // A keyword whose lines accumulate shows the other blocks' values too.
      if (keyword.combine !== 'accumulate') values = wanted;
    } else if (entry.check === 'add' || entry.check === 'remove') {
      const names = namesIn(keyword, have.values);
      const wrong = (entry.values ?? []).filter((v) => names.includes(v) !== (entry.check === 'add'));
      if (wrong.length > 0) return refuse(keyword, `${entry.check === 'add' ? 'with' : 'without'} ${wrong.join(' ')}`, have);
    }
    expectations.push({ service: 'sshd', keyword: keyword.dumpName, values: [...values], ...extra });
  }
  return { expectations };
}
