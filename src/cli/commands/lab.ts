import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FIRST_ADDRESS, MAX_LAB_HOSTS, isOpensshBuildName, splitScenarioEntry } from '../../lab/layout.js';
import { DEFAULT_LAB_DIR, DEFAULT_LAB_HOSTS, LabError, labDown, labStatus, labUp } from '../../lab/lab.js';
import { findLabScenario, LAB_SCENARIOS, ON_REQUEST_SCENARIOS } from '../../lab/scenarios.js';
import { ExitCode } from '../exit-codes.js';
import { formatOption } from './validate.js';

function parseHostCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_LAB_HOSTS) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_LAB_HOSTS}.`);
  }
  return Number(value);
}

function parseScenarioList(value: string): string[] {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = entries.map((e) => splitScenarioEntry(e).name).filter((n) => !findLabScenario(n));
  if (unknown.length > 0) {
    const known = [...LAB_SCENARIOS, ...ON_REQUEST_SCENARIOS].map((s) => s.name).join(', ');
    throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ')}; known: ${known}.`);
  }
  const badBuild = entries.map((e) => splitScenarioEntry(e).openssh).find((b) => b !== undefined && !isOpensshBuildName(b));
  if (badBuild !== undefined) throw new InvalidArgumentError(`"${badBuild}" is not an OpenSSH build such as 10.0p1 (name@10.0p1).`);
  return entries;
}

function parseOpensshBuild(value: string): string {
  if (!isOpensshBuildName(value)) throw new InvalidArgumentError('expected an OpenSSH build such as 10.0p1 (see scripts/build-openssh.sh).');
  return value;
}

/** How this process was started, to print commands that work as written: `sshfix` only when installed under that name. */
function sshfixCommand(): string {
  const script = process.argv[1] ?? '';
  if (basename(script) === 'sshfix') return 'sshfix';
  const path = relative(process.cwd(), script);
  return `node ${path.startsWith('..') || isAbsolute(path) ? script : path}`;
}

/**
 * The shipped remediation playbooks, as a path that works from here. Not compliance.yaml: its
 * checks fail on the lab on purpose, and a failed check stops its host before any change.
 */
const REMEDIATION_PLAYBOOKS = ['max-startups.yaml', 'server-keepalive.yaml', 'allow-users.yaml', 'legacy-kex-scoped.yaml'];

function remediationPlaybooks(): string[] {
  const shipped = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../playbooks');
  const here = resolve('playbooks') === shipped ? 'playbooks' : shipped;
  return REMEDIATION_PLAYBOOKS.map((name) => join(here, name));
}

const dirOption = (): Option =>
  new Option('--dir <DIR>', 'where the lab keeps its state, key and inventory').default(DEFAULT_LAB_DIR);

/** Runs a lab action, turning a LabError into a one-line message and exit code 1. */
async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (error instanceof LabError) {
      process.stderr.write(`sshfix lab: ${error.message}\n`);
      process.exitCode = ExitCode.Failure;
      return;
    }
    throw error;
  }
}

export function registerLabCommand(program: Command): void {
  const lab = program
    .command('lab')
    .description('a local fleet of real OpenSSH hosts on loopback, for demos, tests and benchmarks (Linux, root)');

  lab
    .command('up')
    .description('start the lab (or converge a running one to --hosts); writes DIR/inventory.yaml and DIR/id_ed25519')
    .option('--hosts <N>', `number of hosts (default: the running lab's, else ${DEFAULT_LAB_HOSTS})`, parseHostCount)
    .addOption(dirOption())
    .option('--first-address <IP>', `loopback address of the first host; the others follow it (default: the running lab's, else ${DEFAULT_FIRST_ADDRESS})`)
    .option(
      '--scenarios <LIST>',
      `comma-separated scenarios to seed round-robin (default: the running lab's, else, in order: ${LAB_SCENARIOS.map((s) => s.name).join(', ')}; ` +
        `only when named: ${ON_REQUEST_SCENARIOS.map((s) => s.name).join(', ')}); ` +
        'NAME@10.0p1 runs that scenario\'s hosts on an OpenSSH build',
      parseScenarioList,
    )
    .option(
      '--openssh <BUILD>',
      'run the hosts on the OpenSSH build BUILD (e.g. 10.0p1, made by scripts/build-openssh.sh) instead of the machine\'s sshd',
      parseOpensshBuild,
    )
    .action(async (opts: { hosts?: number; dir: string; firstAddress?: string; scenarios?: string[]; openssh?: string }) =>
      guarded(async () => {
        const summary = await labUp({
          dir: opts.dir,
          ...(opts.hosts !== undefined ? { hosts: opts.hosts } : {}),
          ...(opts.firstAddress !== undefined ? { firstAddress: opts.firstAddress } : {}),
          ...(opts.scenarios ? { scenarios: opts.scenarios } : {}),
          ...(opts.openssh ? { openssh: opts.openssh } : {}),
          onEvent: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(
          `lab up: ${summary.hosts.length} host(s) (${summary.started.length} started, ${summary.kept.length} already running` +
            `${summary.stopped.length > 0 ? `, ${summary.stopped.length} stopped` : ''})\n` +
            `inventory: ${summary.paths.inventory}\n` +
            `try: ${sshfixCommand()} plan ${remediationPlaybooks().join(' ')} -i ${summary.paths.inventory}\n` +
            `stop it with: ${sshfixCommand()} lab down${opts.dir === DEFAULT_LAB_DIR ? '' : ` --dir ${opts.dir}`}\n`,
        );
      }),
    );

  lab
    .command('down')
    .description('stop every process the lab started and remove the hosts\' layers')
    .addOption(dirOption())
    .action(async (opts: { dir: string }) =>
      guarded(async () => {
        const result = await labDown(opts.dir, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(
          result.stopped.length > 0 ? `lab down: stopped ${result.stopped.length} host(s)\n` : `lab down: no lab runs from ${result.paths.dir}\n`,
        );
      }),
    );

  lab
    .command('status')
    .description('list the lab hosts and whether each answers')
    .addOption(dirOption())
    .addOption(formatOption())
    .action(async (opts: { dir: string; format: 'human' | 'json' }) =>
      guarded(async () => {
        const { paths, hosts } = await labStatus(opts.dir);
        const down = hosts.filter((h) => !h.banner).length;
        if (opts.format === 'json') {
          // snake_case like every JSON sshfix prints.
          const shown = hosts.map(({ opensshVersion, ...host }) => ({ ...host, ...(opensshVersion ? { openssh_version: opensshVersion } : {}) }));
          process.stdout.write(JSON.stringify({ format_version: 1, command: 'lab status', dir: paths.dir, inventory: paths.inventory, hosts: shown }, null, 2) + '\n');
        } else if (hosts.length === 0) {
          process.stdout.write(`no lab runs from ${paths.dir} (start one with: sshfix lab up)\n`);
        } else {
          const width = Math.max(...hosts.map((h) => h.name.length));
          for (const h of hosts) {
            const state = h.banner ? `up    ${h.banner}` : h.running ? 'not answering' : 'stopped';
            const version = `OpenSSH ${h.opensshVersion ?? '?'}${h.openssh ? ` (build ${h.openssh})` : ''}`;
            process.stdout.write(`${h.name.padEnd(width)}  ${h.address.padEnd(15)}  ${h.scenario.padEnd(18)}  ${version.padEnd(29)}  ${state}\n`);
          }
          process.stdout.write(`inventory: ${paths.inventory}\n`);
        }
        if (down > 0) process.exitCode = ExitCode.Failure;
      }),
    );
}
