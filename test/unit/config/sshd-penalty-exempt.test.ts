import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editSshdConfig } from '../../../src/config/sshd/edit.js';
import { effectiveValue } from '../../../src/config/sshd/effective.js';
import { lookupSshdKeyword, validateSshdValue } from '../../../src/config/sshd/keywords.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';

const treeOf = (main: string, dropins: Record<string, string> = {}) =>
  buildSshdConfigTree({
    files: new Map([['/etc/ssh/sshd_config', main], ...Object.entries(dropins).map(([n, t]) => [`/etc/ssh/sshd_config.d/${n}`, t] as [string, string])]),
    listedDirs: new Set(['/etc/ssh', '/etc/ssh/sshd_config.d']),
  }).tree;
const TEN = { version: '10.0' };

describe('PerSourcePenaltyExemptList (9.8+)', () => {
  const keyword = lookupSshdKeyword('PerSourcePenaltyExemptList', '10.0');

  it('is unknown to 9.2, global-only, first line wins, printed by sshd -T', () => {
    assert.equal(lookupSshdKeyword('PerSourcePenaltyExemptList', '9.2'), undefined);
    assert.ok(keyword);
    assert.equal(keyword.matchAllowed, false);
    assert.equal(keyword.combine, 'first');
    assert.equal(keyword.printed, true);
  });

  it('accepts and refuses exactly what 10.0p2 sshd -T accepted and refused', () => {
    assert.ok(keyword);
    // Each accepted by /opt/sshfix-openssh/10.0p1/sbin/sshd -T and printed as written.
    for (const ok of ['none', '!10.0.0.0/8', '2001:db8::/64,127.0.0.9', '10.0.0.*', '10.0.0.0/8,192.168.1.1']) {
      assert.equal(validateSshdValue(keyword, ok, TEN), undefined, ok);
    }
    // Each refused: "invalid address argument" (host bits, prefix too long, empty entry), "extra arguments".
    for (const bad of ['10.0.0.1/8', '2001:db8::1/64', '10.0.0.0/33', '127.0.0.9,']) {
      assert.equal(validateSshdValue(keyword, bad, TEN)?.code, 'invalid-address-list', bad);
    }
    assert.equal(validateSshdValue(keyword, '10.0.0.0/8 1.2.3.4', TEN)?.code, 'extra-arguments');
  });

  it('refuses it inside Match, as sshd does', () => {
    const r = editSshdConfig(treeOf('Port 22\n'), { op: 'set', keyword: 'PerSourcePenaltyExemptList', value: '192.0.2.7', match: 'User deploy' }, TEN);
    assert.deepEqual(r.diagnostics.map((d) => d.code), ['not-allowed-in-match']);
  });

  it('add extends the winning line\'s list instead of replacing it; remove takes entries out; both idempotent', () => {
    const tree = treeOf('Include /etc/ssh/sshd_config.d/*.conf\n', { '50-p.conf': 'PerSourcePenaltyExemptList 10.0.0.0/8\nPerSourcePenaltyExemptList 172.16.0.0/12\n' });
    const added = editSshdConfig(tree, { op: 'add', keyword: 'PerSourcePenaltyExemptList', values: ['192.0.2.7'] }, TEN);
    assert.deepEqual(
      added.changes.map((c) => [c.path, c.after]),
      [['/etc/ssh/sshd_config.d/50-p.conf', 'PerSourcePenaltyExemptList 10.0.0.0/8,192.0.2.7\nPerSourcePenaltyExemptList 172.16.0.0/12\n']],
    );
    assert.deepEqual(effectiveValue(added.tree, 'PerSourcePenaltyExemptList', undefined, TEN).values, ['10.0.0.0/8,192.0.2.7']);
    const again = editSshdConfig(added.tree, { op: 'add', keyword: 'PerSourcePenaltyExemptList', values: ['192.0.2.7'] }, TEN);
    assert.deepEqual(again.changes, []);
    assert.match(again.reason ?? '', /already contains 192\.0\.2\.7/);
    const removed = editSshdConfig(added.tree, { op: 'remove', keyword: 'PerSourcePenaltyExemptList', values: ['10.0.0.0/8'] }, TEN);
    assert.equal(removed.changes[0]?.after, 'PerSourcePenaltyExemptList 192.0.2.7\nPerSourcePenaltyExemptList 172.16.0.0/12\n');
  });

  it('add on a host without the keyword writes one global line', () => {
    const r = editSshdConfig(treeOf('Port 22\nMatch User backup\n\tX11Forwarding no\n'), { op: 'add', keyword: 'PerSourcePenaltyExemptList', values: ['192.0.2.7', '198.51.100.0/24'] }, TEN);
    assert.equal(r.changes[0]?.after, 'Port 22\nPerSourcePenaltyExemptList 192.0.2.7,198.51.100.0/24\nMatch User backup\n\tX11Forwarding no\n');
    const bad = editSshdConfig(treeOf('Port 22\n'), { op: 'add', keyword: 'PerSourcePenaltyExemptList', values: ['192.0.2.7/24'] }, TEN);
    assert.deepEqual(bad.diagnostics.map((d) => d.code), ['invalid-address-list']);
  });
});
