/**
 * The one shell script that gathers a host's facts in a single exec round trip, and the parser of
 * its output. Pure: building and parsing do no I/O; gather-facts.ts runs the script.
 *
 * Output protocol: one record per line, every variable part base64-encoded, so file contents and
 * command output of any bytes (newlines, NULs) come back intact and nothing in them can be
 * mistaken for framing. A path of plain characters (letters, digits, / . _ + , : @ % = * ? ~ -)
 * goes as it is: it starts with "/", which no base64 text does (every absolute path's starts with L).
 *
 *     R <name> <exit code> <stdout b64> <stderr b64>     a command's result
 *     T <name> <exit code> <stderr b64>                 a command's result whose stdout is text,
 *     |<line>                                           in the lines that follow: one per line,
 *     \<line>                                           and a last line without a newline
 *     F <path b64> <mode octal> <uid> <gid> <content b64> a regular file
 *     F <path b64> <mode octal> <uid> <gid> =<size>       one whose content came as text:
 *     C <path b64>                                      a file's content as text lines,
 *     |<line>                                           each after a "|" (the Include walk sends
 *                                                       a file of printable ASCII so; the size
 *                                                       tells whether its last line ended)
 *     M <path b64>                                      a path that does not exist
 *     U <path b64>                                      a path that exists but is not a readable file
 *     D <dir b64> <names b64>                           a directory's entries, newline-separated,
 *     |<name>                                           or one a line after the record
 *     I <pattern b64>                                   an Include pattern the script found
 *     L <path b64> <target b64>                         a symbolic link and the file it resolves to
 */
import { lookupService } from '../services/registry.js';
import type { RawFacts, RecordedCommand } from '../services/service.js';
import { RECORD_SCRIPT_PRELUDE } from '../util/record-script.js';
import { quoteShellArg } from '../util/shell-quote.js';

/** What the tasks of one host need to read. */
export interface FactRequest {
  /** The services whose facts to read, each with the paths its fact lines take (e.g. main configs). */
  services: Readonly<Record<string, readonly string[]>>;
  /** Further files to read as they are (ssh_config, fail2ban jails, hosts.allow ...). */
  files: readonly string[];
  /** Directories to list and read every regular file of (non-recursive). */
  dirs: readonly string[];
  /**
   * Read the login's groups whatever the files say (a task writes something that depends on
   * them). Without it they are read when a file the script reads names groups.
   */
  groups?: boolean;
}

/** Reads the login's groups when `$sshfix_groups` says they matter. */
const LOGIN_GROUPS_LINE = '[ -z "${sshfix_groups-}" ] || tc login_groups id -Gn ${SUDO_USER:+"$SUDO_USER"}';

/** The line that reads the login's groups, for a later part when the facts show they matter after all. */
export const loginGroupsLines = (): string[] => ['sshfix_groups=1', LOGIN_GROUPS_LINE];

const q = quoteShellArg;

const readDirLine = (dir: string): string => `ld ${q(dir)}; for m in ${q(dir)}/* ${q(dir)}/.[!.]*; do [ -f "$m" ] && rf "$m"; done`;

/**
 * The Include walk's awk program, without its quotes (the probe's program may follow it, see
 * incs). Its own rules apply until an `xa` operand is set: each file is held as text while it is
 * all printable ASCII and tabs (LC_ALL=C), up to 64 KiB, and printed when the next file starts or
 * at the end; every line is looked at for groups and Includes. What the walk reads back goes to
 * `o` (its stderr, see incs).
 * Only an awk whose strings hold NUL bytes sends text (mawk, gawk): busybox's ends a line at a NUL,
 * and the size would not tell (a NUL read as a newline is one byte too), so it leaves every file
 * to base64.
 */
