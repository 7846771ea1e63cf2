/**
 * A last look at what the sshd planner is about to write, as sshd will read it: every line the
 * edit adds or changes must be one directive for a keyword the task names, the task's own `Match`
 * line, a line the edit policy comments out with its note, or a blank line. Anything else (a
 * second directive smuggled in through a value, a `Match` the task never asked for) is a bug
 * somewhere upstream, and the host is refused rather than written.
 */
import { diffArrays } from 'diff';
import { lexLine, lexText, type ConfigLine } from '../../config/openssh/lexer.js';
import { DISABLED_NOTE, type SshdFileChange } from '../../config/sshd/edit.js';
import { lookupSshdKeyword } from '../../config/sshd/keywords.js';
import { formatMatchCriteria, parseMatchCriteria } from '../../config/sshd/match.js';
import type { PlanOutcome } from '../planner.js';
import type { SshdTaskParams } from './schema.js';

/** The lines of `after` that are not in `before` (added, or changed in place). */
function newLines(before: string, after: string): ConfigLine[] {
  const afterLines = lexText(after);
  const changes = diffArrays(lexText(before).map((l) => l.text), afterLines.map((l) => l.text));
  const out: ConfigLine[] = [];
  let index = 0;
  for (const change of changes) {
    if (change.removed) continue;
    if (change.added) out.push(...afterLines.slice(index, index + change.value.length));
    index += change.value.length;
  }
  return out;
}

/** The normalised criteria of a Match line's rest, or undefined when sshd would not read it as criteria. */
function matchKey(text: string, version: string): string | undefined {
  const parsed = parseMatchCriteria(text, version);
  return 'criteria' in parsed ? formatMatchCriteria(parsed.criteria).toLowerCase() : undefined;
}

/** Why `line` is not something the task may write, or undefined when it is. */
function unexpected(line: ConfigLine, keywords: ReadonlySet<string>, match: string | undefined, version: string): string | undefined {
  if (line.kind === 'blank') return undefined;
  const keywordOf = (l: ConfigLine): string | undefined => (l.keyword === undefined ? undefined : lookupSshdKeyword(l.keyword, version)?.name);
  if (line.kind === 'comment') {
    const note = line.text.indexOf(` # ${DISABLED_NOTE} `);
    const inner = note < 0 ? undefined : lexLine(line.text.slice(0, note).replace(/^\s*#/, ''), line.line, '');
    if (inner?.kind === 'directive' && keywords.has(keywordOf(inner) ?? '')) return undefined;
    return 'a comment the edit policy does not write';
  }
  if (line.problem !== undefined) return `a directive sshd cannot read (${line.problem})`;
  if (line.keyword?.toLowerCase() === 'match') {
    return match !== undefined && matchKey(line.rest ?? '', version) === match ? undefined : 'a Match line the task did not ask for';
  }
  const keyword = keywordOf(line);
  return keyword !== undefined && keywords.has(keyword) ? undefined : `a directive for ${line.keyword ?? '?'}, which the task does not name`;
}

/**
 * Checks the planned file changes of one sshd task; returns the refusal (code `unexpected-edit`)
 * naming the first line that is not what the task asked for.
 */
export function checkSshdEdit(params: SshdTaskParams, changes: readonly SshdFileChange[], version: string): PlanOutcome['refusal'] {
  const keywords = new Set(
    [...params.set.map((s) => s.keyword), ...params.unset, ...params.add.map((a) => a.keyword), ...params.remove.map((r) => r.keyword)]
      .map((k) => lookupSshdKeyword(k, version)?.name ?? k),
  );
  const match = params.match ? matchKey(params.match.text, version) : undefined;
  for (const change of changes) {
    for (const line of newLines(change.before, change.after)) {
      const problem = unexpected(line, keywords, match, version);
      if (problem === undefined) continue;
      return {
        code: 'unexpected-edit',
        message: `internal error: the planned edit of ${change.path} would write line ${line.line}, ${problem}: ${JSON.stringify(line.text)}`,
        hint: 'sshfix refused to write it; this is a bug in sshfix, please report it with the task and the file',
      };
    }
  }
  return undefined;
}
