/**
 * The lab: a fleet of real OpenSSH sshd daemons on one Linux machine. Each host is a mount + UTS
 * namespace with copy-on-write /etc, /var/log, /var/lib, /root and /home (overlayfs), private tmpfs
 * /run and /tmp, its own hostname and its own loopback address on port 22.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteShellArg } from '../util/shell-quote.js';
import {
  DEFAULT_FIRST_ADDRESS,
  LAB_ACCOUNTS,
  layoutLab,
  renderLabInventory,
  renderLabKnownHosts,
  isOpensshBuildName,
  splitScenarioEntry,
  type LabHostSpec,
} from './layout.js';
import {
  identify,
  isSameProcess,
  listensOn,
  mountNamespaceOf,
  processesInNamespace,
  processesWithMount,
  startDetached,
  stopProcesses,
  type ProcessIdentity,
} from './processes.js';
import { LAB_RELAY_SOCKET } from './net-relay.js';
import { blocksCovering, FIREWALL_BACKENDS, FIREWALL_LISTING, parseFirewallBlocks, sshguardBackendOf, type FirewallBackend } from '../config/sshguard/firewall.js';
import { blacklistedAddresses, blacklistPath, readSshguardConf } from '../config/sshguard/lists.js';
import { SSHGUARD_CONF } from '../services/sshguard/facts.js';
import { findLabScenario, type LabDaemon, type LabScenario, type SeedFile } from './scenarios.js';
import { ensureSyslogReceiver, stopSyslogReceiver, syslogPaths, SyslogError, type SyslogHost } from './syslog-receiver.js';

export const DEFAULT_LAB_DIR = '/var/tmp/sshfix-lab';
export const LAB_BECOME_PASSWORD_ENV = 'SSHFIX_LAB_BECOME_PASSWORD';

/** Directories each host gets a private copy-on-write view of. */
const OVERLAID = ['/etc', '/var/log', '/var/lib', '/var/backups', '/root', '/home'] as const;
/**
 * Overlaid directories that start from the lab's own skeleton rather than the machine's: homes
 * (the machine's dotfiles are not a host's), and /var/backups, where sshfix keeps its transactions:
 * whatever an earlier use of sshfix left on the machine must not appear on every lab host.
 */
const FRESH_FROM_SKELETON: ReadonlySet<string> = new Set(['/root', '/home', '/var/backups']);
/** Where `scripts/build-openssh.sh` installs its builds, one directory per version. */
export const DEFAULT_OPENSSH_PREFIX = '/opt/sshfix-openssh';

export function opensshBuildDir(build: string): string {
  return join(process.env['SSHFIX_OPENSSH_PREFIX'] || DEFAULT_OPENSSH_PREFIX, build);
}

/** The helper programs' directory of Debian's openssh, which a host on a build sees with the build's helpers in it. */
const OPENSSH_LIBEXEC = '/usr/lib/openssh';
/** Client programs of a build bound over the machine's, so `ssh -Q` on the host answers for the build. */
const BUILD_CLIENT_PROGRAMS = ['ssh', 'ssh-keygen', 'ssh-keyscan', 'ssh-add', 'ssh-agent', 'scp', 'sftp'] as const;

/** The version an sshd binary reports (`OpenSSH_10.0p2, OpenSSL ...` → 10.0p2). */
export function opensshVersionOf(sshd: string): string | undefined {
  const result = spawnSync(sshd, ['-V'], { encoding: 'utf8' });
  return /OpenSSH_(\d+\.\d+(?:p\d+)?)/.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`)?.[1];
}

/** Checks that a build is installed and answers, with the command that builds it otherwise. */
function checkOpensshBuild(build: string): string {
  const dir = opensshBuildDir(build);
  const sshd = join(dir, 'sbin', 'sshd');
  const version = existsSync(sshd) ? opensshVersionOf(sshd) : undefined;
  if (!version) {
    throw new LabError(
      `OpenSSH ${build} is not built in ${dir}: build it with \`bash scripts/build-openssh.sh ${build}\` (about 4 minutes), ` +
        'or set SSHFIX_OPENSSH_PREFIX to where your builds are.',
    );
  }
  return version;
}

/** The relay process of a host with a network of its own (see net-relay.ts). */
const RELAY_MAIN = fileURLToPath(new URL('./net-relay-main.js', import.meta.url));

/** Directories each host gets an empty private tmpfs for. */
const PRIVATE_TMPFS = [
  { path: '/run', mode: '0755' },
  { path: '/tmp', mode: '1777' },
] as const;

/** A problem the user can fix; the CLI prints the message without a stack trace. */
export class LabError extends Error {
  override name = 'LabError';
}

export interface LabHostState {
  name: string;
  address: string;
  scenario: string;
  /** The OpenSSH build the host runs (e.g. "10.0p1"); absent: the machine's own sshd. */
  openssh?: string;
  /** What its sshd says it is (`sshd -V`), e.g. "9.2p1" or "10.0p2". */
  opensshVersion?: string;
  /** sshd, started with -D so it stays the namespace's first process. */
  sshd: ProcessIdentity;
  /** /proc/PID/ns/mnt of that process, e.g. "mnt:[4026532177]". */
  mountNamespace: string;
}

interface LabStateFile {
  format: 1;
  hosts: LabHostState[];
  /** The rsyslogd behind every host's /dev/log (see syslog-receiver.ts). */
  syslog?: ProcessIdentity;
}

export interface LabPaths {
  dir: string;
  state: string;
  inventory: string;
  identityFile: string;
  knownHosts: string;
  secrets: string;
  hostsDir: string;
  /** Lower layers of /root and /home (see ensureSkeleton). */
  skeleton: string;
}

