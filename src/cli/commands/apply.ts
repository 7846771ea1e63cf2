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
import { durationTooLong, parseDuration } from '../../model/duration.js';
import { renderHumanReport } from '../../report/human-report.js';
import type { ProgressReporter } from '../../engine/progress.js';
import { SERVICES } from '../../services/registry.js';
import { createProgress, type ProgressView } from '../../report/progress.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { renderReport } from '../../report/render-report.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, progressModeFor, wantsColor, type CommandIO } from '../io.js';
import { addRunOptions, applyShard, defaultPlaybooks, exitCodeFor, interruptController, loadRunInputs, PLAN_INTERRUPT, runPlanCommand, runTransport, writeStepSummary, type RunOptions } from './plan.js';

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
  const tooLong = durationTooLong(ms);
  if (tooLong !== undefined) throw new InvalidArgumentError(`expected a duration of ${tooLong}.`);
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
  const loaded = loadRunInputs(io, playbookFiles, { ...options, ...(inventoryOption ? { inventory: inventoryOption } : {}) }, saved !== undefined, saved?.hosts.map((h) => h.name));
  if (!loaded) return ExitCode.Failure;
  const { inputs, limit } = loaded;
  const warnings = loaded.warnings.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, { sources: inputs.sources, color: io.stderrIsTTY }));

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
      if (options.yes) {
        items = selection.work.map((work) => ({ host: work.host, work }));
      } else {
        // Show the plan, ask, then apply exactly what was shown (files are checked against it).
        const progress = await createProgress(progressModeFor(io), selection.work.map((w) => w.host.name), 'Planning', (line) => io.stderr(`${line}\n`), { planning: true });
        interrupt.watch({ ...PLAN_INTERRUPT, view: progress });
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
        // Hosts with nothing to apply keep what planning found (ok, or failed and unreachable with
        // their real error), as the --yes path reports them.
        items = planned.map((p) =>
          p.plan.status === 'changed'
            ? { host: byName.get(p.plan.name)!, saved: toSavedHost(p.plan, p.request) }
            : { host: byName.get(p.plan.name)!, settled: p.plan },
        );
      }
    }

    const view = await createProgress(progressModeFor(io), items.map((i) => i.host.name), 'Applying', (line) => io.stderr(`${line}\n`));
    const progress = trackTransactions(view, options.confirmTimeout);
    interrupt.watch({
      view,
      note: 'Ctrl-C: finishing or rolling back',
      first: (sig) =>
        `\nsshfix: ${sig}: the hosts in flight finish their transaction or roll back; no more hosts start. ` +
        `Again to quit at once, leaving the hosts in flight to their dead-man switch.\n`,
      second: () => progress.leftToDeadman(),
    });
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

/** Stages a host goes through before its transaction touches anything (run-plan.ts, run-apply.ts). */
const BEFORE_TRANSACTION = new Set(['connecting', 'gathering facts', 'checking the plan is current', ...Object.values(SERVICES).map((s) => s.validatingStage)]);

/**
 * Progress that also remembers which hosts are inside their transaction and since when, so that a
 * second Ctrl-C can name the hosts it leaves to their dead-man switch and when each fires. Any
 * stage not known to come before the transaction counts as inside it: a false alarm beats silence.
 */
function trackTransactions(view: ProgressView, confirmTimeoutMs: number): ProgressReporter & { leftToDeadman(): string } {
  const since = new Map<string, number>();
  const waiting = new Set<string>();
  const clock = (ms: number): string => new Date(ms).toTimeString().slice(0, 8);
  return {
    stage(host, text) {
      if (!BEFORE_TRANSACTION.has(text) && !since.has(host)) since.set(host, Date.now());
      if (!since.has(host)) waiting.add(host);
      view.stage(host, text);
    },
    done(host, status, detail) {
      since.delete(host);
      waiting.delete(host);
      view.done(host, status, detail);
    },
    finish: () => view.finish(),
    leftToDeadman() {
      const now = Date.now();
      const left = [...since].map(([host, start]) => {
        const fires = start + confirmTimeoutMs;
        return `  ${host}: its dead-man switch restores the previous config at about ${clock(fires)} (in ${Math.max(0, Math.round((fires - now) / 1000))} s)`;
      });
      const untouched = [...waiting].filter((h) => !since.has(h));
      return [
        '\nsshfix: quitting now.',
        left.length > 0 ? 'Left to their dead-man switch (each restores its host unless the transaction was confirmed just before):' : 'No host was inside its transaction: none is left to a dead-man switch.',
        ...left,
        ...(untouched.length > 0 ? [`Not changed (stopped before their transaction): ${untouched.join(', ')}`] : []),
        '',
      ].join('\n');
    },
  };
}

/** A saved host shown as a plan (for the confirmation screen). */
function savedAsPlan(saved: SavedHostPlan): HostPlan {
  return {
    name: saved.name,
    address: saved.address,
    status: saved.status,
    changes: saved.changes,
    actions: saved.actions ?? [],
    checks: [],
    notes: [],
    warnings: saved.warnings,
    filesRead: saved.files_read,
    files: [],
    expectations: saved.expectations,
    services: saved.services,
  };
}

/** The dead-man switch's window and the wait before the fresh login: the same for apply and rollback. */
export function addTransactionTimingOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--confirm-timeout <DURATION>', 'the host restores its previous config unless sshfix confirms within this time (dead-man switch)')
        .argParser(parseDurationOption)
        .default(120_000, '120s'),
    )
    .addOption(new Option('--settle <DURATION>', 'wait after the reload before proving a fresh login').argParser(parseDurationOption).default(500, '500ms'));
}

export function registerApplyCommand(program: Command): void {
  addTransactionTimingOptions(
    addRunOptions(
      program
        .command('apply')
        .description('change the hosts: per host back up, write, validate with sshd -t, reload, prove a fresh login, roll back if not')
        .argument('[PLAYBOOK...]', 'playbook files (default: every *.yaml in ./playbooks)'),
    ),
  )
    .option('--plan <PLANFILE>', 'apply exactly a plan saved with plan --out (refused per host when its files changed since)')
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--check', 'plan only, as Ansible\'s check mode: show the changes, write nothing')
    .option('--serial <LIST>', 'rolling batches, e.g. 1,10%,100% (a canary host, then 10%, then the rest)', parseSerialOption)
    .option('--max-fail-percent <N>', 'stop before the next batch once more than N% of the hosts so far failed', parsePercent)
    .option('--backup-dir <DIR>', 'where hosts keep backups of changed files (an absolute path on the host)', parseBackupDir, DEFAULT_BACKUP_ROOT)
    .option('--keep-backups <N>', 'transactions of backups each host keeps', parseKeep, DEFAULT_KEEP_BACKUPS)
    .action(async (playbooks: string[], options: ApplyOptions) => {
      process.exitCode = await runApplyCommand(processIO(), playbooks, options);
    });
}
