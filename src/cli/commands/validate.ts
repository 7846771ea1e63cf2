import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { errorCount, hasErrors, type Diagnostic } from '../../util/diagnostics.js';
import type { InventoryFormat, VariableMapping } from '../../model/ansible-inventory.js';
import type { Inventory } from '../../model/inventory.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseHostPattern, type HostPattern } from '../../model/host-pattern.js';
import { withImplicitLocalhost } from '../../model/implicit-localhost.js';
import { loadInventoryText, localUserName } from '../inventory-files.js';
import { chooseInventoryPath } from '../../model/inventory-path.js';
import { loadPlaybook, type Playbook } from '../../model/playbook.js';
import { dedupeDiagnostics, sortDiagnostics, validateProject } from '../../model/validate-project.js';
import { parseCliVars } from '../../model/variables.js';
import type { PlainValue } from '../../lang/yaml-tree.js';
import { renderDiagnostics } from '../../report/render-diagnostics.js';
import { ExitCode } from '../exit-codes.js';

/** What every command that reads playbooks and an inventory starts from. */
export interface LoadedInputs {
  inventory?: Inventory;
  /** Which format the inventory was read as (sshfix's own, or an Ansible one). */
  inventoryFormat?: InventoryFormat;
  /** For an Ansible inventory: how each host's variables became sshfix settings. */
  ansibleMappings?: Map<string, VariableMapping[]>;
  playbooks: Playbook[];
  cliVars: Record<string, PlainValue>;
  /** All problems found, sorted; act on nothing when any is an error. */
  diagnostics: Diagnostic[];
  /** File texts by name, to quote lines under diagnostics. */
  sources: Map<string, string>;
}

/** Which files to read, as the command line named them. */
export interface ReadInputsOptions {
  playbooks: readonly string[];
  /** The `-i` option. */
  inventory?: string;
  vars?: readonly string[];
  /** An error (not a warning) when no inventory is found. */
  requireInventory: boolean;
  /** The `-l` pattern, parsed: like a play's hosts, it may name the implicit localhost. */
  limit?: HostPattern;
  /** Host names a saved plan holds, which may be the implicit localhost too. */
  namedHosts?: readonly string[];
}

/**
 * Reads the inventory and playbooks from disk and validates them together (no network). The one
 * place that does file I/O for them; everything it calls is pure.
 */
export function readInputs(options: ReadInputsOptions): LoadedInputs {
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];
  /** `what` names the file without repeating its path, which the diagnostic's `file` already shows. */
  const read = (file: string, what?: string): string | undefined => {
    try {
      const text = readFileSync(file, 'utf8');
      sources.set(file, text);
      return text;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const subject = what ?? `${file}:`;
      diagnostics.push({
        severity: 'error',
        code: code === 'ENOENT' ? 'file-not-found' : 'read-error',
        message: code === 'ENOENT' ? `${subject} no such file` : `${subject} cannot read (${code ?? String(error)})`,
        file,
      });
      return undefined;
    }
  };

  const cli = parseCliVars(options.vars ?? []);
  diagnostics.push(...cli.diagnostics);

  let inventory: Inventory | undefined;
  let inventoryFormat: InventoryFormat | undefined;
  let ansibleMappings: Map<string, VariableMapping[]> | undefined;
  const choice = chooseInventoryPath({
    ...(options.inventory !== undefined ? { option: options.inventory } : {}),
    ...(process.env.SSHFIX_INVENTORY !== undefined ? { env: process.env.SSHFIX_INVENTORY } : {}),
    exists: (path) => existsSync(path),
  });
  if (choice.path === undefined) {
    diagnostics.push({
      severity: options.requireInventory ? 'error' : 'warning',
      code: 'no-inventory',
      message: options.requireInventory
        ? 'no inventory: pass -i FILE, create ./inventory.yaml, or set $SSHFIX_INVENTORY'
        : 'no inventory found: host patterns and variables were not checked against one',
      hint: 'pass -i FILE, create ./inventory.yaml, or set $SSHFIX_INVENTORY',
    });
  } else {
    const named = choice.source === 'option' ? 'named by -i' : choice.source === 'env' ? 'named by $SSHFIX_INVENTORY' : 'in the current directory';
    const text = read(choice.path, `inventory (${named}):`);
    if (text !== undefined) {
      const loaded = loadInventoryText(text, choice.path);
      inventory = loaded.result.inventory;
      inventoryFormat = loaded.format;
      if (loaded.mappings) ansibleMappings = loaded.mappings;
      diagnostics.push(...loaded.result.diagnostics);
      // The transport reads secrets from the environment by name; an Ansible inventory's own
      // passwords reach it under names only sshfix uses, and are never printed.
      for (const [name, value] of Object.entries(loaded.secrets)) process.env[name] = value;
    }
  }

  const playbooks: Playbook[] = [];
  for (const file of options.playbooks) {
    const text = read(file);
    if (text === undefined) continue;
    const loaded = loadPlaybook(text, file);
    playbooks.push(loaded.playbook);
    diagnostics.push(...loaded.diagnostics);
  }
  if (inventory) {
    const patterns = [
      ...playbooks.flatMap((p) => p.plays.map((play) => play.hosts)),
      ...(options.limit ? [options.limit] : []),
      ...(options.namedHosts ?? []).map((name) => parseHostPattern(name).pattern),
    ];
    inventory = withImplicitLocalhost(inventory, patterns, { localUser: localUserName(), knownHosts: join(homedir(), '.ssh', 'known_hosts') });
  }
  diagnostics.push(...validateProject({ ...(inventory ? { inventory } : {}), playbooks, cliVars: cli.vars }));
  return {
    ...(inventory ? { inventory } : {}),
    ...(inventoryFormat ? { inventoryFormat } : {}),
    ...(ansibleMappings ? { ansibleMappings } : {}),
    playbooks,
    cliVars: cli.vars,
    diagnostics: sortDiagnostics(dedupeDiagnostics(diagnostics)),
    sources,
  };
}


