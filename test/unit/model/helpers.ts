import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../../../src/util/diagnostics.js';
import { loadInventory, type InventoryLoadResult } from '../../../src/model/inventory.js';

/** Source tree root (tests run from build/, fixtures stay in the source tree). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Dedents an inline YAML fixture: strips the first newline and the common indentation. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n').replace(/[ \t]+$/, '');
}

export function inventoryOf(text: string, file = 'inventory.yaml'): InventoryLoadResult {
  return loadInventory(text, { file, homeDir: '/home/ops', localUser: 'ops', baseDir: '/srv/fleet' });
}

/** `code@line:column` for each diagnostic, the form tests compare. */
export function where(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.severity === 'warning' ? 'warning ' : ''}${d.code}@${d.range?.start.line ?? 0}:${d.range?.start.column ?? 0}`);
}

export function errorsOf(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics.filter((d) => d.severity === 'error');
}
