/**
 * Starting and stopping a lab from a test, through the built CLI as a user would. Each test file
 * passes its own first address (see ADDRESS BLOCKS below) and gets its own directory, so files that
 * run side by side never share hosts.
 *
 * ADDRESS BLOCKS (third octet of 127.77.x.y): 0 = the default `sshfix lab up` lab (never used by
 * tests), 10-11 = lab.test, 20 = plan e2e, 30 = transport, 40 = apply, 50-52 = bench, 60 = review and plan guard e2e, 70-71 = perf work, 80 = lab backups, 81 = ansible e2e, 82 = diagnose, 83 = ci fleet, 84 = injection e2e, 86 = lab-syslog (clients 127.0.0.9-11), 87 = fail2ban task e2e, 88 = wrappers/sshguard e2e (clients 127.0.0.9, 127.0.0.10, 127.0.0.12), 89 = ssh_client e2e, 91 = apply newcomer, 92 = lab newcomer, 93 = rollback e2e, 94-95 = OpenSSH 10 lab, 96 = plan shared facts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const CLI = join(REPO_ROOT, 'build', 'src', 'cli', 'main.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI. `privateRun`: in a private mount namespace whose /run is a fresh tmpfs with
 * /run/sshd, for a run whose local commands include `sshd -T` (a fresh machine has no /run/sshd).
 */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; privateRun?: boolean } = {}): CliResult {
  const [command, argv] = options.privateRun
    ? ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0755 sshfix-test /run && mkdir -m 0755 /run/sshd && exec "$0" "$@"', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  const result = spawnSync(command, argv, {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    cwd: options.cwd ?? REPO_ROOT,
    timeout: 300_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Fails loudly (never skips) when this machine cannot run the lab: the suite must not pass
 * silently without having exercised real sshd daemons.
 */
export function requireLabMachine(): void {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) missing.push('root (run the suite as root, as .ci/run does)');
  if (!existsSync('/usr/sbin/sshd')) missing.push('/usr/sbin/sshd (apt-get install -y openssh-server)');
  if (missing.length > 0) {
    throw new Error(`LAB TESTS CANNOT RUN: this machine lacks ${missing.join(', ')}. These tests need real sshd daemons.`);
  }
}

export interface TestLab {
  dir: string;
  inventory: string;
  identityFile: string;
  knownHosts: string;
  becomePassword: string;
  hosts: { name: string; address: string; scenario: string }[];
  down(): CliResult;
}

export function startTestLab(options: { hosts: number; firstAddress: string; scenarios?: readonly string[] }): TestLab {
  requireLabMachine();
  // Not under /tmp: every lab host mounts its own /tmp, which would hide the lab's files.
  const dir = mkdtempSync(join('/var/tmp', 'sshfix-test-lab-'));
  const args = ['lab', 'up', '--hosts', String(options.hosts), '--dir', dir, '--first-address', options.firstAddress];
  if (options.scenarios) args.push('--scenarios', options.scenarios.join(','));
  const up = runCli(args);
  // The directory goes only once `lab down` succeeded: without it, a lab left running could not be
  // found again (its sshd would hold the address and fail every later test that uses it).
  const stop = (): CliResult => {
    let result = runCli(['lab', 'down', '--dir', dir]);
    if (result.status !== 0) result = runCli(['lab', 'down', '--dir', dir]);
    if (result.status !== 0) {
      throw new Error(`sshfix lab down --dir ${dir} failed twice (${result.status}); the lab may still run, stop it with that command:\n${result.stderr}${result.stdout}`);
    }
    rmSync(dir, { recursive: true, force: true });
    return result;
  };
  if (up.status !== 0) {
    let leftover = '';
    try {
      stop();
    } catch (error) {
      leftover = `\n${(error as Error).message}`;
    }
    throw new Error(`sshfix lab up failed (${up.status}):\n${up.stderr}${up.stdout}${leftover}`);
  }
  const state = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as {
    hosts: { name: string; address: string; scenario: string }[];
  };
  const secrets = readFileSync(join(dir, 'secrets.env'), 'utf8');
  return {
    dir,
    inventory: join(dir, 'inventory.yaml'),
    identityFile: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    becomePassword: /='([^']*)'/.exec(secrets)?.[1] ?? '',
    hosts: state.hosts,
    down: stop,
  };
}

/** A scratch directory outside the paths lab hosts mount over. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
