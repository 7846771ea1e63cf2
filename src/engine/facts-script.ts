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
}

const q = quoteShellArg;

const readDirLine = (dir: string): string => `ld ${q(dir)}; for m in ${q(dir)}/* ${q(dir)}/.[!.]*; do [ -f "$m" ] && rf "$m"; done`;

/**
 * Shell functions of the fact scripts: run (a command), rf (a file), ld (a directory), walk (an
 * Include tree). Each process they start costs the host about a millisecond of CPU, on every host
 * of every run, so they use the shell's builtins where they can: a path of plain characters goes
 * out as it is (pe), a directory's name is cut from the path, the Include queue is a variable.
 */
const PRELUDE = [
    ...RECORD_SCRIPT_PRELUDE,
    'enc() { printf %s "$1" | b64; }',
    // A command whose output is a few lines of text, as text lines: no base64 process for it.
    'rt() {',
    '  n=$1; shift; "$@" >"$t/o" 2>"$t/e" </dev/null; rc=$?; printf "T %s %s " "$n" "$rc"; [ -s "$t/e" ] && b64 <"$t/e"; printf "\\n"',
    '  l=; while IFS= read -r l; do printf "|%s\\n" "$l"; l=; done <"$t/o"; [ -n "$l" ] && printf "\\\\%s\\n" "$l"; return 0',
    '}',
    // An absolute path of plain characters as it is (a base64 field never starts with "/"), else base64.
    'pe() { case $1 in /*) case $1 in *[!A-Za-z0-9/._+,:@%=*?~-]*) ;; *) printf %s "$1"; return; esac; esac; enc "$1"; }',
    // A symbolic link's record: readlink into a file and read back (no subshell for it).
    'rl() {',
    '  [ -L "$1" ] || return 0',
    '  readlink -f "$1" >"$t/rl" 2>/dev/null; rlt=; rln=; while IFS= read -r l || [ -n "$l" ]; do rlt=$rlt$rln$l; rln=$nl; l=; done <"$t/rl"',
    '  printf "L "; pe "$1"; printf " "; pe "$rlt"; printf "\\n"',
    '}',
    // stat into a file and read back with a builtin: no subshell.
    'rf() {',
    '  rl "$1"',
    '  if [ -f "$1" ] && [ -r "$1" ] && stat -L -c "%a %u %g" "$1" >"$t/st" 2>/dev/null && IFS= read -r st <"$t/st"; then',
    '    printf "F "; pe "$1"; printf " %s " "$st"; [ -s "$1" ] && b64 <"$1"; printf "\\n"',
    '  elif [ -e "$1" ] || [ -L "$1" ]; then printf "U "; pe "$1"; printf "\\n"',
    '  else printf "M "; pe "$1"; printf "\\n"; fi',
    '}',
    // Regular readable files, one a line in $wfs, read with one stat for all: an F record each
    // (U when stat cannot read it after all). stat prints "mode uid gid size mtime type:name",
    // skipping a path it cannot read, so each line is matched to its file by the name. The same
    // stat takes the paths in $wx (one a line), whose lines it leaves in $wxs for their readers.
    'rfs() {',
    '  [ -n "$wfs${wx-}" ] || return 0',
    '  oi=$IFS; IFS=$nl; set -f; set -- $wfs; wfn=$#; set -- "$@" ${wx-}; set +f; IFS=$oi',
    '  stat -L -c "%a %u %g %s %Y %F:%n" "$@" >"$t/st" 2>/dev/null',
    '  {',
    '    sl=; IFS= read -r sl',
    '    while [ "$wfn" -gt 0 ]; do',
    '      f=$1; shift; wfn=$((wfn - 1))',
    '      if [ "${sl#*:}" = "$f" ]; then',
    '        r=${sl#* * * }; printf "F "; pe "$f"; printf " %s " "${sl%" $r"}"; [ -s "$f" ] && b64 <"$f"; printf "\\n"; sl=; IFS= read -r sl',
    '      else printf "U "; pe "$f"; printf "\\n"; fi',
    '    done',
    '    if [ -n "${wx-}" ]; then wxs=; while [ -n "$sl" ]; do wxs=$wxs$sl$nl; sl=; IFS= read -r sl; done; wx=; fi',
    '  } <"$t/st"',
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
    // Quoted arguments with spaces are left to the engine, which asks again if it must. The first
    // call also runs the awk program in $wxa on the operands in $wxf (one a line): its lines start
    // with "@" (an Include argument starts with "/"), and the walk keeps them in $wxo. The files in
    // $ws (one a line), read ahead, come after an xs=1 operand: their Includes start with "+".
    'incs() {',
    '  oi=$IFS; IFS=$nl; set -f',
    '  [ -z "${ws-}" ] || set -- "$@" xs=1 $ws',
    '  if [ -n "${wxa-}" ]; then set -- "$@" $wxf; else wxa=; fi',
    '  set +f; IFS=$oi',
    "  awk -v xp=@ '!xa {",
    '    sub(/^[ \\t]+/, "");',
    '    if (tolower(substr($0, 1, 7)) != "include") next;',
    '    rest = substr($0, 8);',
    '    if (rest != "" && rest !~ /^[ \\t=]/) next;',
    '    sub(/^[ \\t]*=?[ \\t]*/, "", rest);',
    '    n = split(rest, a, /[ \\t]+/);',
    '    for (i = 1; i <= n; i++) {',
    '      w = a[i]; if (w == "") continue; if (substr(w, 1, 1) == "#") break;',
    '      gsub(/^["\\047]|["\\047]$/, "", w);',
    '      if (substr(w, 1, 1) != "/") w = "/etc/ssh/" w;',
    '      print (xs ? "+" : "") w',
    '    }',
    "  }'\"$wxa\" \"$@\" 2>/dev/null; wxa=",
    '}',
    // Walk the Include tree breadth first, reading each file once, one level at a time: one awk
    // finds the Includes of all the level's files, and one stat at the end takes every file's
    // mode and owner (rfs). The queue and the files seen are newline-separated lists in variables;
    // the loop over the Includes reads a file, so it runs in this shell and can add to the queue.
    // The first awk also reads the drop-ins a main file usually includes (<main>.d/*.conf, $ws):
    // when they are all of the second level, their Includes are known without a second awk.
    "nl='",
    "'",
    'walk() {',
    '  wl=$1$nl; wseen=$nl; wfs=; wsv=; wso=; ws=',
    '  for wm in "$1".d/*.conf; do [ -f "$wm" ] && [ -r "$wm" ] || continue; case $wm in *"$nl"*) ws=; break; esac; ws=$ws$wm$nl; done',
    '  while [ -n "$wl" ]; do',
    '    set --; wlv=',
    '    while [ -n "$wl" ]; do',
    '      wf=${wl%%$nl*}; wl=${wl#*$nl}',
    '      case $wseen in *"$nl$wf$nl"*) continue; esac',
    '      wseen=$wseen$wf$nl',
    '      rl "$wf"',
    '      if [ -f "$wf" ] && [ -r "$wf" ]; then set -- "$@" "$wf"; wfs=$wfs$wf$nl; wlv=$wlv$wf$nl',
    '      elif [ -e "$wf" ] || [ -L "$wf" ]; then printf "U "; pe "$wf"; printf "\\n"',
    '      else printf "M "; pe "$wf"; printf "\\n"; fi',
    '    done',
    '    [ $# -gt 0 ] || break',
    '    if [ -n "$wsv" ] && [ "$wlv" = "$wsv" ]; then printf %s "$wso" >"$t/incs"; else incs "$@" >"$t/incs"; fi',
    '    wsv=$ws; ws=',
    '    while IFS= read -r wp; do',
    '      case $wp in @*) wxo=$wxo${wp#@}$nl; continue ;; +*) wso=$wso${wp#+}$nl; continue; esac',
    '      printf "I "; pe "$wp"; printf "\\n"',
    '      case $wp in */*/) wd=$(dirname -- "$wp") ;; */*) wd=${wp%/*}; wd=${wd:-/} ;; *) wd=.; esac',
    '      ld "$wd"',
    '      for wm in $wp; do [ -f "$wm" ] && wl=$wl$wm$nl; done',
    '    done <"$t/incs"',
    '  done',
    '  rfs',
    '}',
    // The engine's own facts, from builtins where a file or a variable has them.
    // The effective uid from the shell's own status (no process), else id.
    'euid() { if [ -r /proc/self/status ]; then while read -r k r e _; do [ "$k" = Uid: ] && { echo "$e"; return 0; }; done </proc/self/status; fi; id -u; }',
    'lgroups() { if [ -n "${SUDO_USER-}" ]; then id -Gn "$SUDO_USER"; else id -Gn; fi; }',
    'hn() { if [ -r /proc/sys/kernel/hostname ]; then IFS= read -r h </proc/sys/kernel/hostname; printf "%s\\n" "$h"; else uname -n; fi; }',
    'osr() { for f in /etc/os-release /usr/lib/os-release; do [ -r "$f" ] || continue; while IFS= read -r l || [ -n "$l" ]; do printf "%s\\n" "$l"; done <"$f"; return 0; done; return 1; }',
    'initsys() {',
    '  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then echo init=systemd',
    '  elif command -v rc-service >/dev/null && [ -d /run/openrc ]; then echo init=openrc',
    '  else echo init=none; fi',
    '}',
];

