import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcessStream, runProcess, type StartedProcess } from '../../../src/transport/run-process.js';
import { SudoHandshake, sudoFailedError, wrapForSudo } from '../../../src/transport/sudo.js';

const NONCE = '0123456789abcdef01';

describe('sudo handshake (stderr state machine)', () => {
  const wrapped = wrapForSudo('true', NONCE);

  it('asks for the password at the prompt, then hands over at the ready line', () => {
    const h = new SudoHandshake(wrapped, true);
    assert.deepEqual(h.feed(Buffer.from(wrapped.prompt)), { writePassword: true });
    const step = h.feed(Buffer.from(`${wrapped.ready}\ncommand stderr`));
    assert.equal(step.ready, true);
    assert.equal(step.stderr?.toString(), 'command stderr');
    assert.deepEqual(h.feed(Buffer.from('more')), { stderr: Buffer.from('more') });
  });

  it('finds prompt and ready line split across chunks, byte by byte', () => {
    const h = new SudoHandshake(wrapped, true);
    const bytes = Buffer.from(`We trust you have received the usual lecture.\n${wrapped.prompt}${wrapped.ready}\nE`);
    const steps = [...bytes].map((b) => h.feed(Buffer.from([b])));
    assert.equal(steps.filter((s) => s.writePassword).length, 1);
    assert.equal(steps.filter((s) => s.ready).length, 1);
    assert.equal(Buffer.concat(steps.flatMap((s) => (s.stderr ? [s.stderr] : []))).toString(), 'E');
    assert.equal(h.chatter(), 'We trust you have received the usual lecture.');
  });

  it('goes straight to ready without a prompt (NOPASSWD or cached credentials)', () => {
    const h = new SudoHandshake(wrapped, false);
    assert.equal(h.feed(Buffer.from(`${wrapped.ready}\n`)).ready, true);
  });

  it('fails at the prompt when it has no password, and at a second prompt when the password was wrong', () => {
    assert.deepEqual(new SudoHandshake(wrapped, false).feed(Buffer.from(wrapped.prompt)), { failed: 'password-required' });
    const h = new SudoHandshake(wrapped, true);
    h.feed(Buffer.from(wrapped.prompt));
    assert.deepEqual(h.feed(Buffer.from(`Sorry, try again.\n${wrapped.prompt}`)), { failed: 'password-rejected' });
  });

  it('tells a refusal after a correct password from a wrong password when sudo exits early', () => {
    const refused = new SudoHandshake(wrapped, true);
    refused.feed(Buffer.from(`${wrapped.prompt}deploy is not in the sudoers file.\n`));
    assert.equal(refused.exitedEarly(), 'refused');
    const wrong = new SudoHandshake(wrapped, true);
    wrong.feed(Buffer.from(`${wrapped.prompt}sudo: 1 incorrect password attempt\n`));
    assert.equal(wrong.exitedEarly(), 'password-rejected');
  });

  it('builds failure messages with the become_password_env hint and without the password', () => {
    const required = sudoFailedError('password-required', '', { host: 'web-01', user: 'deploy' });
    assert.equal(required.code, 'sudo-failed');
    assert.match(required.diagnosis, /set become_password_env/);
    const leaked = sudoFailedError('refused', 'pam said hunter2 is wrong', { host: 'web-01', user: 'deploy', password: 'hunter2', becomePasswordEnv: 'BECOME' });
    assert.ok(!JSON.stringify({ m: leaked.message, d: leaked.diagnosis, x: leaked.details }).includes('hunter2'));
    assert.match(sudoFailedError('refused', 'sudo: sorry, you must have a tty to run sudo', { host: 'h', user: 'u' }).diagnosis, /requiretty/);
  });
});

