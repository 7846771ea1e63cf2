/**
 * The real `tcpdmatch` (Debian package `tcpd`, built from the same libwrap sshd links) as an
 * oracle. Each case's hosts.allow and hosts.deny are written to a directory of their own and read
 * with `tcpdmatch -d` there, so the machine's /etc/hosts.* are never read or touched. Every run
 * happens inside `unshare --net`, a network namespace without interfaces: whatever tcpdmatch
 * would look up can never leave the machine. A client given as an address gets the name
 * `unknown` (tcpdmatch assumes the lookup failed). To ask about named clients, pass `hosts`: the
 * run then also gets a private mount namespace where that text is bind-mounted over /etc/hosts
 * and `hosts: files` over /etc/nsswitch.conf, so names resolve from it alone (the machine's files
 * are not touched); tcpdmatch then checks the name with each of its addresses.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TCPDMATCH = '/usr/sbin/tcpdmatch';

export interface TcpdQuery {
  daemon: string;
  client: string;
}

export interface TcpdCase {
  allow: string;
  deny: string;
  queries: readonly TcpdQuery[];
}

/** What tcpdmatch printed on its `access:` line (`granted`, `denied`, `delegated`), or `missing`. */
export type TcpdVerdict = string;

/** Throws, saying what is missing, unless the oracle can run here. Tests must not skip. */
export function assertTcpdmatchAvailable(): void {
  const problems: string[] = [];
  if (!existsSync(TCPDMATCH)) problems.push(`${TCPDMATCH} is missing: apt-get install --no-install-recommends tcpd`);
  const unshare = spawnSync('unshare', ['--net', '--mount', '--propagation', 'private', 'true']);
  if (unshare.status !== 0) problems.push(`unshare --net --mount failed (needs root): ${unshare.stderr?.toString() ?? unshare.error?.message ?? ''}`);
  if (problems.length) throw new Error(`tcpdmatch oracle unavailable: ${problems.join('; ')}`);
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs every query of every case in one namespace; verdicts in case, then query order. */
export function runTcpdmatch(cases: readonly TcpdCase[], options: { hosts?: string } = {}): TcpdVerdict[][] {
  const base = mkdtempSync(join(tmpdir(), 'sshfix-tcpd-oracle-'));
  try {
    const script: string[] = ['set -eu'];
    if (options.hosts !== undefined) {
      writeFileSync(join(base, 'hosts'), options.hosts);
      writeFileSync(join(base, 'nsswitch.conf'), 'hosts: files\nnetgroup: files\n');
      script.push(`mount --bind ${shellQuote(join(base, 'hosts'))} /etc/hosts`, `mount --bind ${shellQuote(join(base, 'nsswitch.conf'))} /etc/nsswitch.conf`);
    }
    script.push('set +e');
    cases.forEach((c, i) => {
      const dir = join(base, String(i));
      mkdirSync(dir);
      writeFileSync(join(dir, 'hosts.allow'), c.allow);
      writeFileSync(join(dir, 'hosts.deny'), c.deny);
      script.push(`cd ${shellQuote(dir)}`);
      c.queries.forEach((q, j) => {
        script.push(`echo "@@ ${i} ${j}"`, `${TCPDMATCH} -d ${shellQuote(q.daemon)} ${shellQuote(q.client)} 2>/dev/null`);
      });
    });
    const scriptPath = join(base, 'run.sh');
    writeFileSync(scriptPath, script.join('\n') + '\n');
    const namespaces = options.hosts !== undefined ? ['--net', '--mount', '--propagation', 'private'] : ['--net'];
    const r = spawnSync('unshare', [...namespaces, 'sh', scriptPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`tcpdmatch namespace failed (exit ${String(r.status)}): ${r.stderr}`);
    const out: TcpdVerdict[][] = cases.map((c) => c.queries.map(() => 'missing'));
    let current: [number, number] | undefined;
    for (const line of r.stdout.split('\n')) {
      const head = /^@@ (\d+) (\d+)$/.exec(line);
      if (head) current = [Number(head[1]), Number(head[2])];
      else if (current && line.startsWith('access:')) out[current[0]]![current[1]] = line.slice('access:'.length).trim();
    }
    return out;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
