/**
 * listr2's interactive progress views, for a terminal: one line per host, or a counter and the
 * hosts in flight for a big fleet. Loaded by createProgress only when it draws on a terminal.
 */
import { Listr, ProcessOutput, type ListrTask } from 'listr2';
import type { ProgressView, StatusWord } from './progress-view.js';

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

export function perHostListr(hosts: readonly string[], say: StatusWord): ProgressView {
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

export function counterListr(hosts: readonly string[], verb: string): ProgressView {
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