export function labPaths(dir: string): LabPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    state: join(abs, 'lab.json'),
    inventory: join(abs, 'inventory.yaml'),
    identityFile: join(abs, 'id_ed25519'),
    knownHosts: join(abs, 'known_hosts'),
    secrets: join(abs, 'secrets.env'),
    hostsDir: join(abs, 'hosts'),
    skeleton: join(abs, 'skeleton'),
  };
}

const hostDir = (paths: LabPaths, name: string): string => join(paths.hostsDir, name);
/** What the host mounts as /dev: device bind mounts and the /dev/log socket of the lab's syslog. */
const hostDev = (paths: LabPaths, name: string): string => join(hostDir(paths, name), 'dev');
const syslogHost = (paths: LabPaths, name: string): SyslogHost => ({
  name,
  socket: join(hostDev(paths, name), 'log'),
  authLog: join(hostDir(paths, name), layerName('/var/log'), 'upper', 'auth.log'),
});
/** Devices a host's /dev holds, bound from the machine's. */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;
/**
 * Symbolic links of a host's /dev. ptmx points into the bound devpts: a bound /dev/ptmx node would
 * look for its pts beside the machine's node, outside the host's mounts, and openpty would fail.
 */
const DEV_LINKS = [
  ['ptmx', 'pts/ptmx'],
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
] as const;
/** A path only this host's mount table shows: identifies its processes. */
const hostMarker = (paths: LabPaths, name: string): string => join(hostDir(paths, name), 'etc', 'upper');

function findProgram(name: string, candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', `command -v ${quoteShellArg(name)}`], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found ? found : undefined;
}

export interface LabTools {
  sshd: string;
  unshare: string;
  rsyslogd: string;
  /** Found only when a requested scenario runs fail2ban. */
  fail2banServer?: string;
  /** Found only when a requested scenario runs sshguard. */
  sshguard?: string;
  /** Found only when a requested scenario has a network of its own (`ip` brings its loopback up, `nsenter` looks inside). */
  ip?: string;
  nsenter?: string;
}

/** Checks that this machine can run a lab, with the fix in each message. */
export function checkLabPrerequisites(dir: string): LabTools {
  if (process.platform !== 'linux') {
    throw new LabError(
      `the lab needs Linux (mount and UTS namespaces, overlayfs); this is ${process.platform}. Run it in a Linux VM or container with root.`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new LabError('the lab needs root (it mounts overlays and binds port 22 on loopback): run it with sudo.');
  }
  // SSHFIX_LAB_SSHD runs the lab on another OpenSSH build (e.g. to try a newer version's rules).
  const wanted = process.env['SSHFIX_LAB_SSHD'];
  const sshd = wanted ? (existsSync(wanted) ? wanted : undefined) : findProgram('sshd', ['/usr/sbin/sshd']);
  if (!sshd) {
    throw new LabError(
      `no sshd binary ${wanted ? `at ${wanted} (from SSHFIX_LAB_SSHD)` : 'found'}. Install OpenSSH server (the lab starts its own daemons): ` +
        'apt-get install -y openssh-server (Debian/Ubuntu), dnf install -y openssh-server (RHEL/Fedora).',
    );
  }
  const unshare = findProgram('unshare', ['/usr/bin/unshare']);
  if (!unshare) throw new LabError('no unshare binary found: apt-get install -y util-linux');
  // Hosts log through syslog(3) as production hosts do; the lab runs its own rsyslogd for them.
  const rsyslogd = findProgram('rsyslogd', ['/usr/sbin/rsyslogd']);
  if (!rsyslogd) throw new LabError('no rsyslogd found (lab hosts log through it): apt-get install -y --no-install-recommends rsyslog');
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) {
    const loaded = spawnSync('modprobe', ['overlay']).status === 0;
    if (!loaded) throw new LabError('the kernel has no overlayfs: load it with `modprobe overlay`.');
  }
  const abs = resolve(dir);
  for (const hidden of [...OVERLAID, ...PRIVATE_TMPFS.map((t) => t.path)]) {
    if (abs === hidden || abs.startsWith(`${hidden}/`)) {
      throw new LabError(
        `the lab directory ${abs} is inside ${hidden}, which every lab host mounts over; choose another with --dir (default ${DEFAULT_LAB_DIR}).`,
      );
    }
  }
  if (/[,:\\\s]/.test(abs)) {
    throw new LabError(`the lab directory ${abs} contains a comma, colon, backslash or space, which overlayfs options cannot hold; choose another with --dir.`);
  }
  return { sshd, unshare, rsyslogd };
}

function readState(paths: LabPaths): LabStateFile | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(paths.state, 'utf8')) as LabStateFile;
    return parsed.format === 1 && Array.isArray(parsed.hosts) ? parsed : undefined;
  } catch {
    throw new LabError(`${paths.state} is not a lab state file; remove it if no lab runs from ${paths.dir}.`);
  }
}

function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function writeState(paths: LabPaths, state: LabStateFile): void {
  writeFileAtomic(paths.state, JSON.stringify(state, null, 2) + '\n');
}

