/**
 * What the sshguard task needs to know about a host: whether sshguard is installed and running
 * (and the command line each running instance was started with, to start it again on a host with
 * no init system), its sshguard.conf, the whitelist and blacklist files it names, and the active
 * blocks of its backend. Pure, except the fact-script lines it returns.
 */
import { blacklistPath, readSshguardConf } from '../../config/sshguard/lists.js';
import { FIREWALL_LISTING, parseFirewallBlocks, sshguardBackendOf, type FirewallBackend, type SshguardBackend } from '../../config/sshguard/firewall.js';
import { HOSTS_ALLOW } from '../../config/hosts-access/edit.js';
import { sshguardBlockedAddresses } from '../../config/hosts-access/sshguard.js';
import type { BaseFacts, RawFacts } from '../service.js';

export const SSHGUARD_CONF = '/etc/sshguard/sshguard.conf';

/**
 * The start of a shell loop over this system's sshguard processes (the script and its pipeline's
 * subshells), each as $p (/proc/PID) with its stat fields after the name in $s; the caller adds
 * the body and `done`. Left out: zombies (they run nothing), and processes of another system
 * sharing the kernel, a container's, which see another /etc (when their root can be read at all).
 */
export const FOR_EACH_SSHGUARD =
  'e=$(stat -L -c %d:%i /etc); for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = sshguard ] || continue; ' +
  'r=$(stat -L -c %d:%i "$p/root/etc" 2>/dev/null) && [ "$r" != "$e" ] && continue; ' +
  's=$(sed "s/^.*) //" "$p/stat" 2>/dev/null); case "$s" in Z*|"") continue;; esac;';

/** How sshguard is restarted here: it has no reload (SIGHUP ends it). */
export type SshguardRestart =
  | { kind: 'systemctl'; unit: string }
  | { kind: 'rc-service'; service: string }
  | { kind: 'process'; pgid: number; pid: number; commandLine: string }
  | { kind: 'not-running' };

export interface SshguardFacts {
  installed: boolean;
  running: boolean;
  backend: SshguardBackend;
  /** BACKEND as sshguard.conf sets it. */
  backendPath?: string;
  whitelistFile?: string;
  blacklistFile?: string;
  /** `-w` arguments on a running instance's command line: sshguard then ignores WHITELIST_FILE. */
  commandLineWhitelist: string[];
  /**
   * What the backend blocks right now, when it could be read: addresses for the hosts backend,
   * `network/prefix` elements for the firewall backends (nft-sets, ipset, iptables).
   */
  blocked: string[];
  restart: SshguardRestart;
}

const FACT_NAME: Record<FirewallBackend, string> = { 'nft-sets': 'sg_nft', ipset: 'sg_ipset', iptables: 'sg_iptables' };

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function sshguardFactLines(): string[] {
  return [
    'run sg_bin sh -c \'command -v sshguard || { [ -x /usr/sbin/sshguard ] && echo /usr/sbin/sshguard; }\'',
    `rf ${q(SSHGUARD_CONF)}`,
    // The files sshguard.conf names, read as sshguard reads them: it sources the file.
    `sg_vars=$(sh -c '. "$0" >/dev/null 2>&1; printf "%s\\n%s\\n" "\${WHITELIST_FILE:-}" "\${BLACKLIST_FILE#*:}"' ${q(SSHGUARD_CONF)} 2>/dev/null) || sg_vars=`,
    'for f in $sg_vars; do case "$f" in /*) rf "$f";; esac; done',
    `rf ${q(HOSTS_ALLOW)}`,
    // Running instances (the sshguard script, and the subshells of its pipeline): pid, parent, process group, command line.
    `run sg_procs sh -c ${q(`${FOR_EACH_SSHGUARD} set -- $s; printf "%s %s %s %s\\n" "\${p#/proc/}" "$2" "$3" "$(tr "\\0" " " < "$p/cmdline")"; done`)}`,
    'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then run sg_unit systemctl is-active sshguard.service; fi',
    'if command -v rc-service >/dev/null && [ -d /run/openrc ]; then run sg_openrc rc-service sshguard status; fi',
    ...Object.entries(FIREWALL_LISTING).map(([backend, listing]) => `run ${FACT_NAME[backend as FirewallBackend]} sh -c ${q(listing)}`),
  ];
}

/** The `-w` arguments of a command line. */
function whitelistArguments(commandLine: string): string[] {
  const words = commandLine.trim().split(/\s+/);
  const out: string[] = [];
  words.forEach((w, i) => {
    if (w === '-w' && words[i + 1]) out.push(words[i + 1]!);
    else if (/^-w./.test(w)) out.push(w.slice(2));
  });
  return out;
}

function blockedBy(backend: SshguardBackend, raw: RawFacts, base: BaseFacts): string[] {
  switch (backend) {
    case 'hosts':
      return sshguardBlockedAddresses(base.files.get(HOSTS_ALLOW)?.content.toString('utf8') ?? '');
    case 'other':
      return [];
    default:
      return parseFirewallBlocks(backend, raw.commands.get(FACT_NAME[backend])?.stdout ?? '');
  }
}

export function readSshguardFacts(raw: RawFacts, base: BaseFacts): SshguardFacts {
  const bin = (raw.commands.get('sg_bin')?.stdout ?? '').trim();
  const conf = readSshguardConf(base.files.get(SSHGUARD_CONF)?.content.toString('utf8') ?? '');
  const procs = (raw.commands.get('sg_procs')?.stdout ?? '').split('\n').flatMap((line) => {
    const m = /^(\d+) (\d+) (\d+) (.*)$/.exec(line);
    // A script started through its #! line shows its interpreter first; started that way again, it
    // would be named `sh`, not `sshguard`: keep the script and its arguments.
    const commandLine = m?.[4]?.trim().replace(/^\S*\b(?:sh|bash|dash)\s+(?=\S*sshguard(?:\s|$))/, '');
    return m && commandLine !== undefined ? [{ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), commandLine }] : [];
  });
  // An instance is a process whose parent is not one too (the others are its pipeline's subshells).
  const instances = procs.filter((p) => !procs.some((o) => o.pid === p.ppid)).map(({ pid, pgid, commandLine }) => ({ pid, pgid, commandLine }));
  const backendPath = conf.get('BACKEND');
  const backend = sshguardBackendOf(backendPath);
  const whitelistFile = conf.get('WHITELIST_FILE');
  const blacklistFile = blacklistPath(conf.get('BLACKLIST_FILE'));
  let restart: SshguardRestart;
  if (raw.commands.get('sg_unit')?.stdout.trim() === 'active') restart = { kind: 'systemctl', unit: 'sshguard' };
  else if (raw.commands.get('sg_openrc')?.exitCode === 0) restart = { kind: 'rc-service', service: 'sshguard' };
  else if (instances[0]) restart = { kind: 'process', ...instances[0] };
  else restart = { kind: 'not-running' };
  return {
    installed: bin !== '',
    running: restart.kind !== 'not-running',
    backend,
    ...(backendPath ? { backendPath } : {}),
    ...(whitelistFile?.startsWith('/') ? { whitelistFile } : {}),
    ...(blacklistFile ? { blacklistFile } : {}),
    commandLineWhitelist: instances.flatMap((p) => whitelistArguments(p.commandLine)),
    blocked: blockedBy(backend, raw, base),
    restart,
  };
}