const INCS_AWK = [
  'BEGIN { tz = length(sprintf("%c", 0)) == 1 }',
  'function tx() { if (tn != "" && tp) { printf "C %s\\n%s", tn, tb; print "=" tn > o }; tn = ""; tb = "" }',
  '!xa && FNR == 1 { tx(); tn = FILENAME; tp = tz && (tn ~ /^\\/[A-Za-z0-9\\/._+,:@%=*?~-]*$/) }',
  '!xa && tp { if ($0 ~ /[^\\t -~]/ || length(tb) + length($0) > 65536) tp = 0; else tb = tb "|" $0 "\\n" }',
  '!xa {',
  // sshd splits words at any whitespace (isspace: space, tab, CR, FF, VT).
  '  sub(/^[ \\t\\r\\f\\v]+/, "");',
  '  k = tolower($0); sub(/[ \\t\\r\\f\\v=].*/, "", k);',
  '  if (!gf && (k == "allowgroups" || k == "denygroups" || (k == "match" && index(tolower($0), "group")))) { print "%g" > o; gf = 1 }',
  '  if (tolower(substr($0, 1, 7)) != "include") next;',
  '  rest = substr($0, 8);',
  '  if (rest != "" && rest !~ /^[ \\t\\r\\f\\v=]/) next;',
  '  sub(/^[ \\t\\r\\f\\v]*=?[ \\t\\r\\f\\v]*/, "", rest);',
  '  n = split(rest, a, /[ \\t\\r\\f\\v]+/);',
  '  for (i = 1; i <= n; i++) {',
  '    w = a[i]; if (w == "") continue; if (substr(w, 1, 1) == "#") break;',
  '    gsub(/^["\\047]|["\\047]$/, "", w);',
  '    if (substr(w, 1, 1) != "/") w = "/etc/ssh/" w;',
  '    print (xs ? "+" : "") w > o',
  '  }',
  '}',
  'END { tx() }',
].join('\n');

/**
 * Shell functions of the fact scripts: run (a command), rf (a file), ld (a directory), walk (an
 * Include tree). Each process they start costs the host about a millisecond of CPU, on every host
 * of every run, so they use the shell's builtins where they can: a path of plain characters goes
 * out as it is (pe), a directory's name is cut from the path, the Include queue is a variable, and
 * what a builtin finds is kept in a variable and printed from it (tv), so that the common case
 * needs no scratch directory at all (no mktemp, no rm).
 */
