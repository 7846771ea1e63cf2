/**
 * The sshguard task from recorded facts (Debian's, with sshguard's files, processes and backend
 * output added as the fact script records them): the whitelist and blacklist edits, the hosts
 * backend's block, the restart warning, refusals, and the no-op of a second run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts, type HostFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { loadPlaybook } from '../../../src/model/playbook.js';
import { addToWhitelist, blacklistedAddresses, readSshguardConf, removeFromBlacklist, validateWhitelistEntry, whitelistHas } from '../../../src/config/sshguard/lists.js';
import { sshguardService } from '../../../src/services/sshguard/service.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const file = (path: string, content: string): string => `F ${b64(path)} 644 0 0 ${b64(content)}`;

const CONF = `# local
BACKEND="/usr/libexec/sshguard/sshg-fw-hosts"
FILES="/var/log/auth.log"
BLACKLIST_FILE=120:/var/lib/sshguard/enemies
WHITELIST_FILE=/etc/sshguard/whitelist
`;
const WHITELIST = '# Address blocks in CIDR notation\n127.0.0.0/8\n::1/128\n';
const BLACKLIST = '1764500000|100|4|192.0.2.7\n1764500100|100|4|192.0.2.8\n';
const ALLOW = '###sshguard###\nALL : 192.0.2.7 192.0.2.9 : DENY\n###sshguard###\n# local\nsshd: 10.0.0.0/8\n';

function factsWith(options: { conf?: string; procs?: string; nft?: string } = {}): HostFacts {
  const records = [
    readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8').trimEnd(),
    `R sg_bin 0 ${b64('/usr/sbin/sshguard\n')} `,
    file('/etc/sshguard/sshguard.conf', options.conf ?? CONF),
    file('/etc/sshguard/whitelist', WHITELIST),
    file('/var/lib/sshguard/enemies', BLACKLIST),
    file('/etc/hosts.allow', ALLOW),
    `R sg_procs 0 ${b64(options.procs ?? '4242 1 4242 /bin/sh /usr/sbin/sshguard \n4250 4242 4242 /bin/sh /usr/sbin/sshguard \n')} `,
    `R sg_nft 0 ${b64(options.nft ?? '')} `,
  ];
  return interpretFacts(parseFactOutput(records.join('\n') + '\n'), { name: 'web-01', address: '192.0.2.10', services: ['sshguard'] });
}

const host = { name: 'web-01', address: '192.0.2.10', vars: {}, groups: [] };

function plan(facts: HostFacts, address: string) {
  const loaded = loadPlaybook(readFileSync(`${REPO_ROOT}/playbooks/sshguard-unblock.yaml`, 'utf8'), 'sshguard-unblock.yaml');
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return planHost({ host, plays: loaded.playbook.plays, cliVars: { address }, facts }).plan;
}

describe('sshguard task', () => {
  it('reads the facts: backend, files, blocks and how to restart it', () => {
    const facts = factsWith().services.sshguard!;
    assert.equal(facts.backend, 'hosts');
    assert.equal(facts.whitelistFile, '/etc/sshguard/whitelist');
    assert.equal(facts.blacklistFile, '/var/lib/sshguard/enemies');
    assert.deepEqual(facts.blocked, ['192.0.2.7', '192.0.2.9']);
    assert.deepEqual(facts.restart, { kind: 'process', pid: 4242, pgid: 4242, commandLine: '/usr/sbin/sshguard' }, 'started again as the script, not through sh');
    const nft = factsWith({ conf: CONF.replace('sshg-fw-hosts', 'sshg-fw-nft-sets'), nft: 'table ip sshguard {\n\tset attackers {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.0.2.7, 198.51.100.0/24 }\n\t}\n}\n' }).services.sshguard!;
    assert.deepEqual(nft.blocked, ['192.0.2.7/32', '198.51.100.0/24'], 'firewall blocks keep their prefix: a /24 block is not the address 198.51.100.0');
  });

  it('whitelists, lifts the block and the blacklist line, keeping everything else, and warns of the restart', () => {
    const p = plan(factsWith(), '192.0.2.7');
    assert.equal(p.status, 'changed', JSON.stringify(p.error));
    const after = Object.fromEntries(p.changes.map((c) => [c.path, c.after]));
    assert.equal(after['/etc/sshguard/whitelist'], `${WHITELIST}192.0.2.7\n`);
    assert.equal(after['/var/lib/sshguard/enemies'], '1764500100|100|4|192.0.2.8\n');
    assert.equal(after['/etc/hosts.allow'], ALLOW.replace('ALL : 192.0.2.7 192.0.2.9 : DENY', 'ALL : 192.0.2.9 : DENY'));
    assert.ok(p.files.every((f) => f.service === 'sshguard'));
    assert.deepEqual(p.services.sshguard, { restart: true, whitelistFile: '/etc/sshguard/whitelist', blacklistFile: '/var/lib/sshguard/enemies' });
    assert.match(p.warnings.join('\n'), /sshguard has no reload: applying restarts it, which drops every block its hosts backend holds \(2 address\(es\) now\)/);
  });

  it('warns that -w on the command line makes sshguard ignore the whitelist file', () => {
    const p = plan(factsWith({ procs: '4242 1 4242 /bin/sh /usr/sbin/sshguard -w 10.0.0.1\n' }), '192.0.2.7');
    assert.match(p.warnings.join('\n'), /runs with -w 10\.0\.0\.1 on its command line, so it ignores \/etc\/sshguard\/whitelist/);
  });

  it('lifts a firewall block with no file to change as an action removing exactly the covering element, no restart', () => {
    const nft = 'table ip sshguard {\n\tset attackers {\n\t\telements = { 198.51.100.0/24, 203.0.113.7 }\n\t}\n}\n';
    const facts = factsWith({ conf: CONF.replace('sshg-fw-hosts', 'sshg-fw-nft-sets').replace(/^BLACKLIST_FILE.*\n/m, ''), nft });
    const loaded = loadPlaybook('hosts: all\ntasks:\n  - sshguard: { unblock: [198.51.100.4] }\n', 't.yaml');
    const p = planHost({ host, plays: loaded.playbook.plays, cliVars: {}, facts }).plan;
    assert.equal(p.status, 'changed', JSON.stringify(p.error));
    assert.deepEqual(p.changes, []);
    assert.deepEqual(p.actions.map((a) => a.description), ['lift the block 198.51.100.0/24 from the nft set ip sshguard attackers']);
    assert.deepEqual(p.services.sshguard, { restart: false, whitelistFile: '/etc/sshguard/whitelist', firewall: 'nft-sets', release: ['198.51.100.0/24'] });
    assert.doesNotMatch(p.warnings.join('\n'), /restarts it/, 'no restart: the other blocks stay');
    const scripts = sshguardService.scripts(facts.services.sshguard!, p.services.sshguard!);
    assert.deepEqual(scripts.afterReload?.map((l) => l.split(' >/dev/null')[0]), ["if nft delete element ip sshguard attackers '{ 198.51.100.0/24 }'"]);
    assert.equal(scripts.reload, ':', 'nothing restarts sshguard');

    // With a file to change, the restart drops every block: no action, and the plan warns.
    const both = planHost({ host, plays: loadPlaybook('hosts: all\ntasks:\n  - sshguard: { whitelist: [203.0.113.7], unblock: [203.0.113.7] }\n', 't.yaml').playbook.plays, cliVars: {}, facts }).plan;
    assert.deepEqual(both.actions, []);
    assert.equal(both.services.sshguard?.restart, true);
    assert.match(both.warnings.join('\n'), /drops every block its nft-sets backend holds \(2 address\(es\) now\)/);
    assert.equal(sshguardService.isSavedPlan({ restart: false, firewall: 'nft-sets', release: ['1.2.3.4/32; reboot'] }), false);
  });

  it('changes nothing for an address already whitelisted and not blocked, or when none is given', () => {
    const p = plan(factsWith(), '127.0.0.0/8');
    assert.equal(p.status, 'failed', 'unblock takes an address, not a block');
    const q = plan(factsWith(), '');
    assert.equal(q.status, 'ok');
    assert.match(q.notes.map((n) => n.message).join('\n'), /no address given/);
    const r = plan(factsWith(), '127.0.0.1');
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.changes, []);
    assert.match(r.notes.map((n) => n.message).join('\n'), /127\.0\.0\.1 is already in \/etc\/sshguard\/whitelist; sshguard does not block 127\.0\.0\.1/);
  });

  it('edits its lists minimally and reads sshguard.conf as sh would', () => {
    assert.deepEqual([...readSshguardConf('A="x y" # c\nB=\'z\'\nC=plain # c\n  # D=no\n')], [['A', 'x y'], ['B', 'z'], ['C', 'plain']]);
    assert.equal(addToWhitelist('# only a comment', '192.0.2.7'), '# only a comment\n192.0.2.7\n');
    assert.equal(whitelistHas('10.0.0.0/8 # office\n', '10.0.0.0/8'), true);
    assert.equal(whitelistHas('10.0.0.0/8\n', '10.1.2.3'), true, 'a block holding the address');
    assert.equal(whitelistHas('10.0.0.0/8\n', '11.0.0.1'), false);
    assert.equal(whitelistHas('10.0.0.0/8\n', '10.0.0.0/7'), false, 'a wider block is not covered');
    assert.equal(whitelistHas('::1/128\n', '::1'), true);
    assert.deepEqual(validateWhitelistEntry('2001:DB8::7'), { ok: true, text: '2001:db8::7' });
    assert.equal(validateWhitelistEntry('192.0.2.7\nALL').ok, false);
    assert.deepEqual(removeFromBlacklist('1|100|4|192.0.2.7\r\n2|100|4|192.0.2.70\n', '192.0.2.7'), { text: '2|100|4|192.0.2.70\n', removed: 1 });
    assert.deepEqual(blacklistedAddresses('1|100|4|192.0.2.7\r\n# note\n2|100|4| 2001:db8::1 \nnot|a|line\n'), ['192.0.2.7', '2001:db8::1']);
    assert.equal(sshguardService.isSavedExpectation({ task: 't', kind: 'unblocked', value: '192.0.2.7; rm -rf /' }), false);
  });
});
