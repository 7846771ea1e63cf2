/**
 * The exec semantics both connections share (an ssh2 channel, a local child process): stdin bytes
 * in, binary-safe stdout/stderr out, exit code or signal, a per-command timeout, and the sudo
 * handshake on stderr. A non-zero exit is a result, not an error.
 */
import type { Readable, Writable } from 'node:stream';
import { sudoFailedError, SudoHandshake, wrapForSudo, type SudoFailureContext, type SudoFailureReason, type SudoWrapped } from './sudo.js';
import type { ExecOptions, ExecResult, ExecStream, StreamOptions } from './types.js';

/** A started process, whatever runs it. */
export interface StartedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Settles once the process has exited and its output has ended. */
  finished: Promise<{ exitCode: number | null; signal?: string }>;
  /** Ends the process early (timeout, failed sudo). */
  stop(): void;
}

export interface RunRequest {
  stdin?: Buffer | string;
  timeoutMs?: number;
  sudo?: { wrapped: SudoWrapped; password?: string; handoverTimeoutMs?: number };
}

export type RunOutcome =
  | { kind: 'done'; exitCode: number | null; signal?: string; stdout: Buffer; stderr: Buffer; timedOut: boolean }
  | { kind: 'sudo-failed'; reason: SudoFailureReason; chatter: string };

/**
 * How long sudo may take to either ask for the password or hand over. Past it, sudo is waiting
 * for something sshfix does not recognise (a PAM module with its own prompt, such as an OTP).
 */
export const SUDO_HANDOVER_TIMEOUT_MS = 30_000;

/** How long to wait for a stopped process to report its end before giving up on it. */
const STOP_GRACE_MS = 500;

/**
 * A started process driven by its caller: input in parts (held back until sudo has handed over),
 * stdout read up to a delimiter as it arrives, and the end with its outcome. The deadline, when
 * one is set, stops the process once it passes; setting it again replaces it.
 */
export class ProcessStream {
  /** Settles once the process has ended (or was given up on after a stop). */
  readonly outcome: Promise<RunOutcome>;
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  private readonly handshake: SudoHandshake | undefined;
  /** Input written before sudo handed over; `null` is the end of input. */
  private held: (Buffer | null)[] = [];
  private waiter: { delimiter: Buffer; resolve: (before: Buffer | undefined) => void } | undefined;
  /** How far stdout was searched for the waiter's delimiter. */
  private searched = 0;
  private timedOut = false;
  private sudoFailure: SudoFailureReason | undefined;
  private settled = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly handoverTimer: NodeJS.Timeout | undefined;
  private resolveOutcome: (outcome: RunOutcome) => void = () => undefined;

  constructor(
    private readonly proc: StartedProcess,
    private readonly sudo?: RunRequest['sudo'],
  ) {
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
    this.handshake = sudo ? new SudoHandshake(sudo.wrapped, sudo.password !== undefined) : undefined;
    // A process that exits without reading its stdin makes writes fail with EPIPE: not our error.
    proc.stdin.on('error', () => undefined);
    proc.stdout.on('data', (chunk: Buffer) => {
      this.stdout.push(chunk);
      this.offer();
    });
    proc.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    this.handoverTimer = this.handshake
      ? setTimeout(() => {
          if (this.handshake?.state !== 'waiting') return;
          this.sudoFailure = 'no-handover';
          this.stopNow();
        }, sudo?.handoverTimeoutMs ?? SUDO_HANDOVER_TIMEOUT_MS)
      : undefined;
    proc.finished.then(
      (status) => this.finish(status),
      () => this.finish({ exitCode: null }),
    );
  }

  /** Sends bytes to the process's stdin, once sudo (if any) has handed over. */
  write(data: Buffer | string): void {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (bytes.length === 0) return;
    if (this.handshake && this.handshake.state !== 'ready') this.held.push(bytes);
    else this.proc.stdin.write(bytes);
  }

  /** Closes stdin (after what was written). */
  endInput(): void {
    if (this.handshake && this.handshake.state !== 'ready') this.held.push(null);
    else this.proc.stdin.end();
  }

