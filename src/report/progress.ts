/**
 * Progress while hosts are worked on. On a terminal: listr2's interactive view (one line per host,
 * or a counter for big fleets), loaded only then. Otherwise (a pipe, a file, CI): one plain line
 * per event, no spinners, no cursor codes. Progress always goes to stderr so stdout carries only
 * the result.
 */
import type { HostStatus } from '../engine/plan-model.js';
import type { ProgressView, StatusWord } from './progress-view.js';

export type { ProgressView } from './progress-view.js';

export type ProgressMode = 'interactive' | 'plain' | 'silent';

/** Which progress view suits this process: interactive only on a terminal outside CI. */
export function chooseProgressMode(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean, stderrIsTTY: boolean): ProgressMode {
  if (env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false') return 'plain';
  return stdoutIsTTY && stderrIsTTY ? 'interactive' : 'plain';
}

/** Hosts above which the interactive view shows a counter and the hosts in flight, not one line per host. */
const PER_HOST_LINES_LIMIT = 40;

export interface ProgressOptions {
  /** The run only plans: a host the engine reports `changed` is one that would change. */
  planning?: boolean;
}

export async function createProgress(
  mode: ProgressMode,
  hosts: readonly string[],
  verb: string,
  write: (line: string) => void,
  options: ProgressOptions = {},
): Promise<ProgressView> {
  if (mode === 'silent') return { stage() {}, done() {}, finish: async () => {}, interrupted() {}, abandon: (text) => write(text) };
  const say = (status: HostStatus): string => (options.planning && status === 'changed' ? 'would change' : status);
  if (mode === 'plain') return plainProgress(write, say);
  const { perHostListr, counterListr } = await import('./interactive-progress.js');
  return hosts.length <= PER_HOST_LINES_LIMIT ? perHostListr(hosts, say) : counterListr(hosts, verb);
}

function plainProgress(write: (line: string) => void, say: StatusWord): ProgressView {
  return {
    // Plain lines are already on screen as they happen: the command's own message says it.
    interrupted() {},
    abandon: (text) => write(text),
    stage(host, text) {
      write(`${host}: ${text}`);
    },
    done(host, status, detail) {
      write(`${host}: ${say(status)}${detail ? ` (${detail})` : ''}`);
    },
    finish: async () => {},
  };
}
