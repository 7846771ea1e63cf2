/**
 * The shell scripts of the apply transaction, built from typed values (every value quoted or
 * base64-encoded), and the parser of what they print. Pure; transaction.ts runs them.
 *
 * The commit script is one function, so a truncated upload never runs (the shell parses the whole
 * function before calling it), and it ignores SIGHUP, SIGPIPE, SIGINT and SIGTERM, so once started it
 * runs to its end whatever happens to the runner or its connection. In order it: takes a host-wide
 * lock and refuses while an earlier transaction is unconfirmed; checks every file is as planned;
 * backs them up with a restore script beside them; ARMS the dead-man switch; writes each file
 * atomically; validates what each touched service will load; reloads each (never restarts one that
 * can reload) and checks it is still running. Any failure before the reload restores the files
 * without reloading and disarms; a service dying at the reload restores the files, reloads the
 * others and starts it again. The shell of each service comes from src/services/<id>/. Afterwards
 * the runner proves a fresh login and each service's values, then confirms (disarms) or rolls back.
 *
 * Whoever finishes a transaction claims it by renaming its `armed` marker (to `confirmed`,
 * `rolling-back` or `deadman-fired`), an atomic step only one can win. The restore script is
 * compare-and-swap: it puts a file back only while it still holds what this transaction wrote, so
 * a late switch never undoes a newer change.
 *
 * Output: lines `STEP <name> <ok|fail> <message b64>`; the exit code is the failed step's code.
 */
import type { ServiceScripts } from '../services/service.js';
import { sha256Hex } from './facts.js';
import { quoteShellArg } from '../util/shell-quote.js';

const q = quoteShellArg;

export interface CommitFile {
  /** The path sshd reads. */
  path: string;
  /** The file to write: the symlink's resolved target when `path` is a link, else `path`. */
  writePath: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
  /** sha256 the file must still have (null: it must not exist), else the plan is stale. */
  expectSha256: string | null;
  /** Remove the file instead of writing `content` (a rollback of a transaction that created it). */
  remove?: boolean;
}

/** What a file holds once the transaction wrote it: its sha256, or `absent` when it removes it. */
export const writtenSha256 = (file: Pick<CommitFile, 'content' | 'remove'>): string => (file.remove ? 'absent' : sha256Hex(file.content));

export interface CommitOptions {
  /** Transaction id: safe characters only (see SAFE_TXID), unique per host and run. */
  txid: string;
  /** Where backups go, e.g. /var/backups/sshfix. */
  backupRoot: string;
  files: readonly CommitFile[];
  /** The services the change touches: each is validated, reloaded and checked, in this order. */
  services: readonly ServiceScripts[];
  /** Seconds after which the host restores itself unless the runner confirms. */
  deadmanSeconds: number;
  /** Written as `manifest` beside the backups: what a later rollback needs (transaction-manifest.ts). */
  manifest?: string;
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
  locked: 17,
  /** A service stopped after the reload; the files were restored and it was started again. */
  stopped: 18,
  /** A service runs but its check after the reload failed; the files were restored and it was reloaded again. */
  lost: 19,
} as const;

/** `20261123T200100Z-62a90d33`: a UTC timestamp (so names sort by age) and a random suffix. */
export const SAFE_TXID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;
/** The same, as a shell glob, to find transactions when pruning. */
export const TXID_GLOB = '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]';

/** Refuses values that could escape their place in a script (the builders quote the rest). */
function assertSafePath(path: string): void {
  if (!path.startsWith('/') || /[\0-\x1f\x7f]/.test(path)) throw new RangeError(`unsafe path ${JSON.stringify(path)}`);
}