  /** Stops the process `ms` from now (none: no deadline); replaces the previous deadline. */
  deadline(ms: number | undefined): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer =
      ms !== undefined && ms > 0 && !this.settled
        ? setTimeout(() => {
            this.timedOut = true;
            this.stopNow();
          }, ms)
        : undefined;
  }

  /**
   * Stdout up to the first `delimiter` (both consumed), or undefined when the process ends
   * without printing it. One reader at a time.
   */
  readUntil(delimiter: Buffer): Promise<Buffer | undefined> {
    if (this.waiter) throw new Error('readUntil: a read is already waiting');
    return new Promise((resolve) => {
      this.waiter = { delimiter, resolve };
      this.searched = 0;
      this.offer();
    });
  }

  /** Stdout not consumed by a read so far. */
  takeStdout(): Buffer {
    const rest = Buffer.concat(this.stdout);
    this.stdout.length = 0;
    return rest;
  }

  private offer(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    if (this.stdout.length > 1) this.stdout.splice(0, this.stdout.length, Buffer.concat(this.stdout));
    const buffered = this.stdout[0];
    const at = buffered ? buffered.indexOf(waiter.delimiter, Math.max(0, this.searched - waiter.delimiter.length + 1)) : -1;
    if (buffered && at >= 0) {
      this.waiter = undefined;
      this.stdout[0] = buffered.subarray(at + waiter.delimiter.length);
      waiter.resolve(buffered.subarray(0, at));
      return;
    }
    this.searched = buffered?.length ?? 0;
    if (this.settled) {
      this.waiter = undefined;
      waiter.resolve(undefined);
    }
  }

  private onStderr(chunk: Buffer): void {
    if (!this.handshake) {
      this.stderr.push(chunk);
      return;
    }
    const step = this.handshake.feed(chunk);
    if (step.writePassword) this.proc.stdin.write(`${this.sudo?.password ?? ''}\n`);
    if (step.stderr && step.stderr.length > 0) this.stderr.push(step.stderr);
    if (step.ready) {
      const held = this.held;
      this.held = [];
      for (const part of held) {
        if (part === null) this.proc.stdin.end();
        else this.proc.stdin.write(part);
      }
    }
    if (step.failed) {
      this.sudoFailure = step.failed;
      this.stopNow();
    }
  }

  private stopNow(): void {
    this.proc.stop();
    this.graceTimer ??= setTimeout(() => this.finish({ exitCode: null }), STOP_GRACE_MS);
  }

  private finish(status: { exitCode: number | null; signal?: string }): void {
    if (this.settled) return;
    this.settled = true;
    // A waiting read gets what it waited for, or learns that it will not come, before the rest is the outcome's.
    this.offer();
    for (const timer of [this.deadlineTimer, this.handoverTimer, this.graceTimer]) if (timer) clearTimeout(timer);
    const handshake = this.handshake;
    if (handshake && handshake.state !== 'ready' && !this.timedOut) {
      const reason = this.sudoFailure ?? handshake.exitedEarly();
      this.resolveOutcome({ kind: 'sudo-failed', reason, chatter: handshake.chatter() });
    } else {
      const outcome: RunOutcome = {
        kind: 'done',
        exitCode: this.timedOut ? null : status.exitCode,
        stdout: Buffer.concat(this.stdout),
        stderr: Buffer.concat(this.stderr),
        timedOut: this.timedOut,
      };
      if (status.signal) outcome.signal = status.signal;
      this.resolveOutcome(outcome);
    }
  }
}

export function runProcess(proc: StartedProcess, request: RunRequest): Promise<RunOutcome> {
  const stream = new ProcessStream(proc, request.sudo);
  stream.deadline(request.timeoutMs);
  if (request.stdin !== undefined) stream.write(request.stdin);
  stream.endInput();
  return stream.outcome;
}

/**
 * Starts one command the way Connection.stream promises: through sudo when `become` is given (the
 * password, if any, travels in it), on whatever `start` runs processes with. A sudo that did not
 * run the command becomes a sudo-failed TransportError at `end`; `verify` may throw once the
 * process has ended (an ssh connection lost meanwhile). `onEnd` is told once the process is over.
 */
export async function streamCommand(
  command: string,
  options: StreamOptions,
  become: SudoFailureContext | undefined,
  start: (commandLine: string) => Promise<StartedProcess>,
  verify?: (outcome: RunOutcome) => void,
): Promise<ExecStream> {
  const wrapped = become ? wrapForSudo(command, undefined, options.forwardEnv) : undefined;
  const started = Date.now();
  const proc = await start(wrapped?.command ?? command);
  const stream = new ProcessStream(proc, wrapped ? (become?.password === undefined ? { wrapped } : { wrapped, password: become.password }) : undefined);
  return {
    write: (data) => stream.write(data),
    async readUntil(delimiter, timeoutMs) {
      stream.deadline(timeoutMs);
      const before = await stream.readUntil(Buffer.from(delimiter));
      // Found in time: the deadline was this read's only.
      if (before !== undefined) stream.deadline(undefined);
      return before;
    },
    async end(timeoutMs) {
      stream.endInput();
      stream.deadline(timeoutMs);
      const outcome = await stream.outcome;
      verify?.(outcome);
      if (outcome.kind === 'sudo-failed') throw sudoFailedError(outcome.reason, outcome.chatter, become as SudoFailureContext);
      const result: ExecResult = {
        command,
        exitCode: outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        durationMs: Date.now() - started,
      };
      if (outcome.signal) result.signal = outcome.signal;
      if (outcome.timedOut) result.timedOut = true;
      if (wrapped) result.become = 'sudo';
      return result;
    },
  };
}

/** Runs a started stream the way Connection.exec promises: all its input at once, then its end. */
export function execThrough(stream: ExecStream, options: ExecOptions): Promise<ExecResult> {
  if (options.stdin !== undefined) stream.write(options.stdin);
  return stream.end(options.timeoutMs);
}
