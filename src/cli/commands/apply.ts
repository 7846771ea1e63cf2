import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseSerial, type SerialStep } from '../../engine/batches.js';
import { parseSavedPlan, PlanFileError, toSavedHost, type SavedHostPlan, type SavedPlan } from '../../engine/plan-file.js';
import type { HostPlan } from '../../engine/plan-model.js';
import { runApply, type ApplyItem } from '../../engine/run-apply.js';
import { runPlan, selectWork } from '../../engine/run-plan.js';
import { DEFAULT_BACKUP_ROOT, DEFAULT_KEEP_BACKUPS } from '../../engine/transaction.js';
import { selectHosts } from '../../model/host-pattern.js';
import { inventoryUniverse } from '../../model/inventory.js';
import { shellCommand } from '../../util/shell-quote.js';
import { describeControlCharacter, findControlCharacter } from '../../lang/control-characters.js';
import { parseDuration } from '../../model/duration.js';
import { renderHumanReport } from '../../report/human-report.js';
import { createProgress } from '../../report/progress.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { renderReport } from '../../report/render-report.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, progressModeFor, wantsColor, type CommandIO } from '../io.js';
import { addRunOptions, applyShard, defaultPlaybooks, exitCodeFor, interruptController, loadRunInputs, runPlanCommand, runTransport, writeStepSummary, type RunOptions } from './plan.js';

/** What a fresh login and the sshd -T checks need at least, before the dead-man switch may fire. */
export const MIN_PROOF_MS = 10_000;

interface ApplyOptions extends RunOptions {
  plan?: string;
  /** Ansible's `--check`: the same as plan. */
  check?: boolean;
  out?: string;
  detailedExitcode?: boolean;
  yes?: boolean;
  serial?: SerialStep[];
  maxFailPercent?: number;
  confirmTimeout: number;
  settle: number;
  backupDir: string;
  keepBackups: number;
}

const parseSerialOption = (value: string): SerialStep[] => {
  const parsed = parseSerial(value);
  if ('error' in parsed) throw new InvalidArgumentError(parsed.error);
  return parsed.steps;
};

const parsePercent = (value: string): number => {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) > 100) throw new InvalidArgumentError('expected a percentage from 0 to 100.');
  return Number(value);
};

export const parseDurationOption = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 120s, 2m or 1m30s.');
  return ms;
};

const parseKeep = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return Number(value);
};

/**
 * The backup directory goes into the remote script and the dead-man switch's command line: it must
 * be one absolute path without control characters (a newline would end the command early and
 * only surface later, as a lost connection).
 */
export const parseBackupDir = (value: string): string => {
  const found = findControlCharacter(value);
  if (found) throw new InvalidArgumentError(`it holds ${describeControlCharacter(found.char)} at offset ${found.offset}.`);
  if (!value.startsWith('/')) throw new InvalidArgumentError('expected an absolute path (it is a directory on each host).');
  return value;
};

/** `sshfix rollback` with the options that find the same hosts and backups, for the reports' "roll back with" line. */
export function rollbackCommandLine(options: { inventory?: string; backupDir: string }): string {
  return shellCommand(
    'sshfix',
    'rollback',
    ...(options.inventory !== undefined ? ['-i', options.inventory] : []),
    ...(options.backupDir !== DEFAULT_BACKUP_ROOT ? ['--backup-dir', options.backupDir] : []),
  );
}

/** Asks on the terminal; only "yes" goes ahead (as Terraform does). */
export async function confirm(io: CommandIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
    return answer.trim() === 'yes';
  } catch {
    // Ctrl-C or Ctrl-D at the prompt: a no.
    return false;
  } finally {
    rl.close();
    io.stderr('\n');
  }
}