function assertCommitOptions(options: CommitOptions): void {
  if (!SAFE_TXID.test(options.txid)) throw new RangeError(`unsafe transaction id ${JSON.stringify(options.txid)}`);
  assertSafePath(options.backupRoot);
  assertServices(options.services);
  for (const f of options.files) {
    assertSafePath(f.path);
    assertSafePath(f.writePath);
    if (!Number.isInteger(f.uid) || f.uid < 0 || !Number.isInteger(f.gid) || f.gid < 0) throw new RangeError(`bad owner for ${f.path}`);
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777) throw new RangeError(`bad mode for ${f.path}`);
    if (f.expectSha256 !== null && !/^[0-9a-f]{64}$/.test(f.expectSha256)) throw new RangeError(`bad sha256 for ${f.path}`);
    if (f.remove && f.expectSha256 === null) throw new RangeError(`cannot remove ${f.path}: it must not exist`);
  }
}

const SERVICE_ID = /^[a-z][a-z0-9_]*$/;

function assertServices(services: readonly ServiceScripts[]): void {
  for (const service of services) if (!SERVICE_ID.test(service.id)) throw new RangeError(`unsafe service id ${JSON.stringify(service.id)}`);
}

/** Shell functions every transaction script shares. */
function prelude(): string[] {
  return [
    'set -u',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH',
    'LC_ALL=C; export LC_ALL PATH',
    "b64() { base64 -w0 2>/dev/null || { base64 | tr -d '\\n'; }; }",
    'step() { printf "STEP %s %s %s\\n" "$1" "$2" "$(printf %s "${3:-}" | tr -d "\\r" | b64)" 2>/dev/null; }',
    'nap() { sleep 0.2 2>/dev/null || sleep 1; }',
    'sha() { if [ -e "$1" ]; then sha256sum < "$1" | cut -d" " -f1; else echo absent; fi; }',
    // A daemon re-executes on reload and may exit if it cannot start (e.g. an address it cannot bind).
    // Alive ($1) three checks in a row within two seconds; a re-executing daemon may miss one check
    // (its PidFile is rewritten), one that could not start stays gone.
    'still_running() { n=0; for _ in 1 2 3 4 5 6 7 8 9 10; do nap; if "$1"; then n=$((n + 1)); [ $n -ge 3 ] && return 0; else n=0; fi; done; return 1; }',
    // The pid of the dead-man switch process of the transaction in directory $1, when it still runs
    // (checked by its command line, so a reused pid is not taken for it).
    'deadman_proc() { [ -s "$1/deadman.pid" ] && dp=$(cat "$1/deadman.pid") && case "$(tr "\\0" " " < /proc/$dp/cmdline 2>/dev/null)" in *"$1/deadman.sh"*) echo "$dp";; *) false;; esac; }',
    // Stop this transaction's dead-man switch (only a process that is really it).
    'disarm() {',
    '  command -v systemctl >/dev/null 2>&1 && systemctl stop "sshfix-deadman-$TX.timer" >/dev/null 2>&1',
    // SIGKILL: the switch was started with SIGTERM ignored (the commit ignores it and children inherit that).
    '  if dp=$(deadman_proc "$B"); then kill -s KILL -- "-$dp" 2>/dev/null || kill -s KILL "$dp" 2>/dev/null; fi',
    '  return 0',
    '}',
  ];
}

/**
 * Each service's functions (validate_<id>, reload_<id>, alive_<id>, start_<id>), and `validate`,
 * which validates every one of them in turn. `restored`: the restore script's validation.
 */
function serviceFunctions(services: readonly ServiceScripts[], restored: boolean): string[] {
  const lines: string[] = [];
  for (const s of services) {
    lines.push(
      ...s.helpers,
      `validate_${s.id}() {`,
      ...(restored ? s.validateRestored : s.validate).map((l) => `  ${l}`),
      '  return 0',
      '}',
      `reload_${s.id}() { ${s.reload}; }`,
      `alive_${s.id}() { ${s.alive}; }`,
      `start_${s.id}() { ${s.start}; }`,
      ...(s.check ? [`check_${s.id}() {`, ...s.check.map((l) => `  ${l}`), '  return 0', '}'] : []),
    );
  }
  lines.push('validate() {', ...services.map((s) => `  validate_${s.id} || return 1`), '  return 0', '}');
  return lines;
}

