/**
 * Shadowed Match blocks. For each keyword, sshd's per-connection pass keeps the value of the first
 * matching Match block that sets it: a block for `Address 198.51.100.0/24` read after one for
 * `Address 198.51.0.0/16` (or after `Match all`) that sets the same keyword never takes effect.
 * Edits use this to place a Match-scoped setting where it wins, or to refuse.
 */
import type { SshdDefaults } from './defaults.js';
import { connectionForCriteria, formatConnectionSpec } from './connection-spec.js';
import { listSshdDirectives, type SshdDirective, type SshdMatchBlock } from './directives.js';
import { effectiveValue } from './effective.js';
import type { SshdKeyword } from './keywords.js';
import { matchCovers, sameMatchCriteria, type MatchCriterion } from './match.js';
import { includeKey, type SshdConfigTree } from './tree.js';

/** A line of another Match block that wins over the requested block's line. */
export interface MatchShadow {
  directive: SshdDirective;
  block: SshdMatchBlock;
  /**
   * True: the block selects every connection the criteria select. False: only some of them (it
   * was found through the test connection `sample`), or it cannot be told for the others.
   */
  covers: boolean;
  sample?: string;
}

export interface ShadowOptions {
  version: string;
  defaults?: SshdDefaults;
}

/** Whether a directive belongs to a block with the same criteria as the requested scope. */
const inScope = (d: SshdDirective, criteria: readonly MatchCriterion[]): boolean => d.block?.criteria !== undefined && sameMatchCriteria(d.block.criteria, criteria);

/**
 * The Match block that decides `keyword` before the requested block's first line of it, for the
 * connections `criteria` select: first a block read earlier that provably covers them all (a
 * broader network, `Match all`), then whatever decides it for a test connection inside the
 * criteria. Undefined when the requested block's line wins, or when the tree has no such line.
 * Only for keywords whose first value wins.
 */
export function findMatchShadow(tree: SshdConfigTree, keyword: SshdKeyword, criteria: readonly MatchCriterion[], options: ShadowOptions): MatchShadow | undefined {
  const { directives } = listSshdDirectives(tree, options.version);
  const sets = (d: SshdDirective): boolean => d.keyword?.name === keyword.name && !d.line.problem;
  const target = directives.findIndex((d) => sets(d) && inScope(d, criteria));
  if (target === -1) return undefined;
  for (const d of directives.slice(0, target)) {
    if (sets(d) && d.block?.criteria && !inScope(d, criteria) && matchCovers(d.block.criteria, criteria)) return { directive: d, block: d.block, covers: true };
  }
  const connection = connectionForCriteria(criteria);
  if (!connection) return undefined;
  const source = effectiveValue(tree, keyword.name, connection, { version: options.version, ...(options.defaults ? { defaults: options.defaults } : {}) }).source;
  const decider = source && directives.find((d) => d.path === source.path && d.line.line === source.line);
  if (!decider?.block || inScope(decider, criteria)) return undefined;
  return { directive: decider, block: decider.block, covers: false, sample: formatConnectionSpec(connection) };
}

/**
 * The Include line inside a Match block through which `block`'s file is read, if any: a block
 * placed before `block` in that file would sit inside the outer block, so it cannot be placed there.
 */
export function includedFromMatch(tree: SshdConfigTree, block: SshdMatchBlock, version: string): SshdDirective | undefined {
  if (block.path === tree.mainPath) return undefined;
  const { directives } = listSshdDirectives(tree, version);
  return directives.find(
    (d) => d.keyword?.value === 'include' && d.block !== undefined && (tree.includes.get(includeKey(d.path, d.line.line)) ?? []).some((t) => t.files.includes(block.path)),
  );
}