export async function runApplyCommand(io: CommandIO, playbookArgs: readonly string[], options: ApplyOptions): Promise<number> {
  // Ansible's check mode: plan, nothing written.
  if (options.check) {
    if (options.plan !== undefined) {
      io.stderr('sshfix apply: --check plans from the playbooks; a saved plan has nothing to check\n');
      return ExitCode.Failure;
    }
    return runPlanCommand(io, playbookArgs, options);
  }
  if (options.plan !== undefined && playbookArgs.length > 0) {
    io.stderr('sshfix apply: give either playbooks or --plan PLANFILE, not both\n');
    return ExitCode.Failure;
  }
  if (options.confirmTimeout < options.settle + MIN_PROOF_MS) {
    io.stderr(
      `sshfix apply: --confirm-timeout must leave time to prove the change: at least --settle plus ${MIN_PROOF_MS / 1000}s (here ${Math.ceil((options.settle + MIN_PROOF_MS) / 1000)}s)\n`,
    );
    return ExitCode.Failure;
  }
  const interactive = io.stdinIsTTY && io.stderrIsTTY;
  if (!options.yes && !interactive) {
    io.stderr('sshfix apply: refusing to change hosts without confirmation: pass --yes (there is no terminal to ask on)\n');
    return ExitCode.Failure;
  }

  let saved: SavedPlan | undefined;
  if (options.plan !== undefined) {
    try {
      saved = parseSavedPlan(readFileSync(options.plan, 'utf8'), options.plan);
    } catch (error) {
      const message = error instanceof PlanFileError ? error.message : `${options.plan}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}`;
      io.stderr(`sshfix apply: ${message}\n`);
      return ExitCode.Failure;
    }
  }
  const playbookFiles = saved ? [] : playbookArgs.length > 0 ? [...playbookArgs] : defaultPlaybooks(process.cwd());
  const inventoryOption = options.inventory ?? (saved && !process.env['SSHFIX_INVENTORY'] ? saved.inventory : undefined);
  const loaded = loadRunInputs(io, playbookFiles, { ...options, ...(inventoryOption ? { inventory: inventoryOption } : {}) }, saved !== undefined);
  if (!loaded) return ExitCode.Failure;
  const { inputs, limit } = loaded;
  const warnings = loaded.warnings.filter((d) => d.severity === 'warning');

  const transport = runTransport(io, options);
  const interrupt = interruptController(io);
  try {
    let items: ApplyItem[];
    if (saved) {
      const universe = inventoryUniverse(inputs.inventory);
      const allowed = limit ? new Set(selectHosts(limit, universe).hosts) : undefined;
      const byName = new Map(inputs.inventory.hosts.map((h) => [h.name, h]));
      const missing = saved.hosts.filter((h) => !byName.has(h.name)).map((h) => h.name);
      if (missing.length > 0) {
        io.stderr(`sshfix apply: the plan names hosts the inventory ${inputs.inventory.file} does not have: ${missing.join(', ')}\n`);
        return ExitCode.Failure;
      }
      items = applyShard(io, saved.hosts.filter((h) => !allowed || allowed.has(h.name)), (h) => h.name, options.shard).map((h) => ({ host: byName.get(h.name)!, saved: h }));
      if (!options.yes) {
        io.stderr(renderHumanReport('plan', items.map((i) => savedAsPlan(i.saved as SavedHostPlan)), { color: wantsColor(io), diffs: true }));
        if (!(await confirm(io, `Apply the saved plan ${options.plan} to ${items.length} host(s)?`))) {
          io.stderr('Apply cancelled.\n');
          return ExitCode.Failure;
        }
      }
    } else {
      const selection = selectWork(inputs.inventory, inputs.playbooks, limit);
      selection.work = applyShard(io, selection.work, (w) => w.host.name, options.shard);
      warnings.push(...selection.diagnostics.filter((d) => d.severity === 'warning'));
      if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, { sources: inputs.sources, color: io.stderrIsTTY }));
      if (options.yes) {
        items = selection.work.map((work) => ({ host: work.host, work }));
      } else {
        // Show the plan, ask, then apply exactly what was shown (files are checked against it).
        const progress = createProgress(progressModeFor(io), selection.work.map((w) => w.host.name), 'Planning', (line) => io.stderr(`${line}\n`));
        const planned = await runPlan({ work: selection.work, forks: options.forks, transport, cliVars: inputs.cliVars, inventory: inputs.inventory, progress, signal: interrupt.signal });
        await progress.finish();
        io.stderr(renderHumanReport('plan', planned.map((p) => p.plan), { color: wantsColor(io), diffs: true }));
        const toChange = planned.filter((p) => p.plan.status === 'changed');
        if (toChange.length === 0) {
          io.stderr('Nothing to apply.\n');
          return exitCodeFor(planned.map((p) => p.plan), false);
        }
        if (!(await confirm(io, `Apply these changes to ${toChange.length} host(s)?`))) {
          io.stderr('Apply cancelled.\n');
          return ExitCode.Failure;
        }
        const byName = new Map(selection.work.map((w) => [w.host.name, w.host]));
        items = planned.map((p) => ({ host: byName.get(p.plan.name)!, saved: toSavedHost(p.plan, p.request) }));
      }
    }

    const progress = createProgress(progressModeFor(io), items.map((i) => i.host.name), 'Applying', (line) => io.stderr(`${line}\n`));
    let hosts: HostPlan[];
    try {
      hosts = await runApply({
        items,
        serial: options.serial ?? [],
        ...(options.maxFailPercent !== undefined ? { maxFailPercent: options.maxFailPercent } : {}),
        forks: options.forks,
        transport,
        inventory: inputs.inventory,
        cliVars: inputs.cliVars,
        progress,
        signal: interrupt.signal,
        transaction: {
          deadmanSeconds: Math.ceil(options.confirmTimeout / 1000),
          settleMs: options.settle,
          backupRoot: options.backupDir,
          keepBackups: options.keepBackups,
          now: () => new Date(),
        },
      });
    } finally {
      await progress.finish();
    }
    io.stdout(renderReport(options.format, 'apply', hosts, { color: wantsColor(io), diagnostics: warnings, rollbackCommand: rollbackCommandLine({ backupDir: options.backupDir, ...(inventoryOption !== undefined ? { inventory: inventoryOption } : {}) }) }));
    writeStepSummary(io, options.format, 'apply', hosts);
    return interrupt.signal.aborted ? ExitCode.Failure : exitCodeFor(hosts, false);
  } finally {
    await transport.closeAll();
    interrupt.dispose();
  }
}

