import { Command, InvalidArgumentError, Option } from 'commander';
import { SAFE_TXID } from '../../engine/apply-script.js';
import { closeRollbacks, commitRollbacks, prepareRollbacks, type RollbackOptions } from '../../engine/run-rollback.js';
import { DEFAULT_BACKUP_ROOT, DEFAULT_KEEP_BACKUPS } from '../../engine/transaction.js';
import { selectHosts } from '../../model/host-pattern.js';
import { inventoryUniverse } from '../../model/inventory.js';
import { renderHumanReport } from '../../report/human-report.js';
import { createProgress } from '../../report/progress.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../../report/render-report.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, progressModeFor, wantsColor, type CommandIO } from '../io.js';
import { addTransactionTimingOptions, confirm, MIN_PROOF_MS, parseBackupDir, rollbackCommandLine } from './apply.js';
import { countVerbose, exitCodeFor, interruptController, loadRunInputs, parseForks, runTransport, DEFAULT_FORKS } from './plan.js';

interface RollbackCommandOptions {
  inventory?: string;
  limit?: string;
  transaction?: string;
  yes?: boolean;
  format: ReportFormat;
  forks: number;
  verbose?: number;
  confirmTimeout: number;
  settle: number;
  backupDir: string;
}

const parseTransactionId = (value: string): string => {
  if (!SAFE_TXID.test(value)) throw new InvalidArgumentError('expected a transaction id such as 20261130T154400Z-1a2b3c4d (apply reports it).');
  return value;
};

export async function runRollbackCommand(io: CommandIO, options: RollbackCommandOptions): Promise<number> {
  if (!options.yes && !(io.stdinIsTTY && io.stderrIsTTY)) {
    io.stderr('sshfix rollback: refusing to change hosts without confirmation: pass --yes (there is no terminal to ask on)\n');
    return ExitCode.Failure;
  }
  if (options.confirmTimeout < options.settle + MIN_PROOF_MS) {
    io.stderr(`sshfix rollback: --confirm-timeout must leave time to prove the rollback: at least --settle plus ${MIN_PROOF_MS / 1000}s\n`);
    return ExitCode.Failure;
  }
  // No playbooks: a rollback only needs the inventory.
  const loaded = loadRunInputs(io, [], { ...options, var: [] }, true);
  if (!loaded) return ExitCode.Failure;
  const inventory = loaded.inputs.inventory;
  // loadRunInputs has refused a -l that selects no host; a term matching nothing is a warning.
  const warnings = loaded.warnings.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, { sources: loaded.inputs.sources, color: io.stderrIsTTY }));
  const selected = loaded.limit ? new Set(selectHosts(loaded.limit, inventoryUniverse(inventory)).hosts) : undefined;
  const hosts = inventory.hosts.filter((h) => !selected || selected.has(h.name));

  const transport = runTransport(io, options);
  const interrupt = interruptController(io);
  const rollback: RollbackOptions = {
    transport,
    inventory,
    forks: options.forks,
    ...(options.transaction !== undefined ? { transactionId: options.transaction } : {}),
    signal: interrupt.signal,
    progress: await createProgress(progressModeFor(io), hosts.map((h) => h.name), 'Reading transactions', (line) => io.stderr(`${line}\n`)),
    transaction: {
      deadmanSeconds: Math.ceil(options.confirmTimeout / 1000),
      settleMs: options.settle,
      backupRoot: options.backupDir,
      keepBackups: DEFAULT_KEEP_BACKUPS,
      now: () => new Date(),
    },
  };
  try {
    const prepared = await prepareRollbacks(hosts, rollback);
    await rollback.progress.finish();
    if (!options.yes) {
      io.stderr(renderHumanReport('plan', prepared.map((p) => p.plan), { color: wantsColor(io), diffs: true }));
      const ready = prepared.filter((p) => p.ready);
      if (ready.length === 0) {
        io.stderr('Nothing to roll back.\n');
        return exitCodeFor(prepared.map((p) => p.plan), false);
      }
      if (!(await confirm(io, `Roll back ${ready.length} host(s) as shown?`))) {
        await closeRollbacks(prepared);
        io.stderr('Rollback cancelled.\n');
        return ExitCode.Failure;
      }
    }
    const progress = await createProgress(progressModeFor(io), hosts.map((h) => h.name), 'Rolling back', (line) => io.stderr(`${line}\n`));
    let results;
    try {
      results = await commitRollbacks(prepared, { ...rollback, progress });
    } finally {
      await progress.finish();
    }
    io.stdout(renderReport(options.format, 'rollback', results, { color: wantsColor(io), rollbackCommand: rollbackCommandLine(options) }));
    return interrupt.signal.aborted ? ExitCode.Failure : exitCodeFor(results, false);
  } finally {
    await transport.closeAll();
    interrupt.dispose();
  }
}

export function registerRollbackCommand(program: Command): void {
  const rollback = program
    .command('rollback')
    .description("put back the files of each host's last finished transaction (or --transaction ID) as a new transaction: refused when a file changed since")
    .option('-i, --inventory <INVENTORY>', 'inventory file (default: ./inventory.yaml, then $SSHFIX_INVENTORY)')
    .option('-l, --limit <PATTERN>', 'only hosts matching this pattern (name, group, glob, a,b, !exclude)')
    .option('--transaction <ID>', 'the transaction to undo (default: the newest confirmed one on each host)', parseTransactionId)
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .addOption(new Option('--format <FORMAT>', 'output format').choices([...REPORT_FORMATS]).default('human'))
    .option('--forks <N>', 'hosts worked on at once', parseForks, DEFAULT_FORKS);
  addTransactionTimingOptions(rollback)
    .option('--backup-dir <DIR>', 'where hosts keep backups of changed files (as given to apply)', parseBackupDir, DEFAULT_BACKUP_ROOT)
    .option('-v, --verbose', 'print each command run on each host and how long it took', countVerbose, 0)
    .action(async (options: RollbackCommandOptions) => {
      process.exitCode = await runRollbackCommand(processIO(), options);
    });
}