/** A file written from base64 embedded in the script (so no content can end a here-document). */
/** Permission bits of a directory created for a file with `mode`: the owner's rwx, and r-x for whoever may read the file. */
export function directoryMode(mode: number): number {
  return 0o700 | (mode & 0o040 ? 0o050 : 0) | (mode & 0o004 ? 0o005 : 0);
}

const writeEmbedded = (target: string, content: Buffer | string, marker: string, onFailure = ''): string =>
  `base64 -d > ${target} <<'${marker}'${onFailure ? ` || ${onFailure}` : ''}\n${Buffer.from(content).toString('base64').replace(/.{1,76}/g, '$&\n')}${marker}`;

/**
 * The restore script left in the backup directory. Compare-and-swap per file: put back only a
 * file that still holds what this transaction wrote (created files are removed under the same
 * rule); a file changed since is left alone and named. Then, if the services were reloaded with the
 * new files, validate and reload each again, and start any that is not running. `--no-reload` only
 * restores (the commit's undo before anything went live). Running it twice is harmless.
 */
export function buildRestoreScript(options: { txid: string; backupDir: string; files: readonly CommitFile[]; services: readonly ServiceScripts[] }): string {
  assertServices(options.services);
  const lines = [
    '#!/bin/sh',
    '# Written by sshfix apply: restores the files of this transaction (see the paths file).',
    ...prelude(),
    `B=${q(options.backupDir)}`,
    `TX=${q(options.txid)}`,
    ...serviceFunctions(options.services, true),
    'failed=0',
    'kept=',
  ];
  options.files.forEach((file, index) => {
    const wp = q(file.writePath);
    const written = writtenSha256(file);
    lines.push(`cur=$(sha ${wp})`);
    if (file.expectSha256 !== null) {
      lines.push(
        `if [ "$cur" = ${q(file.expectSha256)} ]; then :`,
        `elif [ "$cur" = ${q(written)} ]; then cp -a "$B/files/${index}" ${wp}.sshfix-restore-$$ && mv -f ${wp}.sshfix-restore-$$ ${wp} || { rm -f ${wp}.sshfix-restore-$$; failed=1; }`,
        `else kept="$kept ${file.writePath.replace(/[\\"$`]/g, '')}"; fi`,
      );
    } else {
      lines.push(`if [ "$cur" = ${q(written)} ]; then rm -f ${wp} || failed=1; elif [ "$cur" != absent ]; then kept="$kept ${file.writePath.replace(/[\\"$`]/g, '')}"; fi`);
    }
  });
  lines.push(
    'sync 2>/dev/null',
    'note=; [ -n "$kept" ] && note=" (left as they are, changed since this transaction:$kept)"',
    'if [ "${1:-}" = --no-reload ] || [ ! -e "$B/reloading" ]; then',
    '  if [ $failed -eq 0 ]; then step restore ok "restored$note"; else step restore fail "could not restore every file$note"; fi',
    '  exit $failed',
    'fi',
    'if msg=$(validate); then',
    ...options.services.map((s) => `  reload_${s.id} >/dev/null 2>&1; still_running alive_${s.id} || start_${s.id} >/dev/null 2>&1`),
    '  down=',
    ...options.services.map((s) => `  alive_${s.id} || down="$down ${s.label}"`),
    '  if [ -z "$down" ]; then [ $failed -eq 0 ] && step restore ok "restored and reloaded$note"; else step restore fail "restored, but$down is not running and could not be started$note"; failed=1; fi',
    'else',
    '  step restore fail "the restored config does not validate: $msg"; failed=1',
    'fi',
    'exit $failed',
  );
  return lines.join('\n') + '\n';
}

