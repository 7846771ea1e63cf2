/**
 * What sshfix's ssh2 client did per host in one run, as counted by ssh2-census-hook.ts inside the
 * sshfix process: connections it started, connections that authenticated, and exec requests (one
 * exec request is one round trip: a session channel, a command, its output and exit status).
 */
import { existsSync, readFileSync } from 'node:fs';

/** The environment variable that tells the hook where to write its counts. */
export const CENSUS_FILE_ENV = 'SSHFIX_BENCH_CENSUS_FILE';

export interface HostCensus {
  connects: number;
  authenticated: number;
  execs: number;
}

/** Counts by the address sshfix connected to. */
export type Census = Record<string, HostCensus>;

export function readCensus(path: string): Census | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Census) : undefined;
}
