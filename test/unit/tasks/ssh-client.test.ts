/** The ssh_client task: parameters, planning from facts, and the verification's comparisons. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { directoryMode } from '../../../src/engine/apply-script.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { checkShape } from '../../../src/lang/spec.js';
import { parseYaml } from '../../../src/lang/yaml-tree.js';
import { readSshClientFacts } from '../../../src/services/ssh-client/facts.js';
import { leakedSettings, verifyClientValues } from '../../../src/services/ssh-client/verify.js';
import type { CommandRunner, RawFacts } from '../../../src/services/service.js';
import { TASK_KINDS } from '../../../src/tasks/registry.js';
import { expectedValue, includesDropIns, probeHost } from '../../../src/tasks/ssh-client/plan.js';
import type { Diagnostic } from '../../../src/util/diagnostics.js';
import { factsWithConfig, playsOf } from '../engine/sshd-facts.js';
import { SSH_CONFIG_FIXTURES } from '../config/fixtures.js';

function check(text: string, opensshVersion?: string): { params: unknown; diagnostics: Diagnostic[] } {
  const { root, diagnostics } = parseYaml(text, 't.yaml');
  assert.ok(root);
  checkShape(root, { ...TASK_KINDS.ssh_client.params, templates: true }, { file: 't.yaml', diagnostics }, 'ssh_client');
  const params = TASK_KINDS.ssh_client.readParams(root, { file: 't.yaml', diagnostics, templatesPending: true, ...(opensshVersion ? { opensshVersion } : {}) });
  return { params, diagnostics };
}
const errors = (d: Diagnostic[]) => d.filter((x) => x.severity === 'error').map((x) => `${x.code}@${x.range?.start.line}:${x.range?.start.column}`);

const DEBIAN_SSH_CONFIG = readFileSync(`${SSH_CONFIG_FIXTURES}/debian-12-ssh_config`, 'utf8');

/** Recorded Debian facts plus the client's: the system ssh_config and, optionally, other files. */
function clientFacts(files: Record<string, string> = {}) {
  const base = factsWithConfig('Port 22\n');
  const map = new Map(base.files);
  const template = map.get('/etc/ssh/sshd_config')!;
  for (const [path, text] of Object.entries({ '/etc/ssh/ssh_config': DEBIAN_SSH_CONFIG, ...files })) map.set(path, { ...template, content: Buffer.from(text) });
  return {
    ...base,
    files: map,
    services: { ...base.services, ssh_client: { account: { name: 'deploy', uid: 1000, gid: 1000, home: '/home/deploy' }, unrelated: {} } },
  };
}