/** Reads the first line a server sends: an SSH banner means sshd answers. */
export function probeBanner(address: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: address, port });
    let buffer = '';
    const finish = (result: string | undefined): void => {
      socket.destroy();
      clearTimeout(timer);
      resolveProbe(result);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const line = buffer.split('\n').find((l) => l.startsWith('SSH-'));
      if (line) finish(line.trim());
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/**
 * A new key pair in `file` and `file.pub`, made by OpenSSH's ssh-keygen (ssh2's generator drops
 * leading zero bytes of ed25519 public keys, making about one key in 256 unusable: mscdex/ssh2#1390).
 */
function keygen(type: 'ed25519' | 'ecdsa', file: string, comment: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  const result = spawnSync('ssh-keygen', ['-q', '-t', type, ...(type === 'ecdsa' ? ['-b', '256'] : []), '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new LabError(`ssh-keygen failed (${(result.stderr || String(result.error ?? '')).trim()}): apt-get install -y openssh-client`);
  }
}

function ensureUserKey(paths: LabPaths): string {
  if (!existsSync(paths.identityFile) || !existsSync(`${paths.identityFile}.pub`)) keygen('ed25519', paths.identityFile, 'sshfix-lab');
  return readFileSync(`${paths.identityFile}.pub`, 'utf8').trim();
}

/**
 * What each host's /root, /home and /var/backups start from: a fresh root home as Debian's
 * base-files makes it, no home directories and no backups. Not the machine's own: its dotfiles (pyenv hooks, tokens) are not a
 * lab host's business, and they made every login several times slower.
 */
function ensureSkeleton(paths: LabPaths): void {
  const rootSkel = join(paths.skeleton, 'root');
  mkdirSync(rootSkel, { recursive: true, mode: 0o700 });
  chmodSync(rootSkel, 0o700);
  mkdirSync(join(paths.skeleton, 'home'), { recursive: true, mode: 0o755 });
  mkdirSync(join(paths.skeleton, layerName('/var/backups')), { recursive: true, mode: 0o755 });
  for (const [from, to, fallback] of [
    ['/usr/share/base-files/dot.bashrc', '.bashrc', '# ~/.bashrc: executed by bash(1) for non-login shells.\n'],
    ['/usr/share/base-files/dot.profile', '.profile', '# ~/.profile: executed by Bourne-compatible login shells.\n'],
  ] as const) {
    writeFileSync(join(rootSkel, to), existsSync(from) ? readFileSync(from) : fallback, { mode: 0o644 });
  }
}

function ensureSecrets(paths: LabPaths): string {
  if (existsSync(paths.secrets)) {
    const match = /^SSHFIX_LAB_BECOME_PASSWORD='([^']*)'$/m.exec(readFileSync(paths.secrets, 'utf8'));
    if (match?.[1]) return match[1];
  }
  const password = randomBytes(12).toString('base64url');
  writeFileAtomic(
    paths.secrets,
    `# The deploy account's sudo password on every lab host (source this file to use it).\n${LAB_BECOME_PASSWORD_ENV}='${password}'\n`,
    0o600,
  );
  return password;
}

function hashPassword(password: string): string {
  const result = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: password, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new LabError(`openssl passwd failed (${result.stderr.trim() || 'not installed?'}): apt-get install -y openssl`);
  }
  return result.stdout.trim();
}

function groupId(name: string): number | undefined {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(':')[2]) : undefined;
}

interface HostFileWriter {
  /** Where a path of the host lives in its overlay upper layer. */
  pathOf(path: string): string;
  /** Writes `file` into the overlay upper layer of the directory that holds it. */
  write(file: SeedFile, owner?: { uid: number; gid: number }): void;
  mkdir(path: string, mode: number, owner?: { uid: number; gid: number }): void;
}

