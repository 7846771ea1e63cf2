import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256Hex, type HostFacts } from '../../../src/engine/facts.js';
import { chooseTransaction, parseTransactionList, planRollback, rollbackFactRequest, type ChosenTransaction, type ListedTransaction } from '../../../src/engine/rollback-plan.js';
import { parseManifest, renderManifest, type TransactionManifest } from '../../../src/engine/transaction-manifest.js';
import { factsWithConfig } from './sshd-facts.js';

const ROOT = '/var/backups/sshfix';
const OLD = '20261130T100000Z-00000001';
const NEW = '20261130T110000Z-00000002';
const MAIN = '/etc/ssh/sshd_config';
const DROPIN = '/etc/ssh/sshd_config.d/60-new.conf';

const manifest = (): Omit<TransactionManifest, 'version'> => ({
  files: [
    { path: MAIN, writePath: MAIN, service: 'sshd', before: sha256Hex('Port 22\n'), written: sha256Hex('Port 22\nMaxStartups 100:30:500\n') },
    { path: DROPIN, writePath: DROPIN, service: 'sshd', before: null, written: sha256Hex('ClientAliveInterval 60\n') },
  ],
  services: { sshd: { configs: [MAIN], specs: [] } },
  restore: [{ service: 'sshd', task: 'raise', keyword: 'maxstartups', values: ['10:30:100'] }],
});

const line = (id: string, state: string, text?: string): string => `T ${id} ${state} ${text === undefined ? '-' : Buffer.from(text).toString('base64')}`;

/** Facts as the rollback reads them: the files as the transaction left them, and the backup. */
function hostFacts(options: { main?: string; backup?: string } = {}): HostFacts {
  const facts = factsWithConfig(options.main ?? 'Port 22\nMaxStartups 100:30:500\n');
  const files = new Map(facts.files);
  files.set(DROPIN, { content: Buffer.from('ClientAliveInterval 60\n'), mode: 0o644, uid: 0, gid: 0 });
  files.set(`${ROOT}/${OLD}/files/0`, { content: Buffer.from(options.backup ?? 'Port 22\n'), mode: 0o600, uid: 0, gid: 0 });
  return { ...facts, files };
}

const chosen = (): ChosenTransaction => {
  const parsed = parseManifest(renderManifest(manifest()));
  assert.ok(!('error' in parsed), JSON.stringify(parsed));
  return { id: OLD, manifest: parsed };
};

