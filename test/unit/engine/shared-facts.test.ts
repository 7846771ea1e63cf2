import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SharedResults } from '../../../src/engine/build-cache.js';
import { buildFactScript, factScriptBody, parseFactOutput } from '../../../src/engine/facts-script.js';
import type { RawFacts } from '../../../src/services/service.js';
import { buildCandidateValidation } from '../../../src/services/sshd/candidate-tree.js';
import { SSHD_CHECK_USER_GROUPS, hostDependence, sshdDumpKey } from '../../../src/services/sshd/shared-key.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

const recorded = readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8');
const BUILD_ID = '/usr/sbin/sshd:1265432:1777976816:15884289 /usr/bin/ssh:1129504:1777976816:2170885 key';
const PROBE = [
  '/run/sshd directory 755 0 0',
  '/etc/ssh/ssh_host_ed25519_key regular file 600 0 0',
  '/etc/ssh/ssh_host_ed25519_key.pub regular file 644 0 0',
  'non-empty /etc/ssh/ssh_host_ed25519_key',
  'non-empty /etc/ssh/ssh_host_ed25519_key.pub',
  'privsep-user 1',
  'nss files systemd',
  'ipv6-loopback 1',
  '',
].join('\n');

/** The recorded Debian host as the first part of a shared-facts script reports it. */
function host(edit: (raw: RawFacts) => void = () => undefined): RawFacts {
  const raw = parseFactOutput(recorded);
  raw.commands.delete('sshd_dump');
  raw.commands.set('build_sshd', { exitCode: 0, stdout: BUILD_ID, stderr: '' });
  raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE, stderr: '' });
  edit(raw);
  return raw;
}

const MAIN = '/etc/ssh/sshd_config';
const DROPIN = '/etc/ssh/sshd_config.d/50-cloud-init.conf';
const setText = (raw: RawFacts, path: string, text: string): void => {
  const file = raw.files.get(path) ?? { mode: 0o644, uid: 0, gid: 0, content: Buffer.alloc(0) };
  raw.files.set(path, { ...file, content: Buffer.from(text) });
};
const appendMain = (text: string) => (raw: RawFacts) => setText(raw, MAIN, `${raw.files.get(MAIN)?.content.toString('utf8') ?? ''}\n${text}\n`);

