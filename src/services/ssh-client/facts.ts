/**
 * What the OpenSSH client part needs to know about a host: the login account (whose
 * `~/.ssh/config` a task may edit), the client's version, the config files a task names (with
 * their Include trees), and `ssh -G` of a destination no task names, read before any change so
 * verification can prove nothing leaked to other hosts. Pure.
 */
import { parseOpensshVersion } from '../../config/openssh/version.js';
import { quoteShellArg } from '../../util/shell-quote.js';
import type { BaseFacts, RawFacts } from '../service.js';

export const SYSTEM_SSH_CONFIG = '/etc/ssh/ssh_config';
export const SYSTEM_DROP_IN_DIR = '/etc/ssh/ssh_config.d';

/** A destination name no task is expected to name: its `ssh -G` must not move. */
export const UNRELATED_HOST = 'sshfix-unrelated-host.invalid';

export interface SshClientAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface SshClientFacts {
  /** The login account (sudo's caller when through sudo), from the host's passwd database. */
  account?: SshClientAccount;
  /** `ssh -V` of the host. */
  version?: string;
  /** `ssh -G -F CONFIG UNRELATED_HOST` before any change, by main config; undefined when ssh failed. */
  unrelated: Record<string, string | undefined>;
}

/** The main config whose `ssh -G` shows a file's settings: the system one for its drop-ins. */
export function mainConfigOf(path: string): string {
  return path.startsWith(`${SYSTEM_DROP_IN_DIR}/`) ? SYSTEM_SSH_CONFIG : path;
}

/** A path as the fact script names it: `~/` is the login account's home, known only on the host. */
function shellPath(path: string): string {
  return path.startsWith('~/') ? `"$sshc_home"/${quoteShellArg(path.slice(2))}` : quoteShellArg(path);
}

export function sshClientFactLines(paths: readonly string[]): string[] {
  const mains = [...new Set(paths.map(mainConfigOf))];
  return [
    'sshc_who="${SUDO_USER:-$(id -un)}"',
    'run sshc_account getent passwd "$sshc_who"',
    // Without sudo, ~ is the login's $HOME: over SSH sshd sets it from passwd; on a local host it
    // is the runner's own, as sshfix expands ~ in its inventory (a test's temporary HOME included).
    'if [ -z "${SUDO_USER:-}" ] && [ -n "${HOME:-}" ]; then sshc_home=$HOME; else sshc_home=$(getent passwd "$sshc_who" | cut -d: -f6); fi',
    'run sshc_home printf \'%s\\n\' "$sshc_home"',
    'run sshc_version ssh -V',
    ...paths.map((p) => `walk ${shellPath(p)}`),
    // A missing file reads as no config at all (`-F none`), as it will after the change if no block matches.
    'run sshc_unrelated sh -c \'for f; do printf "== %s\\n" "$f"; c=$f; [ -e "$f" ] || c=none; ' +
      `ssh -G -F "$c" ${UNRELATED_HOST} 2>/dev/null || echo "!failed"; done' sh ${mains.map(shellPath).join(' ')}`,
  ];
}

export function readSshClientFacts(raw: RawFacts, _base: BaseFacts): SshClientFacts {
  const account = raw.commands.get('sshc_account');
  const fields = account?.exitCode === 0 ? account.stdout.trim().split('\n')[0]!.split(':') : [];
  const home = raw.commands.get('sshc_home')?.stdout.trim();
  if (fields.length >= 7 && home?.startsWith('/')) fields[5] = home;
  const version = parseOpensshVersion(raw.commands.get('sshc_version')?.stderr ?? '');
  const unrelated: Record<string, string | undefined> = {};
  let current: string | undefined;
  for (const line of (raw.commands.get('sshc_unrelated')?.stdout ?? '').split('\n')) {
    if (line.startsWith('== ')) {
      current = line.slice(3);
      unrelated[current] = '';
    } else if (current !== undefined && line === '!failed') unrelated[current] = undefined;
    else if (current !== undefined && unrelated[current] !== undefined && line !== '') unrelated[current] += `${line}\n`;
  }
  return {
    ...(fields.length >= 7 ? { account: { name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! } } : {}),
    ...(version ? { version } : {}),
    unrelated,
  };
}
