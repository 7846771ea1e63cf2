import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyDrop, parseSshdSeconds, type DiagnoseInput, type HostEvidence } from '../../../src/diagnose/classify.js';
import { accessDecision } from '../../../src/diagnose/access.js';
import { readLogLines, splitLogText } from '../../../src/diagnose/log-lines.js';

const NOW = Date.UTC(2026, 10, 30, 13, 0, 0);
const ALL_PLAYBOOKS = new Set([
  'playbooks/fail2ban-ignore-runner.yaml',
  'playbooks/sshguard-unblock.yaml',
  'playbooks/tcp-wrappers-allow.yaml',
  'playbooks/max-startups.yaml',
  'playbooks/penalty-exempt.yaml',
  'playbooks/allow-users.yaml',
  'playbooks/client-legacy-host.yaml',
  'playbooks/client-keepalive.yaml',
  'playbooks/server-keepalive.yaml',
  'playbooks/channel-timeout.yaml',
]);

const log = (text: string) => readLogLines(splitLogText('/var/log/auth.log', text), { now: NOW });

function evidence(overrides: Partial<HostEvidence> = {}): HostEvidence {
  return {
    opensshVersion: '9.2p1',
    sshd: new Map([['maxstartups', ['10:30:100']]]),
    wrappers: { libwrap: true, decision: { granted: true } },
    log: [],
    logSources: ['/var/log/auth.log'],
    ...overrides,
  };
}

function diagnose(overrides: Partial<DiagnoseInput> = {}) {
  return classifyDrop({
    host: { name: 'web-01', address: '192.0.2.1' },
    client: '192.0.2.7',
    user: 'alice',
    symptom: 'connect',
    probe: { stage: 'ok', message: 'logged in' },
    evidence: evidence(),
    applyCommand: 'sshfix apply -i fleet.yaml',
    playbooks: ALL_PLAYBOOKS,
    ...overrides,
  });
}

const codes = (d: ReturnType<typeof classifyDrop>) => d.causes.map((c) => c.code);

