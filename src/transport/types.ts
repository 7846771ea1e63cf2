/**
 * The transport contract: how the engine reaches a host. Implementations live beside this file
 * (ssh2 for remote hosts, child_process for the control machine); nothing else in sshfix talks to
 * the network.
 */

/** Everything needed to open a connection to one host, resolved from the inventory. */
export interface ConnectTarget {
  /** Inventory name, for messages. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key file (already ~-expanded). */
  identityFile?: string;
  /** Use the ssh-agent at SSH_AUTH_SOCK. */
  agent: boolean;
  /** Names of environment variables holding secrets; the values are read at connect time only. */
  passwordEnv?: string;
  passphraseEnv?: string;
  becomePasswordEnv?: string;
  knownHosts: string;
  hostKeyPolicy: 'strict' | 'accept-new' | 'off';
  become: 'none' | 'sudo';
  /** Jump hosts, outermost first (ProxyJump a,b => [a, b]). */
  jump: readonly ConnectTarget[];
  connectTimeoutMs: number;
  /** Per-host algorithm overrides, as in an ssh_config Host block: exact lists or +/-/^ entries. */
  algorithms?: Partial<Record<'kex' | 'cipher' | 'serverHostKey' | 'hmac', readonly string[]>>;
  /** Seconds between keepalives on an open connection; 0 disables. */
  keepaliveIntervalS?: number;
  /** Local address to connect from (tests use it to appear as different clients on loopback). */
  localAddress?: string;
  /**
   * The host is the machine running sshfix: commands run through child_process as the user
   * running sshfix (through sudo when `become` says so); nothing else here applies.
   */
  local?: true;
}

/** The outcome of one command: a result, also when it failed. */
export interface ExecResult {
  /** The command line that ran (never holds secrets). */
  command: string;
  exitCode: number | null;
  /** Set when the remote process died from a signal. */
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  /** Set when the command ran past `ExecOptions.timeoutMs` and was stopped (exitCode is then null). */
  timedOut?: boolean;
  /** Set when the command ran through `sudo` (the command line above is what sudo ran, unwrapped). */
  become?: 'sudo';
}

export interface ExecOptions {
  /** Bytes for the command's standard input (closed after). */
  stdin?: Buffer | string;
  /** Run through sudo when the target's become is sudo (default true). */
  become?: boolean;
  timeoutMs?: number;
  /**
   * Variables of the login environment to keep across sudo (which resets the environment), e.g.
   * SSH_CONNECTION. Passed as `env NAME="$NAME"` expanded by the login shell: never a secret.
   */
  forwardEnv?: readonly string[];
}

/** What a stream takes: everything exec takes but its input and overall timeout, which come in parts. */
export type StreamOptions = Omit<ExecOptions, 'stdin' | 'timeoutMs'>;

/**
 * A command whose stdin stays open: the caller sends input in parts and reads stdout as it comes,
 * e.g. a shell given a script, then after reading its output another script, over one channel.
 */
export interface ExecStream {
  /** Sends bytes to the command's stdin (through sudo, once it has handed over). */
  write(data: Buffer | string): void;
  /**
   * Waits until stdout holds `delimiter` and returns what came before it (both consumed), or
   * undefined when the command ended without printing it: `end()` then says how. Past `timeoutMs`
   * the command is stopped (and `end()` reports it timed out).
   */
  readUntil(delimiter: string, timeoutMs?: number): Promise<Buffer | undefined>;
  /**
   * Closes stdin and waits for the command to end (stopping it past `timeoutMs`). The result's
   * stdout is what no read consumed; its stderr is all of it. Rejects as exec does.
   */
  end(timeoutMs?: number): Promise<ExecResult>;
}

/** An open connection to one host. */
export interface Connection {
  readonly target: ConnectTarget;
  /** What the server said and negotiated, for reports and diagnosis. */
  readonly info: ConnectionInfo;
  /** Runs a POSIX shell command line (built with util/shell-quote). Rejects only on transport failure. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Starts a command with its stdin left open (it holds one channel until `end`). Rejects only on transport failure. */
  stream(command: string, options?: StreamOptions): Promise<ExecStream>;
  close(): Promise<void>;
}

export interface ConnectionInfo {
  serverBanner?: string;
  /** SHA256:... fingerprint of the host key that was accepted. */
  hostKeyFingerprint?: string;
  /** Key type of that host key (`ssh-ed25519`, ...). */
  hostKeyType?: string;
  kex?: string;
  cipher?: string;
  /** The authentication method that succeeded (`publickey`, `password`, ...). */
  authMethod?: string;
}

/** Why a connection or a privileged command failed, in words an operator acts on. */
export type TransportErrorCode =
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'closed-before-banner'
  | 'kex-mismatch'
  | 'cipher-mismatch'
  /** No common MAC algorithm (the server offers only MACs ssh2 does not use by default). */
  | 'mac-mismatch'
  | 'hostkey-algorithm-mismatch'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth-failed'
  | 'sudo-failed'
  | 'key-unreadable'
  | 'connection-lost'
  | 'jump-failed'
  /** No route to the host or network (EHOSTUNREACH, ENETUNREACH): neither refused nor silent. */
  | 'unreachable'
  /** A key of the host is listed as `@revoked` in known_hosts: never accepted, whatever the policy. */
  | 'host-key-revoked'
  /** The target's settings cannot work (an algorithm ssh2 does not implement, no credentials at all). */
  | 'invalid-settings';

export class TransportError extends Error {
  override name = 'TransportError';
  readonly code: TransportErrorCode;
  /** What probably causes it and what to do, e.g. the scoped algorithm fix. */
  readonly diagnosis: string;
  /** Structured facts behind the diagnosis (offered algorithms, fingerprints, ...). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: TransportErrorCode, message: string, diagnosis: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.diagnosis = diagnosis;
    this.details = details;
  }
}
