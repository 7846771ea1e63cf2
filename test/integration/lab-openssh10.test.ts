/**
 * A mixed lab of Debian 12's sshd (9.2) and a 10.0 build (scripts/build-openssh.sh 10.0p1): the
 * 10.x host looks like a machine with 10.x installed, and its PerSourcePenalties scenario is
 * diagnosed and fixed end to end. Address block 127.77.94.x; clients 127.0.0.9 and 127.0.0.12.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { requireOpensshBuild } from '../helpers/openssh-build.js';

const PENALISED = '127.0.0.9';

function ssh(lab: TestLab, address: string, command: string, options: { bind?: string; identity?: string } = {}): ReturnType<typeof spawnSync> {
  return spawnSync(
    'ssh',
    [
      '-i', options.identity ?? lab.identityFile,
      '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${lab.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      ...(options.bind ? ['-b', options.bind] : []),
      `root@${address}`,
      command,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
}

/** What sshd sends a client from `bind` before closing: its banner, or its refusal. */
function firstLine(address: string, bind: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port: 22, localAddress: bind });
    let data = '';
    socket.setEncoding('latin1');
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.includes('\n')) socket.destroy();
    });
    socket.on('close', () => resolve(data.split('\n')[0]?.trim() ?? ''));
    socket.on('error', reject);
  });
}

