/**
 * Where each directive of a tree stands for sshd: in reading order, whether it applies to every
 * connection (sshd's first pass), and which Match block holds it. Edits use this to find the
 * occurrence that wins and the lines that would confuse.
 */
import type { ConfigLine } from '../openssh/lexer.js';
import { DEFAULT_OPENSSH_VERSION, lookupSshdKeyword, type SshdKeyword } from './keywords.js';
import { evaluateMatch, parseMatchCriteria, type MatchCriterion } from './match.js';
import { includeKey, SSHD_MAX_INCLUDE_DEPTH, type SshdConfigTree } from './tree.js';

/** A Match line and the lines of its own file that belong to it (`line.line + 1` to `endLine`). */
export interface SshdMatchBlock {
  path: string;
  line: ConfigLine;
  /** Undefined when the criteria are malformed. */
  criteria?: MatchCriterion[];
  endLine: number;
}

/** One directive line, in sshd's reading order. */
export interface SshdDirective {
  path: string;
  line: ConfigLine;
  /** Undefined for keywords the version does not know. */
  keyword?: SshdKeyword;
  /** True when the line applies to every connection (outside Match, or after `Match all`). */
  global: boolean;
  /** The Match block the line belongs to (through an Include inside the block, too). */
  block?: SshdMatchBlock;
}

function blocksOf(tree: SshdConfigTree, path: string, version: string): Map<number, SshdMatchBlock> {
  const file = tree.files.get(path);
  const out = new Map<number, SshdMatchBlock>();
  if (!file) return out;
  let current: SshdMatchBlock | undefined;
  for (const line of file.lines) {
    if (line.kind === 'directive' && line.keyword?.toLowerCase() === 'match' && !line.problem) {
      if (current) current.endLine = line.line - 1;
      const parsed = parseMatchCriteria(line.rest ?? '', version);
      current = { path, line, endLine: file.lines.length, ...('criteria' in parsed ? { criteria: parsed.criteria } : {}) };
      out.set(line.line, current);
    }
  }
  return out;
}

/**
 * Lists every directive of the tree with its context, and every Match block. `release` is the
 * build's release string, for `Match Version` (which applies to every connection when it matches).
 */
export function listSshdDirectives(
  tree: SshdConfigTree,
  version: string = DEFAULT_OPENSSH_VERSION,
  release?: string,
): { directives: SshdDirective[]; blocks: SshdMatchBlock[] } {
  const directives: SshdDirective[] = [];
  const blocks: SshdMatchBlock[] = [];
  const blockCache = new Map<string, Map<number, SshdMatchBlock>>();
  const walk = (path: string, depth: number, state: { global: boolean; block?: SshdMatchBlock }): void => {
    if (depth > SSHD_MAX_INCLUDE_DEPTH) return;
    const file = tree.files.get(path);
    if (!file) return;
    let fileBlocks = blockCache.get(path);
    if (!fileBlocks) {
      fileBlocks = blocksOf(tree, path, version);
      blockCache.set(path, fileBlocks);
      blocks.push(...fileBlocks.values());
    }
    for (const line of file.lines) {
      if (line.kind !== 'directive') continue;
      const keyword = line.problem === 'quoted-keyword' ? undefined : lookupSshdKeyword(line.keyword ?? '', version);
      if (keyword?.value === 'match') {
        const block = fileBlocks.get(line.line);
        state.block = block;
        // What sshd's connection-less first pass does with the line: `Match all` and a matching `Match Version` apply.
        state.global = block?.criteria !== undefined && evaluateMatch(block.criteria, undefined, { version, ...(release !== undefined ? { release } : {}) }).matches;
        continue;
      }
      const entry: SshdDirective = { path, line, global: state.global };
      if (keyword) entry.keyword = keyword;
      if (state.block) entry.block = state.block;
      directives.push(entry);
      if (keyword?.value === 'include') {
        for (const target of tree.includes.get(includeKey(path, line.line)) ?? []) {
          for (const f of target.files) walk(f, depth + 1, { ...state });
        }
      }
    }
  };
  walk(tree.mainPath, 0, { global: true });
  return { directives, blocks };
}
