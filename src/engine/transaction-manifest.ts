/**
 * The `manifest` a transaction leaves beside its backups: for each file where it went, which service
 * loads it, whether it was backed up (files/N) and what the transaction wrote; each touched
 * service's part of the plan; and the values each service showed before the change. `rollback`
 * reads it to put the files back as a transaction of its own. Pure: building and checking JSON.
 */
import { lookupService } from '../services/registry.js';
import { isRecord, isSafePath } from '../util/safe-values.js';

export const MANIFEST_VERSION = 1;

export interface ManifestFile {
  /** The path the service reads. */
  path: string;
  /** Where the bytes went (the resolved target of a symbolic link). */
  writePath: string;
  /** The service that validates and reloads after it changes ('none' for a file no daemon loads). */
  service: string;
  /** sha256 of the file before, backed up as files/N (N: its index in `files`); null when it did not exist. */
  before: string | null;
  /** sha256 of what the transaction left in the file; null when it removed it. */
  written: string | null;
}

export interface TransactionManifest {
  version: number;
  files: ManifestFile[];
  /** Each touched service's part of the plan, by service id (what its validation needs). */
  services: Record<string, unknown>;
  /** Values each service showed before the change (tagged with the service id): what a rollback must bring back. */
  restore: ({ service: string } & Record<string, unknown>)[];
}

export function renderManifest(manifest: Omit<TransactionManifest, 'version'>): string {
  return `${JSON.stringify({ version: MANIFEST_VERSION, ...manifest })}\n`;
}

const SHA256 = /^[0-9a-f]{64}$/;

function isManifestFile(value: unknown): value is ManifestFile {
  return (
    isRecord(value) &&
    isSafePath(value['path']) &&
    isSafePath(value['writePath']) &&
    (value['service'] === 'none' || (typeof value['service'] === 'string' && lookupService(value['service']) !== undefined)) &&
    (value['before'] === null || (typeof value['before'] === 'string' && SHA256.test(value['before']))) &&
    (value['written'] === null || (typeof value['written'] === 'string' && SHA256.test(value['written'])))
  );
}

/**
 * Reads a manifest as a host stored it: nothing unchecked reaches a script (paths, digests, and
 * each service's plan and expectations through the service's own checks). Returns why not, else it.
 */
export function parseManifest(text: string): TransactionManifest | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { error: 'the manifest is not JSON' };
  }
  if (!isRecord(data)) return { error: 'the manifest is not an object' };
  if (data['version'] !== MANIFEST_VERSION) return { error: `manifest version ${JSON.stringify(data['version'])} is not ${MANIFEST_VERSION} (written by another sshfix version)` };
  const files = data['files'];
  if (!Array.isArray(files) || files.length === 0 || !files.every(isManifestFile)) return { error: 'the manifest lists no well-formed files' };
  const services = data['services'];
  if (!isRecord(services)) return { error: 'the manifest has no services' };
  for (const [id, plan] of Object.entries(services)) {
    const service = lookupService(id);
    if (!service) return { error: `the manifest names the service ${JSON.stringify(id)}, which this sshfix does not know` };
    if (!service.isSavedPlan(plan)) return { error: `the manifest's plan for ${id} is malformed` };
  }
  const restore = data['restore'];
  if (!Array.isArray(restore)) return { error: 'the manifest has no restore values' };
  for (const e of restore) {
    const service = isRecord(e) && typeof e['service'] === 'string' ? lookupService(e['service']) : undefined;
    if (!service || !service.isSavedExpectation(e)) return { error: 'the manifest holds a malformed restore value' };
  }
  return { version: MANIFEST_VERSION, files, services, restore: restore as TransactionManifest['restore'] };
}
