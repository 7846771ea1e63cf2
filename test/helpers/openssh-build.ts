/**
 * OpenSSH builds made by scripts/build-openssh.sh, for the tests that run a newer sshd than the
 * machine's. .ci/run builds them before the suite: a missing build fails the test, never skips it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function opensshBuildPrefix(build: string): string {
  return join(process.env['SSHFIX_OPENSSH_PREFIX'] || '/opt/sshfix-openssh', build);
}

/** The build's sshd, after checking that it is there and answers with its release. */
export function requireOpensshBuild(build: string): string {
  const sshd = join(opensshBuildPrefix(build), 'sbin', 'sshd');
  const release = build.replace(/p\d+$/, '');
  const answer = existsSync(sshd) ? spawnSync(sshd, ['-V'], { encoding: 'utf8' }) : undefined;
  if (!answer || !`${answer.stdout}${answer.stderr}`.includes(`OpenSSH_${release}`)) {
    throw new Error(
      `OPENSSH ${build} IS NOT BUILT (${sshd}): run \`bash scripts/build-openssh.sh ${build}\` as root first (.ci/run does). ` +
        'These tests need the real 10.x sshd.',
    );
  }
  return sshd;
}
