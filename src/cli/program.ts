import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerInventoryCommand } from './commands/inventory.js';
import { registerLabCommand } from './commands/lab.js';
import { registerValidateCommand } from './commands/validate.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The whole command tree. Each subcommand lives in ./commands/<name>.ts and is registered here. */
export function buildProgram(): Command {
  const program = new Command('sshfix')
    .description(
      'Find and fix the server-side causes of "Server unexpectedly closed network connection" across a fleet.',
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .enablePositionalOptions();
  registerValidateCommand(program);
  registerInventoryCommand(program);
  registerLabCommand(program);
  return program;
}
