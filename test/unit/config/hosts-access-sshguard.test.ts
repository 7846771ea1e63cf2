import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostsAccess } from '../../../src/config/hosts-access/parse.js';
import { findSshguardBlock, removeFromSshguardBlock, sshguardBlockedAddresses } from '../../../src/config/hosts-access/sshguard.js';
import { SSHGUARD_ALLOW } from './hosts-access-corpus.js';

describe('sshguard hosts block', () => {
  it('finds the block and the addresses it holds', () => {
    const block = findSshguardBlock(parseHostsAccess(SSHGUARD_ALLOW, '/etc/hosts.allow'))!;
    assert.equal(block.openLine, 1);
    assert.equal(block.closeLine, 4);
    assert.deepEqual(sshguardBlockedAddresses(SSHGUARD_ALLOW), ['203.0.113.9', '198.51.100.4', '2001:db8::bad', '192.0.2.50']);
  });

  it('holds nothing without markers, and only whole marker lines count', () => {
    assert.deepEqual(sshguardBlockedAddresses('ALL : 203.0.113.9 : DENY\n'), []);
    assert.equal(findSshguardBlock(parseHostsAccess('###sshguard### \nALL : 1.2.3.4 : DENY\n', '/x')), undefined);
    const open = findSshguardBlock(parseHostsAccess('###sshguard###\nALL : 1.2.3.4 : DENY\n', '/x'))!;
    assert.equal(open.closeIndex, undefined);
  });

  it('removes one address and keeps every other byte', () => {
    const r = removeFromSshguardBlock(SSHGUARD_ALLOW, '198.51.100.4');
    assert.equal(r.removed, 1);
    assert.equal(r.text, SSHGUARD_ALLOW.replace(' 198.51.100.4', ''));
    const v6 = removeFromSshguardBlock(SSHGUARD_ALLOW, '2001:DB8:0::BAD');
    assert.equal(v6.text, SSHGUARD_ALLOW.replace(' [2001:db8::bad]', ''));
    assert.equal(removeFromSshguardBlock(SSHGUARD_ALLOW, 'host.example').removed, 0);
    const plain = removeFromSshguardBlock(SSHGUARD_ALLOW, '203.0.113.9');
    assert.equal(plain.text, SSHGUARD_ALLOW.replace(' 203.0.113.9', ''));
  });

  it('drops a block line left without addresses, and leaves the markers', () => {
    const r = removeFromSshguardBlock(SSHGUARD_ALLOW, '192.0.2.50');
    assert.deepEqual(r.droppedLines, [3]);
    assert.equal(r.text, SSHGUARD_ALLOW.replace('ALL : 192.0.2.50 : DENY\n', ''));
    assert.deepEqual(sshguardBlockedAddresses(r.text), ['203.0.113.9', '198.51.100.4', '2001:db8::bad']);
  });

  it('does not touch an address outside the block', () => {
    const text = `${SSHGUARD_ALLOW}ALL: 192.0.2.99 : DENY\n`;
    assert.deepEqual(removeFromSshguardBlock(text, '192.0.2.99'), { text, removed: 0, droppedLines: [] });
  });
});
