/**
 * Saved plans (`plan --out FILE`, `apply --plan FILE`): the per-host changes, the exact contents to
 * write, and the sha256 of every file the plan read, so apply can refuse a host whose files
 * changed since (a stale plan) and otherwise write exactly what was planned. Pure: serialise and
 * parse; the CLI does the file I/O.
 */
import { lookupService, type ServiceExpectation, type ServicePlans } from '../services/registry.js';
import { isRecord, isSafePath } from '../util/safe-values.js';
import type { FactRequest } from './facts-script.js';
import { sha256Hex } from './facts.js';
import type { HostPlan, PlannedFile } from './plan-model.js';

export const PLAN_FILE_FORMAT = 'sshfix-plan';
/** 2: per-service plan data (`services`), and the service of each file and expectation. */
export const PLAN_FILE_VERSION = 2;

export interface SavedHostPlan {
  name: string;
  address: string;
  status: HostPlan['status'];
  files_read: Record<string, string | null>;
  fact_request: FactRequest;
  /** The build whose facts (defaults, algorithm lists) the plan used, by service: a record, not checked at apply. */
  builds?: Record<string, string>;
  files: { path: string; write_path: string; service: string; mode: number; uid: number; gid: number; before_sha256: string | null; after_base64: string }[];
  expectations: ServiceExpectation[];
  /** Each touched service's part of the plan (what its commit validates). */
  services: ServicePlans;
  changes: HostPlan['changes'];
  /** Operations on running services (absent in plans made before actions existed: none). */
  actions?: HostPlan['actions'];
  warnings: string[];
}

export interface SavedPlan {
  format: typeof PLAN_FILE_FORMAT;
  format_version: typeof PLAN_FILE_VERSION;
  created_at: string;
  sshfix_version: string;
  inventory: string;
  playbooks: string[];
  hosts: SavedHostPlan[];
}

export interface PlanToSave {
  createdAt: Date;
  version: string;
  inventory: string;
  playbooks: readonly string[];
  hosts: readonly { plan: HostPlan; request?: FactRequest }[];
}


/** A host's plan in saved form (also how apply hands a confirmed plan to itself). */
export function toSavedHost(plan: HostPlan, request: FactRequest | undefined): SavedHostPlan {
  return {
    name: plan.name,
    address: plan.address,
    status: plan.status,
    files_read: plan.filesRead,
    fact_request: request ?? { services: {}, files: [], dirs: [] },
    ...(plan.facts?.builds ? { builds: plan.facts.builds } : {}),
    files: plan.files.map((f) => ({
      path: f.path,
      write_path: f.writePath,
      service: f.service,
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
      before_sha256: f.before ? sha256Hex(f.before) : null,
      after_base64: f.after.toString('base64'),
    })),
    expectations: plan.expectations,
    services: plan.services,
    changes: plan.changes,
    actions: plan.actions,
    warnings: plan.warnings,
  };
}

/** The JSON text of a saved plan. Holds file contents (configs), never secrets. */
export function serialisePlan(input: PlanToSave): string {
  const saved: SavedPlan = {
    format: PLAN_FILE_FORMAT,
    format_version: PLAN_FILE_VERSION,
    created_at: input.createdAt.toISOString(),
    sshfix_version: input.version,
    inventory: input.inventory,
    playbooks: [...input.playbooks],
    hosts: input.hosts.map((h) => toSavedHost(h.plan, h.request)),
  };
  return JSON.stringify(saved, null, 2) + '\n';
}

export class PlanFileError extends Error {
  override name = 'PlanFileError';
}

const SHA256 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** A path a service's facts read: absolute, or `~/...` (the login account's home, known only on the host: ssh_client's ~/.ssh/config). */
const isSafeRequestPath = (v: unknown): boolean => isSafePath(v) || (typeof v === 'string' && v.startsWith('~/') && isSafePath(v.slice(1)));