describe('ssh_client parameters', () => {
  it('accepts a host list, set and unset, with the keyword table of the client', () => {
    const { params, diagnostics } = check('host: [old-switch, "*.lab"]\nset: { kexalgorithms: "+diffie-hellman-group14-sha1", ServerAliveInterval: 1m }\nunset: [Ciphers]\n');
    assert.deepEqual(errors(diagnostics), []);
    assert.deepEqual(params, { hosts: ['old-switch', '*.lab'], set: [{ keyword: 'KexAlgorithms', value: '+diffie-hellman-group14-sha1' }, { keyword: 'ServerAliveInterval', value: '1m' }], unset: ['Ciphers'] });
  });

  it('refuses legacy algorithms under a pattern that matches every host, at the value', () => {
    for (const [set, col] of [['KexAlgorithms: "+diffie-hellman-group14-sha1"', 23], ['HostKeyAlgorithms: ssh-rsa', 27], ['MACs: "+hmac-sha1"', 14], ['Ciphers: "aes256-cbc,aes128-ctr"', 17]] as const) {
      const { params, diagnostics } = check(`host: ["*", "!gw"]\nset: { ${set} }\n`);
      assert.equal(params, undefined);
      assert.deepEqual(errors(diagnostics), [`legacy-algorithm-for-every-host@2:${col}`], set);
    }
    assert.deepEqual(errors(check('host: "*"\nset: { Ciphers: "-aes128-cbc", KexAlgorithms: "+sntrup761x25519-sha512@openssh.com" }\n').diagnostics), [], 'removing or adding a modern one is fine');
    assert.deepEqual(errors(check('host: old-box\nset: { KexAlgorithms: "+diffie-hellman-group14-sha1" }\n').diagnostics), []);
  });

  it('checks keywords and values as the client does', () => {
    const { diagnostics } = check('host: x\nset: { ServerAliveIntervl: 3, Port: 70000, StrictHostKeyChecking: maybe, KexAlgorithms: "+no-such-kex" }\n', '9.2p1');
    assert.deepEqual(errors(diagnostics).map((e) => e.split('@')[0]), ['unknown-ssh-keyword', 'invalid-port', 'invalid-choice', 'unknown-algorithm']);
    assert.match(diagnostics[0]!.hint ?? '', /ServerAliveInterval/);
    assert.deepEqual(errors(check('host: "two words"\nset: { Port: 22 }\n').diagnostics), [], 'a Host line is a list of patterns');
    assert.deepEqual(errors(check('host: "a;b"\nset: { Port: 22 }\n').diagnostics).map((e) => e.split('@')[0]), ['bad-host-pattern']);
    assert.deepEqual(errors(check('host: x\n').diagnostics).map((e) => e.split('@')[0]), ['empty-ssh-client-task']);
  });
});

describe('planning ssh_client', () => {
  const host = { name: 'web-01', address: '192.0.2.10', vars: {} };
  it('writes the drop-in where the system config includes ssh_config.d, and expects ssh -G values for a name the patterns select', () => {
    const { plan } = planHost({ host, plays: playsOf('name: t\nhosts: all\ntasks:\n  - ssh_client:\n      host: "legacy-*.example.com"\n      set: { KexAlgorithms: "+diffie-hellman-group14-sha1", ServerAliveInterval: 2m, HostName: Old.Example.com }\n'), cliVars: {}, facts: clientFacts() });
    assert.equal(plan.status, 'changed', JSON.stringify(plan.error));
    assert.deepEqual(plan.changes.map((c) => [c.path, c.action, c.after]), [
      ['/etc/ssh/ssh_config.d/50-sshfix.conf', 'create', 'Host legacy-*.example.com\n    KexAlgorithms +diffie-hellman-group14-sha1\n    ServerAliveInterval 2m\n    HostName Old.Example.com\n'],
    ]);
    assert.deepEqual(plan.files.map((f) => f.service), ['ssh_client']);
    const clientExpectations = plan.expectations.filter((e): e is Extract<typeof e, { service: 'ssh_client' }> => e.service === 'ssh_client');
    assert.equal(clientExpectations.length, plan.expectations.length);
    assert.deepEqual(clientExpectations.map((e) => [e.keyword, e.connection, e.values, 'match' in e ? e.match : '']), [
      ['kexalgorithms', 'legacy-x.example.com', ['diffie-hellman-group14-sha1'], 'contains'],
      ['serveraliveinterval', 'legacy-x.example.com', ['120'], 'equals'],
      ['hostname', 'legacy-x.example.com', ['old.example.com'], 'equals'],
    ]);
    assert.deepEqual(plan.services.ssh_client, { configs: ['/etc/ssh/ssh_config'], leakChecks: ['/etc/ssh/ssh_config'] });
  });

  it("edits /etc/ssh/ssh_config itself before Host * when it has no drop-in Include, and ~/.ssh/config is the account's", () => {
    const noInclude = DEBIAN_SSH_CONFIG.replace(/^Include .*\n/m, '');
    const { plan } = planHost({ host, plays: playsOf('name: t\nhosts: all\ntasks:\n  - ssh_client:\n      host: db\n      set: { ServerAliveInterval: 30 }\n'), cliVars: {}, facts: clientFacts({ '/etc/ssh/ssh_config': noInclude }) });
    assert.equal(plan.changes[0]?.path, '/etc/ssh/ssh_config');
    assert.match(plan.changes[0]?.after ?? '', /\nHost db\n {4}ServerAliveInterval 30\n\nHost \*\n/);
    const user = planHost({ host, plays: playsOf('name: t\nhosts: all\ntasks:\n  - ssh_client:\n      path: ~/.ssh/config\n      host: "*"\n      set: { ServerAliveInterval: 30 }\n'), cliVars: {}, facts: clientFacts({ '/home/deploy/.ssh/config': 'Host *\n  User deploy\n' }) }).plan;
    assert.deepEqual(user.changes.map((c) => [c.path, c.after]), [['/home/deploy/.ssh/config', 'Host *\n  User deploy\n  ServerAliveInterval 30\n']]);
    assert.deepEqual(user.services.ssh_client?.leakChecks, [], 'Host * matches every name: nothing is unrelated');
  });

  it('is a no-op with its reason when the block already says it', () => {
    const { plan } = planHost({ host, plays: playsOf('name: t\nhosts: all\ntasks:\n  - ssh_client:\n      host: db\n      set: { ServerAliveInterval: 1m }\n'), cliVars: {}, facts: clientFacts({ '/etc/ssh/ssh_config.d/50-sshfix.conf': 'Host db\n  ServerAliveInterval 60\n' }) });
    assert.equal(plan.status, 'ok');
    assert.match(plan.notes[0]?.message ?? '', /already is as requested/);
  });

  it('helpers: the drop-in Include, a probe name, what ssh -G prints', () => {
    assert.equal(includesDropIns(DEBIAN_SSH_CONFIG), true);
    assert.equal(includesDropIns('Host *\nInclude /etc/ssh/ssh_config.d/*.conf\n'), false, 'inside a Host block it is too late');
    assert.equal(probeHost(['!gw.lab', '*.lab']), 'x.lab');
    assert.equal(probeHost(['x*', '!xx']), undefined);
    assert.equal(expectedValue({ keyword: 'IdentityFile', value: '~/.ssh/id' }), undefined, '~ is expanded by ssh');
    assert.deepEqual(expectedValue({ keyword: 'Ciphers', value: '^aes256-gcm@openssh.com' }), { keyword: 'ciphers', values: ['aes256-gcm@openssh.com'], match: 'starts' });
  });
});

