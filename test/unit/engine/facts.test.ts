import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildFactScript, FactOutputError, parseFactOutput } from '../../../src/engine/facts-script.js';
import { parseOpensshVersion } from '../../../src/config/openssh/version.js';
import { parseSshdDump } from '../../../src/config/sshd/defaults.js';
import { fileDigests, interpretFacts, sha256Hex } from '../../../src/engine/facts.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

/** Fact script output recorded on lab hosts (test/fixtures/facts/<scenario>.out). */
const recorded = (scenario: string): string => readFileSync(`${REPO_ROOT}/test/fixtures/facts/${scenario}.out`, 'utf8');

describe('fact script output', () => {
  it('decodes every record of a Debian host: commands, files, listings, includes', () => {
    const raw = parseFactOutput(recorded('debian-cloud'));
    assert.equal(raw.commands.get('id')?.stdout, '0\n');
    assert.equal(raw.commands.get('sshd_test')?.exitCode, 0);
    assert.match(raw.commands.get('sshd_dump')?.stdout ?? '', /^passwordauthentication yes$/m);
    assert.deepEqual([...raw.files.keys()], ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/50-cloud-init.conf']);
    assert.equal(raw.files.get('/etc/ssh/sshd_config.d/50-cloud-init.conf')?.content.toString(), 'PasswordAuthentication yes\n');
    assert.equal(raw.files.get('/etc/ssh/sshd_config')?.mode, 0o644);
    assert.deepEqual(raw.dirs.get('/etc/ssh/sshd_config.d'), ['50-cloud-init.conf']);
    assert.deepEqual(raw.includes, ['/etc/ssh/sshd_config.d/*.conf']);
  });

  it('follows nested Includes (RHEL: drop-in includes the crypto-policies file)', () => {
    const raw = parseFactOutput(recorded('rhel-layout'));
    assert.ok(raw.files.has('/etc/crypto-policies/back-ends/opensshserver.config'));
    assert.deepEqual(raw.includes, ['/etc/ssh/sshd_config.d/*.conf', '/etc/crypto-policies/back-ends/opensshserver.config']);
  });

  it('keeps bytes intact: NULs, CRLF, no trailing newline', () => {
    const content = Buffer.from('a\0b\r\nc', 'latin1');
    const line = `F ${Buffer.from('/x y').toString('base64')} 600 0 42 ${content.toString('base64')}`;
    const raw = parseFactOutput(`${line}\nM ${Buffer.from('/gone').toString('base64')}\n`);
    assert.deepEqual(raw.files.get('/x y')?.content, content);
    assert.equal(raw.files.get('/x y')?.mode, 0o600);
    assert.equal(raw.files.get('/x y')?.gid, 42);
    assert.ok(raw.missing.has('/gone'));
  });

  it('rejects output it cannot read instead of guessing', () => {
    assert.throws(() => parseFactOutput('Welcome to the host!\n'), FactOutputError);
  });

  it('quotes every path it is asked to read', () => {
    const script = buildFactScript({ services: { sshd: ["/etc/ssh/it's.conf"] }, files: ['/etc/a b'], dirs: [] });
    assert.match(script, /walk '\/etc\/ssh\/it'\\''s\.conf'/);
    assert.match(script, /rf '\/etc\/a b'/);
  });
});

describe('interpreting facts', () => {
  it('reads versions, OS, runner address and the reload method of a lab host', () => {
    const facts = interpretFacts(parseFactOutput(recorded('debian-cloud')), {
      name: 'lab-01',
      address: '127.77.0.1',
      serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10',
    });
    assert.equal(facts.uid, 0);
    assert.equal(facts.hostname, 'lab-01');
    assert.equal(facts.os.id, 'debian');
    assert.equal(facts.os.versionId, '12');
    assert.equal(facts.opensshVersion, '9.2p1');
    assert.equal(facts.runnerAddress, '127.0.0.1');
    assert.equal(facts.init, 'none');
    assert.deepEqual(facts.services.sshd?.reload, { kind: 'signal', pidFile: '/run/sshd.pid' });
    assert.deepEqual(facts.services.sshd?.libwrap, ['/usr/sbin/sshd']);
    assert.ok(facts.services.sshd?.test.ok);
  });

  it('reports a live config that sshd -t rejects, with sshd\'s words', () => {
    const facts = interpretFacts(parseFactOutput(recorded('broken-dropin')), { name: 'lab-07', address: '127.77.0.7' });
    assert.equal(facts.services.sshd?.test.ok, false);
    assert.equal(facts.services.sshd?.test.output, '/etc/ssh/sshd_config.d/40-broken.conf line 3: Invalid MaxStartups spec.');
    assert.equal(facts.opensshVersion, '9.2', 'without a banner, sshd -V gives the version without the patch level');
    assert.deepEqual(facts.services.sshd?.reload, { kind: 'unknown', reason: 'no active ssh service and no PidFile to signal' });
  });

  it('hashes every file read and records missing ones as null', () => {
    const raw = parseFactOutput(recorded('debian-cloud'));
    raw.missing.add('/etc/hosts.allow');
    const digests = fileDigests(interpretFacts(raw, { name: 'x', address: 'y' }));
    assert.equal(digests['/etc/ssh/sshd_config.d/50-cloud-init.conf'], sha256Hex('PasswordAuthentication yes\n'));
    assert.equal(digests['/etc/hosts.allow'], null);
  });

  it('parses sshd -T output and version strings', () => {
    const dump = parseSshdDump('port 22\nlistenaddress [::]:22\nlistenaddress 0.0.0.0:22\nmaxstartups 10:30:100\n');
    assert.deepEqual(dump.get('listenaddress'), ['[::]:22', '0.0.0.0:22']);
    assert.deepEqual(dump.get('maxstartups'), ['10:30:100']);
    assert.equal(parseOpensshVersion('OpenSSH_10.0p2 Ubuntu-5'), '10.0p2');
    assert.equal(parseOpensshVersion('dropbear'), undefined);
  });
});
