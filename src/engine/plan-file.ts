/**
 * Saved plans (`plan --out FILE`, `apply --plan FILE`): the per-host changes, the exact contents to
 * write, and the sha256 of every file the plan read, so apply can refuse a host whose files
 * changed since (a stale plan) and otherwise write exactly what was planned. Pure: serialise and
 * parse; the CLI does the file I/O.
 */
import type { FactRequest } from './facts-script.js';
import { sha256Hex } from './facts.js';
import type { HostPlan, PlannedFile, SshdExpectation } from './plan-model.js';

export const PLAN_FILE_FORMAT = 'sshfix-plan';
export const PLAN_FILE_VERSION = 1;

export interface SavedHostPlan {
  name: string;
  address: string;
  status: HostPlan['status'];
  files_read: Record<string, string | null>;
  fact_request: FactRequest;
  files: { path: string; mode: number; uid: number; gid: number; before_sha256: string | null; after_base64: string }[];
  expectations: SshdExpectation[];
  validation_specs: string[];
  changes: HostPlan['changes'];
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
  hosts: readonly { plan: HostPlan; request?: FactRequest; validationSpecs: readonly string[] }[];
}


/** A host's plan in saved form (also how apply hands a confirmed plan to itself). */
export function toSavedHost(plan: HostPlan, request: FactRequest | undefined, validationSpecs: readonly string[]): SavedHostPlan {
  return {
    name: plan.name,
    address: plan.address,
    status: plan.status,
    files_read: plan.filesRead,
    fact_request: request ?? { sshdConfigs: [], files: [], dirs: [] },
    files: plan.files.map((f) => ({
      path: f.path,
      mode: f.mode,
      uid: f.uid,
      gid: f.gid,
      before_sha256: f.before ? sha256Hex(f.before) : null,
      after_base64: f.after.toString('base64'),
    })),
    expectations: plan.expectations,
    validation_specs: [...validationSpecs],
    changes: plan.changes,
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
    hosts: input.hosts.map((h) => toSavedHost(h.plan, h.request, h.validationSpecs)),
  };
  return JSON.stringify(saved, null, 2) + '\n';
}

export class PlanFileError extends Error {
  override name = 'PlanFileError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a saved plan, refusing anything that is not one (or a version this build cannot apply). */
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
  for (const host of data['hosts'] as unknown[]) {
    if (!isRecord(host) || typeof host['name'] !== 'string' || !isRecord(host['files_read']) || !Array.isArray(host['files'])) {
      throw new PlanFileError(`${file}: a host entry is malformed`);
    }
  }
  return data as unknown as SavedPlan;
}

/** The planned files of a saved host, as apply writes them. */
export function savedFiles(host: SavedHostPlan): PlannedFile[] {
  return host.files.map((f) => ({
    path: f.path,
    after: Buffer.from(f.after_base64, 'base64'),
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    service: 'sshd',
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
