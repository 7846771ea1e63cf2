/**
 * Writing candidate files on the host for a plan-time check. A check runs in a subshell of the
 * host's session shell, which gives it `$sshfix_scratch`: a fresh path in the session's private
 * scratch directory, removed with the session (gather-facts.ts). Each process costs the host CPU
 * on every host a check runs on, so files are written by `printf`, a shell builtin. Pure.
 */
import { quoteShellArg } from '../util/shell-quote.js';

const q = quoteShellArg;

/**
 * The line that writes `text` to `target` (a shell word, e.g. `"$d"'/etc/ssh/sshd_config'`). Each
 * occurrence of `root` in the text is written as the value of the shell variable `d` (a path only
 * the host knows). A text with a NUL byte, which no shell word can hold, goes through `base64 -d`
 * (and `sed` for `root`) instead.
 */
export function writeCandidateFile(target: string, text: string, heredocTag: string, root?: string): string[] {
  if (text.includes('\0')) {
    const b64 = Buffer.from(text, 'utf8').toString('base64').replace(/.{1,76}/g, '$&\n');
    const reroot = root !== undefined && text.includes(root) ? ` | sed "s#${root}#$d#g"` : '';
    return [`base64 -d <<'${heredocTag}'${reroot} > ${target}`, `${b64}${heredocTag}`];
  }
  const chunks = root === undefined ? [text] : text.split(root);
  const words = chunks.flatMap((chunk, i) => [...(i > 0 ? ['"$d"'] : []), ...(chunk === '' ? [] : [q(chunk)])]);
  return [`printf %s ${words.length > 0 ? words.join(' ') : "''"} > ${target}`];
}