function deadmanScript(backupDir: string, txid: string): string {
  return [
    '#!/bin/sh',
    'sleep "${1:-0}"',
    // Claim the transaction: whichever of this and the runner renames the marker first wins.
    `mv ${q(`${backupDir}/armed`)} ${q(`${backupDir}/deadman-fired`)} 2>/dev/null || exit 0`,
    `sh ${q(`${backupDir}/restore.sh`)} > ${q(`${backupDir}/deadman.log`)} 2>&1`,
    `command -v logger >/dev/null 2>&1 && logger -t sshfix ${q(`dead-man switch restored the config of transaction ${txid}`)}`,
    'exit 0',
  ].join('\n') + '\n';
}

/**
 * The commit's check of earlier transactions still `armed`: in flight while its dead-man switch
 * runs (a systemd timer or service, or the switch process) and its window has not passed; due when
 * the switch runs past its window (it is restoring now); abandoned when no switch is left.
 */
function checkEarlierTransactions(exitCode: number): string[] {
  return [
    `for d in "$ROOT"/${TXID_GLOB}; do`,
    '  [ -e "$d/armed" ] || continue',
    '  t=${d##*/}; alive=',
    '  if command -v systemctl >/dev/null 2>&1 && { systemctl is-active --quiet "sshfix-deadman-$t.timer" || systemctl is-active --quiet "sshfix-deadman-$t.service"; } 2>/dev/null; then alive=systemd; fi',
    '  [ -z "$alive" ] && deadman_proc "$d" >/dev/null && alive=process',
    '  if [ -n "$alive" ]; then',
    '    left=$(( $(cat "$d/deadline" 2>/dev/null || echo 0) - $(date +%s) ))',
    '    if [ "$left" -ge 0 ]; then',
    `      step lock fail "transaction $t is in flight on this host: its runner is proving it, and its dead-man switch restores the previous config in \${left} s unless the runner confirms first. Wait for it to finish, then apply again (do not run its restore.sh or touch $d: that would undo or disarm a change being proven)"; return ${exitCode}`,
    '    fi',
    `    step lock fail "transaction $t on this host is past its window and its dead-man switch is restoring the previous config now: wait a minute, then plan and apply again"; return ${exitCode}`,
    '  fi',
    `  step lock fail "transaction $t on this host was abandoned: never confirmed, and its dead-man switch is gone (the host rebooted, or the switch was stopped), so its change stays live but unproven. Restore the previous config with: sh $d/restore.sh (or keep the change with: mv $d/armed $d/confirmed), then apply again"; return ${exitCode}`,
    'done',
  ];
}

/**
 * The line that takes the host's transaction lock ($ROOT/.lock, held on fd 9 until the script
 * ends) when `condition` holds, or returns COMMIT_EXIT.locked while another script holds it.
 */
const takeHostLock = (condition: string): string =>
  `if ${condition}; then exec 9>>"$ROOT/.lock" && flock -n 9 || { step lock fail "another sshfix transaction is being committed on this host right now: wait for it to finish, then apply again"; return ${COMMIT_EXIT.locked}; }; fi`;

