/**
 * Private keys for public key authentication: read and decrypted once per run (bcrypt KDF
 * decryption of an OpenSSH key takes a noticeable fraction of a second, and a prompt must not
 * repeat for every host), then shared by every connection that names the same file.
 */
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { fingerprintSha256, keyTypeLabel, keyTypeOfBlob } from './host-key.js';
import type { SecretPrompt } from './passphrase-prompt.js';
import { withReusableSigner } from './ssh2-login-cost.js';
import { TransportError } from './types.js';

export interface LoadedIdentity {
  path: string;
  key: ParsedKey;
  /** `ED25519 SHA256:...`, for messages. */
  label: string;
}

/** Why an identity file could not be used; `missing` lets the caller fall back to other methods. */
export type IdentityResult = { ok: true; identity: LoadedIdentity } | { ok: false; missing: boolean; error: TransportError };

const PROMPT_ATTEMPTS = 3;

export class IdentityStore {
  private readonly cache = new Map<string, Promise<IdentityResult>>();
  /** One prompt at a time: concurrent handshakes must not talk over each other on the terminal. */
  private promptQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly prompt: SecretPrompt | undefined,
  ) {}

  load(path: string, passphraseEnv: string | undefined): Promise<IdentityResult> {
    const cacheKey = `${passphraseEnv ?? ''}\0${path}`;
    let result = this.cache.get(cacheKey);
    if (!result) {
      result = this.read(path, passphraseEnv);
      this.cache.set(cacheKey, result);
    }
    return result;
  }

  private async read(path: string, passphraseEnv: string | undefined): Promise<IdentityResult> {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        ok: false,
        missing: code === 'ENOENT',
        error: unreadable(path, `cannot read identity file ${path} (${code ?? String(err)})`, 'Check identity_file in the inventory and the file\'s permissions.'),
      };
    }
    const format = unsupportedFormat(data);
    if (format) return { ok: false, missing: false, error: unreadable(path, `identity file ${path} is ${format.what}`, format.fix) };

    let parsed = parseKey(data, undefined);
    if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
      const fromEnv = passphraseEnv !== undefined ? this.env[passphraseEnv] : undefined;
      if (fromEnv !== undefined) {
        parsed = parseKey(data, fromEnv);
        if (parsed instanceof Error && isBadPassphrase(parsed)) {
          return {
            ok: false,
            missing: false,
            error: unreadable(path, `the passphrase in $${passphraseEnv} does not decrypt ${path}`, `Put the key's passphrase in $${passphraseEnv}.`),
          };
        }
      } else if (this.prompt) {
        parsed = await this.askPassphrase(path, data);
      } else {
        const hint = passphraseEnv
          ? `$${passphraseEnv} (named by passphrase_env) is not set: export it, or run on a terminal to be asked.`
          : 'Set passphrase_env to the name of an environment variable holding it, run on a terminal to be asked, or use agent: true.';
        return { ok: false, missing: false, error: unreadable(path, `identity file ${path} is encrypted and no passphrase is available`, hint) };
      }
    }
    if (parsed instanceof Error) {
      return {
        ok: false,
        missing: false,
        error: unreadable(
          path,
          `cannot use identity file ${path}: ${parsed.message}`,
          'ssh2 reads OpenSSH-format keys (ed25519, ecdsa, rsa; encrypted or not), PEM RSA/ECDSA keys and PuTTY .ppk files. ' +
            'Convert others with `ssh-keygen -p -f FILE`, which rewrites the key in OpenSSH format.',
        ),
      };
    }
    if (!parsed.isPrivateKey()) {
      return { ok: false, missing: false, error: unreadable(path, `identity file ${path} holds a public key`, 'identity_file must name the private key (the file without .pub).') };
    }
    const blob = parsed.getPublicSSH();
    return { ok: true, identity: { path, key: withReusableSigner(parsed), label: `${keyTypeLabel(keyTypeOfBlob(blob) ?? parsed.type)} ${fingerprintSha256(blob)}` } };
  }

  private askPassphrase(path: string, data: Buffer): Promise<ParsedKey | Error> {
    const prompt = this.prompt as SecretPrompt;
    const ask = async (): Promise<ParsedKey | Error> => {
      let last: ParsedKey | Error = new Error('no passphrase given');
      for (let attempt = 0; attempt < PROMPT_ATTEMPTS; attempt++) {
        const answer = await prompt(`Enter passphrase for key '${path}': `);
        if (answer === undefined) return new Error('no passphrase given');
        last = parseKey(data, answer);
        if (!(last instanceof Error) || !isBadPassphrase(last)) return last;
      }
      return new Error(`bad passphrase (${PROMPT_ATTEMPTS} attempts)`);
    };
    const run = this.promptQueue.then(ask, ask);
    this.promptQueue = run.catch(() => undefined);
    return run;
  }
}

function parseKey(data: Buffer, passphrase: string | undefined): ParsedKey | Error {
  const parsed = passphrase === undefined ? ssh2.utils.parseKey(data) : ssh2.utils.parseKey(data, passphrase);
  if (parsed instanceof Error) return parsed;
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
}

function isBadPassphrase(err: Error): boolean {
  return /bad passphrase|integrity check failed|bad decrypt/i.test(err.message);
}

/** Formats ssh2 cannot read, recognised up front so the message can say what to do. */
function unsupportedFormat(data: Buffer): { what: string; fix: string } | undefined {
  const head = data.subarray(0, 200).toString('latin1');
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(head)) {
    return {
      what: 'a PKCS#8 key, which ssh2 cannot read',
      fix: 'Convert it to OpenSSH format with `ssh-keygen -p -f FILE` (it rewrites the file in place, keeping the key) ' +
        'or point identity_file at an OpenSSH-format copy.',
    };
  }
  if (/^(ssh-|ecdsa-sha2-|sk-)\S+ [A-Za-z0-9+/]/.test(head)) {
    return { what: 'a public key', fix: 'identity_file must name the private key (the file without .pub).' };
  }
  if (/-----BEGIN OPENSSH PRIVATE KEY-----/.test(head)) {
    const body = data.toString('latin1').replace(/-----[^-]+-----|\s/g, '');
    const decoded = Buffer.from(body, 'base64');
    if (decoded.includes('sk-ssh-ed25519@openssh.com') || decoded.includes('sk-ecdsa-sha2-nistp256@openssh.com')) {
      return {
        what: 'a FIDO security key (sk-*) key, which ssh2 cannot use',
        fix: 'Use an ed25519 or ecdsa key for sshfix, or agent: true with a key ssh2 supports.',
      };
    }
  }
  return undefined;
}

function unreadable(path: string, message: string, diagnosis: string): TransportError {
  return new TransportError('key-unreadable', message, diagnosis, { identityFile: path });
}
