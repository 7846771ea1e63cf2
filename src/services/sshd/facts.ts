/**
 * What sshd needs to know about a host: the commands it adds to the fact script (`sshd -T`, how
 * it is managed), those read once per OpenSSH build (version, defaults, algorithm lists, libwrap) and the reader of their output, including the reload method (never a restart). Pure.
 */
import { libwrapProbeLine, readLibwrapProbe } from '../../util/record-script.js';
import { parseSshdDump } from '../../config/sshd/defaults.js';
import { buildSshdConfigTree, SSHD_MAIN_CONFIG } from '../../config/sshd/tree.js';
import type { FileSnapshot } from '../../config/openssh/snapshot-glob.js';
import { parseOpensshRelease, parseOpensshVersion } from '../../config/openssh/version.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import type { BaseFacts, InitSystem, RawFacts, SharedFacts } from '../service.js';
import { SSHD_ENV_AWK, SSHD_ENV_AWK_FILES, SSHD_ENV_LINES, SSHD_ENV_STAT_PATHS, sshdDumpKey } from './shared-key.js';

export const DEFAULT_SSHD_CONFIG = SSHD_MAIN_CONFIG;

/** How sshd is reloaded on this host (never restarted). */
export type ReloadMethod =
  | { kind: 'systemctl'; unit: string }
  | { kind: 'rc-service'; service: string }
  | { kind: 'signal'; pidFile: string }
  | { kind: 'unknown'; reason: string };

export interface SshdCommandResult {
  ok: boolean;
  /** stdout for `sshd -T`; the error text for a failure. */
  output: string;
}

export interface SshdFacts {
  /** `sshd -T` of the live config (empty connection). */
  dump: SshdCommandResult;
  /** Whether the live config loads: `sshd -T`'s verdict (the same check and message as `sshd -t`). */
  test: SshdCommandResult;
  /** sshd binaries that link libwrap (TCP wrappers apply). */
  libwrap: string[];
  /** `sshd -T -f /dev/null`: this build's defaults, when a host key was readable. */
  defaultsDump?: string;
  /** `ssh -Q <list>` of this OpenSSH build, by sshd keyword (KexAlgorithms, Ciphers, ..., sig). */
  supported: Record<string, string[]>;
  /** `sshd -V`'s version, for hosts whose banner did not say. */
  version?: string;
  /** `sshd -V`'s release string (`OpenSSH_10.0p2`), what `Match Version` compares. */
  release?: string;
  /** Ubuntu's socket activation: Port/ListenAddress changes need a socket restart. */
  socketActivated: boolean;
  reload: ReloadMethod;
}

/** Where OpenSSH 9.8 and later keep the binary that serves each connection (Debian's, upstream's). */
const SSHD_SESSION_PATHS = '/usr/lib/openssh/sshd-session /usr/libexec/openssh/sshd-session';

/**
 * The fact script's lines for sshd; `configs` are the main config files whose Include trees to
 * read. `sshd -T` (SSHD_SHARED) alone both dumps the live config and refuses an invalid one (with
 * the same message `sshd -t` prints), so no separate `sshd -t` runs.
 */
