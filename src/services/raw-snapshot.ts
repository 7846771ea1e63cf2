/**
 * The files of a fact script's raw output as a snapshot config trees are built from (before the
 * facts are interpreted). Pure.
 */
import type { FileSnapshot } from '../config/openssh/snapshot-glob.js';
import { decodeText } from '../util/text-encoding.js';
import type { RawFacts } from './service.js';

export function rawSnapshot(raw: RawFacts): FileSnapshot {
  return {
    files: new Map([...raw.files].map(([path, file]) => [path, decodeText(file.content).text])),
    // A path known to be missing counts as an empty listed directory, as in HostFiles.
    listedDirs: new Set([...raw.dirs.keys(), ...raw.missing]),
    entries: raw.dirs,
  };
}
