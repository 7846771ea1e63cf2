/**
 * The transport against real sshd daemons (the lab, address block 127.77.30.x): host key
 * policies, legacy algorithms, jump hosts, sudo, failure classification and exec semantics.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2, { type Client } from 'ssh2';
import { HostKeyVerifier, type TransportWarning } from '../../src/transport/host-key-verifier.js';
import { IdentityStore } from '../../src/transport/identity.js';
import { openSshClient } from '../../src/transport/ssh-client.js';
import { connectSsh, createTransport, type Transport } from '../../src/transport/transport.js';
import { TransportError, type ConnectTarget, type Connection } from '../../src/transport/types.js';
import { scratchDir, startTestLab, type TestLab } from '../helpers/lab-fixture.js';

const FIRST = '127.77.30.1';
/** Where nothing listens (refused) and where the test's own TCP servers listen. */
const NOTHING = '127.77.30.99';
const LOCAL = '127.77.30.250';
const SILENT_PORT = 22;
const PROXY_PORT = 2222;
/** A proxy in front of lab host 1 that hands on what the server sends in batches, as a busy network or relay does. */
const BATCHING_PORT = 2223;

const BECOME_ENV = 'SSHFIX_TEST_BECOME_PASSWORD';
const WRONG_ENV = 'SSHFIX_TEST_WRONG_PASSWORD';
const WRONG_PASSWORD = `wrong-${process.pid}-Zq9`;
const PASSPHRASE = 'transport test passphrase';

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
    assert.equal(err.code, code, `${err.code}: ${err.message}`);
    return true;
  };
}

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the connection to fail');
}