export function sshdFactLines(configs: readonly string[]): string[] {
  return [
    // Without a subshell or a file: the fact script's own PATH search (cv).
    'sshd_bin=/usr/sbin/sshd; cv sshd && sshd_bin=$v',
    // Which units run sshd, to reload it the way the host expects.
    // A function rather than `sh -c`: one process less on every host. One systemctl for all the
    // units (it prints a state a line, in order), each line to its unit with builtins.
    'units_active() { us=$(systemctl is-active "$@" 2>/dev/null)$nl; for u; do s=${us%%"$nl"*}; us=${us#*"$nl"}; v=$v$u=$s$nl; done; }',
    'sshd_units() { v=; ' +
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then units_active ssh.service sshd.service ssh.socket; ' +
      'elif command -v rc-service >/dev/null && [ -d /run/openrc ]; then rc-service sshd status >/dev/null 2>&1 && v=sshd=active$nl; fi; }',
    'sshd_units; tv sshd_units 0 "$v"',
    'ssh_bin=/usr/bin/ssh; cv ssh && ssh_bin=$v',
    // The walk's stat also takes the host probe's paths and the build id's (two stat processes
    // less); a host key whose name holds a newline leaves them to stats of their own.
    `wx=; for p in ${SSHD_ENV_STAT_PATHS} "$sshd_bin" "$ssh_bin" ${SSHD_SESSION_PATHS}; do case $p in *"$nl"*) wx=; break; esac; wx=$wx$p$nl; done`,
    // Its first awk also runs the probe's program (one awk less); the probe runs its own when the walk read no file.
    `wxo=; wxa='\n${SSHD_ENV_AWK}'; wxf=xa=1$nl; for f in ${SSHD_ENV_AWK_FILES}; do [ -r "$f" ] && wxf=$wxf$f$nl; done`,
    ...configs.map((path) => `walk ${quoteShellArg(path)}`),
    'wxa=; case $wxo in *"privsep-user "*"$nl"ipv6-loopback*) sshd_envawk=$wxo; esac',
    // Without a config to walk, one stat for those paths alone; then split its lines between the probe and the build id.
    'wfs=; rfs',
    'sshd_sts() {',
    '  oi=$IFS; IFS=$nl; set -f',
    '  for l in $wxs; do',
    '    r=${l#* * * }; s=${r%% *}; r=${r#* }; y=${r%% *}; r=${r#* }; n=${r#*:}',
    `    case $n in "$sshd_bin"|"$ssh_bin"|${SSHD_SESSION_PATHS.split(' ').join('|')}) sshd_bst=$sshd_bst$n:$s:$y" " ;; *) sshd_envst=$sshd_envst$n" "\${r%%:*}" "\${l%" $s $y $r"}$nl; esac`,
    '  done',
    '  set +f; IFS=$oi',
    '}',
    '[ -z "${wxs+x}" ] || { sshd_envst=; sshd_bst=; sshd_sts; }',
  ];
}

/**
 * `sshd -T` of the live config: the same on every host with the same build, files and host probe
 * (shared-key.ts says why), so a plan runs it once per key.
 */
export const SSHD_SHARED: SharedFacts = { keyLines: SSHD_ENV_LINES, lines: ['run sshd_dump "$sshd_bin" -T'], key: sshdDumpKey };

/** What depends only on the OpenSSH build: the same on every host that runs it. */
export interface SshdBuildFacts {
  /** `sshd -T -f /dev/null`: the build's defaults, when a host key was readable. */
  defaultsDump?: string;
  /** `ssh -Q <list>`, by list name (KexAlgorithms, Ciphers, ..., sig). */
  supported: Record<string, string[]>;
  /** `sshd -V`'s version. */
  version?: string;
  /** `sshd -V`'s release string, before the comma. */
  release?: string;
  /** sshd binaries that link libwrap (TCP wrappers apply). */
  libwrap: string[];
}

/**
 * The build's identity, without running any of its programs: path, size and mtime of sshd, its
 * session binary and ssh (whose `-Q` lists are read), and the host key the defaults are read with
 * (`sshd -T` wants one). A package upgrade changes the binaries' mtime; the package manager gives
 * every host of a package the same size and mtime, while each host's inode is its own (with it, no
 * two hosts of a real fleet would share a build).
 */
const SSHD_BUILD_ID_LINES = [
  'hk=; for k in /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ecdsa_key /etc/ssh/ssh_host_rsa_key; do [ -r "$k" ] && { hk=$k; break; }; done',
  // From the walk's stat when sshd's fact lines had it take these paths (sshd_bst), else a stat of
  // its own, each line followed by a space (as `tr "\\n" " "` would, without a pipe). One line: the
  // bench times the script line by line.
  `if [ -n "\${sshd_bst+x}" ]; then b=$sshd_bst; else b=$(stat -L -c "%n:%s:%Y" "$sshd_bin" "$ssh_bin" ${SSHD_SESSION_PATHS} 2>/dev/null); ` +
    'b=${b:+$b$nl}; bs=; while [ -n "$b" ]; do bs="$bs${b%%"$nl"*} "; b=${b#*"$nl"}; done; b=$bs; fi',
  // One line, as `read` would have taken it: no space at its end.
  'if [ -n "$hk" ]; then v=${b}key; else v=${b% }; fi',
];