const PRELUDE = [
    ...RECORD_SCRIPT_PRELUDE,
    "nl='",
    "'",
    'enc() { printf %s "$1" | b64; }',
    // A T record from a text: the text's lines, the last one after "\" when it has no newline.
    'tv() {',
    '  printf "T %s %s \\n" "$1" "$2"; r=$3',
    '  while [ -n "$r" ]; do case $r in *"$nl"*) printf "|%s\\n" "${r%%"$nl"*}"; r=${r#*"$nl"} ;; *) printf "\\\\%s\\n" "$r"; r= ;; esac; done',
    '}',
    // One program's output as a T record, without its stderr and its last newlines: no scratch file.
    'tc() { n=$1; shift; v=$("$@" 2>/dev/null </dev/null); tv "$n" $? "${v:+$v$nl}"; }',
    // The first executable NAME in PATH, into $v (what `command -v` prints, without a subshell or a file).
    'cv() { v=; oi=$IFS; IFS=:; set -f; for d in $PATH; do [ -f "$d/$1" ] && [ -x "$d/$1" ] && { v=$d/$1; break; }; done; set +f; IFS=$oi; [ -n "$v" ]; }',
    // An absolute path of plain characters as it is (a base64 field never starts with "/"), else base64.
    'pe() { case $1 in /*) case $1 in *[!A-Za-z0-9/._+,:@%=*?~-]*) ;; *) printf %s "$1"; return; esac; esac; enc "$1"; }',
    // A symbolic link's record.
    'rl() {',
    '  [ -L "$1" ] || return 0',
    '  rlt=$(readlink -f "$1" 2>/dev/null)',
    '  printf "L "; pe "$1"; printf " "; pe "$rlt"; printf "\\n"',
    '}',
    // A path that is not a readable regular file: U when it exists, M when it does not.
    'um() { if [ -e "$1" ] || [ -L "$1" ]; then printf "U "; else printf "M "; fi; pe "$1"; printf "\\n"; }',
    'rf() {',
    '  rl "$1"',
    '  if [ -f "$1" ] && [ -r "$1" ] && st=$(stat -L -c "%a %u %g" "$1" 2>/dev/null) && [ -n "$st" ]; then',
    '    printf "F "; pe "$1"; printf " %s " "$st"; [ -s "$1" ] && b64 <"$1"; printf "\\n"',
    '  else um "$1"; fi',
    '}',
    // Regular readable files, one a line in $wfs, read with one stat for all: an F record each
    // (U when stat cannot read it after all). stat prints "mode uid gid size mtime type:name",
    // skipping a path it cannot read, so each line is matched to its file by the name. The same
    // stat takes the paths in $wx (one a line), whose lines it leaves in $wxs for their readers.
    // A file the walk's awk sent as text (in $wtx) gets "=SIZE" for its content.
    'rfs() {',
    '  [ -n "$wfs${wx-}" ] || return 0',
    '  oi=$IFS; IFS=$nl; set -f; set -- $wfs; wfn=$#; set -- "$@" ${wx-}; set +f; IFS=$oi',
    '  sts=$(stat -L -c "%a %u %g %s %Y %F:%n" "$@" 2>/dev/null); sts=${sts:+$sts$nl}',
    '  sl=${sts%%"$nl"*}; sts=${sts#*"$nl"}',
    '  while [ "$wfn" -gt 0 ]; do',
    '    f=$1; shift; wfn=$((wfn - 1))',
    '    if [ "${sl#*:}" = "$f" ]; then',
    '      r=${sl#* * * }; printf "F "; pe "$f"; printf " %s " "${sl%" $r"}"',
    '      case ${wtx-} in *"$nl$f$nl"*) printf =%s "${r%% *}" ;; *) [ -s "$f" ] && b64 <"$f"; esac; printf "\\n"',
    '      sl=${sts%%"$nl"*}; sts=${sts#*"$nl"}',
    '    else printf "U "; pe "$f"; printf "\\n"; fi',
    '  done',
    '  if [ -n "${wx-}" ]; then wxs=; while [ -n "$sl" ]; do wxs=$wxs$sl$nl; sl=${sts%%"$nl"*}; sts=${sts#*"$nl"}; done; wx=; fi',
    '}',
    // A directory's entries as text lines from a glob (no process), or through ls and base64 when a name holds a newline.
    'ld() {',
    '  [ -d "$1" ] || { printf "M "; pe "$1"; printf "\\n"; return; }',
    '  printf "D "; pe "$1"; ln=',
    '  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do ldn=${e##*/}; { [ -e "$e" ] || [ -L "$e" ]; } && [ "${ldn#*"$nl"}" != "$ldn" ] && { ln=x; break; }; done',
    '  if [ -n "$ln" ]; then printf " "; ls -1A "$1" 2>/dev/null | b64; printf "\\n"; return; fi',
    '  printf " \\n"; for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do { [ -e "$e" ] || [ -L "$e" ]; } && printf "|%s\\n" "${e##*/}"; done; return 0',
    '}',
    // Include arguments of config files, in order, made absolute as OpenSSH does (relative => /etc/ssh/).
    // Quoted arguments with spaces are left to the engine, which asks again if it must. The awk's
    // stdout is the walk's (its records go out), and what the walk reads back it writes to its
    // stderr, which lands in $wo: an Include argument (it starts with "/"), "=PATH" for a file it
    // sent as text, "%g" when a file names groups (AllowGroups, DenyGroups, a Match line with
    // "group": the login's groups are read then); anything else there (an awk's own complaint) is
    // not for the walk. A file of printable ASCII (and tabs) whose path is plain goes out as text,
    // a "C PATH" record and a "|"-prefixed line for each of its lines (its F record then says
    // "=SIZE", and the engine checks the size): no base64 process for it. The first call also runs
    // the awk program in $wxa on the operands in $wxf (one a line): its lines start with "@", and
    // the walk keeps them in $wxo. The files in $ws (one a line), read ahead, come after an xs=1
    // operand: their Includes start with "+".
    'incs() {',
    '  oi=$IFS; IFS=$nl; set -f',
    '  [ -z "${ws-}" ] || set -- "$@" xs=1 $ws',
    '  if [ -n "${wxa-}" ]; then set -- "$@" $wxf; else wxa=; fi',
    '  set +f; IFS=$oi',
    `  { wo=$(awk -v xp=@ -v o=/dev/stderr '${INCS_AWK}'"$wxa" "$@" 2>&1 >&9); } 9>&1; wo=\${wo:+$wo$nl}; wxa=`,
    '}',
    // Walk the Include tree breadth first, reading each file once, one level at a time: one awk
    // finds the Includes of all the level's files, and one stat at the end takes every file's
    // mode and owner (rfs). The queue and the files seen are newline-separated lists in variables;
    // the loop over the Includes reads a file, so it runs in this shell and can add to the queue.
    // The first awk also reads the drop-ins a main file usually includes (<main>.d/*.conf, $ws):
    // when they are all of the second level, their Includes are known without a second awk.
    'walk() {',
    '  wl=$1$nl; wseen=$nl; wfs=; wsv=; wso=; ws=; wtx=$nl',
    '  for wm in "$1".d/*.conf; do [ -f "$wm" ] && [ -r "$wm" ] || continue; case $wm in *"$nl"*) ws=; break; esac; ws=$ws$wm$nl; done',
    '  while [ -n "$wl" ]; do',
    '    set --; wlv=',
    '    while [ -n "$wl" ]; do',
    '      wf=${wl%%$nl*}; wl=${wl#*$nl}',
    '      case $wseen in *"$nl$wf$nl"*) continue; esac',
    '      wseen=$wseen$wf$nl',
    '      rl "$wf"',
    '      if [ -f "$wf" ] && [ -r "$wf" ]; then set -- "$@" "$wf"; wfs=$wfs$wf$nl; wlv=$wlv$wf$nl; else um "$wf"; fi',
    '    done',
    '    [ $# -gt 0 ] || break',
    '    if [ -n "$wsv" ] && [ "$wlv" = "$wsv" ]; then wo=$wso; else incs "$@"; fi',
    '    wsv=$ws; ws=',
    '    while [ -n "$wo" ]; do',
    '      wp=${wo%%"$nl"*}; wo=${wo#*"$nl"}',
    '      case $wp in @*) wxo=$wxo${wp#@}$nl; continue ;; +/*) wso=$wso${wp#+}$nl; continue ;; =/*) wtx=$wtx${wp#=}$nl; continue ;; %g) sshfix_groups=1; continue ;; /*) ;; *) continue; esac',
    '      printf "I "; pe "$wp"; printf "\\n"',
    '      case $wp in */*/) wd=$(dirname -- "$wp") ;; */*) wd=${wp%/*}; wd=${wd:-/} ;; *) wd=.; esac',
    '      ld "$wd"',
    '      for wm in $wp; do [ -f "$wm" ] && wl=$wl$wm$nl; done',
    '    done',
    '  done',
    '  rfs',
    '}',
    // The engine's own facts, from builtins where a file or a variable has them, into $v.
    // The effective uid from the shell's own status (no process), else id.
    'euid() { if [ -r /proc/self/status ]; then while read -r k r e _; do [ "$k" = Uid: ] && { v=$e$nl; return 0; }; done </proc/self/status; fi; v=$(id -u)$nl; }',
    'hn() { if [ -r /proc/sys/kernel/hostname ]; then IFS= read -r v </proc/sys/kernel/hostname; else v=$(uname -n); fi; v=$v$nl; }',
    'osr() { v=; for f in /etc/os-release /usr/lib/os-release; do [ -r "$f" ] || continue; while IFS= read -r l || [ -n "$l" ]; do v=$v$l$nl; l=; done <"$f"; return 0; done; return 1; }',
    'initsys() {',
    '  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then v=init=systemd$nl',
    '  elif command -v rc-service >/dev/null && [ -d /run/openrc ]; then v=init=openrc$nl',
    '  else v=init=none$nl; fi',
    '}',
];

