import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildCandidateValidation, rerootIncludes } from '../../../src/services/sshd/candidate-tree.js';
import { writeCandidateFile } from '../../../src/services/candidate-files.js';
import { connectionForCriteria, formatConnectionSpec, matchValidationSpecs } from '../../../src/config/sshd/connection-spec.js';
import { parseMatchCriteria } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';

describe('candidate trees', () => {
  it('points every Include into the temporary root, relative ones under /etc/ssh, keeping the rest of the line', () => {
    const text = 'Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\n  include=extra/*.conf "/opt/a b.conf" # note\r\nIncludeX no\n';
    assert.equal(
      rerootIncludes(text, '/tmp/x'),
      'Port 22\nInclude /tmp/x/etc/ssh/sshd_config.d/*.conf\n  include=/tmp/x/etc/ssh/extra/*.conf "/tmp/x/opt/a b.conf" # note\r\nIncludeX no\n',
    );
  });

  it('leaves a file without Include byte-identical', () => {
    const text = 'Match User x\r\n\tPasswordAuthentication no';
    assert.equal(rerootIncludes(text, '/tmp/x'), text);
  });
});

/**
 * Runs a candidate check as the host's session does (a subshell with `$sshfix_scratch` and
 * `$sshd_bin`), with sshd replaced by a function that copies out the tree it was given and every
 * other command on PATH replaced by a wrapper that logs its name first.
 */
function runCheck(files: Map<string, string>): { status: number | null; tree: Map<string, string>; processes: string[]; sshdArgs: string[] } {
  const { tree } = buildSshdConfigTree({ files, listedDirs: new Set(['/etc/ssh/sshd_config.d']) });
  const { script } = buildCandidateValidation(tree, []);
  const session = [
    't=$(mktemp -d) && out=$(mktemp -d) || exit 70',
    'mkdir "$t/bin" && for c in mkdir sed base64 cat rm mktemp cp; do real=$(command -v $c); printf \'#!/bin/sh\\necho %s >>%s/log\\nexec %s "$@"\\n\' "$c" "$out" "$real" >"$t/bin/$c"; chmod +x "$t/bin/$c"; done',
    'PATH="$t/bin:$PATH"',
    'sshfix_scratch="$t/check1"',
    'sshd_bin=fake_sshd; fake_sshd() { printf "%s\\n" "$@" >"$out/args"; (cd "$sshfix_scratch" && find . -type f ! -name .out | while read -r f; do printf "%s\\0" "$f"; /bin/cat "$f"; printf "\\0"; done) >"$out/tree"; }',
    '(',
    script.replace(/\n$/, ''),
    ')',
    'rc=$?',
    'printf "%s\\0" "$rc"; /bin/cat "$out/tree"; printf "@@"; [ -f "$out/log" ] && /bin/cat "$out/log"; printf "@@"; /bin/cat "$out/args"',
    '/bin/rm -rf "$t" "$out"',
  ].join('\n');
  const result = spawnSync('sh', ['-s'], { input: session + '\n', encoding: 'utf8' });
  assert.equal(result.stderr, '');
  const [treePart = '', log = '', args = ''] = result.stdout.split('@@');
  const fields = treePart.split('\0');
  const written = new Map<string, string>();
  for (let i = 1; i + 1 < fields.length; i += 2) written.set(fields[i]!.slice(1), fields[i + 1]!);
  return { status: Number(fields[0]), tree: written, processes: log.split('\n').filter(Boolean), sshdArgs: args.split('\n').filter(Boolean) };
}

