/**
 * Validating a planned sshd config on the host without installing it. The candidate tree (every
 * file sshd would read, with the planned contents) is written under a temporary directory that
 * mirrors the absolute paths, and every Include argument is rewritten to point into it; relative
 * Includes, which sshd resolves under /etc/ssh whatever `-f` names, become absolute temporary paths
 * too. `sshd -t -f <tmp>/etc/ssh/sshd_config` then reads exactly the tree apply would install,
 * never the live drop-ins. Pure: builds the script and maps sshd's messages back.
 */
import { lexText, linesToText, quoteArgument, type ConfigLine } from '../../config/openssh/lexer.js';
import { includePattern, matchGroupLine, type SshdConfigTree } from '../../config/sshd/tree.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import { writeCandidateFile } from '../candidate-files.js';
import { NEUTRAL_CONNECTION } from '../../config/sshd/connection-spec.js';
import { hostDependence, SSHD_CHECK_USER_GROUPS } from './shared-key.js';

const q = quoteShellArg;

/** Rewrites the Include arguments of one file's text so they resolve under `root`. */
export function rerootIncludes(text: string, root: string): string {
  const lines = lexText(text).map((line): ConfigLine => {
    if (line.kind !== 'directive' || line.keyword?.toLowerCase() !== 'include' || !line.args) return line;
    let rewritten = line.text;
    // Right to left, so earlier offsets stay valid.
    for (const arg of [...line.args].reverse()) {
      const absolute = includePattern(arg.value);
      if (!absolute.startsWith('/')) continue;
      rewritten = rewritten.slice(0, arg.start) + quoteArgument(`${root}${absolute}`) + rewritten.slice(arg.end);
    }
    return { ...line, text: rewritten };
  });
  return linesToText(lines);
}

export interface CandidateValidation {
  /** POSIX sh script: exit 0 when sshd accepts the tree (and every -C spec), else sshd's message on stdout. */
  script: string;
  /** Its verdict depends on nothing of the host but what the sshd shared key holds (shared-key.ts), and the records in dependsOn. */
  hostIndependent: boolean;
  /** With a Match Group block: the neutral user's groups, which sshd looks up for each -C spec (SSHD_CHECK_USER_GROUPS). */
  dependsOn?: readonly string[];
}

/** Placeholder for the scratch root in file texts: the root is only known on the host. */
const ROOT = '/SSHFIX_CANDIDATE_ROOT';

/**
 * The script that writes the candidate tree under `$sshfix_scratch` (candidate-files.ts) and
 * validates it; the session has already found `$sshd_bin`. Each process costs the host CPU: on
 * success the script starts one `mkdir` and the sshd runs, nothing else (files are written by a
 * builtin, sshd's output goes to a file).
 */
export function buildCandidateValidation(tree: SshdConfigTree, specs: readonly string[]): CandidateValidation {
  const lines = [
    'd=$sshfix_scratch',
    '[ -n "${sshd_bin-}" ] || sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
  ];
  const dirs = new Set([...tree.files.keys()].map((path) => path.slice(0, path.lastIndexOf('/')) || '/'));
  lines.push(`mkdir -p "$d" ${[...dirs].map((dir) => `"$d"${q(dir)}`).join(' ')}`);
  let index = 0;
  for (const [path, file] of tree.files) lines.push(...writeCandidateFile(`"$d"${q(path)}`, rerootIncludes(linesToText(file.lines), ROOT), `SSHFIX_TREE_${index++}_EOF`, ROOT));
  const main = `"$d"${q(tree.mainPath)}`;
  // `sshd -T -C` refuses whatever `sshd -t` refuses, so with connections to check, `sshd -t` runs
  // only when one of them fails, to tell a config that does not load (its message, as before)
  // from one connection's failure: one sshd process less on every host whose plan has connections.
  const refuse = `printf '%s' "$t_out" | sed "s#$d##g"; exit 1;`;
  const test = `t_out=$("$sshd_bin" -t -f ${main} 2>&1) || { ${refuse} }`;
  lines.push(
    // Alone, `sshd -t`'s own output is its verdict: no second run to read it.
    ...(specs.length === 0 ? [`"$sshd_bin" -t -f ${main} >"$d/.out" 2>&1 || { t_out=$(cat "$d/.out"); ${refuse} }`] : []),
    ...specs.map(
      (spec) =>
        `"$sshd_bin" -T -f ${main} -C ${q(spec)} >/dev/null 2>"$d/.out" || { ${test}; out=$(cat "$d/.out"); printf '%s (for the connection %s)' "$out" ${q(spec)} | sed "s#$d##g"; exit 1; }`,
    ),
    'exit 0',
  );
  return { script: lines.join('\n') + '\n', ...checkSharing(tree, specs) };
}

/**
 * Whether hosts with the same key may share the verdict. With `-C`, sshd looks up the spec's
 * user's groups for a Match Group block: when every spec names the neutral user (root), the fact
 * script has recorded root's groups on a host whose files name groups (SSHD_CHECK_USER_GROUPS), and the
 * verdict is shared between hosts where they are the same; a spec naming another user keeps the
 * verdict to its host.
 */
function checkSharing(tree: SshdConfigTree, specs: readonly string[]): Pick<CandidateValidation, 'hostIndependent' | 'dependsOn'> {
  if (hostDependence(tree) !== undefined) return { hostIndependent: false };
  const users = specs.flatMap((spec) => /(?:^|,)user=([^,]*)/.exec(spec)?.[1] ?? []);
  if (users.length === 0 || !matchGroupLine(tree)) return { hostIndependent: true };
  return users.every((user) => user === NEUTRAL_CONNECTION.user) ? { hostIndependent: true, dependsOn: [SSHD_CHECK_USER_GROUPS] } : { hostIndependent: false };
}
