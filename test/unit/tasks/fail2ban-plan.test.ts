/**
 * Planning fail2ban tasks from facts: the machine's own Debian /etc/fail2ban (as shipped by the
 * package) with the lab's jail.d/sshd.local, and a recorded server state. Pure, no daemon.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts, type HostFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { changeDiff } from '../../../src/report/diff.js';
import type { RawFacts } from '../../../src/services/service.js';
import type { Fail2banExpectation } from '../../../src/services/fail2ban/verify.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';
import { playsOf } from '../engine/sshd-facts.js';
import { loadPlaybook } from '../../../src/model/playbook.js';

const SSHD_LOCAL = '[DEFAULT]\nbanaction = hostsdeny\n\n[sshd]\nenabled = true\nbackend = polling\nmaxretry = 3\n';

interface Server {
  installed?: boolean;
  state?: string;
  check?: { exitCode: number; stdout: string };
}

/** The recorded Debian host's facts, with fail2ban's files from this machine plus `extra`, and a server state. */
function f2bFacts(server: Server, extra: Record<string, string> = { '/etc/fail2ban/jail.d/sshd.local': SSHD_LOCAL }): HostFacts {
  if (!existsSync('/etc/fail2ban/jail.conf')) throw new Error('these tests read Debian\'s fail2ban config: apt-get install -y fail2ban');
  const raw: RawFacts = parseFactOutput(readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8'));
  const file = (content: string) => ({ content: Buffer.from(content), mode: 0o644, uid: 0, gid: 0 });
  for (const dir of ['/etc/fail2ban', '/etc/fail2ban/jail.d', '/etc/fail2ban/fail2ban.d']) {
    const names = new Set(readdirSync(dir));
    for (const path of Object.keys(extra)) if (path.startsWith(`${dir}/`) && !path.slice(dir.length + 1).includes('/')) names.add(path.slice(dir.length + 1));
    raw.dirs.set(dir, [...names]);
    for (const name of names) {
      const path = `${dir}/${name}`;
      if (extra[path] !== undefined) raw.files.set(path, file(extra[path]!));
      else if (/\.(conf|local)$/.test(name)) raw.files.set(path, file(readFileSync(path, 'utf8')));
    }
  }
  if (!raw.files.has('/etc/fail2ban/jail.local')) raw.missing.add('/etc/fail2ban/jail.local');
  const installed = server.installed ?? true;
  raw.commands.set('fail2ban_client', { exitCode: installed ? 0 : 1, stdout: installed ? '/usr/bin/fail2ban-client\n' : '', stderr: '' });
  if (installed) {
    raw.commands.set('fail2ban_check', { exitCode: server.check?.exitCode ?? 0, stdout: server.check?.stdout ?? '', stderr: '' });
    raw.commands.set('fail2ban_state', { exitCode: 0, stdout: server.state ?? 'jails sshd\nignoreip sshd 127.0.0.1\n', stderr: '' });
  }
  return interpretFacts(raw, { name: 'web-01', address: '192.0.2.10', serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10', services: ['fail2ban'] });
}

const host = { name: 'web-01', address: '192.0.2.10', vars: {}, groups: [] };
const task = (params: string) => playsOf(`name: t\nhosts: all\ntasks:\n  - name: f2b\n    fail2ban:\n${params.replace(/^/gm, '      ')}\n`);
const plan = (params: string, facts: HostFacts) => planHost({ host, plays: task(params), cliVars: {}, facts }).plan;

describe('fail2ban task planning', () => {
  it('adds the address to the jail section that sets the jail, with the checks apply needs; a ban stays for unban:', () => {
    const facts = f2bFacts({ state: 'jails sshd\nbanned sshd 127.0.0.9\nignoreip sshd 127.0.0.1\n' });
    const p = plan('ignoreip: [127.0.0.9]\nunban: [127.0.0.9]', facts);
    assert.equal(p.status, 'changed', JSON.stringify(p.error));
    assert.equal(p.changes.length, 1);
    assert.equal(p.changes[0]?.path, '/etc/fail2ban/jail.d/sshd.local');
    assert.match(changeDiff(p.changes[0]!), /^ maxretry = 3\n\+ignoreip = 127\.0\.0\.9$/m);
    assert.equal(p.files[0]?.service, 'fail2ban');
    assert.deepEqual(p.services.fail2ban, { jails: ['sshd'], ignore: [{ jail: 'sshd', entries: ['127.0.0.9'] }], unban: [{ jail: 'sshd', addresses: ['127.0.0.9'] }] });
    assert.equal(p.facts?.reload, 'fail2ban-client reload');
  });

  it('warns that a new ignoreip entry lifts no existing ban when unban: is missing', () => {
    const p = plan('ignoreip: [127.0.0.0/24]', f2bFacts({ state: 'jails sshd\nbanned sshd 127.0.0.9\n' }));
    assert.equal(p.status, 'changed');
    assert.match(p.warnings.join('\n'), /127\.0\.0\.9 is banned in jail sshd: a new ignoreip entry lifts no existing ban/);
  });

  it('is a no-op saying where the address is already ignored', () => {
    const facts = f2bFacts({ state: 'jails sshd\nignoreip sshd 10.0.0.0/8\n' }, { '/etc/fail2ban/jail.d/sshd.local': `${SSHD_LOCAL}ignoreip = 10.0.0.0/8\n` });
    const p = plan('ignoreip: [10.1.2.3]\nunban: [10.1.2.3]', facts);
    assert.equal(p.status, 'ok');
    assert.deepEqual(p.notes.map((n) => n.message), ['jail sshd already ignores 10.1.2.3 (by 10.0.0.0/8) at /etc/fail2ban/jail.d/sshd.local:8; 10.1.2.3 is not banned in jail sshd']);
  });

  it('lifts a ban with an action alone when the address is ignored already (no file to write)', () => {
    const facts = f2bFacts({ state: 'jails sshd\nbanned sshd 10.1.2.3\nignoreip sshd 10.0.0.0/8\n' }, { '/etc/fail2ban/jail.d/sshd.local': `${SSHD_LOCAL}ignoreip = 10.0.0.0/8\n` });
    const p = plan('ignoreip: [10.1.2.3]\nunban: [10.1.2.3, 10.1.2.4]', facts);
    assert.equal(p.status, 'changed');
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.files, []);
    assert.deepEqual(p.checks, []);
    assert.equal(p.actions.length, 1);
    assert.equal(p.actions[0]?.service, 'fail2ban');
    assert.match(p.actions[0]?.description ?? '', /^lift the ban of 10\.1\.2\.3 in jail sshd \(fail2ban-client set sshd unbanip 10\.1\.2\.3\)$/);
    // Only the banned address is acted on; the rest is said.
    assert.deepEqual(p.services.fail2ban, { jails: ['sshd'], ignore: [], unban: [{ jail: 'sshd', addresses: ['10.1.2.3'] }] });
    assert.match(p.warnings.join('\n'), /10\.1\.2\.4 is not banned in jail sshd/);
    assert.match(p.warnings.join('\n'), /already ignores 10\.1\.2\.3 \(by 10\.0\.0\.0\/8\)/);
  });

  it('lists the ban it lifts as an action after the reload when the config changes too', () => {
    const p = plan('ignoreip: [127.0.0.9]\nunban: [127.0.0.9]', f2bFacts({ state: 'jails sshd\nbanned sshd 127.0.0.9\n' }));
    assert.equal(p.changes.length, 1);
    assert.deepEqual(p.actions.map((a) => a.description), ['lift the ban of 127.0.0.9 in jail sshd (fail2ban-client set sshd unbanip 127.0.0.9), after the reload']);
  });

  it('is a no-op without fail2ban, with the server stopped, or without the jail running', () => {
    assert.match(plan('ignoreip: [192.0.2.7]', f2bFacts({ installed: false })).notes[0]?.message ?? '', /fail2ban is not installed/);
    const stopped = plan('ignoreip: [192.0.2.7]', f2bFacts({ state: 'stopped\n' }));
    assert.equal(stopped.status, 'ok');
    assert.match(stopped.notes[0]?.message ?? '', /fail2ban-server is not running.*does not start it/);
    const other = plan('jail: recidive\nignoreip: [192.0.2.7]', f2bFacts({}));
    assert.equal(other.status, 'ok');
    assert.match(other.notes[0]?.message ?? '', /jail recidive is not running \(running jails: sshd\)/);
  });

  it('refuses a host whose live config has a value the server refuses, naming file and line', () => {
    const facts = f2bFacts({}, { '/etc/fail2ban/jail.d/sshd.local': SSHD_LOCAL, '/etc/fail2ban/jail.d/zz-late.local': '[sshd]\nbantime = forever-ish\n' });
    const p = plan('ignoreip: [192.0.2.7]', facts);
    assert.equal(p.status, 'failed');
    assert.equal(p.error?.code, 'fail2ban-config-invalid');
    assert.match(p.error?.message ?? '', /\/etc\/fail2ban\/jail\.d\/zz-late\.local:2: jail sshd: bantime = forever-ish is not a time/);
    assert.deepEqual(p.changes, []);
  });

  it('refuses a host whose live config fail2ban-client -d rejects', () => {
    const p = plan('ignoreip: [192.0.2.7]', f2bFacts({ check: { exitCode: 255, stdout: "Failed during configuration: Bad value substitution: option 'bantime'" } }));
    assert.equal(p.error?.code, 'fail2ban-config-invalid');
    assert.match(p.error?.message ?? '', /fail2ban-client -d.*Bad value substitution/);
  });

  it('sets jail keys in the jail section and expects what fail2ban-client get prints', () => {
    const p = plan('set: { bantime: 1h, maxretry: 5 }', f2bFacts({}));
    assert.equal(p.status, 'changed', JSON.stringify(p.error));
    assert.match(changeDiff(p.changes[0]!), /^-maxretry = 3\n\+maxretry = 5$/m);
    assert.deepEqual(
      p.expectations.map((e) => [e.service, (e as Fail2banExpectation).keyword, (e as Fail2banExpectation).values]),
      [['fail2ban', 'bantime', ['3600']], ['fail2ban', 'maxretry', ['5']]],
    );
  });

  it('checks parameters as fail2ban reads them: bad entries and values are errors, a host name a warning', () => {
    const diagnostics = (params: string) =>
      loadPlaybook(`name: t\nhosts: all\ntasks:\n  - fail2ban:\n${params.replace(/^/gm, '      ')}\n`, 't.yaml').diagnostics.map((d) => `${d.severity} ${d.code}`);
    assert.deepEqual(diagnostics('ignoreip: [300.1.2.3/8]'), ['error fail2ban-bad-ignoreip']);
    assert.deepEqual(diagnostics('ignoreip: [ci.example.com]'), ['warning fail2ban-ignoreip-hostname']);
    assert.deepEqual(diagnostics('set: { bantime: forever-ish }'), ['error fail2ban-bad-value']);
    assert.deepEqual(diagnostics('unban: [10.0.0.0/8]'), ['error fail2ban-bad-unban']);
    assert.deepEqual(diagnostics('jail: sshd'), ['error empty-fail2ban-task']);
    assert.deepEqual(diagnostics('set: { maxretry: 5 }\nignoreip: ["{{ runner.address }}"]'), []);
  });
});
