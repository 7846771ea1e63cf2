/** Reading diagnose's evidence records: what sshguard's configuration and listings say. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpretEvidence, type RecordedResult } from '../../../src/diagnose/evidence-script.js';

const ok = (stdout: string): RecordedResult => ({ exitCode: 0, stdout, stderr: '' });

function sshguardEvidence(backendPath: string, listings: Record<string, string> = {}) {
  const commands = new Map<string, RecordedResult>([
    ['sshguard_running', ok('yes\n')],
    ['sshguard_conf', ok(`# sshguard.conf\nBACKEND="${backendPath}"\nFILES="/var/log/auth.log"\n`)],
    ...Object.entries(listings).map(([name, text]) => [name, ok(text)] as [string, RecordedResult]),
  ]);
  return interpretEvidence(commands, { client: '192.0.2.7', since: 0, now: 1 }).sshguard;
}

describe('diagnose evidence: sshguard', () => {
  it('names the backend as the sshguard task does, and reads its blocks', () => {
    const nft = sshguardEvidence('/usr/libexec/sshguard/sshg-fw-nft-sets', {
      sshguard_nft4: 'table ip sshguard {\n\tset attackers {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.0.2.0/24 }\n\t}\n}\n',
    });
    assert.equal(nft?.backend, 'nft-sets');
    assert.deepEqual(nft?.blocked, ['192.0.2.0/24']);
    assert.equal(sshguardEvidence('/usr/libexec/sshguard/sshg-fw-ipset')?.backend, 'ipset');
    assert.equal(sshguardEvidence('/usr/libexec/sshguard/sshg-fw-iptables')?.backend, 'iptables');
    assert.equal(sshguardEvidence('/usr/libexec/sshguard/sshg-fw-hosts')?.backend, 'hosts');
  });

  it('names a program it does not know by its path', () => {
    assert.equal(sshguardEvidence('/usr/local/libexec/sshg-fw-custom')?.backend, '/usr/local/libexec/sshg-fw-custom');
  });
});
