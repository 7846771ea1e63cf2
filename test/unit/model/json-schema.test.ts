import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inventorySpec } from '../../../src/model/inventory-spec.js';
import { formatJsonSchema, inventoryJsonSchema, playbookJsonSchema, SCHEMA_FILES } from '../../../src/model/json-schema.js';
import { playbookSpec } from '../../../src/model/playbook-spec.js';
import { listKeyPaths } from '../../../src/lang/spec.js';
import { TASK_KIND_NAMES } from '../../../src/tasks/registry.js';
import { REPO_ROOT } from './helpers.js';

const shipped = [
  { file: SCHEMA_FILES.inventory, make: inventoryJsonSchema },
  { file: SCHEMA_FILES.playbook, make: playbookJsonSchema },
];

/** Every property name a JSON Schema declares, anywhere. */
function schemaKeys(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => schemaKeys(s, out));
  else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'properties' && value && typeof value === 'object') for (const name of Object.keys(value)) out.add(name);
      schemaKeys(value, out);
    }
  }
  return out;
}

describe('JSON Schemas in schemas/', () => {
  for (const { file, make } of shipped) {
    it(`${file} is what the validator's spec generates`, () => {
      const expected = formatJsonSchema(make());
      if (process.env.SSHFIX_WRITE_SCHEMAS === '1') writeFileSync(join(REPO_ROOT, file), expected);
      const actual = readFileSync(join(REPO_ROOT, file), 'utf8');
      assert.equal(actual, expected, `${file} is stale: rerun this test with SSHFIX_WRITE_SCHEMAS=1`);
    });
  }

  it('declares every key the inventory validator knows', () => {
    const keys = schemaKeys(inventoryJsonSchema());
    for (const path of listKeyPaths(inventorySpec)) {
      const last = path.split('.').pop()!.replace(/\[\]$/, '');
      if (last !== '*') assert.ok(keys.has(last), `schema lacks ${path}`);
    }
  });

  it('declares every task kind and every key the playbook validator knows', () => {
    const keys = schemaKeys(playbookJsonSchema());
    for (const kind of TASK_KIND_NAMES) assert.ok(keys.has(kind), `schema lacks task kind ${kind}`);
    for (const path of listKeyPaths(playbookSpec)) {
      const last = path.split('.').pop()!.replace(/\[\]$/, '');
      if (last !== '*') assert.ok(keys.has(last), `schema lacks ${path}`);
    }
  });
});
