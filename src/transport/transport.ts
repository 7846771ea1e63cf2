/**
 * The connections of one run: what the engine uses to reach hosts. It shares, across every host
 * of the run, the parsed keys (a passphrase is asked once), the known_hosts files, the host key
 * warnings, and the connections to jump hosts, and it closes them all at the end.
 *
 * Jump hosts: each jump connection is opened at most once per run and shared by every target
 * behind it (a failed one is not retried for the next target, which would hammer a bastion that
 * is already refusing and could get the runner banned). If an open jump connection drops, the next
 * target through it opens a new one. Handshakes through one jump host run at most
 * `handshakesPerJump` at a time (default 8): they all reach their targets from the jump host's
 * address, and an unthrottled burst would trip the targets' MaxStartups (default 10:30:100)
 * exactly as the bug sshfix exists to fix.
 */
import type { Client, ClientChannel } from 'ssh2';
import { classifyForwardError, emptyAttemptFacts } from './classify-error.js';
import { HostKeyVerifier, type TransportWarning } from './host-key-verifier.js';
import { IdentityStore } from './identity.js';
import { terminalPrompt, type SecretPrompt } from './passphrase-prompt.js';
import { Semaphore } from './semaphore.js';
import { openSshClient, type HandshakeContext, type OpenedClient } from './ssh-client.js';
import { connectLocal } from './local-connection.js';
import { SshConnection } from './ssh-connection.js';
import { TransportError, type ConnectTarget, type Connection } from './types.js';

export const DEFAULT_HANDSHAKES_PER_JUMP = 8;

export interface TransportOptions {
  /** Told about things that do not stop the run (unverified or newly recorded host keys). */
  onWarning?: (warning: TransportWarning) => void;
  /** Concurrent handshakes through one jump host (default 8). */
  handshakesPerJump?: number;
  /** Concurrent commands on one connection (default 8, under sshd's MaxSessions of 10). */
  channelsPerConnection?: number;
  /** Where `*_env` settings and SSH_AUTH_SOCK are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Asks for key passphrases; by default the terminal when there is one; null never asks. */
  prompt?: SecretPrompt | null;
}

export interface Transport {
  /** Opens and authenticates a connection to `target` (through its jump hosts), or rejects with a TransportError. */
  connect(target: ConnectTarget): Promise<Connection>;
  /** Closes every connection this transport opened, jump hosts last. */
  closeAll(): Promise<void>;
  /** Connections to jump hosts opened so far (each jump host once while it stays up). */
  readonly jumpConnectionsOpened: number;
}

export function createTransport(options: TransportOptions = {}): Transport {
  return new SshTransport(options);
}

/**
 * One connection with a transport of its own, for callers that need a single host; closing the
 * connection closes its jump hosts too.
 */
export async function connectSsh(target: ConnectTarget, options: TransportOptions = {}): Promise<Connection> {
  const transport = createTransport(options);
  let connection: Connection;
  try {
    connection = await transport.connect(target);
  } catch (err) {
    await transport.closeAll();
    throw err;
  }
  return {
    target: connection.target,
    info: connection.info,
    exec: (command, execOptions) => connection.exec(command, execOptions),
    stream: (command, streamOptions) => connection.stream(command, streamOptions),
    close: () => transport.closeAll(),
  };
}

interface JumpHandle {
  name: string;
  client: Client;
  handshakes: Semaphore;
}

class SshTransport implements Transport {
  private readonly identities: IdentityStore;
  private readonly hostKeys: HostKeyVerifier;
  private readonly env: NodeJS.ProcessEnv;
  private readonly jumps = new Map<string, Promise<JumpHandle>>();
  private readonly connections = new Set<SshConnection>();
  private readonly locals = new Set<Connection>();
  private readonly jumpClients = new Set<Client>();
  private opened = 0;

  constructor(private readonly options: TransportOptions) {
    this.env = options.env ?? process.env;
    const prompt = options.prompt === null ? undefined : (options.prompt ?? terminalPrompt());
    this.identities = new IdentityStore(this.env, prompt);
    this.hostKeys = new HostKeyVerifier(options.onWarning ?? (() => undefined));
  }

  get jumpConnectionsOpened(): number {
    return this.opened;
  }

