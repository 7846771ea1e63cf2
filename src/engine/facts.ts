/**
 * A host's facts: what the fact script recorded, interpreted. The engine reads what every service
 * needs (os, init system, uid, runner address, files); each service reads its own part. Pure; the
 * planners read these and nothing else.
 */
import { createHash } from 'node:crypto';
import { parseOpensshVersion } from '../config/openssh/version.js';
import { lookupService, SERVICE_IDS, type ServiceFacts } from '../services/registry.js';
import type { HostFacts } from '../services/host-facts.js';
import type { BaseFacts, InitSystem, RawFacts } from '../services/service.js';
import type { BuildCache } from './build-cache.js';

export type { HostFacts };

export function sha256Hex(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

function parseOsRelease(text: string): HostFacts['os'] {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1], match[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const os: HostFacts['os'] = {};
  const id = values.get('ID');
  const versionId = values.get('VERSION_ID');
  const prettyName = values.get('PRETTY_NAME');
  if (id) os.id = id;
  if (versionId) os.versionId = versionId;
  if (prettyName) os.prettyName = prettyName;
  return os;
}

export interface InterpretOptions {
  name: string;
  address: string;
  /** The banner the server sent, which carries the full version. */
  serverBanner?: string;
  /** Services whose facts to read (those the fact script was asked for); all when absent. */
  services?: readonly string[];
  /** The run's build facts: filled from this output, and read for builds the script skipped. */
  builds?: BuildCache;
}

/** Turns the fact script's raw records into HostFacts. */
export function interpretFacts(raw: RawFacts, options: InterpretOptions): HostFacts {
  const text = (name: string): string => raw.commands.get(name)?.stdout ?? '';
  const init = (/^init=(\S+)/m.exec(text('init'))?.[1] as InitSystem | undefined) ?? 'none';
  // SSH_CONNECTION: "client-ip client-port server-ip server-port", as the login saw it.
  const runnerAddress = text('ssh_connection').trim().split(/\s+/)[0] || undefined;
  const base: BaseFacts = {
    name: options.name,
    address: options.address,
    ...(runnerAddress ? { runnerAddress } : {}),
    ...(raw.commands.get('login_groups')?.exitCode === 0 ? { loginGroups: text('login_groups').split(/\s+/).filter(Boolean) } : {}),
    uid: Number(text('id').trim()),
    hostname: text('hostname').trim(),
    os: parseOsRelease(text('os_release')),
    init,
    files: raw.files,
    missing: raw.missing,
    unreadable: raw.unreadable,
    dirs: raw.dirs,
    symlinks: raw.symlinks,
  };
  const services: Record<string, unknown> = {};
  const builds: Record<string, string> = {};
  let version = options.serverBanner ? parseOpensshVersion(options.serverBanner) : undefined;
  for (const id of options.services ?? SERVICE_IDS) {
    const service = lookupService(id);
    if (!service) continue;
    const buildId = service.build ? raw.commands.get(`build_${id}`)?.stdout : undefined;
    let build = service.build?.read(raw);
    if (buildId !== undefined) {
      builds[id] = buildId;
      build = build !== undefined ? (options.builds?.store(id, buildId, build) ?? build) : options.builds?.get(id, buildId);
    }
    const facts = service.readFacts(raw, base, build);
    services[id] = facts;
    version ??= service.opensshVersion?.(facts);
  }
  return {
    ...base,
    ...(version ? { opensshVersion: version } : {}),
    ...(Object.keys(builds).length > 0 ? { builds } : {}),
    services: services as ServiceFacts,
  };
}

/** Paths in code-unit order: the same on every runner, and without localeCompare's collator (about 14 ms to set up, once per run). */
const byPath = ([a]: readonly [string, unknown], [b]: readonly [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0);

/** sha256 of every file the facts read (null for a path that did not exist), for saved plans. */
export function fileDigests(facts: HostFacts): Record<string, string | null> {
  const digests: Record<string, string | null> = {};
  for (const [path, file] of [...facts.files].sort(byPath)) digests[path] = sha256Hex(file.content);
  for (const path of [...facts.missing].sort()) digests[path] = null;
  return digests;
}