/** The directory name of an overlaid directory's layers in a host's directory (`/var/log` → `var-log`). */
const layerName = (dir: string): string => dir.slice(1).replace(/\//g, '-');

function upperWriter(root: string): HostFileWriter {
  const upperPath = (path: string): string => {
    const base = OVERLAID.find((dir) => path === dir || path.startsWith(`${dir}/`));
    if (!base) throw new Error(`internal: ${path} is not in an overlaid directory`);
    return join(root, layerName(base), 'upper', path.slice(base.length));
  };
  return {
    pathOf: upperPath,
    write(file, owner) {
      const target = upperPath(file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.content, { mode: file.mode ?? 0o644 });
      chmodSync(target, file.mode ?? 0o644);
      if (owner) chownSync(target, owner.uid, owner.gid);
    },
    mkdir(path, mode, owner) {
      const target = upperPath(path);
      mkdirSync(target, { recursive: true, mode });
      chmodSync(target, mode);
      if (owner) chownSync(target, owner.uid, owner.gid);
    },
  };
}

/** /etc/passwd, /etc/group and /etc/shadow of the machine plus the lab accounts. */
function accountFiles(passwordHash: string): SeedFile[] {
  const names = new Set<string>(LAB_ACCOUNTS.map((a) => a.name));
  const keep = (text: string): string =>
    text
      .split('\n')
      .filter((line) => line !== '' && !names.has(line.split(':')[0] ?? ''))
      .join('\n') + '\n';
  const passwd = keep(readFileSync('/etc/passwd', 'utf8'));
  const group = keep(readFileSync('/etc/group', 'utf8'));
  const shadow = existsSync('/etc/shadow') ? keep(readFileSync('/etc/shadow', 'utf8')) : '';
  const extraPasswd = LAB_ACCOUNTS.map((a) => `${a.name}:x:${a.uid}:${a.uid}:lab ${a.name}:/home/${a.name}:/bin/bash\n`);
  const extraGroup = LAB_ACCOUNTS.map((a) => `${a.name}:x:${a.uid}:\n`);
  const extraShadow = LAB_ACCOUNTS.map((a) => `${a.name}:${a.sudo ? passwordHash : '*'}:19700:0:99999:7:::\n`);
  return [
    { path: '/etc/passwd', content: passwd + extraPasswd.join('') },
    { path: '/etc/group', content: group + extraGroup.join('') },
    { path: '/etc/shadow', content: shadow + extraShadow.join(''), mode: 0o640 },
    {
      path: '/etc/sudoers.d/sshfix-lab',
      content: LAB_ACCOUNTS.filter((a) => a.sudo)
        .map((a) => `${a.name} ALL=(ALL:ALL) ALL\n`)
        .join(''),
      mode: 0o440,
    },
  ];
}

interface PreparedHost {
  spec: LabHostSpec;
  bootScript: string;
  opensshVersion?: string;
}

/** What every host copies from the machine, read once per `lab up` rather than once per host. */
interface MachineSeed {
  /** The machine's /etc/hosts (sudo and PAM look the hostname up). */
  hosts: string;
  accounts: SeedFile[];
  shadowGid: number;
  admGid: number;
  /** The machine's nsswitch.conf with host names looked up in /etc/hosts only. */
  nsswitch: string;
  /** The machine's sshd drop-ins and host keys, which a host must not see unless it seeds its own. */
  dropIns: string[];
  hostKeyFiles: string[];
}

/**
 * libwrap looks every client address up: from /etc/hosts only, so a lab host never waits on DNS
 * and a client without a name shows as its address, as in `refused connect from 127.0.0.9 (127.0.0.9)`.
 */
function filesOnlyHosts(nsswitch: string): string {
  const line = 'hosts:          files';
  return /^hosts:.*$/m.test(nsswitch) ? nsswitch.replace(/^hosts:.*$/m, line) : `${nsswitch.replace(/\n?$/, '\n')}${line}\n`;
}

function readMachineSeed(passwordHash: string): MachineSeed {
  const machineDropIns = '/etc/ssh/sshd_config.d';
  return {
    hosts: existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '127.0.0.1\tlocalhost\n',
    accounts: accountFiles(passwordHash),
    shadowGid: groupId('shadow') ?? 0,
    admGid: groupId('adm') ?? 0,
    nsswitch: filesOnlyHosts(existsSync('/etc/nsswitch.conf') ? readFileSync('/etc/nsswitch.conf', 'utf8') : ''),
    dropIns: existsSync(machineDropIns) ? readdirSync(machineDropIns).map((entry) => `${machineDropIns}/${entry}`) : [],
    hostKeyFiles: (existsSync('/etc/ssh') ? readdirSync('/etc/ssh') : []).filter((entry) => /^ssh_host_.*_key(\.pub)?$/.test(entry)),
  };
}

/** Lays out one host's private layers (everything but the mounts, which happen inside its namespace). */
function prepareHost(paths: LabPaths, tools: LabTools, spec: LabHostSpec, userKey: string, machine: MachineSeed): PreparedHost {
  const root = hostDir(paths, spec.name);
  rmSync(root, { recursive: true, force: true });
  for (const dir of OVERLAID) {
    const slug = layerName(dir);
    mkdirSync(join(root, slug, 'upper'), { recursive: true });
    mkdirSync(join(root, slug, 'work'), { recursive: true });
  }
  const writer = upperWriter(root);
  const build = spec.openssh ? opensshBuildDir(spec.openssh) : undefined;
  if (build) {
    // The build's helpers (sshd-session, sshd-auth, sftp-server ...) beside Debian's, as a host
    // with that version installed has them.
    const upper = join(root, 'usr-lib-openssh', 'upper');
    mkdirSync(upper, { recursive: true });
    mkdirSync(join(root, 'usr-lib-openssh', 'work'), { recursive: true });
    for (const entry of readdirSync(join(build, 'libexec'))) symlinkSync(join(build, 'libexec', entry), join(upper, entry));
  }
  for (const file of spec.scenario.files) writer.write(file);
  writer.write({ path: '/etc/hostname', content: `${spec.name}\n` });
  // sudo and PAM look the hostname up; the machine's /etc/hosts plus this host's own line.
  writer.write({ path: '/etc/hosts', content: `${machine.hosts.replace(/\n?$/, '\n')}${spec.address}\t${spec.name}\n` });
  writer.write({ path: '/etc/nsswitch.conf', content: machine.nsswitch });
  // Debian's auth.log: root:adm 0640. The lab's rsyslogd appends to this file (see syslog-receiver.ts).
  writer.write({ path: '/var/log/auth.log', content: '', mode: 0o640 }, { uid: 0, gid: machine.admGid });
  const dev = hostDev(paths, spec.name);
  mkdirSync(join(dev, 'pts'), { recursive: true });
  for (const device of DEVICES) writeFileSync(join(dev, device), '');
  for (const [link, target] of DEV_LINKS) symlinkSync(target, join(dev, link));

  for (const file of machine.accounts) {
    writer.write(file, file.path === '/etc/shadow' ? { uid: 0, gid: machine.shadowGid } : undefined);
  }

  // Host keys of its own, so host-key checks tell lab hosts apart.
  const keyTypes = ['ed25519', 'ecdsa'] as const;
  writer.mkdir('/etc/ssh', 0o755);
  for (const type of keyTypes) {
    const file = writer.pathOf(`/etc/ssh/ssh_host_${type}_key`);
    keygen(type, file, `root@${spec.name}`);
  }

  writer.mkdir('/root/.ssh', 0o700);
  writer.write({ path: '/root/.ssh/authorized_keys', content: `${userKey}\n`, mode: 0o600 });
  for (const account of LAB_ACCOUNTS) {
    const owner = { uid: account.uid, gid: account.uid };
    writer.mkdir(`/home/${account.name}`, 0o750, owner);
    writer.mkdir(`/home/${account.name}/.ssh`, 0o700, owner);
    writer.write({ path: `/home/${account.name}/.ssh/authorized_keys`, content: `${userKey}\n`, mode: 0o600 }, owner);
  }

  // The machine's own sshd drop-ins and host keys must not leak into the host: hide them.
  const seeded = new Set(spec.scenario.files.map((f) => f.path));
  const hide = [
    ...machine.dropIns.filter((path) => !seeded.has(path)),
    ...machine.hostKeyFiles.filter((entry) => !keyTypes.some((t) => entry.startsWith(`ssh_host_${t}_key`))).map((entry) => `/etc/ssh/${entry}`),
  ];

  const q = quoteShellArg;
  const lines = [
    '#!/bin/sh',
    '# Boots one lab host inside its own mount and UTS namespaces (written by `sshfix lab up`).',
    'set -eu',
    ...OVERLAID.map((dir) => {
      const slug = layerName(dir);
      const lower = FRESH_FROM_SKELETON.has(dir) ? join(paths.skeleton, slug) : dir;
      const opts = `lowerdir=${lower},upperdir=${join(root, slug, 'upper')},workdir=${join(root, slug, 'work')}`;
      return `mount -t overlay sshfix-lab -o ${q(opts)} ${q(dir)}`;
    }),
    ...PRIVATE_TMPFS.map((t) => `mount -t tmpfs -o mode=${t.mode} sshfix-lab ${q(t.path)}`),
    // A private /dev: the machine's devices plus this host's own /dev/log.
    ...DEVICES.map((device) => `mount --bind /dev/${device} ${q(join(dev, device))}`),
    `mount --bind /dev/pts ${q(join(dev, 'pts'))}`,
    `mount --rbind ${q(dev)} /dev`,
    // A host on another OpenSSH build: its binaries where Debian's are, so `command -v sshd`,
    // `ssh -Q` and a reload's re-exec of /usr/sbin/sshd all find the build.
    ...(build
      ? [
          `mount -t overlay sshfix-lab -o ${q(`lowerdir=${OPENSSH_LIBEXEC},upperdir=${join(root, 'usr-lib-openssh', 'upper')},workdir=${join(root, 'usr-lib-openssh', 'work')}`)} ${OPENSSH_LIBEXEC}`,
          `mount --bind ${q(join(build, 'sbin', 'sshd'))} /usr/sbin/sshd`,
          ...BUILD_CLIENT_PROGRAMS.filter((name) => existsSync(`/usr/bin/${name}`) && existsSync(join(build, 'bin', name))).map(
            (name) => `mount --bind ${q(join(build, 'bin', name))} /usr/bin/${name}`,
          ),
        ]
      : []),
    'mkdir -p /run/sshd && chmod 0755 /run/sshd',
    ...hide.map((path) => `rm -f ${q(path)}`),
    `hostname ${q(spec.name)}`,
  ];
  const startLines = [
    ...(spec.scenario.daemons ?? []).flatMap((daemon) => daemonStartLines(daemon, tools)),
    // No -E: sshd logs through syslog(3), and libwrap's refusals with it.
    `exec ${build ? '/usr/sbin/sshd' : q(tools.sshd)} -D -o ${q(`ListenAddress=${spec.address}:22`)}`,
  ];
  const bootScript = join(root, 'boot.sh');
  if (spec.scenario.ownNetwork) {
    // The outer relay stays in the machine's network namespace; the rest of the boot continues in
    // a new one (the same process: exec keeps the pid, which ends as sshd's).
    const netScript = join(root, 'boot-net.sh');
    const relay = (args: readonly string[]): string => `${[process.execPath, RELAY_MAIN, ...args].map(q).join(' ')} </dev/null &`;
    writeFileSync(
      netScript,
      [
        '#!/bin/sh',
        "# The rest of the host's boot, inside its own network namespace (written by `sshfix lab up`).",
        'set -eu',
        `${q(tools.ip ?? 'ip')} link set lo up`,
        ...(spec.scenario.networkSetup ?? []),
        relay(['inner', LAB_RELAY_SOCKET, spec.address, '22']),
        ...startLines,
      ].join('\n') + '\n',
      { mode: 0o755 },
    );
    lines.push(relay(['outer', spec.address, '22', LAB_RELAY_SOCKET]), `exec ${q(tools.unshare)} --net -- /bin/sh ${q(netScript)}`);
  } else {
    lines.push(...startLines);
  }
  writeFileSync(bootScript, lines.join('\n') + '\n', { mode: 0o755 });
  return { spec, bootScript };
}

/** The fail2ban server's own socket, pid file and database, inside the host's private /run and /var/lib. */
export const LAB_FAIL2BAN_SOCKET = '/run/fail2ban/fail2ban.sock';

/** Boot-script lines starting a daemon inside the host; it forks into the background and stays in the namespaces. */
function daemonStartLines(daemon: LabDaemon, tools: LabTools): string[] {
  switch (daemon) {
    case 'fail2ban':
      if (!tools.fail2banServer) throw new Error('internal: fail2ban-server was not looked up');
      return [
        'mkdir -p /run/fail2ban',
        // A database copied from the machine would restore the machine's bans.
        'rm -f /var/lib/fail2ban/fail2ban.sqlite3',
        // The lab waits for this log to say the jail started: no line of the machine's may stand in it.
        ': > /var/log/fail2ban.log',
        `${quoteShellArg(tools.fail2banServer)} -b -x -s ${LAB_FAIL2BAN_SOCKET} -p /run/fail2ban/fail2ban.pid`,
      ];
    case 'sshguard':
      if (!tools.sshguard) throw new Error('internal: sshguard was not looked up');
      // Its own process group: sshguard's exit trap signals its whole group (kill 0), which must not hold sshd.
      return ['mkdir -p /var/lib/sshguard', `setsid ${quoteShellArg(tools.sshguard)} </dev/null >/dev/null 2>&1 &`];
  }
}

async function bootHost(
  paths: LabPaths,
  tools: LabTools,
  prepared: PreparedHost,
  onStarted: (state: LabHostState) => void,
): Promise<LabHostState> {
  const { spec } = prepared;
  const root = hostDir(paths, spec.name);
  const logPath = join(root, 'boot.log');
  // No --fork: unshare execs the script, which execs sshd, so the pid we get is sshd's.
  const child = startDetached(tools.unshare, ['--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', prepared.bootScript], logPath);
  if (!child) throw new LabError(`could not start ${tools.unshare} for ${spec.name}`);
  const { pid } = child;
  // Record the host at once, then again with its namespace, before it answers: if `lab up` is
  // stopped now, `lab down` still finds it.
  const record = (mountNamespace: string): void => {
    const started = identify(pid);
    if (started) onStarted({ ...hostLabel(prepared), sshd: started, mountNamespace });
  };
  record('');
  const ours = mountNamespaceOf(process.pid);
  const nsDeadline = Date.now() + 5_000;
  let namespace = mountNamespaceOf(pid);
  while (namespace === ours && child.exitCode() === undefined && Date.now() < nsDeadline) {
    await sleep(2);
    namespace = mountNamespaceOf(pid);
  }
  if (namespace && namespace !== ours) record(namespace);

  const deadline = Date.now() + 15_000;
  for (;;) {
    const exited = child.exitCode();
    if (exited !== undefined) {
      // sshd's own errors (a port in use) went to the host's auth.log, the boot script's to boot.log.
      const { authLog } = syslogHost(paths, spec.name);
      const bootLog = readFileSync(logPath, 'utf8') + (existsSync(authLog) ? readFileSync(authLog, 'utf8') : '');
      const detail = bootLog.trim().split('\n').slice(-5).join('\n  ');
      const hint = /Address already in use/.test(bootLog)
        ? `\n  Something else already listens on ${spec.address}:22: another lab (sshfix lab status --dir ITS_DIR; ` +
          'start this one elsewhere with --first-address), or the machine\'s own sshd on every address (give it a ListenAddress outside 127.77.0.0/16).'
        : '';
      throw new LabError(`${spec.name}: sshd exited (code ${exited}) while starting (boot log ${logPath}, sshd's log /var/log/auth.log inside the host):\n  ${detail}${hint}`);
    }
    // Our sshd must hold the listening socket itself: another lab's sshd on the same address would
    // answer the probe while ours fails to bind and exits.
    if (listensOn(pid, spec.address, 22) && (await probeBanner(spec.address, 22, 500))) break;
    if (Date.now() > deadline) {
      throw new LabError(`${spec.name}: sshd did not answer on ${spec.address}:22 within 15 s (see ${logPath})`);
    }
    await sleep(25);
  }
  const identity = identify(pid);
  if (!identity || !namespace || namespace === ours) throw new LabError(`${spec.name}: sshd (pid ${pid}) vanished right after starting`);

  // Written through the host's own mount namespace: the files land in its /etc overlay.
  for (const file of spec.scenario.filesAfterStart ?? []) {
    const target = `/proc/${pid}/root${file.path}`;
    writeFileSync(target, file.content, { mode: file.mode ?? 0o644 });
  }
  if (spec.scenario.daemons?.includes('fail2ban')) await waitForFail2ban(spec.name, root, logPath);
  if (spec.scenario.daemons?.includes('sshguard')) await waitForSshguard(spec, pid, logPath, tools);
  return { ...hostLabel(prepared), sshd: identity, mountNamespace: namespace };
}

function hostLabel(prepared: PreparedHost): Pick<LabHostState, 'name' | 'address' | 'scenario' | 'openssh' | 'opensshVersion'> {
  const { spec } = prepared;
  return {
    name: spec.name,
    address: spec.address,
    scenario: spec.scenario.name,
    ...(spec.openssh ? { openssh: spec.openssh } : {}),
    ...(prepared.opensshVersion ? { opensshVersion: prepared.opensshVersion } : {}),
  };
}

/** The firewall programs each sshguard backend runs, and the Debian package of each. */
const FIREWALL_PROGRAMS: Record<FirewallBackend, readonly { program: string; pkg: string }[]> = {
  'nft-sets': [{ program: 'nft', pkg: 'nftables' }],
  ipset: [
    { program: 'ipset', pkg: 'ipset' },
    { program: 'iptables', pkg: 'iptables' },
  ],
  iptables: [{ program: 'iptables', pkg: 'iptables' }],
};

/** What a scenario's seeded sshguard.conf says: its firewall backend (none: the hosts backend) and the addresses its blacklist file lists, which sshguard blocks at start. */
function seededSshguard(scenario: LabScenario): { firewall?: FirewallBackend; blacklisted: string[] } {
  const conf = readSshguardConf(scenario.files.find((f) => f.path === SSHGUARD_CONF)?.content ?? '');
  const backend = sshguardBackendOf(conf.get('BACKEND'));
  const firewall = FIREWALL_BACKENDS.find((b) => b === backend);
  const path = blacklistPath(conf.get('BLACKLIST_FILE'));
  const blacklisted = blacklistedAddresses(scenario.files.find((f) => f.path === path)?.content ?? '');
  return { ...(firewall ? { firewall } : {}), blacklisted };
}

/**
 * sshguard is up once its backend holds what its blacklist lists: with the hosts backend, its
 * block at the top of hosts.allow; with a firewall backend (in the host's own network namespace),
 * a set or chain covering every blacklisted address.
 */
async function waitForSshguard(spec: LabHostSpec, sshdPid: number, bootLog: string, tools: LabTools): Promise<void> {
  const { firewall, blacklisted } = seededSshguard(spec.scenario);
  const ready = (): boolean => {
    if (!firewall) {
      const allow = `/proc/${sshdPid}/root/etc/hosts.allow`;
      return existsSync(allow) && readFileSync(allow, 'utf8').startsWith('###sshguard###\n');
    }
    const listing = spawnSync(tools.nsenter ?? 'nsenter', ['--target', String(sshdPid), '--net', 'sh', '-c', FIREWALL_LISTING[firewall]], { encoding: 'utf8' });
    if (listing.status !== 0) return false;
    const blocks = parseFirewallBlocks(firewall, listing.stdout);
    return /sshguard/.test(listing.stdout) && blacklisted.every((address) => blocksCovering(blocks, address).length > 0);
  };
  const deadline = Date.now() + 30_000;
  while (!ready()) {
    if (Date.now() > deadline) {
      const what = firewall ? `its ${firewall} backend with the blacklisted ${blacklisted.join(', ')}` : 'its hosts backend';
      throw new LabError(`${spec.name}: sshguard did not start ${what} within 30 s:\n  ${readFileSync(bootLog, 'utf8').trim().split('\n').slice(-5).join('\n  ')}`);
    }
    await sleep(100);
  }
}

/** A host is up once its daemons are: fail2ban's jails start a moment after sshd answers. */
async function waitForFail2ban(name: string, root: string, bootLog: string): Promise<void> {
  const log = join(root, layerName('/var/log'), 'upper', 'fail2ban.log');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
    if (text.includes("Jail 'sshd' started")) return;
    if (Date.now() > deadline) {
      const detail = (text || readFileSync(bootLog, 'utf8')).trim().split('\n').slice(-5).join('\n  ');
      throw new LabError(`${name}: fail2ban's sshd jail did not start within 30 s:\n  ${detail}`);
    }
    await sleep(100);
  }
}