/** The build's own defaults and algorithm lists, so effective values are computed for this build. */
const SSHD_BUILD_FACT_LINES = [
  'run sshd_version "$sshd_bin" -V',
  'if [ -n "$hk" ]; then run sshd_defaults "$sshd_bin" -T -f /dev/null -h "$hk"; fi',
  'for a in KexAlgorithms Ciphers MACs HostKeyAlgorithms PubkeyAcceptedAlgorithms sig; do run "ssh_q_$a" ssh -Q "$a"; done',
  // Whether TCP wrappers apply is a property of the binaries (linked with libwrap or not).
  libwrapProbeLine('libwrap', 'sshd_bin'),
];

/** The build facts this host's output holds: undefined when the fact script did not read them (the build was cached). */
export function readSshdBuildFacts(raw: RawFacts): SshdBuildFacts | undefined {
  const versionRun = raw.commands.get('sshd_version');
  if (!versionRun) return undefined;
  const version = parseOpensshVersion(versionRun.stderr);
  const release = parseOpensshRelease(versionRun.stderr);
  const defaults = raw.commands.get('sshd_defaults');
  return {
    ...(defaults?.exitCode === 0 ? { defaultsDump: defaults.stdout } : {}),
    supported: Object.fromEntries(
      [...raw.commands]
        .filter(([name, c]) => name.startsWith('ssh_q_') && c.exitCode === 0)
        .map(([name, c]) => [name.slice('ssh_q_'.length), c.stdout.split('\n').filter(Boolean)]),
    ),
    ...(version ? { version } : {}),
    ...(release ? { release } : {}),
    libwrap: readLibwrapProbe(raw.commands.get('libwrap')?.stdout).binaries,
  };
}

export const SSHD_BUILD = { idLines: SSHD_BUILD_ID_LINES, factLines: SSHD_BUILD_FACT_LINES, read: readSshdBuildFacts };

function chooseReload(init: InitSystem, units: Map<string, string>, dump: Map<string, string[]>): ReloadMethod {
  if (init === 'systemd') {
    for (const unit of ['ssh.service', 'sshd.service']) {
      if (units.get(unit) === 'active') return { kind: 'systemctl', unit: unit.replace(/\.service$/, '') };
    }
  }
  if (init === 'openrc' && units.get('sshd') === 'active') return { kind: 'rc-service', service: 'sshd' };
  const pidFile = dump.get('pidfile')?.[0];
  if (pidFile && pidFile !== 'none') return { kind: 'signal', pidFile };
  return { kind: 'unknown', reason: 'no active ssh service and no PidFile to signal' };
}

export function readSshdFacts(raw: RawFacts, base: BaseFacts, buildFacts?: SshdBuildFacts): SshdFacts {
  const text = (name: string): string => raw.commands.get(name)?.stdout ?? '';
  const result = (name: string): SshdCommandResult => {
    const command = raw.commands.get(name);
    if (!command) return { ok: false, output: 'not run' };
    return command.exitCode === 0
      ? { ok: true, output: command.stdout }
      : { ok: false, output: (command.stderr || command.stdout).replace(/\r/g, '').trim() || `exit code ${command.exitCode}` };
  };
  const units = new Map(
    text('sshd_units')
      .split('\n')
      .map((l) => l.split('=') as [string, string])
      .filter((p) => p.length === 2),
  );
  const dump = result('sshd_dump');
  // Output recorded before `sshd -t` was dropped still carries it; else `sshd -T`'s verdict is the test.
  const test = raw.commands.has('sshd_test') ? result('sshd_test') : dump.ok ? { ok: true, output: '' } : dump;
  const build = buildFacts ?? readSshdBuildFacts(raw) ?? { supported: {}, libwrap: readLibwrapProbe(raw.commands.get('libwrap')?.stdout).binaries };
  return {
    dump,
    test,
    libwrap: build.libwrap,
    ...(build.defaultsDump !== undefined ? { defaultsDump: build.defaultsDump } : {}),
    supported: build.supported,
    ...(build.version ? { version: build.version } : {}),
    ...(build.release ? { release: build.release } : {}),
    socketActivated: units.get('ssh.socket') === 'active',
    reload: chooseReload(base.init, units, dump.ok ? parseSshdDump(dump.output) : new Map()),
  };
}

/** Directories that Include patterns of `configs` point into and the facts did not list. */
export function unlistedIncludeDirs(snapshot: FileSnapshot, configs: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const config of configs) {
    for (const pattern of buildSshdConfigTree(snapshot, config).unresolved) dirs.add(pattern.slice(0, pattern.lastIndexOf('/')) || '/');
  }
  return [...dirs];
}
