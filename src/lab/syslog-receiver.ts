/**
 * The lab's syslog: one rsyslogd for the whole lab, listening on every host's /dev/log (a socket in
 * the directory each host mounts as its /dev) and writing each host's /var/log/auth.log in
 * Debian's traditional format, with that host's name. One process serves every host (a few MB for
 * 500 hosts), where a receiver per host would cost a process each.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, isSameProcess, startDetached, stopProcesses, type ProcessIdentity } from './processes.js';

export interface SyslogHost {
  name: string;
  /** The socket the host sees as /dev/log. */
  socket: string;
  /** The file the host sees as /var/log/auth.log. */
  authLog: string;
}

export interface SyslogPaths {
  dir: string;
  config: string;
  pidFile: string;
  log: string;
}

export function syslogPaths(labDir: string): SyslogPaths {
  const dir = join(labDir, 'syslog');
  return { dir, config: join(dir, 'rsyslog.conf'), pidFile: join(dir, 'rsyslogd.pid'), log: join(dir, 'rsyslogd.log') };
}

/** An rsyslog string literal. */
const literal = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * rsyslog's configuration: per host an input on its socket, stamped with its hostname, and a
 * ruleset sending auth and authpriv (sshd, libwrap, PAM, sudo) to its auth.log, as Debian's
 * rsyslog.conf does. No rate limit: a benchmark logs in to every host at once.
 */
export function renderSyslogConfig(paths: SyslogPaths, hosts: readonly SyslogHost[]): string {
  const lines = [
    '# Written by `sshfix lab up`: the /dev/log receiver of every lab host.',
    `global(workDirectory=${literal(paths.dir)})`,
    'module(load="imuxsock" SysSock.Use="off")',
  ];
  hosts.forEach((host, index) => {
    const ruleset = `host${index}`;
    lines.push(
      `ruleset(name="${ruleset}") {`,
      `  if prifilt("auth,authpriv.*") then action(type="omfile" file=${literal(host.authLog)} template="RSYSLOG_TraditionalFileFormat")`,
      '}',
      `input(type="imuxsock" Socket=${literal(host.socket)} HostName=${literal(host.name)} Ruleset="${ruleset}" RateLimit.Interval="0")`,
    );
  });
  return lines.join('\n') + '\n';
}

export class SyslogError extends Error {
  override name = 'SyslogError';
}

/**
 * Makes the receiver serve exactly `hosts`: keeps the running one when its configuration is the
 * same and every socket is in place, else stops it and starts a new one (hosts that keep running
 * lose only the lines logged in between). Resolves once every socket exists.
 */
export async function ensureSyslogReceiver(
  rsyslogd: string,
  paths: SyslogPaths,
  hosts: readonly SyslogHost[],
  running: ProcessIdentity | undefined,
): Promise<ProcessIdentity> {
  const config = renderSyslogConfig(paths, hosts);
  const alive = running !== undefined && isSameProcess(running);
  if (alive && existsSync(paths.config) && readFileSync(paths.config, 'utf8') === config && hosts.every((h) => existsSync(h.socket))) {
    return running;
  }
  await stopSyslogReceiver(paths, running);
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.config, config);
  const child = startDetached(rsyslogd, ['-n', '-f', paths.config, '-i', paths.pidFile], paths.log);
  const identity = child && identify(child.pid);
  if (!child || !identity) throw new SyslogError(`could not start ${rsyslogd} (see ${paths.log})`);
  const deadline = Date.now() + 15_000;
  while (!hosts.every((h) => existsSync(h.socket))) {
    const exited = child.exitCode();
    if (exited !== undefined || Date.now() > deadline) {
      const detail = readFileSync(paths.log, 'utf8').trim().split('\n').slice(-5).join('\n  ');
      if (exited === undefined) await stopProcesses([identity.pid]);
      throw new SyslogError(`rsyslogd ${exited === undefined ? 'did not open every host\'s /dev/log within 15 s' : `exited (code ${exited})`}:\n  ${detail}`);
    }
    await sleep(20);
  }
  return identity;
}

/**
 * Stops the recorded receiver, and the one its pid file names if that runs this lab's
 * configuration (a `lab up` interrupted before recording the receiver leaves only the pid file).
 */
export async function stopSyslogReceiver(paths: SyslogPaths, running: ProcessIdentity | undefined): Promise<void> {
  const pids = running && isSameProcess(running) ? [running.pid] : [];
  const fromFile = existsSync(paths.pidFile) ? Number(readFileSync(paths.pidFile, 'utf8').trim()) : NaN;
  if (Number.isInteger(fromFile) && !pids.includes(fromFile) && commandLineOf(fromFile).includes(paths.config)) pids.push(fromFile);
  await stopProcesses(pids);
  rmSync(paths.pidFile, { force: true });
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
