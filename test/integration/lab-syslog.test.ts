/**
 * Lab hosts log like production hosts (sshd and libwrap through syslog(3) to /dev/log, lines in
 * Debian's auth.log format), the fail2ban scenario bans a client through hosts.deny, and
 * `bind_address` makes sshfix connect from a chosen source address. Lab address block 127.77.86.x;
 * client addresses 127.0.0.9 to 127.0.0.11.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { hostRoot, labInventory, readHostFile, sshRoot, type LabHostRef } from '../helpers/lab-host.js';

/** Debian's traditional syslog line: `Nov 30 12:50:44 lab-03 sshd[23026]: message`. */
const syslogLine = (host: string, message: string): RegExp => new RegExp(`^[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ${host} sshd\\[\\d+\\]: ${message}$`, 'm');

const SOCKET = '/run/fail2ban/fail2ban.sock';

/** OpenSSH's client from a chosen source address, with the lab's key and known_hosts. */
function sshFrom(lab: TestLab, source: string, target: string, command = 'true'): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(
    'ssh',
    ['-b', source, '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', target, command],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

/** What a TCP client at `source` gets from port 22: the bytes before the server closed, or a time-out. */
function rawConnect(source: string, address: string, timeoutMs: number): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, localAddress: source });
    let received = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Every process in the mount namespace of the host's sshd whose command line matches `pattern`. */
