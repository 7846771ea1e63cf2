import { Command } from 'commander';
import { sshfixVersion } from '../util/version.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerDiagnoseCommand } from './commands/diagnose.js';
import { registerInventoryCommand } from './commands/inventory.js';
import { registerLabCommand } from './commands/lab.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerReportCommand } from './commands/report.js';
import { registerRollbackCommand } from './commands/rollback.js';
import { registerValidateCommand } from './commands/validate.js';

/** The whole command tree. Each subcommand lives in ./commands/<name>.ts and is registered here. */
export function buildProgram(): Command {
  const program = new Command('sshfix')
    .description(
      'Find and fix the server-side causes of "Server unexpectedly closed network connection" across a fleet.',
    )
    .version(sshfixVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .enablePositionalOptions();
  registerPlanCommand(program);
  registerApplyCommand(program);
  registerDiagnoseCommand(program);
  registerRollbackCommand(program);
  registerValidateCommand(program);
  registerInventoryCommand(program);
  registerReportCommand(program);
  registerLabCommand(program);
  return program;
}
