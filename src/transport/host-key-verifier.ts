/**
 * Carries out the host key policy for every connection of a run: looks the presented key up in
 * the target's known_hosts, records it under accept-new, and warns once per host under off.
 */
import { fingerprintSha256, keyTypeLabel, keyTypeOfBlob } from './host-key.js';
import { decideHostKey } from './host-key-policy.js';
import { knownHostsName, knownKeyTypes, lookupHostKey } from './known-hosts.js';
import { KnownHostsFiles } from './known-hosts-file.js';
import { TransportError, type ConnectTarget } from './types.js';

/** Something the operator should know that does not stop the run. */
export interface TransportWarning {
  /** Inventory name of the host concerned. */
  host: string;
  code: 'host-key-not-verified' | 'host-key-recorded';
  message: string;
}

export type HostKeyVerdict = { ok: true; fingerprint: string; keyType: string } | { ok: false; error: TransportError };

export class HostKeyVerifier {
  private readonly files = new KnownHostsFiles();
  private readonly warned = new Set<string>();

  constructor(private readonly warn: (warning: TransportWarning) => void) {}

  /** Key types known_hosts holds for the target, so they can be preferred in negotiation. */
  knownTypes(target: ConnectTarget): string[] {
    if (target.hostKeyPolicy === 'off') return [];
    try {
      return knownKeyTypes(this.files.load(target.knownHosts).file, knownHostsName(target.address, target.port));
    } catch {
      return [];
    }
  }

  verify(target: ConnectTarget, blob: Buffer): HostKeyVerdict {
    const name = knownHostsName(target.address, target.port);
    const fingerprint = fingerprintSha256(blob);
    const keyType = keyTypeOfBlob(blob) ?? 'unknown';
    const accepted: HostKeyVerdict = { ok: true, fingerprint, keyType };
    let loaded;
    try {
      loaded = this.files.load(target.knownHosts);
    } catch (err) {
      return { ok: false, error: knownHostsProblem(target, `cannot read ${target.knownHosts}`, err) };
    }
    const decision = decideHostKey({
      policy: target.hostKeyPolicy,
      lookup: lookupHostKey(loaded.file, name, blob),
      knownHostsName: name,
      blob,
      target,
      knownHostsPath: target.knownHosts,
      knownHostsExists: loaded.exists,
    });
    switch (decision.action) {
      case 'accept':
        return accepted;
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'accept-unverified':
        if (!this.warned.has(`${target.knownHosts}\0${name}`)) {
          this.warned.add(`${target.knownHosts}\0${name}`);
          this.warn({ host: target.name, code: 'host-key-not-verified', message: decision.warning });
        }
        return accepted;
      case 'record':
        try {
          this.files.append(target.knownHosts, decision.line);
        } catch (err) {
          return { ok: false, error: knownHostsProblem(target, `cannot record the new host key in ${target.knownHosts}`, err) };
        }
        this.warn({
          host: target.name,
          code: 'host-key-recorded',
          message: `recorded the ${keyTypeLabel(keyType)} host key of ${target.name} (${name}, ${fingerprint}) in ${target.knownHosts} (host_key_policy: accept-new)`,
        });
        return accepted;
    }
  }
}

function knownHostsProblem(target: ConnectTarget, message: string, err: unknown): TransportError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new TransportError(
    'invalid-settings',
    `${message} (${code})`,
    'Check known_hosts in the inventory: the file (and its directory) must be readable, and writable under accept-new.',
    { knownHosts: target.knownHosts },
    err,
  );
}