/** The commit script (see the file comment). Runs as root, reads nothing from stdin. */
export function buildCommitScript(options: CommitOptions): string {
  assertCommitOptions(options);
  const root = options.backupRoot.replace(/\/+$/, '');
  const B = `${root}/${options.txid}`;
  const seconds = Math.max(1, Math.round(options.deadmanSeconds));
  const E = COMMIT_EXIT;
  const restore = buildRestoreScript({ txid: options.txid, backupDir: B, files: options.files, services: options.services });
  const body = [
    // Run to the end whatever happens to the runner: the dead-man switch covers the rest.
    "trap '' HUP PIPE INT TERM",
    `ROOT=${q(root)}`,
    `B=${q(B)}`,
    `TX=${q(options.txid)}`,
    'for c in base64 sha256sum cp mv mkdir chmod chown cut; do command -v "$c" >/dev/null 2>&1 || { step prerequisites fail "missing command: $c"; return ' + E.prerequisites + '; }; done',
    'umask 077',
    `mkdir -p "$ROOT" || { step backup fail "cannot create $ROOT"; return ${E.backup}; }`,
    // One transaction per host at a time; an unconfirmed one must be finished first.
    takeHostLock('command -v flock >/dev/null 2>&1'),
    // An armed transaction whose switch still runs is in flight (its runner is proving it): never
    // advise undoing it. One whose switch is gone (a reboot, a killed process) is abandoned.
    ...checkEarlierTransactions(E.locked),
    // 1. Stale check: every file must be exactly what the plan read, where the plan read it.
    ...options.files.flatMap((f) => [
      ...(f.writePath !== f.path
        ? [`[ "$(readlink -f ${q(f.path)})" = ${q(f.writePath)} ] || { step stale fail ${q(`${f.path} no longer points to ${f.writePath}`)}; return ${E.stale}; }`]
        : [`[ -L ${q(f.path)} ] && { step stale fail ${q(`${f.path} became a symbolic link since the plan`)}; return ${E.stale}; }`]),
      `[ "$(sha ${q(f.writePath)})" = ${q(f.expectSha256 ?? 'absent')} ] || { step stale fail ${q(`${f.path} changed since the plan`)}; return ${E.stale}; }`,
    ]),
    'step stale ok',
    // 2. Backups and the restore and dead-man scripts beside them.
    `mkdir -p "$B/files" || { step backup fail "cannot create $B"; return ${E.backup}; }`,
    ...options.files.flatMap((f, i) =>
      f.expectSha256 === null ? [] : [`cp -a ${q(f.writePath)} "$B/files/${i}" || { step backup fail ${q(`cannot back up ${f.writePath}`)}; return ${E.backup}; }`],
    ),
    writeEmbedded('"$B/restore.sh"', restore, 'SSHFIX_RESTORE_EOF'),
    writeEmbedded('"$B/deadman.sh"', deadmanScript(B, options.txid), 'SSHFIX_DEADMAN_EOF'),
    writeEmbedded('"$B/paths"', options.files.map((f) => `${f.writePath}\n`).join(''), 'SSHFIX_PATHS_EOF'),
    ...(options.manifest === undefined ? [] : [writeEmbedded('"$B/manifest"', options.manifest, 'SSHFIX_MANIFEST_EOF')]),
    `[ -s "$B/restore.sh" ] && [ -s "$B/deadman.sh" ] || { step backup fail "cannot write the restore script"; return ${E.backup}; }`,
    'step backup ok "$B"',
    'undo() { sh "$B/restore.sh" --no-reload >/dev/null 2>&1; }',
    'abort() { mv "$B/armed" "$B/aborted" 2>/dev/null; disarm; }',
    // 3. Arm the dead-man switch BEFORE writing: from here on, whatever happens, the host restores itself.
    // When the switch fires, so a later transaction can tell one in flight from one abandoned.
    `echo $(($(date +%s) + ${seconds})) > "$B/deadline"`,
    ': > "$B/armed" || { step arm fail "cannot write $B/armed"; return ' + E.arm + '; }',
    'armed=',
    `if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 && systemd-run --quiet --unit="sshfix-deadman-$TX" --on-active=${seconds} /bin/sh "$B/deadman.sh" 0 >/dev/null 2>&1; then armed=systemd; fi`,
    'if [ -z "$armed" ]; then',
    // 9>&-: the switch must not hold the transaction lock for its whole life.
    `  if command -v setsid >/dev/null 2>&1; then setsid nohup sh "$B/deadman.sh" ${seconds} >/dev/null 2>&1 </dev/null 9>&- & else nohup sh "$B/deadman.sh" ${seconds} >/dev/null 2>&1 </dev/null 9>&- & fi`,
    '  echo $! > "$B/deadman.pid"; armed=process',
    'fi',
    'step arm ok "$armed"',
    // 4. Atomic writes: temporary file in the same directory, owner/mode/SELinux label, fsync, rename.
    'umask 022',
    ...options.files.flatMap((f, i) => {
      if (f.remove) return [`rm -f ${q(f.writePath)} || { undo; abort; step write fail ${q(`cannot remove ${f.writePath}`)}; return ${E.write}; }`];
      const tmp = q(`${f.writePath.slice(0, f.writePath.lastIndexOf('/') + 1)}.sshfix-${options.txid}-${i}`);
      const fail = `{ rm -f ${tmp}; undo; abort; step write fail ${q(`cannot write ${f.writePath}`)}; return ${E.write}; }`;
      return [
        // A directory the write creates (a user's ~/.ssh) gets the file's owner and no wider access
        // than the file gives; existing directories are left as they are.
        `d=$(dirname -- ${q(f.writePath)}); [ -d "$d" ] || { mkdir -p "$d" && chown ${f.uid}:${f.gid} "$d" && chmod ${directoryMode(f.mode).toString(8)} "$d"; } || ${fail}`,
        writeEmbedded(tmp, f.content, `SSHFIX_FILE_${i}_EOF`, fail),
        `chown ${f.uid}:${f.gid} ${tmp} && chmod ${(f.mode & 0o7777).toString(8)} ${tmp} || ${fail}`,
        f.expectSha256 !== null
          ? `command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled && chcon --reference=${q(f.writePath)} ${tmp} 2>/dev/null`
          : ':',
        `sync ${tmp} 2>/dev/null || sync`,
        `mv -f ${tmp} ${q(f.writePath)} || ${fail}`,
        f.expectSha256 === null ? `command -v restorecon >/dev/null 2>&1 && restorecon ${q(f.writePath)} 2>/dev/null` : ':',
      ];
    }),
    'sync',
    'step write ok',
    // 5. Validate what each service will load; undo on failure, so nothing invalid stays written.
    `if ! msg=$(validate); then undo; abort; step validate fail "$msg"; return ${E.validate}; fi`,
    'step validate ok',
    // 6. Reload each service (validated config only), and make sure each survived it.
    ...options.services.flatMap((s) => s.beforeReload),
    ': > "$B/reloading"',
    ...options.services.flatMap((s, i) => [
      // The first reload failing leaves nothing live: restore without reloading. A later one: every
      // service reloaded before it runs the new files, so the full restore reloads them again.
      i === 0
        ? `if ! out=$(reload_${s.id} 2>&1); then rm -f "$B/reloading"; undo; alive_${s.id} || start_${s.id} >/dev/null 2>&1; abort; step reload fail "$out"; return ${E.reload}; fi`
        : `if ! out=$(reload_${s.id} 2>&1); then sh "$B/restore.sh" >/dev/null 2>&1; abort; step reload fail "$out"; return ${E.reload}; fi`,
      `if ! still_running alive_${s.id}; then sh "$B/restore.sh" >/dev/null 2>&1; abort; step reload fail ${q(`${s.label} stopped after the reload with the new config; the previous config was restored and ${s.label} started again`)}; return ${E.stopped}; fi`,
      ...(s.check
        ? [`if ! msg=$(check_${s.id}); then sh "$B/restore.sh" >/dev/null 2>&1; abort; step reload fail "${s.label}: $msg; the previous config was restored and reloaded again"; return ${E.lost}; fi`]
        : []),
    ]),
    ': > "$B/reloaded"',
    ...options.services.flatMap((s) => s.afterReload ?? []),
    'step reload ok',
    'return 0',
  ];
  return [
    ...prelude(),
    ...serviceFunctions(options.services, false),
    // One function: the shell reads all of it before running any of it.
    'commit() {',
    ...body.map((l) => `  ${l}`),
    '}',
    'commit',
    'exit $?',
  ].join('\n') + '\n';
}

