import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BuildCache } from '../../../src/engine/build-cache.js';
import { buildFactScript, parseFactOutput } from '../../../src/engine/facts-script.js';
import { interpretFacts } from '../../../src/engine/facts.js';
import { planHost } from '../../../src/engine/plan-host.js';
import { parseSavedPlan, serialisePlan, toSavedHost } from '../../../src/engine/plan-file.js';
import { emptyHostPlan } from '../../../src/engine/plan-model.js';
import { hostSshdDefaults } from '../../../src/services/sshd/host-defaults.js';
import { sshdService } from '../../../src/services/sshd/service.js';
import { REPO_ROOT } from '../../helpers/lab-fixture.js';

const recorded = readFileSync(`${REPO_ROOT}/test/fixtures/facts/debian-cloud.out`, 'utf8');
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const BUILD_ID = '/usr/sbin/sshd:1265432:1777976816:15884289 /usr/bin/ssh:1129504:1777976816:2170885 key';
const buildIdLine = `R build_sshd 0 ${b64(BUILD_ID)} `;
/** Command records that depend only on the build. */
const isBuildRecord = (line: string): boolean => /^R (sshd_version|sshd_defaults|ssh_q_\S+) /.test(line);
const dumpRecord = /^R sshd_dump 0 (\S+)/m.exec(recorded)?.[1] ?? '';
/** The first host of the build: its output carries the build's facts (its live dump stands in for the build's defaults). */
const firstHost = `${recorded}R sshd_defaults 0 ${dumpRecord} \nR ssh_q_Ciphers 0 ${b64('aes128-ctr\nchacha20-poly1305@openssh.com\n')} \n${buildIdLine}\n`;
/** Another host of the same build: the script skipped the build's reads. */
const otherHost = recorded
  .split('\n')
  .filter((line) => !isBuildRecord(line))
  .join('\n')
  .concat(`${buildIdLine}\n`);

describe('build facts, once per build', () => {
  it('reads the build facts unconditionally until a build is known, then only for other builds', () => {
    const request = { services: { sshd: ['/etc/ssh/sshd_config'] }, files: [], dirs: [] };
    const fresh = buildFactScript(request);
    assert.match(fresh, /^run sshd_defaults|^if \[ -n "\$hk" \]; then run sshd_defaults/m);
    assert.doesNotMatch(fresh, /^case "\$build_sshd"/m);
    const known = buildFactScript(request, { sshd: [BUILD_ID] });
    assert.match(known, new RegExp(`^case "\\$build_sshd" in '${BUILD_ID.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'\\) ;; \\*\\)$`, 'm'));
    const cased = known.indexOf('case "$build_sshd"');
    assert.ok(known.indexOf('ssh -Q') > cased && known.indexOf('ssh -Q') < known.indexOf(';; esac', cased));
  });

  it('no longer runs a separate sshd -t: sshd -T refuses an invalid config by itself', () => {
    const script = buildFactScript({ services: { sshd: ['/etc/ssh/sshd_config'] }, files: [], dirs: [] });
    assert.match(script, /run sshd_dump "\$sshd_bin" -T$/m);
    assert.doesNotMatch(script, /sshd_bin" -t/);
  });

  it('gives every host of a build the same build facts and the same defaults object, and records the build', () => {
    const cache = new BuildCache();
    const first = interpretFacts(parseFactOutput(firstHost), { name: 'a', address: '127.0.0.1', services: ['sshd'], builds: cache });
    assert.deepEqual(cache.known('sshd'), [BUILD_ID]);
    const other = interpretFacts(parseFactOutput(otherHost), { name: 'b', address: '127.0.0.2', services: ['sshd'], builds: cache });
    const [a, b] = [first.services.sshd, other.services.sshd];
    assert.ok(a && b);
    assert.ok(a.defaultsDump && a.defaultsDump.length > 100);
    assert.equal(b.supported, a.supported);
    assert.equal(b.defaultsDump, a.defaultsDump);
    assert.equal(b.version, a.version);
    assert.equal(hostSshdDefaults(b, other.opensshVersion), hostSshdDefaults(a, first.opensshVersion));
    assert.deepEqual(other.builds, { sshd: BUILD_ID });
    const planned = planHost({ host: { name: 'b', address: '127.0.0.2', vars: {} } as never, plays: [], cliVars: {}, facts: other });
    assert.deepEqual(planned.plan.facts?.builds, { sshd: BUILD_ID });
    assert.deepEqual(toSavedHost(planned.plan, undefined).builds, { sshd: BUILD_ID });
  });

  it('without the cache, a host whose output skipped the build reads falls back to the built-in defaults, not to another host', () => {
    const other = interpretFacts(parseFactOutput(otherHost), { name: 'b', address: '127.0.0.2', services: ['sshd'] });
    assert.equal(other.services.sshd?.defaultsDump, undefined);
    assert.deepEqual(other.services.sshd?.supported, {});
  });

  it('lets one host per banner read the build facts at a time; the others wait, then go on with the cache', async () => {
    const cache = new BuildCache();
    const order: string[] = [];
    const doneFirst = await cache.turn('SSH-2.0-OpenSSH_9.2p1');
    const second = cache.turn('SSH-2.0-OpenSSH_9.2p1').then((done) => {
      order.push('second');
      return done;
    });
    const otherBanner = await cache.turn('SSH-2.0-OpenSSH_8.9p1');
    order.push('other banner');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['other banner']);
    order.push('first done');
    doneFirst(true);
    (await second)(true);
    otherBanner(true);
    assert.deepEqual(order, ['other banner', 'first done', 'second']);
  });

  it('hands the turn to the next host when the first one failed to read its facts', async () => {
    const cache = new BuildCache();
    const first = await cache.turn('x');
    let secondIsReader = false;
    const second = cache.turn('x').then((done) => {
      secondIsReader = true;
      return done;
    });
    first(false);
    (await second)(true);
    assert.ok(secondIsReader);
    const third = await Promise.race([cache.turn('x'), new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 50))]);
    assert.notEqual(third, 'waited');
  });

  it('refuses a host whose live config sshd -T rejects, with sshd -T\'s message', () => {
    const broken = otherHost.replace(/^R sshd_dump .*$/m, `R sshd_dump 255  ${b64('/etc/ssh/sshd_config line 3: Bad configuration option: Bogus\n')}`).replace(/^R sshd_test .*\n/m, '');
    const facts = interpretFacts(parseFactOutput(broken), { name: 'c', address: '127.0.0.3', services: ['sshd'] });
    const refusal = sshdService.precheck(facts.services.sshd!);
    assert.equal(refusal?.code, 'config-invalid');
    assert.match(refusal?.message ?? '', /does not pass sshd -t: \/etc\/ssh\/sshd_config line 3: Bad configuration option: Bogus$/);
  });

  it('keeps the build id in a saved plan, and refuses a damaged one', () => {
    const plan = emptyHostPlan('web-01', '192.0.2.1', 'ok');
    plan.facts = { builds: { sshd: BUILD_ID } };
    const text = serialisePlan({ createdAt: new Date(0), version: '1.2.3', inventory: 'inv.yaml', playbooks: ['p.yaml'], hosts: [{ plan }] });
    assert.deepEqual(parseSavedPlan(text, 'plan.json').hosts[0]?.builds, { sshd: BUILD_ID });
    assert.throws(() => parseSavedPlan(text.replace(JSON.stringify(BUILD_ID), '42'), 'plan.json'), /builds/);
  });
});
