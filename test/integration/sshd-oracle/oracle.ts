/**
 * The real sshd as an oracle: runs `sshd -T` / `sshd -t` on config trees that live at /etc/ssh,
 * inside a private mount namespace where a temporary directory is bind-mounted over /etc/ssh, so
 * relative and absolute Includes resolve exactly as on a host. The real /etc/ssh is never
 * touched, nothing listens, and every case of a batch runs in one namespace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { formatConnectionSpec } from '../../../src/config/sshd/connection-spec.js';
import type { MatchConnection } from '../../../src/config/sshd/match.js';

export const SSHD = '/usr/sbin/sshd';

/** One sshd invocation: `-T` (dump) or `-t` (check), with an optional `-C` connection spec. */
export interface OracleRun {
  mode: 'T' | 't';
  spec?: string;
}

/** A config tree: absolute paths under /etc/ssh -> contents (the main file is /etc/ssh/sshd_config). */
export interface OracleCase {
  files: ReadonlyMap<string, string>;
  runs: readonly OracleRun[];
}

export interface OracleOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Throws, with what is missing, unless this process can run the oracle. Tests must not skip. */
export function assertOracleAvailable(): void {
  const problems: string[] = [];
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) problems.push('the sshd oracle needs root (sshd -T refuses otherwise)');
  if (!existsSync(SSHD)) problems.push(`${SSHD} is missing: apt-get install openssh-server`);
  const unshare = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true']);
  if (unshare.status !== 0) problems.push(`unshare --mount failed: ${unshare.stderr?.toString() ?? unshare.error?.message ?? ''}`);
  if (problems.length) throw new Error(`sshd oracle unavailable: ${problems.join('; ')}`);
}

let hostKeyDir: string | undefined;

function hostKey(): string {
  if (!hostKeyDir || !existsSync(join(hostKeyDir, 'ssh_host_ed25519_key'))) {
    hostKeyDir = mkdtempSync(join(tmpdir(), 'sshfix-oracle-key-'));
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(hostKeyDir, 'ssh_host_ed25519_key')]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
    process.once('exit', () => rmSync(hostKeyDir!, { recursive: true, force: true }));
  }
  return join(hostKeyDir, 'ssh_host_ed25519_key');
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs every case in one namespace. Results are in case order, then run order. */
export function runSshdOracle(cases: readonly OracleCase[], sshd: string = SSHD): OracleOutcome[][] {
  const base = mkdtempSync(join(tmpdir(), 'sshfix-oracle-'));
  try {
    const scriptPath = prepare(base, cases, sshd);
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', scriptPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`oracle namespace failed (exit ${String(r.status)}): ${r.stderr}`);
    return collect(base, cases);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** Like runSshdOracle, split over `workers` namespaces running at once (one per core). */
export async function runSshdOracleParallel(cases: readonly OracleCase[], workers = 2, sshd: string = SSHD): Promise<OracleOutcome[][]> {
  const size = Math.ceil(cases.length / workers) || 1;
  const chunks: OracleCase[][] = [];
  for (let i = 0; i < cases.length; i += size) chunks.push(cases.slice(i, i + size));
  const results = await Promise.all(
    chunks.map(async (chunk) => {
      const base = mkdtempSync(join(tmpdir(), 'sshfix-oracle-'));
      try {
        const scriptPath = prepare(base, chunk, sshd);
        await new Promise<void>((resolve, reject) => {
          const child = spawn('unshare', ['--mount', '--propagation', 'private', 'bash', scriptPath], { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`oracle namespace failed (exit ${String(code)}): ${stderr}`))));
        });
        return collect(base, chunk);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }),
  );
  return results.flat();
}

function collect(base: string, cases: readonly OracleCase[]): OracleOutcome[][] {
  return cases.map((c, i) =>
    c.runs.map((_, j) => {
      const out = join(base, `${i}.${j}`);
      return {
        exitCode: Number(readFileSync(`${out}.rc`, 'utf8').trim()),
        stdout: readFileSync(`${out}.out`, 'utf8'),
        stderr: readFileSync(`${out}.err`, 'utf8'),
      };
    }),
  );
}

/** Writes every case's tree under `base` and the script that runs them; returns the script path. */
function prepare(base: string, cases: readonly OracleCase[], sshd: string = SSHD): string {
  {
    const key = hostKey();
    const script: string[] = ['set -u', 'mount -t tmpfs tmpfs /run || exit 90', 'mkdir -p /run/sshd'];
    cases.forEach((c, i) => {
      const dir = join(base, String(i));
      const upper = join(base, `${i}-etc`);
      mkdirSync(dir, { recursive: true });
      let needsOverlay = false;
      for (const [path, text] of c.files) {
        let target: string;
        if (path.startsWith('/etc/ssh/')) target = join(dir, path.slice('/etc/ssh/'.length));
        else if (path.startsWith('/etc/')) {
          // Files elsewhere in /etc (crypto-policies) go into a private overlay of /etc.
          target = join(upper, path.slice('/etc/'.length));
          needsOverlay = true;
        } else throw new Error(`oracle files must live under /etc: ${path}`);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
      if (needsOverlay) {
        mkdirSync(join(base, `${i}-work`));
        script.push(`mount -t overlay overlay -o ${shellQuote(`lowerdir=/etc,upperdir=${upper},workdir=${join(base, `${i}-work`)}`)} /etc || exit 93`);
      }
      if (!c.files.has('/etc/ssh/ssh_host_ed25519_key')) {
        cpSync(key, join(dir, 'ssh_host_ed25519_key'));
      }
      script.push(`mount --bind ${shellQuote(dir)} /etc/ssh || exit 91`);
      c.runs.forEach((r, j) => {
        const args = [`-${r.mode}`, '-f', '/etc/ssh/sshd_config', ...(r.spec !== undefined ? ['-C', r.spec] : [])];
        const out = join(base, `${i}.${j}`);
        script.push(`(cd / && ${shellQuote(sshd)} ${args.map(shellQuote).join(' ')}) >${shellQuote(`${out}.out`)} 2>${shellQuote(`${out}.err`)}; echo $? >${shellQuote(`${out}.rc`)}`);
      });
      script.push('umount /etc/ssh || exit 92');
      if (needsOverlay) script.push('umount /etc || exit 94');
    });
    const scriptPath = join(base, 'run.sh');
    writeFileSync(scriptPath, `${script.join('\n')}\n`);
    return scriptPath;
  }
}

/** The -C spec for a connection, with every field sshd's Match can test. */
export function connectionSpec(c: MatchConnection): string {
  return formatConnectionSpec(c);
}

/** Lines only one side has (order differences reported once). Empty when equal. */
export function lineDiff(engine: readonly string[], sshd: readonly string[]): string {
  const e = new Set(engine);
  const s = new Set(sshd);
  const out = [...engine.filter((l) => !s.has(l)).map((l) => `  engine: ${l}`), ...sshd.filter((l) => !e.has(l)).map((l) => `  sshd:   ${l}`)];
  if (out.length === 0 && engine.join('\n') !== sshd.join('\n')) out.push('  (same lines, different order)');
  return out.join('\n');
}

