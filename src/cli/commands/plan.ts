import { appendFileSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { serialisePlan } from '../../engine/plan-file.js';
import type { ChangeCommand, HostPlan } from '../../engine/plan-model.js';
import { boundHeapGrowth, runPlan, selectWork, type PlanRunResult } from '../../engine/run-plan.js';
import { parseShard, selectShard } from '../../engine/shards.js';
import { applyConnectionOverrides } from '../../model/connection-overrides.js';
import { renderStepSummary } from '../../report/step-summary.js';
import { verboseTransport } from '../verbose-transport.js';
import { parseHostPattern, type HostPattern } from '../../model/host-pattern.js';
import { checkLimit } from '../../model/limit-check.js';
import { createProgress, type ProgressView } from '../../report/progress.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { REPORT_FORMATS, writeReport, type ReportFormat } from '../../report/render-report.js';
import { sharedReportOnly } from '../../report/report-host.js';
import { createTransport, type Transport } from '../../transport/index.js';
import { hasErrors, type Diagnostic } from '../../util/diagnostics.js';
import { sshfixVersion } from '../../util/version.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, progressModeFor, wantsColor, type CommandIO } from '../io.js';
import { collectVar, readInputs, type LoadedInputs } from './validate.js';

export const DEFAULT_FORKS = 32;

export function parseForks(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000.');
  return Number(value);
}

/** With no PLAYBOOK, every *.yaml in ./playbooks, as Terraform reads every .tf of its directory. */
export function defaultPlaybooks(cwd: string): string[] {
  const dir = join(cwd, 'playbooks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join('playbooks', f));
}

/** Options shared by plan and apply. */
export interface RunOptions {
  inventory?: string;
  limit?: string;
  var: string[];
  /** Ansible's `-e K=V`: the same as --var. */
  extraVars?: string[];
  format: ReportFormat;
  forks: number;
  /** Ansible's `--diff`: accepted; diffs are always shown. */
  diff?: boolean;
  /** `-v` (commands per host with durations), `-vv` (and what each fact was). */
  verbose?: number;
  /** Ansible's `-u USER` and `--private-key FILE`: for every host, over the inventory. */
  user?: string;
  privateKey?: string;
  /** `K/N`: only the K-th of N stable slices of the hosts. */
  shard?: string;
}

/** `-v` repeated: each one raises the verbosity. */
export const countVerbose = (_value: string, previous: number): number => previous + 1;

const parseShardOption = (value: string): string => {
  const parsed = parseShard(value);
  if ('error' in parsed) throw new InvalidArgumentError(parsed.error);
  return value;
};

export function addRunOptions(command: Command): Command {
  return command
    .option('-i, --inventory <INVENTORY>', 'inventory file (default: ./inventory.yaml, then $SSHFIX_INVENTORY)')
    .option('-l, --limit <PATTERN>', 'only hosts matching this pattern (name, group, glob, a,b, !exclude)')
    .option('--var <K=V>', 'set a variable (overrides every other source; repeatable)', collectVar, [])
    .option('-e, --extra-vars <K=V>', 'the same as --var, as in Ansible (repeatable)', collectVar, [])
    .addOption(new Option('--format <FORMAT>', 'output format').choices([...REPORT_FORMATS]).default('human'))
    .option('--forks <N>', 'hosts worked on at once', parseForks, DEFAULT_FORKS)
    .option('--shard <K/N>', 'only the K-th of N stable slices of the selected hosts (CI matrix jobs)', parseShardOption)
    .option('-u, --user <USER>', 'log in as USER on every host (over the inventory)')
    .option('--private-key <FILE>', 'use this private key on every host (over the inventory)')
    .option('--diff', 'accepted for Ansible habits: diffs are always shown')
    .option('-v, --verbose', 'print each command run on each host and how long it took (-vv: and what each fact was)', countVerbose, 0);
}

/** The transport of a run, reporting each command at -v and above. */
export function runTransport(io: CommandIO, options: Pick<RunOptions, 'verbose'>): Transport {
  const transport = createTransport({ onWarning: (w) => io.stderr(`warning: ${w.message}\n`) });
  return verboseTransport(transport, options.verbose ?? 0, (line) => io.stderr(`${line}\n`));
}

/** Narrows hosts to `--shard K/N`, saying so when the shard is empty. */
export function applyShard<T>(io: CommandIO, items: readonly T[], nameOf: (item: T) => string, shard: string | undefined): T[] {
  if (shard === undefined) return [...items];
  const parsed = parseShard(shard);
  if ('error' in parsed) return [...items];
  const selected = selectShard(items, parsed.shard, nameOf);
  if (selected.length === 0) io.stderr(`shard ${shard}: none of the ${items.length} selected host(s) falls in this shard; nothing to do\n`);
  return selected;
}

/** If `$GITHUB_STEP_SUMMARY` is set and the format is github, appends the Markdown summary there. */
export function writeStepSummary(io: CommandIO, format: ReportFormat, command: ChangeCommand, hosts: readonly HostPlan[]): void {
  const path = process.env['GITHUB_STEP_SUMMARY'];
  if (format !== 'github' || !path) return;
  try {
    appendFileSync(path, renderStepSummary(command, hosts));
  } catch (error) {
    io.stderr(`warning: could not write the step summary to ${path}: ${(error as Error).message}\n`);
  }
}

/** Reads and checks the inputs; on errors prints them and returns undefined (exit 1). */
export function loadRunInputs(
  io: CommandIO,
  playbookFiles: readonly string[],
  options: RunOptions,
  fromSavedPlan = false,
  /** Host names a saved plan holds: like a play's hosts, they may name the implicit localhost. */
  savedHosts: readonly string[] = [],
): { inputs: LoadedInputs & { inventory: NonNullable<LoadedInputs['inventory']> }; limit?: HostPattern; warnings: Diagnostic[] } | undefined {
  const parsedLimit = options.limit !== undefined ? parseHostPattern(options.limit) : undefined;
  const inputs = readInputs({
    playbooks: playbookFiles,
    ...(options.inventory !== undefined ? { inventory: options.inventory } : {}),
    vars: [...options.var, ...(options.extraVars ?? [])],
    requireInventory: true,
    ...(parsedLimit && parsedLimit.errors.length === 0 ? { limit: parsedLimit.pattern } : {}),
    namedHosts: savedHosts,
  });
  if (inputs.inventory && (options.user !== undefined || options.privateKey !== undefined)) {
    inputs.inventory = applyConnectionOverrides(inputs.inventory, {
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.privateKey !== undefined ? { identityFile: resolve(options.privateKey) } : {}),
    });
  }
  const diagnostics = [...inputs.diagnostics];
  let limit: HostPattern | undefined;
  if (options.limit !== undefined && parsedLimit) {
    const parsed = parsedLimit;
    for (const error of parsed.errors) diagnostics.push({ severity: 'error', code: 'bad-pattern', message: `-l ${options.limit}: ${error.message}`, ...(error.hint ? { hint: error.hint } : {}) });
    limit = parsed.pattern;
    if (parsed.errors.length === 0 && inputs.inventory) diagnostics.push(...checkLimit(inputs.inventory, limit));
  }
  if (playbookFiles.length === 0 && !fromSavedPlan) {
    diagnostics.push({ severity: 'error', code: 'no-playbooks', message: 'no playbooks given and none in ./playbooks', hint: 'name one or more playbook files' });
  }
  if (hasErrors(diagnostics) || !inputs.inventory) {
    io.stderr(renderDiagnostics(diagnostics, { sources: inputs.sources, color: io.stderrIsTTY }));
    return undefined;
  }
  return { inputs: inputs as LoadedInputs & { inventory: NonNullable<LoadedInputs['inventory']> }, ...(limit ? { limit } : {}), warnings: diagnostics };
}

/** What a run without --out keeps of each finished host: what the report shows, each distinct text once. */
function keepReport(): (result: PlanRunResult) => PlanRunResult {
  const reduce = sharedReportOnly();
  return (result) => ({ plan: reduce(result.plan) });
}

interface PlanOptions extends RunOptions {
  out?: string;
  detailedExitcode?: boolean;
}

/** Exit code of a finished run: failures first, then changes when asked. */
export function exitCodeFor(hosts: readonly HostPlan[], detailed: boolean): number {
  if (hosts.some((h) => h.status === 'failed' || h.status === 'unreachable' || h.checks.some((c) => !c.passed))) return ExitCode.Failure;
  if (detailed && hosts.some((h) => h.changes.length > 0 || h.actions.length > 0)) return ExitCode.ChangesPresent;
  return ExitCode.Success;
}

/** What an interruption says, and where: the progress view in use, if any, marks the hosts in flight. */
export interface InterruptWords {
  view?: ProgressView;
  /** Beside each host in flight in the interactive view. */
  note: string;
  /** Printed at the first signal. */
  first: (sig: NodeJS.Signals) => string;
  /** Printed at the second signal, just before exiting. */
  second?: () => string;
}

export interface Interrupt {
  signal: AbortSignal;
  /** Points the messages at the run under way (planning, then applying). */
  watch(words: InterruptWords): void;
  dispose(): void;
}

export const PLAN_INTERRUPT: InterruptWords = {
  note: 'Ctrl-C: finishing',
  first: (sig) => `\nsshfix: ${sig}: finishing the hosts in flight, starting no more (again to quit at once)\n`,
};

/** SIGINT/SIGTERM stop starting new hosts and say so at once; a second signal exits at once. */
export function interruptController(io: CommandIO): Interrupt {
  const controller = new AbortController();
  let words = PLAN_INTERRUPT;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      const last = words.second?.();
      if (last) {
        if (words.view) words.view.abandon(last);
        else io.stderr(last);
      }
      process.exit(130);
    }
    // Plain progress and no progress show stderr at once; the interactive view holds it back
    // until it ends, so it marks the hosts itself.
    io.stderr(words.first(sig));
    words.view?.interrupted(words.note);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    watch: (next) => {
      words = next;
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function runPlanCommand(io: CommandIO, playbookArgs: readonly string[], options: PlanOptions): Promise<number> {
  // Before the inputs load: parsing a 10,000-host inventory otherwise leaves the heap at 200 MB.
  boundHeapGrowth();
  const playbookFiles = playbookArgs.length > 0 ? [...playbookArgs] : defaultPlaybooks(process.cwd());
  const loaded = loadRunInputs(io, playbookFiles, options);
  if (!loaded) return ExitCode.Failure;
  const { inputs, limit } = loaded;
  const selection = selectWork(inputs.inventory, inputs.playbooks, limit);
  // selection.diagnostics repeat the hosts: warnings the inputs' validation already holds.
  const warnings = loaded.warnings.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, { sources: inputs.sources, color: io.stderrIsTTY }));
  selection.work = applyShard(io, selection.work, (w) => w.host.name, options.shard);

  const transport = runTransport(io, options);
  const progress = await createProgress(progressModeFor(io), selection.work.map((w) => w.host.name), 'Planning', (line) => io.stderr(`${line}\n`), { planning: true });
  const interrupt = interruptController(io);
  interrupt.watch({ ...PLAN_INTERRUPT, view: progress });
  let results: PlanRunResult[];
  try {
    results = await runPlan({
      work: selection.work,
      forks: options.forks,
      transport,
      cliVars: inputs.cliVars,
      inventory: inputs.inventory,
      progress,
      signal: interrupt.signal,
      // Without --out, a finished host keeps only what the report shows.
      ...(options.out === undefined ? { keep: keepReport() } : {}),
    });
  } finally {
    await progress.finish();
    await transport.closeAll();
    interrupt.dispose();
  }
  const hosts = results.map((r) => r.plan);

  writeReport(io.stdout, options.format, 'plan', hosts, { color: wantsColor(io), diagnostics: warnings });
  writeStepSummary(io, options.format, 'plan', hosts);
  if (options.out !== undefined) {
    const text = serialisePlan({
      createdAt: new Date(),
      version: sshfixVersion(),
      inventory: inputs.inventory.file,
      playbooks: playbookFiles,
      hosts: results,
    });
    const tmp = `${options.out}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, options.out);
    io.stderr(`plan saved to ${options.out}: apply it with sshfix apply --plan ${options.out}\n`);
  }
  return exitCodeFor(hosts, options.detailedExitcode === true);
}

export function registerPlanCommand(program: Command): void {
  addRunOptions(
    program
      .command('plan')
      .description('connect to each host, read its config, and show the changes the playbooks would make (changes nothing)')
      .argument('[PLAYBOOK...]', 'playbook files (default: every *.yaml in ./playbooks)'),
  )
    .option('--out <PLANFILE>', 'save the plan, to apply exactly it later with apply --plan')
    .option('--detailed-exitcode', 'exit 2 when there are changes (0: none, 1: errors)')
    .action(async (playbooks: string[], options: PlanOptions) => {
      process.exitCode = await runPlanCommand(processIO(), playbooks, options);
    });
}
