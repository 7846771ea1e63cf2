/**
 * The relays that bring clients into a lab host with a network namespace of its own, here both in
 * the test's namespace: a TCP server stands in for sshd. The server must see the client's own
 * address, every byte must pass both ways, and what the server writes after the client finished
 * sending (sshd's exit status after the client's EOF) must still arrive. Addresses 127.77.101.200-201.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLoopbackV4, relayHeader, startInnerRelay, startOuterRelay } from '../../src/lab/net-relay.js';

const SERVER = '127.77.101.200';
const RELAY = '127.77.101.201';
const PORT = 2200;

describe('lab network relays', () => {
  let dir: string;
  const servers: Server[] = [];
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sshfix-relay-'));
    const socket = join(dir, 'relay.sock');
    // Answers with the client's address, then echoes, and after the client's EOF writes a last line.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      seen.push(client.remoteAddress ?? '');
      const chunks: Buffer[] = [];
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.on('end', () => client.end(Buffer.concat([Buffer.concat(chunks), Buffer.from(`\nbye ${client.remoteAddress}\n`)])));
    });
    await new Promise<void>((resolve) => server.listen(PORT, SERVER, resolve));
    servers.push(server, await startInnerRelay(socket, SERVER, PORT), await startOuterRelay(RELAY, PORT, socket));
  });

  after(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  const exchange = (localAddress: string, payload: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const client = createConnection({ host: RELAY, port: PORT, localAddress, allowHalfOpen: true });
      const got: Buffer[] = [];
      client.on('data', (chunk: Buffer) => got.push(chunk));
      client.on('end', () => resolve(Buffer.concat(got)));
      client.on('error', reject);
      client.end(payload);
    });

  it("carries every byte both ways from the client's own address, and what the server sends after the client's EOF", async () => {
    const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 256));
    const answer = await exchange('127.0.0.12', payload);
    assert.deepEqual(answer.subarray(0, payload.length), payload);
    assert.equal(answer.subarray(payload.length).toString(), '\nbye 127.0.0.12\n');
    assert.equal(seen.at(-1), '127.0.0.12');
    assert.equal((await exchange('127.0.0.13', Buffer.from('x'))).toString(), 'x\nbye 127.0.0.13\n');
  });

  it('names only loopback clients and relays only loopback addresses', () => {
    assert.equal(relayHeader('127.0.0.9'), '127.0.0.9\n');
    assert.equal(relayHeader('::ffff:127.0.0.9'), '127.0.0.9\n');
    assert.equal(relayHeader('192.0.2.7'), '-\n');
    assert.equal(relayHeader('127.0.0.9\n127.0.0.1'), '-\n');
    assert.equal(isLoopbackV4('127.255.255.254'), true);
    assert.equal(isLoopbackV4('128.0.0.1'), false);
    assert.throws(() => startOuterRelay('192.0.2.7', PORT, join(dir, 'x.sock')), RangeError);
    assert.throws(() => startInnerRelay(join(dir, 'x.sock'), '10.0.0.1', PORT), RangeError);
  });
});
