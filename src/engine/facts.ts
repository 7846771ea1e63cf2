/**
 * A host's facts: what the fact script recorded, interpreted. Pure; the planners read these and
 * nothing else.
 */
import { createHash } from 'node:crypto';
import type { RawFacts, RecordedFile } from './facts-script.js';

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

export interface HostFacts {
  name: string;
  address: string;
  /** The address the host sees the runner connect from (SSH_CONNECTION), when known. */
  runnerAddress?: string;
  /** The login account's groups on the host (`id -Gn`), when the fact script could read them. */
  loginGroups?: string[];
  /** Effective uid of the fact script (0 when root or through sudo). */
  uid: number;
  hostname: string;
  os: { id?: string; versionId?: string; prettyName?: string };
  /** OpenSSH version like "9.2p1" (from the server banner when given, else `sshd -V`). */
  opensshVersion?: string;
  sshd: {
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
  };
  init: 'systemd' | 'openrc' | 'none';
  /** Ubuntu's socket activation: Port/ListenAddress changes need a socket restart. */
  socketActivated: boolean;
  reload: ReloadMethod;
  files: ReadonlyMap<string, RecordedFile>;
  missing: ReadonlySet<string>;
  unreadable: ReadonlySet<string>;
  dirs: ReadonlyMap<string, readonly string[]>;
  /** Symbolic links among the files read, and the file each resolves to. */
  symlinks: ReadonlyMap<string, string>;
}

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

function parseOsRelease(text: string): HostFacts['os'] {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1], match[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const os: HostFacts['os'] = {};
  const id = values.get('ID');
  const versionId = values.get('VERSION_ID');
  const prettyName = values.get('PRETTY_NAME');
  if (id) os.id = id;
  if (versionId) os.versionId = versionId;
  if (prettyName) os.prettyName = prettyName;
  return os;
}

/** "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10" or "OpenSSH_9.2, OpenSSL ..." -> "9.2p1" / "9.2". */
export function parseOpensshVersion(text: string): string | undefined {
  return /OpenSSH_([0-9]+\.[0-9]+(?:p[0-9]+)?)/.exec(text)?.[1];
}

/** The keyword lines of `sshd -T` output, keyword -> values (in order; repeated keywords accumulate). */
export function parseSshdDump(text: string): Map<string, string[]> {
  const dump = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed === '') continue;
    const space = trimmed.indexOf(' ');
    const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : trimmed.slice(space + 1);
    const values = dump.get(keyword) ?? [];
    values.push(value);
    dump.set(keyword, values);
  }
  return dump;
}

function chooseReload(init: HostFacts['init'], services: Map<string, string>, dump: Map<string, string[]>): ReloadMethod {
  if (init === 'systemd') {
    for (const unit of ['ssh.service', 'sshd.service']) {
      if (services.get(unit) === 'active') return { kind: 'systemctl', unit: unit.replace(/\.service$/, '') };
    }
  }
  if (init === 'openrc' && services.get('sshd') === 'active') return { kind: 'rc-service', service: 'sshd' };
  const pidFile = dump.get('pidfile')?.[0];
  if (pidFile && pidFile !== 'none') return { kind: 'signal', pidFile };
  return { kind: 'unknown', reason: 'no active ssh service and no PidFile to signal' };
}

export interface InterpretOptions {
  name: string;
  address: string;
  /** The banner the server sent, which carries the full version. */
  serverBanner?: string;
}

/** Turns the fact script's raw records into HostFacts. */
export function interpretFacts(raw: RawFacts, options: InterpretOptions): HostFacts {
  const text = (name: string): string => raw.commands.get(name)?.stdout ?? '';
  const result = (name: string): SshdCommandResult => {
    const command = raw.commands.get(name);
    if (!command) return { ok: false, output: 'not run' };
    return command.exitCode === 0
      ? { ok: true, output: command.stdout }
      : { ok: false, output: (command.stderr || command.stdout).replace(/\r/g, '').trim() || `exit code ${command.exitCode}` };
  };
  const initLines = new Map(
    text('init')
      .split('\n')
      .map((l) => l.split('=') as [string, string])
      .filter((p) => p.length === 2),
  );
  const init = (initLines.get('init') as HostFacts['init'] | undefined) ?? 'none';
  const dump = result('sshd_dump');
  const dumpMap = dump.ok ? parseSshdDump(dump.output) : new Map<string, string[]>();
  // SSH_CONNECTION: "client-ip client-port server-ip server-port", as the login saw it.
  const runnerAddress = text('ssh_connection').trim().split(/\s+/)[0] || undefined;
  const version =
    (options.serverBanner && parseOpensshVersion(options.serverBanner)) ??
    parseOpensshVersion(raw.commands.get('sshd_version')?.stderr ?? '');
  return {
    name: options.name,
    address: options.address,
    ...(runnerAddress ? { runnerAddress } : {}),
    ...(raw.commands.get('login_groups')?.exitCode === 0 ? { loginGroups: text('login_groups').split(/\s+/).filter(Boolean) } : {}),
    uid: Number(text('id').trim()),
    hostname: text('hostname').trim(),
    os: parseOsRelease(text('os_release')),
    ...(version ? { opensshVersion: version } : {}),
    sshd: {
      dump,
      test: result('sshd_test'),
      libwrap: text('libwrap').split('\n').filter(Boolean),
      ...(raw.commands.get('sshd_defaults')?.exitCode === 0 ? { defaultsDump: text('sshd_defaults') } : {}),
      supported: Object.fromEntries(
        [...raw.commands]
          .filter(([name, c]) => name.startsWith('ssh_q_') && c.exitCode === 0)
          .map(([name, c]) => [name.slice('ssh_q_'.length), c.stdout.split('\n').filter(Boolean)]),
      ),
    },
    init,
    socketActivated: initLines.get('ssh.socket') === 'active',
    reload: chooseReload(init, initLines, dumpMap),
    files: raw.files,
    missing: raw.missing,
    unreadable: raw.unreadable,
    dirs: raw.dirs,
    symlinks: raw.symlinks,
  };
}

/** sha256 of every file the facts read (null for a path that did not exist), for saved plans. */
export function fileDigests(facts: HostFacts): Record<string, string | null> {
  const digests: Record<string, string | null> = {};
  for (const [path, file] of [...facts.files].sort(([a], [b]) => a.localeCompare(b))) digests[path] = sha256Hex(file.content);
  for (const path of [...facts.missing].sort()) digests[path] = null;
  return digests;
}
