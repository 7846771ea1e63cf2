/**
 * What every contender's run needs: the lab, where to put its files, and the shared settings.
 */
import { join } from 'node:path';
import type { BenchLab, BenchLabHost } from './bench-lab.js';

export interface RunContext {
  lab: BenchLab;
  /**
   * The inventory sshfix plans: the lab's hosts, or for a simulated fleet several inventory names
   * per lab host (each with its host's address and scenario).
   */
  fleet: readonly BenchLabHost[];
  /** The bench's scratch directory for this fleet size. */
  workDir: string;
  forks: number;
  connectTimeoutS: number;
}

/** The files of one run: outputs kept for inspection until the bench removes its directory. */
export function runFiles(ctx: RunContext, name: string): { stdout: string; stderr: string; time: string } {
  return { stdout: join(ctx.workDir, `${name}.out`), stderr: join(ctx.workDir, `${name}.err`), time: join(ctx.workDir, `${name}.time`) };
}

/** A fleet of `size` inventory names spread over the lab's hosts in turn (sim-00001 on the first host, ...). */
export function spreadFleet(hosts: readonly BenchLabHost[], size: number): BenchLabHost[] {
  const width = String(size).length;
  return Array.from({ length: size }, (_, i) => ({ ...(hosts[i % hosts.length] as BenchLabHost), name: `sim-${String(i + 1).padStart(width, '0')}` }));
}

/**
 * Per inventory host, from counts per lab address (logins in its auth.log, connections counted by
 * address): each lab host's count shared among the inventory names that point at it.
 */
export function perFleetHost(ctx: RunContext, countOf: (address: string) => number): number[] {
  const names = new Map<string, number>();
  for (const h of ctx.fleet) names.set(h.address, (names.get(h.address) ?? 0) + 1);
  return ctx.lab.hosts.map((h) => countOf(h.address) / (names.get(h.address) ?? 1));
}