/** A saved host shown as a plan (for the confirmation screen). */
function savedAsPlan(saved: SavedHostPlan): HostPlan {
  return {
    name: saved.name,
    address: saved.address,
    status: saved.status,
    changes: saved.changes,
    checks: [],
    notes: [],
    warnings: saved.warnings,
    filesRead: saved.files_read,
    files: [],
    expectations: saved.expectations,
    services: saved.services,
  };
}

export function registerApplyCommand(program: Command): void {
  addRunOptions(
    program
      .command('apply')
      .description('change the hosts: per host back up, write, validate with sshd -t, reload, prove a fresh login, roll back if not')
      .argument('[PLAYBOOK...]', 'playbook files (default: every *.yaml in ./playbooks)'),
  )
    .option('--plan <PLANFILE>', 'apply exactly a plan saved with plan --out (refused per host when its files changed since)')
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--check', 'plan only, as Ansible\'s check mode: show the changes, write nothing')
    .option('--serial <LIST>', 'rolling batches, e.g. 1,10%,100% (a canary host, then 10%, then the rest)', parseSerialOption)
    .option('--max-fail-percent <N>', 'stop before the next batch once more than N% of the hosts so far failed', parsePercent)
    .addOption(
      new Option('--confirm-timeout <DURATION>', 'the host restores its previous config unless sshfix confirms within this time (dead-man switch)')
        .argParser(parseDurationOption)
        .default(120_000, '120s'),
    )
    .addOption(new Option('--settle <DURATION>', 'wait after the reload before proving a fresh login').argParser(parseDurationOption).default(500, '500ms'))
    .option('--backup-dir <DIR>', 'where hosts keep backups of changed files (an absolute path on the host)', parseBackupDir, DEFAULT_BACKUP_ROOT)
    .option('--keep-backups <N>', 'transactions of backups each host keeps', parseKeep, DEFAULT_KEEP_BACKUPS)
    .action(async (playbooks: string[], options: ApplyOptions) => {
      process.exitCode = await runApplyCommand(processIO(), playbooks, options);
    });
}