describe('the sshd -T shared key', () => {
  it('is the same for two hosts with the same build, files and probe, whatever else differs', () => {
    const a = sshdDumpKey(host());
    assert.ok(a);
    const b = sshdDumpKey(
      host((raw) => {
        // Per-host facts sshd -T does not read.
        raw.commands.set('hostname', { exitCode: 0, stdout: 'lab-02\n', stderr: '' });
        raw.commands.set('ssh_connection', { exitCode: 0, stdout: '127.0.0.9 1 127.77.0.2 22\n', stderr: '' });
        raw.files.set('/etc/hosts.allow', { mode: 0o644, uid: 0, gid: 0, content: Buffer.from('sshd: ALL\n') });
      }),
    );
    assert.equal(b, a);
  });

  it('changes with every input of sshd -T: a file of the Include tree, a new drop-in, the build, the probe, the uid', () => {
    const base = sshdDumpKey(host());
    const variants: [string, (raw: RawFacts) => void][] = [
      ['main config', appendMain('MaxStartups 10:30:60')],
      ['an included drop-in', (raw) => setText(raw, DROPIN, 'PasswordAuthentication no\n')],
      [
        'a drop-in added to the Include directory',
        (raw) => {
          raw.dirs.set('/etc/ssh/sshd_config.d', [...(raw.dirs.get('/etc/ssh/sshd_config.d') ?? []), '90-extra.conf']);
          setText(raw, '/etc/ssh/sshd_config.d/90-extra.conf', 'X11Forwarding no\n');
        },
      ],
      ['a subdirectory where the glob matches (sshd fails on it)', (raw) => raw.dirs.set('/etc/ssh/sshd_config.d', [...(raw.dirs.get('/etc/ssh/sshd_config.d') ?? []), 'odd.conf'])],
      ['an unreadable file', (raw) => raw.unreadable.add('/etc/ssh/sshd_config.d/zz.conf')],
      ['the build', (raw) => raw.commands.set('build_sshd', { exitCode: 0, stdout: BUILD_ID.replace('1265432', '1265440'), stderr: '' })],
      ['the privsep directory missing', (raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE.replace('/run/sshd directory 755 0 0\n', ''), stderr: '' })],
      ['a host key emptied', (raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE.replace('non-empty /etc/ssh/ssh_host_ed25519_key\n', ''), stderr: '' })],
      ['no IPv6 loopback (the wildcard addresses sort the other way)', (raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE.replace('ipv6-loopback 1', 'ipv6-loopback 0'), stderr: '' })],
      ['a gai.conf rule', (raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: `${PROBE}gai precedence ::ffff:0:0/96 100\n`, stderr: '' })],
      ['the uid', (raw) => raw.commands.set('id', { exitCode: 0, stdout: '1000\n', stderr: '' })],
    ];
    const keys = new Set([base]);
    for (const [what, edit] of variants) {
      const key = sshdDumpKey(host(edit));
      assert.ok(key, what);
      assert.ok(!keys.has(key), `${what} must change the key`);
      keys.add(key);
    }
  });

  it('is absent (every host runs its own) when an input is host-dependent or was not read', () => {
    const cases: [string, (raw: RawFacts) => void][] = [
      ['ListenAddress with a host name (getaddrinfo)', appendMain('ListenAddress ssh.internal.example:22')],
      ['HostKeyAgent (an agent socket)', appendMain('HostKeyAgent /run/agent.sock')],
      ['RDomain (a routing domain on the host)', appendMain('RDomain vrf1')],
      ['ListenAddress in a routing domain', appendMain('ListenAddress 10.0.0.1 rdomain vrf1')],
      ['a HostKey outside /etc/ssh/ssh_host_*', appendMain('HostKey /srv/keys/host_ed25519')],
      ['the privsep user not in /etc/passwd while NSS reads more than files', (raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE.replace('privsep-user 1', 'privsep-user 0').replace('nss files systemd', 'nss files ldap'), stderr: '' })],
      ['no probe', (raw) => raw.commands.delete('sshd_env')],
      ['no build id', (raw) => raw.commands.delete('build_sshd')],
      ['the main config missing', (raw) => raw.files.delete(MAIN)],
      ['an Include directory not listed', (raw) => raw.dirs.delete('/etc/ssh/sshd_config.d')],
    ];
    for (const [what, edit] of cases) assert.equal(sshdDumpKey(host(edit)), undefined, what);
    // Numeric addresses do not depend on the host.
    for (const address of ['0.0.0.0', '192.0.2.7:2222', '[2001:db8::1]:22', '::']) {
      assert.ok(sshdDumpKey(host(appendMain(`ListenAddress ${address}`))), address);
    }
    // Not in /etc/passwd, but NSS reads only files: sshd would not find it either, on any such host.
    assert.ok(sshdDumpKey(host((raw) => raw.commands.set('sshd_env', { exitCode: 0, stdout: PROBE.replace('privsep-user 1', 'privsep-user 0').replace('nss files systemd', 'nss files'), stderr: '' }))));
  });

  it("a candidate check is host-independent unless its tree is; with a Match Group and specs, only given the spec user's recorded groups", () => {
    const snapshot = (main: string) => ({ files: new Map([[MAIN, main]]), listedDirs: new Set(['/etc/ssh']) });
    const sharing = (main: string, specs: string[]) => {
      const { hostIndependent, dependsOn } = buildCandidateValidation(buildSshdConfigTree(snapshot(main)).tree, specs);
      return { hostIndependent, dependsOn };
    };
    const check = (main: string, specs: string[]) => sharing(main, specs).hostIndependent;
    assert.equal(check('MaxStartups 10:30:60\n', []), true);
    assert.equal(check('MaxStartups 10:30:60\nMatch Group admins\n  X11Forwarding no\n', []), true);
    assert.equal(check('MaxStartups 10:30:60\nMatch Group admins\n  X11Forwarding no\n', ['user=deploy,host=x,addr=192.0.2.1']), false);
    // The checks' own neutral user (root): shared between hosts where root's recorded groups are the same.
    for (const match of ['Match Group admins', 'match group=admins']) {
      assert.deepEqual(sharing(`MaxStartups 10:30:60\n${match}\n  X11Forwarding no\n`, ['user=root,host=x,addr=192.0.2.1']), { hostIndependent: true, dependsOn: [SSHD_CHECK_USER_GROUPS] }, match);
    }
    assert.deepEqual(sharing('MaxStartups 10:30:60\nMatch User admins\n  X11Forwarding no\n', ['user=root,host=x']), { hostIndependent: true, dependsOn: undefined });
    assert.equal(check('MaxStartups 10:30:60\nMatch Group admins\n  X11Forwarding no\n', ['user=root,host=x', 'user=deploy,host=x']), false);
    assert.equal(check('ListenAddress gateway.example\n', []), false);
    assert.equal(hostDependence(buildSshdConfigTree(snapshot('HostKeyAgent SSH_AUTH_SOCK\n')).tree), 'HostKeyAgent');
  });
});

