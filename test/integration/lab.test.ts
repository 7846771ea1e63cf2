import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { probeBanner } from '../../src/lab/lab.js';
import { CLI, runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';

function openssh(lab: TestLab, target: string, command: string, extra: readonly string[] = []): ReturnType<typeof spawnSync> {
  return spawnSync(
    'ssh',
    [
      '-i', lab.identityFile,
      '-o', `UserKnownHostsFile=${lab.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      ...extra,
      target,
      command,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

/** Runs one command over ssh2, verifying the host key against the lab's known_hosts. */
function viaSsh2(lab: TestLab, address: string, command: string): Promise<string> {
  const known = readFileSync(lab.knownHosts, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${address} `))
    .map((l) => l.split(' ')[2] as string);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let output = '';
    client
      .on('ready', () => {
        client.exec(command, (err, stream) => {
          if (err) return reject(err);
          stream.on('data', (d: Buffer) => (output += d.toString()));
          stream.on('close', () => {
            client.end();
            resolve(output);
          });
        });
      })
      .on('error', reject)
      .connect({
        host: address,
        port: 22,
        username: 'root',
        privateKey: readFileSync(lab.identityFile),
        hostVerifier: (key: Buffer) => known.includes(key.toString('base64')),
        readyTimeout: 10_000,
      });
  });
}

describe('sshfix lab', { timeout: 120_000 }, () => {
  let lab: TestLab;
  let recordedPids: number[] = [];

  before(() => {
    lab = startTestLab({ hosts: 3, firstAddress: '127.77.10.1' });
    recordedPids = (JSON.parse(readFileSync(`${lab.dir}/lab.json`, 'utf8')) as { hosts: { sshd: { pid: number } }[] }).hosts.map(
      (h) => h.sshd.pid,
    );
  });

  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  it('writes an inventory naming every host, and known_hosts and a key that work', () => {
    assert.equal(lab.hosts.length, 3);
    const inventory = readFileSync(lab.inventory, 'utf8');
    for (const host of lab.hosts) assert.match(inventory, new RegExp(`${host.name}: \\{ address: ${host.address.replace(/\./g, '\\.')} \\}`));
    assert.deepEqual(
      lab.hosts.map((h) => h.scenario),
      ['debian-cloud', 'hardened-match', 'rhel-layout'],
    );
  });

  it('lets the OpenSSH client log in to each host with strict host key checking', () => {
    for (const host of lab.hosts) {
      const result = openssh(lab, `root@${host.address}`, 'hostname');
      assert.equal(result.status, 0, `ssh to ${host.name}: ${result.stderr}`);
      assert.equal(String(result.stdout).trim(), host.name);
    }
  });

  it('lets ssh2 log in to each host with the written key, and hostnames are distinct', async () => {
    const names = await Promise.all(lab.hosts.map(async (h) => (await viaSsh2(lab, h.address, 'hostname')).trim()));
    assert.deepEqual(names, lab.hosts.map((h) => h.name));
    assert.equal(new Set(names).size, 3);
  });

  it('gives each host a private /etc: a file written on one is absent on the others and on the machine', async () => {
    const marker = `/etc/sshfix-lab-test-${process.pid}`;
    const [first, ...others] = lab.hosts;
    assert.ok(first);
    await viaSsh2(lab, first.address, `echo private > ${marker}`);
    assert.equal((await viaSsh2(lab, first.address, `cat ${marker}`)).trim(), 'private');
    for (const other of others) {
      assert.equal((await viaSsh2(lab, other.address, `test -e ${marker} && echo present || echo absent`)).trim(), 'absent');
    }
    assert.equal(existsSync(marker), false, 'the machine\'s own /etc must be untouched');
  });

  it('gives root a fresh home of its own, not the machine\'s dotfiles', async () => {
    const host = lab.hosts[0];
    assert.ok(host);
    assert.deepEqual((await viaSsh2(lab, host.address, 'ls -A /root')).trim().split('\n'), ['.bashrc', '.profile', '.ssh']);
    assert.deepEqual((await viaSsh2(lab, host.address, 'ls -A /home')).trim().split('\n'), ['backup', 'deploy']);
  });

  it('seeds each scenario the way sshd itself reads it', async () => {
    const [debian, hardened, rhel] = lab.hosts;
    assert.ok(debian && hardened && rhel);
    const dump = async (address: string): Promise<string> => viaSsh2(lab, address, 'sshd -T');
    // The cloud-init drop-in beats the main file's "PasswordAuthentication no".
    assert.match(await viaSsh2(lab, debian.address, 'grep -n "^PasswordAuthentication" /etc/ssh/sshd_config'), /no/);
    assert.match(await dump(debian.address), /^passwordauthentication yes$/m);
    // MaxStartups is set twice; in OpenSSH 9.2 the last one wins.
    assert.match(await dump(hardened.address), /^maxstartups 10:30:100$/m);
    // Algorithms come from the crypto-policies file.
    assert.match(await dump(rhel.address), /^ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,/m);
    assert.match(await viaSsh2(lab, rhel.address, 'sshd -t && echo valid'), /valid/);
  });

  it('logs sshd to /var/log/auth.log inside each host', async () => {
    const host = lab.hosts[0];
    assert.ok(host);
    assert.match(await viaSsh2(lab, host.address, 'cat /var/log/auth.log'), /Accepted publickey for root from/);
  });

  it('reports every host as answering in lab status', () => {
    const status = runCli(['lab', 'status', '--dir', lab.dir, '--format', 'json']);
    assert.equal(status.status, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { hosts: { name: string; banner?: string }[] };
    assert.equal(parsed.hosts.length, 3);
    for (const h of parsed.hosts) assert.match(h.banner ?? '', /^SSH-2\.0-OpenSSH_/);
  });

  it('is safe to start twice: the running hosts are kept, not restarted', () => {
    const again = runCli(['lab', 'up', '--hosts', '3', '--dir', lab.dir, '--first-address', '127.77.10.1']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /0 started, 3 already running/);
    const pids = (JSON.parse(readFileSync(`${lab.dir}/lab.json`, 'utf8')) as { hosts: { sshd: { pid: number } }[] }).hosts.map(
      (h) => h.sshd.pid,
    );
    assert.deepEqual(pids, recordedPids);
  });

  it('lab down stops every process it started and leaves nothing listening', async () => {
    // A session left running inside a host must be stopped too.
    const host = lab.hosts[1];
    assert.ok(host);
    await viaSsh2(lab, host.address, 'nohup sleep 600 >/dev/null 2>&1 &');
    const namespaces = new Set(recordedPids.map((pid) => readlinkSync(`/proc/${pid}/ns/mnt`)));
    const stopped = lab.down();
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped 3 host/);
    for (const h of lab.hosts) {
      assert.equal(await probeBanner(h.address, 22, 1000), undefined, `${h.name} still answers`);
    }
    const left: string[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ns = readlinkSync(`/proc/${entry}/ns/mnt`);
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (namespaces.has(ns) && state !== 'Z') left.push(`${entry}: ${readFileSync(`/proc/${entry}/cmdline`, 'utf8')}`);
      } catch {
        // gone
      }
    }
    assert.deepEqual(left, [], 'processes left in the lab namespaces');
    const listening = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(listening, /127\.77\.10\./);
    assert.ok(!existsSync(`${lab.dir}/lab.json`));
  });
});

