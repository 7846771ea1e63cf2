/**
 * Two things ssh2 does on every login that cost the runner (and the host) CPU for nothing sshfix
 * uses. Both reach into ssh2 1.17's internals; if those ever move, each step leaves ssh2 as it is,
 * which only costs the time again.
 *
 * - ssh2 signs a login with its key's PEM text, which OpenSSL parses again for every signature
 *   (about 0.7 ms for an ed25519 key, ten times the signature itself). A key is loaded once per
 *   run and signs every host's login, so it signs through one KeyObject made once.
 * - After a login OpenSSH's sshd announces all its host keys (`hostkeys-00@openssh.com`, for
 *   clients that update known_hosts), and ssh2 answers each time by asking the server to prove it
 *   holds them: a round trip, a signature by every host key on the host (an RSA one is the
 *   costliest thing a login makes a server do) and their verification on the runner. sshfix never
 *   updates known_hosts from it (the host key was already verified against known_hosts during the
 *   key exchange, which is untouched), so the announcement is ignored, as OpenSSH's client does
 *   with UpdateHostKeys off.
 */
import { createPrivateKey } from 'node:crypto';
import type { Client, ParsedKey } from 'ssh2';

const HOST_KEYS_ANNOUNCEMENT = 'hostkeys-00@openssh.com';

type Sign = ParsedKey['sign'];

/**
 * The same key, signing through a KeyObject. ssh2's `sign` reads the private key from a symbol
 * property holding the PEM text; it runs here against a view of the key whose property holds the
 * KeyObject instead, so hash choice and signature format stay ssh2's own.
 */
export function withReusableSigner(key: ParsedKey): ParsedKey {
  const pem = key.getPrivatePEM();
  if (typeof pem !== 'string') return key;
  const slot = Object.getOwnPropertySymbols(key).find((symbol) => (key as unknown as Record<symbol, unknown>)[symbol] === pem);
  if (slot === undefined || typeof key.sign !== 'function') return key;
  let keyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch {
    return key;
  }
  const view = Object.create(key, { [slot]: { value: keyObject } }) as ParsedKey;
  const sign = key.sign as Sign;
  return Object.create(key, {
    sign: { value: (data: Buffer, algo?: string): ReturnType<Sign> => sign.call(view, data, algo) },
  }) as ParsedKey;
}

type GlobalRequestHandler = (protocol: { requestSuccess?: () => void }, name: string, wantReply: boolean, data: unknown) => void;

interface ClientInternals {
  _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } };
}

/** Call right after `client.connect()`, which creates the protocol object whose handlers this wraps. Returns whether it could. */
export function ignoreHostKeyAnnouncements(client: Client): boolean {
  const handlers = (client as unknown as ClientInternals)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (protocol, name, wantReply, data) => {
    if (name !== HOST_KEYS_ANNOUNCEMENT) {
      original(protocol, name, wantReply, data);
      return;
    }
    // ssh2 acknowledges the announcement when asked to; so does this (sshd never asks).
    if (wantReply) protocol.requestSuccess?.();
  };
  return true;
}
