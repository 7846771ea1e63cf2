import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectLocal } from '../../../src/transport/local-connection.js';
import { Semaphore } from '../../../src/transport/semaphore.js';
import { TransportError } from '../../../src/transport/types.js';
import { quoteShellArg } from '../../../src/util/shell-quote.js';

describe('local connection', () => {
  it('runs sh -c with stdin, binary output and the exit code as a result', async () => {
    const local = connectLocal();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const result = await local.exec('cat; echo oops >&2; exit 7', { stdin: all });
    assert.deepEqual(result.stdout, all);
    assert.equal(result.stderr.toString(), 'oops\n');
    assert.equal(result.exitCode, 7);
    assert.equal(result.command, 'cat; echo oops >&2; exit 7');
    assert.ok(result.durationMs >= 0);
    await local.close();
  });

  it('closes stdin when none is given, so readers do not hang', async () => {
    const local = connectLocal();
    const result = await local.exec('wc -c');
    assert.equal(result.stdout.toString().trim(), '0');
  });

  it('reports a signal and a timeout as results', async () => {
    const local = connectLocal();
    const killed = await local.exec('kill -TERM $$');
    assert.equal(killed.signal, 'SIGTERM');
    assert.equal(killed.exitCode, null);
    const started = Date.now();
    const slow = await local.exec('exec sleep 5', { timeoutMs: 200 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.exitCode, null);
    assert.ok(Date.now() - started < 3_000);
  });

  it('keeps quoting intact for arguments built with quoteShellArg', async () => {
    const local = connectLocal();
    const tricky = `a b'c"$HOME\`x\`\n`;
    const result = await local.exec(`printf %s ${quoteShellArg(tricky)}`);
    assert.equal(result.stdout.toString(), tricky);
  });

  it('skips sudo when already root, and refuses commands after close', async () => {
    const local = connectLocal({ become: 'sudo' });
    const result = await local.exec('id -u');
    if (process.getuid?.() === 0) {
      assert.equal(result.stdout.toString().trim(), '0');
      assert.equal(result.become, undefined);
    }
    await local.close();
    await assert.rejects(local.exec('true'), (err: unknown) => err instanceof TransportError && err.code === 'connection-lost');
  });
});

describe('local connection: streams', () => {
  it('runs a shell given its script in parts, reading each part\'s output before sending the next', async () => {
    const local = connectLocal();
    const stream = await local.stream('exec sh -s');
    // The second part depends on the first having run: the shell keeps its variables.
    stream.write('x=41; printf "first %s\\n" "$x"; echo "@END 1"\n');
    assert.equal((await stream.readUntil('@END 1\n', 5_000))?.toString(), 'first 41\n');
    stream.write('x=$((x + 1)); printf "second %s" "$x"; echo warn >&2; echo "@END 2"\n');
    assert.equal((await stream.readUntil('@END 2\n', 5_000))?.toString(), 'second 42');
    stream.write('printf tail; exit 3\n');
    const result = await stream.end(5_000);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout.toString(), 'tail', 'the result holds only what no read consumed');
    assert.equal(result.stderr.toString(), 'warn\n');
    assert.equal(result.command, 'exec sh -s');
  });

  it('finds a delimiter split across chunks, and reads nothing past it', async () => {
    const local = connectLocal();
    const stream = await local.stream('exec sh -s');
    stream.write('printf "ab@E"; sleep 0.1; printf "ND rest"\n');
    assert.equal((await stream.readUntil('@END', 5_000))?.toString(), 'ab');
    assert.equal((await stream.end(5_000)).stdout.toString(), ' rest');
  });

  it('says when the command ended without the delimiter, and end() tells how', async () => {
    const local = connectLocal();
    const stream = await local.stream('exec sh -s');
    stream.write('echo partial; echo broken >&2; exit 9\n');
    assert.equal(await stream.readUntil('@END\n', 5_000), undefined);
    const result = await stream.end();
    assert.equal(result.exitCode, 9);
    assert.equal(result.stdout.toString(), 'partial\n');
    assert.equal(result.stderr.toString(), 'broken\n');
  });

  it('stops a command whose read times out, and reports it timed out', async () => {
    const local = connectLocal();
    const stream = await local.stream('exec sh -s');
    const started = Date.now();
    stream.write('sleep 5; echo "@END"\n');
    assert.equal(await stream.readUntil('@END', 200), undefined);
    const result = await stream.end();
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.ok(Date.now() - started < 3_000);
  });

  it('a deadline met by a read does not stop the command later', async () => {
    const local = connectLocal();
    const stream = await local.stream('exec sh -s');
    stream.write('echo "@END"\n');
    assert.equal((await stream.readUntil('@END\n', 150))?.toString(), '');
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.write('echo alive\n');
    const result = await stream.end(5_000);
    assert.equal(result.timedOut, undefined);
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout.toString(), 'alive\n');
  });

  it('refuses a stream after close', async () => {
    const local = connectLocal();
    await local.close();
    await assert.rejects(local.stream('true'), (err: unknown) => err instanceof TransportError && err.code === 'connection-lost');
  });
});

describe('semaphore', () => {
  it('never lets more than the limit run, and runs everything', async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        sem.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          return i;
        }),
      ),
    );
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(peak, 2);
    assert.equal(sem.inUse, 0);
  });

  it('frees the slot when the work fails', async () => {
    const sem = new Semaphore(1);
    await assert.rejects(sem.run(async () => Promise.reject(new Error('x'))));
    assert.equal(await sem.run(async () => 1), 1);
  });

  it('lowers its limit while in use: holders above it finish, then waiters run at the new limit', async () => {
    const sem = new Semaphore(4);
    let running = 0;
    const peaks: number[] = [];
    const task = (ms: number) =>
      sem.run(async () => {
        running++;
        peaks.push(running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
      });
    const first = Array.from({ length: 4 }, () => task(20));
    sem.lower(2);
    sem.lower(3);
    assert.equal(sem.limit, 2, 'lower never raises the limit');
    const rest = Array.from({ length: 6 }, () => task(5));
    await Promise.all([...first, ...rest]);
    assert.deepEqual(peaks.slice(0, 4), [1, 2, 3, 4]);
    assert.ok(Math.max(...peaks.slice(4)) <= 2, `waiters ran ${Math.max(...peaks.slice(4))} at once`);
    assert.equal(sem.inUse, 0);
    sem.lower(0);
    assert.equal(sem.limit, 1);
  });
});