describe('sshfix lab refuses what it cannot do', () => {
  it('refuses a lab directory that the hosts would mount over, with the fix', () => {
    const result = runCli(['lab', 'up', '--hosts', '1', '--dir', '/tmp/sshfix-lab-refused']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /inside \/tmp, which every lab host mounts over; choose another with --dir/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('refuses addresses outside loopback', () => {
    const result = runCli(['lab', 'up', '--hosts', '2', '--dir', '/var/tmp/sshfix-lab-refused', '--first-address', '10.0.0.1']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /only uses loopback addresses/);
  });

  it('names the package to install when sshd is missing', () => {
    const result = runCli(['lab', 'up', '--hosts', '1', '--dir', '/var/tmp/sshfix-lab-refused'], {
      env: { SSHFIX_LAB_SSHD: '/nonexistent/sshd' },
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no sshd binary at \/nonexistent\/sshd.*apt-get install -y openssh-server/s);
  });

  it('says it needs root when run as another user', () => {
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'lab', 'up', '--dir', '/var/tmp/sshfix-lab-refused'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /the lab needs root/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  it('leaves nothing running when lab up itself is killed part-way: lab down finds every host it started', async () => {
    const dir = '/var/tmp/sshfix-lab-killed-up';
    rmSync(dir, { recursive: true, force: true });
    const child = spawn(process.execPath, [CLI, 'lab', 'up', '--hosts', '20', '--dir', dir, '--first-address', '127.77.11.1'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 20_000;
    while (!existsSync(`${dir}/lab.json`) && Date.now() < deadline) await sleep(5);
    await sleep(50);
    child.kill('SIGKILL');
    await exited;
    const down = runCli(['lab', 'down', '--dir', dir]);
    assert.equal(down.status, 0, down.stderr);
    const left = spawnSync('pgrep', ['-af', 'ListenAddress=127.77.11.'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no sshd of that lab still runs');
    rmSync(dir, { recursive: true, force: true });
  });
});
