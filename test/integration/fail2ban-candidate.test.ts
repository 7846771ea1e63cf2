/**
 * fail2ban's plan-time candidate check run for real on this machine (Debian's fail2ban package,
 * no server started): a copy of /etc/fail2ban with the planned files laid over it, read by
 * `fail2ban-client -c COPY -d`. And why the value checks are needed besides it: `-d` passes a
 * `bantime` the server refuses when the jail starts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildFail2banLayers } from '../../src/config/fail2ban/layers.js';
import { fail2banLoadProblem } from '../../src/services/fail2ban/loadable.js';
import { fail2banCandidateScript } from '../../src/services/fail2ban/scripts.js';

/** Runs the check as the host's session does: in a subshell, with a fresh scratch path in a private directory. */
function check(files: Record<string, string>): { status: number | null; stdout: string; leftover: string } {
  const session = [
    'LC_ALL=C; export LC_ALL',
    't=$(mktemp -d) || exit 70',
    'sshfix_scratch="$t/check1"',
    '(',
    fail2banCandidateScript(new Map(Object.entries(files))).replace(/\n$/, ''),
    ')',
    'rc=$?; ls -A "$t" >&2; rm -rf "$t"; exit $rc',
  ].join('\n');
  const result = spawnSync('sh', ['-s'], { input: session + '\n', encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, leftover: result.stderr.trim() };
}

/** The machine's jail files with `extra` laid over them, as the planner reads them. */
function layersWith(extra: Record<string, string>) {
  const files = new Map<string, string>();
  const dirs = ['/etc/fail2ban', '/etc/fail2ban/jail.d', '/etc/fail2ban/fail2ban.d'];
  for (const dir of dirs) for (const name of readdirSync(dir)) if (/\.(conf|local)$/.test(name)) files.set(`${dir}/${name}`, readFileSync(`${dir}/${name}`, 'utf8'));
  for (const [path, text] of Object.entries(extra)) files.set(path, text);
  const listed = new Set(dirs);
  return buildFail2banLayers({ files, listedDirs: listed, entries: new Map(dirs.map((d) => [d, [...files.keys()].filter((p) => p.startsWith(`${d}/`)).map((p) => p.slice(d.length + 1)).filter((n) => !n.includes('/'))])) }).layers;
}

describe('fail2ban candidate check on this machine', () => {
  it('needs fail2ban-client', () => {
    assert.ok(existsSync('/usr/bin/fail2ban-client') && existsSync('/etc/fail2ban/jail.conf'), 'apt-get install -y fail2ban');
  });

  it('accepts a valid overlay and leaves /etc/fail2ban alone', () => {
    const before = readdirSync('/etc/fail2ban/jail.d').sort();
    const result = check({ '/etc/fail2ban/jail.d/sshd.local': '[sshd]\nenabled = true\nignoreip = 127.0.0.1 192.0.2.7\n' });
    assert.equal(result.status, 0, result.stdout);
    assert.deepEqual(readdirSync('/etc/fail2ban/jail.d').sort(), before);
    assert.equal(result.leftover, 'check1', 'the copy is made in the scratch path the session gave it');
  });

  it('rejects an overlay fail2ban-client cannot read, naming /etc/fail2ban paths rather than the copy', () => {
    const result = check({ '/etc/fail2ban/jail.local': '[sshd]\nenabled = true\nbantime = %(nope)s\n' });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /Bad value substitution: option 'bantime' in section 'sshd'/);
    assert.doesNotMatch(result.stdout, /\/tmp\//);
  });

  it('-d passes bantime = forever-ish; the value check refuses it with file and line', () => {
    const poison = { '/etc/fail2ban/jail.d/zz.local': '[sshd]\nenabled = true\nbantime = forever-ish\n' };
    assert.equal(check(poison).status, 0, 'fail2ban-client -d alone lets it through');
    const problem = fail2banLoadProblem(layersWith(poison));
    assert.equal(problem?.file, '/etc/fail2ban/jail.d/zz.local');
    assert.equal(problem?.range?.start.line, 3);
    assert.match(problem?.message ?? '', /jail sshd: bantime = forever-ish is not a time fail2ban can read/);
  });

  it('finds nothing wrong with the shipped config, which fail2ban-client -d reads too', () => {
    assert.equal(fail2banLoadProblem(layersWith({ '/etc/fail2ban/jail.d/sshd.local': '[sshd]\nenabled = true\n' })), undefined);
    assert.equal(check({}).status, 0);
  });
});
