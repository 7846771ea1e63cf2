import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureSshHostBlock } from '../../../src/config/ssh-config/edit.js';
import { evaluateSshConfig } from '../../../src/config/ssh-config/effective.js';
import { parseSshConfig } from '../../../src/config/ssh-config/parse.js';
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

const HOSTS = ['bastion', 'db.lab.example.com', 'old-switch', 'web', 'legacy.example.com'];

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
const config = fc.array(fc.tuple(fc.constantFrom('Host *', 'Host old-switch', 'Host *.example.com !legacy.example.com', 'Host web bastion', 'Match all', 'Match host db.*'), fc.array(line, { maxLength: 3 })), { maxLength: 4 }).map((blocks) => blocks.map(([h, ls]) => [h, ...ls.map((l) => `  ${l}`)].join('\n')).join('\n') + '\n');

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
});
