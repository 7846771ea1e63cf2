/**
 * The shell scripts of the apply transaction, built from typed values (every value quoted), and
 * the parser of what they print. Pure; apply.ts runs them.
 *
 * One round trip commits: check the files are as planned, back them up, write each atomically,
 * validate with sshd -t, arm the dead-man switch, reload. A failure at any step before the reload
 * restores the backups, so the host ends byte-identical. After the reload the runner proves a fresh
 * login and the values, then confirms (disarms) or rolls back with the restore script that the
 * commit left beside the backups, the same script the dead-man switch runs on its own.
 *
 * Output: lines `STEP <name> <ok|fail> <message b64>`; the exit code is the failed step's code.
 */
import type { ReloadMethod } from './facts.js';
import { quoteShellArg } from '../util/shell-quote.js';

const q = quoteShellArg;

export interface CommitFile {
  path: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  /** sha256 the file must still have (null: it must not exist), else the plan is stale. */
  expectSha256: string | null;
}

export interface CommitOptions {
  /** Transaction id: safe characters only ([A-Za-z0-9-]), unique per host and run. */
  txid: string;
  /** Where backups go, e.g. /var/backups/sshfix. */
  backupRoot: string;
  files: readonly CommitFile[];
  /** `sshd -t -C` connection specs to validate besides the plain `sshd -t`. */
  matchSpecs: readonly string[];
  reload: ReloadMethod;
  /** Seconds after which the host restores itself unless the runner confirms. */
  deadmanSeconds: number;
}

/** Exit codes of the commit script; each names the step that failed (and was undone). */
export const COMMIT_EXIT = {
  ok: 0,
  stale: 10,
  backup: 11,
  write: 12,
  validate: 13,
  arm: 14,
  reload: 15,
  prerequisites: 16,
} as const;

export type CommitStep = keyof typeof COMMIT_EXIT;

const SAFE_TXID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** The command that reloads sshd, per method. Never a restart. */
export function reloadCommand(method: ReloadMethod): string {
  switch (method.kind) {
    case 'systemctl':
      return `systemctl reload ${q(method.unit)}`;
    case 'rc-service':
      return `rc-service ${q(method.service)} reload`;
    case 'signal':
      // Only signal a pid that really is sshd: a stale PidFile must not HUP an unrelated process.
      return (
        `pid=$(cat ${q(method.pidFile)} 2>/dev/null) && [ -n "$pid" ] && ` +
        `case "$(cat /proc/$pid/comm 2>/dev/null || ps -o comm= -p "$pid" 2>/dev/null)" in sshd*) kill -HUP "$pid";; *) false;; esac`
      );
    case 'unknown':
      return `echo ${q(`no way to reload sshd: ${method.reason}`)} >&2; false`;
  }
}

/** Shell helpers shared by the commit and restore scripts. */
const PRELUDE = [
  'set -u',
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH',
  'LC_ALL=C; export LC_ALL PATH',
  "b64() { base64 -w0 2>/dev/null || { base64 | tr -d '\\n'; }; }",
  'step() { printf "STEP %s %s %s\\n" "$1" "$2" "$(printf %s "${3:-}" | tr -d "\\r" | b64)"; }',
  'sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
];

/** Validates the live config tree: plain `sshd -t`, then once per Match connection spec. */
function validateLines(matchSpecs: readonly string[]): string[] {
  return [
    'validate() {',
    '  out=$("$sshd_bin" -t 2>&1) || { printf %s "$out"; return 1; }',
    // -C needs test mode -T; the dump itself is not needed here.
    ...matchSpecs.map((spec) => `  out=$("$sshd_bin" -T -C ${q(spec)} 2>&1 >/dev/null) || { printf %s "$out"; return 1; }`),
    '  return 0',
    '}',
  ];
}

/**
 * The restore script left in the backup directory: puts every backed-up file back (atomically),
 * removes files the transaction created, and reloads sshd if the restored config validates.
 * Used by the runner's rollback and by the dead-man switch alike; running it twice is harmless.
 */
export function buildRestoreScript(options: { backupDir: string; files: readonly { path: string; existed: boolean }[]; reload: ReloadMethod }): string {
  const lines = [
    '#!/bin/sh',
    '# Written by sshfix apply: restores the files below from this directory and reloads sshd.',
    ...PRELUDE,
    `B=${q(options.backupDir)}`,
    'failed=0',
  ];
  options.files.forEach((file, index) => {
    const tmp = `${file.path}.sshfix-restore`;
    if (file.existed) {
      lines.push(
        `if ! cmp -s "$B/files/${index}" ${q(file.path)} 2>/dev/null; then`,
        `  cp -a "$B/files/${index}" ${q(tmp)} && mv -f ${q(tmp)} ${q(file.path)} || failed=1`,
        'fi',
      );
    } else {
      lines.push(`rm -f ${q(file.path)} || failed=1`);
    }
  });
  lines.push(
    'sync 2>/dev/null',
    // Undoing a write that never went live needs no reload (and the old config may not even validate).
    'if [ "${1:-}" = --no-reload ]; then [ $failed -eq 0 ] && step restore ok "restored"; exit $failed; fi',
    'if out=$("$sshd_bin" -t 2>&1); then',
    `  if ${reloadCommand(options.reload)}; then step restore ok "restored and reloaded"; else step restore fail "restored, but the reload failed"; failed=1; fi`,
    'else',
    '  step restore fail "restored files do not validate: $out"; failed=1',
    'fi',
    'rm -f "$B/armed"',
    'exit $failed',
  );
  return lines.join('\n') + '\n';
}

