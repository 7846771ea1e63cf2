/**
 * A Connection over an authenticated ssh2 client: exec channels with stdin, binary output, exit
 * status, timeouts and sudo, and a clear error once the connection itself is gone.
 */
import type { Client, ClientChannel } from 'ssh2';
import { execThrough, streamCommand, type StartedProcess } from './run-process.js';
import { Semaphore } from './semaphore.js';
import { sudoContext } from './sudo.js';
import { TransportError, type ConnectTarget, type Connection, type ConnectionInfo, type ExecOptions, type ExecResult, type ExecStream, type StreamOptions } from './types.js';

/**
 * Channels open at once on one connection: sshd's MaxSessions defaults to 10, and a refused
 * channel would look like a failure of the host.
 */
export const DEFAULT_CHANNELS_PER_CONNECTION = 8;

/** How long close() waits for the server to acknowledge before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;

/** Waits before asking again for a channel sshd refused (about 3 s in all). */
const OPEN_RETRY_DELAYS_MS = [25, 50, 100, 200, 400, 800, 1_200];

export interface SshConnectionOptions {
  becomePassword?: string;
  channelsPerConnection?: number;
  /** Called once when the connection has closed, for whatever reason. */
  onClosed?: () => void;
}

export class SshConnection implements Connection {
  private lost: TransportError | undefined;
  private closed = false;
  private readonly channels: Semaphore;
  /** Session channels open right now (opened and not yet closed). */
  private openChannels = 0;
  private readonly closedPromise: Promise<void>;

  constructor(
    readonly target: ConnectTarget,
    readonly info: ConnectionInfo,
    private readonly client: Client,
    private readonly options: SshConnectionOptions = {},
  ) {
    this.channels = new Semaphore(options.channelsPerConnection ?? DEFAULT_CHANNELS_PER_CONNECTION);
    const where = `${target.address}:${target.port}`;
    client.on('error', (err: Error & { level?: string }) => {
      if (this.lost || this.closed) return;
      const keepalive = /keepalive/i.test(err.message);
      this.lost = new TransportError(
        'connection-lost',
        keepalive ? `${where} stopped answering keepalives` : `the connection to ${where} failed: ${err.message}`,
        keepalive
          ? 'The network path or the host stopped passing traffic (a NAT or firewall idle timeout, a reboot, a hung host).'
          : 'The established connection broke: the host rebooted, sshd was restarted without keeping sessions, or the network failed.',
        { address: target.address, port: target.port, sshError: { message: err.message, ...(err.level ? { level: err.level } : {}) } },
        err,
      );
    });
    this.closedPromise = new Promise((resolve) => {
      client.once('close', () => {
        if (!this.closed && !this.lost) {
          this.lost = new TransportError(
            'connection-lost',
            `${where} closed the connection`,
            'The server ended an established session: sshd restarted, the host rebooted, or ClientAliveInterval/' +
              'ClientAliveCountMax ended an idle session.',
            { address: target.address, port: target.port },
          );
        }
        options.onClosed?.();
        resolve();
      });
    });
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.channels.run(async () => execThrough(await this.streamNow(command, options), options));
  }

  /** Holds one of the connection's channel slots from the start until the stream's end. */
  stream(command: string, options: StreamOptions = {}): Promise<ExecStream> {
    return new Promise((resolve, reject) => {
      void this.channels.run(async () => {
        let stream: ExecStream;
        try {
          stream = await this.streamNow(command, options);
        } catch (err) {
          reject(err);
          return;
        }
        let ended: () => void = () => undefined;
        const over = new Promise<void>((resolveOver) => (ended = resolveOver));
        resolve({
          write: (data) => stream.write(data),
          readUntil: (delimiter, timeoutMs) => stream.readUntil(delimiter, timeoutMs),
          end: (timeoutMs) => stream.end(timeoutMs).finally(ended),
        });
        await over;
      });
    });
  }

  private async streamNow(command: string, options: StreamOptions): Promise<ExecStream> {
    this.assertOpen();
    const useSudo = options.become !== false && this.target.become === 'sudo' && this.target.user !== 'root';
    let watched: WatchedChannel | undefined;
    return streamCommand(
      command,
      options,
      useSudo ? sudoContext(this.target, this.options.becomePassword) : undefined,
      async (line) => {
        watched = await this.openChannel(line);
        return channelProcess(watched);
      },
      (outcome) => {
        // A channel closed by a lost connection is not the command's own result.
        if (!watched?.exit.reported && this.lost && !(outcome.kind === 'done' && outcome.timedOut)) throw this.lost;
      },
    );
  }

