import { Command } from 'commander';
import { stringify } from 'yaml';
import { hasErrors, type Diagnostic } from '../../util/diagnostics.js';
import { INVENTORY_SECRET_PREFIX, type InventoryFormat, type VariableMapping } from '../../model/ansible-inventory.js';
import { formatDuration } from '../../model/duration.js';
import { parseHostPattern } from '../../model/host-pattern.js';
import { checkLimit } from '../../model/limit-check.js';
import { selectInventoryHosts, type Inventory, type ResolvedHost } from '../../model/inventory.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { ExitCode } from '../exit-codes.js';
import { countDiagnostics, formatOption, readInputs, useColor } from './validate.js';

/**
 * A resolved host as the user would write it in the inventory (snake_case keys), with effective
 * values and secrets shown only as where they come from: `<from $WEB_PASSWORD>`.
 */
export function describeHost(host: ResolvedHost, mappings?: readonly VariableMapping[]): Record<string, unknown> {
  const secret = (env: string): string => (env.startsWith(INVENTORY_SECRET_PREFIX) ? '<from inventory>' : `<from $${env}>`);
  const fromAnsible = mappings && mappings.length > 0 ? { from_ansible: Object.fromEntries(mappings.map((m) => [m.variable, `${m.setting}: ${m.shown}`])) } : {};
  if (host.connection === 'local') {
    // Only what a local connection uses: the user is whoever runs sshfix.
    return {
      name: host.name,
      address: host.address,
      connection: 'local',
      ...(host.implicit ? { implicit: true } : {}),
      user: host.user,
      groups: host.groups,
      become: host.become,
      ...(host.becomePasswordEnv !== undefined ? { become_password: secret(host.becomePasswordEnv) } : {}),
      vars: host.vars,
      ...fromAnsible,
    };
  }
  const out: Record<string, unknown> = {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    groups: host.groups,
  };
  if (host.identityFile !== undefined) out.identity_file = host.identityFile;
  out.agent = host.agent;
  out.known_hosts = host.knownHosts;
  out.host_key_policy = host.hostKeyPolicy;
  out.become = host.become;
  if (host.jump) {
    out.jump = host.jump.kind === 'host'
      ? host.jump.name
      : `${host.jump.user !== undefined ? `${host.jump.user}@` : ''}${host.jump.address.includes(':') ? `[${host.jump.address}]` : host.jump.address}:${host.jump.port}`;
  }
  out.connect_timeout = formatDuration(host.connectTimeoutMs);
  if (host.algorithms) out.algorithms = host.algorithms;
  if (host.passwordEnv !== undefined) out.password = secret(host.passwordEnv);
  if (host.passphraseEnv !== undefined) out.passphrase = secret(host.passphraseEnv);
  if (host.becomePasswordEnv !== undefined) out.become_password = secret(host.becomePasswordEnv);
  out.vars = host.vars;
  return { ...out, ...fromAnsible };
}

const FORMAT_NAMES: Record<InventoryFormat, string> = {
  sshfix: 'an sshfix inventory',
  'ansible-ini': 'an Ansible INI inventory',
  'ansible-yaml': 'an Ansible YAML inventory',
  'ansible-json': 'ansible-inventory --list JSON',
};

interface InventoryOptions {
  inventory?: string;
  limit?: string;
  format: 'human' | 'json';
}

function runInventory(options: InventoryOptions): void {
  const inputs = readInputs({
    playbooks: [],
    ...(options.inventory !== undefined ? { inventory: options.inventory } : {}),
    requireInventory: true,
  });
  const diagnostics: Diagnostic[] = [...inputs.diagnostics];
  const inventory: Inventory | undefined = inputs.inventory;
  let hosts: ResolvedHost[] = inventory?.hosts ?? [];
  if (inventory && options.limit !== undefined) {
    const selected = selectInventoryHosts(inventory, options.limit, { label: '-l' });
    diagnostics.push(...selected.diagnostics);
    // A limit that selects nothing is an error here too, as for plan and apply.
    if (!hasErrors(selected.diagnostics)) diagnostics.push(...checkLimit(inventory, parseHostPattern(options.limit).pattern).filter((d) => d.severity === 'error'));
    hosts = selected.hosts;
  }
  const failed = hasErrors(diagnostics);
  if (failed) hosts = [];
  const groups = inventory && !failed ? inventory.groups.map((g) => ({ name: g.name, hosts: g.hosts, vars: g.vars })) : [];

  if (options.format === 'json') {
    const report = {
      format_version: 1,
      command: 'inventory',
      file: inventory?.file ?? null,
      ...(inputs.inventoryFormat ? { inventory_format: inputs.inventoryFormat } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      hosts: hosts.map((h) => describeHost(h, inputs.ansibleMappings?.get(h.name))),
      groups,
      diagnostics,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    if (diagnostics.length) {
      process.stderr.write(renderDiagnostics(diagnostics, { sources: inputs.sources, color: useColor(process.stderr) }));
      process.stderr.write(`${countDiagnostics(diagnostics).text}\n`);
    }
    if (!failed) {
      const body = hosts.map((h) => {
        const { name, ...rest } = describeHost(h, inputs.ansibleMappings?.get(h.name));
        return stringify({ [String(name)]: rest }, { indent: 2, lineWidth: 0 });
      });
      process.stdout.write(body.join('\n'));
      process.stdout.write(`# ${hosts.length} host${hosts.length === 1 ? '' : 's'}${options.limit !== undefined ? ` matching ${options.limit}` : ''} in ${inventory?.file}${inputs.inventoryFormat && inputs.inventoryFormat !== 'sshfix' ? ` (read as ${FORMAT_NAMES[inputs.inventoryFormat]})` : ''}\n`);
    }
  }
  if (failed) process.exitCode = ExitCode.Failure;
}

export function registerInventoryCommand(program: Command): void {
  program
    .command('inventory')
    .description('show the resolved hosts: effective connection settings, groups and variables (secrets as <from $ENV>)')
    .option('-i, --inventory <INVENTORY>', 'inventory file (default: ./inventory.yaml, then $SSHFIX_INVENTORY)')
    .option('-l, --limit <PATTERN>', 'only hosts matching this pattern (host, group, glob, a,b, !exclude)')
    .addOption(formatOption())
    .action((options: InventoryOptions) => runInventory(options));
}
