/**
 * Reading an inventory from disk, whatever its format: sshfix's own YAML, or an Ansible inventory
 * (INI, YAML, `ansible-inventory --list` JSON) with the `group_vars/` and `host_vars/` beside it.
 * The I/O half of src/model/ansible-inventory.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { detectInventoryFormat, loadAnsibleInventory, parseSideVarsFile, type InventoryFormat, type SideVars, type VariableMapping } from '../model/ansible-inventory.js';
import { loadInventory, type InventoryLoadResult } from '../model/inventory.js';
import type { PlainValue } from '../lang/yaml-tree.js';
import type { Diagnostic } from '../util/diagnostics.js';
import { honourSshConfig } from './ssh-config-files.js';

/** Extensions Ansible's host_group_vars plugin reads (and files with none). */
const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

function varsFilesFor(dir: string, name: string): string[] {
  const files: string[] = [];
  for (const ext of VARS_EXTENSIONS) {
    const path = join(dir, `${name}${ext}`);
    if (existsSync(path) && statSync(path).isFile()) files.push(path);
  }
  const sub = join(dir, name);
  if (existsSync(sub) && statSync(sub).isDirectory()) {
    const walk = (d: string): void => {
      for (const entry of readdirSync(d).sort()) {
        if (entry.startsWith('.')) continue;
        const path = join(d, entry);
        if (statSync(path).isDirectory()) walk(path);
        else if (VARS_EXTENSIONS.some((ext) => ext !== '' && entry.endsWith(ext)) || !entry.includes('.')) files.push(path);
      }
    };
    walk(sub);
  }
  return files;
}

/** Names that have vars files (or directories) under `dir`. */
function namesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const names = new Set<string>();
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const ext = VARS_EXTENSIONS.find((e) => e !== '' && entry.endsWith(e));
    names.add(ext ? entry.slice(0, -ext.length) : entry);
  }
  return [...names];
}

/** Reads group_vars/ and host_vars/ beside an Ansible inventory file. */
export function readSideVars(inventoryDir: string): { side: SideVars; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const read = (kind: 'group_vars' | 'host_vars'): Map<string, Record<string, PlainValue>[]> => {
    const dir = join(inventoryDir, kind);
    const out = new Map<string, Record<string, PlainValue>[]>();
    for (const name of namesIn(dir)) {
      const layers: Record<string, PlainValue>[] = [];
      for (const file of varsFilesFor(dir, name)) {
        const parsed = parseSideVarsFile(readFileSync(file, 'utf8'), file);
        diagnostics.push(...parsed.diagnostics);
        layers.push(parsed.vars);
      }
      if (layers.length > 0) out.set(name, layers);
    }
    return out;
  };
  return { side: { groupVars: read('group_vars'), hostVars: read('host_vars') }, diagnostics };
}

export interface LoadedInventoryFile {
  result: InventoryLoadResult;
  format: InventoryFormat;
  /** Secrets an Ansible inventory holds, by the environment name the hosts' settings use. */
  secrets: Record<string, string>;
  /** How each host's Ansible variables became sshfix settings (Ansible inventories only). */
  mappings?: Map<string, VariableMapping[]>;
}

/** Loads an inventory text of any supported format; an Ansible one with the vars directories beside it. */
export function loadInventoryText(text: string, path: string): LoadedInventoryFile {
  const baseDir = dirname(resolve(path));
  const common = { file: path, homeDir: homedir(), localUser: localUserName(), baseDir };
  const format = detectInventoryFormat(text);
  if (format === 'sshfix') {
    const result = loadInventory(text, common);
    if (result.diagnostics.some((d) => d.severity === 'error')) return { result, format, secrets: {} };
    const honoured = honourSshConfig(result.inventory, common);
    // The loader warned before ssh_config could name an IdentityFile.
    const credentialed = honoured.inventory.hosts.every((h) => h.connection === 'local' || h.identityFile !== undefined || h.agent || h.passwordEnv !== undefined);
    const diagnostics = [...result.diagnostics.filter((d) => !(credentialed && d.code === 'no-credentials')), ...honoured.diagnostics];
    return { result: { inventory: honoured.inventory, diagnostics }, format, secrets: {} };
  }
  const side = readSideVars(baseDir);
  const defaultKey = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(homedir(), '.ssh', k)).find((k) => existsSync(k));
  const loaded = loadAnsibleInventory(text, {
    ...common,
    format,
    side: side.side,
    ...(defaultKey ? { defaultIdentityFile: defaultKey } : {}),
    agentAvailable: process.env.SSH_AUTH_SOCK !== undefined && process.env.SSH_AUTH_SOCK !== '',
  });
  return {
    result: { inventory: loaded.inventory, diagnostics: [...side.diagnostics, ...loaded.diagnostics] },
    format,
    secrets: loaded.secrets,
    mappings: loaded.mappings,
  };
}

/** The name of the user running sshfix (the default login user, as OpenSSH's). */
export function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