/**
 * The script of a change that writes no file: each service's actions (e.g. lifting a ban) on the
 * running service, with no backup, no reload and nothing to restore. Refuses a service that is not
 * running (its actions would act on nothing) and, like the commit, a host where another
 * transaction is being committed right now.
 */
export function buildActionScript(options: { backupRoot: string; services: readonly ServiceScripts[] }): string {
  assertServices(options.services);
  assertSafePath(options.backupRoot);
  const root = options.backupRoot.replace(/\/+$/, '');
  const body = [
    "trap '' HUP PIPE INT TERM",
    `ROOT=${q(root)}`,
    // Nothing to lock where no transaction ever ran (no backup root).
    takeHostLock('[ -d "$ROOT" ] && command -v flock >/dev/null 2>&1'),
    ...options.services.map((s) => `alive_${s.id} || { step actions fail ${q(`${s.label} is not running, so there is nothing to act on: start it, then apply again`)}; return ${COMMIT_EXIT.prerequisites}; }`),
    ...options.services.flatMap((s) => s.afterReload ?? []),
    'step actions ok',
    'return 0',
  ];
  return [...prelude(), ...serviceFunctions(options.services, false), 'act() {', ...body.map((l) => `  ${l}`), '}', 'act', 'exit $?'].join('\n') + '\n';
}