describe('the candidate check script on the host', () => {
  it('writes every file byte for byte with builtins, points Includes into its scratch root, and starts only mkdir besides sshd', () => {
    const odd = "# it's 100% \\ \"quoted\" $HOME `x` %s\ttab\r\nPort 22";
    const main = 'Include /etc/ssh/sshd_config.d/*.conf\nMaxStartups 100:30:500\n';
    const result = runCheck(new Map([['/etc/ssh/sshd_config', main], ['/etc/ssh/sshd_config.d/50-x.conf', odd], ['/etc/ssh/sshd_config.d/60-empty.conf', '']]));
    assert.equal(result.status, 0);
    assert.deepEqual(result.processes, ['mkdir']);
    assert.equal(result.tree.get('/etc/ssh/sshd_config.d/50-x.conf'), odd);
    assert.equal(result.tree.get('/etc/ssh/sshd_config.d/60-empty.conf'), '');
    const written = result.tree.get('/etc/ssh/sshd_config') ?? '';
    assert.match(written, /^Include \/\S+\/check1\/etc\/ssh\/sshd_config\.d\/\*\.conf\nMaxStartups 100:30:500\n$/);
    assert.deepEqual(result.sshdArgs.slice(0, 2), ['-t', '-f']);
    assert.match(result.sshdArgs[2] ?? '', /\/check1\/etc\/ssh\/sshd_config$/);
  });
});

describe('candidate files written on the host', () => {
  /** Writes `text` with the line(s) writeCandidateFile makes, `root` standing for the scratch path, and reads the file back. */
  const written = (text: string, root?: string): { bytes: Buffer; script: string } => {
    const lines = writeCandidateFile('"$d/f"', text, 'SSHFIX_T_EOF', root);
    const script = ['d=$(mktemp -d) || exit 70', ...lines, 'base64 "$d/f"; rm -rf "$d"'].join('\n') + '\n';
    const result = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return { bytes: Buffer.from(result.stdout, 'base64'), script: lines.join('\n') };
  };

  it('writes a text with a NUL byte through base64, with the scratch path for the root', () => {
    const { bytes, script } = written('a\0b /ROOT/x\n', '/ROOT');
    assert.match(script, /^base64 -d/);
    assert.match(bytes.toString('latin1'), /^a\0b \/\S+\/x\n$/);
    assert.doesNotMatch(bytes.toString('latin1'), /ROOT/);
  });

  it('writes any other text with printf alone, the root included', () => {
    const { bytes, script } = written("/ROOT/a 'q' /ROOT", '/ROOT');
    assert.match(script, /^printf %s /);
    assert.doesNotMatch(script, /base64|sed/);
    assert.match(bytes.toString('utf8'), /^\/\S+\/a 'q' \/\S+$/);
  });
});

describe('test connections for Match blocks', () => {
  const criteria = (text: string) => {
    const parsed = parseMatchCriteria(text);
    assert.ok('criteria' in parsed);
    return parsed.criteria;
  };

  it('makes up a connection that enters the block', () => {
    assert.equal(formatConnectionSpec(connectionForCriteria(criteria('Address 10.20.0.0/16')) ?? {}), 'user=root,host=sshfix-check.invalid,addr=10.20.0.1,laddr=192.0.2.253,lport=22');
    assert.equal(connectionForCriteria(criteria('User deploy Address 192.0.2.0/24'))?.user, 'deploy');
    assert.equal(connectionForCriteria(criteria('LocalPort 2222'))?.lport, 2222);
    assert.equal(connectionForCriteria(criteria('User !root,adm*'))?.user, 'admx');
  });

  it('gives up when it cannot (Group needs a real member)', () => {
    assert.equal(connectionForCriteria(criteria('Group sftponly')), undefined);
  });

  it('lists one spec per enterable block plus a neutral one, none without Match', () => {
    const snapshot = (text: string) => ({ files: new Map([['/etc/ssh/sshd_config', text]]), listedDirs: new Set<string>() });
    assert.deepEqual(matchValidationSpecs(buildSshdConfigTree(snapshot('Port 22\n')).tree), []);
    const specs = matchValidationSpecs(buildSshdConfigTree(snapshot('Port 22\nMatch Address 10.0.0.0/8\n  X11Forwarding no\nMatch Group g\n  X11Forwarding no\n')).tree);
    assert.deepEqual(specs, ['user=root,host=sshfix-check.invalid,addr=192.0.2.254,laddr=192.0.2.253,lport=22', 'user=root,host=sshfix-check.invalid,addr=10.0.0.1,laddr=192.0.2.253,lport=22']);
  });
});