describe('ssh_client facts and verification', () => {
  const runner = (outputs: Record<string, string>): CommandRunner & { commands: string[] } => {
    const commands: string[] = [];
    return {
      commands,
      exec: async (command) => {
        commands.push(command);
        const key = Object.keys(outputs).find((k) => command.includes(k));
        return key === undefined ? { exitCode: 255, stdout: Buffer.from('') } : { exitCode: 0, stdout: Buffer.from(outputs[key]!) };
      },
    };
  };

  it('reads the account and the unrelated dumps', () => {
    const raw: RawFacts = {
      commands: new Map([
        ['sshc_account', { exitCode: 0, stdout: 'deploy:x:1000:1001:,,,:/home/deploy:/bin/bash\n', stderr: '' }],
        ['sshc_version', { exitCode: 0, stdout: '', stderr: 'OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\n' }],
        ['sshc_unrelated', { exitCode: 0, stdout: '== /etc/ssh/ssh_config\nuser root\nport 22\n== /home/deploy/.ssh/config\n!failed\n', stderr: '' }],
      ]),
      files: new Map(), missing: new Set(), unreadable: new Set(), dirs: new Map(), includes: [], symlinks: new Map(),
    };
    const facts = readSshClientFacts(raw, {} as never);
    assert.deepEqual(facts, { account: { name: 'deploy', uid: 1000, gid: 1001, home: '/home/deploy' }, version: '9.2p1', unrelated: { '/etc/ssh/ssh_config': 'user root\nport 22\n', '/home/deploy/.ssh/config': undefined } });
  });

  it('compares ssh -G with each kind of expectation, and names what moved for the unrelated destination', async () => {
    const conn = runner({ ' old': 'kexalgorithms a,b,legacy\nserveraliveinterval 60\n', 'sshfix-unrelated-host.invalid': 'port 22\nserveraliveinterval 60\n' });
    const base = { task: 't', config: '/etc/ssh/ssh_config', connection: 'old' };
    const values = await verifyClientValues(conn, [
      { ...base, keyword: 'kexalgorithms', values: ['legacy'], match: 'contains' },
      { ...base, keyword: 'kexalgorithms', values: ['c'], match: 'excludes' },
      { ...base, keyword: 'kexalgorithms', values: ['b'], match: 'starts' },
      { ...base, keyword: 'serveraliveinterval', values: ['60'], match: 'equals' },
    ]);
    assert.deepEqual(values.map((v) => v.ok), [true, true, false, true]);
    assert.equal(conn.commands.filter((c) => c.includes(' old')).length, 1, 'one ssh -G per destination');
    assert.equal(await leakedSettings(conn, { '/etc/ssh/ssh_config': 'port 22\nserveraliveinterval 60\n' }, ['/etc/ssh/ssh_config']), undefined);
    assert.match(
      (await leakedSettings(conn, { '/etc/ssh/ssh_config': 'port 22\nserveraliveinterval 0\n' }, ['/etc/ssh/ssh_config'])) ?? '',
      /serveraliveinterval for sshfix-unrelated-host\.invalid \(\/etc\/ssh\/ssh_config\) was 0, is now 60/,
    );
  });
});

