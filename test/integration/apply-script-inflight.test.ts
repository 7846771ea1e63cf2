/**
 * The commit script's refusal while an earlier transaction holds the host: it tells a transaction
 * in flight (lock held, or armed with its dead-man switch alive inside its window: wait) from one
 * abandoned (armed, switch gone: restore), and never advises undoing one that is being proven.
 * Runs the real scripts with sh in a scratch directory, with a stand-in sshd process.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCommitScript, buildRollbackScript, COMMIT_EXIT, parseSteps, type CommitFile } from '../helpers/sshd-transaction-scripts.js';
import { runWithPrivateRun } from '../helpers/private-run.js';
import { sha256Hex } from '../../src/engine/facts.js';
import { requireLabMachine } from '../helpers/lab-fixture.js';

describe('a second commit while an earlier transaction holds the host', { timeout: 120_000 }, () => {
  let scratch: string;
  let backups: string;
  let pidFile: string;
  let standIn: ChildProcess;
  let counter = 0;
  const reload = (): { kind: 'signal'; pidFile: string } => ({ kind: 'signal', pidFile });

  before(() => {
    requireLabMachine();
    scratch = mkdtempSync('/var/tmp/sshfix-inflight-test-');
    backups = join(scratch, 'backups');
    pidFile = join(scratch, 'sshd.pid');
    // A process whose name starts with "sshd" that survives SIGHUP, standing in for the daemon.
    const shell = join(scratch, 'sshd-stand-in');
    copyFileSync('/bin/sh', shell);
    standIn = spawn(shell, ['-c', `trap : HUP; echo $$ > '${pidFile}'; while :; do sleep 0.05; done`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) spawnSync('sleep', ['0.02']);
  });

  after(() => {
    standIn?.kill('SIGKILL');
    // Only the dead-man switches this file started: their command lines name the scratch directory.
    for (const pid of spawnSync('pgrep', ['-f', scratch], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const commit = (name: string, deadmanSeconds = 60): { id: string; status: number | null; message: string } => {
    const path = join(scratch, `${name}.conf`);
    writeFileSync(path, 'A 1\n');
    const file: CommitFile = { path, writePath: path, content: Buffer.from('A 2\n'), mode: 0o644, uid: 0, gid: 0, expectSha256: sha256Hex('A 1\n') };
    const id = `20261130T1200${String(10 + counter++).padStart(2, '0')}Z-0123abcd`;
    const script = buildCommitScript({ txid: id, backupRoot: backups, files: [file], configs: ['/etc/ssh/sshd_config'], matchSpecs: [], reload: reload(), deadmanSeconds });
    const result = runWithPrivateRun(script);
    const failed = parseSteps(result.stdout).find((s) => !s.ok);
    return { id, status: result.status, message: failed?.message ?? result.stderr };
  };
  const rollBack = (id: string): void => {
    runWithPrivateRun(buildRollbackScript({ backupRoot: backups, txid: id, reload: reload() }));
  };
  const deadmanPid = (id: string): number => Number(readFileSync(join(backups, id, 'deadman.pid'), 'utf8'));

  it('armed with its switch alive and inside its window: in flight, wait; no advice to restore or disarm it', () => {
    const first = commit('inflight-a');
    assert.equal(first.status, 0, first.message);
    const second = commit('inflight-b');
    assert.equal(second.status, COMMIT_EXIT.locked);
    assert.match(second.message, new RegExp(`transaction ${first.id} is in flight on this host`));
    assert.match(second.message, /restores the previous config in \d+ s unless the runner confirms first\. Wait for it to finish/);
    assert.doesNotMatch(second.message, /never confirmed|Restore the previous config with|mv \S+armed|remove \S+armed/);
    assert.equal(readFileSync(join(scratch, 'inflight-b.conf'), 'utf8'), 'A 1\n', 'nothing written');
    rollBack(first.id);
  });

  it('armed with its switch gone: abandoned, restore it with its restore.sh', () => {
    const first = commit('abandoned-a');
    assert.equal(first.status, 0, first.message);
    process.kill(deadmanPid(first.id), 'SIGKILL');
    spawnSync('sleep', ['0.2']);
    const second = commit('abandoned-b');
    assert.equal(second.status, COMMIT_EXIT.locked);
    assert.match(second.message, new RegExp(`transaction ${first.id} on this host was abandoned: never confirmed, and its dead-man switch is gone`));
    assert.ok(second.message.includes(`Restore the previous config with: sh ${join(backups, first.id)}/restore.sh`), second.message);
    assert.doesNotMatch(second.message, /in flight/);
    rollBack(first.id);
  });

  it('switch alive past its window: it is restoring now, wait', () => {
    const first = commit('due-a');
    assert.equal(first.status, 0, first.message);
    writeFileSync(join(backups, first.id, 'deadline'), `${Math.floor(Date.now() / 1000) - 5}\n`);
    const second = commit('due-b');
    assert.equal(second.status, COMMIT_EXIT.locked);
    assert.match(second.message, new RegExp(`transaction ${first.id} on this host is past its window and its dead-man switch is restoring the previous config now: wait`));
    assert.doesNotMatch(second.message, /restore\.sh/);
    rollBack(first.id);
  });

  it('the host-wide lock held by a commit under way: wait', () => {
    mkdirSync(backups, { recursive: true });
    const holder = spawn('flock', [join(backups, '.lock'), 'sleep', '30'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && spawnSync('flock', ['-n', join(backups, '.lock'), 'true']).status === 0; i++) spawnSync('sleep', ['0.02']);
      const second = commit('locked-b');
      assert.equal(second.status, COMMIT_EXIT.locked);
      assert.match(second.message, /another sshfix transaction is being committed on this host right now: wait for it to finish, then apply again/);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