  async connect(target: ConnectTarget): Promise<Connection> {
    if (target.local) return this.openLocal(target);
    const deadline = Date.now() + target.connectTimeoutMs;
    if (target.jump.length === 0) return this.adopt(target, await openSshClient(target, this.context(deadline)));
    const jump = await this.reachJump(target.jump);
    // The deadline starts once the jump host is up: waiting for it is not this target's slowness.
    const start = Date.now();
    const opened = await jump.handshakes.run(() => this.openThrough(jump, target, start + target.connectTimeoutMs));
    return this.adopt(target, opened);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.connections, ...this.locals].map((c) => c.close()));
    const clients = [...this.jumpClients].reverse();
    await Promise.all(clients.map(endClient));
  }

  private openLocal(target: ConnectTarget): Connection {
    const local = connectLocal({
      become: target.become,
      env: this.env,
      name: target.name,
      ...(target.becomePasswordEnv !== undefined ? { becomePasswordEnv: target.becomePasswordEnv } : {}),
    });
    this.locals.add(local);
    return {
      target: local.target,
      info: local.info,
      exec: (command, options) => local.exec(command, options),
      stream: (command, options) => local.stream(command, options),
      close: async () => {
        this.locals.delete(local);
        await local.close();
      },
    };
  }

  private context(deadline: number): HandshakeContext {
    return { identities: this.identities, hostKeys: this.hostKeys, env: this.env, deadline };
  }

  private adopt(target: ConnectTarget, opened: OpenedClient): Connection {
    const becomePassword = target.become === 'sudo' && target.becomePasswordEnv ? this.env[target.becomePasswordEnv] : undefined;
    const connection: SshConnection = new SshConnection(target, opened.info, opened.client, {
      ...(becomePassword !== undefined ? { becomePassword } : {}),
      ...(this.options.channelsPerConnection ? { channelsPerConnection: this.options.channelsPerConnection } : {}),
      onClosed: () => this.connections.delete(connection),
    });
    this.connections.add(connection);
    return connection;
  }

  private reachJump(chain: readonly ConnectTarget[]): Promise<JumpHandle> {
    return this.jumpHandle(chain, chain.length - 1);
  }

  private jumpHandle(chain: readonly ConnectTarget[], index: number): Promise<JumpHandle> {
    const key = chain
      .slice(0, index + 1)
      .map((hop) => `${hop.user}@${hop.address}:${hop.port}`)
      .join(' > ');
    const existing = this.jumps.get(key);
    if (existing) return existing;
    const hop = chain[index] as ConnectTarget;
    const handle = (async (): Promise<JumpHandle> => {
      let opened: OpenedClient;
      try {
        if (index === 0) {
          opened = await openSshClient(hop, this.context(Date.now() + hop.connectTimeoutMs));
        } else {
          const parent = await this.jumpHandle(chain, index - 1);
          opened = await parent.handshakes.run(() => this.openThrough(parent, hop, Date.now() + hop.connectTimeoutMs));
        }
      } catch (err) {
        throw jumpFailed(hop, err);
      }
      this.opened++;
      const { client } = opened;
      this.jumpClients.add(client);
      client.on('error', () => undefined);
      client.once('close', () => {
        this.jumpClients.delete(client);
        if (this.jumps.get(key) === handle) this.jumps.delete(key);
      });
      return { name: hop.name, client, handshakes: new Semaphore(this.options.handshakesPerJump ?? DEFAULT_HANDSHAKES_PER_JUMP) };
    })();
    this.jumps.set(key, handle);
    return handle;
  }

  private async openThrough(jump: JumpHandle, target: ConnectTarget, deadline: number): Promise<OpenedClient> {
    let channel: ClientChannel;
    try {
      channel = await forwardOut(jump.client, target, deadline);
    } catch (err) {
      const facts = emptyAttemptFacts(target, target.connectTimeoutMs);
      facts.via = jump.name;
      throw classifyForwardError(err, facts, jump.name);
    }
    return openSshClient(target, { ...this.context(deadline), sock: channel, via: jump.name });
  }
}

/** Why a target behind `hop` cannot be reached, keeping the jump host's own diagnosis. */
function jumpFailed(hop: ConnectTarget, err: unknown): unknown {
  if (!(err instanceof TransportError) || err.code === 'jump-failed') return err;
  return new TransportError(
    'jump-failed',
    `cannot reach jump host ${hop.name}: ${err.message}`,
    err.diagnosis,
    { ...err.details, jump: hop.name, jumpCode: err.code },
    err,
  );
}

/** A direct-tcpip channel from the jump host to the target, within the deadline. */
function forwardOut(client: Client, target: ConnectTarget, deadline: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    }, Math.max(1, deadline - Date.now()));
    try {
      client.forwardOut('127.0.0.1', 0, target.address, target.port, (err, channel) => {
        if (done) {
          channel?.close();
          return;
        }
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(channel);
      });
    } catch (err) {
      done = true;
      clearTimeout(timer);
      reject(err);
    }
  });
}

function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2_000);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}