/**
 * The fact script. It needs a POSIX sh with base64, stat, awk and mktemp (coreutils or busybox),
 * and an awk that writes to /dev/stderr (each of mawk, gawk and busybox's does).
 * Commands whose output the engine parses run with LC_ALL=C.
 */
export function buildFactScript(request: FactRequest, knownBuilds: Readonly<Record<string, readonly string[]>> = {}): string {
  return [...PRELUDE, ...factScriptBody(request, knownBuilds)].join('\n') + '\n';
}

/**
 * Where the services' shared lines go: `inline` in the script (every host runs them), or
 * `deferred`: the script runs their key lines instead, and the engine sends the shared lines
 * later, to the hosts whose key the run has no records for.
 */
export type SharedPlacement = 'inline' | 'deferred';

/**
 * A service's build section: its build id (recorded as `build_<id>`), then its build facts, read
 * only when the id is none of `known` (the builds the run already read).
 */
function buildLines(id: string, build: { idLines: readonly string[]; factLines: readonly string[] }, known: readonly string[]): string[] {
  const v = `build_${id}`;
  const lines = ['v=', ...build.idLines, `${v}=$v`, `tv ${v} 0 "$${v}"`];
  if (known.length === 0) return [...lines, ...build.factLines];
  return [...lines, `case "$${v}" in ${known.map(q).join('|')}) ;; *)`, ...build.factLines, ';; esac'];
}

