/**
 * Runs the fact script on a host (one exec round trip) and interprets what it printed.
 */
import type { Connection } from '../transport/types.js';
import type { BuildCache } from './build-cache.js';
import { buildDirScript, buildFactScript, FactOutputError, parseFactOutput, type FactRequest } from './facts-script.js';
import { interpretFacts, type HostFacts, type InterpretOptions } from './facts.js';

/** A host whose facts could not be read: the plan reports it as failed with this code. */
export class FactError extends Error {
  override name = 'FactError';
  constructor(
    readonly code: 'facts-failed' | 'facts-unreadable',
    message: string,
    readonly diagnosis?: string,
  ) {
    super(message);
  }
}

export interface GatherOptions {
  name: string;
  address: string;
  timeoutMs?: number;
  /** The run's build facts: a host of a build already read skips those reads. */
  builds?: BuildCache;
}

/** One exec round trip: the fact script goes in on stdin, records come back on stdout. */
export async function gatherFacts(connection: Connection, request: FactRequest, options: GatherOptions): Promise<HostFacts> {
  const { builds } = options;
  // Hosts showing the same banner most likely run the same build: one reads its facts while the others wait.
  const done = builds ? await builds.turn(connection.info.serverBanner ?? '') : undefined;
  let facts: HostFacts | undefined;
  try {
    facts = await readFacts(connection, request, options);
    return facts;
  } finally {
    done?.(facts !== undefined);
  }
}

async function readFacts(connection: Connection, request: FactRequest, options: GatherOptions): Promise<HostFacts> {
  const known = options.builds ? Object.fromEntries(Object.keys(request.services).map((id) => [id, options.builds?.known(id) ?? []])) : {};
  const result = await connection.exec('exec sh -s', {
    stdin: buildFactScript(request, known),
    forwardEnv: ['SSH_CONNECTION'],
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (result.exitCode !== 0) {
    const stderr = result.stderr.toString('utf8').trim();
    throw new FactError(
      'facts-failed',
      `reading facts failed (exit ${result.exitCode ?? result.signal}): ${stderr.split('\n').slice(-3).join(' ') || 'no message'}`,
      'The host needs a POSIX sh with base64, stat, awk and mktemp.',
    );
  }
  return factsFromOutput(result.stdout.toString('utf8'), {
    name: options.name,
    address: options.address,
    services: Object.keys(request.services),
    ...(options.builds ? { builds: options.builds } : {}),
    ...(connection.info.serverBanner ? { serverBanner: connection.info.serverBanner } : {}),
  });
}

export function factsFromOutput(stdout: string, options: InterpretOptions): HostFacts {
  try {
    return interpretFacts(parseFactOutput(stdout), options);
  } catch (error) {
    if (error instanceof FactOutputError) throw new FactError('facts-unreadable', error.message);
    throw error;
  }
}

/** A second round trip for directories the first one did not list; returns the facts with them merged in. */
export async function gatherMore(connection: Connection, facts: HostFacts, dirs: readonly string[]): Promise<HostFacts> {
  const result = await connection.exec('exec sh -s', { stdin: buildDirScript(dirs), timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new FactError('facts-failed', `reading ${dirs.join(', ')} failed (exit ${result.exitCode ?? result.signal})`);
  let extra;
  try {
    extra = parseFactOutput(result.stdout.toString('utf8'));
  } catch (error) {
    if (error instanceof FactOutputError) throw new FactError('facts-unreadable', error.message);
    throw error;
  }
  return {
    ...facts,
    files: new Map([...facts.files, ...extra.files]),
    missing: new Set([...facts.missing, ...extra.missing]),
    unreadable: new Set([...facts.unreadable, ...extra.unreadable]),
    dirs: new Map([...facts.dirs, ...extra.dirs]),
    symlinks: new Map([...facts.symlinks, ...extra.symlinks]),
  };
}