  /**
   * Opens a session channel for `command`. sshd refuses a channel while MaxSessions sessions are
   * open, and it counts a session until it has cleaned the channel up, which can lag behind the
   * close sshfix has already seen: a refusal is retried with backoff, and the channel limit of
   * this connection drops to what sshd was holding, so waiting commands queue here instead.
   */
  private async openChannel(command: string): Promise<WatchedChannel> {
    for (let attempt = 0; ; attempt++) {
      const held = this.openChannels;
      try {
        const watched = await this.openChannelOnce(command);
        this.openChannels++;
        void watched.finished.then(() => this.openChannels--);
        return watched;
      } catch (err) {
        if (this.unusable() || attempt >= OPEN_RETRY_DELAYS_MS.length) throw err;
        if (held > 0) this.channels.lower(held);
        await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  private openChannelOnce(command: string): Promise<WatchedChannel> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void =>
        reject(
          this.unusable() ??
            new TransportError(
              'connection-lost',
              `${this.target.address}:${this.target.port} refused to start a command: ${err.message}`,
              'sshd would not open a session channel: MaxSessions reached, or the account may not run commands (ForceCommand, a nologin shell).',
              { address: this.target.address, port: this.target.port },
              err,
            ),
        );
      try {
        this.client.exec(command, (err, channel) => (err ? failed(err) : resolve(watchChannel(channel))));
      } catch (err) {
        failed(err as Error);
      }
    });
  }

  private assertOpen(): void {
    const error = this.unusable();
    if (error) throw error;
  }

  /** Why no command can run any more, if so. */
  private unusable(): TransportError | undefined {
    if (this.lost) return this.lost;
    if (this.closed) {
      return new TransportError(
        'connection-lost',
        `the connection to ${this.target.name} is closed`,
        'This is a bug in sshfix: a command ran after its connection was closed. Please report it.',
      );
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.client.end();
      const timer = setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS);
      await this.closedPromise;
      clearTimeout(timer);
    }
    await this.closedPromise;
  }
}

type ChannelStatus = { exitCode: number | null; signal?: string };

/** A session channel whose end is watched from the moment it opened. */
interface WatchedChannel {
  channel: ClientChannel;
  exit: { reported: boolean; status: ChannelStatus };
  finished: Promise<ChannelStatus>;
}

/**
 * Starts watching a channel's exit status and close synchronously, in ssh2's callback: a fast
 * command's exit status can arrive in the same read as the channel's confirmation (one TCP
 * segment through a proxy or a loaded network), and ssh2 emits it before any listener added after
 * an `await` would hear it: the command would then look killed.
 */
function watchChannel(channel: ClientChannel): WatchedChannel {
  const exit: WatchedChannel['exit'] = { reported: false, status: { exitCode: null } };
  channel.on('exit', (code: number | null, signal?: string) => {
    exit.reported = true;
    exit.status = signal ? { exitCode: null, signal } : { exitCode: code };
  });
  // Writes after the server closed the channel raise errors the exit status already explains.
  channel.on('error', () => undefined);
  const finished = new Promise<ChannelStatus>((resolve) => channel.once('close', () => resolve(exit.status)));
  return { channel, exit, finished };
}

function channelProcess({ channel, finished }: WatchedChannel): StartedProcess {
  return {
    stdin: channel,
    stdout: channel,
    stderr: channel.stderr,
    finished,
    stop: () => {
      signalChannel(channel, 'TERM');
      channel.close();
    },
  };
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
}

/**
 * Sends a signal request for the channel's remote process (OpenSSH kills its process group).
 * ssh2 1.17's `channel.signal()` does nothing once stdin has been ended, which sshfix always does
 * (mscdex/ssh2 PR #1510), so after EOF the request goes through ssh2's protocol object; if that
 * ever moves, the timeout still closes the channel, only the remote process may then linger.
 */
function signalChannel(channel: ClientChannel, signal: string): void {
  try {
    if (channel.writable) {
      channel.signal(signal);
      return;
    }
    const internals = channel as unknown as ChannelInternals;
    const id = internals.outgoing?.id;
    const state = internals.outgoing?.state;
    const send = internals._client?._protocol?.signal;
    if (typeof id === 'number' && (state === 'open' || state === 'eof') && typeof send === 'function') {
      send.call(internals._client?._protocol, id, signal);
    }
  } catch {
    // A channel that is already closing needs no signal.
  }
}
