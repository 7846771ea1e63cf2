/**
 * Match-scoped settings shadowed by an earlier block: sshd keeps, per keyword, the first matching
 * block that sets it, so a block read after a broader one (or after `Match all`) never applies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editSshdConfig, editSshdConfigAll } from '../../../src/config/sshd/edit.js';
import { effectiveValue } from '../../../src/config/sshd/effective.js';
import { matchCovers, parseMatchCriteria, type MatchCriterion } from '../../../src/config/sshd/match.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';

const treeOf = (main: string, dropins: Record<string, string> = {}) =>
  buildSshdConfigTree({
    files: new Map([['/etc/ssh/sshd_config', main], ...Object.entries(dropins).map(([n, t]) => [`/etc/ssh/sshd_config.d/${n}`, t] as [string, string])]),
    listedDirs: new Set(['/etc/ssh', '/etc/ssh/sshd_config.d']),
  }).tree;
const criteria = (text: string): MatchCriterion[] => {
  const parsed = parseMatchCriteria(text);
  assert.ok('criteria' in parsed, text);
  return parsed.criteria;
};
const pw = (tree: ReturnType<typeof treeOf>, addr: string, user = 'root') =>
  effectiveValue(tree, 'PasswordAuthentication', { user, host: 'h.invalid', addr, laddr: '192.0.2.253', lport: 22 }).values[0];
const request = { op: 'set', keyword: 'PasswordAuthentication', value: 'no', match: 'Address 198.51.100.0/24' } as const;
const errors = (r: ReturnType<typeof editSshdConfig>) => r.diagnostics.filter((d) => d.severity === 'error');

const BROAD = 'Port 22\n\n# lab network\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n';

describe('Match blocks shadowed by an earlier block', () => {
  it('places the setting in a new block before an earlier broader block, changing nothing else', () => {
    const tree = treeOf(BROAD);
    assert.equal(pw(tree, '198.51.100.7'), 'yes');
    const r = editSshdConfig(tree, request);
    assert.deepEqual(errors(r), []);
    assert.equal(
      r.changes[0]!.after,
      'Port 22\n\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication no\n\n# lab network\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n',
    );
    assert.equal(pw(r.tree, '198.51.100.7'), 'no', 'inside the /24: the requested value');
    assert.equal(pw(r.tree, '198.51.7.1'), 'yes', 'inside the /16 only: unchanged');
    assert.equal(pw(r.tree, '203.0.113.5'), 'yes', 'outside both: the default, unchanged');
    assert.match(r.diagnostics.map((d) => d.message).join('\n'), /before "Match Address 198\.51\.0\.0\/16" at \/etc\/ssh\/sshd_config:4/);
    const again = editSshdConfig(r.tree, request);
    assert.deepEqual(again.changes, [], 'running it twice changes nothing');
  });

  it('refuses when the earlier block selects only part of the connections, naming its file and line', () => {
    const tree = treeOf('Port 22\nMatch Address 198.51.0.0/16 User root\n\tPasswordAuthentication yes\n');
    const r = editSshdConfig(tree, request);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(errors(r).map((d) => d.code), ['match-shadowed']);
    assert.match(errors(r)[0]!.message, /"Match Address 198\.51\.0\.0\/16 User root" at \/etc\/ssh\/sshd_config:2 is read first and sets it at \/etc\/ssh\/sshd_config:3/);
  });

  it('moves the setting out of an existing narrower block that stands after a broader one', () => {
    const tree = treeOf('Include /etc/ssh/sshd_config.d/*.conf\nMatch Address 198.51.100.0/24\n\tX11Forwarding no\n\tPasswordAuthentication yes\n', {
      '50-lab.conf': 'Match Address 198.51.0.0/16\n\tPasswordAuthentication yes\n',
    });
    const r = editSshdConfig(tree, request);
    assert.deepEqual(errors(r), []);
    assert.deepEqual(
      r.changes.map((c) => [c.path, c.after]),
      [
        ['/etc/ssh/sshd_config.d/50-lab.conf', 'Match Address 198.51.100.0/24\n\tPasswordAuthentication no\n\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n'],
        [
          '/etc/ssh/sshd_config',
          'Include /etc/ssh/sshd_config.d/*.conf\nMatch Address 198.51.100.0/24\n\tX11Forwarding no\n\t#PasswordAuthentication yes # disabled by sshfix: PasswordAuthentication is set at /etc/ssh/sshd_config.d/50-lab.conf:2\n',
        ],
      ],
    );
    assert.equal(pw(r.tree, '198.51.100.7'), 'no');
    assert.equal(pw(r.tree, '198.51.7.1'), 'yes');
    assert.equal(effectiveValue(r.tree, 'X11Forwarding', { user: 'root', addr: '198.51.100.7' }).values[0], 'no', 'the rest of the existing block still applies');
  });

  it('puts a second shadowed keyword into the block it placed for the first, not into a new one', () => {
    const tree = treeOf('Include /etc/ssh/sshd_config.d/*.conf\nMatch Address 198.51.100.0/24\n\tX11Forwarding no\n', {
      '50-lab.conf': 'Match Address 198.51.0.0/16\n\tPasswordAuthentication yes\n\tMaxAuthTries 3\n',
    });
    const r = editSshdConfigAll(tree, [request, { op: 'set', keyword: 'MaxAuthTries', value: '6', match: 'Address 198.51.100.0/24' }]);
    assert.deepEqual(errors(r), []);
    assert.deepEqual(
      r.changes.map((c) => [c.path, c.after]),
      [['/etc/ssh/sshd_config.d/50-lab.conf', 'Match Address 198.51.100.0/24\n\tPasswordAuthentication no\n\tMaxAuthTries 6\n\nMatch Address 198.51.0.0/16\n\tPasswordAuthentication yes\n\tMaxAuthTries 3\n']],
    );
    assert.equal(effectiveValue(r.tree, 'MaxAuthTries', { user: 'root', addr: '198.51.100.7' }).values[0], '6');
    assert.equal(effectiveValue(r.tree, 'MaxAuthTries', { user: 'root', addr: '198.51.7.7' }).values[0], '3');
  });

  it('refuses to edit an existing narrower block when the broader one before it cannot be proven to cover it', () => {
    const tree = treeOf('Match Address 198.51.*\n\tPasswordAuthentication yes\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication yes\n');
    const r = editSshdConfig(tree, request);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(errors(r).map((d) => d.code), ['match-shadowed']);
    assert.match(errors(r)[0]!.message, /"Match Address 198\.51\.\*" at \/etc\/ssh\/sshd_config:1 .*sets it at \/etc\/ssh\/sshd_config:2/);
    assert.match(errors(r)[0]!.message, /addr=198\.51\.100\.1/);
  });

  it('places the setting before a Match all block that sets the keyword', () => {
    const tree = treeOf('Port 22\nMatch all\n\tPasswordAuthentication yes\n');
    const r = editSshdConfig(tree, request);
    assert.deepEqual(errors(r), []);
    assert.equal(r.changes[0]!.after, 'Port 22\n\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication no\n\nMatch all\n\tPasswordAuthentication yes\n');
    assert.equal(pw(r.tree, '198.51.100.7'), 'no');
    assert.equal(pw(r.tree, '203.0.113.5'), 'yes');
    assert.equal(effectiveValue(r.tree, 'PasswordAuthentication').values[0], 'yes', 'plain sshd -T: unchanged');
  });

  it('refuses before a Match all block it cannot place a block in front of (read through an Include inside Match)', () => {
    const tree = treeOf('Match User *\n\tInclude /etc/ssh/sshd_config.d/*.conf\n', { '50-all.conf': 'Match all\n\tPasswordAuthentication yes\n' });
    const r = editSshdConfig(tree, request);
    assert.deepEqual(r.changes, []);
    assert.deepEqual(errors(r).map((d) => d.code), ['match-shadowed']);
    assert.match(errors(r)[0]!.message, /"Match All" at \/etc\/ssh\/sshd_config\.d\/50-all\.conf:1 .*read through \/etc\/ssh\/sshd_config:2, inside a Match block/);
  });

  it('is a no-op, not a dead block, when the earlier block already sets the requested value', () => {
    const tree = treeOf('Match Address 198.51.0.0/16\n\tPasswordAuthentication no\n');
    const r = editSshdConfig(tree, request);
    assert.deepEqual(r.changes, []);
    assert.match(r.reason ?? '', /already no in Match Address 198\.51\.100\.0\/24: the block "Match Address 198\.51\.0\.0\/16" at \/etc\/ssh\/sshd_config:1 is read first/);
  });

  it('refuses add/remove on a list an earlier block decides', () => {
    const tree = treeOf('Match Address 198.51.0.0/16\n\tPubkeyAcceptedAlgorithms ssh-ed25519\n');
    const r = editSshdConfig(tree, { op: 'add', keyword: 'PubkeyAcceptedAlgorithms', values: ['ssh-rsa'], match: 'Address 198.51.100.0/24' });
    assert.deepEqual(errors(r).map((d) => d.code), ['match-shadowed']);
  });
});

describe('matchCovers', () => {
  const covers = (outer: string, inner: string) => matchCovers(criteria(outer), criteria(inner));
  it('knows networks, names, Match all and negations', () => {
    assert.equal(covers('Address 198.51.0.0/16', 'Address 198.51.100.0/24'), true);
    assert.equal(covers('Address 198.51.100.0/24', 'Address 198.51.0.0/16'), false);
    assert.equal(covers('Address 198.51.0.0/16,!198.51.100.0/24', 'Address 198.51.100.0/24'), false);
    assert.equal(covers('All', 'User alice'), true);
    assert.equal(covers('User alice,bob', 'User bob Address 192.0.2.0/24'), true);
    assert.equal(covers('User alice Address 192.0.2.0/24', 'Address 192.0.2.0/24'), false);
    assert.equal(covers('User a*', 'User alice'), true);
    assert.equal(covers('User alice', 'User a*'), false);
    assert.equal(covers('Host *.example.org', 'Host WEB.example.org'), true);
    assert.equal(covers('Group staff,admins', 'Group admins'), true);
    assert.equal(covers('Address 198.51.100.*', 'Address 198.51.100.7'), true);
  });
});
