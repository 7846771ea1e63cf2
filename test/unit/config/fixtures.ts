/**
 * Corpus loading: a fixture directory stands for the root of a host (`etc/ssh/...` inside it).
 * Every directory in a fixture counts as listed, since the whole tree is known.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileSnapshot } from '../../../src/config/openssh/snapshot-glob.js';

/** Source tree root (tests run from build/, fixtures stay in the source tree). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SSHD_FIXTURES = join(REPO_ROOT, 'test/fixtures/sshd');
export const SSH_CONFIG_FIXTURES = join(REPO_ROOT, 'test/fixtures/ssh-config');

export function listFixtures(dir: string): string[] {
  return readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()).sort();
}

/** Loads a fixture as a snapshot of absolute paths (files named `.keep` only mark directories). */
export function loadSnapshot(root: string): FileSnapshot & { files: Map<string, string>; listedDirs: Set<string> } {
  const files = new Map<string, string>();
  const listedDirs = new Set<string>();
  const walk = (dir: string): void => {
    listedDirs.add(`/${relative(root, dir)}`.replace(/\/$/, '') || '/');
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== '.keep') files.set(`/${relative(root, p)}`, readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return { files, listedDirs };
}
