/**
 * sshd's candidate check run against this machine's sshd: with Match connections to check, it
 * runs `sshd -t` only when a connection fails, and says exactly what it said when `sshd -t` always
 * ran first: a config that does not load gets sshd -t's words, one connection's failure its own.
 * Needs root (sshd reads the host keys) and sshd; starts no daemon.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildSshdConfigTree } from '../../src/config/sshd/tree.js';
import { buildCandidateValidation } from '../../src/services/sshd/candidate-tree.js';
import { runWithPrivateRun } from '../helpers/private-run.js';

const SPEC = 'user=root,host=sshfix-check.invalid,addr=10.20.0.1,laddr=192.0.2.253';

function check(main: string, specs: string[], dropIn?: string): { status: number | null; stdout: string; sshdRuns: number } {
  const files = new Map([['/etc/ssh/sshd_config', main], ...(dropIn !== undefined ? [['/etc/ssh/sshd_config.d/50-x.conf', dropIn] as [string, string]] : [])]);
  const { tree } = buildSshdConfigTree({ files, listedDirs: new Set(['/etc/ssh/sshd_config.d']) });
  const { script } = buildCandidateValidation(tree, specs);
  // What the host's session gives a check: a scratch path, and $sshd_bin, here a wrapper that
  // counts the sshd processes the script starts and the processes of any other kind.
  const session = [
    't=$(mktemp -d) || exit 70',
    "trap 'rm -rf \"$t\"' EXIT",
    'sshfix_scratch="$t/check1"',
    'real_sshd=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)',
    'sshd_bin=counted_sshd; counted_sshd() { echo x >>"$t/runs"; "$real_sshd" "$@"; }',
    '(',
    script.replace(/\n$/, ''),
    ')',
    'rc=$?; [ -f "$t/runs" ] && wc -l <"$t/runs" >&2; exit $rc',
  ].join('\n');
  // sshd -t and -T need /run/sshd, which a fresh machine does not have: a private /run holds one.
  const result = runWithPrivateRun(session + '\n');
  return { status: result.status, stdout: result.stdout, sshdRuns: Number(result.stderr.trim().split('\n').pop()) };
}

describe('sshd candidate check on the real sshd', () => {
  it('must run as root with sshd present', () => {
    assert.equal(process.getuid?.(), 0, 'sshd -t reads the host keys: run as root');
    assert.equal(spawnSync('sh', ['-c', 'command -v sshd || test -x /usr/sbin/sshd']).status, 0, 'sshd is needed');
  });

  it('accepts a valid config with one sshd run per connection and no sshd -t', () => {
    const result = check('Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\nMatch Address 10.20.0.0/16\n  PasswordAuthentication no\n', [SPEC, `${SPEC},lport=22`], 'MaxStartups 100:30:500\n');
    assert.deepEqual({ status: result.status, stdout: result.stdout, sshdRuns: result.sshdRuns }, { status: 0, stdout: '', sshdRuns: 2 });
  });

  it('runs sshd -t alone when there is no connection to check', () => {
    const result = check('Port 22\n', []);
    assert.deepEqual({ status: result.status, sshdRuns: result.sshdRuns }, { status: 0, sshdRuns: 1 });
  });

  it('refuses a config that does not load with one sshd -t and its words when there is no connection to check', () => {
    const result = check('Port 22\nBogusKeyword yes\n', []);
    assert.deepEqual({ status: result.status, sshdRuns: result.sshdRuns }, { status: 1, sshdRuns: 1 });
    assert.match(result.stdout, /\/etc\/ssh\/sshd_config: line 2: Bad configuration option: BogusKeyword/);
    assert.doesNotMatch(result.stdout, /\/tmp\//);
  });

  it('gives sshd -t\'s words for a config that does not load, as when sshd -t ran first', () => {
    const result = check('Port 22\nBogusKeyword yes\n', [SPEC]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /\/etc\/ssh\/sshd_config: line 2: Bad configuration option: BogusKeyword/);
    assert.doesNotMatch(result.stdout, /for the connection/);
    assert.doesNotMatch(result.stdout, /\/tmp\//);
  });

  it('names the connection whose check fails when the config itself loads', () => {
    const result = check('Port 22\nMatch LocalPort 2222\n  PasswordAuthentication no\n', [SPEC]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /\(for the connection user=root,host=sshfix-check\.invalid,addr=10\.20\.0\.1,laddr=192\.0\.2\.253\)$/);
  });
});
