/**
 * The fail2ban task end to end: real fail2ban servers in lab hosts ban a client after failed
 * logins; `playbooks/fail2ban-ignore-runner.yaml` exempts and unbans it through the transaction,
 * and a host whose live config would not load is refused with nothing changed. Lab address block
 * 127.77.87.x; client addresses 127.0.0.9 and 127.0.0.10.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, labInventory, readHostFile, sshRoot, type LabHostRef } from '../helpers/lab-host.js';

const PLAYBOOK = 'playbooks/fail2ban-ignore-runner.yaml';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string; diagnosis?: string };
  notes: { task: string; message: string }[];
  changes: { path: string; diff?: string }[];
  actions: { task: string; service: string; description: string }[];
  warnings: string[];
  apply?: { outcome: string; backup_dir?: string; steps: { step: string; ok: boolean; message?: string }[]; verification: { keyword: string; expected: string[]; actual: string[]; ok: boolean }[] };
}
function hostsOf(result: { stdout: string; stderr: string }): JsonHost[] {
  assert.match(result.stdout, /^\{/, `no JSON report: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { hosts: JsonHost[] }).hosts;
}

/** OpenSSH's client from a chosen source address, with the lab's key and known_hosts. */
function sshFrom(lab: TestLab, source: string, target: string, command = 'true'): { status: number | null; stderr: string } {
  const result = spawnSync(
    'ssh',
    ['-b', source, '-i', lab.identityFile, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', target, command],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { status: result.status, stderr: result.stderr };
}

function status(lab: TestLab, host: LabHostRef, jail = ''): string {
  const result = sshRoot(lab, host, `fail2ban-client status ${jail}`);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

async function ban(lab: TestLab, host: LabHostRef, client: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) assert.notEqual(sshFrom(lab, client, `nosuchuser@${host.address}`).status, 0);
  const deadline = Date.now() + 30_000;
  while (!new RegExp(`Banned IP list:.*\\b${client.replace(/\./g, '\\.')}\\b`).test(status(lab, host, 'sshd'))) {
    if (Date.now() > deadline) throw new Error(`${client} was not banned on ${host.name}`);
    await sleep(300);
  }
  assert.notEqual(sshFrom(lab, client, `root@${host.address}`).status, 0, 'the banned client cannot log in');
}

describe('fail2ban task against real fail2ban servers', { timeout: 300_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  let a: LabHostRef;
  let b: LabHostRef;
  let c: LabHostRef;
  const fail2banFiles = (host: LabHostRef): Record<string, string> => fingerprint(lab, host.name, ['/etc/fail2ban']);

  before(() => {
    lab = startTestLab({ hosts: 3, firstAddress: '127.77.87.1', scenarios: ['fail2ban'] });
    [a, b, c] = lab.hosts as unknown as [LabHostRef, LabHostRef, LabHostRef];
    inventory = join(lab.dir, 'fail2ban-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
  });
  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  it('plans the exemption without changing anything, applies it, unbans, and then has nothing to do', async () => {
    await ban(lab, a, '127.0.0.9');
    const jailConf = readHostFile(lab, a.name, '/etc/fail2ban/jail.conf');
    const before = fail2banFiles(a);

    const plan = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    const [planned] = hostsOf(plan);
    assert.equal(planned?.status, 'changed', plan.stdout + plan.stderr);
    assert.equal(planned?.changes[0]?.path, '/etc/fail2ban/jail.d/sshd.local');
    const text = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9']);
    assert.match(text.stdout, /\+ignoreip = 127\.0\.0\.9/, text.stdout);
    assert.deepEqual(fail2banFiles(a), before, 'plan wrote nothing');
    assert.match(status(lab, a, 'sshd'), /Banned IP list:\s*127\.0\.0\.9/, 'the ban stays after plan');

    const apply = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    const [applied] = hostsOf(apply);
    assert.equal(applied?.status, 'changed', apply.stdout + apply.stderr);
    assert.equal(applied?.apply?.outcome, 'applied');
    assert.ok(applied?.apply?.verification.some((v) => v.keyword === 'sshd ignoreip' && v.ok && v.actual.includes('127.0.0.9')));
    assert.ok(applied?.apply?.verification.some((v) => v.keyword === 'sshd banned' && v.ok));

    assert.match(readHostFile(lab, a.name, '/etc/fail2ban/jail.d/sshd.local') ?? '', /^\[sshd\][^[]*^ignoreip = 127\.0\.0\.9$/m);
    assert.equal(readHostFile(lab, a.name, '/etc/fail2ban/jail.conf'), jailConf, 'jail.conf is never edited');
    const sshd = status(lab, a, 'sshd');
    assert.match(sshd, /Banned IP list:\s*$/m, 'the ban is lifted');
    assert.match(status(lab, a), /Jail list:\s*sshd/, 'the sshd jail still runs');
    assert.match(sshRoot(lab, a, 'fail2ban-client get sshd ignoreip').stdout, /127\.0\.0\.9/);
    const login = sshFrom(lab, '127.0.0.9', `root@${a.address}`);
    assert.equal(login.status, 0, login.stderr);

    const again = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--format', 'json']);
    const [second] = hostsOf(again);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.equal(second?.status, 'ok');
    assert.match(second?.notes.map((n) => n.message).join('\n') ?? '', /already ignores 127\.0\.0\.9 at \/etc\/fail2ban\/jail\.d\/sshd\.local:\d+/);
  });

  it('lifts a ban of an address already ignored with an action alone: no file written, the client gets in', () => {
    // A ban that predates the exemption (fail2ban bans an ignored address when told to, as when
    // ignoreip was added by hand without unbanning): only the unban is left to do.
    assert.equal(sshRoot(lab, a, 'fail2ban-client set sshd banip 127.0.0.9').status, 0);
    assert.match(status(lab, a, 'sshd'), /Banned IP list:\s*127\.0\.0\.9/);
    assert.notEqual(sshFrom(lab, '127.0.0.9', `root@${a.address}`).status, 0, 'the banned client cannot log in');
    const before = fail2banFiles(a);

    const plan = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--format', 'json', '--detailed-exitcode']);
    const [planned] = hostsOf(plan);
    assert.equal(plan.status, 2, 'a plan with an action to run has changes (--detailed-exitcode)');
    assert.equal(planned?.status, 'changed', plan.stdout + plan.stderr);
    assert.deepEqual(planned?.changes, []);
    assert.deepEqual(planned?.actions.map((x) => x.description), ['lift the ban of 127.0.0.9 in jail sshd (fail2ban-client set sshd unbanip 127.0.0.9)']);
    const text = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9']);
    assert.match(text.stdout, /1 action\(s\) to make/, text.stdout);
    assert.match(text.stdout, /fail2ban: lift the ban of 127\.0\.0\.9 in jail sshd/, text.stdout);
    assert.match(status(lab, a, 'sshd'), /Banned IP list:\s*127\.0\.0\.9/, 'plan lifted nothing');

    const apply = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    const [applied] = hostsOf(apply);
    assert.equal(apply.status, 0, apply.stdout + apply.stderr);
    assert.equal(applied?.status, 'changed');
    assert.equal(applied?.apply?.outcome, 'applied');
    assert.equal(applied?.apply?.backup_dir, undefined, 'nothing was written, so nothing was backed up');
    assert.ok(applied?.apply?.steps.some((x) => x.step === 'unban' && x.ok), JSON.stringify(applied?.apply?.steps));
    assert.ok(applied?.apply?.verification.some((v) => v.keyword === 'sshd banned' && v.ok));
    assert.deepEqual(fail2banFiles(a), before, 'no fail2ban file changed');
    assert.match(status(lab, a, 'sshd'), /Banned IP list:\s*$/m, 'the ban is lifted');
    const login = sshFrom(lab, '127.0.0.9', `root@${a.address}`);
    assert.equal(login.status, 0, login.stderr);

    const [second] = hostsOf(runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--format', 'json']));
    assert.equal(second?.status, 'ok');
    assert.deepEqual(second?.actions, []);

    // The same through a saved plan: the action is carried in the plan file and run by apply --plan.
    assert.equal(sshRoot(lab, a, 'fail2ban-client set sshd banip 127.0.0.9').status, 0);
    const saved = join(lab.dir, 'unban-plan.json');
    const made = runCli(['plan', PLAYBOOK, '-i', inventory, '-l', a.name, '--var', 'address=127.0.0.9', '--out', saved]);
    assert.equal(made.status, 0, made.stdout + made.stderr);
    const fromPlan = runCli(['apply', '--plan', saved, '-i', inventory, '--yes']);
    assert.equal(fromPlan.status, 0, fromPlan.stdout + fromPlan.stderr);
    assert.match(fromPlan.stdout, /actions only: no file written, nothing to roll back/, fromPlan.stdout);
    assert.doesNotMatch(fromPlan.stdout, /Roll back with/, 'there is nothing to roll back');
    assert.match(status(lab, a, 'sshd'), /Banned IP list:\s*$/m, 'the saved plan lifted the ban');
    assert.deepEqual(fail2banFiles(a), before, 'no fail2ban file changed');
  });

  it('extends a jail-level ignoreip in jail.d/sshd.local where it stands, not in [DEFAULT]', () => {
    const edit = sshRoot(
      lab,
      b,
      "sed -i 's/^maxretry = 3$/maxretry = 3\\nignoreip = 127.0.0.1 ::1/' /etc/fail2ban/jail.d/sshd.local && printf '[DEFAULT]\\nignoreip = 192.0.2.1\\n' > /etc/fail2ban/jail.local && fail2ban-client reload",
    );
    assert.equal(edit.status, 0, edit.stderr);
    const jailLocal = readHostFile(lab, b.name, '/etc/fail2ban/jail.local');
    const apply = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', b.name, '--var', 'address=127.0.0.10', '--yes', '--format', 'json']);
    const [applied] = hostsOf(apply);
    assert.equal(applied?.apply?.outcome, 'applied', apply.stdout + apply.stderr);
    assert.match(readHostFile(lab, b.name, '/etc/fail2ban/jail.d/sshd.local') ?? '', /^ignoreip = 127\.0\.0\.1 ::1 127\.0\.0\.10$/m);
    assert.equal(readHostFile(lab, b.name, '/etc/fail2ban/jail.local'), jailLocal, '[DEFAULT] is hidden by the jail\'s own ignoreip: left alone');
    const ignored = sshRoot(lab, b, 'fail2ban-client get sshd ignoreip').stdout;
    assert.match(ignored, /127\.0\.0\.10/);
    assert.match(ignored, /^\W+127\.0\.0\.1$/m);
  });

  it('refuses a host whose live config has a value the server would refuse, changing nothing', () => {
    // Written after the server started and never loaded: fail2ban-client -t passes it.
    const poison = sshRoot(lab, c, "printf '[sshd]\\nbantime = forever-ish\\n' > /etc/fail2ban/jail.d/zz-late.local && fail2ban-client -t");
    assert.equal(poison.status, 0, `fail2ban-client -t accepts the poisoned file: ${poison.stderr}`);
    const before = fail2banFiles(c);
    const apply = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', c.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    const [refused] = hostsOf(apply);
    assert.equal(refused?.status, 'failed', apply.stdout + apply.stderr);
    assert.equal(refused?.error?.code, 'fail2ban-config-invalid');
    assert.match(refused?.error?.message ?? '', /\/etc\/fail2ban\/jail\.d\/zz-late\.local:2: jail sshd: bantime = forever-ish/);
    assert.deepEqual(fail2banFiles(c), before, 'nothing written');
    assert.match(status(lab, c), /Jail list:\s*sshd/, 'the sshd jail still runs');
  });

  it('restores and reloads again when a jail no longer runs after the reload (fail2ban-jails-lost)', () => {
    // Fault injection: a fail2ban-client earlier in PATH whose first reload also stops the sshd jail.
    const wrapper = [
      '#!/bin/sh',
      'if [ "$1" = reload ] && [ ! -e /run/sshfix-test-reloaded ]; then',
      '  : > /run/sshfix-test-reloaded; /usr/bin/fail2ban-client reload && /usr/bin/fail2ban-client stop sshd; exit $?',
      'fi',
      'exec /usr/bin/fail2ban-client "$@"',
    ].join('\n');
    const setup = sshRoot(lab, c, `rm -f /etc/fail2ban/jail.d/zz-late.local && printf '%s\\n' '${wrapper.replace(/'/g, "'\\''")}' > /usr/local/bin/fail2ban-client && chmod 755 /usr/local/bin/fail2ban-client`);
    assert.equal(setup.status, 0, setup.stderr);
    const before = fail2banFiles(c);
    const apply = runCli(['apply', PLAYBOOK, '-i', inventory, '-l', c.name, '--var', 'address=127.0.0.9', '--yes', '--format', 'json']);
    const [lost] = hostsOf(apply);
    sshRoot(lab, c, 'rm -f /usr/local/bin/fail2ban-client');
    assert.equal(lost?.error?.code, 'fail2ban-jails-lost', apply.stdout + apply.stderr);
    assert.match(lost?.error?.message ?? '', /jails no longer running after the reload: sshd/);
    assert.equal(lost?.apply?.outcome, 'rolled-back');
    assert.deepEqual(fail2banFiles(c), before, 'the previous files are back');
    assert.match(status(lab, c), /Jail list:\s*sshd/, 'reloaded again: the sshd jail runs');
    assert.doesNotMatch(sshRoot(lab, c, 'fail2ban-client get sshd ignoreip').stdout, /127\.0\.0\.9/);
  });
});
