/**
 * Plan-time guards end to end, on real sshd hosts: a change that would refuse sshfix's own login
 * fails plan and apply with `would-lock-out` before anything is written, and a Match-scoped
 * setting an earlier broader block would shadow is placed where it wins and verified with the
 * requested value. Lab address block 127.77.60.x.
 */
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startTestLab, type TestLab } from '../helpers/lab-fixture.js';
import { fingerprint, hostRoot, labInventory, readHostFile, sshdDumpValue } from '../helpers/lab-host.js';

interface JsonHost {
  name: string;
  status: string;
  error?: { code: string; message: string };
  changes: { diff: string }[];
  apply?: { outcome: string; verification: { keyword: string; connection?: string; expected: string[]; actual: string[]; ok: boolean }[] };
}
const hostsOf = (stdout: string): JsonHost[] => (JSON.parse(stdout) as { hosts: JsonHost[] }).hosts;

describe('plan-time guards against the lab', { timeout: 240_000 }, () => {
  let lab: TestLab;
  let inventory: string;
  const playbook = (name: string, body: string): string => {
    const path = join(lab.dir, `${name}.yaml`);
    writeFileSync(path, `name: ${name}\nhosts: all\ntasks:\n  - sshd:\n${body}`);
    return path;
  };

  before(() => {
    lab = startTestLab({ hosts: 1, firstAddress: '127.77.60.1', scenarios: ['debian-cloud'] });
    inventory = join(lab.dir, 'guard-inventory.yaml');
    writeFileSync(inventory, labInventory(lab));
  });
  after(() => lab?.down());

  it('plan reports would-lock-out with the responsible line, and apply writes nothing', () => {
    const name = lab.hosts[0]!.name;
    const root = playbook('no-root', '      set: { PermitRootLogin: "no" }\n');
    const plan = runCli(['plan', root, '-i', inventory, '--format', 'json']);
    assert.equal(plan.status, 1, plan.stderr);
    const [host] = hostsOf(plan.stdout);
    assert.equal(host?.error?.code, 'would-lock-out', plan.stdout);
    assert.match(host?.error?.message ?? '', /root from 127\.0\.0\.1.*PermitRootLogin no refuses root; responsible: \/etc\/ssh\/sshd_config:\d+/);

    const before = fingerprint(lab, name);
    const apply = runCli(['apply', root, '-i', inventory, '--yes', '--format', 'json']);
    assert.equal(apply.status, 1, apply.stderr);
    assert.equal(hostsOf(apply.stdout)[0]?.error?.code, 'would-lock-out');
    assert.deepEqual(fingerprint(lab, name), before, 'apply wrote nothing');
    assert.deepEqual(sshdDumpValue(lab, lab.hosts[0]!, 'permitrootlogin'), ['without-password']);
  });

  it("reads the login account's groups with the facts: DenyGroups of one of them is a lockout", () => {
    const plan = runCli(['plan', playbook('deny-group', '      add: { DenyGroups: [root] }\n'), '-i', inventory, '--format', 'json']);
    const [host] = hostsOf(plan.stdout);
    assert.equal(host?.error?.code, 'would-lock-out', plan.stdout);
    assert.match(host?.error?.message ?? '', /DenyGroups lists root, a group of root; responsible: \/etc\/ssh\/sshd_config:\d+/);
  });

  it('a Match block for the runner address that turns its key method off is a lockout; one for another network is not', () => {
    const mine = runCli(['plan', playbook('mine', '      match: "Address {{ runner.address }}"\n      set: { PubkeyAuthentication: "no" }\n'), '-i', inventory, '--format', 'json']);
    const [host] = hostsOf(mine.stdout);
    assert.equal(host?.error?.code, 'would-lock-out', mine.stdout);
    assert.match(host?.error?.message ?? '', /PubkeyAuthentication no at \/etc\/ssh\/sshd_config:\d+/);
    const other = runCli(['plan', playbook('other', '      match: "Address 203.0.113.0/24"\n      set: { PubkeyAuthentication: "no" }\n'), '-i', inventory, '--format', 'json']);
    assert.equal(hostsOf(other.stdout)[0]?.status, 'changed', other.stdout);
  });

  it('places a setting before the broader block that shadows it, and apply verifies the requested value inside the criteria', () => {
    const name = lab.hosts[0]!.name;
    appendFileSync(`${hostRoot(lab, name)}/etc/ssh/sshd_config`, '\nMatch Address 198.51.0.0/16\n\tX11Forwarding yes\n');
    const task = playbook('shadowed', '      match: "Address 198.51.100.0/24"\n      set: { X11Forwarding: "no" }\n');
    const apply = runCli(['apply', task, '-i', inventory, '--yes', '--format', 'json']);
    const [host] = hostsOf(apply.stdout);
    assert.equal(apply.status, 0, apply.stdout);
    assert.equal(host?.apply?.outcome, 'applied', apply.stdout);
    assert.deepEqual(
      host?.apply?.verification.map((v) => [v.keyword, v.expected, v.actual, v.ok]),
      [['x11forwarding', ['no'], ['no'], true]],
    );
    assert.match(readHostFile(lab, name, '/etc/ssh/sshd_config') ?? '', /Match Address 198\.51\.100\.0\/24\n\tX11Forwarding no\n\nMatch Address 198\.51\.0\.0\/16\n\tX11Forwarding yes\n$/);
    const spec = (addr: string) => `user=root,host=x.invalid,addr=${addr},laddr=192.0.2.253,lport=22`;
    assert.deepEqual(sshdDumpValue(lab, lab.hosts[0]!, 'x11forwarding', spec('198.51.100.9')), ['no']);
    assert.deepEqual(sshdDumpValue(lab, lab.hosts[0]!, 'x11forwarding', spec('198.51.7.9')), ['yes'], 'the rest of the /16 keeps its value');
  });
});
