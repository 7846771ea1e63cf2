/**
 * Progress while hosts are worked on. On a terminal: listr2's interactive view (one line per host,
 * or a counter for big fleets). Otherwise (a pipe, a file, CI): one plain line per event, no
 * spinners, no cursor codes. Progress always goes to stderr so stdout carries only the result.
 */
import { Listr, ProcessOutput, type ListrTask } from 'listr2';
import type { HostStatus } from '../engine/plan-model.js';
import type { ProgressReporter } from '../engine/progress.js';

/** What the command that drew the progress can still do with it after an interruption. */
export interface ProgressView extends ProgressReporter {
  /** Ctrl-C: mark the hosts in flight with `note` at once, on screen. */
  interrupted(note: string): void;
  /** A second Ctrl-C: stop drawing and print `text` now, just before the process exits. */
  abandon(text: string): void;
}

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

export function createProgress(
  mode: ProgressMode,
  hosts: readonly string[],
  verb: string,
  write: (line: string) => void,
  options: ProgressOptions = {},
): ProgressView {
  if (mode === 'silent') return { stage() {}, done() {}, finish: async () => {}, interrupted() {}, abandon: (text) => write(text) };
  const say = (status: HostStatus): string => (options.planning && status === 'changed' ? 'would change' : status);
  if (mode === 'plain') return plainProgress(write, say);
  return hosts.length <= PER_HOST_LINES_LIMIT ? perHostListr(hosts, say) : counterListr(hosts, verb);
}

/** The word a progress line shows for a host's status. */
type StatusWord = (status: HostStatus) => string;

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

/** The wrapper listr2 hands a running task (title, output, skip). */
type TaskWrapper = Parameters<ListrTask<unknown>['task']>[1];

interface Waiting {
  task?: TaskWrapper;
  resolve?: () => void;
  reject?: (error: Error) => void;
  /** Events that arrived before listr2 started the task. */
  pending: Array<(w: Waiting) => void>;
}

const processOutput = new ProcessOutput(process.stderr, process.stderr);
const listrOptions = {
  exitOnError: false,
  registerSignalListeners: false,
  rendererOptions: { collapseErrors: false, processOutput },
} as const;

/** While listr2 draws, it holds back what others write to stderr: release it and write past it. */
function writePastListr(text: string): void {
  processOutput.release();
  processOutput.toStderr(text.replace(/\n$/, ''));
}

function perHostListr(hosts: readonly string[], say: StatusWord): ProgressView {
  const waiting = new Map<string, Waiting>(hosts.map((h) => [h, { pending: [] }]));
  const listr = new Listr(
    hosts.map((host) => ({
      title: host,
      task: (_ctx: unknown, task: TaskWrapper) =>
        new Promise<void>((resolve, reject) => {
          const w = waiting.get(host) as Waiting;
          Object.assign(w, { task, resolve, reject });
          for (const event of w.pending.splice(0)) event(w);
        }),
    })),
    { ...listrOptions, concurrent: true },
  );
  const running = listr.run().catch(() => undefined);
  const on = (host: string, event: (w: Waiting) => void): void => {
    const w = waiting.get(host);
    if (!w) return;
    if (w.task) event(w);
    else w.pending.push(event);
  };
  const stages = new Map<string, string>();
  const finished = new Set<string>();
  let note = '';
  return {
    stage(host, text) {
      stages.set(host, text);
      on(host, (w) => {
        if (w.task) w.task.title = `${host}: ${text}${note}`;
      });
    },
    interrupted(text) {
      note = ` (${text})`;
      for (const host of hosts) {
        if (finished.has(host)) continue;
        const stage = stages.get(host);
        on(host, (w) => {
          if (w.task) w.task.title = stage === undefined ? `${host}: not started, will be skipped` : `${host}: ${stage}${note}`;
        });
      }
    },
    abandon: writePastListr,
    done(host, status, detail) {
      finished.add(host);
      on(host, (w) => {
        const title = `${host}: ${say(status)}${detail ? ` (${detail})` : ''}`;
        if (w.task) w.task.title = title;
        if (status === 'failed' || status === 'unreachable') w.reject?.(new Error(title));
        else if (status === 'skipped') {
          w.task?.skip(title);
          w.resolve?.();
        } else w.resolve?.();
      });
    },
    finish: async () => {
      for (const host of hosts) {
        on(host, (w) => w.resolve?.());
      }
      await running;
    },
  };
}

function counterListr(hosts: readonly string[], verb: string): ProgressView {
  let note = '';
  let finished = 0;
  let problems = 0;
  const active = new Map<string, string>();
  let wrapper: TaskWrapper | undefined;
  let resolveAll: (() => void) | undefined;
  let allDone = false;
  const refresh = (): void => {
    if (!wrapper) return;
    wrapper.title = `${verb} ${hosts.length} hosts: ${finished} done${problems ? `, ${problems} with problems` : ''}${note}`;
    wrapper.output = [...active].slice(0, 8).map(([h, s]) => `${h}: ${s}`).join('\n');
  };
  const listr = new Listr(
    [
      {
        title: `${verb} ${hosts.length} hosts`,
        task: (_ctx: unknown, task: TaskWrapper) =>
          new Promise<void>((resolve) => {
            wrapper = task;
            resolveAll = resolve;
            refresh();
            if (allDone) resolve();
          }),
      },
    ],
    listrOptions,
  );
  const running = listr.run().catch(() => undefined);
  return {
    stage(host, text) {
      active.set(host, text);
      refresh();
    },
    interrupted(text) {
      note = ` (${text}: ${active.size} in flight, starting no more)`;
      refresh();
    },
    abandon: writePastListr,
    done(host, status) {
      active.delete(host);
      finished++;
      if (status === 'failed' || status === 'unreachable') problems++;
      refresh();
    },
    finish: async () => {
      allDone = true;
      refresh();
      resolveAll?.();
      await running;
    },
  };
}