describe('the fact script with shared lines', () => {
  const request = { services: { sshd: [MAIN] }, files: [], dirs: [] };
  it('runs sshd -T in place by default (apply, the floor), and only the host probe when deferred', () => {
    const inline = buildFactScript(request);
    assert.match(inline, /^run sshd_dump "\$sshd_bin" -T$/m);
    assert.doesNotMatch(inline, /^run sshd_env/m);
    const deferred = factScriptBody(request, {}, 'deferred').join('\n');
    assert.doesNotMatch(deferred, /sshd_dump/);
    assert.match(deferred, /^sshd_env; tv sshd_env \$\? "\$v"$/m);
  });
});

describe('shared results', () => {
  it('computes a key once while other hosts wait for it, and reuses it after', async () => {
    const results = new SharedResults<string>();
    let runs = 0;
    let release: (value: string) => void = () => undefined;
    const first = results.get('k', () => {
      runs++;
      return new Promise((resolve) => (release = resolve));
    });
    const waiting = [results.get('k', async () => `${++runs}`), results.get('k', async () => `${++runs}`)];
    release('dump');
    assert.deepEqual(await Promise.all([first, ...waiting]), ['dump', 'dump', 'dump']);
    assert.equal(await results.get('k', async () => `${++runs}`), 'dump');
    assert.equal(await results.get('other', async () => 'own'), 'own');
    assert.equal(runs, 1);
    assert.deepEqual([results.computed, results.reused], [2, 3]);
  });

  it('when the host computing a key fails, one waiting host computes it itself, and the failure is not stored', async () => {
    const results = new SharedResults<string>();
    let fail: (error: Error) => void = () => undefined;
    const first = results.get('k', () => new Promise((_, reject) => (fail = reject)));
    let runs = 0;
    const second = results.get('k', async () => `second ${++runs}`);
    const third = results.get('k', async () => `third ${++runs}`);
    fail(new Error('connection lost'));
    await assert.rejects(first, /connection lost/);
    assert.deepEqual(await Promise.all([second, third]), ['second 1', 'second 1']);
    assert.equal(runs, 1);
  });

  it('keeps at most its limit of keys, dropping the oldest', async () => {
    const results = new SharedResults<string>(2);
    for (const key of ['a', 'b', 'c']) await results.get(key, async () => key);
    let recomputed = false;
    assert.equal(
      await results.get('a', async () => {
        recomputed = true;
        return 'a again';
      }),
      'a again',
    );
    assert.equal(recomputed, true);
    assert.equal(await results.get('c', async () => 'not used'), 'c');
  });
});
