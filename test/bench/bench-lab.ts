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

/** The pid of the lab command running now, so an interrupt can stop it. */
let runningLabCommand: number | undefined;

export function stopRunningLabCommand(): void {
  if (runningLabCommand === undefined) return;
  try {
    process.kill(runningLabCommand, 'SIGTERM');
  } catch {
    // already gone
  }
}

function runLabCommand(args: readonly string[]): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'lab', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    runningLabCommand = child.pid;
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => {
      runningLabCommand = undefined;
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

export type LabUpResult = { ok: true; lab: BenchLab; seconds: number } | { ok: false; started: number; seconds: number; message: string };

export async function startBenchLab(dir: string, hosts: number): Promise<LabUpResult> {
  const run = await runLabCommand(['up', '--hosts', String(hosts), '--dir', dir, '--first-address', BENCH_FIRST_ADDRESS]);
  const started = readLabHosts(dir);
  if (run.status !== 0 || started.length !== hosts) {
    const tail = run.output.trim().split('\n').slice(-6).join('\n');
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