describe("ssh_client and the account's own ~/.ssh/config", () => {
  const host = { name: 'workstation', address: 'localhost', vars: {} };
  const userPlay = playsOf('name: t\nhosts: all\ntasks:\n  - ssh_client:\n      path: ~/.ssh/config\n      host: bastion\n      set: { ServerAliveInterval: 60 }\n');

  it('creates it owned by the account, readable by it only (sshfix writes as root)', () => {
    const { plan } = planHost({ host, plays: userPlay, cliVars: {}, facts: clientFacts() });
    assert.deepEqual(plan.files.map((f) => [f.path, f.uid, f.gid, f.mode]), [['/home/deploy/.ssh/config', 1000, 1000, 0o600]]);
  });

  it('an existing one keeps its owner and mode', () => {
    const { plan } = planHost({ host, plays: userPlay, cliVars: {}, facts: clientFacts({ '/home/deploy/.ssh/config': 'Host *\n  User deploy\n' }) });
    const template = clientFacts().files.get('/etc/ssh/sshd_config')!;
    assert.deepEqual(plan.files.map((f) => [f.uid, f.gid, f.mode]), [[template.uid, template.gid, template.mode]]);
  });

  it("the fact script's home wins over passwd's: $HOME without sudo (a local host's runner), sudo's caller's home with it", () => {
    const raw = (home?: string): RawFacts => ({
      commands: new Map([
        ['sshc_account', { exitCode: 0, stdout: 'deploy:x:1000:1001:,,,:/home/deploy:/bin/bash\n', stderr: '' }],
        ...(home === undefined ? [] : [['sshc_home', { exitCode: 0, stdout: `${home}\n`, stderr: '' }] as const]),
      ]),
      files: new Map(), missing: new Set(), unreadable: new Set(), dirs: new Map(), includes: [], symlinks: new Map(),
    });
    assert.equal(readSshClientFacts(raw('/tmp/test-home'), {} as never).account?.home, '/tmp/test-home');
    assert.equal(readSshClientFacts(raw(''), {} as never).account?.home, '/home/deploy');
    assert.equal(readSshClientFacts(raw(), {} as never).account?.home, '/home/deploy');
  });

  it('a directory created for a file gets no wider access than the file', () => {
    assert.equal(directoryMode(0o600), 0o700);
    assert.equal(directoryMode(0o644), 0o755);
    assert.equal(directoryMode(0o640), 0o750);
  });
});