/** Colour on a terminal unless NO_COLOR is set. */
export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR && !process.env.CI;
}

/** `2 errors, 1 warning` */
export function countDiagnostics(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number; text: string } {
  const errors = errorCount(diagnostics);
  const warnings = diagnostics.length - errors;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  return { errors, warnings, text: `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` };
}

export const formatOption = (): Option =>
  new Option('--format <FORMAT>', 'output format').choices(['human', 'json']).default('human');

export const collectVar = (value: string, previous: string[]): string[] => [...previous, value];

interface ValidateOptions {
  inventory?: string;
  var: string[];
  format: 'human' | 'json';
}

function runValidate(files: string[], options: ValidateOptions): void {
  const inputs = readInputs({
    playbooks: files,
    ...(options.inventory !== undefined ? { inventory: options.inventory } : {}),
    vars: options.var,
    requireInventory: files.length === 0,
  });
  const valid = !hasErrors(inputs.diagnostics);
  const counts = countDiagnostics(inputs.diagnostics);
  if (options.format === 'json') {
    const report = {
      format_version: 1,
      command: 'validate',
      valid,
      inventory: inputs.inventory
        ? { file: inputs.inventory.file, hosts: inputs.inventory.hosts.length, groups: inputs.inventory.groups.length }
        : null,
      playbooks: inputs.playbooks.map((p) => ({
        file: p.file,
        plays: p.plays.length,
        tasks: p.plays.reduce((n, play) => n + play.tasks.length, 0),
      })),
      summary: { errors: counts.errors, warnings: counts.warnings },
      diagnostics: inputs.diagnostics,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    if (inputs.diagnostics.length) {
      process.stderr.write(renderDiagnostics(inputs.diagnostics, { sources: inputs.sources, color: useColor(process.stderr) }));
      process.stderr.write(`${counts.text}\n`);
    }
    if (valid) {
      const parts: string[] = [];
      if (inputs.inventory) {
        parts.push(`${inputs.inventory.file} (${inputs.inventory.hosts.length} hosts, ${inputs.inventory.groups.length} groups)`);
      }
      for (const p of inputs.playbooks) {
        const tasks = p.plays.reduce((n, play) => n + play.tasks.length, 0);
        parts.push(`${p.file} (${p.plays.length} play${p.plays.length === 1 ? '' : 's'}, ${tasks} task${tasks === 1 ? '' : 's'})`);
      }
      process.stdout.write(`valid: ${parts.join(', ')}\n`);
    }
  }
  if (!valid) process.exitCode = ExitCode.Failure;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check playbooks and the inventory without connecting anywhere (the inventory alone when no playbook is given)')
    .argument('[PLAYBOOK...]', 'playbook files')
    .option('-i, --inventory <INVENTORY>', 'inventory file (default: ./inventory.yaml, then $SSHFIX_INVENTORY)')
    .option('--var <K=V>', 'set a variable, overriding all others (repeatable)', collectVar, [])
    .addOption(formatOption())
    .action((files: string[], options: ValidateOptions) => runValidate(files, options));
}
