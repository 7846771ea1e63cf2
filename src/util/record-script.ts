/**
 * The opening lines every record-printing script shares (the fact script, diagnose's evidence
 * script): a strict shell, a known PATH and locale, a scratch directory `$t` made by `td` when
 * first needed and removed on exit, and `run NAME CMD...`, which prints one
 * `R <name> <exit> <stdout b64> <stderr b64>` record.
 */
export const RECORD_SCRIPT_PRELUDE: readonly string[] = [
  'set -u',
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH',
  'LC_ALL=C; export LC_ALL PATH',
  // Made when a line first needs it (td): a host whose facts come from builtins, awk and stat
  // alone never makes one, which spares it mktemp and rm. Each substitution a single command,
  // which the shell execs in the forked child: with `||` inside one, the child would fork again.
  // td runs in the script's own shell (never first in a subshell), so the trap sees $t.
  't=',
  'td() { [ -n "$t" ] && return 0; t=$(mktemp -d 2>/dev/null) || t=$(mktemp -d -t sshfix.XXXXXX) || { echo "mktemp failed" >&2; exit 70; }; }',
  "trap '[ -z \"$t\" ] || rm -rf \"$t\"' EXIT",
  // busybox base64 has no -w0; fall back to stripping newlines.
  "b64() { base64 -w0 2>/dev/null || { base64 | tr -d '\\n'; }; }",
  // An empty output is an empty field: no base64 process for it (most commands print nothing on stderr).
  'run() { td; n=$1; shift; "$@" >"$t/o" 2>"$t/e" </dev/null; rc=$?; printf "R %s %s " "$n" "$rc"; [ -s "$t/o" ] && b64 <"$t/o"; printf " "; [ -s "$t/e" ] && b64 <"$t/e"; printf "\\n"; }',
];

/**
 * A `run NAME` line printing, one a line, which sshd binaries link libwrap (so hosts.allow and
 * hosts.deny apply): the listener's binary in shell variable `binVar`, and the `sshd-session` that
 * serves each connection from OpenSSH 9.8. Prints `noldd` when the host has no ldd to tell.
 */
export function libwrapProbeLine(name: string, binVar: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || !/^[a-z_][a-z0-9_]*$/.test(binVar)) throw new RangeError('unsafe shell name');
  return `run ${name} sh -c 'command -v ldd >/dev/null || { echo noldd; exit 0; }; for b in "$0" /usr/lib/openssh/sshd-session /usr/libexec/openssh/sshd-session; do [ -x "$b" ] && ldd "$b" 2>/dev/null | grep -q libwrap && echo "$b"; done; true' "$${binVar}"`;
}

/** What a libwrapProbeLine printed: the binaries linking libwrap, and whether ldd could tell (absent output: not run). */
export function readLibwrapProbe(stdout: string | undefined): { binaries: string[]; checked: boolean } {
  const lines = (stdout ?? '').split('\n').filter(Boolean);
  return { binaries: lines.filter((l) => l !== 'noldd'), checked: stdout !== undefined && !lines.includes('noldd') };
}
