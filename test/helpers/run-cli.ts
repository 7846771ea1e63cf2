import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from build/test/...). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'build/src/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI the way a user does, without an inventory from the environment and without colour. */
export function runSshfix(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliRun {
  const { SSHFIX_INVENTORY: _ignored, ...env } = process.env;
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
