import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { effectiveValue, evaluateSshdConfig } from '../../../src/config/sshd/effective.js';
import { buildSshdConfigTree } from '../../../src/config/sshd/tree.js';
import { loadSnapshot, SSHD_FIXTURES } from './fixtures.js';

const fixture = (name: string) => buildSshdConfigTree(loadSnapshot(join(SSHD_FIXTURES, name))).tree;
const treeOf = (files: Record<string, string>, listed: string[] = ['/etc/ssh', '/etc/ssh/sshd_config.d']) =>
  buildSshdConfigTree({ files: new Map(Object.entries(files)), listedDirs: new Set(listed) });

describe('effectiveValue', () => {
  it('a cloud-init drop-in beats the main file (first value wins) and names its line', () => {
    const v = effectiveValue(fixture('ubuntu-24.04'), 'PasswordAuthentication');
    assert.deepEqual(v.values, ['yes']);
    assert.deepEqual(v.source, { path: '/etc/ssh/sshd_config.d/50-cloud-init.conf', line: 1 });
  });

  it('defaults have no source; aliases print under the canonical name', () => {
    const tree = fixture('debian-12');
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval'), { dumpName: 'clientaliveinterval', values: ['0'], sources: [], exact: true });
    assert.equal(effectiveValue(tree, 'ChallengeResponseAuthentication').dumpName, 'kbdinteractiveauthentication');
    assert.deepEqual(effectiveValue(tree, 'PermitRootLogin').values, ['without-password']);
  });

  it('RHEL: crypto-policies set the algorithms through 50-redhat.conf', () => {
    const v = effectiveValue(fixture('rhel-9'), 'Ciphers');
    assert.equal(v.source?.path, '/etc/crypto-policies/back-ends/opensshserver.config');
    assert.equal(v.values[0], 'aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com,aes128-ctr');
    assert.deepEqual(effectiveValue(fixture('rhel-9'), 'PermitRootLogin').values, ['yes']);
  });

  it('MaxStartups: the last line wins in 9.2, a bare N keeps the earlier rate', () => {
    const { tree } = treeOf({ '/etc/ssh/sshd_config': 'MaxStartups 20:50:80\nMaxStartups 30\n' });
    assert.deepEqual(effectiveValue(tree, 'MaxStartups').values, ['30:50:30']);
    assert.deepEqual(effectiveValue(tree, 'maxstartups').source, { path: '/etc/ssh/sshd_config', line: 2 });
    assert.deepEqual(effectiveValue(tree, 'MaxStartups', undefined, { version: '10.1' }).values, ['20:50:80']);
  });

  it('Match values replace global ones for matching connections only; lists are replaced', () => {
    const { tree } = treeOf({ '/etc/ssh/sshd_config': 'AllowUsers alice bob\nClientAliveInterval 1m\nMatch Address 192.0.2.0/24\n\tAllowUsers deploy\n\tClientAliveInterval 2h\n' });
    assert.deepEqual(effectiveValue(tree, 'AllowUsers').values, ['alice', 'bob']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval').values, ['60']);
    const inNet = { addr: '192.0.2.7', user: 'x' };
    assert.deepEqual(effectiveValue(tree, 'AllowUsers', inNet).values, ['deploy']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval', inNet).values, ['7200']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval', inNet).source, { path: '/etc/ssh/sshd_config', line: 5 });
  });

  it('Include inside Match: included lines belong to the block, Match state is restored after a drop-in', () => {
    const tree = fixture('include-in-match');
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication').values, ['no']);
    assert.deepEqual(effectiveValue(tree, 'PasswordAuthentication', { user: 'admin' }).values, ['yes']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveInterval', { user: 'admin' }).values, ['30']);
    assert.deepEqual(effectiveValue(tree, 'LoginGraceTime').values, ['60']);
    assert.deepEqual(effectiveValue(tree, 'ClientAliveCountMax').values, ['5']);
  });

  it('relative Include paths resolve under /etc/ssh whatever the main path; missing globs are skipped', () => {
    const { tree, unresolved } = buildSshdConfigTree({ files: new Map([['/srv/alt/sshd_config', 'Include x.d/*.conf\nInclude nothing/*.conf\n'], ['/etc/ssh/x.d/a.conf', 'Port 2222\n']]), listedDirs: new Set(['/etc/ssh', '/etc/ssh/x.d']) }, '/srv/alt/sshd_config');
    assert.deepEqual(unresolved, []);
    assert.deepEqual(effectiveValue(tree, 'Port').values, ['2222']);
  });

  it('reports Include directories the snapshot has not listed, so the gatherer can fetch them', () => {
    const { unresolved } = buildSshdConfigTree({ files: new Map([['/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\n']]), listedDirs: new Set() });
    assert.deepEqual(unresolved, ['/etc/ssh/sshd_config.d/*.conf']);
  });

  it('finds what sshd -t would refuse', () => {
    const { tree } = treeOf({ '/etc/ssh/sshd_config': 'ClientAliveIntervl 5\nMatch User x\n\tMaxStartups 10\n\tClientAliveInterval 5q\n' });
    const codes = evaluateSshdConfig(tree).diagnostics.map((d) => [d.code, d.range?.start.line]);
    assert.deepEqual(codes, [['unknown-keyword', 1], ['not-allowed-in-match', 3], ['invalid-time', 4]]);
    const unknown = evaluateSshdConfig(tree).diagnostics[0]!;
    assert.equal(unknown.hint, 'did you mean "ClientAliveInterval"?');
  });
});
