/**
 * The bench's command line: `node build/test/bench/run.js [--only fleet|load] [--sizes 50,500]
 * [--reps 3,1] [--forks 100] [--latency 0,25] [--connect-timeout 60] [--no-ansible] [--keep]`.
 */
import { BENCH_MAX_HOSTS } from './bench-lab.js';
import { RELAY_MAX_HOSTS } from './latency-relay.js';

/** A size above the lab's block is a simulated fleet: that many inventory names over this many lab hosts. */
export const SIMULATED_LAB_HOSTS = 50;
/** The largest simulated fleet. */
export const SIMULATED_MAX_HOSTS = 20_000;

/** The bench's parts: the fleet runs on the lab, and the load time of very large input files. */
export type BenchPart = 'fleet' | 'load';

export interface BenchOptions {
  parts: BenchPart[];
  /** Fleet sizes, each measured on a lab of its own. */
  sizes: number[];
  /** Repetitions per size (the median is reported). */
  reps: number[];
  /** The same --forks for sshfix, the floor (xargs -P) and Ansible. */
  forks: number;
  connectTimeoutS: number;
  ansible: boolean;
  /** Keep the bench's scratch directory (outputs of every run) for inspection. */
  keep: boolean;
  /** The OpenSSH build the lab's hosts run (`lab up --openssh`); the machine's sshd when absent. */
  openssh?: string;
  /** Milliseconds each way a relay adds between the contenders and the hosts, one set of runs per value; 0 connects directly. */
  latencies: number[];
}

export const USAGE = `usage: node build/test/bench/run.js [--only fleet|load] [--sizes 50,500] [--reps 3,1] [--forks 100] [--latency 0,25] [--connect-timeout 60] [--no-ansible] [--keep] [--openssh 10.0p1]
  --only             one part: fleet (the lab runs) or load (validate on a 5 MB playbook and a 100k-host inventory; no lab)
  --sizes            fleet sizes, each on a fresh lab (at most ${BENCH_MAX_HOSTS}: the bench's address block); a larger size,
                     up to ${SIMULATED_MAX_HOSTS}, is a simulated fleet: that many inventory names spread over ${SIMULATED_LAB_HOSTS} lab hosts,
                     planned by sshfix alone (e.g. --sizes 10000 --reps 1: the memory and runner CPU targets)
  --latency          milliseconds each way a TCP relay per host adds between every contender and the hosts, one set
                     of runs per value (default 0: no relay; e.g. 0,25)
  --reps             runs per size, one number for all or one per size (default: 3 up to 100 hosts, else 1)
  --forks            hosts worked on at once, the same for all three contenders (default 100)
  --connect-timeout  seconds each contender may take to connect and log in (default 60)
  --no-ansible       leave Ansible out
  --keep             keep the scratch directory with every run's output
  --openssh          run the lab's hosts on this OpenSSH build (scripts/build-openssh.sh), not the machine's sshd`;

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

function wholeNumbers(flag: string, value: string | undefined, least: number): number[] {
  const parts = (value ?? '').split(',');
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < least)) {
    throw new BenchUsageError(`${flag} wants ${least > 0 ? 'positive ' : ''}whole numbers separated by commas, not "${value ?? ''}"`);
  }
  return parts.map(Number);
}

const positiveInts = (flag: string, value: string | undefined): number[] => wholeNumbers(flag, value, 1);

const defaultReps = (hosts: number): number => (hosts <= 100 ? 3 : 1);

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let parts: BenchPart[] = ['fleet', 'load'];
  let sizes = [50, 500];
  let reps: number[] | undefined;
  let forks = 100;
  let connectTimeoutS = 60;
  let ansible = true;
  let keep = false;
  let openssh: string | undefined;
  let latencies = [0];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string | undefined => argv[++i];
    switch (arg) {
      case '--only': {
        const part = value();
        if (part !== 'fleet' && part !== 'load') throw new BenchUsageError(`--only wants fleet or load, not "${part ?? ''}"`);
        parts = [part];
        break;
      }
      case '--sizes':
        sizes = positiveInts(arg, value());
        break;
      case '--reps':
        reps = positiveInts(arg, value());
        break;
      case '--forks':
        forks = positiveInts(arg, value())[0] as number;
        break;
      case '--connect-timeout':
        connectTimeoutS = positiveInts(arg, value())[0] as number;
        break;
      case '--latency':
        latencies = wholeNumbers(arg, value(), 0);
        break;
      case '--no-ansible':
        ansible = false;
        break;
      case '--keep':
        keep = true;
        break;
      case '--openssh': {
        const build = value();
        if (!build || !/^\d+\.\d+p\d+$/.test(build)) throw new BenchUsageError(`--openssh wants a build such as 10.0p1, not "${build ?? ''}"`);
        openssh = build;
        break;
      }
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new BenchUsageError(`unknown argument "${arg ?? ''}"`);
    }
  }
  const tooBig = sizes.find((n) => n > SIMULATED_MAX_HOSTS);
  if (tooBig !== undefined) throw new BenchUsageError(`--sizes ${tooBig}: a simulated fleet has at most ${SIMULATED_MAX_HOSTS} hosts`);
  const unrelayed = latencies.some((ms) => ms > 0) ? sizes.find((n) => n <= BENCH_MAX_HOSTS && n > RELAY_MAX_HOSTS) : undefined;
  if (unrelayed !== undefined) throw new BenchUsageError(`--sizes ${unrelayed} with --latency: the relays' address block holds at most ${RELAY_MAX_HOSTS} hosts`);
  if (reps && reps.length !== 1 && reps.length !== sizes.length) throw new BenchUsageError(`--reps wants one number, or one per size (${sizes.length})`);
  const perSize = sizes.map((n, i) => (reps ? ((reps.length === 1 ? reps[0] : reps[i]) as number) : defaultReps(n)));
  return { parts, sizes, reps: perSize, forks, connectTimeoutS, ansible, keep, latencies, ...(openssh ? { openssh } : {}) };
}
