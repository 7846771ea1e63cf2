/**
 * sshguard with each of its firewall backends (nftables set, ipset, iptables chain), end to end on
 * the lab as a user runs sshfix. Each host (scenarios sshguard-nft, sshguard-ipset,
 * sshguard-iptables) has a network namespace of its own, so sshguard's blocks are real (the host's
 * firewall drops a blocked client, which gets no banner) and the machine's firewall is never
 * touched; a relay brings each client in from its own address. Two ways a block is lifted:
 * - a block only in the nft set (nothing in any file) is lifted alone, as an action: exactly its
 *   element leaves the set, sshguard is not restarted and keeps its other blocks;
 * - a blacklisted address (the shipped playbook: whitelist and unblock) changes sshguard's files,
 *   so sshguard is restarted, and blocks again only what its blacklist still lists.
 * The second is driven as an operator would: `sshfix diagnose` names the cause and the fix
 * command, which is run as given. A second plan is a no-op for both. Lab address block 127.77.101.x; clients 127.0.0.9-11.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, scratchDir, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { processesInHost, readHostFile, sshguardInstances, sshRoot } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  changes: { path: string }[];
  actions?: { task: string; service: string; description: string }[];
  warnings: string[];
  notes: { task: string; message: string }[];
  apply?: { outcome: string; reload?: string; steps: { step: string; ok: boolean; message: string }[]; verification: { keyword: string; actual: string[]; ok: boolean }[] };
}

const report = (stdout: string): JsonHost => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts[0]!;

const ONLY_UNBLOCK = `name: Lift sshguard's block of an address
hosts: all
vars:
  address: ""
tasks:
  - name: Lift the block of {{ address }}
    sshguard:
      unblock: ["{{ address }}"]
`;

/** How each backend shows its blocks and how sshguard adds one, as root on the host (inside its namespace). */
interface Backend {
  scenario: string;
  /** The backend's name in sshfix's messages. */
  name: string;
  set: string;
  list: string;
  add: (address: string) => string;
  /** The blocked addresses a listing shows, in order. */
  blocked: (listing: string) => string[];
  /** Its processes' name (comm, 15 characters at most). */
  comm: string;
}

const BACKENDS: Backend[] = [
  {
    scenario: 'sshguard-nft',
    name: 'nft-sets',
    set: 'nft set ip sshguard attackers',
    list: 'nft list set ip sshguard attackers',
    add: (a) => `nft add element ip sshguard attackers '{ ${a}/32 }'`,
    blocked: (l) => (/elements = \{([^}]*)\}/.exec(l)?.[1] ?? '').split(',').map((e) => e.trim()).filter(Boolean).sort(),
    comm: 'sshg-fw-nft-set',
  },
  {
    scenario: 'sshguard-ipset',
    name: 'ipset',
    set: 'ipset sshguard4',
    list: 'ipset list sshguard4',
    add: (a) => `ipset -quiet add -exist sshguard4 ${a}/32`,
    blocked: (l) => (l.split(/^Members:\s*$/m)[1] ?? '').split('\n').map((e) => e.trim()).filter(Boolean).sort(),
    comm: 'sshg-fw-ipset',
  },
  {
    scenario: 'sshguard-iptables',
    name: 'iptables',
    set: 'iptables chain sshguard',
    list: 'iptables -w -S sshguard',
    add: (a) => `iptables -w -I sshguard -s ${a}/32 -j DROP`,
    blocked: (l) => [...l.matchAll(/^-A sshguard -s (\S+?)(?:\/32)? -j DROP$/gm)].map((m) => m[1]!).sort(),
    comm: 'sshg-fw-iptable',
  },
];

