/**
 * A scratch fail2ban server (own socket, pid file, log and in-memory database in a temporary
 * directory; no actions, so no firewall change; polling an empty log file; no network) checks what
 * the engine computes against what the running server holds, and shows the case the value checks
 * exist for: `bantime = forever-ish` passes `fail2ban-client -t`, then the reload leaves no jail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureIgnoreIp } from '../../../src/config/fail2ban/edit.js';
import { getFail2banOption } from '../../../src/config/fail2ban/effective.js';
import { parseIgnoreIpList } from '../../../src/config/fail2ban/ignoreip.js';
import { buildFail2banLayers } from '../../../src/config/fail2ban/layers.js';
import { checkFail2banTime } from '../../../src/config/fail2ban/values.js';
import { assertFail2banAvailable, FAIL2BAN_CLIENT, STOCK_FILES } from './oracle.js';

let dir = '';

const client = (...args: string[]): { status: number; out: string } => {
  const r = spawnSync(FAIL2BAN_CLIENT, ['-c', dir, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
};

function snapshot(): { files: Map<string, string>; listedDirs: Set<string> } {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir)) if (/\.(conf|local)$/.test(name)) files.set(join(dir, name), readFileSync(join(dir, name), 'utf8'));
  for (const name of readdirSync(join(dir, 'jail.d'))) files.set(join(dir, 'jail.d', name), readFileSync(join(dir, 'jail.d', name), 'utf8'));
  return { files, listedDirs: new Set([dir, join(dir, 'jail.d')]) };
}

/** `get JAIL ignoreip` prints `|- entry` / `` `- entry `` lines. */
const ignoredByServer = (out: string): string[] => out.split('\n').filter((l) => /^[|`]- /.test(l)).map((l) => l.slice(3).trim());

describe('scratch fail2ban server oracle', () => {
  before(() => {
    assertFail2banAvailable();
    dir = mkdtempSync(join(tmpdir(), 'sshfix-f2b-server-'));
    for (const f of [...STOCK_FILES, 'fail2ban.conf']) copyFileSync(join('/etc/fail2ban', f), join(dir, f));
    symlinkSync('/etc/fail2ban/filter.d', join(dir, 'filter.d'));
    symlinkSync('/etc/fail2ban/action.d', join(dir, 'action.d'));
    mkdirSync(join(dir, 'jail.d'));
    writeFileSync(join(dir, 'empty.log'), '');
    writeFileSync(join(dir, 'fail2ban.local'), `[Definition]\nlogtarget = ${dir}/fail2ban.log\nsocket = ${dir}/sock\npidfile = ${dir}/pid\ndbfile = :memory:\n`);
    writeFileSync(join(dir, 'jail.local'), `# scratch jail\n[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n           10.1.2.3/16 ; lab\nbackend = polling\naction =\n\n[sshd]\nenabled = true\nlogpath = ${dir}/empty.log\n`);
  });

  after(() => {
    if (!dir) return;
    if (existsSync(join(dir, 'sock'))) client('stop');
    const pid = existsSync(join(dir, 'pid')) ? Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the server ignores exactly the engine\'s normalised ignoreip after ensureIgnoreIp', () => {
    const layers = buildFail2banLayers(snapshot(), dir).layers;
    const r = ensureIgnoreIp(layers, 'sshd', ['192.0.2.7', '2001:db8:1:2::5/56', '10.1.9.9']);
    assert.deepEqual(r.warnings.filter((w) => w.severity === 'error'), []);
    assert.deepEqual(r.edits.map((e) => e.path), [join(dir, 'jail.local')]);
    for (const e of r.edits) writeFileSync(e.path, e.after);
    const effective = getFail2banOption(buildFail2banLayers(snapshot(), dir).layers, 'sshd', 'ignoreip');
    assert.equal(effective.status, 'ok');
    const engine = parseIgnoreIpList(effective.status === 'ok' ? effective.value : '').map((e) => (e.kind === 'invalid' ? e.raw : e.formatted));

    const start = client('start');
    assert.equal(start.status, 0, start.out);
    const got = client('get', 'sshd', 'ignoreip');
    assert.equal(got.status, 0, got.out);
    const server = ignoredByServer(got.out);
    assert.deepEqual([...server].sort(), [...engine].sort());
    assert.ok(server.includes('127.0.0.0/8') && server.includes('2001:db8:1::/56'), got.out);
  });

  it('bantime = forever-ish passes fail2ban-client -t, the value check refuses it, and a reload leaves no jail', () => {
    assert.equal(checkFail2banTime('bantime', 'forever-ish').ok, false);
    writeFileSync(join(dir, 'jail.d', 'sshd.local'), '[sshd]\nbantime = forever-ish\n');
    const test = client('-t');
    assert.equal(test.status, 0, test.out);
    assert.match(test.out, /OK: configuration test is successful/);
    const reload = client('reload');
    assert.notEqual(reload.status, 0, reload.out);
    const status = client('status');
    assert.match(status.out, /Number of jail:\s+0/);
    rmSync(join(dir, 'jail.d', 'sshd.local'));
  });
});
