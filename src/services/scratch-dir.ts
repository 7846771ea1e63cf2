/**
 * The opening lines of a plan-time check script: a known PATH and locale, and a temporary
 * directory `$d` removed on exit, where the candidate files are written and checked.
 */
export const SCRATCH_DIR_PRELUDE: readonly string[] = [
  'set -u',
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH',
  'LC_ALL=C; export LC_ALL PATH',
  'd=$(mktemp -d 2>/dev/null || mktemp -d -t sshfix.XXXXXX) || { echo "mktemp failed"; exit 70; }',
  "trap 'rm -rf \"$d\"' EXIT",
];
