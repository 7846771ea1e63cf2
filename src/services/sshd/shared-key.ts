/**
 * When two hosts' `sshd -T` (and a candidate check's `sshd -t` / `sshd -T -C`) must print the same
 * thing, so that a run can ask one host and reuse the answer for the others: the key of
 * everything sshd's output depends on, or undefined when an input is host-dependent in a way the
 * facts do not capture (then every host runs its own). Pure.
 *
 * What `sshd -T` reads, from OpenSSH's sshd.c and servconf.c (9.2p1 and 10.0p1, main() up to the
 * test-mode exit, and the config parser):
 * - the build: compiled defaults and paths (the config file, the privilege separation user and
 *   directory), the algorithms it knows; the build id (the binaries' identity) covers them;
 * - the config file and every file its `Include` globs match, in glob order: the key holds each
 *   file's path and bytes, and the listing of every directory an Include globs in (a match that
 *   is not a readable regular file makes sshd fail). The file is the one the build compiles in;
 *   the key holds /etc/ssh/sshd_config's tree, the path Debian, Ubuntu, RHEL and Alpine builds
 *   use and the one apply validates and verification reads;
 * - `getaddrinfo()` for each ListenAddress (and the wildcard addresses when there is none): a
 *   host name resolves per host (not cached); numeric addresses do not, but the order of the two
 *   wildcard addresses (`[::]`, `0.0.0.0`) follows RFC 3484 sorting, i.e. whether the host has
 *   an IPv6 loopback and the rules of /etc/gai.conf: both are in the host's probe;
 * - `RDomain` / `ListenAddress ... rdomain` check a routing domain exists on the host: not cached;
 * - `HostKeyAgent` connects to an agent socket: not cached;
 * - the host keys: `sshd -T` fails unless one loads. The probe records type, mode, owner and
 *   whether it is empty, for every /etc/ssh/ssh_host_* file (their contents are unique per host,
 *   so a key that is there but does not parse, or an RSA key under RequiredRSASize, is not
 *   told apart); a HostKey outside that pattern is not cached;
 * - the privilege separation directory (/run/sshd on Debian, /var/empty upstream: must exist,
 *   be root's and not group/world-writable) and user (`sshd`, through NSS): in the probe; the
 *   user counts only when /etc/passwd lists it, or when NSS reads nothing but files;
 * - the uid it runs as (root checks the privsep directory and user).
 * Whatever else sshd reads at that point (moduli, banners, authorized keys, ...) it reads only
 * when a connection comes. With `-C`, only `Match Group` looks anything up (the user's groups
 * through NSS): a candidate check with such a block is shared only between hosts where the
 * spec's user's groups, recorded by the fact script, are the same (candidate-tree.ts).
 */
import { createHash } from 'node:crypto';
import { buildSshdConfigTree, SSHD_MAIN_CONFIG, type SshdConfigTree } from '../../config/sshd/tree.js';
import { NEUTRAL_CONNECTION } from '../../config/sshd/connection-spec.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import { rawSnapshot } from '../raw-snapshot.js';
import type { RawFacts } from '../service.js';

/** The record of the groups of the user candidate checks name in their `-C` specs (see candidate-tree.ts). */
export const SSHD_CHECK_USER_GROUPS = 'sshd_check_user_groups';

/** What the host probe stats: the privilege separation directories and the host keys (a glob). */
export const SSHD_ENV_STAT_PATHS = '/run/sshd /var/run/sshd /var/empty /etc/ssh/ssh_host_*';

/** What the host probe's awk reads (those that are readable). */
export const SSHD_ENV_AWK_FILES = '/etc/passwd /etc/nsswitch.conf /proc/net/if_inet6 /etc/gai.conf';

/**
 * The host probe's awk program, without its quotes: whether /etc/passwd has the privilege
 * separation user, NSS's passwd sources, whether there is an IPv6 loopback, gai.conf's rules. Its
 * rules apply once `xa` is set and it writes each line, after `xp`, to the file `o`, so that the
 * Include walk's first awk can run it too (after the walk's own program, on the files after an
 * `xa=1` operand; that awk's stdout is the session's).
 */
export const SSHD_ENV_AWK = [
  'xa && FILENAME == "/etc/passwd" { if (index($0, "sshd:") == 1) u = 1; next }',
  '    xa && FILENAME == "/etc/nsswitch.conf" { if ($1 == "passwd:") { $1 = ""; print xp "nss" $0 > o }; next }',
  '    xa && FILENAME == "/proc/net/if_inet6" { if ($1 == "00000000000000000000000000000001") v = 1; next }',
  '    xa { sub(/^[ \\t]+/, ""); if ($0 != "" && substr($0, 1, 1) != "#") print xp "gai " $0 > o }',
  '    END { print xp "privsep-user " (u ? 1 : 0) > o; print xp "ipv6-loopback " (v ? 1 : 0) > o }',
].join('\n');

/**
 * The host probe's fact line: what sshd checks on the host besides its files, with the shell's
 * builtins. Its stat lines and its awk's come from the Include walk's stat and first awk when
 * sshd's fact lines had them take its paths and program (`sshd_envst`, `sshd_envawk`, see
 * sshdFactLines), else from a stat and an awk of its own. `sshd_env` records it.
 */
