/**
 * What to do with the host key a server presented, given known_hosts and the host's policy.
 * Pure: the verifier in ssh-client.ts looks the key up, asks here, and carries out the answer.
 *
 * Semantics (documented in the README):
 * - `strict` (default): only a key known_hosts holds for this host is accepted.
 * - `accept-new`: a host with NO entry at all is recorded on first contact; a changed key, or a key
 *   of a type known_hosts does not hold while it holds others for the host, is refused as under
 *   strict (OpenSSH's accept-new would record the latter; sshfix does not, because a server that
 *   stops offering the known key type looks exactly like a replaced server).
 * - `off`: any key is accepted, with one warning per host and run that names its fingerprint.
 * - A `@revoked` key is refused under every policy; `@cert-authority` lines are not used (sshfix
 *   does not verify host certificates) and never make a plain key acceptable.
 */
import { fingerprintSha256, keyscanTypeName, keyTypeLabel, keyTypeOfBlob } from './host-key.js';
import { formatKnownHostsLine, type HostKeyLookup } from './known-hosts.js';
import { TransportError } from './types.js';

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export type HostKeyDecision =
  | { action: 'accept' }
  | { action: 'record'; line: string }
  | { action: 'accept-unverified'; warning: string }
  | { action: 'refuse'; error: TransportError };

export interface HostKeyQuestion {
  policy: HostKeyPolicy;
  lookup: HostKeyLookup;
  /** The name known_hosts files the host under (`addr` or `[addr]:port`). */
  knownHostsName: string;
  blob: Buffer;
  target: { name: string; address: string; port: number };
  knownHostsPath: string;
  knownHostsExists: boolean;
}

export function decideHostKey(q: HostKeyQuestion): HostKeyDecision {
  const type = keyTypeOfBlob(q.blob) ?? 'unknown';
  const presented = `${keyTypeLabel(type)} ${fingerprintSha256(q.blob)}`;
  const where = `${q.target.address}:${q.target.port}`;
  const keyscan = `ssh-keyscan -p ${q.target.port} -t ${keyscanTypeName(type)} ${q.target.address} >> ${q.knownHostsPath}`;
  const checkOnHost = `on the host, \`ssh-keygen -lf /etc/ssh/ssh_host_${keyscanTypeName(type)}_key.pub\` prints it`;
  const details = {
    address: q.target.address,
    port: q.target.port,
    knownHosts: q.knownHostsPath,
    keyType: type,
    fingerprint: fingerprintSha256(q.blob),
    policy: q.policy,
  };
  const { lookup } = q;

  if (lookup.status === 'match') return { action: 'accept' };
  if (lookup.status === 'revoked') {
    return {
      action: 'refuse',
      error: new TransportError(
        'host-key-revoked',
        `the host key of ${where} (${presented}) is marked @revoked in ${q.knownHostsPath} line ${lookup.entry.line}`,
        'A revoked key is never accepted, whatever host_key_policy says. The host needs a new host key ' +
          '(`ssh-keygen -A` after removing the old key files, then a reload of sshd), and known_hosts its new fingerprint.',
        { ...details, line: lookup.entry.line },
      ),
    };
  }
  if (q.policy === 'off') {
    const differs =
      lookup.status === 'changed'
        ? ` - it DIFFERS from the key in ${q.knownHostsPath} line ${lookup.entries.map((e) => e.line).join(', ')}`
        : '';
    return { action: 'accept-unverified', warning: `host key of ${q.target.name} (${where}) not verified (host_key_policy: off): ${presented}${differs}` };
  }
  if (lookup.status === 'changed') {
    const old = lookup.entries.map((e) => `${fingerprintSha256(e.blob)} (line ${e.line})`).join(', ');
    return {
      action: 'refuse',
      error: new TransportError(
        'host-key-changed',
        `HOST KEY CHANGED for ${where}: the server presented ${presented}, but ${q.knownHostsPath} holds ${old}`,
        'Either the host was reinstalled or its keys replaced, or someone is intercepting the connection. Confirm the new ' +
          `fingerprint with the host's owner first (${checkOnHost}). Then remove the old entry with ` +
          `\`ssh-keygen -R '${q.knownHostsName}' -f ${q.knownHostsPath}\` and add the new one with \`${keyscan}\`. ` +
          'sshfix never replaces a known key by itself.',
        { ...details, knownFingerprints: lookup.entries.map((e) => fingerprintSha256(e.blob)), lines: lookup.entries.map((e) => e.line) },
      ),
    };
  }
  if (lookup.status === 'other-types') {
    return {
      action: 'refuse',
      error: new TransportError(
        'host-key-unknown',
        `no ${keyTypeLabel(type)} host key is known for ${where} (presented ${presented}); ${q.knownHostsPath} holds only ` +
          `${lookup.knownTypes.map(keyTypeLabel).join(', ')} key(s) for it, and the server did not offer those`,
        'A server that stops offering the key type you know may be reinstalled or may be an impostor, so sshfix does not ' +
          `record the new key even under accept-new. If the change is expected, verify the fingerprint (${checkOnHost}) ` +
          `and add it: \`${keyscan}\`.`,
        { ...details, knownTypes: lookup.knownTypes },
      ),
    };
  }
  if (q.policy === 'accept-new') {
    return { action: 'record', line: formatKnownHostsLine(q.knownHostsName, q.blob) };
  }
  const missing = q.knownHostsExists ? '' : ` (${q.knownHostsPath} does not exist)`;
  const ca = lookup.certAuthorityOnly
    ? ' known_hosts trusts a @cert-authority for this host, but sshfix does not verify host certificates: add the plain key.'
    : '';
  return {
    action: 'refuse',
    error: new TransportError(
      'host-key-unknown',
      `the host key of ${where} is not known: ${presented}${missing}`,
      `host_key_policy is strict, so only keys already in ${q.knownHostsPath} are accepted.${ca} Verify the fingerprint ` +
        `with the host's owner (${checkOnHost}), then add it: \`${keyscan}\`. Or set host_key_policy: accept-new for this ` +
        'host to record its key on first contact.',
      details,
    ),
  };
}
