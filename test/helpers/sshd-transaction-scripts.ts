/**
 * The transaction scripts of a change that touches sshd alone, in the shape the script tests use:
 * the engine's generic builders with sshd's fragments (src/services/sshd/scripts.ts).
 */
import * as scripts from '../../src/engine/apply-script.js';
import { sshdScripts, type SshdScriptInput } from '../../src/services/sshd/scripts.js';

export { COMMIT_EXIT, parseSteps, type CommitFile } from '../../src/engine/apply-script.js';

type SshdCommitOptions = Omit<scripts.CommitOptions, 'services'> & SshdScriptInput;

export function buildCommitScript(options: SshdCommitOptions): string {
  const { configs, matchSpecs, reload, ...rest } = options;
  return scripts.buildCommitScript({ ...rest, services: [sshdScripts({ configs, matchSpecs, reload })] });
}

/** Confirming and rolling back need no service: the restore script left on the host holds it. */
export function buildConfirmScript(options: { backupRoot: string; txid: string; keep: number; reload: SshdScriptInput['reload'] }): string {
  return scripts.buildConfirmScript({ backupRoot: options.backupRoot, txid: options.txid, keep: options.keep });
}

export function buildRollbackScript(options: { backupRoot: string; txid: string; reload: SshdScriptInput['reload'] }): string {
  return scripts.buildRollbackScript({ backupRoot: options.backupRoot, txid: options.txid });
}
