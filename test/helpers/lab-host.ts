/**
 * Looking into lab hosts from the test process, without going through SSH: each host's files are
 * visible under /proc/<its sshd pid>/root (its own mount namespace), so tests can check files and
 * logs without adding logins that would disturb what they count.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renderLabInventoryDefaults } from '../../src/lab/layout.js';
import type { TestLab } from './lab-fixture.js';

export interface LabHostRef {
  name: string;
  address: string;
}

function sshdPid(lab: TestLab, name: string): number {
  const state = JSON.parse(readFileSync(join(lab.dir, 'lab.json'), 'utf8')) as { hosts: { name: string; sshd: { pid: number } }[] };
  const host = state.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no lab host ${name}`);
  return host.sshd.pid;
}

/** The host's root directory as seen from outside its namespace. */
export function hostRoot(lab: TestLab, name: string): string {
  return `/proc/${sshdPid(lab, name)}/root`;
}

export function readHostFile(lab: TestLab, name: string, path: string): string | undefined {
  const full = `${hostRoot(lab, name)}${path}`;
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}

/** sha256 of every regular file under `dir` on the host, by path: a fingerprint to prove nothing changed. */
export function fingerprint(lab: TestLab, name: string, dirs: readonly string[] = ['/etc/ssh', '/etc/crypto-policies']): Record<string, string> {
  const root = hostRoot(lab, name);
  const out: Record<string, string> = {};
  const walk = (path: string): void => {
    const full = `${root}${path}`;
    if (!existsSync(full)) return;
    const stat = statSync(full);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(full).sort()) walk(`${path}/${entry}`);
    } else if (stat.isFile()) {
      out[path] = `${createHash('sha256').update(readFileSync(full)).digest('hex')} ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
    }
  };
  for (const dir of dirs) walk(dir);
  return out;
}

/**
 * Successful logins sshd logged on the host so far: one "Accepted <method> for <user>" line per
 * login (LogLevel VERBOSE adds "Accepted key ... found at" lines, which are not logins). Lines
 * are syslog's: `Nov 30 12:50:44 lab-03 sshd[23026]: Accepted publickey for root from ...`.
 */
export function countLogins(lab: TestLab, name: string): number {
  const log = readHostFile(lab, name, '/var/log/auth.log') ?? '';
  return log.split('\n').filter((l) => / sshd\[\d+\]: Accepted (publickey|password|keyboard-interactive\S*|hostbased|gssapi\S*) for /.test(l)).length;
}

/** Runs a command on a lab host as root with the OpenSSH client; `extra` options come first, so they win (ssh keeps the first value). */
export function sshRoot(lab: TestLab, host: LabHostRef, command: string, extra: readonly string[] = []): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    'ssh',
    [...extra, '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', `root@${host.address}`, command],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The value lines `sshd -T` prints for a keyword on the host (the real sshd, the oracle). */
export function sshdDumpValue(lab: TestLab, host: LabHostRef, keyword: string, connection?: string): string[] {
  const command = `sshd -T${connection ? ` -C ${connection}` : ''}`;
  const result = sshRoot(lab, host, command);
  if (result.status !== 0) throw new Error(`sshd -T failed on ${host.name}: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith(`${keyword.toLowerCase()} `))
    .map((l) => l.slice(keyword.length + 1));
}

/** An inventory for the lab's hosts plus extra host lines (e.g. an address where nothing listens). */
export function labInventory(lab: TestLab, options: { extraHosts?: string[]; order?: string[]; hostExtras?: Record<string, string> } = {}): string {
  const names = options.order ?? lab.hosts.map((h) => h.name);
  const lines = [...renderLabInventoryDefaults(lab), 'hosts:'];
  for (const name of names) {
    const host = lab.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no lab host ${name}`);
    lines.push(`  ${name}: { address: ${host.address}${options.hostExtras?.[name] ? `, ${options.hostExtras[name]}` : ''} }`);
  }
  lines.push(...(options.extraHosts ?? []).map((l) => `  ${l}`));
  return lines.join('\n') + '\n';
}

/**
 * Live processes named `comm` in the host, zombies left out. Lab hosts share the machine's pid
 * namespace, so a process belongs to the host when it shares the login's mount namespace.
 */
export function processesInHost(lab: TestLab, host: LabHostRef, comm: string): string[] {
  const r = sshRoot(
    lab,
    host,
    `me=$(readlink /proc/self/ns/mnt); for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = ${comm} ] && [ "$(readlink $p/ns/mnt 2>/dev/null)" = "$me" ] && case "$(sed "s/^.*) //" $p/stat)" in Z*) ;; *) echo \${p#/proc/};; esac; done; true`,
  );
  if (r.status !== 0) throw new Error(`listing ${comm} processes on ${host.name} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** sshguard instances in the host: its script, not the pipeline subshells (named sshguard too, with an sshguard parent). */
export function sshguardInstances(lab: TestLab, host: LabHostRef): string[] {
  const all = processesInHost(lab, host, 'sshguard');
  return all.filter((pid) => {
    const parent = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1];
    return !all.includes(parent ?? '');
  });
}
