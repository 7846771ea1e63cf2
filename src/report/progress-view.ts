/**
 * What every progress view offers (plain lines, or listr2's on a terminal), apart from the views
 * themselves, so that the interactive one, loaded only on a terminal, needs nothing of the loader.
 */
import type { HostStatus } from '../engine/plan-model.js';
import type { ProgressReporter } from '../engine/progress.js';

/** What the command that drew the progress can still do with it after an interruption. */
export interface ProgressView extends ProgressReporter {
  /** Ctrl-C: mark the hosts in flight with `note` at once, on screen. */
  interrupted(note: string): void;
  /** A second Ctrl-C: stop drawing and print `text` now, just before the process exits. */
  abandon(text: string): void;
}

/** The word a progress line shows for a host's status. */
export type StatusWord = (status: HostStatus) => string;
