#!/usr/bin/env node
import { CommanderError } from 'commander';
import { UserInputError } from '../util/diagnostics.js';
import { renderDiagnostics } from '../report/render-diagnostics.js';
import { ExitCode } from './exit-codes.js';
import { endQuietlyWhenOutputCloses } from './io.js';
import { buildProgram } from './program.js';

async function main(argv: readonly string[]): Promise<void> {
  const program = await buildProgram(argv);
  program.exitOverride();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and --version exit 0; usage errors were already printed by commander.
      process.exitCode = error.exitCode === 0 ? ExitCode.Success : ExitCode.Failure;
      return;
    }
    if (error instanceof UserInputError) {
      process.stderr.write(renderDiagnostics(error.diagnostics, { color: process.stderr.isTTY === true }));
      process.exitCode = ExitCode.Failure;
      return;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`sshfix: internal error (please report it with this output):\n${detail}\n`);
    process.exitCode = ExitCode.Failure;
  }
}

endQuietlyWhenOutputCloses();
await main(process.argv);
