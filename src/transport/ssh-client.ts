/**
 * One SSH handshake with ssh2: credentials, algorithms, host key verification, authentication,
 * and the facts the classifier needs when any of it fails. Always passes a hostVerifier (without
 * one ssh2 accepts any host key).
 */
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, NextAuthHandler } from 'ssh2';
import { resolveAlgorithms } from './algorithms.js';
import { classifyConnectError, emptyAttemptFacts, recordNegotiationDebug, type AttemptFacts } from './classify-error.js';
import type { HostKeyVerifier } from './host-key-verifier.js';
import type { IdentityStore } from './identity.js';
import { ignoreHostKeyAnnouncements } from './ssh2-login-cost.js';
import { connectTcp } from './tcp-connect.js';
import { TransportError, type ConnectTarget, type ConnectionInfo } from './types.js';

export interface HandshakeContext {
  identities: IdentityStore;
  hostKeys: HostKeyVerifier;
  env: NodeJS.ProcessEnv;
  /** Epoch milliseconds by which the connection must be authenticated. */
  deadline: number;
  /** A stream to run SSH over instead of a new TCP connection (a channel through a jump host). */
  sock?: Duplex;
  /** The jump host `sock` goes through, for messages. */
  via?: string;
}

export interface OpenedClient {
  client: Client;
  info: ConnectionInfo;
}

/** ssh2 counts unanswered keepalives before giving up; OpenSSH's ServerAliveCountMax default. */
const KEEPALIVE_COUNT_MAX = 3;
/** Bytes of pre-banner text kept for the diagnosis ("Exceeded MaxStartups"). */
const PRE_BANNER_LIMIT = 1024;

interface PlannedMethod {
  /** The server-side method name it needs (agent keys authenticate as publickey). */
  serverName: AuthenticationType;
  description: string;
  /** A second way to send the same credential: not worth a "not tried" note when skipped. */
  alternative?: boolean;
  make(username: string): AnyAuthMethod;
}

/** Opens and authenticates one connection, or rejects with a classified TransportError. */
export async function openSshClient(target: ConnectTarget, ctx: HandshakeContext): Promise<OpenedClient> {
  const started = Date.now();
  const facts = emptyAttemptFacts(target, target.connectTimeoutMs);
  if (ctx.via) facts.via = ctx.via;
  const methods = await planAuthentication(target, ctx, facts);

  const algorithms = resolveAlgorithms(target.algorithms, ctx.hostKeys.knownTypes(target));
  if (!algorithms.ok) {
    throw new TransportError(
      'invalid-settings',
      `the algorithm settings of ${target.name} cannot be used: ${algorithms.problems.join('; ')}`,
      'Fix algorithms in the inventory: names must be ones ssh2 implements, and each list either exact names or only +/-/^ entries.',
      { problems: algorithms.problems },
    );
  }

  let sock: Duplex;
  if (ctx.sock) {
    sock = ctx.sock;
  } else {
    try {
      const request: Parameters<typeof connectTcp>[0] = { address: target.address, port: target.port, deadline: ctx.deadline };
      if (target.localAddress) request.localAddress = target.localAddress;
      sock = await connectTcp(request);
    } catch (err) {
      facts.elapsedMs = Date.now() - started;
      throw classifyConnectError(err, facts);
    }
  }
  facts.tcpConnected = true;

  return new Promise<OpenedClient>((resolve, reject) => {
    const client = new ssh2.Client();
    const info: ConnectionInfo = {};
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      facts.elapsedMs = Date.now() - started;
      client.end();
      sock.destroy();
      reject(classifyConnectError(err, facts));
    };

    client.on('handshake', (negotiated) => {
      facts.handshakeDone = true;
      info.kex = negotiated.kex;
      info.cipher = negotiated.cs.cipher;
    });
    client.on('error', (err: Error & { level?: string }) => {
      // ssh2 reports a failing agent or key signature as an error and then goes on to the next
      // method; only the final verdict ends the attempt.
      if (err.level === 'agent' || (err.level === 'client-authentication' && !/methods failed/i.test(err.message))) {
        facts.auth.notes.push(err.message);
        return;
      }
      fail(err);
    });
    client.on('close', () => fail(undefined));
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      // From here on the Connection owns the client and its errors.
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      client.on('error', () => undefined);
      resolve({ client, info });
    });

    let methodIndex = 0;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler): void => {
      if (methodsLeft) facts.auth.serverAllows = [...methodsLeft];
      while (methodIndex < methods.length) {
        const method = methods[methodIndex++] as PlannedMethod;
        if (methodsLeft && !methodsLeft.includes(method.serverName)) {
          if (!method.alternative) facts.auth.notes.push(`${method.description} (the server does not accept ${method.serverName})`);
          continue;
        }
        facts.auth.tried.push(method.description);
        info.authMethod = method.serverName;
        next(method.make(target.user));
        return;
      }
      (next as unknown as (method: false) => void)(false);
    };

    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: target.user,
      readyTimeout: Math.max(1, ctx.deadline - Date.now()),
      keepaliveInterval: Math.max(0, (target.keepaliveIntervalS ?? 0) * 1000),
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      algorithms: {
        kex: algorithms.lists.kex as NonNullable<ConnectConfig['algorithms']>['kex'],
        serverHostKey: algorithms.lists.serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'],
        cipher: algorithms.lists.cipher as NonNullable<ConnectConfig['algorithms']>['cipher'],
        hmac: algorithms.lists.hmac as NonNullable<ConnectConfig['algorithms']>['hmac'],
      },
      hostVerifier: (key: Buffer): boolean => {
        const verdict = ctx.hostKeys.verify(target, key);
        if (!verdict.ok) {
          facts.hostKeyRefusal = verdict.error;
          return false;
        }
        info.hostKeyFingerprint = verdict.fingerprint;
        info.hostKeyType = verdict.keyType;
        return true;
      },
      authHandler: authHandler as ConnectConfig['authHandler'],
      debug: (line: string) => {
        if (!facts.handshakeDone) recordNegotiationDebug(line, facts.offers);
      },
    };
    try {
      client.connect(config);
    } catch (err) {
      fail(err);
      return;
    }
    ignoreHostKeyAnnouncements(client);
    watchBanner(sock, facts, info);
  });
}

