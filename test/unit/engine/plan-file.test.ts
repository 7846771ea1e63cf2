import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSavedPlan, PlanFileError, savedFiles, serialisePlan, staleFiles } from '../../../src/engine/plan-file.js';
import { emptyHostPlan } from '../../../src/engine/plan-model.js';

describe('saved plans', () => {
  it('round-trips the exact bytes to write and the digests read', () => {
    const plan = emptyHostPlan('web-01', '192.0.2.1', 'changed');
    plan.filesRead = { '/etc/ssh/sshd_config': 'a'.repeat(64), '/etc/ssh/sshd_config.d/x.conf': null };
    const after = Buffer.from('Port 22\r\n\u00e9\0', 'latin1');
    plan.files = [{ path: '/etc/ssh/sshd_config', writePath: '/etc/ssh/sshd_config', before: Buffer.from('old'), after, mode: 0o600, uid: 0, gid: 0, service: 'sshd' }];
    plan.services = { sshd: { configs: [], specs: ['user=root'] } };
    const text = serialisePlan({ createdAt: new Date(0), version: '1.2.3', inventory: 'inv.yaml', playbooks: ['p.yaml'], hosts: [{ plan }] });
    const saved = parseSavedPlan(text, 'plan.json');
    const host = saved.hosts[0];
    assert.ok(host);
    assert.deepEqual(host.files_read, plan.filesRead);
    assert.deepEqual(savedFiles(host)[0]?.after, after);
    assert.equal(savedFiles(host)[0]?.mode, 0o600);
    assert.deepEqual(host.services.sshd?.specs, ['user=root']);
    assert.equal(saved.created_at, '1970-01-01T00:00:00.000Z');
  });

  it("keeps a fact request for the login account's ~/.ssh/config, and refuses other relative paths", () => {
    const plan = emptyHostPlan('localhost', 'localhost', 'ok');
    const text = (path: string): string =>
      serialisePlan({ createdAt: new Date(0), version: '1', inventory: 'inv.yaml', playbooks: ['p.yaml'], hosts: [{ plan, request: { services: { ssh_client: [path] }, files: [], dirs: [] } }] });
    assert.deepEqual(parseSavedPlan(text('~/.ssh/config'), 'plan.json').hosts[0]?.fact_request.services, { ssh_client: ['~/.ssh/config'] });
    for (const bad of ['.ssh/config', '~root/.ssh/config', '~/.ssh/\nconfig']) assert.throws(() => parseSavedPlan(text(bad), 'plan.json'), /malformed \(fact_request\)/, bad);
  });

  it('refuses what is not a saved plan, or a version it cannot apply', () => {
    assert.throws(() => parseSavedPlan('{', 'x'), PlanFileError);
    assert.throws(() => parseSavedPlan('{"format":"terraform"}', 'x'), /not a saved sshfix plan/);
    assert.throws(() => parseSavedPlan('{"format":"sshfix-plan","format_version":9,"hosts":[]}', 'x'), /version 9 plan/);
  });

  it('is stale when a file changed, vanished or appeared', () => {
    const then = { '/a': '1'.repeat(64), '/b': null };
    assert.deepEqual(staleFiles(then, { '/a': '1'.repeat(64), '/b': null }), []);
    assert.deepEqual(staleFiles(then, { '/a': '2'.repeat(64), '/b': null }), ['/a']);
    assert.deepEqual(staleFiles(then, { '/a': '1'.repeat(64), '/b': '3'.repeat(64) }), ['/b']);
    assert.deepEqual(staleFiles(then, { '/a': '1'.repeat(64), '/b': null, '/c': '4'.repeat(64) }), ['/c']);
  });
});
