/**
 * What sshd needs to know about a host: the commands it adds to the fact script (version, `sshd
 * -T`, `sshd -t`, the build's defaults and algorithm lists, libwrap, how it is managed) and the
 * reader of their output, including the reload method (never a restart). Pure.
 */
import { parseSshdDump } from '../../config/sshd/defaults.js';
import { buildSshdConfigTree, SSHD_MAIN_CONFIG } from '../../config/sshd/tree.js';
import type { FileSnapshot } from '../../config/openssh/snapshot-glob.js';
import { parseOpensshVersion } from '../../config/openssh/version.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import type { BaseFacts, InitSystem, RawFacts } from '../service.js';

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
  /** `sshd -t` of the live config. */
  test: SshdCommandResult;
  /** sshd binaries that link libwrap (TCP wrappers apply). */
  libwrap: string[];
  /** `sshd -T -f /dev/null`: this build's defaults, when a host key was readable. */
  defaultsDump?: string;
  /** `ssh -Q <list>` of this OpenSSH build, by sshd keyword (KexAlgorithms, Ciphers, ..., sig). */
  supported: Record<string, string[]>;
  /** `sshd -V`'s version, for hosts whose banner did not say. */
  version?: string;
  /** Ubuntu's socket activation: Port/ListenAddress changes need a socket restart. */
  socketActivated: boolean;
  reload: ReloadMethod;
}

/** The fact script's lines for sshd; `configs` are the main config files whose Include trees to read. */
export function sshdFactLines(configs: readonly string[]): string[] {
  return [
    'sshd_bin=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
    'run sshd_version "$sshd_bin" -V',
    'run sshd_dump "$sshd_bin" -T',
    'run sshd_test "$sshd_bin" -t',
    // Which units run sshd, to reload it the way the host expects.
    'run sshd_units sh -c \'' +
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then ' +
      'for u in ssh.service sshd.service ssh.socket; do echo "$u=$(systemctl is-active "$u" 2>/dev/null)"; done; ' +
      'elif command -v rc-service >/dev/null && [ -d /run/openrc ]; then rc-service sshd status >/dev/null 2>&1 && echo sshd=active; fi\'',
    // The build's own defaults and algorithm lists, so effective values are computed for this host.
    'hk=; for k in /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ecdsa_key /etc/ssh/ssh_host_rsa_key; do [ -r "$k" ] && { hk=$k; break; }; done',
    'if [ -n "$hk" ]; then run sshd_defaults "$sshd_bin" -T -f /dev/null -h "$hk"; fi',
    'for a in KexAlgorithms Ciphers MACs HostKeyAlgorithms PubkeyAcceptedAlgorithms sig; do run "ssh_q_$a" ssh -Q "$a"; done',
    'run libwrap sh -c \'for b in "$0" /usr/lib/openssh/sshd-session /usr/libexec/openssh/sshd-session; do [ -x "$b" ] && ldd "$b" 2>/dev/null | grep -q libwrap && echo "$b"; done; true\' "$sshd_bin"',
    ...configs.map((path) => `walk ${quoteShellArg(path)}`),
  ];
}

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

export function readSshdFacts(raw: RawFacts, base: BaseFacts): SshdFacts {
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
  const version = parseOpensshVersion(raw.commands.get('sshd_version')?.stderr ?? '');
  return {
    dump,
    test: result('sshd_test'),
    libwrap: text('libwrap').split('\n').filter(Boolean),
    ...(raw.commands.get('sshd_defaults')?.exitCode === 0 ? { defaultsDump: text('sshd_defaults') } : {}),
    supported: Object.fromEntries(
      [...raw.commands]
        .filter(([name, c]) => name.startsWith('ssh_q_') && c.exitCode === 0)
        .map(([name, c]) => [name.slice('ssh_q_'.length), c.stdout.split('\n').filter(Boolean)]),
    ),
    ...(version ? { version } : {}),
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