/** The dead-man switch: after `$1` seconds, restore unless the runner removed the armed marker. */
function deadmanScript(backupDir: string, txid: string): string {
  return [
    '#!/bin/sh',
    'sleep "${1:-0}"',
    // Claim the transaction atomically: whichever of this and the runner's confirm renames the
    // marker first wins, so a late confirm can never report a change this switch undid.
    `mv ${q(`${backupDir}/armed`)} ${q(`${backupDir}/deadman-fired`)} 2>/dev/null || exit 0`,
    `sh ${q(`${backupDir}/restore.sh`)} > ${q(`${backupDir}/deadman.log`)} 2>&1`,
    `command -v logger >/dev/null 2>&1 && logger -t sshfix ${q(`dead-man switch restored the config of transaction ${txid}`)}`,
    'exit 0',
  ].join('\n') + '\n';
}

const heredoc = (content: Buffer, marker: string): string => {
  const b64 = content.toString('base64').replace(/.{1,76}/g, '$&\n');
  return `<<'${marker}'\n${b64}${marker}`;
};

/** The commit script (see the file comment). Runs as root, reads nothing from stdin. */
export function buildCommitScript(options: CommitOptions): string {
  if (!SAFE_TXID.test(options.txid)) throw new RangeError(`unsafe transaction id ${JSON.stringify(options.txid)}`);
  const B = `${options.backupRoot.replace(/\/+$/, '')}/${options.txid}`;
  const restore = buildRestoreScript({
    backupDir: B,
    files: options.files.map((f) => ({ path: f.path, existed: f.expectSha256 !== null })),
    reload: options.reload,
  });
  const lines = [
    ...PRELUDE,
    `B=${q(B)}`,
    ...validateLines(options.matchSpecs),
    'need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || { step prerequisites fail "missing command: $c"; exit ' +
      COMMIT_EXIT.prerequisites +
      '; }; done; }',
    'need base64 sha256sum cp mv mkdir chmod chown cmp',
    // 1. Stale check: every file must be exactly what the plan read.
    ...options.files.map((f) =>
      f.expectSha256 === null
        ? `[ -e ${q(f.path)} ] && { step stale fail ${q(`${f.path} appeared since the plan`)}; exit ${COMMIT_EXIT.stale}; }`
        : `[ "$(sha256sum < ${q(f.path)} 2>/dev/null | cut -d' ' -f1)" = ${q(f.expectSha256)} ] || { step stale fail ${q(`${f.path} changed since the plan`)}; exit ${COMMIT_EXIT.stale}; }`,
    ),
    'step stale ok',
    // 2. Backups, plus the restore script that undoes this transaction.
    'umask 077',
    `mkdir -p "$B/files" || { step backup fail "cannot create $B"; exit ${COMMIT_EXIT.backup}; }`,
    ...options.files.flatMap((f, i) =>
      f.expectSha256 === null ? [] : [`cp -a ${q(f.path)} "$B/files/${i}" || { step backup fail ${q(`cannot back up ${f.path}`)}; exit ${COMMIT_EXIT.backup}; }`],
    ),
    `cat > "$B/restore.sh" <<'SSHFIX_RESTORE_EOF'\n${restore}SSHFIX_RESTORE_EOF`,
    `printf '%s\\n' ${options.files.map((f) => q(f.path)).join(' ')} > "$B/paths"`,
    'step backup ok "$B"',
    'undo() { sh "$B/restore.sh" --no-reload >/dev/null 2>&1; }',
    // 3. Atomic writes: temp file in the same directory, owner/mode/SELinux label, fsync, rename.
    'umask 022',
    ...options.files.flatMap((f, i) => {
      const tmp = `${f.path}.sshfix-${options.txid}`;
      return [
        `mkdir -p "$(dirname -- ${q(f.path)})" &&`,
        `base64 -d > ${q(tmp)} ${heredoc(f.content, `SSHFIX_FILE_${i}_EOF`)}`,
        `[ $? -eq 0 ] && chown ${f.uid}:${f.gid} ${q(tmp)} && chmod ${(f.mode & 0o7777).toString(8)} ${q(tmp)} || { rm -f ${q(tmp)}; undo; step write fail ${q(`cannot write ${f.path}`)}; exit ${COMMIT_EXIT.write}; }`,
        ...(f.expectSha256 !== null
          ? [`command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled && chcon --reference=${q(f.path)} ${q(tmp)} 2>/dev/null`]
          : []),
        `sync ${q(tmp)} 2>/dev/null || sync`,
        `mv -f ${q(tmp)} ${q(f.path)} || { rm -f ${q(tmp)}; undo; step write fail ${q(`cannot rename into ${f.path}`)}; exit ${COMMIT_EXIT.write}; }`,
      ];
    }),
    'sync',
    'step write ok',
    // 4. Validate the whole tree sshd will load; undo on failure, so nothing invalid stays written.
    `if ! msg=$(validate); then undo; step validate fail "$msg"; exit ${COMMIT_EXIT.validate}; fi`,
    'step validate ok',
  ];
  const seconds = Math.max(1, Math.round(options.deadmanSeconds));
  lines.push(
    // 5. Dead-man switch: survives the runner and its connection (own session, or a systemd timer).
    `cat > "$B/deadman.sh" <<'SSHFIX_DEADMAN_EOF'\n${deadmanScript(B, options.txid)}SSHFIX_DEADMAN_EOF`,
    ': > "$B/armed"',
    'armed=',
    `if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && systemd-run --quiet --unit=${q(`sshfix-deadman-${options.txid}`)} --on-active=${seconds} /bin/sh "$B/deadman.sh" 0 >/dev/null 2>&1; then armed=systemd; fi`,
    'if [ -z "$armed" ]; then',
    `  if command -v setsid >/dev/null 2>&1; then setsid nohup sh "$B/deadman.sh" ${seconds} >/dev/null 2>&1 </dev/null & else nohup sh "$B/deadman.sh" ${seconds} >/dev/null 2>&1 </dev/null & fi`,
    '  echo $! > "$B/deadman.pid"; armed=process',
    'fi',
    `[ -n "$armed" ] || { undo; step arm fail "could not start the dead-man switch"; exit ${COMMIT_EXIT.arm}; }`,
    'step arm ok "$armed"',
    // 6. Reload (validated config only; never a restart).
    `if ! out=$(${reloadCommand(options.reload)} 2>&1); then undo; step reload fail "$out"; exit ${COMMIT_EXIT.reload}; fi`,
    'step reload ok',
    'exit 0',
  );
  return lines.join('\n') + '\n';
}