/**
 * The fact script. It needs a POSIX sh with base64, stat, awk and mktemp (coreutils or busybox).
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
  const lines = ['{', ...build.idLines, `} >"$t/${v}" 2>/dev/null`, `${v}=; read -r ${v} <"$t/${v}"`, `rt ${v} printf %s "$${v}"`];
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
    'rt id euid',
    'rt ssh_connection printf "%s\\n" "${SSH_CONNECTION-}"',
    // The login account's groups (sudo's caller when through sudo), for AllowGroups/DenyGroups:
    // without sudo the shell's own groups are the login's (sshd set them with initgroups).
    'rt login_groups lgroups',
    'rt hostname hn',
    'rt os_release osr',
    // The init system, so services are reloaded the way the host expects.
    'rt init initsys',
    ...Object.entries(request.services).flatMap(([id, paths]) => {
      const service = lookupService(id);
      if (!service) return [];
      const sharedLines = service.shared ? (shared === 'inline' ? service.shared.lines : service.shared.keyLines) : [];
      return [...service.factLines(paths), ...sharedLines, ...(service.build ? buildLines(id, service.build, knownBuilds[id] ?? []) : [])];
    }),
    ...request.files.map((path) => `rf ${q(path)}`),
    ...request.dirs.map(readDirLine),
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
  const raw: RawFacts = {
    commands: new Map(),
    files: new Map(),
    missing: new Set(),
    unreadable: new Set(),
    dirs: new Map(),
    includes: [],
    symlinks: new Map(),
  };
  /** Takes the text lines after a T or D record. */
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
      case 'F':
        raw.files.set(path(), {
          mode: parseInt(parts[2] ?? '644', 8),
          uid: Number(parts[3]),
          gid: Number(parts[4]),
          content: decode(parts[5]),
        });
        break;
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
  // In the order `ls -1A` lists them under LC_ALL=C (byte order), however the script listed them.
  for (const names of raw.dirs.values()) (names as string[]).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return raw;
}
