import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { editSshdConfig, editSshdConfigAll } from '../../../src/config/sshd/edit.js';
import { effectiveValue } from '../../../src/config/sshd/effective.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { loadSnapshot, SSHD_FIXTURES } from './fixtures.js';

const treeOf = (main: string, dropins: Record<string, string> = {}) =>
  buildSshdConfigTree({
    files: new Map([['/etc/ssh/sshd_config', main], ...Object.entries(dropins).map(([n, t]) => [`/etc/ssh/sshd_config.d/${n}`, t] as [string, string])]),
    listedDirs: new Set(['/etc/ssh', '/etc/ssh/sshd_config.d']),
  }).tree;
const codes = (r: { diagnostics: { code: string; severity: string }[] }) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);

describe('editSshdConfig', () => {
  it('adds a missing global setting before the first Match block, not inside it', () => {
    const tree = treeOf('Port 22\n\n# sftp users\nMatch Group sftp\n\tForceCommand internal-sftp\n');
    const r = editSshdConfig(tree, { op: 'set', keyword: 'ClientAliveInterval', value: '60' });
    assert.equal(r.changes[0]!.after, 'Port 22\n\nClientAliveInterval 60\n# sftp users\nMatch Group sftp\n\tForceCommand internal-sftp\n');
  });

  it('edits the winning drop-in line in place, keeping case, separator and comment', () => {
    const tree = treeOf('Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 300\n', { '10-a.conf': 'clientaliveinterval = 120 # keepalive\r\n' });
    const r = editSshdConfig(tree, { op: 'set', keyword: 'ClientAliveInterval', value: '60' });
    assert.deepEqual(
      r.changes.map((c) => [c.path, c.after]),
      [
        ['/etc/ssh/sshd_config.d/10-a.conf', 'clientaliveinterval = 60 # keepalive\r\n'],
        ['/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n#ClientAliveInterval 300 # disabled by sshfix: ClientAliveInterval is set at /etc/ssh/sshd_config.d/10-a.conf:1\n'],
      ],
    );
    assert.deepEqual(effectiveValue(r.tree, 'ClientAliveInterval').values, ['60']);
  });

  it('is idempotent and explains a no-op', () => {
    const tree = treeOf('MaxStartups 10:30:60\nMaxStartups 20\n');
    const first = editSshdConfig(tree, { op: 'set', keyword: 'MaxStartups', value: '100:30:500' });
    assert.equal(first.changes[0]!.after, '#MaxStartups 10:30:60 # disabled by sshfix: MaxStartups is set at /etc/ssh/sshd_config:2\nMaxStartups 100:30:500\n');
    const second = editSshdConfig(first.tree, { op: 'set', keyword: 'MaxStartups', value: '100:30:500' });
    assert.deepEqual(second.changes, []);
    assert.match(second.reason ?? '', /already 100:30:500 at \/etc\/ssh\/sshd_config:2/);
    const dflt = editSshdConfig(treeOf('Port 22\n'), { op: 'set', keyword: 'TCPKeepAlive', value: 'yes' });
    assert.deepEqual(dflt.changes, []);
    assert.match(dflt.reason ?? '', /default/);
  });

  it('creates a Match block at the end, or reuses one with the same meaning', () => {
    const tree = treeOf('Port 22\nMatch address 192.0.2.0/24 User bob\n\tX11Forwarding no\n');
    const reuse = editSshdConfig(tree, { op: 'set', keyword: 'PasswordAuthentication', value: 'yes', match: 'User bob Address 192.0.2.0/24' });
    assert.equal(reuse.changes[0]!.after, 'Port 22\nMatch address 192.0.2.0/24 User bob\n\tX11Forwarding no\n\tPasswordAuthentication yes\n');
    const create = editSshdConfig(tree, { op: 'set', keyword: 'PasswordAuthentication', value: 'yes', match: 'Address 198.51.100.0/24' });
    assert.equal(create.changes[0]!.after, 'Port 22\nMatch address 192.0.2.0/24 User bob\n\tX11Forwarding no\n\nMatch Address 198.51.100.0/24\n\tPasswordAuthentication yes\n');
  });

  it('refuses with codes and hints', () => {
    const tree = treeOf('Port 22\n');
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'set', keyword: 'ClientAliveIntervl', value: '1' })), ['unknown-keyword']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'set', keyword: 'KexAlgorithms', value: '+diffie-hellman-group14-sha1', match: 'Address 192.0.2.0/24' })), ['not-allowed-in-match']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'set', keyword: 'MaxStartups', value: '100:0:50' })), ['invalid-maxstartups']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'set', keyword: 'ClientAliveInterval', value: '1x' })), ['invalid-time']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'set', keyword: 'TCPKeepAlive', value: 'on' })), ['invalid-flag']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'add', keyword: 'KexAlgorithms', values: ['nope'] })), ['unknown-algorithm']);
    assert.deepEqual(codes(editSshdConfig(tree, { op: 'add', keyword: 'ClientAliveInterval', values: ['1'] })), ['not-a-list']);
  });

  it('adds to and removes from lists without touching other values', () => {
    const tree = treeOf('AllowUsers alice "bob"\nAllowUsers carol\n');
    const add = editSshdConfig(tree, { op: 'add', keyword: 'AllowUsers', values: ['deploy'] });
    assert.equal(add.changes[0]!.after, 'AllowUsers alice "bob" deploy\nAllowUsers carol\n');
    assert.deepEqual(editSshdConfig(add.tree, { op: 'add', keyword: 'AllowUsers', values: ['carol', 'deploy'] }).changes, []);
    const rm = editSshdConfig(tree, { op: 'remove', keyword: 'AllowUsers', values: ['carol'] });
    assert.equal(rm.changes[0]!.after, 'AllowUsers alice "bob"\n#AllowUsers carol # disabled by sshfix: removed carol\n');
    const none = editSshdConfig(treeOf('Port 22\n'), { op: 'add', keyword: 'AllowUsers', values: ['deploy'] });
    assert.deepEqual(none.changes, []);
    assert.match(none.reason ?? '', /every user is already allowed/);
  });

  it('algorithm lists use + and - forms', () => {
    const tree = treeOf('Port 22\n');
    const add = editSshdConfig(tree, { op: 'add', keyword: 'KexAlgorithms', values: ['diffie-hellman-group14-sha1'] });
    assert.equal(add.changes[0]!.after, 'Port 22\nKexAlgorithms +diffie-hellman-group14-sha1\n');
    const rm = editSshdConfig(add.tree, { op: 'remove', keyword: 'KexAlgorithms', values: ['diffie-hellman-group14-sha1'] });
    assert.ok(!effectiveValue(rm.tree, 'KexAlgorithms').values[0]!.includes('group14-sha1'));
  });

  it('unset comments out every applying occurrence and leaves Match blocks alone', () => {
    const tree = treeOf('X11Forwarding yes\nMatch User a\n\tX11Forwarding yes\n');
    const r = editSshdConfig(tree, { op: 'unset', keyword: 'X11Forwarding' });
    assert.equal(r.changes[0]!.after, '#X11Forwarding yes # disabled by sshfix: unset X11Forwarding\nMatch User a\n\tX11Forwarding yes\n');
  });

  it('applies several edits into one change per file', () => {
    const { tree } = buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, 'debian-12')));
    const r = editSshdConfigAll(tree, [
      { op: 'set', keyword: 'ClientAliveInterval', value: '60' },
      { op: 'set', keyword: 'ClientAliveCountMax', value: '3' },
      { op: 'set', keyword: 'TCPKeepAlive', value: 'yes' },
    ]);
    assert.equal(r.changes.length, 1);
    assert.equal(r.changes[0]!.after, r.changes[0]!.before.replace('#ClientAliveInterval 0\n', '#ClientAliveInterval 0\nClientAliveInterval 60\n'));
    assert.deepEqual(editSshdConfigAll(r.tree, [{ op: 'set', keyword: 'ClientAliveInterval', value: '1m' }]).changes, []);
  });

  describe('a missing global setting in a stock file', () => {
    const debian = loadSnapshot(join(SSHD_FIXTURES, 'debian-12'));
    const debianMain = debian.files.get('/etc/ssh/sshd_config')!;
    const debianTree = (main = debianMain) => buildSshdConfigTree({ ...debian, files: new Map([...debian.files, ['/etc/ssh/sshd_config', main]]) }).tree;
    const set = (tree: ReturnType<typeof treeOf>, keyword: string, value: string) => editSshdConfig(tree, { op: 'set', keyword, value });

    it('goes right after its commented default on Debian 12, which stays', () => {
      const max = set(debianTree(), 'MaxStartups', '100:30:500');
      assert.equal(max.changes.length, 1);
      assert.equal(max.changes[0]!.after, debianMain.replace('#MaxStartups 10:30:100\n', '#MaxStartups 10:30:100\nMaxStartups 100:30:500\n'));
      assert.deepEqual(effectiveValue(max.tree, 'MaxStartups').values, ['100:30:500']);
      assert.deepEqual(set(max.tree, 'MaxStartups', '100:30:500').changes, []);
      const alive = set(debianTree(), 'ClientAliveInterval', '60');
      assert.equal(alive.changes[0]!.after, debianMain.replace('#ClientAliveInterval 0\n', '#ClientAliveInterval 0\nClientAliveInterval 60\n'));
      assert.deepEqual(effectiveValue(alive.tree, 'ClientAliveInterval').values, ['60']);
    });

    it('keeps CRLF line endings', () => {
      const crlf = debianMain.replace(/\n/g, '\r\n');
      const r = set(debianTree(crlf), 'ClientAliveInterval', '60');
      assert.equal(r.changes[0]!.after, crlf.replace('#ClientAliveInterval 0\r\n', '#ClientAliveInterval 0\r\nClientAliveInterval 60\r\n'));
      const small = set(treeOf('Port 22\r\n# clientaliveinterval = 0\r\n#ClientAliveCountMax 3\r\n'), 'ClientAliveInterval', '60');
      assert.equal(small.changes[0]!.after, 'Port 22\r\n# clientaliveinterval = 0\r\nClientAliveInterval 60\r\n#ClientAliveCountMax 3\r\n');
    });

    it('goes before a trailing commented Match example when there is no commented default', () => {
      // "# Ciphers and keying" is a heading, not a commented default: its words are no cipher names.
      const r = editSshdConfig(debianTree(), { op: 'remove', keyword: 'Ciphers', values: ['aes128-ctr'] });
      const example = '# Example of overriding settings on a per-user basis\n#Match User anoncvs\n';
      assert.equal(r.changes[0]!.after, debianMain.replace(example, `Ciphers -aes128-ctr\n${example}`));
      assert.equal(set(treeOf('Port 22\nX11Forwarding no\n\n'), 'ClientAliveInterval', '60').changes[0]!.after, 'Port 22\nX11Forwarding no\nClientAliveInterval 60\n\n');
    });

    it('ignores a commented default inside a commented Match example', () => {
      const main = 'Port 22\n\n# Example of overriding settings on a per-user basis\n#Match User anoncvs\n#\tClientAliveInterval 0\n#\tX11Forwarding no\n';
      assert.equal(
        set(treeOf(main), 'ClientAliveInterval', '60').changes[0]!.after,
        'Port 22\n\nClientAliveInterval 60\n# Example of overriding settings on a per-user basis\n#Match User anoncvs\n#\tClientAliveInterval 0\n#\tX11Forwarding no\n',
      );
      // The example ends at the next active line; an active Match after it keeps the line before both.
      const later = 'Port 22\n#Match User x\n#\tX11Forwarding no\nX11Forwarding yes\n#ClientAliveInterval 0\n';
      assert.equal(set(treeOf(later), 'ClientAliveInterval', '60').changes[0]!.after, `${later}ClientAliveInterval 60\n`);
      const beforeMatch = 'X11Forwarding no\n\n#Match User example\n#\tForceCommand /bin/false\n\nMatch Group sftp\n\t#ClientAliveInterval 0\n';
      assert.equal(
        set(treeOf(beforeMatch), 'ClientAliveInterval', '60').changes[0]!.after,
        'X11Forwarding no\n\nClientAliveInterval 60\n#Match User example\n#\tForceCommand /bin/false\n\nMatch Group sftp\n\t#ClientAliveInterval 0\n',
      );
    });

    it('goes after a whole run of commented lines for the keyword', () => {
      const r = set(treeOf('#Port 22\n#ListenAddress 0.0.0.0\n#ListenAddress ::\n\nUsePAM yes\n'), 'ListenAddress', '192.0.2.1');
      assert.equal(r.changes[0]!.after, '#Port 22\n#ListenAddress 0.0.0.0\n#ListenAddress ::\nListenAddress 192.0.2.1\n\nUsePAM yes\n');
    });
  });
});