function processesOf(lab: TestLab, name: string, pattern: RegExp): number[] {
  const namespace = readlinkSync(`${hostRoot(lab, name).replace(/\/root$/, '')}/ns/mnt`);
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/mnt`) === namespace && pattern.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        return false;
      }
    })
    .map(Number);
}

const running = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('lab hosts log through syslog; fail2ban bans through TCP wrappers', { timeout: 240_000 }, () => {
  let lab: TestLab;
  let plain: LabHostRef;
  let guarded: LabHostRef;

  before(() => {
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.86.1', scenarios: ['debian-cloud', 'fail2ban'] });
    [plain, guarded] = lab.hosts as unknown as [LabHostRef, LabHostRef];
  });

  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  it('writes sshd\'s lines to the host\'s auth.log in Debian\'s syslog format', () => {
    const login = sshRoot(lab, plain, 'ls -l /dev/log && tty', ['-tt']);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /^s.* \/dev\/log/m, '/dev/log is a socket');
    assert.match(login.stdout, /^\/dev\/pts\/\d+/m, 'a session gets a pseudo-terminal from the private /dev');
    const log = readHostFile(lab, plain.name, '/var/log/auth.log') ?? '';
    assert.match(log, syslogLine(plain.name, `Server listening on ${plain.address.replace(/\./g, '\\.')} port 22\\.`));
    assert.match(log, syslogLine(plain.name, 'Accepted publickey for root from 127\\.0\\.0\\.1 port \\d+ ssh2: ED25519 SHA256:\\S+'));
    // PAM writes through syslog as well, as on a production host.
    assert.match(log, syslogLine(plain.name, 'pam_unix\\(sshd:session\\): session opened for user root\\(uid=0\\) by \\(uid=0\\)'));
    assert.doesNotMatch(readHostFile(lab, guarded.name, '/var/log/auth.log') ?? '', /Accepted publickey/, 'each host has its own auth.log');
  });

  it('logs libwrap\'s refusal of a client that hosts.deny names', async () => {
    const deny = sshRoot(lab, plain, 'echo "sshd: 127.0.0.10" >> /etc/hosts.deny');
    assert.equal(deny.status, 0, deny.stderr);
    const refused = await rawConnect('127.0.0.10', plain.address, 15_000);
    assert.deepEqual(refused, { received: '', closed: true }, 'accepted, then closed without a banner');
    const log = await waitFor('the refusal line', () => {
      const text = readHostFile(lab, plain.name, '/var/log/auth.log') ?? '';
      return /refused connect/.test(text) ? text : undefined;
    });
    assert.match(log, syslogLine(plain.name, 'refused connect from 127\\.0\\.0\\.10 \\(127\\.0\\.0\\.10\\)'));
    assert.equal(sshRoot(lab, plain, 'sed -i "/127.0.0.10/d" /etc/hosts.deny').status, 0);
  });

  it('runs fail2ban inside the host, which bans a client after failed logins while the runner gets in', async () => {
    const status = (): string => {
      const result = sshRoot(lab, guarded, `fail2ban-client -s ${SOCKET} status sshd`);
      assert.equal(result.status, 0, result.stderr);
      return result.stdout;
    };
    assert.match(status(), /Banned IP list:\s*$/m, 'nobody banned yet');
    for (let attempt = 0; attempt < 3; attempt++) {
      const failed = sshFrom(lab, '127.0.0.9', `invalid@${guarded.address}`);
      assert.notEqual(failed.status, 0);
      assert.match(failed.stderr, /Permission denied/);
    }
    await waitFor('the ban', () => (/Banned IP list:\s*127\.0\.0\.9\s*$/m.test(status()) ? true : undefined));
    assert.match(readHostFile(lab, guarded.name, '/etc/hosts.deny') ?? '', /^ALL: 127\.0\.0\.9$/m);
    assert.match(readHostFile(lab, guarded.name, '/var/log/auth.log') ?? '', syslogLine(guarded.name, 'Invalid user invalid from 127\\.0\\.0\\.9 port \\d+'));
    assert.match(readHostFile(lab, guarded.name, '/var/log/fail2ban.log') ?? '', /\[sshd\] Ban 127\.0\.0\.9$/m);

    // What PuTTY reports as "Server unexpectedly closed network connection".
    assert.deepEqual(await rawConnect('127.0.0.9', guarded.address, 15_000), { received: '', closed: true });
    const banned = sshFrom(lab, '127.0.0.9', `root@${guarded.address}`, 'echo in');
    assert.notEqual(banned.status, 0);
    // The server never reads the client's version line before closing, so the client may see a reset.
    assert.match(banned.stderr, /kex_exchange_identification: (read: Connection reset by peer|Connection closed by remote host)/);
    assert.match(readHostFile(lab, guarded.name, '/var/log/auth.log') ?? '', syslogLine(guarded.name, 'refused connect from 127\\.0\\.0\\.9 \\(127\\.0\\.0\\.9\\)'));

    const runner = sshRoot(lab, guarded, 'echo in');
    assert.equal(runner.stdout, 'in\n', runner.stderr);
  });

  it('connects from bind_address: the host sees sshfix at that address', () => {
    const inventory = join(lab.dir, 'bind-inventory.yaml');
    writeFileSync(inventory, labInventory(lab, { hostExtras: { [plain.name]: 'bind_address: 127.0.0.9', [guarded.name]: 'bind_address: 127.0.0.11' } }));
    const playbook = join(lab.dir, 'runner.yaml');
    writeFileSync(
      playbook,
      'name: runner\nhosts: all\ntasks:\n  - name: the runner may log in\n    assert:\n      connection: { user: root, address: "{{ runner.address }}" }\n      sshd:\n        PubkeyAuthentication: "yes"\n',
    );
    const result = runCli(['plan', playbook, '-i', inventory, '--format', 'json']);
    const hosts = (JSON.parse(result.stdout) as { hosts: { name: string; status: string; checks: { message: string }[] }[] }).hosts;
    assert.deepEqual(hosts.map((h) => h.status), ['ok', 'ok'], result.stdout);
    assert.match(hosts[0]?.checks[0]?.message ?? '', /for root from 127\.0\.0\.9\b/);
    assert.match(hosts[1]?.checks[0]?.message ?? '', /for root from 127\.0\.0\.11\b/);
    assert.match(readHostFile(lab, plain.name, '/var/log/auth.log') ?? '', syslogLine(plain.name, 'Accepted publickey for root from 127\\.0\\.0\\.9 port \\d+ ssh2: .*'));

    // From the address fail2ban banned, sshfix is refused as any client would be.
    writeFileSync(inventory, labInventory(lab, { order: [guarded.name], hostExtras: { [guarded.name]: 'bind_address: 127.0.0.9' } }));
    const refused = runCli(['plan', playbook, '-i', inventory, '--format', 'json']);
    const host = (JSON.parse(refused.stdout) as { hosts: { status: string; error?: { code: string } }[] }).hosts[0];
    assert.equal(host?.error?.code, 'closed-before-banner', refused.stdout);
  });

  it('leaves no fail2ban server or log receiver behind after lab down', () => {
    const fail2ban = processesOf(lab, guarded.name, /fail2ban-server/);
    assert.equal(fail2ban.length, 1, 'one fail2ban server runs in the host');
    const state = JSON.parse(readFileSync(join(lab.dir, 'lab.json'), 'utf8')) as { syslog?: { pid: number } };
    const receiver = state.syslog?.pid;
    assert.ok(receiver !== undefined && running(receiver), 'the lab records its running log receiver');
    const down = lab.down();
    assert.equal(down.status, 0, down.stderr);
    for (const pid of [...fail2ban, receiver]) assert.ok(!running(pid), `process ${pid} still runs after lab down`);
  });
});