describe('classifyDrop: connection setup', () => {
  it('a healthy host: no cause, and what was ruled out', () => {
    const d = diagnose();
    assert.deepEqual(codes(d), []);
    assert.ok(d.ruledOut.some((r) => /MaxStartups/.test(r)));
    assert.ok(d.ruledOut.some((r) => /TCP wrappers/.test(r)));
  });

  it('fail2ban-ban, with the AllowUsers refusals that fed it as its chain, and both fixed', () => {
    const d = diagnose({
      evidence: evidence({
        fail2ban: { running: true, jails: [{ name: 'sshd', banned: ['192.0.2.7'] }] },
        sshd: new Map([['allowusers', ['root deploy']]]),
        log: log(
          [
            'Nov 30 12:00:01 web-01 sshd[10]: User alice from 192.0.2.7 not allowed because not listed in AllowUsers',
            'Nov 30 12:00:05 web-01 sshd[11]: User alice from 192.0.2.7 not allowed because not listed in AllowUsers',
            '2026-11-30 12:00:06,000 fail2ban.actions        [9]: NOTICE  [sshd] Ban 192.0.2.7',
            'Nov 30 12:00:09 web-01 sshd[12]: refused connect from 192.0.2.7 (192.0.2.7)',
          ].join('\n'),
        ),
        wrappers: { libwrap: true, decision: { granted: false, source: '/etc/hosts.deny', line: 3, text: 'ALL: 192.0.2.7' } },
      }),
    });
    assert.deepEqual(codes(d).sort(), ['allow-users', 'fail2ban-ban']);
    const ban = d.causes.find((c) => c.code === 'fail2ban-ban');
    assert.deepEqual(ban?.chain, ['allow-users'], 'refusals after the ban are its effect, not its cause');
    assert.ok(ban?.evidence.some((e) => e.source === '/etc/hosts.deny' && e.line === 3), 'the hostsdeny line is the ban, not a wrappers rule');
    assert.equal(ban?.fix.command, 'sshfix apply -i fleet.yaml playbooks/fail2ban-ignore-runner.yaml -l web-01 --var address=192.0.2.7');
    assert.equal(d.causes.find((c) => c.code === 'allow-users')?.fix.command, 'sshfix apply -i fleet.yaml playbooks/allow-users.yaml -l web-01 --var account=alice');
  });

  it('sshguard-block from its block list and from its hosts-backend line', () => {
    assert.deepEqual(codes(diagnose({ evidence: evidence({ sshguard: { running: true, backend: 'nft-sets', blocked: ['192.0.2.0/24'], source: 'nft list set ip sshguard attackers' } }) })), ['sshguard-block']);
    const stopped = diagnose({ evidence: evidence({ sshguard: { running: false, backend: 'nft-sets', blocked: [], source: 'nft list set ip sshguard attackers' } }) });
    assert.ok(stopped.ruledOut.includes('sshguard: installed but not running'));
    const viaHosts = diagnose({ evidence: evidence({ wrappers: { libwrap: true, decision: { granted: false, source: '/etc/hosts.allow', line: 2, text: 'ALL : 192.0.2.7 : DENY', sshguardBlock: true } } }) });
    assert.deepEqual(codes(viaHosts), ['sshguard-block']);
  });

  it('tcp-wrappers with the deciding line; not where sshd does not link libwrap', () => {
    const d = diagnose({ evidence: evidence({ wrappers: { libwrap: true, decision: { granted: false, source: '/etc/hosts.deny', line: 5, text: 'sshd: ALL' } } }) });
    assert.deepEqual(codes(d), ['tcp-wrappers']);
    assert.deepEqual(d.causes[0]?.evidence[0], { source: '/etc/hosts.deny', line: 5, text: 'sshd: ALL' });
    const noLibwrap = diagnose({ evidence: evidence({ wrappers: { libwrap: false, decision: { granted: false } } }) });
    assert.deepEqual(codes(noLibwrap), []);
    assert.ok(noLibwrap.ruledOut.some((r) => /does not link libwrap/.test(r)));
  });

  it('maxstartups from drop lines (any client) or from the probe\'s pre-banner text', () => {
    const d = diagnose({ evidence: evidence({ log: log('Nov 30 12:50:44 web-01 sshd[1]: drop connection #3 from [198.51.100.4]:40312 on [192.0.2.1]:22 past MaxStartups') }) });
    assert.deepEqual(codes(d), ['maxstartups']);
    assert.match(d.causes[0]?.fix.command ?? '', /max-startups\.yaml -l web-01$/);
    const probed = diagnose({ probe: { stage: 'banner', message: 'closed', preBanner: 'Exceeded MaxStartups\r\n' }, evidence: undefined });
    assert.deepEqual(codes(probed), ['maxstartups']);
    assert.ok(probed.reach.length > 0, 'says how to reach the host another way');
  });

  it('per-source-penalty on 9.8+, told apart from maxstartups', () => {
    const ten = evidence({
      opensshVersion: '10.0p1',
      sshd: new Map([['persourcepenalties', ['crash:90 authfail:5 noauth:1 grace-exceeded:10 max:600 min:15 max-sources4:65536 max-sources6:65536 overflow:permissive overflow6:permissive']]]),
      log: log('2026-11-30T12:50:44+00:00 h sshd[1]: drop connection #0 from [192.0.2.7]:5 on [192.0.2.1]:22 penalty: failed authentication'),
    });
    const d = diagnose({ evidence: ten });
    assert.deepEqual(codes(d), ['per-source-penalty']);
    assert.match(d.causes[0]?.fix.command ?? '', /penalty-exempt\.yaml -l web-01 --var address=192\.0\.2\.7/);
    const old = diagnose({ evidence: evidence({ opensshVersion: '9.2p1' }) });
    assert.ok(old.ruledOut.some((r) => /predates/.test(r)));
    const notAllowed = diagnose({ probe: { stage: 'banner', message: 'closed', preBanner: 'Not allowed at this time\r\n' }, evidence: evidence({ opensshVersion: '9.9p1' }) });
    assert.deepEqual(codes(notAllowed), ['per-source-penalty']);
  });

  it('per-source-penalty from the 10.0p2 lab host\'s real lines: VERBOSE penalty lines name the /32 block, the drop line the address; no maxstartups', () => {
    const real = [
      'Nov 30 12:53:10 lab-02 sshd-session[14134]: Failed publickey for root from 192.0.2.7 port 45607 ssh2: ED25519 SHA256:qyHSVZfkCZt7WB7twcKF6JWEsMg/CBVGYuYyYF4fbXk',
      'Nov 30 12:53:10 lab-02 sshd-session[14134]: Connection closed by authenticating user root 192.0.2.7 port 45607 [preauth]',
      'Nov 30 12:53:10 lab-02 sshd[7862]: srclimit_penalise: ipv4: new 192.0.2.7/32 deferred penalty of 10 seconds for penalty: failed authentication',
      'Nov 30 12:53:10 lab-02 sshd[7862]: srclimit_penalise: 192.0.2.7/32: activating ipv4 penalty of 19 seconds for penalty: failed authentication',
      'Nov 30 12:53:12 lab-02 sshd[7862]: drop connection #0 from [192.0.2.7]:43523 on [192.0.2.1]:22 penalty: failed authentication',
    ].join('\n');
    const d = diagnose({ evidence: evidence({ opensshVersion: '10.0p2', log: log(real) }) });
    assert.deepEqual(codes(d), ['per-source-penalty']);
    const lines = d.causes[0]?.evidence.map((e) => e.line) ?? [];
    assert.deepEqual(lines.filter((l) => l !== undefined), [3, 4, 5]);
  });

  it('deny-users, allow-groups and deny-groups as sshd decides them', () => {
    assert.deepEqual(codes(diagnose({ evidence: evidence({ sshd: new Map([['denyusers', ['alice@192.0.2.0/24']]]) }) })), ['deny-users']);
    assert.deepEqual(codes(diagnose({ evidence: evidence({ sshd: new Map([['allowgroups', ['admins']]]), groups: ['alice', 'users'] }) })), ['allow-groups']);
    assert.deepEqual(codes(diagnose({ evidence: evidence({ sshd: new Map([['denygroups', ['users']]]), groups: ['alice', 'users'] }) })), ['deny-groups']);
    const unknown = diagnose({ evidence: evidence({ sshd: new Map([['allowgroups', ['admins']]]) }) });
    assert.deepEqual(codes(unknown), []);
    assert.ok(unknown.ruledOut.some((r) => /groups of alice on the host are unknown/.test(r)));
  });

  it('kex, cipher, mac and hostkey mismatches from the log\'s offer, fixed on the client side, never Host *', () => {
    const lines = [
      'Nov 30 12:50:44 h sshd[1]: Unable to negotiate with 192.0.2.7 port 1: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]',
      'Nov 30 12:50:45 h sshd[1]: Unable to negotiate with 192.0.2.7 port 2: no matching cipher found. Their offer: 3des-cbc [preauth]',
      'Nov 30 12:50:46 h sshd[1]: Unable to negotiate with 192.0.2.7 port 3: no matching MAC found. Their offer: hmac-md5 [preauth]',
      'Nov 30 12:50:47 h sshd[1]: Unable to negotiate with 192.0.2.7 port 4: no matching host key type found. Their offer: ssh-dss [preauth]',
      'Nov 30 12:50:48 h sshd[1]: Unable to negotiate with 198.51.100.1 port 4: no matching host key type found. Their offer: ssh-dss [preauth]',
    ].join('\n');
    const d = diagnose({ evidence: evidence({ log: log(lines) }) });
    assert.deepEqual(codes(d), ['kex-mismatch', 'cipher-mismatch', 'mac-mismatch', 'hostkey-mismatch']);
    assert.match(d.causes[0]?.summary ?? '', /diffie-hellman-group1-sha1/);
    for (const c of d.causes) assert.doesNotMatch(`${c.fix.command ?? ''} ${c.fix.note ?? ''}`, /Host \*[^)]/);
    const probe = diagnose({ probe: { stage: 'kex', message: 'no matching key exchange algorithm', negotiation: { algorithm: 'kex', client: ['curve25519-sha256'], server: ['diffie-hellman-group14-sha1'] } }, evidence: undefined });
    assert.deepEqual(codes(probe), ['kex-mismatch']);
    assert.deepEqual(probe.reach, ['let the runner speak one of the host\'s algorithms, for this host only: algorithms: { kex: ["+diffie-hellman-group14-sha1"] } on it in the inventory'], 'a bind address would not help here');
  });

  it('names no playbook that is not shipped, and says what to do instead', () => {
    const d = diagnose({ playbooks: new Set(), evidence: evidence({ fail2ban: { running: true, jails: [{ name: 'sshd', banned: ['192.0.2.7'] }] } }) });
    assert.equal(d.causes[0]?.fix.command, undefined);
    assert.match(d.causes[0]?.fix.note ?? '', /ignoreip/);
  });
});

