/**
 * A Connection to the control machine itself, for tasks such as `ssh_client` that edit the
 * runner's own ssh_config: `sh -c` through child_process with the same exec semantics as SSH.
 */
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { execThrough, streamCommand, type StartedProcess } from './run-process.js';
import { sudoContext } from './sudo.js';
import { TransportError, type ConnectTarget, type Connection, type ConnectionInfo, type ExecOptions, type ExecResult, type ExecStream, type StreamOptions } from './types.js';

export interface LocalConnectOptions {
  /** Run commands through sudo (skipped when sshfix already runs as root). */
  become?: 'none' | 'sudo';
  /** Name of the environment variable holding the sudo password. */
  becomePasswordEnv?: string;
  /** Where that variable is read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Inventory name for messages; `localhost` by default. */
  name?: string;
}

/** Opens the local connection; nothing can fail until a command runs. */
export function connectLocal(options: LocalConnectOptions = {}): Connection {
  const env = options.env ?? process.env;
  const target: ConnectTarget = {
    name: options.name ?? 'localhost',
    address: 'localhost',
    port: 0,
    user: userInfo().username,
    agent: false,
    knownHosts: '',
    hostKeyPolicy: 'off',
    become: options.become ?? 'none',
    jump: [],
    connectTimeoutMs: 0,
    local: true,
  };
  if (options.becomePasswordEnv !== undefined) target.becomePasswordEnv = options.becomePasswordEnv;
  const password = options.becomePasswordEnv !== undefined ? env[options.becomePasswordEnv] : undefined;
  return new LocalConnection(target, password, process.getuid?.() === 0);
}

class LocalConnection implements Connection {
  readonly info: ConnectionInfo = {};
  private closed = false;
  private readonly running = new Set<StartedProcess>();

  constructor(
    readonly target: ConnectTarget,
    private readonly becomePassword: string | undefined,
    private readonly isRoot: boolean,
  ) {}

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return execThrough(await this.stream(command, options), options);
  }

  async stream(command: string, options: StreamOptions = {}): Promise<ExecStream> {
    if (this.closed) {
      throw new TransportError('connection-lost', 'the local connection is closed', 'This is a bug in sshfix: a command ran after its connection was closed. Please report it.');
    }
    const useSudo = options.become !== false && this.target.become === 'sudo' && !this.isRoot;
    return streamCommand(command, options, useSudo ? sudoContext(this.target, this.becomePassword) : undefined, async (line) => {
      const proc = startLocal(line);
      this.running.add(proc);
      void proc.finished.then(() => this.running.delete(proc));
      return proc;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const proc of this.running) proc.stop();
  }
}

function startLocal(command: string): StartedProcess {
  // Not detached: a Ctrl-C at the terminal reaches the command too, as it would with ssh.
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  const finished = new Promise<{ exitCode: number | null; signal?: string }>((resolve) => {
    child.on('error', () => resolve({ exitCode: 127 }));
    child.on('close', (code, signal) => resolve(signal ? { exitCode: code, signal } : { exitCode: code }));
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    finished,
    stop: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
    },
  };
}
