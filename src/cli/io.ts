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

/** Colour on a terminal, unless NO_COLOR or CI says otherwise. */
export function wantsColor(io: CommandIO): boolean {
  return io.stdoutIsTTY && !io.env['NO_COLOR'] && !io.env['CI'];
}

export function progressModeFor(io: CommandIO): ProgressMode {
  return chooseProgressMode(io.env, io.stdoutIsTTY, io.stderrIsTTY);
}
