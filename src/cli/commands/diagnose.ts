import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runDiagnose } from '../../engine/run-diagnose.js';
import { parseShard, selectShard } from '../../engine/shards.js';
import { parseDuration } from '../../model/duration.js';
import { isIP } from 'node:net';
import { selectInventoryHosts } from '../../model/inventory.js';
import { buildDiagnoseJson, renderDiagnoseHuman } from '../../report/diagnose-report.js';
import { createProgress } from '../../report/progress.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { createTransport } from '../../transport/index.js';
import { hasErrors, type Diagnostic } from '../../util/diagnostics.js';
import { ExitCode } from '../exit-codes.js';
import { processIO, progressModeFor, wantsColor, type CommandIO } from '../io.js';
import { parseForks, DEFAULT_FORKS } from './plan.js';
import { readInputs } from './validate.js';

interface DiagnoseOptions {
  inventory?: string;
  limit?: string;
  client?: string;
  user?: string;
  symptom: 'connect' | 'idle';
  since: string;
  idleProbe?: string;
  format: 'human' | 'json';
  forks: number;
  shard?: string;
}

const DEFAULT_SINCE = '24h';

function durationOption(name: string): (value: string) => string {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${name}: expected a duration such as 90s, 10m or 24h.`);
    return value;
  };
}

/** The shipped playbooks diagnose may name in its fix commands, as a user would type them. */
function shippedPlaybooks(cwd: string): Set<string> {
  const dir = join(cwd, 'playbooks');
  return new Set(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => `playbooks/${f}`) : []);
}

export async function runDiagnoseCommand(io: CommandIO, patterns: readonly string[], options: DiagnoseOptions): Promise<number> {
  const inputs = readInputs({ playbooks: [], ...(options.inventory !== undefined ? { inventory: options.inventory } : {}), requireInventory: true });
  const diagnostics: Diagnostic[] = [...inputs.diagnostics];
  if (options.client !== undefined && !isIP(options.client)) {
    diagnostics.push({ severity: 'error', code: 'bad-client', message: `--client ${JSON.stringify(options.client)} is not an IP address`, hint: 'give the address the host sees the client connect from' });
  }
  if (options.user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(options.user)) {
    diagnostics.push({ severity: 'error', code: 'bad-user', message: `--user ${JSON.stringify(options.user)} is not an account name` });
  }
  const inventory = inputs.inventory;
  let hosts = inventory?.hosts ?? [];
  if (inventory) {
    const pattern = [...patterns, ...(options.limit !== undefined ? [options.limit] : [])].join(',');
    if (patterns.length === 0) diagnostics.push({ severity: 'error', code: 'no-hosts', message: 'name the host(s) to diagnose: sshfix diagnose HOST...' });
    else {
      const selected = selectInventoryHosts(inventory, patterns.join(','), { label: 'HOST' });
      diagnostics.push(...selected.diagnostics);
      hosts = selected.hosts;
      if (options.limit !== undefined) {
        const limited = selectInventoryHosts(inventory, options.limit, { label: '-l' });
        diagnostics.push(...limited.diagnostics);
        const keep = new Set(limited.hosts.map((h) => h.name));
        hosts = hosts.filter((h) => keep.has(h.name));
      }
      if (hosts.length === 0 && !hasErrors(diagnostics)) diagnostics.push({ severity: 'error', code: 'no-match', message: `no inventory host matches ${pattern}` });
      for (const host of hosts.filter((h) => h.connection === 'local')) {
        diagnostics.push({
          severity: 'error',
          code: 'diagnose-local-host',
          message: `${host.name} has connection: local: diagnose explains dropped SSH logins, and nothing logs in to a local host`,
          hint: 'to diagnose drops of SSH connections to this machine, list it as an SSH host with its address (connection: ssh)',
          file: inventory.file,
          range: host.declaredAt,
        });
      }
    }
  }
  let shardNote: string | undefined;
  if (options.shard !== undefined) {
    const shard = parseShard(options.shard);
    if ('error' in shard) diagnostics.push({ severity: 'error', code: 'bad-shard', message: `--shard: ${shard.error}` });
    else {
      hosts = selectShard(hosts, shard.shard);
      if (hosts.length === 0) shardNote = `shard ${options.shard} holds none of the selected hosts: nothing to do`;
    }
  }
  if (hasErrors(diagnostics) || !inventory) {
    io.stderr(renderDiagnostics(diagnostics, { sources: inputs.sources, color: io.stderrIsTTY }));
    return ExitCode.Failure;
  }
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  if (warnings.length > 0) io.stderr(renderDiagnostics(warnings, { sources: inputs.sources, color: io.stderrIsTTY }));
  if (shardNote) io.stderr(`${shardNote}\n`);

  const transport = createTransport({ onWarning: (w) => io.stderr(`warning: ${w.message}\n`) });
  const progress = await createProgress(progressModeFor(io), hosts.map((h) => h.name), 'Diagnosing', (line) => io.stderr(`${line}\n`));
  const inventoryArg = options.inventory !== undefined ? ` -i ${options.inventory}` : '';
  let results;
  try {
    results = await runDiagnose({
      transport,
      inventory,
      hosts,
      ...(options.client !== undefined ? { client: options.client } : {}),
      ...(options.user !== undefined ? { user: options.user } : {}),
      symptom: options.symptom,
      sinceMs: parseDuration(options.since) as number,
      ...(options.idleProbe !== undefined ? { idleProbeMs: parseDuration(options.idleProbe) as number } : {}),
      forks: options.forks,
      progress,
      now: () => Date.now(),
      applyCommand: `sshfix apply${inventoryArg}`,
      playbooks: shippedPlaybooks(process.cwd()),
    });
  } finally {
    await progress.finish();
    await transport.closeAll();
  }
  io.stdout(options.format === 'json' ? `${JSON.stringify(buildDiagnoseJson(results), null, 2)}\n` : renderDiagnoseHuman(results, { color: wantsColor(io) }));
  const cannot = results.some((r) => r.causes.length === 0 && (r.error !== undefined || (!r.evidenceRead && r.probe.stage !== 'ok')));
  if (cannot) return ExitCode.Failure;
  return results.some((r) => r.causes.length > 0) ? ExitCode.ChangesPresent : ExitCode.Success;
}

export function registerDiagnoseCommand(program: Command): void {
  program
    .command('diagnose')
    .description('find which cause makes a host drop a client, with the evidence and the command that fixes it (exit 0: none found, 1: cannot diagnose, 2: cause found)')
    .argument('<HOST...>', 'inventory hosts, groups or patterns')
    .option('-i, --inventory <INVENTORY>', 'inventory file (default: ./inventory.yaml, then $SSHFIX_INVENTORY)')
    .option('-l, --limit <PATTERN>', 'further narrow the hosts')
    .option('--client <ADDR>', "the client's address as the host sees it (default: the runner's own)")
    .option('--user <NAME>', 'the account the client logs in as (default: the inventory user)')
    .addOption(new Option('--symptom <SYMPTOM>', 'connect: dropped at connection setup; idle: an established session dies when idle').choices(['connect', 'idle']).default('connect'))
    .option('--since <DURATION>', 'how far back to read the logs', durationOption('--since'), DEFAULT_SINCE)
    .option('--idle-probe <DURATION>', 'with --symptom idle: hold a quiet session this long and see whether it survives', durationOption('--idle-probe'))
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['human', 'json']).default('human'))
    .option('--forks <N>', 'hosts worked on at once', parseForks, DEFAULT_FORKS)
    .option('--shard <K/N>', 'only the K-th of N stable slices of the hosts (CI matrices)')
    .action(async (hosts: string[], options: DiagnoseOptions) => {
      process.exitCode = await runDiagnoseCommand(processIO(), hosts, options);
    });
}