/** Stops every process of one lab host (sshd, its sessions, daemons started inside). */
async function stopHost(paths: LabPaths, host: LabHostState): Promise<void> {
  const pids = host.mountNamespace
    ? processesInNamespace(host.mountNamespace, hostMarker(paths, host.name))
    : isSameProcess(host.sshd)
      ? [host.sshd.pid]
      : [];
  await stopProcesses(pids);
  rmSync(hostDir(paths, host.name), { recursive: true, force: true });
}

function hostIsUp(host: LabHostState): boolean {
  return isSameProcess(host.sshd) && mountNamespaceOf(host.sshd.pid) === host.mountNamespace;
}

/** Hosts of a new lab when `--hosts` is not given. */
export const DEFAULT_LAB_HOSTS = 5;

export interface LabUpOptions {
  dir: string;
  /** Default: the running lab's size, else DEFAULT_LAB_HOSTS. */
  hosts?: number;
  /** Default: the running lab's first address, else DEFAULT_FIRST_ADDRESS. */
  firstAddress?: string;
  /** Default: the running lab's, else every scenario round-robin; each optionally with the build its hosts run: `penalties@10.0p1`. */
  scenarios?: readonly string[];
  /** The OpenSSH build hosts run unless their scenario names one, e.g. "10.0p1". */
  openssh?: string;
  /** Called with one line per event (host started, kept, stopped). */
  onEvent?: (line: string) => void;
}

