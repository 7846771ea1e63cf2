/**
 * The bench's lab: started and stopped through the built CLI (`sshfix lab up|down`), as a user
 * would, in the bench's own address block (127.77.50.x to 127.77.52.x).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from '../helpers/lab-fixture.js';

/** The bench's address block: 127.77.50.1 onwards; 500 hosts end in 127.77.51.x. */
export const BENCH_FIRST_ADDRESS = '127.77.50.1';
/** The last address the block may use (127.77.52.254): the most hosts it holds, skipping .0 and .255. */
export const BENCH_MAX_HOSTS = 3 * 254;

export interface BenchLabHost {
  name: string;
  address: string;
  scenario: string;
  /** sshd's pid: the host's files are under /proc/PID/root. */
  sshdPid: number;
}

export interface BenchLab {
  dir: string;
  inventory: string;
  identityFile: string;
  knownHosts: string;
  hosts: BenchLabHost[];
}

export interface CliRun {
  status: number | null;
  output: string;
  seconds: number;
}

function runLabCommand(args: readonly string[]): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so a Ctrl-C on the terminal reaches the bench only. Neither command
    // is ever interrupted: `lab up` records a host only once it answers, so stopping it part-way
    // would leave sshd daemons that `lab down` does not know of. The bench waits, then stops the lab.
    const child = spawn(process.execPath, [CLI, 'lab', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => {
      resolve({ status, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

interface LabStateFile {
  hosts: { name: string; address: string; scenario: string; sshd: { pid: number } }[];
}

/** The hosts `lab up` recorded in DIR/lab.json (also after a failed start: those it did start). */
export function readLabHosts(dir: string): BenchLabHost[] {
  const state = join(dir, 'lab.json');
  if (!existsSync(state)) return [];
  const parsed = JSON.parse(readFileSync(state, 'utf8')) as LabStateFile;
  return parsed.hosts.map((h) => ({ name: h.name, address: h.address, scenario: h.scenario, sshdPid: h.sshd.pid }));
}

/**
 * Addresses of the bench's block that something already listens on port 22 of (from
 * /proc/net/tcp, whose addresses are in host byte order): a lab left running there would make
 * `lab up` fail with a less clear message.
 */
export function busyBenchAddresses(): string[] {
  const busy: string[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (!local || state !== '0A') continue;
    const [hexAddress, hexPort] = local.split(':');
    if (parseInt(hexPort ?? '', 16) !== 22) continue;
    const value = parseInt(hexAddress ?? '', 16);
    const bytes = [value & 255, (value >>> 8) & 255, (value >>> 16) & 255, value >>> 24];
    if (bytes[0] === 127 && bytes[1] === 77 && (bytes[2] ?? 0) >= 50 && (bytes[2] ?? 0) <= 52) busy.push(bytes.join('.'));
  }
  return busy;
}

export type LabUpResult = { ok: true; lab: BenchLab; seconds: number } | { ok: false; started: number; seconds: number; message: string };

export async function startBenchLab(dir: string, hosts: number, openssh?: string): Promise<LabUpResult> {
  const busy = busyBenchAddresses();
  if (busy.length > 0) {
    const shown = busy.slice(0, 5).join(', ') + (busy.length > 5 ? ` and ${busy.length - 5} more` : '');
    return { ok: false, started: 0, seconds: 0, message: `the bench's addresses are in use on port 22 (${shown}): a lab left running there? stop it with sshfix lab down --dir DIR` };
  }
  const run = await runLabCommand(['up', '--hosts', String(hosts), '--dir', dir, '--first-address', BENCH_FIRST_ADDRESS, ...(openssh ? ['--openssh', openssh] : [])]);
  const started = readLabHosts(dir);
  if (run.status !== 0 || started.length !== hosts) {
    // The error, not the progress lines ("lab-01 127.77.50.1 started (...)") around it.
    const progress = /^\S+ \S+ (started|already running|stopped)\b/;
    const tail = run.output
      .trim()
      .split('\n')
      .filter((line) => !progress.test(line))
      .slice(-6)
      .join('\n');
    return { ok: false, started: started.length, seconds: run.seconds, message: `lab up exited ${run.status}: ${tail}` };
  }
  return {
    ok: true,
    seconds: run.seconds,
    lab: {
      dir,
      inventory: join(dir, 'inventory.yaml'),
      identityFile: join(dir, 'id_ed25519'),
      knownHosts: join(dir, 'known_hosts'),
      hosts: started,
    },
  };
}

export async function stopBenchLab(dir: string): Promise<CliRun> {
  return runLabCommand(['down', '--dir', dir]);
}
