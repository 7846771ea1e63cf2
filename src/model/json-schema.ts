import { inventorySpec } from './inventory-spec.js';
import { playbookSpec } from './playbook-spec.js';
import { toJsonSchema, type Spec } from '../lang/spec.js';

/**
 * The JSON Schemas shipped in schemas/, generated from the same specs the validators run. A unit
 * test fails when the files differ from what this produces; `SSHFIX_WRITE_SCHEMAS=1` on that test
 * rewrites them.
 */

export const SCHEMA_FILES = {
  inventory: 'schemas/inventory.schema.json',
  playbook: 'schemas/playbook.schema.json',
} as const;

function document(spec: Spec, title: string): Record<string, unknown> {
  const definitions: Record<string, unknown> = {};
  const root = toJsonSchema(spec, definitions);
  const sorted = Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b)));
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title,
    ...root,
    definitions: sorted,
  };
}

export function inventoryJsonSchema(): Record<string, unknown> {
  return document(inventorySpec, 'sshfix inventory');
}

export function playbookJsonSchema(): Record<string, unknown> {
  return document(playbookSpec, 'sshfix playbook');
}

/** The file text for a schema: two-space JSON with a final newline. */
export function formatJsonSchema(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
