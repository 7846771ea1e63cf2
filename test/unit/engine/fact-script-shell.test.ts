/**
 * The fact script's shell functions run for real (sh on this machine, on a scratch tree): every
 * path comes back exactly, whether it went as it is or in base64, and the Include walk finds what
 * it did before it used builtins.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDirScript, FACT_SCRIPT_PRELUDE, factScriptBody, parseFactOutput, parseFactRecords, type FactRequest } from '../../../src/engine/facts-script.js';
import { quoteShellArg } from '../../../src/util/shell-quote.js';

let root = '';

/** Runs `script` with sh; with `etcSsh`, in a mount namespace of its own where that directory is /etc/ssh (needs root). */
function runScript(script: string, etcSsh?: string): string {
  const result = etcSsh
    ? spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${quoteShellArg(etcSsh)} /etc/ssh && exec sh -s`], { input: script, encoding: 'utf8' })
    : spawnSync('sh', ['-s'], { input: script, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** Shell functions named like `programs` that log each start to `log`, then run the program. */
const counting = (programs: readonly string[], log: string): string[] => programs.map((p) => `${p}() { echo ${p} >>${quoteShellArg(log)}; command ${p} "$@"; }`);

describe('fact script functions in a real shell', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sshfix-facts-'));
    mkdirSync(join(root, 'conf.d'));
    writeFileSync(join(root, 'sshd_config'), `Port 22\nInclude ${root}/conf.d/*.conf\n  include = ${root}/nested.conf # trailing\n`);
    writeFileSync(join(root, 'conf.d', 'a.conf'), `MaxStartups 10:30:100\nInclude ${root}/nested.conf\n`);
    chmodSync(join(root, 'conf.d', 'a.conf'), 0o640);
    chownSync(join(root, 'conf.d', 'a.conf'), 0, 7);
    writeFileSync(join(root, 'conf.d', 'b c.conf'), 'ClientAliveInterval 60\n');
    writeFileSync(join(root, 'conf.d', '.hidden'), '');
    writeFileSync(join(root, 'nested.conf'), 'X11Forwarding no');
    symlinkSync(join(root, 'nested.conf'), join(root, 'conf.d', 'link.conf'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('walks an Include tree breadth first, each file once, with plain and encoded paths', () => {
    const out = runScript([...FACT_SCRIPT_PRELUDE, `walk ${quoteShellArg(join(root, 'sshd_config'))}`, 'exit 0'].join('\n') + '\n');
    const raw = parseFactOutput(out);
    assert.deepEqual([...raw.files.keys()], [
      join(root, 'sshd_config'),
      join(root, 'conf.d', 'a.conf'),
      join(root, 'conf.d', 'b c.conf'),
      join(root, 'conf.d', 'link.conf'),
      join(root, 'nested.conf'),
    ]);
    assert.equal(raw.files.get(join(root, 'nested.conf'))?.content.toString('utf8'), 'X11Forwarding no');
    assert.deepEqual(raw.includes, [`${root}/conf.d/*.conf`, `${root}/nested.conf`, `${root}/nested.conf`]);
    assert.deepEqual(raw.dirs.get(join(root, 'conf.d')), ['.hidden', 'a.conf', 'b c.conf', 'link.conf']);
    assert.equal(raw.symlinks.get(join(root, 'conf.d', 'link.conf')), join(root, 'nested.conf'));
    // A plain path goes as it is, one with a space in base64.
    assert.match(out, new RegExp(`^F ${root.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/sshd_config `, 'm'));
    assert.match(out, new RegExp(`^F ${Buffer.from(join(root, 'conf.d', 'b c.conf')).toString('base64').replace(/[+/]/g, '\\$&')} `, 'm'));
  });

  /** The walk of `main` with awk and stat counted: shell functions named like them log each start, then run the program. */
  const countedWalk = (main: string): { raw: ReturnType<typeof parseFactOutput>; starts: string[] } => {
    const log = join(root, 'starts.log');
    writeFileSync(log, '');
    const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, ...counting(['awk', 'stat'], log), `walk ${quoteShellArg(main)}`, 'exit 0'].join('\n') + '\n'));
    return { raw, starts: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  };

  it('reads an Include tree with one awk per level and one stat for all its files', () => {
    // Level 0: the main file; level 1: three drop-ins (one named with a space) and nested.conf; level 2: nested.conf again (read once).
    const { raw, starts } = countedWalk(join(root, 'sshd_config'));
    assert.equal(raw.files.size, 5);
    assert.deepEqual(starts, ['awk', 'awk', 'stat'], 'awk for level 0 and level 1, one stat at the end');
    assert.equal(raw.files.get(join(root, 'conf.d', 'b c.conf'))?.content.toString(), 'ClientAliveInterval 60\n');
    assert.equal(raw.files.get(join(root, 'conf.d', 'a.conf'))?.mode, 0o640);
    assert.equal(raw.files.get(join(root, 'conf.d', 'a.conf'))?.gid, 7);
  });

  it('reads the drop-ins <main>.d/*.conf in the first awk: when they are the whole second level, that level needs no awk', () => {
    const tree = (name: string, main: (dir: string) => string) => {
      const dir = join(root, name);
      mkdirSync(join(dir, 'main.d'), { recursive: true });
      writeFileSync(join(dir, 'main'), main(dir));
      writeFileSync(join(dir, 'main.d', '10-x.conf'), `X 1\nInclude ${dir}/nested.conf\n`);
      writeFileSync(join(dir, 'main.d', '20 y.conf'), 'Y 2\n');
      writeFileSync(join(dir, 'nested.conf'), `include ${dir}/main.d/10-x.conf\n`);
      writeFileSync(join(dir, 'other'), 'Q\n');
      return dir;
    };
    // The usual tree: main includes its drop-ins, one of which includes a third level.
    const usual = tree('usual', (dir) => `Port 1\nInclude ${dir}/main.d/*.conf\n`);
    const read = countedWalk(join(usual, 'main'));
    assert.deepEqual(read.starts, ['awk', 'awk', 'stat'], 'level 0 with the drop-ins, level 2; not level 1');
    assert.deepEqual([...read.raw.files.keys()], ['main', 'main.d/10-x.conf', 'main.d/20 y.conf', 'nested.conf'].map((f) => join(usual, f)));
    assert.deepEqual(read.raw.includes, [`${usual}/main.d/*.conf`, `${usual}/nested.conf`, `${usual}/main.d/10-x.conf`]);
    // The second level is more than the drop-ins, or only some of them, or none: it has its own awk, and the same records.
    const more = tree('more', (dir) => `Include ${dir}/main.d/*.conf ${dir}/other\n`);
    const withMore = countedWalk(join(more, 'main'));
    assert.deepEqual(withMore.starts, ['awk', 'awk', 'awk', 'stat']);
    assert.deepEqual([...withMore.raw.files.keys()], ['main', 'main.d/10-x.conf', 'main.d/20 y.conf', 'other', 'nested.conf'].map((f) => join(more, f)));
    assert.deepEqual(withMore.raw.includes, [`${more}/main.d/*.conf`, `${more}/other`, `${more}/nested.conf`, `${more}/main.d/10-x.conf`]);
    const some = tree('some', (dir) => `Include ${dir}/main.d/2*.conf\n`);
    const withSome = countedWalk(join(some, 'main'));
    assert.deepEqual(withSome.starts, ['awk', 'awk', 'stat']);
    assert.deepEqual([...withSome.raw.files.keys()], ['main', 'main.d/20 y.conf'].map((f) => join(some, f)));
    assert.deepEqual(withSome.raw.includes, [`${some}/main.d/2*.conf`]);
    const none = tree('none', () => 'Port 3\n');
    const withNone = countedWalk(join(none, 'main'));
    assert.deepEqual(withNone.starts, ['awk', 'stat']);
    assert.deepEqual([...withNone.raw.files.keys()], [join(none, 'main')]);
    assert.deepEqual(withNone.raw.includes, []);
  });

  it('walks a symlinked main config, a directory, a missing file and a name with a newline as before', () => {
    const tree = join(root, 'odd-tree');
    mkdirSync(join(tree, 'd.conf'), { recursive: true });
    writeFileSync(join(tree, 'real'), `Include ${tree}/d.conf ${tree}/absent.conf ${tree}/new*line.conf ${tree}/sp*ce.conf\n`);
    writeFileSync(join(tree, 'new\nline.conf'), 'Port 2222\n');
    writeFileSync(join(tree, 'sp ce.conf'), 'Port 2223\n');
    symlinkSync(join(tree, 'real'), join(tree, 'main'));
    const { raw } = countedWalk(join(tree, 'main'));
    assert.deepEqual([...raw.files.keys()], [join(tree, 'main'), join(tree, 'sp ce.conf')]);
    assert.equal(raw.symlinks.get(join(tree, 'main')), join(tree, 'real'));
    assert.equal(raw.unreadable.size, 0, 'a directory an Include matches is not read');
    assert.deepEqual([...countedWalk(join(tree, 'd.conf')).raw.unreadable], [join(tree, 'd.conf')], 'a config that is not a regular file exists but is unreadable');
    // A name with a newline splits in the walk's queue (it did before): its parts are missing, the engine asks again.
    assert.deepEqual([...raw.missing].sort(), [join(tree, 'new'), 'line.conf'].sort());
    assert.deepEqual(raw.includes, [`${tree}/d.conf`, `${tree}/absent.conf`, `${tree}/new*line.conf`, `${tree}/sp*ce.conf`]);
  });

  it('records a file that stat cannot read after the walk found it as unreadable, and matches the others by name', () => {
    const tree = join(root, 'vanishing');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'main'), `Include ${tree}/*.conf\n`);
    for (const name of ['a.conf', 'b.conf', 'c.conf']) writeFileSync(join(tree, name), `# ${name}\n`);
    chmodSync(join(tree, 'c.conf'), 0o600);
    // The stat of the walk removes b.conf first, as if it went away between the walk and the stat.
    const vanish = `stat() { rm -f ${quoteShellArg(join(tree, 'b.conf'))}; command stat "$@"; }`;
    const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, vanish, `walk ${quoteShellArg(join(tree, 'main'))}`, 'exit 0'].join('\n') + '\n'));
    assert.deepEqual([...raw.files.keys()], [join(tree, 'main'), join(tree, 'a.conf'), join(tree, 'c.conf')]);
    assert.deepEqual([...raw.unreadable], [join(tree, 'b.conf')]);
    assert.equal(raw.files.get(join(tree, 'c.conf'))?.mode, 0o600);
    assert.equal(raw.files.get(join(tree, 'c.conf'))?.content.toString(), '# c.conf\n');
  });

  /** sshd's part of the fact script (host probe, build id; not the build facts) for `configs`, with awk and stat counted. */
  const sshdPart = (configs: string[], unmerged: boolean, etcSsh?: string): { raw: ReturnType<typeof parseFactOutput>; starts: string[] } => {
    const body = factScriptBody({ services: { sshd: configs }, files: [], dirs: [] }, {}, 'deferred');
    const lines = body.slice(0, body.findIndex((l) => l.startsWith('case "$build_sshd"')));
    // Without the paths and the program for the walk's stat and awk, the probe and the build id run their own (the way they did before).
    const script = unmerged ? lines.map((l) => (l.startsWith('wx=;') ? 'wx=' : l.startsWith('wxo=;') ? 'wxo=' : l)) : lines;
    const log = join(root, 'sshd-starts.log');
    writeFileSync(log, '');
    const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, ...counting(['awk', 'stat'], log), ...script, 'exit 0'].join('\n') + '\n', etcSsh));
    return { raw, starts: readFileSync(log, 'utf8').split('\n').filter(Boolean).sort() };
  };

  for (const [what, configs] of [['with an Include tree', () => [join(root, 'sshd_config')]], ['without a config to walk', () => []]] as const) {
    it(`gives sshd's host probe and build id the walk's stat and first awk, with the lines their own give (${what})`, () => {
      const merged = sshdPart(configs(), false);
      const own = sshdPart(configs(), true);
      if (configs().length === 0) {
        assert.deepEqual(merged.starts, ['awk', 'stat'], "the probe's own awk; one stat for the probe and the build id");
        assert.deepEqual(own.starts, ['awk', 'stat', 'stat']);
      } else {
        assert.deepEqual(merged.starts, ['awk', 'awk', 'stat'], 'the awk of each level of the walk, one stat');
        assert.deepEqual(own.starts, ['awk', 'awk', 'awk', 'stat', 'stat', 'stat']);
      }
      for (const name of ['sshd_env', 'build_sshd']) assert.deepEqual(merged.raw.commands.get(name), own.raw.commands.get(name), name);
      assert.match(merged.raw.commands.get('build_sshd')?.stdout ?? '', /^\/\S*sshd:\d+:\d+ /);
      assert.match(merged.raw.commands.get('sshd_env')?.stdout ?? '', /^privsep-user [01]\nipv6-loopback [01]\n$/m);
      assert.deepEqual(merged.raw.files, own.raw.files);
      assert.deepEqual(merged.raw.includes, own.raw.includes);
    });
  }

  it('leaves the host probe and the build id to stats of their own when a host key is named with a newline', () => {
    // A copy of /etc/ssh with such a key, mounted over /etc/ssh for the script only.
    const etcSsh = join(root, 'etc-ssh');
    cpSync('/etc/ssh', etcSsh, { recursive: true });
    writeFileSync(join(etcSsh, 'ssh_host_odd\nname_key'), 'x');
    chmodSync(join(etcSsh, 'ssh_host_odd\nname_key'), 0o644);
    const merged = sshdPart([join(root, 'sshd_config')], false, etcSsh);
    const own = sshdPart([join(root, 'sshd_config')], true, etcSsh);
    assert.deepEqual(merged.starts, ['awk', 'awk', 'stat', 'stat', 'stat'], "the walk's stat, the probe's, the build id's; the probe's awk still in the walk's");
    for (const name of ['sshd_env', 'build_sshd']) assert.deepEqual(merged.raw.commands.get(name), own.raw.commands.get(name), name);
    assert.match(merged.raw.commands.get('sshd_env')?.stdout ?? '', /^\/etc\/ssh\/ssh_host_odd\nname_key regular file 644 0 0$/m);
  });

  it("reads the state of sshd's systemd units with one systemctl, each unit's line to its name", () => {
    const units = factScriptBody({ services: { sshd: [] }, files: [], dirs: [] }, {}, 'deferred').find((l) => l.startsWith('units_active()'));
    assert.ok(units);
    const log = join(root, 'systemctl.log');
    // A systemctl that knows two of the units, and one that cannot reach systemd at all.
    const fake = (out: string) => `systemctl() { echo "$*" >>${quoteShellArg(log)}; printf ${quoteShellArg(out)}; }`;
    const state = (out: string) => {
      writeFileSync(log, '');
      const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, units, fake(out), 'v=; units_active ssh.service sshd.service ssh.socket; tv units 0 "$v"', 'exit 0'].join('\n') + '\n'));
      return { stdout: raw.commands.get('units')?.stdout, calls: readFileSync(log, 'utf8') };
    };
    assert.deepEqual(state('active\ninactive\nactive\n'), {
      stdout: 'ssh.service=active\nsshd.service=inactive\nssh.socket=active\n',
      calls: 'is-active ssh.service sshd.service ssh.socket\n',
    });
    assert.equal(state('').stdout, 'ssh.service=\nsshd.service=\nssh.socket=\n', 'no state printed: empty, as $(systemctl ...) gave');
  });

  it('lists and reads a directory, and says which paths are missing', () => {
    const raw = parseFactOutput(runScript(buildDirScript([join(root, 'conf.d'), join(root, 'absent')])));
    assert.deepEqual([...raw.files.keys()].sort(), [join(root, 'conf.d', '.hidden'), join(root, 'conf.d', 'a.conf'), join(root, 'conf.d', 'b c.conf'), join(root, 'conf.d', 'link.conf')]);
    assert.equal(raw.files.get(join(root, 'conf.d', '.hidden'))?.content.length, 0);
    assert.deepEqual([...raw.missing], [join(root, 'absent')]);
  });

  it('lists a directory as text lines, and through base64 when a name holds a newline or starts like a line marker', () => {
    const odd = join(root, 'odd');
    mkdirSync(join(odd, 'sub'), { recursive: true });
    for (const name of ['|pipe', '\\back', '..dots', '.x', 'plain %s']) writeFileSync(join(odd, name), '');
    symlinkSync(join(odd, 'nowhere'), join(odd, 'dangling'));
    const listed = (dir: string) => parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, `ld ${quoteShellArg(dir)}`, 'exit 0'].join('\n') + '\n')).dirs.get(dir);
    const expected = ['..dots', '.x', '\\back', 'dangling', 'plain %s', 'sub', '|pipe'];
    assert.deepEqual(listed(odd)?.slice().sort(), expected.slice().sort());
    writeFileSync(join(odd, 'new\nline'), '');
    assert.deepEqual(listed(odd)?.slice().sort(), [...expected, 'new', 'line'].sort(), 'a name with a newline comes through ls, whose listing splits it as before');
    assert.deepEqual(listed(join(root, 'empty-dir-absent')), undefined);
  });

  it('makes its scratch directory with mktemp -d, or with a template where plain -d fails (older busybox), and removes it', () => {
    const scratch = (fake: string[]) => parseFactOutput(runScript([...fake, ...FACT_SCRIPT_PRELUDE, 'td', 'tv t 0 "$t"', 'exit 0'].join('\n') + '\n')).commands.get('t')?.stdout ?? '';
    const plain = scratch([]);
    assert.match(plain, /^\/\S+$/);
    const templated = scratch(['mktemp() { [ "$*" = -d ] && return 1; command mktemp "$@"; }']);
    assert.match(templated, /\/sshfix\.\w{6}$/);
    for (const dir of [plain, templated]) assert.equal(spawnSync('test', ['-e', dir]).status, 1, `${dir} removed on exit`);
  });

  it("reads a host's facts without a scratch directory (no mktemp, no rm) once its build is known, and makes one for a command's record", () => {
    const log = join(root, 'scratch.log');
    const counters = counting(['mktemp', 'rm'], log);
    const programs = (lines: readonly string[]): string[] => {
      writeFileSync(log, '');
      // The counters come first: the prelude's trap calls rm at the exit.
      const raw = parseFactOutput(runScript([...counters, ...FACT_SCRIPT_PRELUDE, ...lines, 'exit 0'].join('\n') + '\n'));
      assert.ok(raw.commands.has('hostname'));
      return readFileSync(log, 'utf8').split('\n').filter(Boolean);
    };
    const request: FactRequest = { services: { sshd: [join(root, 'sshd_config')] }, files: [], dirs: [] };
    const body = factScriptBody(request, {}, 'deferred');
    const build = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, ...body].join('\n') + '\n')).commands.get('build_sshd')?.stdout ?? '';
    assert.notEqual(build, '');
    assert.deepEqual(programs(factScriptBody(request, { sshd: [build] }, 'deferred')), []);
    // A record of a command's stdout and stderr (R) needs the directory: made once, removed at the exit.
    const lines = factScriptBody(request, { sshd: [build] }, 'deferred').filter((l) => l !== 'exit 0');
    assert.deepEqual(programs([...lines, 'run a true', 'run b true']), ['mktemp', 'rm']);
  });

  it('records a command with empty output as empty fields', () => {
    const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, 'run quiet true', 'run loud sh -c "echo out; echo err >&2; exit 3"', 'exit 0'].join('\n') + '\n'));
    assert.deepEqual(raw.commands.get('quiet'), { exitCode: 0, stdout: '', stderr: '' });
    assert.deepEqual(raw.commands.get('loud'), { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('records a text line by line, exactly as base64 would (no base64 process for it), and a program through tc with its exit code', () => {
    const outputs = ['', 'one line\n', 'no newline at the end', 'two\nlines\n', '|pipe\n\\backslash %s %% \tx\n\nafter a blank\n', 'R looks like a record\nT too\n', '\n\n'];
    const lines = outputs.flatMap((text, i) => [`tv text_${i} 0 ${quoteShellArg(text)}`, `run b64_${i} printf %s ${quoteShellArg(text)}`]);
    const raw = parseFactOutput(runScript([...FACT_SCRIPT_PRELUDE, ...lines, 'tc failing sh -c "echo out; echo err >&2; exit 3"', 'exit 0'].join('\n') + '\n'));
    outputs.forEach((text, i) => {
      assert.deepEqual(raw.commands.get(`text_${i}`), { exitCode: 0, stdout: text, stderr: '' }, JSON.stringify(text));
      assert.deepEqual(raw.commands.get(`text_${i}`), raw.commands.get(`b64_${i}`));
    });
    // tc keeps stdout and the exit code; stderr is not recorded.
    assert.deepEqual(raw.commands.get('failing'), { exitCode: 3, stdout: 'out\n', stderr: '' });
  });

  /** The walk of `main`, with every program it starts logged (shell functions named like them). */
  const loggedWalk = (main: string, lines: readonly string[] = []): { out: string; starts: string[] } => {
    const log = join(root, 'programs.log');
    writeFileSync(log, '');
    const out = runScript([...FACT_SCRIPT_PRELUDE, `sshfix_log=${quoteShellArg(log)}`, ...counting(['awk', 'stat', 'base64', 'id'], log), ...lines, `walk ${quoteShellArg(main)}`, '[ -z "${sshfix_groups-}" ] || echo "groups wanted"', 'exit 0'].join('\n') + '\n');
    return { out, starts: readFileSync(log, 'utf8').split('\n').filter(Boolean).sort() };
  };

  it('sends a file of printable ASCII as text lines (no base64), byte for byte, with or without its last newline', () => {
    const dir = join(root, 'text');
    mkdirSync(join(dir, 'd'), { recursive: true });
    const texts: Record<string, string> = {
      'd/ended.conf': 'Port 22\n\tTabbed  value # with % and \\ and $HOME and \'quotes\' "too"\n',
      'd/open.conf': 'MaxStartups 10:30:100',
      'd/blank-lines.conf': '\n\n|starts with a bar\n\\starts with a backslash\n\n',
      'd/empty.conf': '',
      'd/only-newline.conf': '\n',
    };
    for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
    // Not text: a CR, a byte above 127, a NUL, a control character.
    const binary: Record<string, Buffer> = {
      'd/crlf.conf': Buffer.from('Port 22\r\nX 1\r\n'),
      'd/utf8.conf': Buffer.from('Banner /etc/issue # caf\u00e9\n'),
      'd/nul.conf': Buffer.from('A 1\n\0B 2\n'),
      'd/bell.conf': Buffer.from('A\u0007 1\n'),
    };
    for (const [name, bytes] of Object.entries(binary)) writeFileSync(join(dir, name), bytes);
    writeFileSync(join(dir, 'main'), `Include ${dir}/d/*.conf\n`);
    const { out, starts } = loggedWalk(join(dir, 'main'));
    const raw = parseFactOutput(out);
    for (const [name, text] of Object.entries(texts)) assert.equal(raw.files.get(join(dir, name))?.content.toString('latin1'), text, name);
    for (const [name, bytes] of Object.entries(binary)) assert.deepEqual(raw.files.get(join(dir, name))?.content, bytes, name);
    // main and the four non-empty text files as text; the four others through base64, one process each.
    assert.equal(out.match(/^C /gm)?.length, 5);
    assert.deepEqual(starts, ['awk', 'awk', 'base64', 'base64', 'base64', 'base64', 'stat']);
  });

  it("leaves every file to base64 under an awk whose strings end at a NUL (busybox's)", () => {
    // busybox is in .ci/run's packages: without it this test cannot tell, and says so.
    assert.equal(spawnSync('busybox', ['awk', 'BEGIN {}']).status, 0, 'this test needs busybox (apt-get install busybox)');
    const dir = join(root, 'nul');
    mkdirSync(dir, { recursive: true });
    // busybox awk reads this NUL as a line break: the same size, other bytes.
    const bytes = Buffer.from('A 1\n\0B 2\n');
    writeFileSync(join(dir, 'nul.conf'), bytes);
    writeFileSync(join(dir, 'main'), `Port 22\nInclude ${dir}/nul.conf\n`);
    const { out, starts } = loggedWalk(join(dir, 'main'), ['awk() { echo awk >>"$sshfix_log"; busybox awk "$@"; }']);
    const raw = parseFactOutput(out);
    assert.deepEqual(raw.files.get(join(dir, 'nul.conf'))?.content, bytes);
    assert.equal(raw.files.get(join(dir, 'main'))?.content.toString(), `Port 22\nInclude ${dir}/nul.conf\n`);
    assert.doesNotMatch(out, /^C /m);
    assert.deepEqual(starts, ['awk', 'awk', 'base64', 'base64', 'stat']);
  });

  it('has a file whose text does not match the size stat saw read again, and parseFactOutput refuses it', () => {
    const out = `C /etc/x\n|Port 22\nF /etc/x 644 0 0 =99\nC /etc/y\n|A 1\nF /etc/y 644 0 0 =3\nC /etc/z\n|caf\u00e9\nF /etc/z 644 0 0 =5\nF /etc/w 600 0 0 =4\n`;
    const { raw, reread } = parseFactRecords(out);
    assert.deepEqual(reread, ['/etc/x', '/etc/z', '/etc/w']);
    // The last line of /etc/y had no newline: its size says so.
    assert.deepEqual([...raw.files.keys()], ['/etc/y']);
    assert.equal(raw.files.get('/etc/y')?.content.toString(), 'A 1');
    assert.throws(() => parseFactOutput(out), /changed while it was read: \/etc\/x/);
    // A later record of the same file, through base64 (another walk read it after it changed), wins.
    const later = parseFactRecords(`C /etc/v\n|abc\nF /etc/v 644 0 0 =4\nF /etc/v 644 0 0 ${Buffer.from('xyz\n').toString('base64')}\n`);
    assert.deepEqual(later.reread, []);
    assert.equal(later.raw.files.get('/etc/v')?.content.toString(), 'xyz\n');
  });

  it('leaves a file over 64 KiB to base64, however its lines are cut', () => {
    const dir = join(root, 'big');
    mkdirSync(dir, { recursive: true });
    const oneLine = `Banner ${'x'.repeat(70_000)}\n`;
    const manyLines = 'PermitRootLogin no\n'.repeat(4_000);
    writeFileSync(join(dir, 'one-line.conf'), oneLine);
    writeFileSync(join(dir, 'many-lines.conf'), manyLines);
    writeFileSync(join(dir, 'main'), `Include ${dir}/*.conf\n`);
    const { out } = loggedWalk(join(dir, 'main'));
    const raw = parseFactOutput(out);
    assert.equal(raw.files.get(join(dir, 'one-line.conf'))?.content.toString(), oneLine);
    assert.equal(raw.files.get(join(dir, 'many-lines.conf'))?.content.toString(), manyLines);
    assert.deepEqual(out.match(/^C .*$/gm), [`C ${join(dir, 'main')}`], 'only the small main file as text');
  });

  it("reads the login's groups only when a file of the tree names groups, or when asked", () => {
    const dir = join(root, 'groups');
    mkdirSync(join(dir, 'd'), { recursive: true });
    writeFileSync(join(dir, 'plain'), `Port 22\nKexAlgorithms diffie-hellman-group14-sha1\n# AllowGroups admins\nInclude ${dir}/d/*.conf\n`);
    writeFileSync(join(dir, 'd', 'a.conf'), 'MaxStartups 10:30:100\n');
    assert.doesNotMatch(loggedWalk(join(dir, 'plain')).out, /groups wanted/);
    assert.match(loggedWalk(join(dir, 'plain'), ['sshfix_groups=1']).out, /groups wanted/);
    for (const [name, line] of [
      ['allow', '  allowgroups=admins'],
      ['deny', 'DenyGroups wheel'],
      ['match', 'Match User deploy Group sftponly'],
      ['match-eq', 'match group=sftponly'],
      // sshd splits words at any whitespace, a CR too.
      ['match-cr', '\rMatch Group sftponly'],
      ['allow-cr', 'AllowGroups\rwheel'],
    ]) {
      writeFileSync(join(dir, 'd', 'a.conf'), `MaxStartups 10:30:100\n${line}\n`);
      assert.match(loggedWalk(join(dir, 'plain')).out, /groups wanted/, name);
    }
    // The script reads them with id at its end, and only then.
    const body = (request: FactRequest): string => [...FACT_SCRIPT_PRELUDE, ...factScriptBody(request)].join('\n') + '\n';
    const withId = (request: FactRequest): boolean => parseFactOutput(runScript(body(request))).commands.has('login_groups');
    assert.equal(withId({ services: {}, files: [], dirs: [] }), false);
    assert.equal(withId({ services: {}, files: [], dirs: [], groups: true }), true);
  });
});