/** Confirms a transaction: disarm the dead-man switch and keep only the newest `keep` backups. */
export function buildConfirmScript(options: { backupRoot: string; txid: string; keep: number }): string {
  const root = options.backupRoot.replace(/\/+$/, '');
  const B = `${root}/${options.txid}`;
  return [
    ...PRELUDE,
    `B=${q(B)}`,
    'mv "$B/armed" "$B/confirmed" 2>/dev/null || { step confirm fail "the dead-man switch already restored the previous config"; exit 1; }',
    `command -v systemctl >/dev/null 2>&1 && systemctl stop ${q(`sshfix-deadman-${options.txid}.timer`)} >/dev/null 2>&1`,
    '[ -s "$B/deadman.pid" ] && { pid=$(cat "$B/deadman.pid"); kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null; }',
    // Transaction ids start with a sortable UTC timestamp, so lexical order is age order.
    `ls -1d ${q(root)}/*/ 2>/dev/null | sort | head -n -${Math.max(1, options.keep)} | while IFS= read -r old; do rm -rf -- "$old"; done`,
    'step confirm ok "$B"',
    'exit 0',
  ].join('\n') + '\n';
}

/** Rolls a transaction back through the restore script, then disarms. */
export function buildRollbackScript(options: { backupRoot: string; txid: string }): string {
  const B = `${options.backupRoot.replace(/\/+$/, '')}/${options.txid}`;
  return [
    ...PRELUDE,
    `B=${q(B)}`,
    '[ -f "$B/restore.sh" ] || { step restore fail "no restore script in $B"; exit 1; }',
    'sh "$B/restore.sh"; rc=$?',
    `command -v systemctl >/dev/null 2>&1 && systemctl stop ${q(`sshfix-deadman-${options.txid}.timer`)} >/dev/null 2>&1`,
    '[ -s "$B/deadman.pid" ] && { pid=$(cat "$B/deadman.pid"); kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null; }',
    'exit $rc',
  ].join('\n') + '\n';
}

export interface StepRecord {
  step: string;
  ok: boolean;
  message: string;
}

/** Reads the STEP lines of a transaction script's output (other lines are ignored). */
export function parseSteps(stdout: string): StepRecord[] {
  const steps: StepRecord[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^STEP (\S+) (ok|fail) ?(\S*)$/.exec(line);
    if (!match) continue;
    steps.push({ step: match[1] as string, ok: match[2] === 'ok', message: Buffer.from(match[3] ?? '', 'base64').toString('utf8') });
  }
  return steps;
}
