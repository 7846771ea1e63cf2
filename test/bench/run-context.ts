/**
 * What every contender's run needs: the lab, where to put its files, and the shared settings.
 */
import { join } from 'node:path';
import type { BenchLab } from './bench-lab.js';

export interface RunContext {
  lab: BenchLab;
  /** The bench's scratch directory for this fleet size. */
  workDir: string;
  forks: number;
  connectTimeoutS: number;
}

/** The files of one run: outputs kept for inspection until the bench removes its directory. */
export function runFiles(ctx: RunContext, name: string): { stdout: string; stderr: string; time: string } {
  return { stdout: join(ctx.workDir, `${name}.out`), stderr: join(ctx.workDir, `${name}.err`), time: join(ctx.workDir, `${name}.time`) };
}
