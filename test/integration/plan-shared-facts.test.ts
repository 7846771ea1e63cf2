/**
 * A plan shares `sshd -T` of the live config and candidate verdicts between hosts whose key is the
 * same (build, Include tree files, host probe), over one shell per host, and plans exactly what
 * each host reading and checking everything itself plans. Lab address block 127.77.96.x.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readInputs } from '../../src/cli/commands/validate.js';
import { toConnectTarget } from '../../src/model/connect-target.js';
import { createRunCaches, type RunCaches } from '../../src/engine/gather-facts.js';
import { planOneHost, selectWork, type PlannedHostResult } from '../../src/engine/run-plan.js';
import { BuildCache } from '../../src/engine/build-cache.js';
import { createProgress } from '../../src/report/progress.js';
import { createTransport } from '../../src/transport/transport.js';
import { REPO_ROOT, startTestLab, type TestLab } from '../helpers/lab-fixture.js';

const PLAYBOOKS = ['max-startups', 'server-keepalive', 'allow-users', 'legacy-kex-scoped'].map((p) => join(REPO_ROOT, 'playbooks', `${p}.yaml`));
const SCENARIOS = ['debian-cloud', 'rhel-layout', 'broken-dropin', 'hardened-match'];
/** The host whose drop-in the test changes: same scenario as lab-01, another file. */
const ODD_HOST = 'lab-05';

describe('plan shares sshd -T and candidate verdicts between hosts with the same key', { timeout: 240_000 }, () => {
  let lab: TestLab;

  before(() => {
    lab = startTestLab({ hosts: 8, firstAddress: '127.77.96.1', scenarios: SCENARIOS });
  });
  after(() => lab?.down());

  async function planAll(caches: RunCaches | undefined): Promise<Map<string, PlannedHostResult>> {
    const inputs = readInputs({ playbooks: PLAYBOOKS, inventory: lab.inventory, requireInventory: true });
    assert.ok(inputs.inventory, 'the lab inventory loads');
    const inventory = inputs.inventory;
    const { work } = selectWork(inventory, inputs.playbooks);
    assert.equal(work.length, 8);
    const transport = createTransport({ prompt: null });
    const progress = await createProgress('silent', work.map((w) => w.host.name), 'Planning', () => undefined, { planning: true });
    const builds = new BuildCache();
    try {
      const results = await Promise.all(
        work.map((w) => planOneHost(w, { transport, cliVars: {}, inventory, progress, keepOpen: false, builds, ...(caches ? { caches } : {}) })),
      );
      return new Map(results.map((r) => [r.plan.name, r]));
    } finally {
      await transport.closeAll();
    }
  }

  it('runs sshd -T once per key, a host with a different file its own, and plans what each host alone plans', async () => {
    // lab-05 runs debian-cloud like lab-01, with one more drop-in.
    const inputs = readInputs({ playbooks: PLAYBOOKS, inventory: lab.inventory, requireInventory: true });
    const odd = inputs.inventory?.hosts.find((h) => h.name === ODD_HOST);
    assert.ok(odd && inputs.inventory);
    const transport = createTransport({ prompt: null });
    const connection = await transport.connect(toConnectTarget(inputs.inventory, odd));
    const wrote = await connection.exec("printf 'MaxAuthTries 5\\n' > /etc/ssh/sshd_config.d/60-odd.conf");
    assert.equal(wrote.exitCode, 0, wrote.stderr.toString());
    await transport.closeAll();

    const caches = createRunCaches();
    const shared = await planAll(caches);
    const alone = await planAll(undefined);

    // Keys: debian-cloud (lab-01), rhel-layout (lab-02, lab-06), broken-dropin (lab-03, lab-07),
    // hardened-match (lab-04, lab-08), lab-05's own.
    assert.deepEqual([caches.shared.computed, caches.shared.reused], [5, 3], 'sshd -T ran once per key');
    for (const [name, own] of alone) {
      const mine = shared.get(name);
      assert.ok(mine, name);
      assert.equal(mine.plan.status, own.plan.status, `${name} status`);
      assert.deepEqual(mine.plan.error, own.plan.error, `${name} error`);
      assert.deepEqual(mine.plan.validation, own.plan.validation, `${name} validation`);
      assert.deepEqual(
        mine.plan.changes.map((c) => [c.path, c.before, c.after]),
        own.plan.changes.map((c) => [c.path, c.before, c.after]),
        `${name} changes`,
      );
      // What the host's own sshd -T prints, whether this host ran it or another host with the key did.
      assert.deepEqual(mine.facts?.services.sshd?.dump, own.facts?.services.sshd?.dump, `${name} sshd -T`);
      assert.deepEqual(mine.facts?.services.sshd?.test, own.facts?.services.sshd?.test, `${name} live config verdict`);
    }
    const statuses = Object.fromEntries([...shared].map(([name, r]) => [name, r.plan.error?.code ?? r.plan.status]));
    assert.deepEqual(statuses, {
      'lab-01': 'changed', 'lab-02': 'changed', 'lab-03': 'config-invalid', 'lab-04': 'changed',
      'lab-05': 'changed', 'lab-06': 'changed', 'lab-07': 'config-invalid', 'lab-08': 'changed',
    });
    assert.match(shared.get('lab-03')?.plan.error?.message ?? '', /does not pass sshd -t/);
    // lab-04's own dump shows its own drop-in: it was not given lab-01's.
    assert.match(shared.get(ODD_HOST)?.facts?.services.sshd?.dump.output ?? '', /^maxauthtries 5$/m);
    assert.match(shared.get('lab-01')?.facts?.services.sshd?.dump.output ?? '', /^maxauthtries 6$/m);
    // Candidate checks: lab-01 and lab-05 differ, lab-06 reuses lab-02's verdict, and lab-08 lab-04's:
    // their Match Group block makes sshd -T -C look up root's groups, which both hosts recorded alike.
    assert.deepEqual([caches.checks.computed, caches.checks.reused], [4, 2], 'candidate checks once per key and script');
    assert.equal(shared.get('lab-08')?.facts?.loginGroups?.join(' '), 'root', "the hardened hosts' files name groups: the login's groups are read");
    assert.equal(shared.get('lab-01')?.facts?.loginGroups, undefined, "debian-cloud's files name none: no id");
  });
});
