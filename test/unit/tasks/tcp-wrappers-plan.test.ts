/**
 * The tcp_wrappers task from recorded facts (Debian's, with hosts.allow, hosts.deny and the
 * libwrap check added as the fact script records them): the narrow line and where it goes, no
 * change when libwrap grants or sshd does not link it, refusals and warnings, and the
 * verification's reading of the files as written.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts, type HostFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { parseSavedPlan, serialisePlan } from '../../../src/engine/plan-file.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { tcpWrappersService } from '../../../src/services/tcp-wrappers/service.js';
import type { WrappersExpectation } from '../../../src/services/tcp-wrappers/access.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function factsWith(files: { allow?: string; deny?: string }, libwrap = '/usr/sbin/sshd\n'): HostFacts {
  const records = [
    readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8').trimEnd(),
    `R tw_libwrap 0 ${b64(libwrap)} `,
    files.allow === undefined ? `M ${b64('/etc/hosts.allow')}` : `F ${b64('/etc/hosts.allow')} 644 0 0 ${b64(files.allow)}`,
    files.deny === undefined ? `M ${b64('/etc/hosts.deny')}` : `F ${b64('/etc/hosts.deny')} 644 0 0 ${b64(files.deny)}`,
  ];
  return interpretFacts(parseFactOutput(records.join('\n') + '\n'), {
    name: 'web-01',
    address: '192.0.2.10',
    serverBanner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10',
    services: ['tcp_wrappers'],
  });
}

const host = { name: 'web-01', address: '192.0.2.10', vars: {}, groups: [] };

function plan(facts: HostFacts, address: string) {
  const loaded = loadPlaybook(readFileSync(`${REPO_ROOT}/playbooks/tcp-wrappers-allow.yaml`, 'utf8'), 'tcp-wrappers-allow.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return planHost({ host, plays: loaded.playbook.plays, cliVars: { address }, facts }).plan;
}

const ALLOW = `# /etc/hosts.allow: local policy
# Management network (OPS-1742)
sshd: 10.0.0.0/8
sshd: 192.0.2.0/24 : DENY
`;
const DENY = 'sshd: ALL\n';

describe('tcp_wrappers task', () => {
  it('places sshd: ADDRESS right before the hosts.allow line that refuses it, keeping every other byte', () => {
    const p = plan(factsWith({ allow: ALLOW, deny: DENY }), '192.0.2.7');
    assert.equal(p.status, 'changed', JSON.stringify(p.error));
    assert.equal(p.changes.length, 1);
    assert.equal(p.changes[0]?.path, '/etc/hosts.allow');
    assert.equal(p.changes[0]?.after, ALLOW.replace('sshd: 192.0.2.0/24 : DENY', 'sshd: 192.0.2.7\nsshd: 192.0.2.0/24 : DENY'));
    assert.equal(p.files[0]?.service, 'tcp_wrappers');
    assert.deepEqual(p.expectations, [{ task: 'Let 192.0.2.7 through hosts.allow to sshd', service: 'tcp_wrappers', daemon: 'sshd', client: '192.0.2.7', address: '192.0.2.7' }]);
    assert.deepEqual(p.services.tcp_wrappers, { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' });
    assert.deepEqual(p.warnings, []);
  });

  it('appends to hosts.allow when hosts.deny refuses, and creates hosts.allow when it is missing', () => {
    const appended = plan(factsWith({ allow: '# local\n', deny: DENY }), '198.51.100.4');
    assert.equal(appended.changes[0]?.after, '# local\nsshd: 198.51.100.4\n');
    const created = plan(factsWith({ deny: DENY }), '198.51.100.4');
    assert.equal(created.changes[0]?.action, 'create');
    assert.equal(created.changes[0]?.after, 'sshd: 198.51.100.4\n');
  });

  it('changes nothing when libwrap already grants, and says which line does', () => {
    const p = plan(factsWith({ allow: ALLOW, deny: DENY }), '10.1.2.3');
    assert.equal(p.status, 'ok');
    assert.deepEqual(p.changes, []);
    assert.match(p.notes.map((n) => n.message).join('\n'), /10\.1\.2\.3 already gets through to sshd: granted by \/etc\/hosts\.allow:3/);
  });

  it('is a no-op saying so where sshd does not link libwrap', () => {
    const p = plan(factsWith({ allow: ALLOW, deny: DENY }, ''), '192.0.2.7');
    assert.equal(p.status, 'ok');
    assert.deepEqual(p.changes, []);
    assert.match(p.notes.map((n) => n.message).join('\n'), /does not link libwrap: hosts\.allow and hosts\.deny do nothing for it/);
  });

  it('warns where the client widens access, and refuses what libwrap would misread', () => {
    const wide = plan(factsWith({ allow: ALLOW, deny: DENY }), '172.0.0.0/8');
    assert.equal(wide.status, 'changed');
    assert.match(wide.warnings.join('\n'), /lets a whole \/8 network through TCP wrappers/);
    assert.deepEqual(wide.expectations.map((e) => (e as WrappersExpectation).address), [undefined]);
    const all = plan(factsWith({ allow: ALLOW, deny: DENY }), 'ALL');
    assert.match(all.warnings.join('\n'), /client ALL lets every client through/);
    const paranoid = plan(factsWith({ allow: '', deny: 'ALL: PARANOID\nsshd: ALL\n' }), '192.0.2.7');
    assert.match(paranoid.warnings.join('\n'), /PARANOID/);
    const bad = plan(factsWith({ allow: ALLOW, deny: DENY }), '192.0.2.7: ALL');
    assert.equal(bad.status, 'failed');
    assert.equal(bad.error?.code, 'task-invalid');
    const forgotten = plan(factsWith({ allow: ALLOW, deny: DENY }), '');
    assert.equal(forgotten.status, 'ok');
    assert.match(forgotten.notes.map((n) => n.message).join('\n'), /no client given, nothing to let through \(the shipped playbook takes --var address=ADDRESS\)/);
    assert.deepEqual(forgotten.changes, []);
  });

  it('refuses a client that sshguard blocks, pointing at the sshguard task', () => {
    const p = plan(factsWith({ allow: '###sshguard###\nALL : 192.0.2.7 : DENY\n###sshguard###\n', deny: '' }), '192.0.2.7');
    assert.equal(p.status, 'failed');
    assert.equal(p.error?.code, 'hosts-access-sshguard-blocked');
    assert.match(p.error?.diagnosis ?? '', /sshguard task/);
  });

  it('verification reads the files again: granted after the line, refused without it', async () => {
    const expectation: WrappersExpectation = { task: 't', daemon: 'sshd', client: '192.0.2.7', address: '192.0.2.7' };
    const runner = (allow: string, deny: string) => ({
      exec: async () => ({ exitCode: 0, stdout: Buffer.from(`F ${b64(allow)}\nF ${b64(deny)}\n`) }),
    });
    const servicePlan = { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' };
    const good = await tcpWrappersService.verify(runner('sshd: 192.0.2.7\n', DENY), servicePlan, [expectation], { libwrap: [], checked: true });
    assert.deepEqual(good.values.map((v) => [v.ok, v.actual]), [[true, ['granted']]]);
    const bad = await tcpWrappersService.verify(runner('# nothing\n', DENY), servicePlan, [expectation], { libwrap: [], checked: true });
    assert.equal(bad.values[0]?.ok, false);
    assert.match(bad.values[0]?.actual[0] ?? '', /denied \(denied by \/etc\/hosts\.deny:1/);
  });

  it('survives a saved plan: the service data and expectations read back as planned', () => {
    const p = plan(factsWith({ allow: ALLOW, deny: DENY }), '192.0.2.7');
    const saved = parseSavedPlan(serialisePlan({ createdAt: new Date(0), version: '1', inventory: 'i.yaml', playbooks: ['p.yaml'], hosts: [{ plan: p }] }), 'plan.json').hosts[0];
    assert.deepEqual(saved?.services.tcp_wrappers, { allow: '/etc/hosts.allow', deny: '/etc/hosts.deny' });
    assert.deepEqual(saved?.expectations, p.expectations);
    assert.equal(tcpWrappersService.isSavedExpectation({ task: 't', daemon: 'sshd', client: '192.0.2.7\nsshd: ALL' }), false);
  });
});
