import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureSshHostBlock } from '../../../src/config/ssh-config/edit.js';
import { evaluateSshConfig } from '../../../src/config/ssh-config/effective.js';
import { parseSshConfig } from '../../../src/config/ssh-config/parse.js';
import { resolveSshHostConfig } from '../../../src/config/ssh-config/resolve.js';
import { assembleAlgorithms } from '../../../src/config/sshd/effective.js';
import { DEBIAN_12_DEFAULTS } from '../../../src/config/sshd/defaults.js';
import { parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { SSH_CONFIG_FIXTURES } from '../../unit/config/fixtures.js';

/** Keywords whose `ssh -G` line the engine reproduces. */
const COMPARED = ['port', 'batchmode', 'compression', 'identitiesonly', 'tcpkeepalive', 'serveralivecountmax', 'serveraliveinterval', 'connecttimeout', 'kexalgorithms', 'hostkeyalgorithms', 'ciphers', 'macs', 'pubkeyacceptedalgorithms', 'loglevel', 'user'];

function sshG(text: string, hosts: readonly string[]): Map<string, string[]>[] {
  if (!spawnSync('ssh', ['-V']).stderr) throw new Error('ssh client missing: apt-get install openssh-client');
  const dir = mkdtempSync(join(tmpdir(), 'sshfix-sshg-'));
  try {
    const file = join(dir, 'config');
    writeFileSync(file, text);
    return hosts.map((h) => {
      const r = spawnSync('ssh', ['-G', '-F', file, h], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) throw new Error(`ssh -G failed: ${r.stderr}`);
      return parseSshdDump(r.stdout);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HOSTS = ['bastion', 'db.lab.example.com', 'old-switch', 'web', 'legacy.example.com', 'Web', 'DB.lab.example.com'];

function compare(text: string, label: string): void {
  const file = parseSshConfig(text, '/c');
  const outs = sshG(text, HOSTS);
  HOSTS.forEach((h, i) => {
    const engine = evaluateSshConfig(file, h, { localUser: userInfo().username }).values;
    for (const k of COMPARED) assert.deepEqual(engine.get(k)?.values, outs[i]!.get(k), `${label} ${h} ${k}\n${text}`);
  });
}

const line = fc.oneof(
  fc.constantFrom('ServerAliveInterval 15', 'serveraliveinterval=2m', 'ServerAliveCountMax 5', 'TCPKeepAlive no', 'Port 2222', 'User deploy', 'BatchMode yes', 'Compression yes', 'IdentitiesOnly yes', 'ConnectTimeout 10', 'LogLevel debug'),
  fc.constantFrom('KexAlgorithms +diffie-hellman-group14-sha1', 'HostKeyAlgorithms +ssh-rsa', 'Ciphers -aes128-ctr', 'MACs ^hmac-sha1', 'PubkeyAcceptedAlgorithms +ssh-rsa'),
);
const config = fc.array(fc.tuple(fc.constantFrom('Host *', 'Host old-switch', 'Host *.example.com !legacy.example.com', 'Host web bastion', 'Host Web', 'Match all', 'Match host db.*', 'Match host WEB'), fc.array(line, { maxLength: 3 })), { maxLength: 4 }).map((blocks) => blocks.map(([h, ls]) => [h, ...ls.map((l) => `  ${l}`)].join('\n')).join('\n') + '\n');

describe('ssh -G oracle', () => {
  it('engine equals ssh -G on the corpus and on 150 generated configs', () => {
    compare(readFileSync(join(SSH_CONFIG_FIXTURES, 'user/config'), 'utf8'), 'user/config');
    fc.sample(config, { numRuns: 150, seed: 7 }).forEach((t, i) => compare(t, `generated ${i}`));
  });

  it('after ensureSshHostBlock, ssh -G shows the settings for the host', () => {
    const text = readFileSync(join(SSH_CONFIG_FIXTURES, 'user/config'), 'utf8');
    const r = ensureSshHostBlock(parseSshConfig(text, '/c'), { hosts: ['legacy.example.com'], settings: { KexAlgorithms: '+diffie-hellman-group14-sha1', ServerAliveInterval: '20', ServerAliveCountMax: '4' } });
    const [out] = sshG(r.changes[0]!.after, ['legacy.example.com']);
    assert.ok(out!.get('kexalgorithms')![0]!.split(',').includes('diffie-hellman-group14-sha1'));
    assert.deepEqual(out!.get('serveraliveinterval'), ['20']);
    assert.deepEqual(out!.get('serveralivecountmax'), ['4']);
    const [web] = sshG(r.changes[0]!.after, ['web']);
    assert.ok(!web!.get('kexalgorithms')![0]!.includes('group14-sha1'), 'other hosts keep their algorithms');
  });

  it('the runner-config resolver (Host, Match, Include, first value wins) equals ssh -G on 120 generated file trees', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sshfix-sshg-tree-'));
    const hosts = ['labalias', 'db.lab', 'web', 'old-switch', 'Web', 'LABALIAS'];
    // ssh -G prints these for the keywords the inventory takes from ssh_config.
    const KEYS = ['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'userknownhostsfile', 'stricthostkeychecking', 'connecttimeout', 'bindaddress', 'serveraliveinterval', 'kexalgorithms'];
    const printed = (key: string, values: string[]): string[] => {
      if (key === 'stricthostkeychecking') return values.map((v) => (v === 'yes' ? 'true' : v === 'no' || v === 'off' ? 'false' : v));
      if (key === 'kexalgorithms') return [assembleAlgorithms(values[0], DEBIAN_12_DEFAULTS.algorithms.kex).join(',')];
      if (key === 'hostname') return values.map((v) => v.toLowerCase());
      if (key === 'userknownhostsfile') return [values.join(' ')];
      return values;
    };
    const setting = fc.constantFrom(
      'HostName 127.77.89.5', 'HostName Real.Example.NET', 'User deploy', 'User alice', 'Port 2222', 'Port 22022', 'IdentityFile /k/one', 'IdentityFile /k/two',
      'ProxyJump jump@bastion:2200', 'UserKnownHostsFile /kh/lab', 'StrictHostKeyChecking accept-new', 'StrictHostKeyChecking no', 'StrictHostKeyChecking yes',
      'ConnectTimeout 5', 'ConnectTimeout 1m', 'BindAddress 127.0.0.9', 'ServerAliveInterval 30', 'KexAlgorithms +diffie-hellman-group14-sha1', 'KexAlgorithms -curve25519-sha256',
    );
    const header = fc.constantFrom('Host labalias', 'Host LABALIAS', 'Host Web', 'Host *.lab', 'Host * !web', 'Host *', 'Host web old-switch', 'Match all', 'Match host 127.77.89.5', 'Match originalhost db.*', 'Match host real.example.net', 'Match !originalhost web');
    const blocks = fc.array(fc.tuple(header, fc.array(setting, { maxLength: 3 })), { maxLength: 4 });
    const render = (bs: [string, string[]][]): string => bs.map(([h, ls]) => [h, ...ls.map((l) => `  ${l}`)].join('\n')).join('\n');
    const tree = fc.record({ top: fc.array(setting, { maxLength: 2 }), main: blocks, includeAt: fc.nat(4), included: blocks, extra: blocks });
    try {
      fc.sample(tree, { numRuns: 120, seed: 11 }).forEach((t, n) => {
        const incDir = join(dir, `inc${n}`);
        if (!existsSync(incDir)) mkdirSync(incDir);
        writeFileSync(join(incDir, 'a.conf'), render(t.included) + '\n');
        writeFileSync(join(incDir, 'b.conf'), render(t.extra) + '\n');
        const main = [...t.top, ...t.main.map((b) => render([b]))];
        main.splice(Math.min(t.includeAt, main.length), 0, `Include ${incDir}/*.conf`);
        const text = main.join('\n') + '\n';
        const file = join(dir, `config${n}`);
        writeFileSync(file, text);
        const source = { read: (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined), glob: (p: string) => (p === `${incDir}/*.conf` ? [`${incDir}/a.conf`, `${incDir}/b.conf`] : []) };
        for (const host of hosts) {
          const engine = resolveSshHostConfig(file, host, source, { homeDir: dir, localUser: userInfo().username }).values;
          const r = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          assert.equal(r.status, 0, r.stderr);
          const real = parseSshdDump(r.stdout);
          const defaults = parseSshdDump(spawnSync('ssh', ['-G', '-F', 'none', host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).stdout);
          for (const key of KEYS) {
            const got = engine.get(key);
            const want = real.get(key);
            const label = `tree ${n} ${host} ${key}\n${text}--- a.conf\n${render(t.included)}\n--- b.conf\n${render(t.extra)}`;
            if (got) assert.deepEqual(key === 'identityfile' ? want?.slice(0, got.values.length) : want, printed(key, got.values), label);
            else assert.deepEqual(want, defaults.get(key), label);
          }
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