describe('transport against the lab', { timeout: 120_000 }, () => {
  let lab: TestLab;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let shared: Transport;
  let root1: Connection;
  const servers: Server[] = [];
  const heldSockets = new Set<Socket>();
  const address = (n: number): string => `127.77.30.${n}`;

  function target(addr: string, extra: Partial<ConnectTarget> = {}): ConnectTarget {
    return {
      name: extra.name ?? `host-${addr}`,
      address: addr,
      port: 22,
      user: 'root',
      identityFile: lab.identityFile,
      agent: false,
      knownHosts: lab.knownHosts,
      hostKeyPolicy: 'strict',
      become: 'none',
      jump: [],
      connectTimeoutMs: 10_000,
      ...extra,
    };
  }
  const transport = (onWarning?: (w: TransportWarning) => void): Transport => createTransport({ env, prompt: null, ...(onWarning ? { onWarning } : {}) });
  async function hostKeyLine(conn: Connection, type: 'ed25519' | 'ecdsa'): Promise<[string, string]> {
    const [kind, base64] = (await conn.exec(`cat /etc/ssh/ssh_host_${type}_key.pub`)).stdout.toString().trim().split(' ');
    return [kind as string, base64 as string];
  }
  function listen(port: number, onConnection: (socket: Socket) => void): Promise<void> {
    const server = createServer((socket) => {
      heldSockets.add(socket);
      socket.on('close', () => heldSockets.delete(socket));
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    servers.push(server);
    return new Promise((resolve, reject) => server.once('error', reject).listen(port, LOCAL, () => resolve()));
  }

  before(async () => {
    lab = startTestLab({
      hosts: 5,
      firstAddress: FIRST,
      scenarios: ['debian-cloud', 'legacy-kex', 'allowusers', 'tight-maxstartups', 'debian-cloud'],
    });
    scratch = scratchDir('sshfix-transport-');
    env = { ...process.env, [BECOME_ENV]: lab.becomePassword, [WRONG_ENV]: WRONG_PASSWORD, SSHFIX_TEST_PASSPHRASE: PASSPHRASE };
    delete env.SSH_AUTH_SOCK;
    shared = transport();
    root1 = await shared.connect(target(address(1), { keepaliveIntervalS: 1 }));
    // Silent: accepts and never sends a banner. Proxy: a non-22 port in front of lab host 1.
    await listen(SILENT_PORT, () => undefined);
    await listen(PROXY_PORT, (socket) => {
      const upstream = createConnection({ host: address(1), port: 22 });
      heldSockets.add(upstream);
      upstream.on('close', () => heldSockets.delete(upstream));
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await listen(BATCHING_PORT, (socket) => {
      const upstream = createConnection({ host: address(1), port: 22 });
      heldSockets.add(upstream);
      upstream.on('close', () => heldSockets.delete(upstream));
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream);
      // What arrives within 30 ms goes on as one write: sshd's channel confirmation, a fast
      // command's output, exit status and close then reach the client in a single read.
      let held: Buffer[] = [];
      upstream.on('data', (chunk: Buffer) => {
        if (held.length === 0) {
          setTimeout(() => {
            if (!socket.destroyed) socket.write(Buffer.concat(held));
            held = [];
          }, 30);
        }
        held.push(chunk);
      });
      upstream.on('end', () => setTimeout(() => socket.end(), 40));
    });
  });

  after(async () => {
    await shared?.closeAll();
    for (const socket of heldSockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    if (lab && existsSync(lab.dir)) lab.down();
  });

  describe('exec', () => {
    it('reports what was negotiated and accepted', () => {
      assert.match(root1.info.serverBanner ?? '', /^SSH-2\.0-OpenSSH_/);
      assert.match(root1.info.hostKeyFingerprint ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(root1.info.hostKeyType, 'ssh-ed25519');
      assert.equal(root1.info.authMethod, 'publickey');
      assert.ok(root1.info.kex);
    });

    it('round-trips every byte value through stdin and stdout, and keeps stderr and the exit code apart', async () => {
      const bytes = Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256));
      const result = await root1.exec('cat; printf warn >&2; exit 3', { stdin: bytes });
      assert.deepEqual(result.stdout, bytes);
      assert.equal(result.stderr.toString(), 'warn');
      assert.equal(result.exitCode, 3);
      assert.equal(result.command, 'cat; printf warn >&2; exit 3');
    });

    it('reports a signal, a timeout and empty stdin as results, not errors', async () => {
      const killed = await root1.exec('kill -KILL $$');
      assert.equal(killed.exitCode, null);
      assert.equal(killed.signal, 'SIGKILL');
      const slow = await root1.exec('sleep 5', { timeoutMs: 300 });
      assert.equal(slow.timedOut, true);
      assert.equal((await root1.exec('wc -c')).stdout.toString().trim(), '0');
    });

    it('runs many commands at once on one connection without exceeding MaxSessions', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => root1.exec(`echo ${i}`)));
      assert.deepEqual(results.map((r) => r.stdout.toString().trim()), Array.from({ length: 25 }, (_, i) => String(i)));
    });

    it('queues commands under a MaxSessions lower than its own channel limit, instead of failing them', async () => {
      // backup on host 1 may hold two sessions; sshfix opens up to eight channels at once.
      const reload = async (edit: string, user: string): Promise<Connection> => {
        // sshd re-executes itself on SIGHUP and listens again a moment later, on new sockets: a
        // connection made before that is served under the old config, so wait for the listener's
        // sockets to change (kill returns before sshd has even seen the signal).
        const sockets = 'ls -l /proc/$p/fd 2>/dev/null | grep -o "socket:\\[[0-9]*\\]" | sort | tr "\\n" " "';
        const reloaded = await root1.exec(
          `${edit} && sshd -t && p=$(cat /run/sshd.pid) && before=$(${sockets}) && kill -HUP "$p" && ` +
            `for i in $(seq 200); do now=$(${sockets}); [ -n "$now" ] && [ "$now" != "$before" ] && exit 0; sleep 0.05; done; echo "sshd did not listen again" >&2; exit 1`,
        );
        assert.equal(reloaded.exitCode, 0, reloaded.stderr.toString());
        for (let i = 0; ; i++) {
          try {
            return await shared.connect(target(address(1), { user }));
          } catch (err) {
            if (i >= 50) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      const backup = await reload(`printf '\\nMatch User backup\\n    MaxSessions 2\\n' >> /etc/ssh/sshd_config`, 'backup');
      try {
        const started = Date.now();
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => backup.exec(`sleep 0.2; echo ${i}`)));
        assert.deepEqual(results.map((r) => r.stdout.toString().trim()), Array.from({ length: 12 }, (_, i) => String(i)));
        // sshd really held it to two at a time: twelve 0.2 s commands took at least six rounds.
        assert.ok(Date.now() - started >= 1_150, `took ${Date.now() - started} ms: was MaxSessions 2 in effect?`);
      } finally {
        await reload(`sed -i '/^Match User backup$/,$d' /etc/ssh/sshd_config`, 'root');
      }
    });

    it('connects one host on its own with connectSsh and closes everything it opened', async () => {
      const conn = await connectSsh(target(address(1)), { env, prompt: null });
      assert.equal((await conn.exec('hostname')).stdout.toString().trim(), 'lab-01');
      await conn.close();
      await assert.rejects(conn.exec('true'), isCode('connection-lost'));
    });
  });

  describe('host keys', () => {
    it('strict refuses an unknown key, naming its fingerprint and the ssh-keyscan command', async () => {
      const err = await failure(transport().connect(target(address(1), { knownHosts: join(scratch, 'missing', 'known_hosts') })));
      assert.equal(err.code, 'host-key-unknown');
      const [, base64] = await hostKeyLine(root1, 'ed25519');
      const expected = spawnSync('ssh-keygen', ['-l', '-f', '-'], { input: `ssh-ed25519 ${base64}\n`, encoding: 'utf8' }).stdout.split(' ')[1];
      assert.ok(err.message.includes(expected as string), err.message);
      assert.match(err.diagnosis, /ssh-keyscan -p 22 -t ed25519 127\.77\.30\.1 >> /);
    });

    it('strict refuses a changed key with host-key-changed and the ssh-keygen -R command', async () => {
      const [, otherKey] = await hostKeyLine(await shared.connect(target(address(5))), 'ed25519');
      const file = join(scratch, 'changed_known_hosts');
      writeFileSync(file, `${address(1)} ssh-ed25519 ${otherKey}\n`);
      for (const hostKeyPolicy of ['strict', 'accept-new'] as const) {
        const err = await failure(transport().connect(target(address(1), { knownHosts: file, hostKeyPolicy })));
        assert.equal(err.code, 'host-key-changed');
        assert.match(err.diagnosis, /ssh-keygen -R '127\.77\.30\.1' -f /);
      }
      assert.equal(readFileSync(file, 'utf8'), `${address(1)} ssh-ed25519 ${otherKey}\n`, 'a changed key is never written');
    });

    it('accept-new records an unknown key in a new 0600 file, and strict then accepts the recorded line', async () => {
      const file = join(scratch, 'accept-new', 'known_hosts');
      const warnings: TransportWarning[] = [];
      const first = await transport((w) => warnings.push(w)).connect(target(address(1), { knownHosts: file, hostKeyPolicy: 'accept-new' }));
      await first.close();
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const [kind, base64] = await hostKeyLine(root1, 'ed25519');
      assert.equal(readFileSync(file, 'utf8'), `${address(1)} ${kind} ${base64}\n`);
      assert.deepEqual(warnings.map((w) => w.code), ['host-key-recorded']);
      const again = await transport().connect(target(address(1), { knownHosts: file }));
      await again.close();
      assert.equal(readFileSync(file, 'utf8').split('\n').length, 2, 'nothing recorded twice');
    });

    it('reads entries hashed by ssh-keygen -H', async () => {
      const file = join(scratch, 'hashed_known_hosts');
      copyFileSync(lab.knownHosts, file);
      assert.equal(spawnSync('ssh-keygen', ['-H', '-f', file]).status, 0);
      assert.match(readFileSync(file, 'utf8'), /^\|1\|/);
      const t = transport();
      await Promise.all([1, 2].map(async (n) => {
        const conn = await t.connect(target(address(n), { algorithms: { kex: ['+diffie-hellman-group14-sha1'] } }));
        assert.equal(conn.info.hostKeyType, 'ssh-ed25519');
      }));
      await t.closeAll();
    });

    it('files a non-22 port as [address]:port', async () => {
      const [kind, base64] = await hostKeyLine(root1, 'ed25519');
      const bracketed = join(scratch, 'port_known_hosts');
      writeFileSync(bracketed, `[${LOCAL}]:${PROXY_PORT} ${kind} ${base64}\n`);
      const conn = await transport().connect(target(LOCAL, { port: PROXY_PORT, knownHosts: bracketed }));
      assert.equal((await conn.exec('hostname')).stdout.toString().trim(), 'lab-01');
      await conn.close();
      const bare = join(scratch, 'bare_known_hosts');
      writeFileSync(bare, `${LOCAL} ${kind} ${base64}\n`);
      await assert.rejects(transport().connect(target(LOCAL, { port: PROXY_PORT, knownHosts: bare })), isCode('host-key-unknown'));
    });

    it("hears a fast command's exit status that arrives in the same read as its channel's confirmation", async () => {
      const [kind, base64] = await hostKeyLine(root1, 'ed25519');
      const known = join(scratch, 'batching_known_hosts');
      writeFileSync(known, `[${LOCAL}]:${BATCHING_PORT} ${kind} ${base64}\n`);
      for (let i = 0; i < 3; i++) {
        const conn = await transport().connect(target(LOCAL, { port: BATCHING_PORT, knownHosts: known }));
        const results = [await conn.exec('true'), await conn.exec('exit 7'), await conn.exec('echo out')];
        assert.deepEqual(results.map((r) => [r.exitCode, r.stdout.toString()]), [[0, ''], [7, ''], [0, 'out\n']]);
        await conn.close();
      }
    });

    it('refuses a @revoked key under every policy', async () => {
      const [kind, base64] = await hostKeyLine(root1, 'ed25519');
      const file = join(scratch, 'revoked_known_hosts');
      writeFileSync(file, `@revoked * ${kind} ${base64}\n${address(1)} ${kind} ${base64}\n`);
      for (const hostKeyPolicy of ['strict', 'accept-new', 'off'] as const) {
        await assert.rejects(transport().connect(target(address(1), { knownHosts: file, hostKeyPolicy })), isCode('host-key-revoked'));
      }
    });

    it('negotiates the key type known_hosts holds, and refuses a type it does not hold', async () => {
      const [kind, base64] = await hostKeyLine(root1, 'ecdsa');
      const file = join(scratch, 'ecdsa_known_hosts');
      writeFileSync(file, `${address(1)} ${kind} ${base64}\n`);
      const conn = await transport().connect(target(address(1), { knownHosts: file }));
      assert.equal(conn.info.hostKeyType, kind);
      await conn.close();
      const err = await failure(transport().connect(target(address(1), { knownHosts: file, hostKeyPolicy: 'accept-new', algorithms: { serverHostKey: ['ssh-ed25519'] } })));
      assert.equal(err.code, 'host-key-unknown');
      assert.deepEqual(err.details.knownTypes, [kind]);
    });

    it('off accepts an unknown key with one warning per host', async () => {
      const warnings: TransportWarning[] = [];
      const t = transport((w) => warnings.push(w));
      const options = { knownHosts: join(scratch, 'none'), hostKeyPolicy: 'off' as const };
      await t.connect(target(address(1), options));
      await t.connect(target(address(1), options));
      await t.closeAll();
      assert.deepEqual(warnings.map((w) => w.code), ['host-key-not-verified']);
      assert.ok(!existsSync(join(scratch, 'none')));
    });
  });

  describe('legacy algorithms', () => {
    it('classifies the legacy-kex host as kex-mismatch, listing both sides and the scoped fix', async () => {
      const err = await failure(shared.connect(target(address(2), { name: 'lab-02' })));
      assert.equal(err.code, 'kex-mismatch');
      assert.deepEqual(err.details.serverOffer, ['diffie-hellman-group14-sha1']);
      assert.ok((err.details.clientOffer as string[]).includes('curve25519-sha256'));
      assert.match(err.message, /Server offers: diffie-hellman-group14-sha1\. sshfix \(ssh2\) offers: .*curve25519-sha256/);
      assert.match(err.diagnosis, /on host lab-02/);
      assert.match(err.diagnosis, /algorithms: \{ kex: \["\+diffie-hellman-group14-sha1"\] \}/);
      assert.match(err.diagnosis, /Host 127\.77\.30\.2/);
    });

    it('reaches the host with the per-host setting', async () => {
      const conn = await shared.connect(target(address(2), { algorithms: { kex: ['+diffie-hellman-group14-sha1'] } }));
      assert.equal(conn.info.kex, 'diffie-hellman-group14-sha1');
      assert.equal((await conn.exec('hostname')).stdout.toString().trim(), 'lab-02');
    });

    it('rejects an algorithm ssh2 does not implement before connecting', async () => {
      await assert.rejects(shared.connect(target(address(2), { algorithms: { kex: ['+sntrup761x25519-sha512@openssh.com'] } })), isCode('invalid-settings'));
    });
  });

  describe('failures', () => {
    it('classifies each failure, and no failure touches another host\'s connection', async () => {
      const wrongKey = join(scratch, 'wrong_key');
      assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]).status, 0);
      // libwrap looks up the client's name before refusing, so this one takes a few seconds.
      const banned = await shared.connect(target(address(5)));
      await banned.exec('printf "sshd: ALL\\n" >> /etc/hosts.deny');
      const t = transport();
      const attempts: [string, Promise<Connection>][] = [
        ['ok', t.connect(target(address(1)))],
        ['refused', t.connect(target(NOTHING))],
        ['dns', t.connect(target('lab-host.invalid'))],
        ['timeout', t.connect(target(LOCAL, { port: SILENT_PORT, connectTimeoutMs: 800 }))],
        ['closed-before-banner', t.connect(target(address(5)))],
        ['auth-failed', t.connect(target(address(3), { user: 'backup' }))],
        ['auth-failed', t.connect(target(address(3), { identityFile: wrongKey }))],
        ['ok', t.connect(target(address(3), { user: 'deploy' }))],
      ];
      const settled = await Promise.allSettled(attempts.map(([, p]) => p));
      const codes = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof TransportError ? s.reason.code : String(s.reason)));
      assert.deepEqual(codes, attempts.map(([code]) => code));
      const reasons = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as TransportError] : []));
      const byCode = (code: string): TransportError => reasons.find((r) => r.code === code) as TransportError;
      assert.equal(byCode('timeout').details.phase, 'banner');
      assert.match(byCode('closed-before-banner').diagnosis, /fail2ban.*TCP wrappers.*MaxStartups/s);
      const backup = byCode('auth-failed');
      assert.match(backup.message, /tried: publickey .*server allows: publickey/);
      assert.match(backup.diagnosis, /AllowUsers/);
      for (const s of settled) if (s.status === 'fulfilled') assert.equal((await s.value.exec('true')).exitCode, 0);
      await t.closeAll();
      assert.equal((await banned.exec('sed -i "/^sshd: ALL$/d" /etc/hosts.deny')).exitCode, 0);
    });

    it('tells MaxStartups shedding apart when the server says so', async () => {
      // tight-maxstartups is 3:50:6: beyond 3 unauthenticated connections sshd drops at random,
      // with 6 it drops every new one. Keep opening until six are held.
      const held: Socket[] = [];
      const openOne = (): Promise<Socket | undefined> =>
        new Promise((resolve, reject) => {
          const socket = createConnection({ host: address(4), port: 22 });
          heldSockets.add(socket);
          socket.once('data', (data: Buffer) => {
            if (data.toString().startsWith('SSH-')) return resolve(socket);
            socket.destroy();
            resolve(undefined);
          });
          socket.once('error', reject);
        });
      try {
        for (let tries = 0; held.length < 6 && tries < 100; tries++) {
          const socket = await openOne();
          if (socket) held.push(socket);
        }
        assert.equal(held.length, 6);
        const err = await failure(transport().connect(target(address(4))));
        assert.equal(err.code, 'closed-before-banner');
        assert.match(err.message, /Exceeded MaxStartups/);
        assert.match(err.diagnosis, /MaxStartups/);
      } finally {
        for (const socket of held) socket.destroy();
      }
    });
  });

  describe('login cost', () => {
    /** Runs `true` on the client and waits for its channel to close: one full round trip after the login. */
    const roundTrip = (client: Client): Promise<void> =>
      new Promise((resolve, reject) => client.exec('true', (err, channel) => (err ? reject(err) : channel.on('close', () => resolve()).resume())));

    it('ignores the host keys sshd announces after a login instead of having the host prove each one', async () => {
      // ssh2 on its own asks the host to prove every announced key, and reports those it proved.
      const raw = new ssh2.Client();
      let provenByRaw = 0;
      raw.on('hostkeys', (keys: unknown[]) => (provenByRaw += keys.length));
      await new Promise<void>((resolve, reject) => {
        raw.once('ready', () => resolve()).once('error', reject);
        raw.connect({ host: address(1), port: 22, username: 'root', privateKey: readFileSync(lab.identityFile), hostVerifier: () => true });
      });
      await roundTrip(raw);
      raw.end();
      assert.ok(provenByRaw >= 1, 'the lab host announces its host keys after a login');

      const { client } = await openSshClient(target(address(1)), {
        identities: new IdentityStore(env, undefined),
        hostKeys: new HostKeyVerifier(() => undefined),
        env,
        deadline: Date.now() + 10_000,
      });
      let proven = 0;
      client.on('hostkeys', (keys: unknown[]) => (proven += keys.length));
      // The announcement follows the login, and a proof's answer would precede this command's.
      await roundTrip(client);
      client.end();
      assert.equal(proven, 0);
    });
  });

  describe('credentials', () => {
    it('uses an encrypted key with the passphrase from the named variable', async () => {
      const key = join(scratch, 'encrypted_key');
      copyFileSync(lab.identityFile, key);
      assert.equal(spawnSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', PASSPHRASE, '-f', key]).status, 0);
      const conn = await shared.connect(target(address(3), { identityFile: key, passphraseEnv: 'SSHFIX_TEST_PASSPHRASE' }));
      assert.equal((await conn.exec('id -un')).stdout.toString().trim(), 'root');
      await assert.rejects(transport().connect(target(address(3), { identityFile: key })), isCode('key-unreadable'));
    });

    it('authenticates with a key held by ssh-agent', async () => {
      const socket = join(scratch, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
      agent.on('error', () => undefined);
      try {
        for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
        const added = spawnSync('ssh-add', ['-q', lab.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
        assert.equal(added.status, 0, added.stderr);
        const t = createTransport({ env: { ...env, SSH_AUTH_SOCK: socket }, prompt: null });
        const conn = await t.connect(target(address(3), { identityFile: undefined, agent: true }));
        assert.equal(conn.info.authMethod, 'publickey');
        await t.closeAll();
      } finally {
        agent.kill();
      }
      const none = await failure(transport().connect(target(address(3), { identityFile: undefined, agent: true })));
      assert.equal(none.code, 'invalid-settings');
      assert.match(none.message, /SSH_AUTH_SOCK is not set/);
    });

    it('logs in with the password from password_env, which appears nowhere', async () => {
      const t = createTransport({ env: { ...env, SSHFIX_TEST_LOGIN: lab.becomePassword }, prompt: null });
      const conn = await t.connect(target(address(3), { user: 'deploy', identityFile: undefined, passwordEnv: 'SSHFIX_TEST_LOGIN' }));
      assert.equal(conn.info.authMethod, 'password');
      await t.closeAll();
      const wrong = await failure(
        createTransport({ env: { ...env, SSHFIX_TEST_LOGIN: WRONG_PASSWORD }, prompt: null }).connect(
          target(address(3), { user: 'deploy', identityFile: undefined, passwordEnv: 'SSHFIX_TEST_LOGIN' }),
        ),
      );
      assert.equal(wrong.code, 'auth-failed');
      assert.match(wrong.message, /password from \$SSHFIX_TEST_LOGIN/);
      assert.ok(!JSON.stringify([wrong.message, wrong.diagnosis, wrong.details]).includes(WRONG_PASSWORD));
    });
  });

  describe('sudo', () => {
    const allOutput = (...parts: unknown[]): string => JSON.stringify(parts, (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));

    it('runs as root with the password from become_password_env, passing stdin and keeping stderr clean', async () => {
      const conn = await shared.connect(target(address(1), { user: 'deploy', become: 'sudo', becomePasswordEnv: BECOME_ENV }));
      const result = await conn.exec('id -u; cat; echo to-stderr >&2', { stdin: 'payload\n' });
      assert.equal(result.stdout.toString(), '0\npayload\n');
      assert.equal(result.stderr.toString(), 'to-stderr\n');
      assert.equal(result.become, 'sudo');
      assert.equal((await conn.exec('id -u', { become: false })).stdout.toString().trim(), '2001');
      assert.ok(!allOutput(result).includes(lab.becomePassword));
    });

    it('runs as root without a password for a NOPASSWD account', async () => {
      const dropIn = await root1.exec('cat > /etc/sudoers.d/sshfix-test-backup && chmod 0440 /etc/sudoers.d/sshfix-test-backup && visudo -cf /etc/sudoers.d/sshfix-test-backup', {
        stdin: 'backup ALL=(ALL:ALL) NOPASSWD: ALL\n',
      });
      assert.equal(dropIn.exitCode, 0, dropIn.stderr.toString());
      const conn = await shared.connect(target(address(1), { user: 'backup', become: 'sudo' }));
      const result = await conn.exec('id -u');
      assert.equal(result.stdout.toString(), '0\n');
      assert.equal(result.stderr.toString(), '');
    });

    it('fails with sudo-failed on a wrong or missing password, never showing the password', async () => {
      const wrong = await shared.connect(target(address(1), { user: 'deploy', become: 'sudo', becomePasswordEnv: WRONG_ENV }));
      const err = await failure(wrong.exec('id -u'));
      assert.equal(err.code, 'sudo-failed');
      assert.equal(err.details.reason, 'password-rejected');
      assert.match(err.message, new RegExp(`\\$${WRONG_ENV}`));
      const missing = await shared.connect(target(address(1), { user: 'deploy', become: 'sudo' }));
      const none = await failure(missing.exec('id -u'));
      assert.equal(none.code, 'sudo-failed');
      assert.match(none.diagnosis, /set become_password_env/);
      assert.ok(!allOutput(err.message, err.diagnosis, err.details, none.message, none.diagnosis, none.details).includes(WRONG_PASSWORD));
      // The connection stays usable after a failed sudo.
      assert.equal((await wrong.exec('echo ok', { become: false })).stdout.toString(), 'ok\n');
      const log = await root1.exec('cat /var/log/auth.log');
      for (const secret of [WRONG_PASSWORD, lab.becomePassword]) assert.ok(!log.stdout.toString().includes(secret), 'a password reached the host\'s log');
    });
  });

  describe('jump hosts', () => {
    const accepted = async (): Promise<number> => {
      const out = await root1.exec('grep -c "Accepted publickey for root" /var/log/auth.log');
      return Number(out.stdout.toString().trim());
    };

    it('reaches several targets through one jump connection, opened once', async () => {
      const jump = target(address(1), { name: 'bastion' });
      const before = await accepted();
      const t = createTransport({ env, prompt: null, handshakesPerJump: 2 });
      const targets = [
        target(address(2), { name: 'lab-02', jump: [jump], algorithms: { kex: ['+diffie-hellman-group14-sha1'] } }),
        target(address(3), { name: 'lab-03', jump: [jump] }),
        target(address(4), { name: 'lab-04', jump: [jump] }),
        target(address(5), { name: 'lab-05', jump: [jump] }),
      ];
      const conns = await Promise.all(targets.map((x) => t.connect(x)));
      const names = await Promise.all(conns.map(async (c) => (await c.exec('hostname')).stdout.toString().trim()));
      assert.deepEqual(names, ['lab-02', 'lab-03', 'lab-04', 'lab-05']);
      assert.equal(t.jumpConnectionsOpened, 1);
      await t.closeAll();
      assert.equal((await accepted()) - before, 1, 'the jump host saw exactly one login');
    });

    it('goes through a chain of two jump hosts', async () => {
      const t = transport();
      const conn = await t.connect(target(address(3), { jump: [target(address(1), { name: 'outer' }), target(address(5), { name: 'inner' })] }));
      assert.equal((await conn.exec('hostname')).stdout.toString().trim(), 'lab-03');
      assert.equal(t.jumpConnectionsOpened, 2);
      await t.closeAll();
    });

    it('says jump-failed when the jump host is unreachable, and refused when the target refuses', async () => {
      const t = transport();
      const unreachable = await failure(t.connect(target(address(3), { jump: [target(NOTHING, { name: 'dead-bastion' })] })));
      assert.equal(unreachable.code, 'jump-failed');
      assert.equal(unreachable.details.jumpCode, 'refused');
      assert.match(unreachable.message, /dead-bastion/);
      const refused = await failure(t.connect(target('127.77.30.98', { jump: [target(address(1), { name: 'bastion' })] })));
      assert.equal(refused.code, 'refused');
      assert.match(refused.message, /seen from jump host bastion/);
      await t.closeAll();
    });
  });
});