/** The fact script's commands after its functions, one per line (the bench times them one by one). */
export function factScriptBody(
  request: FactRequest,
  knownBuilds: Readonly<Record<string, readonly string[]>> = {},
  shared: SharedPlacement = 'inline',
): string[] {
  const lines = [
    'euid; tv id $? "$v"',
    'tv ssh_connection 0 "${SSH_CONNECTION-}$nl"',
    // Whether to read the login's groups: the tasks say so, or a file read below names groups (the
    // Include walk sets it then).
    `sshfix_groups=${request.groups === true ? 1 : ''}`,
    'hn; tv hostname 0 "$v"',
    'osr; tv os_release $? "$v"',
    // The init system, so services are reloaded the way the host expects.
    'initsys; tv init 0 "$v"',
    ...Object.entries(request.services).flatMap(([id, paths]) => {
      const service = lookupService(id);
      if (!service) return [];
      const sharedLines = service.shared ? (shared === 'inline' ? service.shared.lines : service.shared.keyLines) : [];
      return [...service.factLines(paths), ...sharedLines, ...(service.build ? buildLines(id, service.build, knownBuilds[id] ?? []) : [])];
    }),
    ...request.files.map((path) => `rf ${q(path)}`),
    ...request.dirs.map(readDirLine),
    // The login account's groups (sudo's caller when through sudo), for AllowGroups/DenyGroups and
    // Match Group: without sudo the shell's own groups are the login's (sshd set them with initgroups).
    LOGIN_GROUPS_LINE,
  ];
  return [...lines, 'exit 0'];
}

/** The shell functions every fact script starts with. */
export const FACT_SCRIPT_PRELUDE: readonly string[] = PRELUDE;

/** A follow-up script: list and read every regular file of `dirs` (Include targets the first pass missed). */
export function buildDirScript(dirs: readonly string[]): string {
  return [...PRELUDE, ...dirLines(dirs), 'exit 0'].join('\n') + '\n';
}

/** The lines that list and read every regular file of `dirs`, in a script that has the fact functions. */
export function dirLines(dirs: readonly string[]): string[] {
  return dirs.map(readDirLine);
}

export class FactOutputError extends Error {
  override name = 'FactOutputError';
}

const decode = (b64: string | undefined): Buffer => Buffer.from(b64 ?? '', 'base64');
/** A path field: as it is when it starts with "/" (the script sends plain paths so), else base64. */
const pathField = (field: string | undefined): string => (field?.startsWith('/') ? field : decode(field).toString('utf8'));

/** Parses the fact script's stdout. Throws FactOutputError on a line it cannot read (a bug or a broken host). */
export function parseFactOutput(stdout: string): RawFacts {
  const { raw, reread } = parseFactRecords(stdout);
  if (reread.length > 0) throw new FactOutputError(`a file sent as text changed while it was read: ${reread[0]}`);
  return raw;
}

/**
 * Parses the fact script's stdout, and lists the files sent as text whose text does not match
 * the size stat saw (changed while read, or text awk could not carry): read them again with `rf`.
 */