export const SSHD_ENV_LINES: readonly string[] = [
  'sshd_env() {',
  `  if [ -n "\${sshd_envst+x}" ]; then v=$sshd_envst; else v=$(stat -L -c "%n %F %a %u %g" ${SSHD_ENV_STAT_PATHS} 2>/dev/null); v=\${v:+$v$nl}; fi`,
  // Whether each key file is empty, not its size: keys are unique per host and their size varies by a byte or so.
  '  for k in /etc/ssh/ssh_host_*; do [ -s "$k" ] && v="${v}non-empty $k$nl"; done',
  `  if [ -n "\${sshd_envawk+x}" ]; then v=$v$sshd_envawk; return 0; fi`,
  `  set --; for f in ${SSHD_ENV_AWK_FILES}; do [ -r "$f" ] && set -- "$@" "$f"; done`,
  `  pa=$(awk -v xa=1 -v xp= -v o=/dev/stdout '${SSHD_ENV_AWK}' "$@" </dev/null); pr=$?; v=$v\${pa:+$pa$nl}; return $pr`,
  '}',
  'sshd_env; tv sshd_env $? "$v"',
  // The groups sshd -T -C looks up for a Match Group block (the checks' neutral user), on a host
  // whose files name groups: candidate checks are then shared between hosts where they are the same.
  `[ -z "\${sshfix_groups-}" ] || tc ${SSHD_CHECK_USER_GROUPS} id -Gn ${quoteShellArg(NEUTRAL_CONNECTION.user)}`,
];

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** An IP address as sshd's ListenAddress takes it (`addr`, `addr:port`, `[addr]:port`), numeric only. */
function isNumericListenAddress(arg: string): boolean {
  let host = arg;
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') === -1 ? undefined : host.indexOf(']'));
  else if (host.split(':').length === 2) host = host.slice(0, host.indexOf(':'));
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return true;
  return host.includes(':') && /^[0-9A-Fa-f:.]+$/.test(host);
}

const HOST_KEY_PATH = /^\/etc\/ssh\/ssh_host_[^/]*$/;

/**
 * Why this tree's `sshd -T` depends on the host beyond what the key holds, or undefined when it
 * does not. (With `-C` and a user, a Match Group block looks up the user's groups too: see
 * candidate-tree.ts.)
 */
export function hostDependence(tree: SshdConfigTree): string | undefined {
  for (const file of tree.files.values()) {
    for (const line of file.lines) {
      if (line.kind !== 'directive' || !line.keyword) continue;
      const keyword = line.keyword.toLowerCase();
      const args = (line.args ?? []).map((a) => a.value);
      if (keyword === 'hostkeyagent') return 'HostKeyAgent';
      if (keyword === 'rdomain') return 'RDomain';
      if (keyword === 'listenaddress') {
        if (args.some((a) => a.toLowerCase() === 'rdomain')) return 'ListenAddress with rdomain';
        if (args[0] !== undefined && !isNumericListenAddress(args[0])) return `ListenAddress ${args[0]} (a name)`;
      }
      if (keyword === 'hostkey' && args[0] !== undefined && !HOST_KEY_PATH.test(args[0])) return `HostKey ${args[0]}`;
    }
  }
  return undefined;
}

/** The parts of the host probe that decide whether the key can be trusted. */
function probeIsComplete(probe: string): boolean {
  const lines = probe.split('\n');
  if (lines.includes('privsep-user 1')) return true;
  // Not in /etc/passwd: whether NSS finds it elsewhere depends on the host's other sources.
  const nss = lines.find((l) => l.startsWith('nss '));
  return nss === undefined || nss.slice(4).split(/\s+/).every((source) => source === 'files' || source === 'compat' || source === '');
}

/**
 * The key of everything the live `sshd -T` of this host depends on, from its facts (the first
 * part of the fact script: files, build id, host probe); undefined when one input is
 * host-dependent or not read.
 */
export function sshdDumpKey(raw: RawFacts): string | undefined {
  const build = raw.commands.get('build_sshd')?.stdout;
  const probe = raw.commands.get('sshd_env');
  const uid = raw.commands.get('id')?.stdout.trim();
  if (!build || !probe || probe.exitCode !== 0 || !uid || !probeIsComplete(probe.stdout)) return undefined;
  const built = buildSshdConfigTree(rawSnapshot(raw), SSHD_MAIN_CONFIG);
  if (built.unresolved.length > 0 || !raw.files.has(SSHD_MAIN_CONFIG)) return undefined;
  if (hostDependence(built.tree) !== undefined) return undefined;
  const dirs = new Set<string>();
  for (const targets of built.tree.includes.values()) {
    for (const target of targets) dirs.add(target.absolute.slice(0, target.absolute.lastIndexOf('/')) || '/');
  }
  const material = {
    command: 'sshd -T',
    build,
    uid,
    probe: probe.stdout,
    files: [...built.tree.files.keys()].map((path) => [path, sha256(raw.files.get(path)?.content ?? '')]),
    dirs: [...dirs].sort().map((dir) => [dir, raw.dirs.get(dir) ?? null]),
    unreadable: [...raw.unreadable].sort(),
  };
  return sha256(JSON.stringify(material));
}
