/**
 * Child processes a test starts, killed whatever the assertions did. A test that fails between
 * stopping a child (SIGSTOP) and killing it must not leave the file's process waiting on it: the
 * suite would hang until CI's time runs out and report nothing useful.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/** Remembers `child` until it exits; returns it for chaining. */
export function trackChild<T extends ChildProcess>(child: T): T {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGCONT, then SIGKILL, to every tracked child still running; returns how many were killed. */
export function killTrackedChildren(): number {
  let killed = 0;
  for (const child of live) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      killed++;
    } catch {
      // Already gone.
    }
  }
  live.clear();
  return killed;
}
