/**
 * Running a shell script the way a host would, without depending on the machine's own /run.
 * `sshd -t` needs its privilege separation directory /run/sshd, which a fresh machine (package
 * installed, service never started) does not have. The script runs in a private mount namespace
 * with an empty tmpfs over /run holding /run/sshd, as each lab host has; background processes it
 * starts (a dead-man switch) keep that namespace alive as long as they run.
 */
import { spawnSync } from 'node:child_process';

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const PREPARE = 'mount -t tmpfs -o mode=0755 sshfix-test /run || exit 97; mkdir -p /run/sshd && chmod 0755 /run/sshd || exit 97; exec sh -s';

/** Runs `script` with `sh -s` in a private mount namespace whose /run is a fresh tmpfs with /run/sshd. */
export function runWithPrivateRun(script: string, timeoutMs = 60_000): ScriptResult {
  const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', PREPARE], { input: script, encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw new Error(`unshare --mount failed to start (util-linux, root needed): ${result.error.message}`);
  if (result.status === 97) throw new Error(`could not mount a private /run for the script: ${result.stderr}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
