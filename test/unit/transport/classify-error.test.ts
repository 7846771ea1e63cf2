import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyConnectError,
  classifyForwardError,
  emptyAttemptFacts,
  recordNegotiationDebug,
  type AttemptFacts,
} from '../../../src/transport/classify-error.js';
import { TransportError } from '../../../src/transport/types.js';

function facts(extra: Partial<AttemptFacts> = {}): AttemptFacts {
  return { ...emptyAttemptFacts({ name: 'web-01', address: '10.0.0.1', port: 22, user: 'root' }, 10_000), ...extra };
}
function sshError(message: string, level?: string, code?: string | number): Error {
  return Object.assign(new Error(message), level ? { level } : {}, code !== undefined ? { code } : {});
}
const BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10';

describe('classifying connection failures', () => {
  it('tells DNS, refusal, unreachable and silence apart by errno code', () => {
    assert.equal(classifyConnectError(sshError('getaddrinfo ENOTFOUND x.invalid', 'client-socket', 'ENOTFOUND'), facts()).code, 'dns');
    assert.equal(classifyConnectError(sshError('Error while looking up', 'client-dns'), facts()).code, 'dns');
    assert.match(classifyConnectError(sshError('x', undefined, 'EAI_AGAIN'), facts()).message, /resolver did not answer/);
    assert.equal(classifyConnectError(sshError('connect ECONNREFUSED', 'client-socket', 'ECONNREFUSED'), facts()).code, 'refused');
    assert.equal(classifyConnectError(sshError('connect EHOSTUNREACH', 'client-socket', 'EHOSTUNREACH'), facts()).code, 'unreachable');
    const silent = classifyConnectError(sshError('connect ETIMEDOUT', undefined, 'ETIMEDOUT'), facts());
    assert.equal(silent.code, 'timeout');
    assert.equal(silent.details.phase, 'tcp');
    assert.match(silent.diagnosis, /DROP/);
  });

  it('separates a missing banner from a stalled handshake on ssh2\'s handshake timeout', () => {
    const timeout = sshError('Timed out while waiting for handshake', 'client-timeout');
    const noBanner = classifyConnectError(timeout, facts({ tcpConnected: true }));
    assert.equal(noBanner.code, 'timeout');
    assert.equal(noBanner.details.phase, 'banner');
    assert.match(noBanner.message, /sent no SSH banner/);
    const kex = classifyConnectError(timeout, facts({ tcpConnected: true, serverBanner: BANNER }));
    assert.equal(kex.details.phase, 'key exchange');
    const auth = classifyConnectError(timeout, facts({ tcpConnected: true, serverBanner: BANNER, handshakeDone: true }));
    assert.equal(auth.details.phase, 'authentication');
  });

  it('reads a close before the banner as a ban, TCP wrappers or MaxStartups, and names each', () => {
    const err = classifyConnectError(sshError('Connection lost before handshake', 'protocol'), facts({ tcpConnected: true }));
    assert.equal(err.code, 'closed-before-banner');
    for (const cause of [/fail2ban/, /sshguard/, /hosts\.deny/, /MaxStartups/, /refused connect from/, /past MaxStartups/]) assert.match(err.diagnosis, cause);
    const reset = classifyConnectError(sshError('read ECONNRESET', 'client-socket', 'ECONNRESET'), facts({ tcpConnected: true }));
    assert.equal(reset.code, 'closed-before-banner');
  });

  it('says MaxStartups outright when the server said so before closing', () => {
    const err = classifyConnectError(sshError('Connection lost before handshake', 'protocol'), facts({ tcpConnected: true, preBanner: 'Exceeded MaxStartups\r\n' }));
    assert.equal(err.code, 'closed-before-banner');
    assert.match(err.message, /Exceeded MaxStartups/);
    assert.match(err.diagnosis, /shedding connections/);
  });

  it('lists both sides\' algorithms and the scoped fix for a key exchange mismatch', () => {
    const f = facts({ tcpConnected: true, serverBanner: BANNER });
    recordNegotiationDebug('Handshake: (local) KEX method: curve25519-sha256@libssh.org,curve25519-sha256,ecdh-sha2-nistp256,ext-info-c', f.offers);
    recordNegotiationDebug('Handshake: (remote) KEX method: diffie-hellman-group14-sha1,ext-info-s,kex-strict-s-v00@openssh.com', f.offers);
    recordNegotiationDebug('Handshake: no matching key exchange algorithm', f.offers);
    const err = classifyConnectError(sshError('Handshake failed: no matching key exchange algorithm', 'handshake'), f);
    assert.equal(err.code, 'kex-mismatch');
    assert.deepEqual(err.details.serverOffer, ['diffie-hellman-group14-sha1']);
    assert.deepEqual(err.details.clientOffer, ['curve25519-sha256@libssh.org', 'curve25519-sha256', 'ecdh-sha2-nistp256']);
    assert.match(err.message, /Server offers: diffie-hellman-group14-sha1\. sshfix \(ssh2\) offers: curve25519-sha256@libssh\.org/);
    assert.match(err.diagnosis, /algorithms: \{ kex: \["\+diffie-hellman-group14-sha1"\] \}/);
    assert.match(err.diagnosis, /Host 10\.0\.0\.1/);
    assert.match(err.diagnosis, /never `Host \*`/);
    assert.deepEqual(err.details.fix, { algorithms: { kex: ['+diffie-hellman-group14-sha1'] } });
  });

  it('classifies host key, cipher and MAC mismatches with their own codes and inventory keys', () => {
    const f = facts({ tcpConnected: true, serverBanner: BANNER });
    recordNegotiationDebug('Handshake: (local) Host key format: ssh-ed25519,ecdsa-sha2-nistp256', f.offers);
    recordNegotiationDebug('Handshake: (remote) Host key format: ssh-dss', f.offers);
    recordNegotiationDebug('Handshake: (local) C->S cipher: aes128-ctr', f.offers);
    recordNegotiationDebug('Handshake: (remote) C->S cipher: aes256-cbc,3des-cbc', f.offers);
    recordNegotiationDebug('Handshake: (remote) C->S MAC: hmac-md5', f.offers);
    const hostKey = classifyConnectError(sshError('Handshake failed: no matching host key format', 'handshake'), f);
    assert.equal(hostKey.code, 'hostkey-algorithm-mismatch');
    assert.match(hostKey.diagnosis, /hostkey: \["\+ssh-dss"\]/);
    const cipher = classifyConnectError(sshError('Handshake failed: no matching C->S cipher', 'handshake'), f);
    assert.equal(cipher.code, 'cipher-mismatch');
    assert.match(cipher.diagnosis, /cipher: \["\+aes256-cbc"\]/);
    assert.equal(classifyConnectError(sshError('Handshake failed: no matching C->S MAC', 'handshake'), f).code, 'mac-mismatch');
  });

  it('says when ssh2 cannot speak any algorithm the server offers', () => {
    const f = facts({ tcpConnected: true });
    recordNegotiationDebug('Handshake: (remote) KEX method: sntrup761x25519-sha512@openssh.com', f.offers);
    const err = classifyConnectError(sshError('Handshake failed: no matching key exchange algorithm', 'handshake'), f);
    assert.match(err.diagnosis, /implements none/);
    assert.equal(err.details.suggestion, undefined);
  });

  it('prefers the verifier\'s own refusal over ssh2\'s generic "Host denied"', () => {
    const refusal = new TransportError('host-key-changed', 'HOST KEY CHANGED', 'fix it');
    assert.equal(classifyConnectError(sshError('Host denied (verification failed)', 'handshake'), facts({ hostKeyRefusal: refusal })), refusal);
  });

  it('reports which methods were tried and which the server allows on auth failure', () => {
    const f = facts({ tcpConnected: true, serverBanner: BANNER, handshakeDone: true });
    f.auth.tried.push('publickey /k (ED25519 SHA256:abc)');
    f.auth.serverAllows = ['publickey', 'password'];
    f.auth.notes.push('agent: SSH_AUTH_SOCK is not set');
    const err = classifyConnectError(sshError('All configured authentication methods failed', 'client-authentication'), f);
    assert.equal(err.code, 'auth-failed');
    assert.match(err.message, /tried: publickey \/k .*server allows: publickey, password/);
    assert.match(err.diagnosis, /AllowUsers/);
    assert.match(err.diagnosis, /SSH_AUTH_SOCK/);
  });

  it('says when the server accepts none of the methods sshfix has', () => {
    const f = facts({ handshakeDone: true });
    f.auth.tried.push('password from $PW');
    f.auth.serverAllows = ['publickey'];
    assert.match(classifyConnectError(sshError('All configured authentication methods failed', 'client-authentication'), f).diagnosis, /accepts only publickey/);
  });

  it('keeps the server\'s own words for a DISCONNECT and for a close after the banner', () => {
    const disconnect = classifyConnectError(sshError('Too many authentication failures', undefined, 2), facts({ serverBanner: BANNER }));
    assert.equal(disconnect.code, 'connection-lost');
    assert.match(disconnect.message, /Too many authentication failures/);
    const closed = classifyConnectError(undefined, facts({ tcpConnected: true, serverBanner: BANNER }));
    assert.equal(closed.code, 'connection-lost');
    assert.match(closed.message, /during key exchange/);
  });

  it('classifies a jump host\'s forwarding refusal apart from the target\'s own refusal', () => {
    const f = facts({ via: 'bastion' });
    assert.equal(classifyForwardError(Object.assign(new Error('(SSH) Channel open failure: administratively prohibited'), { reason: 1 }), f, 'bastion').code, 'jump-failed');
    const refused = classifyForwardError(Object.assign(new Error('(SSH) Channel open failure: Connection refused'), { reason: 2 }), f, 'bastion');
    assert.equal(refused.code, 'refused');
    assert.match(refused.message, /seen from jump host bastion/);
    assert.equal(classifyForwardError(new Error('connect timed out'), f, 'bastion').code, 'timeout');
  });

  it('never puts anything but plain data in details', () => {
    const err = classifyConnectError(sshError('connect ECONNREFUSED', 'client-socket', 'ECONNREFUSED'), facts());
    assert.doesNotThrow(() => JSON.stringify(err.details));
    assert.deepEqual(JSON.parse(JSON.stringify(err.details)).sshError, { message: 'connect ECONNREFUSED', level: 'client-socket', code: 'ECONNREFUSED' });
  });
});
