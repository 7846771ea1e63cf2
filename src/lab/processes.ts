/**
 * Finding and stopping the processes of a lab host through /proc (Linux only). A lab host is its
 * mount namespace: sshd, every session it forked and any daemon started inside (fail2ban) share it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process as recorded at start: pid plus its start time, so a recycled pid is never mistaken for it. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot). */
  startTime: string;
}

/** A daemon started in its own session; `exitCode()` is undefined while it runs. */
export interface DetachedChild {
  pid: number;
  exitCode(): number | null | undefined;
}

/**
 * Starts `command` in its own session with its output in `logPath`, without keeping this process
 * alive for it. Undefined when it could not be started at all.
 */
export function startDetached(command: string, args: readonly string[], logPath: string): DetachedChild | undefined {
  const log = openSync(logPath, 'w');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.on('error', () => {
    exited ??= null;
  });
  child.unref();
  return child.pid === undefined ? undefined : { pid: child.pid, exitCode: () => exited };
}

export function readStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

export function isSameProcess(identity: ProcessIdentity): boolean {
  return readStartTime(identity.pid) === identity.startTime;
}

export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = readStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

export function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Processes whose mount namespace passes `keep` and whose mount table shows `marker`. */
function scanProcesses(keep: (namespace: string) => boolean, marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const namespace = mountNamespaceOf(pid);
    if (pid === process.pid || namespace === undefined || !keep(namespace)) continue;
    try {
      if (readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(marker)) found.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/**
 * Every process in mount namespace `namespace` whose mount table shows `marker` (a path only that
 * lab host mounts). The marker guards against a namespace id reused after the lab host died.
 */
export function processesInNamespace(namespace: string, marker: string): number[] {
  return scanProcesses((ns) => ns === namespace, marker);
}

/** Every process outside our own mount namespace whose mount table shows `marker`. */
export function processesWithMount(marker: string): number[] {
  const ours = mountNamespaceOf(process.pid);
  return scanProcesses((ns) => ns !== ours, marker);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Running, as opposed to gone or a zombie waiting for whoever adopted it to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/**
 * Stops the given processes: SIGTERM, then SIGKILL for those still there after `graceMs`.
 * Resolves once every one of them is gone or a zombie.
 */
export async function stopProcesses(pids: readonly number[], graceMs = 3000): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(alive);
  }
  for (const pid of left) signal(pid, 'SIGKILL');
  const hardDeadline = Date.now() + 5000;
  while (left.length > 0 && Date.now() < hardDeadline) {
    await sleep(50);
    left = left.filter(alive);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** `127.77.0.1:22` as /proc/net/tcp writes a local address (the IPv4 bytes in host order, x86 and arm). */
function procNetAddress(address: string, port: number): string {
  const bytes = address.split('.').map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'));
  return `${bytes.reverse().join('')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Whether process `pid` itself holds a listening TCP socket on address:port. A banner on the
 * address proves nothing when another process (another lab's sshd) answers there.
 */
export function listensOn(pid: number, address: string, port: number): boolean {
  const local = procNetAddress(address, port);
  let inodes: Set<string>;
  try {
    inodes = new Set(
      // The process's own network namespace: a host with a network of its own listens only there.
      readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        // Fields: sl, local_address, rem_address, st (0A = LISTEN), ..., inode (the 10th).
        .filter((f) => f[1] === local && f[3] === '0A')
        .map((f) => f[9] as string),
    );
  } catch {
    return false;
  }
  if (inodes.size === 0) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        return target.startsWith('socket:[') && inodes.has(target.slice(8, -1));
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