describe('sshguard with its firewall backends on the lab', { timeout: 600_000 }, () => {
  let lab: TestLab;
  let unblockOnly: string;

  before(() => {
    lab = startTestLab({ hosts: BACKENDS.length, firstAddress: '127.77.101.1', scenarios: BACKENDS.map((b) => b.scenario) });
    unblockOnly = join(scratchDir('sshguard-firewall'), 'unblock.yaml');
    writeFileSync(unblockOnly, ONLY_UNBLOCK);
  });

  after(() => {
    if (lab && existsSync(lab.dir)) lab.down();
  });

  for (const backend of BACKENDS) {
    describe(backend.name, () => {
      const host = (): { name: string; address: string } => {
        const found = lab.hosts.find((h) => h.scenario === backend.scenario);
        assert.ok(found, `the lab runs ${backend.scenario}`);
        return found;
      };
      /** A login from `source`; a blocked one times out waiting for the banner. */
      const loginFrom = (source: string): { status: number | null; stderr: string } => sshRoot(lab, host(), 'true', ['-b', source]);
      /** A login expected to be dropped: a short wait for the banner is enough to tell. */
      const refusedFrom = (source: string): { status: number | null; stderr: string } => sshRoot(lab, host(), 'true', ['-b', source, '-o', 'ConnectTimeout=3']);
      const blocked = (): string[] => {
        const r = sshRoot(lab, host(), backend.list);
        assert.equal(r.status, 0, r.stderr);
        return backend.blocked(r.stdout);
      };
      const diagnose = (client: string): { causes: { code: string; fix?: { command?: string } }[] } => {
        const run = runCli(['diagnose', host().name, '--client', client, '-i', lab.inventory, '--format', 'json']);
        return (JSON.parse(run.stdout) as { hosts: { causes: { code: string; fix?: { command?: string } }[] }[] }).hosts[0]!;
      };
      const cli = (command: 'plan' | 'apply', playbook: string, address: string): { status: number | null; host: JsonHost; output: string } => {
        const result = runCli([command, playbook, '-i', lab.inventory, '-l', host().name, '--var', `address=${address}`, '--format', 'json', ...(command === 'apply' ? ['--yes'] : [])]);
        return { status: result.status, host: report(result.stdout), output: result.stderr + result.stdout };
      };

      it('blocks for real inside the host only: a blocked client gets no banner, the machine keeps its own firewall', () => {
        assert.deepEqual(blocked(), ['127.0.0.10', '127.0.0.9'].sort(), 'blocked from the blacklist at start');
        const refused = refusedFrom('127.0.0.9');
        assert.notEqual(refused.status, 0);
        assert.match(refused.stderr, /timed out/);
        assert.equal(loginFrom('127.0.0.11').status, 0, 'an address not blocked gets in');
        const machine = [spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }), spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' }), spawnSync('iptables', ['-w', '-S'], { encoding: 'utf8' })];
        for (const r of machine) assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(machine.map((r) => r.stdout).join('\n'), /sshguard/, "the machine's firewall has nothing of sshguard's");
      });

      it('lifts a block held only in the firewall as an action: no file, no restart, the other blocks stay', () => {
        // As sshguard's backend blocks an attacker it detected: in the firewall, nothing in a file.
        const added = sshRoot(lab, host(), backend.add('127.0.0.11'));
        assert.equal(added.status, 0, added.stderr);
        assert.notEqual(refusedFrom('127.0.0.11').status, 0, 'blocked before the change');
        const files = (): (string | undefined)[] => ['/etc/sshguard/whitelist', '/var/lib/sshguard/enemies', '/etc/hosts.allow'].map((p) => readHostFile(lab, host().name, p));
        const filesBefore = files();
        const instances = sshguardInstances(lab, host());
        assert.equal(instances.length, 1, 'sshguard runs');

        const planned = cli('plan', unblockOnly, '127.0.0.11');
        assert.equal(planned.status, 0, planned.output);
        assert.equal(planned.host.status, 'changed');
        assert.deepEqual(planned.host.changes, []);
        assert.match(planned.output, new RegExp(`${host().name}: would change \\(1 action\\(s\\)\\)`), 'the progress line counts the action');
        assert.deepEqual(planned.host.actions?.map((a) => [a.service, a.description]), [['sshguard', `lift the block 127.0.0.11/32 from the ${backend.set}`]]);

        const applied = cli('apply', unblockOnly, '127.0.0.11');
        assert.equal(applied.status, 0, applied.output);
        assert.equal(applied.host.apply?.outcome, 'applied', applied.output);
        assert.deepEqual(applied.host.apply?.steps.filter((s) => s.step === 'unblock').map((s) => [s.ok, s.message]), [[true, `127.0.0.11/32 from the ${backend.set}`]]);
        assert.deepEqual(applied.host.apply?.verification.map((v) => [v.keyword, v.actual, v.ok]), [['unblocked 127.0.0.11', ['unblocked'], true]]);

        assert.equal(loginFrom('127.0.0.11').status, 0, 'the client gets in');
        assert.deepEqual(blocked(), ['127.0.0.10', '127.0.0.9'].sort(), 'exactly its block was lifted');
        assert.deepEqual(sshguardInstances(lab, host()), instances, 'sshguard was not restarted');
        assert.deepEqual(files(), filesBefore, 'no file written');

        const again = cli('plan', unblockOnly, '127.0.0.11');
        assert.equal(again.status, 0, again.output);
        assert.equal(again.host.status, 'ok');
        assert.deepEqual(again.host.actions ?? [], []);
        assert.match(again.host.notes.map((n) => n.message).join('\n'), /sshguard does not block 127\.0\.0\.11/);
      });

      it('unblocks and whitelists a blacklisted address with the shipped playbook: sshguard restarts and blocks only what its blacklist still lists', async () => {
        const playbook = 'playbooks/sshguard-unblock.yaml';
        const before = sshguardInstances(lab, host());
        const whitelistBefore = readHostFile(lab, host().name, '/etc/sshguard/whitelist') ?? '';
        const planned = cli('plan', playbook, '127.0.0.9');
        assert.equal(planned.host.status, 'changed', planned.output);
        assert.deepEqual(planned.host.changes.map((c) => c.path).sort(), ['/etc/sshguard/whitelist', '/var/lib/sshguard/enemies']);
        assert.deepEqual(planned.host.actions ?? [], [], 'the restart drops the block: no separate release');
        assert.match(planned.host.warnings.join('\n'), new RegExp(`applying restarts it, which drops every block its ${backend.name} backend holds \\(2 address\\(es\\) now\\)`));

        // As an operator would: diagnose names the cause and the command that fixes it, which is run as given.
        const diagnosed = diagnose('127.0.0.9');
        assert.deepEqual(diagnosed.causes.map((c) => c.code), ['sshguard-block']);
        const fix = diagnosed.causes[0]?.fix?.command ?? '';
        assert.equal(fix, `sshfix apply -i ${lab.inventory} ${playbook} -l ${host().name} --var address=127.0.0.9`);
        const run = runCli([...fix.replace(/^sshfix /, '').split(' '), '--yes', '--format', 'json']);
        const applied = { status: run.status, host: report(run.stdout), output: run.stderr + run.stdout };
        assert.equal(applied.status, 0, applied.output);
        assert.equal(applied.host.apply?.outcome, 'applied', applied.output);
        assert.deepEqual(applied.host.apply?.verification.map((v) => [v.keyword, v.ok]), [['unblocked 127.0.0.9', true], ['whitelisted 127.0.0.9', true], ['running', true]]);
        assert.equal(readHostFile(lab, host().name, '/etc/sshguard/whitelist'), `${whitelistBefore}127.0.0.9\n`, 'comments and entries kept');
        assert.equal(readHostFile(lab, host().name, '/var/lib/sshguard/enemies'), '1764500100|100|4|127.0.0.10\n', 'only its blacklist line goes');

        let now: string[] = [];
        for (let i = 0; i < 40 && (now.length === 0 || blocked().join() !== '127.0.0.10'); i++) {
          await sleep(250);
          now = sshguardInstances(lab, host());
        }
        assert.equal(now.length, 1, 'sshguard runs again');
        assert.notDeepEqual(now, before, 'a new instance');
        // The old instance's whole pipeline is gone: a backend left running would keep its blocks.
        assert.deepEqual(['sshg-blocker', backend.comm, 'sshg-parser'].map((comm) => processesInHost(lab, host(), comm).length), [1, 1, 1]);
        assert.deepEqual(blocked(), ['127.0.0.10'], 'started again, it blocks what the blacklist still lists');
        assert.equal(loginFrom('127.0.0.9').status, 0, 'the client gets in');
        assert.notEqual(refusedFrom('127.0.0.10').status, 0, 'the other block stays');

        const again = cli('plan', playbook, '127.0.0.9');
        assert.equal(again.status, 0, again.output);
        assert.equal(again.host.status, 'ok');
        assert.deepEqual(again.host.changes, []);
        assert.deepEqual(diagnose('127.0.0.9').causes, [], 'diagnose finds no cause any more');
      });
    });
  }
});
