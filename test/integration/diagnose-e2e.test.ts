/**
 * `sshfix diagnose` end to end on the lab, one real cause per host: a fail2ban ban, TCP wrappers
 * refusing a client, an account outside AllowUsers (then fixed with the command diagnose prints),
 * MaxStartups shedding a burst, a client that offers only diffie-hellman-group1-sha1, a short
 * ChannelTimeout (idle symptom), a healthy host, and a host that refuses the runner itself before
 * the banner. Clients are other loopback addresses (127.0.0.9 ...). Lab address block 127.77.82.x.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { hostRoot, readHostFile, sshRoot } from '../helpers/lab-host.js';

interface Cause {
  code: string;
  summary: string;
  chain: string[];
  evidence: { source: string; line?: number; text: string }[];
  fix: { playbook?: string; command?: string; note?: string };
}
interface DiagnosedHost {
  name: string;
  client: string;
  probe: { stage: string; message: string };
  causes: Cause[];
  ruled_out: string[];
  reach?: string[];
}
interface DiagnoseReport {
  format_version: number;
  command: string;
  hosts: DiagnosedHost[];
}

describe('sshfix diagnose against the lab', { timeout: 480_000 }, () => {
  let lab: TestLab;
  const scenarios = ['fail2ban', 'allowusers', 'debian-cloud', 'tight-maxstartups', 'debian-cloud', 'debian-cloud', 'debian-cloud'];
  const host = (index: number): { name: string; address: string } => lab.hosts[index] as { name: string; address: string };

  before(() => {
    lab = startTestLab({ hosts: scenarios.length, firstAddress: '127.77.82.1', scenarios });
  });
  after(() => lab?.down());

  const diagnose = (args: string[]): { status: number | null; report: DiagnoseReport; stderr: string } => {
    const run = runCli(['diagnose', ...args, '-i', lab.inventory, '--format', 'json']);
    let report: DiagnoseReport;
    try {
      report = JSON.parse(run.stdout) as DiagnoseReport;
    } catch {
      throw new Error(`diagnose printed no JSON (exit ${run.status}): ${run.stderr}${run.stdout}`);
    }
    return { status: run.status, report, stderr: run.stderr };
  };
  const codes = (h: DiagnosedHost | undefined): string[] => (h?.causes ?? []).map((c) => c.code).sort();

  /** OpenSSH's client from a source address: the connection attempts a real client would make. */
  const sshFrom = (source: string, target: string, extra: string[] = []): ReturnType<typeof spawnSync> =>
    spawnSync('ssh', ['-b', source, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', ...extra, target, 'true'], { encoding: 'utf8', timeout: 30_000 });

  const reloadSshd = (index: number): void => {
    const state = JSON.parse(readFileSync(`${lab.dir}/lab.json`, 'utf8')) as { hosts: { name: string; sshd: { pid: number } }[] };
    const pid = state.hosts.find((h) => h.name === host(index).name)?.sshd.pid as number;
    process.kill(pid, 'SIGHUP');
  };

  async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }

  it('a healthy host: no cause, what was ruled out, exit 0', () => {
    const { status, report } = diagnose([host(2).name]);
    assert.equal(status, 0, JSON.stringify(report.hosts[0]));
    assert.equal(report.command, 'diagnose');
    assert.deepEqual(report.hosts[0]?.causes, []);
    assert.equal(report.hosts[0]?.probe.stage, 'ok');
    assert.ok((report.hosts[0]?.ruled_out ?? []).length >= 3);
  });

  it('fail2ban-ban: a client banned after failed logins, with the Ban line as evidence', async () => {
    const target = host(0);
    for (let i = 0; i < 4; i++) sshFrom('127.0.0.9', `nosuchuser@${target.address}`, ['-o', 'PreferredAuthentications=password']);
    await until('the ban', () => /127\.0\.0\.9/.test(readHostFile(lab, target.name, '/etc/hosts.deny') ?? ''), 60_000);
    const { status, report, stderr } = diagnose([target.name, '--client', '127.0.0.9']);
    assert.equal(status, 2, stderr);
    const h = report.hosts[0];
    assert.deepEqual(codes(h), ['fail2ban-ban'], JSON.stringify(h));
    const ban = h?.causes[0] as Cause;
    assert.ok(ban.evidence.some((e) => /Banned IP list:.*127\.0\.0\.9/.test(e.text)), 'the jail\'s banned list');
    assert.ok(ban.evidence.some((e) => /\[sshd\] Ban 127\.0\.0\.9/.test(e.text)), 'the Ban line of fail2ban\'s log');
    // The printed command, run as is, lets the client in again.
    const command = ban.fix.command as string;
    assert.match(command, /playbooks\/fail2ban-ignore-runner\.yaml -l \S+ --var address=127\.0\.0\.9$/);
    const fixed = runCli([...command.replace(/^sshfix /, '').split(' '), '--yes']);
    assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
    const login = sshFrom('127.0.0.9', `root@${target.address}`, ['-i', lab.identityFile]);
    assert.equal(login.status, 0, String(login.stderr));
    assert.equal(diagnose([target.name, '--client', '127.0.0.9']).status, 0, 'no cause left');
  });

  it('tcp-wrappers: the deciding hosts.deny line and libwrap\'s refused line', async () => {
    const target = host(4);
    appendFileSync(`${hostRoot(lab, target.name)}/etc/hosts.deny`, 'sshd: 127.0.0.10\n');
    sshFrom('127.0.0.10', `root@${target.address}`);
    await until('the refused line', () => /refused connect from 127\.0\.0\.10/.test(readHostFile(lab, target.name, '/var/log/auth.log') ?? ''));
    const { status, report } = diagnose([target.name, '--client', '127.0.0.10']);
    assert.equal(status, 2);
    const h = report.hosts[0];
    assert.deepEqual(codes(h), ['tcp-wrappers'], JSON.stringify(h));
    const cause = h?.causes[0] as Cause;
    assert.ok(cause.evidence.some((e) => e.source === '/etc/hosts.deny' && e.text === 'sshd: 127.0.0.10'));
    assert.ok(cause.evidence.some((e) => /refused connect from 127\.0\.0\.10/.test(e.text)));
  });

  it('allow-users: backup is refused; the printed fix command, run, fixes it', () => {
    const target = host(1);
    const first = diagnose([target.name, '--user', 'backup']);
    assert.equal(first.status, 2);
    const cause = first.report.hosts[0]?.causes.find((c) => c.code === 'allow-users');
    assert.ok(cause, JSON.stringify(first.report.hosts[0]));
    const command = cause.fix.command as string;
    assert.match(command, /playbooks\/allow-users\.yaml -l \S+ --var account=backup$/);
    // The same diagnosis for a person: the stage, the cause with its evidence, the fix command.
    const human = runCli(['diagnose', target.name, '--user', 'backup', '-i', lab.inventory]);
    assert.equal(human.status, 2);
    assert.match(human.stdout, /probe: logged in and ran a command/);
    assert.match(human.stdout, /^ {2}cause allow-users: sshd refuses backup from 127\.0\.0\.1 after authentication/m);
    assert.match(human.stdout, /^ {4}evidence: /m);
    assert.ok(human.stdout.includes(`    fix: ${command}`), human.stdout);
    const args = command.replace(/^sshfix /, '').split(' ');
    const fixed = runCli([...args, '--yes']);
    assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
    const again = diagnose([target.name, '--user', 'backup']);
    assert.equal(again.status, 0, JSON.stringify(again.report.hosts[0]?.causes));
  });

  it('maxstartups: a burst of held pre-auth connections gets real drop lines', async () => {
    const target = host(3);
    writeFileSync(`${hostRoot(lab, target.name)}/etc/ssh/sshd_config.d/00-burst.conf`, 'MaxStartups 2:100:2\n');
    reloadSshd(3);
    const dropped = (): boolean => /drop connection #\d+ from \[127\.0\.0\.11\]/.test(readHostFile(lab, target.name, '/var/log/auth.log') ?? '');
    // A burst until sshd drops some: on a loaded machine the reload (sshd re-executing itself) may
    // still be under way, and a burst the old sshd takes, under its default limit, drops nothing.
    for (let burst = 0; burst < 8 && !dropped(); burst++) {
      await sleep(500);
      const held: Socket[] = [];
      try {
        for (let i = 0; i < 6; i++) {
          held.push(connect({ host: target.address, port: 22, localAddress: '127.0.0.11' }).on('error', () => undefined));
          await sleep(100);
        }
        await until('drop lines', dropped, 3_000).catch(() => undefined);
      } finally {
        for (const s of held) s.destroy();
      }
    }
    assert.ok(dropped(), 'sshd dropped connections past MaxStartups 2:100:2');
    const { status, report } = diagnose([target.name]);
    assert.equal(status, 2);
    const cause = report.hosts[0]?.causes.find((c) => c.code === 'maxstartups');
    assert.ok(cause, JSON.stringify(report.hosts[0]));
    assert.ok(cause.evidence.some((e) => /past MaxStartups/.test(e.text) && e.line !== undefined));
    assert.match(cause.fix.command ?? '', /playbooks\/max-startups\.yaml/);
  });

  it('kex-mismatch: the client\'s offer from the log, and a scoped fix, never Host *', () => {
    const target = host(2);
    sshFrom('127.0.0.12', `root@${target.address}`, ['-o', 'KexAlgorithms=diffie-hellman-group1-sha1']);
    const { status, report } = diagnose([target.name, '--client', '127.0.0.12']);
    assert.equal(status, 2);
    const cause = report.hosts[0]?.causes.find((c) => c.code === 'kex-mismatch');
    assert.ok(cause, JSON.stringify(report.hosts[0]));
    assert.match(cause.summary, /diffie-hellman-group1-sha1/);
    assert.ok(cause.evidence.some((e) => /Unable to negotiate with 127\.0\.0\.12 .*Their offer: diffie-hellman-group1-sha1/.test(e.text)));
    assert.doesNotMatch(`${cause.fix.command ?? ''} ${cause.fix.note ?? ''}`, /Host \*[^)]/);
  });

  it('channel-timeout for the idle symptom, with a quiet session held and closed', () => {
    const target = host(5);
    writeFileSync(`${hostRoot(lab, target.name)}/etc/ssh/sshd_config.d/00-idle.conf`, 'ChannelTimeout session=5s\n');
    reloadSshd(5);
    const { status, report } = diagnose([target.name, '--symptom', 'idle', '--idle-probe', '15s']);
    assert.equal(status, 2);
    assert.deepEqual(codes(report.hosts[0]), ['channel-timeout'], JSON.stringify(report.hosts[0]));
    assert.ok(report.hosts[0]?.causes[0]?.evidence.some((e) => /channeltimeout session=5s/.test(e.text)));
  });

  it('a host that refuses the runner before the banner: the stage, what it rules in and out, how to get in; exit 1', () => {
    const target = host(6);
    appendFileSync(`${hostRoot(lab, target.name)}/etc/hosts.deny`, 'sshd: 127.0.0.1\n');
    const { status, report } = diagnose([target.name]);
    assert.equal(status, 1);
    const h = report.hosts[0] as DiagnosedHost;
    assert.equal(h.probe.stage, 'banner');
    const human = runCli(['diagnose', target.name, '-i', lab.inventory]);
    assert.equal(human.status, 1);
    assert.match(human.stdout, /probe: accepted, then closed before the SSH banner/);
    assert.match(human.stdout, /to get in: .*bind_address/);
    assert.ok(h.ruled_out.some((r) => /libwrap/.test(r)), JSON.stringify(h));
    assert.ok((h.reach ?? []).some((r) => /bind_address/.test(r)));
    assert.ok((h.reach ?? []).some((r) => /jump/.test(r)));
    // The host itself is fine for everyone else.
    assert.equal(sshRoot(lab, host(2), 'true').status, 0);
  });
});