/**
 * Watches the bytes before the SSH banner: a server that refuses may say why first
 * ("Exceeded MaxStartups"). ssh2 paused the stream before this listener is added, so adding it
 * does not start the flow early, and both listeners see every byte.
 */
function watchBanner(sock: Duplex, facts: AttemptFacts, info: ConnectionInfo): void {
  let seen = '';
  const onData = (chunk: Buffer): void => {
    seen += chunk.toString('latin1');
    const at = seen.search(/(^|\n)SSH-/);
    if (at >= 0) {
      const start = seen[at] === '\n' ? at + 1 : at;
      const line = seen.slice(start).split(/\r?\n/)[0] as string;
      facts.serverBanner = line;
      info.serverBanner = line;
      const before = seen.slice(0, start).trim();
      if (before) facts.preBanner = before;
      sock.off('data', onData);
      return;
    }
    if (seen.length > PRE_BANNER_LIMIT) {
      facts.preBanner = seen.slice(0, PRE_BANNER_LIMIT);
      sock.off('data', onData);
      return;
    }
    facts.preBanner = seen;
  };
  sock.on('data', onData);
}

async function planAuthentication(target: ConnectTarget, ctx: HandshakeContext, facts: AttemptFacts): Promise<PlannedMethod[]> {
  const methods: PlannedMethod[] = [];
  let identityError: TransportError | undefined;
  if (target.identityFile) {
    const loaded = await ctx.identities.load(target.identityFile, target.passphraseEnv);
    if (loaded.ok) {
      const { key, path, label } = loaded.identity;
      methods.push({ serverName: 'publickey', description: `publickey ${path} (${label})`, make: (username) => ({ type: 'publickey', username, key }) });
    } else if (loaded.missing) {
      identityError = loaded.error;
      facts.auth.notes.push(loaded.error.message);
    } else {
      throw loaded.error;
    }
  }
  if (target.agent) {
    const socket = ctx.env.SSH_AUTH_SOCK;
    if (socket) {
      methods.push({ serverName: 'publickey', description: `agent ${socket}`, make: (username) => ({ type: 'agent', username, agent: socket }) });
    } else {
      facts.auth.notes.push('agent: SSH_AUTH_SOCK is not set');
    }
  }
  if (target.passwordEnv) {
    const password = ctx.env[target.passwordEnv];
    if (password !== undefined) {
      methods.push({ serverName: 'password', description: `password from $${target.passwordEnv}`, make: (username) => ({ type: 'password', username, password }) });
      // PAM-only servers take the password through keyboard-interactive.
      methods.push({
        serverName: 'keyboard-interactive',
        alternative: true,
        description: `keyboard-interactive with the password from $${target.passwordEnv}`,
        make: (username) => ({
          type: 'keyboard-interactive',
          username,
          prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo ? '' : password))),
        }),
      });
    } else {
      facts.auth.notes.push(`password: $${target.passwordEnv} is not set`);
    }
  }
  if (methods.length === 0) {
    if (identityError) throw identityError;
    throw new TransportError(
      'invalid-settings',
      `no credentials to log in to ${target.name} with${facts.auth.notes.length > 0 ? ` (${facts.auth.notes.join('; ')})` : ''}`,
      'Set identity_file, agent: true (with SSH_AUTH_SOCK set) or password_env for this host in the inventory.',
      { notes: facts.auth.notes },
    );
  }
  return methods;
}