const finisher = (options: { backupRoot: string; txid: string }): string[] => {
  if (!SAFE_TXID.test(options.txid)) throw new RangeError(`unsafe transaction id ${JSON.stringify(options.txid)}`);
  assertSafePath(options.backupRoot);
  const root = options.backupRoot.replace(/\/+$/, '');
  return [...prelude(), "trap '' HUP PIPE INT TERM", `ROOT=${q(root)}`, `B=${q(`${root}/${options.txid}`)}`, `TX=${q(options.txid)}`];
};

/** Confirms a transaction (claims it, disarms), then keeps only the newest `keep` finished backups. */
export function buildConfirmScript(options: { backupRoot: string; txid: string; keep: number }): string {
  return [
    ...finisher(options),
    'if ! mv "$B/armed" "$B/confirmed" 2>/dev/null; then',
    '  if [ -e "$B/deadman-fired" ]; then step confirm fail "the dead-man switch already restored the previous config"; else step confirm fail "the transaction is not armed"; fi',
    '  exit 1',
    'fi',
    'disarm',
    // Only sshfix's own, finished transactions (never one still armed, never a symlink), oldest first.
    `find "$ROOT" -mindepth 1 -maxdepth 1 -type d -name ${q(TXID_GLOB)} 2>/dev/null | sort | while IFS= read -r d; do [ -e "$d/armed" ] || echo "$d"; done | ` +
      `awk -v keep=${Math.max(1, Math.floor(options.keep))} '{ a[NR] = $0 } END { for (i = 1; i <= NR - keep; i++) print a[i] }' | while IFS= read -r old; do rm -rf -- "$old"; done`,
    'step confirm ok "$B"',
    'exit 0',
  ].join('\n') + '\n';
}

/** Rolls a transaction back: claims it, disarms, and runs its restore script. */
export function buildRollbackScript(options: { backupRoot: string; txid: string }): string {
  return [
    ...finisher(options),
    '[ -f "$B/restore.sh" ] || { step restore fail "no restore script in $B"; exit 1; }',
    'if ! mv "$B/armed" "$B/rolling-back" 2>/dev/null; then',
    '  if [ -e "$B/deadman-fired" ]; then step restore fail "the dead-man switch is restoring the previous config: $(cat "$B/deadman.log" 2>/dev/null)"; exit 2; fi',
    '  step restore fail "the transaction is not armed"; exit 1',
    'fi',
    'disarm',
    'sh "$B/restore.sh"; rc=$?',
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
