/**
 * The apply transaction's shell scripts, run for real with sh against files in a scratch
 * directory (paths with spaces, quotes and `$`), with a stand-in "sshd" process that records the
 * SIGHUPs it gets. `sshd -t` is the machine's real one (its own valid /etc/ssh), so validation
 * passes unless a test makes it fail through a bad `-C` spec. Needs root (chown) and sshd. Each
 * script runs in a private mount namespace with its own /run/sshd (test/helpers/private-run.ts), so
 * a fresh machine, where sshd was installed but never started, runs them as well.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { buildCommitScript, buildConfirmScript, buildRollbackScript, COMMIT_EXIT, parseSteps, type CommitFile } from '../helpers/sshd-transaction-scripts.js';
import { sha256Hex } from '../../src/engine/facts.js';
import { killTrackedChildren, trackChild } from '../helpers/children.js';
import { requireLabMachine } from '../helpers/lab-fixture.js';
import { runWithPrivateRun, type ScriptResult } from '../helpers/private-run.js';

const runScript = (script: string): ScriptResult => runWithPrivateRun(script);

describe('apply transaction scripts', { timeout: 120_000 }, () => {
  let scratch: string;
  let dir: string;
  let backups: string;
  let pidFile: string;
  let hupLog: string;
  let dummy: ChildProcess;
  let standIn: { shell: string; script: string };
  let txCounter = 0;
  const txid = (): string => `20261123T0000${String(10 + txCounter++).padStart(2, '0')}Z-abcd0000`;
  let reload: { kind: 'signal'; pidFile: string };
  const hups = (): number => (existsSync(hupLog) ? readFileSync(hupLog, 'utf8').split('\n').filter(Boolean).length : 0);

  before(() => {
    requireLabMachine();
    scratch = mkdtempSync('/var/tmp/sshfix-script-test-');
    dir = join(scratch, `it's a "dir" with $HOME`);
    spawnSync('mkdir', ['-p', dir]);
    backups = join(scratch, 'backups');
    pidFile = join(scratch, 'sshd.pid');
    hupLog = join(scratch, 'hups');
    // A process named like sshd (comm "sshd-stand-in") that logs each SIGHUP instead of dying.
    const shell = join(scratch, 'sshd-stand-in');
    copyFileSync('/bin/sh', shell);
    standIn = { shell, script: join(scratch, 'stand-in.sh') };
    writeFileSync(standIn.script, 'trap \'echo hup >> "$1"\' HUP\necho "$$" > "$2"\nwhile :; do sleep 0.05; done\n');
    dummy = trackChild(spawn(shell, [standIn.script, hupLog, pidFile], { stdio: 'ignore' }));
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) spawnSync('sleep', ['0.02']);
    reload = { kind: 'signal', pidFile };
  });

  after(() => {
    killTrackedChildren();
    spawnSync('pkill', ['-f', scratch]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const file = (name: string, content: string | undefined, after: string, mode = 0o640): CommitFile => {
    const path = join(dir, name);
    if (content !== undefined) {
      writeFileSync(path, content, { mode: 0o600 });
    } else {
      rmSync(path, { force: true });
    }
    return { path, writePath: path, content: Buffer.from(after), mode, uid: 0, gid: 4, expectSha256: content === undefined ? null : sha256Hex(content) };
  };

  const commit = (files: CommitFile[], options: { matchSpecs?: string[]; deadmanSeconds?: number } = {}): { id: string; status: number | null; steps: ReturnType<typeof parseSteps>; stderr: string } => {
    const id = txid();
    const script = buildCommitScript({
      txid: id,
      backupRoot: backups,
      files,
      configs: ['/etc/ssh/sshd_config'],
      matchSpecs: options.matchSpecs ?? [],
      reload: { kind: 'signal', pidFile },
      deadmanSeconds: options.deadmanSeconds ?? 60,
    });
    const result = runScript(script);
    return { id, status: result.status, steps: parseSteps(result.stdout), stderr: result.stderr };
  };

  it('writes atomically with the planned mode and owner, backs up, arms, reloads; confirm disarms', async () => {
    const f = file('main conf', 'Port 22\n', 'Port 22\nMaxStartups 100:30:500\n');
    const hupsBefore = hups();
    const result = commit([f]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.steps.map((s) => [s.step, s.ok]), [['stale', true], ['backup', true], ['arm', true], ['write', true], ['validate', true], ['reload', true]]);
    assert.equal(readFileSync(f.path, 'utf8'), 'Port 22\nMaxStartups 100:30:500\n');
    const stat = statSync(f.path);
    assert.equal(stat.mode & 0o7777, 0o640);
    assert.equal(stat.gid, 4);
    const txDir = join(backups, result.id);
    assert.equal(readFileSync(join(txDir, 'files', '0'), 'utf8'), 'Port 22\n', 'the backup holds the old content');
    assert.equal(statSync(join(txDir, 'files', '0')).mode & 0o7777, 0o600, 'the backup keeps the old mode');
    assert.ok(existsSync(join(txDir, 'armed')));
    for (let i = 0; i < 20 && hups() === hupsBefore; i++) await sleep(50);
    assert.equal(hups(), hupsBefore + 1, 'sshd got exactly one SIGHUP');
    assert.equal(readdirSync(dir).filter((n) => n.includes('.sshfix-')).length, 0, 'no temporary file left');

    const confirm = runScript(buildConfirmScript({ backupRoot: backups, txid: result.id, keep: 10, reload }));
    assert.equal(confirm.status, 0, confirm.stderr);
    assert.ok(existsSync(join(txDir, 'confirmed')));
    assert.ok(!existsSync(join(txDir, 'armed')));
    const deadmanPid = Number(readFileSync(join(txDir, 'deadman.pid'), 'utf8'));
    // Gone, or a zombie waiting for init to reap it: either way it will never restore anything.
    const running = (): boolean => {
      try {
        const stat = readFileSync(`/proc/${deadmanPid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 20 && running(); i++) await sleep(50);
    assert.equal(running(), false, 'the dead-man switch process is gone');
    // Its whole process group too (its sleep): sh's `kill -KILL -- -PGID` is no group kill in dash.
    const inGroup = (): string[] =>
      readdirSync('/proc').filter((entry) => {
        if (!/^\d+$/.test(entry)) return false;
        try {
          const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
          return fields[0] !== 'Z' && fields[2] === String(deadmanPid);
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 20 && inGroup().length > 0; i++) await sleep(50);
    assert.deepEqual(inGroup(), [], "no process of the dead-man switch's group is left");
  });

  it('restores byte for byte and never reloads when validation fails', () => {
    const existing = file('drop in.conf', 'ClientAliveInterval 0\r\n', 'ClientAliveInterval 60\r\n');
    const created = file('new.conf', undefined, 'X 1\n');
    const hupsBefore = hups();
    const result = commit([existing, created], { matchSpecs: ['user=root,nonsense=1'] });
    assert.equal(result.status, COMMIT_EXIT.validate);
    const failed = result.steps.find((s) => !s.ok);
    assert.equal(failed?.step, 'validate');
    assert.match(failed?.message ?? '', /nonsense/);
    assert.equal(readFileSync(existing.path, 'utf8'), 'ClientAliveInterval 0\r\n');
    assert.equal(statSync(existing.path).mode & 0o7777, 0o600);
    assert.ok(!existsSync(created.path), 'a file the transaction created is removed again');
    assert.equal(hups(), hupsBefore, 'no reload');
  });

  it('refuses a file that changed since the plan, before writing or backing up anything', () => {
    const f = file('stale.conf', 'A 1\n', 'A 2\n');
    writeFileSync(f.path, 'A 1\n# someone else\n');
    const result = commit([f]);
    assert.equal(result.status, COMMIT_EXIT.stale);
    assert.match(result.steps[0]?.message ?? '', /stale\.conf changed since the plan/);
    assert.equal(readFileSync(f.path, 'utf8'), 'A 1\n# someone else\n');
    assert.ok(!existsSync(join(backups, result.id)));
  });

  it('the dead-man switch restores and reloads when nobody confirms; a late confirm then fails', async () => {
    const f = file('deadman.conf', 'B 1\n', 'B 2\n');
    const result = commit([f], { deadmanSeconds: 3 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(f.path, 'utf8'), 'B 2\n');
    const hupsAfterCommit = hups();
    const deadline = Date.now() + 10_000;
    while (readFileSync(f.path, 'utf8') !== 'B 1\n' && Date.now() < deadline) await sleep(100);
    assert.equal(readFileSync(f.path, 'utf8'), 'B 1\n');
    for (let i = 0; i < 40 && hups() === hupsAfterCommit; i++) await sleep(50);
    assert.equal(hups(), hupsAfterCommit + 1, 'the restored config was reloaded');
    assert.ok(existsSync(join(backups, result.id, 'deadman-fired')));
    const late = runScript(buildConfirmScript({ backupRoot: backups, txid: result.id, keep: 10, reload }));
    assert.notEqual(late.status, 0);
    assert.match(parseSteps(late.stdout)[0]?.message ?? '', /dead-man switch already restored/);
  });

  it('removes a file marked for removal (backed up first), writes the manifest, and the restore script puts the file back', () => {
    const gone = { ...file('created earlier.conf', 'D 1\n', ''), remove: true };
    const kept = file('kept.conf', 'E 1\n', 'E 2\n');
    const id = txid();
    const script = buildCommitScript({
      txid: id,
      backupRoot: backups,
      files: [gone, kept],
      configs: ['/etc/ssh/sshd_config'],
      matchSpecs: [],
      reload,
      deadmanSeconds: 60,
      manifest: '{"version":1}\n',
    });
    const result = runScript(script);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.ok(!existsSync(gone.path), 'the file is removed');
    assert.equal(readFileSync(kept.path, 'utf8'), 'E 2\n');
    assert.equal(readFileSync(join(backups, id, 'files', '0'), 'utf8'), 'D 1\n', 'the removed file was backed up');
    assert.equal(readFileSync(join(backups, id, 'manifest'), 'utf8'), '{"version":1}\n');
    const rollback = runScript(buildRollbackScript({ backupRoot: backups, txid: id, reload }));
    assert.equal(rollback.status, 0, rollback.stdout + rollback.stderr);
    assert.equal(readFileSync(gone.path, 'utf8'), 'D 1\n', 'the removed file is back');
    assert.equal(statSync(gone.path).mode & 0o7777, 0o600, 'with its old mode');
    assert.equal(readFileSync(kept.path, 'utf8'), 'E 1\n');
  });

  it('rolls back through the restore script and disarms', async () => {
    const f = file('rollback.conf', 'C 1\n', 'C 2\n');
    const result = commit([f]);
    assert.equal(result.status, 0, result.stderr);
    const rollback = runScript(buildRollbackScript({ backupRoot: backups, txid: result.id, reload }));
    assert.equal(rollback.status, 0, rollback.stdout + rollback.stderr);
    assert.equal(readFileSync(f.path, 'utf8'), 'C 1\n');
    assert.ok(!existsSync(join(backups, result.id, 'armed')));
  });

  it('keeps only the newest finished backups on confirm, never an armed one or anything else', () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = commit([file(`prune-${i}.conf`, 'D 1\n', 'D 2\n')]);
      assert.equal(result.status, 0, result.stderr);
      ids.push(result.id);
      if (i < 2) assert.equal(runScript(buildConfirmScript({ backupRoot: backups, txid: result.id, keep: 100, reload })).status, 0);
    }
    spawnSync('mkdir', ['-p', join(backups, 'not-a-transaction')]);
    const last = ids[ids.length - 1] as string;
    const confirm = runScript(buildConfirmScript({ backupRoot: backups, txid: last, keep: 2, reload }));
    assert.equal(confirm.status, 0, confirm.stderr);
    const left = readdirSync(backups).filter((n) => !n.startsWith('.')).sort();
    assert.ok(left.includes('not-a-transaction'), 'a directory sshfix did not make is never removed');
    assert.deepEqual(left.filter((n) => n !== 'not-a-transaction'), [...ids.slice(-2)].sort());
  });

  it('refuses transaction ids that are not plain names', () => {
    assert.throws(() => buildCommitScript({ txid: '../x', backupRoot: backups, files: [], configs: [], matchSpecs: [], reload, deadmanSeconds: 5 }), RangeError);
  });

  it('refuses a new transaction while an earlier one is unconfirmed (in flight: its switch runs inside its window), and names it', () => {
    const first = commit([file('lock-a.conf', 'E 1\n', 'E 2\n')]);
    assert.equal(first.status, 0, first.stderr);
    const second = commit([file('lock-b.conf', 'F 1\n', 'F 2\n')]);
    assert.equal(second.status, COMMIT_EXIT.locked);
    assert.match(second.steps[0]?.message ?? '', new RegExp(`transaction ${first.id} is in flight on this host`));
    assert.equal(readFileSync(join(dir, 'lock-b.conf'), 'utf8'), 'F 1\n');
    runScript(buildConfirmScript({ backupRoot: backups, txid: first.id, keep: 10, reload }));
  });

  it('restores compare-and-swap: a file changed after the transaction is left alone', () => {
    const f = file('cas.conf', 'G 1\n', 'G 2\n');
    const result = commit([f]);
    assert.equal(result.status, 0, result.stderr);
    writeFileSync(f.path, 'G 3 (a newer change)\n');
    const rollback = runScript(buildRollbackScript({ backupRoot: backups, txid: result.id, reload }));
    assert.equal(readFileSync(f.path, 'utf8'), 'G 3 (a newer change)\n');
    assert.match(parseSteps(rollback.stdout).map((s) => s.message).join('\n'), /left as they are, changed since this transaction: .*cas\.conf/);
  });

  it('when sshd exits at the reload, restores the files and starts sshd again from its command line', async () => {
    const f = file('stop.conf', 'H 1\n', 'H 2\n');
    // This time the stand-in dies of the SIGHUP, as sshd does when it cannot load what it validated.
    dummy.kill('SIGKILL');
    rmSync(pidFile, { force: true });
    const mortal = join(scratch, 'mortal.sh');
    writeFileSync(mortal, 'echo "$$" > "$1"\necho started >> "$2"\nwhile :; do sleep 0.05; done\n');
    const starts = join(scratch, 'starts');
    dummy = trackChild(spawn(standIn.shell, [mortal, pidFile, starts], { stdio: 'ignore' }));
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(20);
    const result = commit([f]);
    assert.equal(result.status, COMMIT_EXIT.stopped, result.stderr);
    assert.match(result.steps.find((s) => !s.ok)?.message ?? '', /sshd stopped after the reload/);
    assert.equal(readFileSync(f.path, 'utf8'), 'H 1\n');
    assert.equal(readFileSync(starts, 'utf8').split('\n').filter(Boolean).length, 2, 'started again');
    assert.ok(existsSync(join(backups, result.id, 'aborted')), 'and disarmed');
    const revived = Number(readFileSync(pidFile, 'utf8'));
    process.kill(revived, 'SIGKILL');
  });
});
