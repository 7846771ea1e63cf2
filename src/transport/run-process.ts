/**
 * The exec semantics both connections share (an ssh2 channel, a local child process): stdin bytes
 * in, binary-safe stdout/stderr out, exit code or signal, a per-command timeout, and the sudo
 * handshake on stderr. A non-zero exit is a result, not an error.
 */
import type { Readable, Writable } from 'node:stream';
import { sudoFailedError, SudoHandshake, wrapForSudo, type SudoFailureContext, type SudoFailureReason, type SudoWrapped } from './sudo.js';
import type { ExecOptions, ExecResult } from './types.js';

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

export function runProcess(proc: StartedProcess, request: RunRequest): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const payload = request.stdin === undefined ? undefined : Buffer.isBuffer(request.stdin) ? request.stdin : Buffer.from(request.stdin);
    const handshake = request.sudo ? new SudoHandshake(request.sudo.wrapped, request.sudo.password !== undefined) : undefined;
    let timedOut = false;
    let sudoFailure: SudoFailureReason | undefined;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    // A process that exits without reading its stdin makes writes fail with EPIPE: not our error.
    proc.stdin.on('error', () => undefined);
    const sendPayload = (): void => {
      if (payload && payload.length > 0) proc.stdin.end(payload);
      else proc.stdin.end();
    };
    const stopNow = (): void => {
      proc.stop();
      graceTimer ??= setTimeout(() => finish({ exitCode: null }), STOP_GRACE_MS);
    };

    proc.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    proc.stderr.on('data', (chunk: Buffer) => {
      if (!handshake) {
        stderr.push(chunk);
        return;
      }
      const step = handshake.feed(chunk);
      if (step.writePassword) proc.stdin.write(`${request.sudo?.password ?? ''}\n`);
      if (step.stderr && step.stderr.length > 0) stderr.push(step.stderr);
      if (step.ready) sendPayload();
      if (step.failed) {
        sudoFailure = step.failed;
        stopNow();
      }
    });

    const handoverTimer = handshake
      ? setTimeout(() => {
          if (handshake.state !== 'waiting') return;
          sudoFailure = 'no-handover';
          stopNow();
        }, request.sudo?.handoverTimeoutMs ?? SUDO_HANDOVER_TIMEOUT_MS)
      : undefined;
    const timer =
      request.timeoutMs !== undefined && request.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            stopNow();
          }, request.timeoutMs)
        : undefined;

    const finish = (status: { exitCode: number | null; signal?: string }): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (handoverTimer) clearTimeout(handoverTimer);
      if (graceTimer) clearTimeout(graceTimer);
      if (handshake && handshake.state !== 'ready' && !timedOut) {
        const reason = sudoFailure ?? handshake.exitedEarly();
        resolve({ kind: 'sudo-failed', reason, chatter: handshake.chatter() });
        return;
      }
      const outcome: RunOutcome = {
        kind: 'done',
        exitCode: timedOut ? null : status.exitCode,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr),
        timedOut,
      };
      if (status.signal) outcome.signal = status.signal;
      resolve(outcome);
    };
    proc.finished.then(finish, () => finish({ exitCode: null }));

    if (!handshake) sendPayload();
  });
}

/**
 * Runs one command the way Connection.exec promises: through sudo when `become` is given (the
 * password, if any, travels in it), on whatever `start` runs processes with. A sudo that did not
 * run the command becomes a sudo-failed TransportError; `verify` may throw once the process has
 * ended (an ssh connection lost meanwhile).
 */
export async function execCommand(
  command: string,
  options: ExecOptions,
  become: SudoFailureContext | undefined,
  start: (commandLine: string) => Promise<StartedProcess>,
  verify?: (outcome: RunOutcome) => void,
): Promise<ExecResult> {
  const wrapped = become ? wrapForSudo(command, undefined, options.forwardEnv) : undefined;
  const started = Date.now();
  const proc = await start(wrapped?.command ?? command);
  const request: RunRequest = {};
  if (options.stdin !== undefined) request.stdin = options.stdin;
  if (options.timeoutMs !== undefined) request.timeoutMs = options.timeoutMs;
  if (wrapped) request.sudo = become?.password === undefined ? { wrapped } : { wrapped, password: become.password };
  const outcome = await runProcess(proc, request);
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
}