describe('classifyDrop: idle drops', () => {
  const idle = (dump: [string, string[]][], idleProbe?: DiagnoseInput['idleProbe']) =>
    diagnose({ symptom: 'idle', evidence: evidence({ sshd: new Map(dump) }), ...(idleProbe ? { idleProbe } : {}) });

  it('channel-timeout and unused-connection-timeout close idle sessions', () => {
    assert.deepEqual(codes(idle([['channeltimeout', ['session=20s']]])), ['channel-timeout']);
    assert.deepEqual(codes(idle([['unusedconnectiontimeout', ['300']]])), ['unused-connection-timeout']);
  });

  it('client-alive when the probe died after interval x countmax; network-idle when nothing on the server closes sessions', () => {
    assert.deepEqual(codes(idle([['clientaliveinterval', ['10']], ['clientalivecountmax', ['3']]], { heldMs: 90_000, closedAfterMs: 31_000 })), ['client-alive']);
    const net = idle([['clientaliveinterval', ['0']], ['channeltimeout', ['none']]], { heldMs: 90_000, closedAfterMs: 60_000 });
    assert.deepEqual(codes(net), ['network-idle']);
    assert.match(net.causes[0]?.fix.command ?? '', /client-keepalive\.yaml/);
    assert.deepEqual(codes(idle([['channeltimeout', ['none']]])), ['network-idle']);
  });
});

describe('helpers', () => {
  it('sshd time values', () => {
    assert.equal(parseSshdSeconds('90'), 90);
    assert.equal(parseSshdSeconds('1m30s'), 90);
    assert.equal(parseSshdSeconds('x'), undefined);
  });

  it('accessDecision follows auth.c order: DenyUsers before AllowUsers; user@host entries match addresses', () => {
    const lists = { allowUsers: ['alice@192.0.2.0/24'], denyUsers: ['alice@192.0.2.9'], allowGroups: [], denyGroups: [] };
    assert.deepEqual(accessDecision(lists, { user: 'alice', address: '192.0.2.7' }), { allowed: true });
    assert.equal((accessDecision(lists, { user: 'alice', address: '192.0.2.9' }) as { list: string }).list, 'DenyUsers');
    assert.equal((accessDecision(lists, { user: 'alice', address: '198.51.100.1' }) as { list: string }).list, 'AllowUsers');
  });
});
