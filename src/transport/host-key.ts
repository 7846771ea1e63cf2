/**
 * Facts about SSH public key blobs (RFC 4253 section 6.6): their type, their OpenSSH fingerprint,
 * and which host key algorithms negotiate them. Pure.
 */
import { createHash } from 'node:crypto';

/** The key type a public key blob starts with (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  const type = blob.toString('latin1', 4, 4 + length);
  return /^[a-z0-9@.-]+$/.test(type) ? type : undefined;
}

/** The OpenSSH `SHA256:` fingerprint: base64 of the SHA-256 of the blob, without padding. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The short name OpenSSH prints (`ED25519`, `ECDSA`, `RSA`, `DSA`). */
export function keyTypeLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (type === 'ssh-rsa') return 'RSA';
  if (type === 'ssh-dss') return 'DSA';
  return type;
}

/** The `ssh-keyscan -t` / `ssh-keygen -t` name of a key type. */
export function keyscanTypeName(type: string): string {
  return keyTypeLabel(type).toLowerCase();
}

/**
 * Host key algorithms that negotiate a key of this type: RSA keys sign with rsa-sha2-512/256 on
 * any current server and ssh-rsa (SHA-1) only on old ones.
 */
export function hostKeyAlgorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}
