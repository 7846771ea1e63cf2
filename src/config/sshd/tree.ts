/**
 * The config tree: the main sshd_config and every file its `Include` lines pull in, expanded
 * the way sshd does it — each argument globbed, matches in lexical order, a relative path taken
 * under /etc/ssh whatever the main file's location, a pattern that matches nothing skipped.
 */
import type { Diagnostic } from '../../util/diagnostics.js';
import { globSnapshot, type FileSnapshot } from '../openssh/snapshot-glob.js';
import { parseSshdConfig, type SshdConfigFile } from './parse.js';

export type { FileSnapshot } from '../openssh/snapshot-glob.js';

/** sshd prefixes relative Include paths with this directory (SSHDIR), not the main file's. */
export const SSHD_CONFIG_DIR = '/etc/ssh';
export const SSHD_MAIN_CONFIG = '/etc/ssh/sshd_config';
/** sshd stops with "Too many recursive configuration includes" beyond this depth. */
export const SSHD_MAX_INCLUDE_DEPTH = 16;

/** What one argument of an Include line expands to. */
export interface IncludeTarget {
  /** The argument as written. */
  pattern: string;
  /** The absolute pattern sshd globs. */
  absolute: string;
  /** Matching files, in the order sshd reads them. */
  files: readonly string[];
  /** True when the snapshot does not hold the directory listing needed to expand it. */
  unresolved: boolean;
}

/**
 * A main file plus every file reachable through Include. `includes` is keyed by
 * `includeKey(path, line)` of each Include line.
 */
export interface SshdConfigTree {
  mainPath: string;
  /** The gathered files the tree was built from (edits rebuild the tree from it). */
  snapshot: FileSnapshot;
  files: ReadonlyMap<string, SshdConfigFile>;
  includes: ReadonlyMap<string, readonly IncludeTarget[]>;
}

export const includeKey = (path: string, line: number): string => `${path}\n${line}`;

/** Absolute path sshd globs for an Include argument. */
export function includePattern(arg: string): string {
  return arg.startsWith('/') || arg.startsWith('~') ? arg : `${SSHD_CONFIG_DIR}/${arg}`;
}

/**
 * The first `Match` line of the tree with a Group criterion (`Group NAME` or `Group=NAME`): the
 * one kind of block whose application depends on the user's groups, which sshd looks up.
 */
export function matchGroupLine(tree: SshdConfigTree): { path: string; line: number } | undefined {
  for (const [path, file] of tree.files) {
    const index = file.lines.findIndex((l) => l.kind === 'directive' && l.keyword?.toLowerCase() === 'match' && (l.args ?? []).some((a) => /^group(=|$)/i.test(a.value)));
    if (index !== -1) return { path, line: index + 1 };
  }
  return undefined;
}

export interface BuildSshdConfigTreeResult {
  tree: SshdConfigTree;
  /** Absolute Include patterns the snapshot cannot expand: the gatherer must fetch their directories. */
  unresolved: string[];
  diagnostics: Diagnostic[];
}

/** Builds the tree from gathered files. Pure: reads only the snapshot. */
export function buildSshdConfigTree(snapshot: FileSnapshot, mainPath: string = SSHD_MAIN_CONFIG): BuildSshdConfigTreeResult {
  const files = new Map<string, SshdConfigFile>();
  const includes = new Map<string, IncludeTarget[]>();
  const unresolved: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const mainText = snapshot.files.get(mainPath);
  if (mainText === undefined) {
    diagnostics.push({ severity: 'error', code: 'missing-file', message: `${mainPath} is not in the gathered files`, file: mainPath });
    return { tree: { mainPath, snapshot, files, includes }, unresolved: [mainPath], diagnostics };
  }
  const queue = [mainPath];
  files.set(mainPath, parseSshdConfig(mainText, mainPath));
  while (queue.length > 0) {
    const path = queue.shift()!;
    const file = files.get(path)!;
    for (const line of file.lines) {
      if (line.kind !== 'directive' || line.keyword?.toLowerCase() !== 'include' || line.problem) continue;
      const targets: IncludeTarget[] = [];
      for (const arg of line.args ?? []) {
        if (arg.value === '') continue;
        const absolute = includePattern(arg.value);
        const result = absolute.startsWith('~') ? { files: [], unresolvedDir: absolute } : globSnapshot(snapshot, absolute);
        const isUnresolved = result.unresolvedDir !== undefined;
        if (isUnresolved && !unresolved.includes(absolute)) unresolved.push(absolute);
        targets.push({ pattern: arg.value, absolute, files: result.files, unresolved: isUnresolved });
        for (const f of result.files) {
          if (files.has(f)) continue;
          files.set(f, parseSshdConfig(snapshot.files.get(f)!, f));
          queue.push(f);
        }
      }
      includes.set(includeKey(path, line.line), targets);
    }
  }
  return { tree: { mainPath, snapshot, files, includes }, unresolved, diagnostics };
}
