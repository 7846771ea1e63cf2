import { Command } from 'commander';
import { sshfixVersion } from '../util/version.js';

type Register = (program: Command) => void;

/**
 * Each subcommand, in the order help lists them, and how to load it (./commands/<name>.ts). A run
 * loads only the command it names: loading every command's modules costs a short run more CPU
 * than its hosts do.
 */
const COMMANDS: readonly (readonly [name: string, load: () => Promise<Register>])[] = [
  ['plan', async () => (await import('./commands/plan.js')).registerPlanCommand],
  ['apply', async () => (await import('./commands/apply.js')).registerApplyCommand],
  ['diagnose', async () => (await import('./commands/diagnose.js')).registerDiagnoseCommand],
  ['rollback', async () => (await import('./commands/rollback.js')).registerRollbackCommand],
  ['validate', async () => (await import('./commands/validate.js')).registerValidateCommand],
  ['inventory', async () => (await import('./commands/inventory.js')).registerInventoryCommand],
  ['report', async () => (await import('./commands/report.js')).registerReportCommand],
  ['lab', async () => (await import('./commands/lab.js')).registerLabCommand],
];

/**
 * The command tree. Given a command line (`process.argv`) that names a subcommand, only that one
 * is registered, with the same help and errors; anything else (no command, --help, `help`, a
 * misspelt command that help should suggest a name for) gets every command.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('sshfix')
    .description(
      'Find and fix the server-side causes of "Server unexpectedly closed network connection" across a fleet.',
    )
    .version(sshfixVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .enablePositionalOptions();
  const named = COMMANDS.find(([name]) => name === argv?.[2]);
  for (const [, load] of named ? [named] : COMMANDS) (await load())(program);
  return program;
}