describe('sudo wrapper run through a shell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sshfix-fake-sudo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A stand-in with sudo's -S -p interface: prompt on stderr, password line from stdin, then exec.
  writeFileSync(
    join(dir, 'sudo'),
    [
      '#!/bin/sh',
      '[ "$1" = -S ] && [ "$2" = -p ] && [ "$4" = -- ] || { echo "fake sudo: bad arguments" >&2; exit 2; }',
      'prompt=$3; shift 4',
      'for try in 1 2 3; do',
      '  printf "%s" "$prompt" >&2',
      '  IFS= read -r answer || { echo "sudo: no password was provided" >&2; exit 1; }',
      '  [ "$answer" = "$FAKE_SUDO_PASSWORD" ] && exec "$@"',
      '  echo "Sorry, try again." >&2',
      'done',
      'exit 1',
    ].join('\n'),
  );
  chmodSync(join(dir, 'sudo'), 0o755);

  function start(command: string): StartedProcess {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_SUDO_PASSWORD: 's3cret pw' } });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      finished: new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ? { exitCode: code, signal } : { exitCode: code }))),
      stop: () => child.kill(),
    };
  }

  it('holds a stream\'s input until sudo has handed over, then runs it in parts', async () => {
    const wrapped = wrapForSudo('exec sh -s');
    const stream = new ProcessStream(start(wrapped.command), { wrapped, password: 's3cret pw' });
    // Written before sudo asked for the password: it must not be taken for the password line.
    stream.write('echo one; echo "@END"\n');
    assert.equal((await stream.readUntil(Buffer.from('@END\n')))?.toString(), 'one\n');
    stream.write('echo two; exit 4\n');
    stream.endInput();
    const outcome = await stream.outcome;
    assert.deepEqual(outcome.kind === 'done' && [outcome.exitCode, outcome.stdout.toString(), outcome.stderr.toString()], [4, 'two\n', '']);
  });

  it('passes the command and its stdin through untouched, and strips sudo\'s words from stderr', async () => {
    const command = `printf '%s|' "it's" '$HOME' "a\\"b"; cat; echo done >&2; exit 5`;
    const wrapped = wrapForSudo(command);
    const outcome = await runProcess(start(wrapped.command), { stdin: Buffer.from([0, 1, 2, 255]), sudo: { wrapped, password: 's3cret pw' } });
    assert.equal(outcome.kind, 'done');
    if (outcome.kind !== 'done') return;
    assert.equal(outcome.exitCode, 5);
    assert.deepEqual(outcome.stdout, Buffer.concat([Buffer.from(`it's|$HOME|a"b|`), Buffer.from([0, 1, 2, 255])]));
    assert.equal(outcome.stderr.toString(), 'done\n');
  });

  it('reports a wrong password after the second prompt', async () => {
    const wrapped = wrapForSudo('echo never');
    const outcome = await runProcess(start(wrapped.command), { sudo: { wrapped, password: 'wrong' } });
    assert.deepEqual(outcome.kind === 'sudo-failed' && outcome.reason, 'password-rejected');
  });

  it('gives up on a sudo that waits on a prompt it does not recognise', async () => {
    const wrapped = wrapForSudo('echo never');
    const otp = `printf 'Verification code: ' >&2; read code; ${wrapped.command}`;
    const outcome = await runProcess(start(otp), { sudo: { wrapped, password: 's3cret pw', handoverTimeoutMs: 200 } });
    assert.deepEqual(outcome.kind === 'sudo-failed' && [outcome.reason, outcome.chatter], ['no-handover', 'Verification code:']);
  });

  it('never writes the password unless sudo asked for it', async () => {
    const wrapped = wrapForSudo('cat');
    // The "sudo" here is plain sh: no prompt, the ready line comes at once, and cat echoes stdin.
    const direct = wrapped.command.replace(/^sudo -S -p '[^']*' --/, 'env');
    const outcome = await runProcess(start(direct), { stdin: 'payload', sudo: { wrapped, password: 's3cret pw' } });
    assert.equal(outcome.kind === 'done' && outcome.stdout.toString(), 'payload');
  });
});
