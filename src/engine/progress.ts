import type { HostStatus } from './plan-model.js';

/** How the engine reports progress while hosts are worked on; src/report/ implements it. */
export interface ProgressReporter {
  /** A host moved to a new stage ("connecting", "gathering facts", "validating" ...). */
  stage(host: string, text: string): void;
  /** A host is finished. */
  done(host: string, status: HostStatus, detail?: string): void;
  /** All hosts are finished: stop rendering. */
  finish(): Promise<void>;
}