/** Every problem with one saved host, so a hand-edited or damaged plan never reaches a script. */
function checkSavedHost(host: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (typeof host['name'] !== 'string') problems.push('name');
  const read = host['files_read'];
  if (!isRecord(read) || !Object.entries(read).every(([path, digest]) => isSafePath(path) && (digest === null || (typeof digest === 'string' && SHA256.test(digest))))) {
    problems.push('files_read');
  }
  const request = host['fact_request'];
  if (
    !isRecord(request) ||
    !['files', 'dirs'].every((k) => Array.isArray(request[k]) && (request[k] as unknown[]).every(isSafePath)) ||
    !isRecord(request['services']) ||
    !Object.entries(request['services']).every(([id, paths]) => lookupService(id) && Array.isArray(paths) && paths.every(isSafeRequestPath)) ||
    (request['groups'] !== undefined && typeof request['groups'] !== 'boolean')
  ) {
    problems.push('fact_request');
  }
  const builds = host['builds'];
  if (builds !== undefined && !(isRecord(builds) && Object.values(builds).every((v) => typeof v === 'string'))) problems.push('builds');
  const files = host['files'];
  if (!Array.isArray(files)) problems.push('files');
  else {
    files.forEach((f: unknown, i) => {
      if (
        !isRecord(f) ||
        !isSafePath(f['path']) ||
        !isSafePath(f['write_path']) ||
        !(f['service'] === 'none' || (typeof f['service'] === 'string' && lookupService(f['service']))) ||
        !isUint(f['mode'], 0o7777) ||
        !isUint(f['uid'], 2 ** 32 - 1) ||
        !isUint(f['gid'], 2 ** 32 - 1) ||
        !(f['before_sha256'] === null || (typeof f['before_sha256'] === 'string' && SHA256.test(f['before_sha256']))) ||
        typeof f['after_base64'] !== 'string' ||
        !BASE64.test(f['after_base64'])
      ) {
        problems.push(`files[${i}]`);
      }
    });
  }
  const expectations = host['expectations'];
  if (!Array.isArray(expectations) || !expectations.every((e: unknown) => isRecord(e) && typeof e['service'] === 'string' && lookupService(e['service'])?.isSavedExpectation(e))) {
    problems.push('expectations');
  }
  const actions = host['actions'];
  if (actions !== undefined && !(Array.isArray(actions) && actions.every((a: unknown) => isRecord(a) && typeof a['task'] === 'string' && typeof a['description'] === 'string' && typeof a['service'] === 'string' && lookupService(a['service'])))) {
    problems.push('actions');
  }
  const services = host['services'];
  if (!isRecord(services) || !Object.entries(services).every(([id, data]) => lookupService(id)?.isSavedPlan(data))) problems.push('services');
  return problems;
}

/** Reads a saved plan, refusing anything that is not exactly one (or a version this build cannot apply). */
export function parseSavedPlan(text: string, file: string): SavedPlan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PlanFileError(`${file} is not a saved plan: ${(error as Error).message}`);
  }
  if (!isRecord(data) || data['format'] !== PLAN_FILE_FORMAT) throw new PlanFileError(`${file} is not a saved sshfix plan (made by \`sshfix plan --out\`)`);
  if (data['format_version'] !== PLAN_FILE_VERSION) {
    throw new PlanFileError(`${file} is a version ${String(data['format_version'])} plan; this sshfix applies version ${PLAN_FILE_VERSION}: run plan again`);
  }
  if (!Array.isArray(data['hosts'])) throw new PlanFileError(`${file}: "hosts" is missing`);
  for (const [index, host] of (data['hosts'] as unknown[]).entries()) {
    const problems = isRecord(host) ? checkSavedHost(host) : ['the entry'];
    if (problems.length > 0) throw new PlanFileError(`${file}: host ${index + 1} is malformed (${problems.join(', ')}): make the plan again rather than editing it`);
  }
  return data as unknown as SavedPlan;
}

/** The planned files of a saved host, as apply writes them. */
export function savedFiles(host: SavedHostPlan): PlannedFile[] {
  return host.files.map((f) => ({
    path: f.path,
    writePath: f.write_path,
    after: Buffer.from(f.after_base64, 'base64'),
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    service: f.service,
  }));
}

/**
 * Paths that differ between what the plan read and what the same reads give now (a stale plan):
 * changed, removed, or new (a drop-in that appeared is read now and was not then). Empty when none.
 */
export function staleFiles(saved: Readonly<Record<string, string | null>>, now: Readonly<Record<string, string | null>>): string[] {
  const paths = new Set([...Object.keys(saved), ...Object.keys(now)]);
  return [...paths].filter((path) => (saved[path] ?? null) !== (now[path] ?? null)).sort();
}