describe('rollback planning', () => {
  it('lists transactions newest first, with their manifests, ignoring anything else', () => {
    const listed = parseTransactionList([line(OLD, 'confirmed', '{}'), 'noise', line('../etc', 'confirmed'), line(NEW, 'deadman-fired'), ''].join('\n'));
    assert.deepEqual(listed, [
      { id: NEW, state: 'deadman-fired' },
      { id: OLD, state: 'confirmed', manifest: '{}' },
    ]);
  });

  it('chooses the newest confirmed transaction, or the named one, and says why it cannot', () => {
    const text = renderManifest(manifest());
    const listed: ListedTransaction[] = [
      { id: NEW, state: 'deadman-fired', manifest: text },
      { id: OLD, state: 'confirmed', manifest: text },
    ];
    const newest = chooseTransaction(listed, ROOT);
    assert.ok(!('error' in newest));
    assert.equal(newest.id, OLD);
    const notFinished = chooseTransaction(listed, ROOT, NEW);
    assert.ok('error' in notFinished);
    assert.equal(notFinished.error.code, 'transaction-not-finished');
    const missing = chooseTransaction(listed, ROOT, '20261130T120000Z-00000003');
    assert.ok('error' in missing);
    assert.equal(missing.error.code, 'no-such-transaction');
    assert.match(missing.error.diagnosis ?? '', new RegExp(`${OLD} \\(confirmed\\)`));
    const none = chooseTransaction([], ROOT);
    assert.ok('error' in none);
    assert.equal(none.error.code, 'nothing-to-roll-back');
    const old = chooseTransaction([{ id: OLD, state: 'confirmed' }], ROOT);
    assert.ok('error' in old);
    assert.equal(old.error.code, 'no-manifest');
    assert.match(old.error.diagnosis ?? '', new RegExp(`sh ${ROOT}/${OLD}/restore\\.sh`));
  });

  it('refuses a manifest that could put anything unchecked into a script', () => {
    const bad = (change: (m: Record<string, unknown>) => void): string => {
      const m = JSON.parse(renderManifest(manifest())) as Record<string, unknown>;
      change(m);
      const parsed = parseManifest(JSON.stringify(m));
      assert.ok('error' in parsed, JSON.stringify(m));
      return parsed.error;
    };
    assert.match(bad((m) => (m['version'] = 99)), /version 99/);
    assert.match(bad((m) => ((m['files'] as Record<string, unknown>[])[0]!['writePath'] = 'relative/path')), /files/);
    assert.match(bad((m) => ((m['files'] as Record<string, unknown>[])[0]!['service'] = 'nginx')), /files/);
    assert.match(bad((m) => ((m['files'] as Record<string, unknown>[])[0]!['written'] = 'abc')), /files/);
    assert.match(bad((m) => (m['services'] = { sshd: { configs: ['x\ny'], specs: [] } })), /plan for sshd/);
    assert.match(bad((m) => (m['restore'] = [{ service: 'sshd', keyword: 'Max Startups', values: [] }])), /restore value/);
    const notJson = parseManifest('{');
    assert.ok('error' in notJson);
    assert.match(notJson.error, /not JSON/);
  });

  it('reads the written files and the backups, and plans them back: backed-up contents, created files removed, compare-and-swap on what was written', () => {
    const request = rollbackFactRequest(chosen(), ROOT);
    assert.deepEqual(request.files, [MAIN, `${ROOT}/${OLD}/files/0`, DROPIN]);
    assert.deepEqual(Object.keys(request.services), ['sshd']);
    const planned = planRollback({ host: { name: 'web-01', address: '192.0.2.10' }, chosen: chosen(), facts: hostFacts(), backupRoot: ROOT });
    assert.ok(!('error' in planned), JSON.stringify(planned));
    assert.deepEqual(
      planned.files.map((f) => [f.path, f.after.toString(), f.remove ?? false, f.mode.toString(8)]),
      [
        [MAIN, 'Port 22\n', false, '600'],
        [DROPIN, '', true, '644'],
      ],
    );
    assert.deepEqual([...planned.expected], [
      [MAIN, sha256Hex('Port 22\nMaxStartups 100:30:500\n')],
      [DROPIN, sha256Hex('ClientAliveInterval 60\n')],
    ]);
    assert.deepEqual(planned.services.map((s) => [s.service.id, s.plan]), [['sshd', { configs: [MAIN], specs: [] }]]);
    assert.deepEqual(planned.expectations, [{ service: 'sshd', task: 'raise', keyword: 'maxstartups', values: ['10:30:100'] }]);
    assert.equal(planned.plan.status, 'changed');
    assert.deepEqual(planned.plan.changes.map((c) => [c.path, c.action, c.after]), [
      [MAIN, 'update', 'Port 22\n'],
      [DROPIN, 'update', ''],
    ]);
    assert.ok(planned.plan.notes.some((n) => n.message === `removes ${DROPIN}: transaction ${OLD} created it`));
  });

  it('refuses, naming the file, when a file no longer holds what the transaction wrote', () => {
    const planned = planRollback({ host: { name: 'web-01', address: '192.0.2.10' }, chosen: chosen(), facts: hostFacts({ main: 'Port 22\nMaxStartups 100:30:500\n# by hand\n' }), backupRoot: ROOT });
    assert.ok('error' in planned);
    assert.equal(planned.error.code, 'changed-since');
    assert.equal(planned.error.message, `${MAIN} changed since transaction ${OLD} wrote it`);
  });

  it('refuses a manifest without the plan of a service that loads its files', () => {
    const { services: _dropped, ...rest } = chosen().manifest;
    const planned = planRollback({ host: { name: 'web-01', address: '192.0.2.10' }, chosen: { id: OLD, manifest: { ...rest, services: {} } }, facts: hostFacts(), backupRoot: ROOT });
    assert.ok('error' in planned);
    assert.equal(planned.error.code, 'bad-manifest');
    assert.match(planned.error.message, /no plan for sshd/);
  });

  it("checks a rollback with each service's rollback plan: fail2ban no longer expects the entries the change added", () => {
    const jail = '/etc/fail2ban/jail.d/sshfix.local';
    const plan = { jails: ['sshd'], ignore: [{ jail: 'sshd', entries: ['192.0.2.7'] }], unban: [{ jail: 'sshd', addresses: ['192.0.2.7'] }] };
    const parsed = parseManifest(renderManifest({ files: [{ path: jail, writePath: jail, service: 'fail2ban', before: null, written: sha256Hex('[sshd]\nignoreip = 192.0.2.7\n') }], services: { fail2ban: plan }, restore: [] }));
    assert.ok(!('error' in parsed), JSON.stringify(parsed));
    const facts = hostFacts();
    const files = new Map(facts.files);
    files.set(jail, { content: Buffer.from('[sshd]\nignoreip = 192.0.2.7\n'), mode: 0o644, uid: 0, gid: 0 });
    const running = { ...facts, files, services: { ...facts.services, fail2ban: { ...facts.services.fail2ban!, running: true } } };
    const planned = planRollback({ host: { name: 'web-01', address: '192.0.2.10' }, chosen: { id: OLD, manifest: parsed }, facts: running, backupRoot: ROOT });
    assert.ok(!('error' in planned), JSON.stringify(planned));
    assert.deepEqual(planned.services.map((s) => [s.service.id, s.plan]), [['fail2ban', { jails: ['sshd'], ignore: [], unban: [] }]]);
    assert.deepEqual(planned.files.map((f) => [f.path, f.remove]), [[jail, true]]);
  });

  it('refuses when the backup is not what was backed up', () => {
    const planned = planRollback({ host: { name: 'web-01', address: '192.0.2.10' }, chosen: chosen(), facts: hostFacts({ backup: 'Port 2222\n' }), backupRoot: ROOT });
    assert.ok('error' in planned);
    assert.equal(planned.error.code, 'backup-damaged');
    assert.match(planned.error.message, /sshd_config/);
  });
});
