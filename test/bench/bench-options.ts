/**
 * The bench's command line: `node build/test/bench/run.js [--only fleet|load] [--sizes 50,500]
 * [--reps 3,1] [--forks 100] [--connect-timeout 60] [--no-ansible] [--keep]`.
 */
import { BENCH_MAX_HOSTS } from './bench-lab.js';

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
}

export const USAGE = `usage: node build/test/bench/run.js [--only fleet|load] [--sizes 50,500] [--reps 3,1] [--forks 100] [--connect-timeout 60] [--no-ansible] [--keep]
  --only             one part: fleet (the lab runs) or load (validate on a 5 MB playbook and a 100k-host inventory; no lab)
  --sizes            fleet sizes, each on a fresh lab (at most ${BENCH_MAX_HOSTS}: the bench's address block)
  --reps             runs per size, one number for all or one per size (default: 3 up to 100 hosts, else 1)
  --forks            hosts worked on at once, the same for all three contenders (default 100)
  --connect-timeout  seconds each contender may take to connect and log in (default 60)
  --no-ansible       leave Ansible out
  --keep             keep the scratch directory with every run's output`;

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

function positiveInts(flag: string, value: string | undefined): number[] {
  const parts = (value ?? '').split(',');
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new BenchUsageError(`${flag} wants positive whole numbers separated by commas, not "${value ?? ''}"`);
  return parts.map(Number);
}

const defaultReps = (hosts: number): number => (hosts <= 100 ? 3 : 1);

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  let parts: BenchPart[] = ['fleet', 'load'];
  let sizes = [50, 500];
  let reps: number[] | undefined;
  let forks = 100;
  let connectTimeoutS = 60;
  let ansible = true;
  let keep = false;
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
      case '--no-ansible':
        ansible = false;
        break;
      case '--keep':
        keep = true;
        break;
      case '-h':
      case '--help':
        return 'help';
      default:
        throw new BenchUsageError(`unknown argument "${arg ?? ''}"`);
    }
  }
  const tooBig = sizes.find((n) => n > BENCH_MAX_HOSTS);
  if (tooBig !== undefined) throw new BenchUsageError(`--sizes ${tooBig}: the bench's address block (127.77.50.1 to 127.77.52.254) holds at most ${BENCH_MAX_HOSTS} hosts`);
  if (reps && reps.length !== 1 && reps.length !== sizes.length) throw new BenchUsageError(`--reps wants one number, or one per size (${sizes.length})`);
  const perSize = sizes.map((n, i) => (reps ? ((reps.length === 1 ? reps[0] : reps[i]) as number) : defaultReps(n)));
  return { parts, sizes, reps: perSize, forks, connectTimeoutS, ansible, keep };
}