describe('lab on OpenSSH 10.0 beside 9.2, penalties scenario', { timeout: 240_000 }, () => {
  let lab: TestLab;
  let keys: string;
  const ten = (): { name: string; address: string } => lab.hosts.find((h) => h.scenario === 'penalties')!;
  const nine = (): { name: string; address: string } => lab.hosts.find((h) => h.scenario === 'debian-cloud')!;

  before(() => {
    requireOpensshBuild('10.0p1');
    lab = startTestLab({ hosts: 2, firstAddress: '127.77.94.1', scenarios: ['debian-cloud', 'penalties'] });
    keys = mkdtempSync('/var/tmp/sshfix-test-keys-');
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'stale')]);
    assert.equal(made.status, 0, String(made.stderr));
  });

  after(() => {
    if (lab) lab.down();
    if (keys) rmSync(keys, { recursive: true, force: true });
  });

  it('says which version each host runs: lab status, inventory comment and group', () => {
    const status = runCli(['lab', 'status', '--dir', lab.dir, '--format', 'json']);
    assert.equal(status.status, 0, status.stderr);
    const hosts = (JSON.parse(status.stdout) as { hosts: { scenario: string; openssh?: string; openssh_version?: string; banner?: string }[] }).hosts;
    const penalties = hosts.find((h) => h.scenario === 'penalties');
    const debian = hosts.find((h) => h.scenario === 'debian-cloud');
    assert.equal(penalties?.openssh, '10.0p1');
    assert.match(penalties?.openssh_version ?? '', /^10\.0/);
    assert.match(penalties?.banner ?? '', /OpenSSH_10\.0/);
    assert.equal(debian?.openssh, undefined);
    assert.match(debian?.openssh_version ?? '', /^9\.2/);
    const inventory = readFileSync(lab.inventory, 'utf8');
    assert.match(inventory, new RegExp(`openssh-10\\.0p1:\\n    hosts: \\[${ten().name}\\]`));
    const human = runCli(['lab', 'status', '--dir', lab.dir]);
    assert.match(human.stdout, /penalties\s+OpenSSH 10\.0p\d \(build 10\.0p1\)/);
  });

  it('the 10.x host\'s own sshd, ssh and helpers are what a session finds in PATH', () => {
    const probe = 'command -v sshd; sshd -V 2>&1; ssh -V 2>&1; ssh -Q kex; readlink -f /usr/lib/openssh/sshd-session';
    const on10 = ssh(lab, ten().address, probe);
    assert.equal(on10.status, 0, String(on10.stderr));
    const out10 = String(on10.stdout);
    assert.match(out10, /^\/usr\/sbin\/sshd\nOpenSSH_10\.0p\d, .*\nOpenSSH_10\.0p\d, /);
    assert.match(out10, /^mlkem768x25519-sha256$/m);
    assert.match(out10, /\/opt\/sshfix-openssh\/10\.0p1\/libexec\/sshd-session$/m);
    const on9 = ssh(lab, nine().address, 'sshd -V 2>&1; ssh -Q kex');
    assert.match(String(on9.stdout), /^OpenSSH_9\.2/);
    assert.doesNotMatch(String(on9.stdout), /mlkem768x25519/);
  });

  it('failed logins from a client earn its address a penalty: refused with "Not allowed at this time", logged with penalty:', async () => {
    for (let i = 0; i < 3; i++) {
      const failed = ssh(lab, ten().address, 'true', { bind: PENALISED, identity: join(keys, 'stale') });
      assert.notEqual(failed.status, 0);
    }
    const good = ssh(lab, ten().address, 'true', { bind: PENALISED });
    assert.notEqual(good.status, 0, 'a good key from the penalised address is refused too');
    assert.equal(await firstLine(ten().address, PENALISED), 'Not allowed at this time');
    assert.match(await firstLine(ten().address, '127.0.0.12'), /^SSH-2\.0-OpenSSH_10\.0/);
    const log = readFileSync(join(lab.dir, 'hosts', ten().name, 'var-log', 'upper', 'auth.log'), 'utf8');
    assert.match(log, new RegExp(`sshd\\[\\d+\\]: drop connection #\\d+ from \\[${PENALISED.replace(/\./g, '\\.')}\\]:\\d+ on \\[[^\\]]+\\]:22 penalty: failed authentication`));
    assert.match(log, / sshd-session\[\d+\]: Connection closed by authenticating user root 127\.0\.0\.9 /);
  });

  it('diagnose finds per-source-penalty (not maxstartups) with the penalty: lines, and names the playbook', () => {
    const result = runCli(['diagnose', '-i', lab.inventory, ten().name, '--client', PENALISED, '--format', 'json']);
    assert.equal(result.status, 2, result.stderr);
    const host = (JSON.parse(result.stdout) as { hosts: { causes: { code: string; evidence: { text: string }[]; fix: { command: string } }[] }[] }).hosts[0];
    assert.deepEqual(host?.causes.map((c) => c.code), ['per-source-penalty']);
    const cause = host!.causes[0]!;
    assert.ok(cause.evidence.some((e) => /penalty: failed authentication/.test(e.text)), JSON.stringify(cause.evidence));
    assert.ok(cause.evidence.some((e) => /^persourcepenalties .*authfail:10/.test(e.text)));
    assert.match(cause.fix.command, new RegExp(`playbooks/penalty-exempt\\.yaml -l ${ten().name} --var address=127\\.0\\.0\\.9$`));
  });

  it('the playbook exempts the address on the 10.x host (reload by re-exec), and the 9.2 host skips it with the reason', async () => {
    const pidBefore = (JSON.parse(readFileSync(join(lab.dir, 'lab.json'), 'utf8')) as { hosts: { name: string; sshd: { pid: number } }[] }).hosts.find((h) => h.name === ten().name)!.sshd.pid;
    const applied = runCli(['apply', 'playbooks/penalty-exempt.yaml', '-i', lab.inventory, '--var', `address=${PENALISED}`, '--yes', '--format', 'json']);
    assert.equal(applied.status, 0, applied.stderr + applied.stdout);
    const report = JSON.parse(applied.stdout) as { hosts: { name: string; status: string }[] };
    assert.equal(report.hosts.find((h) => h.name === ten().name)?.status, 'changed');
    const skipped = report.hosts.find((h) => h.name === nine().name);
    assert.equal(skipped?.status, 'ok');
    assert.match(JSON.stringify(skipped), /condition not met: openssh\.version >= \\"9\.8\\"/);
    // The same listener, re-executed: its penalties are gone and the exemption is in effect.
    const dump = ssh(lab, ten().address, 'sshd -T | grep ^persourcepenaltyexemptlist; cat /proc/1/comm 2>/dev/null; true', { bind: PENALISED });
    assert.equal(dump.status, 0, String(dump.stderr));
    assert.match(String(dump.stdout), /^persourcepenaltyexemptlist 127\.0\.0\.9$/m);
    assert.equal(spawnSync('kill', ['-0', String(pidBefore)]).status, 0, 'sshd reloaded in place (SIGHUP re-exec), not restarted');
    for (let i = 0; i < 3; i++) ssh(lab, ten().address, 'true', { bind: PENALISED, identity: join(keys, 'stale') });
    assert.match(await firstLine(ten().address, PENALISED), /^SSH-2\.0-OpenSSH_10\.0/);
    assert.equal(ssh(lab, ten().address, 'true', { bind: PENALISED }).status, 0);
  });
});