export interface LabSummary {
  paths: LabPaths;
  hosts: LabHostState[];
  started: string[];
  kept: string[];
  stopped: string[];
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  }
  return results;
}

/**
 * Starts the lab, or converges a running one to the requested hosts: hosts already running with the
 * same address and scenario are kept, others are (re)started from fresh layers, extra ones stopped.
 */
export async function labUp(options: LabUpOptions): Promise<LabSummary> {
  const paths = labPaths(options.dir);
  const tools = checkLabPrerequisites(paths.dir);
  // `lab up` on a running lab converges it: what is not asked for (size, addresses, scenarios) stays.
  const previous = [...(readState(paths)?.hosts ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const hosts = options.hosts ?? (previous.length > 0 ? previous.length : DEFAULT_LAB_HOSTS);
  const firstAddress = options.firstAddress ?? previous[0]?.address ?? DEFAULT_FIRST_ADDRESS;
  const scenarios: LabScenario[] = [];
  const scenarioOpenssh: (string | undefined)[] = [];
  for (const entry of options.scenarios ?? previous.map((h) => (h.openssh ? `${h.scenario}@${h.openssh}` : h.scenario))) {
    const { name, openssh } = splitScenarioEntry(entry);
    const scenario = findLabScenario(name);
    if (!scenario) throw new LabError(`unknown lab scenario "${name}"`);
    scenarios.push(scenario);
    scenarioOpenssh.push(openssh);
  }
  let specs: LabHostSpec[];
  try {
    specs = layoutLab({ hosts, firstAddress, scenarios, scenarioOpenssh, ...(options.openssh ? { openssh: options.openssh } : {}) });
  } catch (error) {
    throw new LabError((error as Error).message);
  }
  // Every build the lab needs must be there before any host starts; the machine's version is asked once.
  const versions = new Map<string | undefined, string | undefined>([[undefined, opensshVersionOf(tools.sshd)]]);
  for (const build of new Set(specs.map((s) => s.openssh))) {
    if (build === undefined) continue;
    if (!isOpensshBuildName(build)) throw new LabError(`"${build}" is not an OpenSSH build name such as 10.0p1`);
    versions.set(build, checkOpensshBuild(build));
  }
  if (specs.some((s) => s.scenario.daemons?.includes('fail2ban'))) {
    const found = findProgram('fail2ban-server', ['/usr/bin/fail2ban-server']);
    if (!found) throw new LabError('the fail2ban scenario needs fail2ban: apt-get install -y --no-install-recommends fail2ban');
    tools.fail2banServer = found;
  }
  if (specs.some((s) => s.scenario.daemons?.includes('sshguard'))) {
    const found = findProgram('sshguard', ['/usr/sbin/sshguard']);
    if (!found) throw new LabError('the sshguard scenario needs sshguard: apt-get install -y --no-install-recommends sshguard');
    tools.sshguard = found;
  }
  if (specs.some((s) => s.scenario.ownNetwork)) {
    const ip = findProgram('ip', ['/usr/sbin/ip', '/sbin/ip']);
    const nsenter = findProgram('nsenter', ['/usr/bin/nsenter']);
    if (!ip || !nsenter) throw new LabError('a scenario with its own network needs ip and nsenter: apt-get install -y iproute2 util-linux');
    tools.ip = ip;
    tools.nsenter = nsenter;
  }
  const stray = specs.find((s) => s.scenario.networkSetup && !s.scenario.ownNetwork);
  if (stray) throw new LabError(`internal: scenario ${stray.scenario.name} sets up a network without one of its own: it would change the machine's firewall`);
  for (const spec of specs.filter((s) => s.scenario.ownNetwork)) {
    const { firewall } = seededSshguard(spec.scenario);
    for (const { program, pkg } of firewall ? FIREWALL_PROGRAMS[firewall] : []) {
      if (!findProgram(program, [`/usr/sbin/${program}`])) throw new LabError(`the ${spec.scenario.name} scenario needs ${program}: apt-get install -y --no-install-recommends ${pkg}`);
    }
  }
  const say = options.onEvent ?? ((): void => {});
  mkdirSync(paths.hostsDir, { recursive: true });

  const previousState = readState(paths);
  let syslog = previousState?.syslog;
  const kept: LabHostState[] = [];
  const stopped: string[] = [];
  for (const host of previous) {
    const spec = specs.find((s) => s.name === host.name);
    // A host started before hosts had a private /dev (and a /dev/log) is restarted, not kept.
    const current = existsSync(hostDev(paths, host.name));
    const sameBuild = spec?.openssh === host.openssh;
    if (spec && spec.address === host.address && spec.scenario.name === host.scenario && sameBuild && current && hostIsUp(host)) {
      kept.push(host);
      say(`${host.name} ${host.address} already running (${host.scenario})`);
    } else {
      await stopHost(paths, host);
      if (!spec) {
        stopped.push(host.name);
        say(`${host.name} stopped (not in the requested lab)`);
      }
    }
  }
  // Record what still runs before starting more, so a failure part-way leaves `lab down` able to stop it.
  writeState(paths, { format: 1, hosts: kept, ...(syslog ? { syslog } : {}) });

  const userKey = ensureUserKey(paths);
  const machine = readMachineSeed(hashPassword(ensureSecrets(paths)));
  const toStart = specs.filter((s) => !kept.some((k) => k.name === s.name));
  const states = [...kept];
  ensureSkeleton(paths);
  const prepared = toStart.map((spec) => {
    const host = prepareHost(paths, tools, spec, userKey, machine);
    const version = versions.get(spec.openssh);
    return version ? { ...host, opensshVersion: version } : host;
  });
  // Every host's /dev/log must answer before its sshd starts, or its first lines are lost.
  try {
    syslog = await ensureSyslogReceiver(tools.rsyslogd, syslogPaths(paths.dir), specs.map((s) => syslogHost(paths, s.name)), syslog);
  } catch (error) {
    if (error instanceof SyslogError) throw new LabError(error.message);
    throw error;
  }
  const record = (hosts: LabHostState[]): void => writeState(paths, { format: 1, hosts, syslog });
  record(kept);
  await inBatches(prepared, 16, async (host) => {
    const { spec } = host;
    const state = await bootHost(paths, tools, host, (booting) => {
      const at = states.findIndex((h) => h.name === booting.name);
      if (at >= 0) states[at] = booting;
      else states.push(booting);
      record(states);
    });
    say(`${spec.name} ${spec.address} started (${spec.scenario.name}: ${spec.scenario.summary})`);
    return state;
  });
  states.sort((a, b) => a.name.localeCompare(b.name));
  record(states);

  const knownHosts = states.map((s) => ({
    address: s.address,
    publicKey: readFileSync(join(hostDir(paths, s.name), 'etc', 'upper', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8'),
  }));
  writeFileAtomic(paths.knownHosts, renderLabKnownHosts(knownHosts));
  writeFileAtomic(
    paths.inventory,
    renderLabInventory({
      hosts: states.map((s) => specs.find((spec) => spec.name === s.name) as LabHostSpec),
      identityFile: paths.identityFile,
      knownHosts: paths.knownHosts,
    }),
  );
  return {
    paths,
    hosts: states,
    started: toStart.map((s) => s.name),
    kept: kept.map((k) => k.name),
    stopped,
  };
}

export interface LabDownResult {
  paths: LabPaths;
  stopped: string[];
}

/** Stops every process the lab started (recorded hosts only) and removes their layers. */
export async function labDown(dir: string, onEvent?: (line: string) => void): Promise<LabDownResult> {
  const paths = labPaths(dir);
  const state = readState(paths);
  if (!state) return { paths, stopped: [] };
  if (process.getuid?.() !== 0) throw new LabError('stopping the lab needs root, as starting it did: run it with sudo.');
  const stopped: string[] = [];
  await inBatches(state.hosts, 32, async (host) => {
    await stopHost(paths, host);
    stopped.push(host.name);
    onEvent?.(`${host.name} ${host.address} stopped`);
  });
  // Anything else of this lab's hosts (one caught between its start and its record): every process
  // whose mounts show this lab's layers.
  await stopProcesses(processesWithMount(`${paths.hostsDir}/`));
  await stopSyslogReceiver(syslogPaths(paths.dir), state.syslog);
  rmSync(paths.state, { force: true });
  return { paths, stopped: stopped.sort() };
}

export interface LabHostStatus {
  name: string;
  address: string;
  scenario: string;
  /** The build the host runs, absent for the machine's own sshd. */
  openssh?: string;
  /** What the host's sshd says it is (`sshd -V`). */
  opensshVersion?: string;
  running: boolean;
  /** The SSH banner sshd sent, when it answered. */
  banner?: string;
}

export async function labStatus(dir: string): Promise<{ paths: LabPaths; hosts: LabHostStatus[] }> {
  const paths = labPaths(dir);
  const state = readState(paths);
  const hosts = await inBatches(state?.hosts ?? [], 64, async (host): Promise<LabHostStatus> => {
    const running = hostIsUp(host);
    const banner = running ? await probeBanner(host.address, 22, 2000) : undefined;
    return {
      name: host.name,
      address: host.address,
      scenario: host.scenario,
      ...(host.openssh ? { openssh: host.openssh } : {}),
      ...(host.opensshVersion ? { opensshVersion: host.opensshVersion } : {}),
      running,
      ...(banner ? { banner } : {}),
    };
  });
  return { paths, hosts };
}