export function parseFactRecords(stdout: string): { raw: RawFacts; reread: string[] } {
  const raw: RawFacts = {
    commands: new Map(),
    files: new Map(),
    missing: new Set(),
    unreadable: new Set(),
    dirs: new Map(),
    includes: [],
    symlinks: new Map(),
  };
  /** Files whose content came as text: the lines of each C record, and the F records waiting for them. */
  const texts = new Map<string, { lines: string[]; ended: boolean }>();
  /** Files whose last F record said their content came as text, with the size stat saw. */
  const sized = new Map<string, number>();
  /** Takes the text lines after a T, D or C record. */
  let continued: ((line: string) => void) | undefined;
  for (const line of stdout.split('\n')) {
    if (continued && (line.startsWith('|') || line.startsWith('\\'))) {
      continued(line);
      continue;
    }
    continued = undefined;
    if (line === '') continue;
    const parts = line.split(' ');
    const kind = parts[0];
    const path = (): string => pathField(parts[1]);
    switch (kind) {
      case 'T': {
        const text: RecordedCommand = { exitCode: Number(parts[2]), stdout: '', stderr: decode(parts[3]).toString('utf8') };
        raw.commands.set(parts[1] ?? '', text);
        continued = (more) => (text.stdout += more.startsWith('|') ? `${more.slice(1)}\n` : more.slice(1));
        break;
      }
      case 'R':
        raw.commands.set(parts[1] ?? '', {
          exitCode: Number(parts[2]),
          stdout: decode(parts[3]).toString('utf8'),
          stderr: decode(parts[4]).toString('utf8'),
        });
        break;
      case 'F': {
        const file = path();
        const content = parts[5] ?? '';
        const asText = content.startsWith('=');
        // Its place in the order kept: the content is filled in once every record is read. A later
        // record of the same file (another main config's walk) replaces an earlier one.
        raw.files.set(file, { mode: parseInt(parts[2] ?? '644', 8), uid: Number(parts[3]), gid: Number(parts[4]), content: asText ? Buffer.alloc(0) : decode(content) });
        if (asText) sized.set(file, Number(content.slice(1)));
        else sized.delete(file);
        break;
      }
      case 'C': {
        const text = { lines: [] as string[], ended: true };
        texts.set(path(), text);
        continued = (more) => {
          text.lines.push(more.slice(1));
          text.ended = more.startsWith('|');
        };
        break;
      }
      case 'M':
        raw.missing.add(path());
        break;
      case 'U':
        raw.unreadable.add(path());
        break;
      case 'D': {
        const names = decode(parts[2])
          .toString('utf8')
          .split('\n')
          .filter((n) => n !== '');
        raw.dirs.set(path(), names);
        continued = (more) => names.push(more.slice(1));
        break;
      }
      case 'I':
        raw.includes.push(path());
        break;
      case 'L':
        raw.symlinks.set(path(), pathField(parts[2]));
        break;
      default:
        throw new FactOutputError(`unexpected line in fact output: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  const reread: string[] = [];
  // The text is the awk's, the size the stat's, read a moment later: a file rewritten in between
  // to other bytes of the same size would pass, as a file rewritten between stat and base64 did.
  for (const [path, size] of sized) {
    const file = raw.files.get(path);
    const content = textContent(texts.get(path), size);
    if (file && content) file.content = content;
    else {
      raw.files.delete(path);
      reread.push(path);
    }
  }
  // In the order `ls -1A` lists them under LC_ALL=C (byte order), however the script listed them.
  for (const names of raw.dirs.values()) (names as string[]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { raw, reread };
}

/**
 * A file's bytes from its text lines, given the size stat saw: awk cannot tell whether the last
 * line ended with a newline, the size can. Undefined when neither reading matches the size, or
 * the text holds what the script never sends as text.
 */
function textContent(text: { lines: string[]; ended: boolean } | undefined, size: number): Buffer | undefined {
  if (!text || !Number.isSafeInteger(size)) return undefined;
  const joined = text.lines.join('\n');
  // Only printable ASCII and tabs are sent so: anything else is not the file's bytes.
  if (/[^\t\x20-\x7e\n]/.test(joined)) return undefined;
  const bytes = Buffer.from(text.ended && text.lines.length > 0 ? `${joined}\n` : joined, 'latin1');
  if (bytes.length === size) return bytes;
  if (text.ended && bytes.length === size + 1) return bytes.subarray(0, size);
  return undefined;
}
