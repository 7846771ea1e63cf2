/**
 * The one shell script that gathers a host's facts in a single exec round trip, and the parser of
 * its output. Pure: building and parsing do no I/O; gather-facts.ts runs the script.
 *
 * Output protocol: one record per line, every variable part base64-encoded, so file contents and
 * command output of any bytes (newlines, NULs) come back intact and nothing in them can be
 * mistaken for framing:
 *
 *     R <name> <exit code> <stdout b64> <stderr b64>     a command's result
 *     F <path b64> <mode octal> <uid> <gid> <content b64> a regular file
 *     M <path b64>                                      a path that does not exist
 *     U <path b64>                                      a path that exists but is not a readable file
 *     D <dir b64> <names b64>                           a directory's entries, newline-separated
 *     I <pattern b64>                                   an Include pattern the script found
 *     L <path b64> <target b64>                         a symbolic link and the file it resolves to
 */
import { lookupService } from '../services/registry.js';
import type { RawFacts } from '../services/service.js';
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

/** Shell functions of the fact scripts: run (a command), rf (a file), ld (a directory), walk (an Include tree). */
const PRELUDE = [
    ...RECORD_SCRIPT_PRELUDE,
    'enc() { printf %s "$1" | b64; }',
    'rf() {',
    '  [ -L "$1" ] && printf "L %s %s\\n" "$(enc "$1")" "$(enc "$(readlink -f "$1")")"',
    '  if [ -f "$1" ] && [ -r "$1" ] && st=$(stat -L -c "%a %u %g" "$1" 2>/dev/null); then',
    '    printf "F %s %s " "$(enc "$1")" "$st"; b64 <"$1"; printf "\\n"',
    '  elif [ -e "$1" ] || [ -L "$1" ]; then printf "U %s\\n" "$(enc "$1")"',
    '  else printf "M %s\\n" "$(enc "$1")"; fi',
    '}',
    'ld() { if [ -d "$1" ]; then printf "D %s " "$(enc "$1")"; ls -1A "$1" 2>/dev/null | b64; printf "\\n"; else printf "M %s\\n" "$(enc "$1")"; fi; }',
    // Include arguments of a config file, made absolute as OpenSSH does (relative => /etc/ssh/).
    // Quoted arguments with spaces are left to the engine, which asks again if it must.
    'incs() {',
    "  awk '{",
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
    '      print w',
    '    }',
    "  }' \"$1\" 2>/dev/null",
    '}',
    // Walk the Include tree breadth first, reading each file once.
    'walk() {',
    '  printf "%s\\n" "$1" > "$t/queue"; : > "$t/seen"',
    '  while [ -s "$t/queue" ]; do',
    '    : > "$t/next"',
    '    while IFS= read -r f; do',
    '      grep -qxF -- "$f" "$t/seen" && continue',
    '      printf "%s\\n" "$f" >> "$t/seen"',
    '      rf "$f"',
    '      [ -f "$f" ] || continue',
    '      incs "$f" | while IFS= read -r p; do',
    '        printf "I %s\\n" "$(enc "$p")"',
    '        ld "$(dirname -- "$p")"',
    '        for m in $p; do [ -f "$m" ] && printf "%s\\n" "$m" >> "$t/next"; done',
    '      done',
    '    done < "$t/queue"',
    '    mv "$t/next" "$t/queue"',
    '  done',
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
 * A service's build section: its build id (recorded as `build_<id>`), then its build facts, read
 * only when the id is none of `known` (the builds the run already read).
 */
function buildLines(id: string, build: { idLines: readonly string[]; factLines: readonly string[] }, known: readonly string[]): string[] {
  const v = `build_${id}`;
  const lines = ['{', ...build.idLines, `} >"$t/${v}" 2>/dev/null`, `${v}=; read -r ${v} <"$t/${v}"`, `run ${v} printf %s "$${v}"`];
  if (known.length === 0) return [...lines, ...build.factLines];
  return [...lines, `case "$${v}" in ${known.map(q).join('|')}) ;; *)`, ...build.factLines, ';; esac'];
}

/** The fact script's commands after its functions, one per line (the bench times them one by one). */
export function factScriptBody(request: FactRequest, knownBuilds: Readonly<Record<string, readonly string[]>> = {}): string[] {
  const lines = [
    'run id id -u',
    'run ssh_connection printenv SSH_CONNECTION',
    // The login account's groups (sudo's caller when through sudo), for AllowGroups/DenyGroups.
    'run login_groups sh -c \'id -Gn "${SUDO_USER:-$(id -un)}"\'',
    'run hostname uname -n',
    'run os_release sh -c \'cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release\'',
    // The init system, so services are reloaded the way the host expects.
    'run init sh -c \'' +
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then echo init=systemd; ' +
      'elif command -v rc-service >/dev/null && [ -d /run/openrc ]; then echo init=openrc; ' +
      'else echo init=none; fi\'',
    ...Object.entries(request.services).flatMap(([id, paths]) => {
      const service = lookupService(id);
      if (!service) return [];
      return [...service.factLines(paths), ...(service.build ? buildLines(id, service.build, knownBuilds[id] ?? []) : [])];
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
  return [...PRELUDE, ...dirs.map(readDirLine), 'exit 0'].join('\n') + '\n';
}

export class FactOutputError extends Error {
  override name = 'FactOutputError';
}

const decode = (b64: string | undefined): Buffer => Buffer.from(b64 ?? '', 'base64');

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
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const parts = line.split(' ');
    const kind = parts[0];
    const path = (): string => decode(parts[1]).toString('utf8');
    switch (kind) {
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
      case 'D':
        raw.dirs.set(
          path(),
          decode(parts[2])
            .toString('utf8')
            .split('\n')
            .filter((n) => n !== ''),
        );
        break;
      case 'I':
        raw.includes.push(path());
        break;
      case 'L':
        raw.symlinks.set(path(), decode(parts[2]).toString('utf8'));
        break;
      default:
        throw new FactOutputError(`unexpected line in fact output: ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  return raw;
}
