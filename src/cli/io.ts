/**
 * The process edges commands write to, passed in rather than reached through `process`, so the
 * command runners are explicit about what they touch.
 */
import { chooseProgressMode, type ProgressMode } from '../report/progress.js';

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  stdinIsTTY: boolean;
}

export function processIO(): CommandIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
  };
}

/**
 * A reader that stops early (`sshfix inventory | head`) closes the pipe under sshfix's output.
 * Like other command-line tools, sshfix then ends quietly with exit 0 for the part written,
 * instead of dying of an unhandled EPIPE with a stack trace. A closed stderr is ignored: there is
 * nowhere left to report to.
 */
export function endQuietlyWhenOutputCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

/** Colour on a terminal, unless NO_COLOR or CI says otherwise. */
export function wantsColor(io: CommandIO): boolean {
  return io.stdoutIsTTY && !io.env['NO_COLOR'] && !io.env['CI'];
}

export function progressModeFor(io: CommandIO): ProgressMode {
  return chooseProgressMode(io.env, io.stdoutIsTTY, io.stderrIsTTY);
}
