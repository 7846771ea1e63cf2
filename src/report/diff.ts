import { createTwoFilesPatch } from 'diff';
import type { FileChange } from '../engine/plan-model.js';

/** A unified diff of one file with a/ and b/ prefixes, or '' when nothing differs. */
export function renderUnifiedDiff(path: string, before: string | undefined, after: string): string {
  if (before === after) return '';
  const rel = path.replace(/^\/+/, '');
  return createTwoFilesPatch(before === undefined ? '/dev/null' : `a/${rel}`, `b/${rel}`, before ?? '', after, undefined, undefined, {
    context: 3,
    headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true },
  });
}

/** The unified diff of one planned change (computed once: a reduced plan keeps it instead of the texts). */
export function changeDiff(change: Pick<FileChange, 'path' | 'before' | 'after' | 'diff'>): string {
  return change.diff ?? renderUnifiedDiff(change.path, change.before, change.after ?? '');
}

/** Colours a unified diff for a terminal: additions green, removals red, hunk headers cyan. */
export function colorizeDiff(diff: string): string {
  return diff
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return `\u001b[1m${line}\u001b[0m`;
      if (line.startsWith('+')) return `\u001b[32m${line}\u001b[0m`;
      if (line.startsWith('-')) return `\u001b[31m${line}\u001b[0m`;
      if (line.startsWith('@@')) return `\u001b[36m${line}\u001b[0m`;
      return line;
    })
    .join('\n');
}
